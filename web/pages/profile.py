"""Each user's notification choice (/profile), the navigation's count of actions given to them since their
last visit, and, for admins, the notification emails of the outbox (/notifications)."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from kernel.db import unit_of_work
from kernel.errors import DomainError
from runtime import notifications
from runtime.notices import Frequency

from ..clock import now
from ..errors import status_of
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed

FREQUENCIES = {
    Frequency.IMMEDIATE: _l("Dès qu’une action m’est confiée (un seul e-mail pour plusieurs actions)"),
    Frequency.DAILY: _l("Un récapitulatif par jour, à l’heure choisie"),
    Frequency.NONE: _l("Aucun e-mail"),
}
OUTBOX_LABELS = {
    "queued": _l("en attente"),
    "sending": _l("en cours d’envoi"),
    "sent": _l("envoyé"),
    "kept": _l("gardé (pas de serveur d’envoi)"),
    "failed": _l("en échec"),
    "cancelled": _l("annulé"),
}
# Looking at these pages is looking at one's actions: what was new is no longer.
SEEN_ENDPOINTS = {"pages.inbox", "pages.portal_home"}


@pages.before_request
def _mark_seen():
    if request.method != "GET" or request.endpoint not in SEEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return None
    with unit_of_work(db.session):
        if request.endpoint == "pages.portal_home":  # marks what is new on this visit: needs the last one
            g.seen_before = notifications.mark_seen(db.session, current_user.account.id, now())
        elif not notifications.note_visit(db.session, current_user.account.id, now()):
            g.new_actions = 0  # nothing came since the seen time: the navigation need not count
    return None


def new_on_this_visit() -> set[int]:
    """The actions given to the user since their visit before this one (the page marks them)."""
    return notifications.new_since(db.session, current_user.account.id, g.get("seen_before"))


@pages.app_context_processor
def _new_actions():
    """The navigation's count of open actions given to the user since their last visit (one query)."""

    def count() -> int:
        account = getattr(current_user, "account", None)
        if account is None:
            return 0
        if "new_actions" in g:
            return g.new_actions
        return notifications.new_count(db.session, account.id)

    return {"new_actions_count": count}


# Where requests share an app context (tests), a request's figures are never another's.
pages.teardown_app_request(lambda _error: g.pop("new_actions", None))


@pages.route("/profile", methods=["GET", "POST"])
@page_allowed(Perm.DOSSIERS_READ)
def profile():
    return _profile("pages.profile", "base.html")


@pages.route("/portal/profile", methods=["GET", "POST"])
@page_allowed(Perm.ACTIONS_OWN)
def portal_profile():
    if not current_user.account.is_partner:
        return redirect(url_for("pages.profile"))
    return _profile("pages.portal_profile", "portal/layout.html")


def _profile(endpoint: str, layout: str):
    account = current_user.account
    error, status = None, 200
    if request.method == "POST":
        try:
            with unit_of_work(db.session):
                notifications.set_preferences(
                    db.session,
                    account.id,
                    request.form.get("frequency", ""),
                    request.form.get("hour", ""),
                    now(),
                )
        except DomainError as refused:
            error, status = refused, status_of(refused)
        else:
            flash(_("Préférences de notification enregistrées."), "success")
            return redirect(url_for(endpoint), code=303)
    setting = notifications.setting_of(db.session, account.id)
    chosen = {"frequency": setting.frequency, "hour": str(setting.hour)}
    if error:  # what was chosen, with the reason next to it
        chosen = {"frequency": request.form.get("frequency", ""), "hour": request.form.get("hour", "")}
    return render_template(
        "profile.html",
        layout=layout,
        endpoint=endpoint,
        account=account,
        chosen=chosen,
        frequencies=FREQUENCIES,
        error=error,
        can_admin=allows(account, Perm.ADMIN),
    ), status


@pages.route("/notifications")
@page_allowed(Perm.ADMIN)
def notification_outbox():
    return render_template(
        "notifications.html", rows=notifications.outbox(db.session), outbox_labels=OUTBOX_LABELS
    )
