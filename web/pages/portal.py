"""The partner portal (/portal): its own layout and login; a partner sees only the open actions of the roles
they hold, with the minimum about each dossier, and completes them with a status or outcome, a comment and
documents. Every other page answers 404 to a partner, exactly as if it did not exist."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from kernel.accounts import user_by_email
from kernel.db import unit_of_work
from kernel.errors import DomainError, Malformed, NotFound
from runtime import documents, workspace
from runtime.actions import allowed_statuses, complete_action, get_action
from runtime.dossiers import get_dossier
from runtime.forms import FormRefused, action_forms
from runtime.models import Action

from ..actors import current_actor
from ..clock import now
from ..errors import status_of
from ..extensions import db
from ..permissions import Perm
from . import pages
from .auth import LoginForm, LoginUser, landing, page_allowed
from .dossiers import form_data, lang, send_document
from .workspace import STATUS_LABELS

# Endpoints a partner's session may reach; everything else of the pages answers 404.
PARTNER_ENDPOINTS = {"pages.login", "pages.logout", "pages.home"}
UPLOAD_ENDPOINTS = {"pages.portal_complete"}


@pages.url_value_preprocessor
def _upload_limit(endpoint, _values) -> None:
    # Runs before CSRF reads the form: an upload may carry a few files of up to 10 MB each.
    if endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = documents.MAX_FILES * documents.MAX_BYTES + 1024 * 1024


@pages.before_request
def _partners_stay_in_portal():
    if not current_user.is_authenticated or not current_user.account.is_partner:
        return None
    endpoint = request.endpoint or ""
    if endpoint.startswith("pages.portal_") or endpoint in PARTNER_ENDPOINTS:
        return None
    abort(404)


@pages.route("/portal/login", methods=["GET", "POST"])
def portal_login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        account = user_by_email(db.session, form.email.data)
        if account is not None and account.active and account.check_password(form.password.data):
            login_user(LoginUser(account))
            return redirect(landing(account))
        error = _("E-mail ou mot de passe incorrect.")
    return render_template("portal/login.html", form=form, error=error), 401 if error else 200


def _partner_only():
    if not current_user.account.is_partner:
        # Internal users work from the dossier pages, where they see everything.
        return redirect(url_for("pages.inbox"))
    return None


@pages.route("/portal/")
@page_allowed(Perm.ACTIONS_OWN)
def portal_home():
    if (elsewhere := _partner_only()) is not None:
        return elsewhere
    at = now()
    rows, counts = workspace.inbox(db.session, current_user.account.id, at, limit=200)
    done = workspace.completed_by(db.session, current_user.account.id, limit=20)
    return render_template(
        "portal/home.html", rows=rows, counts=counts, done=done, now=at, statuses=STATUS_LABELS
    )


def _visible_action(action_id: int) -> Action:
    return get_action(db.session, action_id, current_actor())  # NotFound (404) outside the partner's roles


@pages.route("/portal/actions/<int:action_id>")
@page_allowed(Perm.ACTIONS_OWN)
def portal_action(action_id: int):
    if (elsewhere := _partner_only()) is not None:
        return elsewhere
    return _action_page(_visible_action(action_id))


def _action_page(
    action: Action,
    error: str | None = None,
    status: int = 200,
    comment: str = "",
    typed: dict | None = None,
    problems: dict | None = None,
):
    dossier = get_dossier(db.session, action.dossier_id)
    forms = (
        action_forms(db.session, [action], lang(), typed, problems, action.id)
        if action.status == "open"
        else {}
    )
    return render_template(
        "portal/action.html",
        action=action,
        dossier=dossier,
        form=forms.get(action.id),
        now=now(),
        error=error,
        comment=comment,
        endings=allowed_statuses(action, current_actor()),
        documents=documents.documents_of(db.session, dossier.id, [action.id]),
        statuses=STATUS_LABELS,
        max_mb=documents.MAX_BYTES // (1024 * 1024),
        max_files=documents.MAX_FILES,
        accept=",".join(f".{e}" for e in documents.ALLOWED_TYPES),
    ), status


@pages.route("/portal/actions/<int:action_id>/complete", methods=["POST"])
@page_allowed(Perm.ACTIONS_OWN)
def portal_complete(action_id: int):
    if (elsewhere := _partner_only()) is not None:
        return elsewhere
    action = _visible_action(action_id)
    status, _sep, outcome = request.form.get("choice", "").partition(":")
    files = [f for f in request.files.getlist("files") if f and f.filename]
    actor = current_actor()
    try:
        if not status:  # which statuses this partner may use is the service's to say
            raise Malformed(_("Choisissez comment l'action s'est terminée."))
        if len(files) > documents.MAX_FILES:
            raise Malformed(_("%(n)d fichiers au plus.", n=documents.MAX_FILES))
        # Every file is checked before anything changes: a refused file leaves the action open.
        uploads = [(f.filename, f.read()) for f in files]
        for filename, data in uploads:
            documents.check_upload(filename, data)
        at = now()
        with unit_of_work(db.session):
            complete_action(
                db.session,
                action_id,
                actor,
                status,
                outcome or None,
                request.form.get("comment", "").strip() or None,
                at,
                form_data(request.form) or None,
            )
            for filename, data in uploads:
                documents.attach(db.session, action, actor, filename, data, at)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        # The page again, with the reason and the form: the action is still open.
        problems = error.details.get("fields") if isinstance(error, FormRefused) else None
        return _action_page(
            _visible_action(action_id),
            error.message,
            status_of(error),
            request.form.get("comment", ""),
            form_data(request.form),
            problems,
        )
    flash(_("Action « %(name)s » terminée, merci.", name=action.name), "success")
    return redirect(url_for("pages.portal_home"), code=303)


@pages.route("/portal/documents/<int:document_id>")
@page_allowed(Perm.ACTIONS_OWN)
def portal_document(document_id: int):
    document = documents.get_document(db.session, document_id)
    if current_user.account.is_partner:
        if document.action_id is None:
            abort(404)
        _visible_action(document.action_id)
    return send_document(document)
