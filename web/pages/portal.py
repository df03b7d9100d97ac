"""The partner portal (/portal): its own layout and login; a partner sees only the actions of the roles they
hold, each with what they need to do it (runtime.action_page: the dossier's facts, the instructions, the
shared documents, the thread), adds messages and documents without completing it, and completes it with a
status or outcome, a comment and documents. Every other page answers 404 to a partner, exactly as if it did
not exist."""

from functools import partial

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user

from designer import dictionary
from kernel.accounts import user_by_email
from kernel.db import unit_of_work
from kernel.errors import DomainError, Malformed, NotFound
from runtime import comments, documents, workspace
from runtime.action_page import action_page
from runtime.actions import complete_action, get_action
from runtime.forms import FormRefused, action_forms
from runtime.models import Action

from ..actors import current_actor
from ..clock import now
from ..errors import status_of
from ..extensions import db
from ..permissions import Perm
from . import pages
from .auth import LoginForm, LoginUser, landing, page_allowed
from .dossiers import form_data, send_document
from .profile import new_on_this_visit
from .shared_work import inline, upload_limits, uploads
from .workspace import STATUS_LABELS

# Endpoints a partner's session may reach; everything else of the pages answers 404.
PARTNER_ENDPOINTS = {"pages.login", "pages.logout", "pages.home"}
UPLOAD_ENDPOINTS = {"pages.portal_complete"}  # and shared_work.UPLOAD_ENDPOINTS


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
        "portal/home.html", rows=rows, counts=counts, done=done, now=at, statuses=STATUS_LABELS,
        fresh=new_on_this_visit(),
        outcome_label=partial(dictionary.load(db.session).label, "outcomes", lang=str(get_locale() or "fr")),
    )


def _visible_action(action_id: int) -> Action:
    return get_action(db.session, action_id, current_actor())  # NotFound (404) outside the partner's roles


@pages.route("/portal/actions/<int:action_id>")
@page_allowed(Perm.ACTIONS_OWN)
def portal_action(action_id: int):
    if (elsewhere := _partner_only()) is not None:
        return elsewhere
    return _action_page(action_id)


def _action_page(
    action_id: int,
    error=None,
    status: int = 200,
    typed: dict | None = None,
    form: str = "",
    fields: dict | None = None,
    problems: dict | None = None,
):
    """The page of the action; after a refusal, with the reason next to the form it is about (`form`:
    "complete" or "note") and what was typed (`typed`; `fields` and `problems` for the action's own form)."""
    lang = str(get_locale() or "fr")
    page = action_page(db.session, action_id, current_actor(), lang)  # 404 outside the partner's roles
    action = page.action
    forms = {}
    if action.status == "open":
        forms = action_forms(db.session, [action], lang, fields, problems, action.id)
    return render_template(
        "portal/action.html",
        page=page,
        action=page.action,
        dossier=page.dossier,
        facts=page.facts,
        now=now(),
        error=error,
        form=form,
        typed=typed or {},
        action_form_view=forms.get(action.id),
        statuses=STATUS_LABELS,
        **upload_limits(),
    ), status


@pages.route("/portal/actions/<int:action_id>/complete", methods=["POST"])
@page_allowed(Perm.ACTIONS_OWN)
def portal_complete(action_id: int):
    if (elsewhere := _partner_only()) is not None:
        return elsewhere
    action = _visible_action(action_id)
    status, _sep, outcome = request.form.get("choice", "").partition(":")
    actor = current_actor()
    comment = request.form.get("comment", "")
    try:
        if not status:  # which statuses this partner may use is the service's to say
            raise Malformed(_("Choisissez comment l'action s'est terminée."))
        # Every file is checked before anything changes: a refused file leaves the action open.
        files = documents.check_uploads(uploads())
        at = now()
        with unit_of_work(db.session):
            ending = (status, outcome or None, comment.strip() or None)
            complete_action(db.session, action_id, actor, *ending, at, form_data(request.form) or None)
            documents.add_documents(db.session, action.dossier_id, actor, files, at, action=action)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        # The page again, with the reason and the form: the action is still open.
        problems = error.details.get("fields") if isinstance(error, FormRefused) else None
        return _action_page(
            action_id, error, status_of(error), {"comment": comment}, form="complete",
            fields=form_data(request.form), problems=problems,
        )
    flash(_("Action « %(name)s » terminée, merci.", name=action.name), "success")
    return redirect(url_for("pages.portal_home"), code=303)


@pages.route("/portal/actions/<int:action_id>/notes", methods=["POST"])
@page_allowed(Perm.ACTIONS_OWN)
def portal_notes(action_id: int):
    """A message and documents added to the action without completing it."""
    if (elsewhere := _partner_only()) is not None:
        return elsewhere
    action = _visible_action(action_id)
    actor = current_actor()
    note = request.form.get("note", "")
    try:
        files = documents.check_uploads(uploads())
        if not files and not note.strip():
            raise Malformed(_("Écrivez un message ou choisissez au moins un fichier."), field="note")
        at = now()
        with unit_of_work(db.session):
            if note.strip():
                comments.add_comment(db.session, actor, action.dossier_id, action.id, note, at)
            added = documents.add_documents(db.session, action.dossier_id, actor, files, at, action=action)
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        return _action_page(action_id, error, status_of(error), {"note": note}, form="note")
    if added:
        flash(_("%(n)d document(s) ajouté(s) à l’action. Elle reste à faire.", n=len(added)), "success")
    else:
        flash(_("Message envoyé au gestionnaire."), "success")
    return redirect(url_for("pages.portal_action", action_id=action_id) + "#thread", code=303)


@pages.route("/portal/documents/<int:document_id>")
@page_allowed(Perm.ACTIONS_OWN)
def portal_document(document_id: int):
    """A document of an action the partner holds, or shared on one of their dossiers (404 otherwise);
    `?preview=1` shows a PDF or an image in the page."""
    document = documents.visible_document(db.session, document_id, current_actor())
    return inline(document) if request.args.get("preview") == "1" else send_document(document)
