"""Incidents: the failed runs, for managers, and the three repairs of a run from its dossier page (retry, back
to a step, an ad hoc action). Each repair reads the form, calls the runtime service and redirects."""

from datetime import UTC, datetime, time

from flask import abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kernel.errors import Malformed
from runtime import incidents
from runtime.runs import add_adhoc_action, get_run, move_back, retry_run

from ..actors import current_actor
from ..clock import now
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed
from .workspace import OPERATIONS, attempt, cause_sentence, local_target

SHOWN = 100


@pages.app_context_processor
def _incident_count():
    """The navigation's count of open incidents, read only when a page shows it to someone who may act."""

    def count() -> int | None:
        account = getattr(current_user, "account", None)
        if account is None or not allows(account, Perm.RUNS_PILOT):
            return None
        if "failed_runs" in g:  # read by the page with its own count (the inbox's banner)
            return g.failed_runs
        return incidents.count_open(db.session)

    return {"incident_count": count}


# Where requests share an app context (tests), a request's figures are never another's.
pages.teardown_app_request(lambda _error: g.pop("failed_runs", None))


@pages.route("/incidents/")
@page_allowed(Perm.RUNS_PILOT)
def incident_list():
    mine = request.args.get("mine") == "1"
    user_id = current_user.account.id if mine else None
    found = incidents.list_incidents(db.session, user_id=user_id, limit=SHOWN)
    total = len(found)
    if total == SHOWN:  # more may wait: say how many
        total = incidents.count_for_user(db.session, user_id) if mine else incidents.count_open(db.session)
    causes = {i.run_id: cause_sentence(i.cause) for i in found}
    return render_template(
        "incidents/list.html",
        incidents=found,
        total=total,
        causes=causes,
        operations=OPERATIONS,
        mine=mine,
    )


def _run_of(dossier_id: int, run_id: int) -> None:
    if get_run(db.session, run_id).dossier_id != dossier_id:
        abort(404)


def _back(dossier_id: int, run_id: int) -> str:
    default = url_for("pages.dossier_page", dossier_id=dossier_id, tab="run", _anchor=f"run-{run_id}")
    return local_target(default)


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/retry", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def run_retry(dossier_id: int, run_id: int):
    _run_of(dossier_id, run_id)
    return attempt(
        lambda: retry_run(db.session, run_id, current_actor(), now()),
        _("Déroulement relancé : il reprend là où il s’était arrêté."),
        _back(dossier_id, run_id),
        watch=dossier_id,
    )


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/back", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def run_back(dossier_id: int, run_id: int):
    _run_of(dossier_id, run_id)
    value = request.form.get("step", "")

    def work():
        if not value.isdigit():
            raise Malformed(_("Choisissez l’étape où revenir."))
        move_back(
            db.session, run_id, current_actor(), now(), step=int(value), reason=request.form.get("reason", "")
        )

    return attempt(
        work, _("Déroulement revenu à l’étape choisie."), _back(dossier_id, run_id), watch=dossier_id
    )


def _due(text: str) -> datetime | None:
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise Malformed(_("Échéance : indiquez une date (jj/mm/aaaa).")) from None
    return datetime.combine(day, time(23, 59), tzinfo=UTC)


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/actions", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def run_add_action(dossier_id: int, run_id: int):
    _run_of(dossier_id, run_id)
    name = request.form.get("name", "").strip()
    return attempt(
        lambda: add_adhoc_action(
            db.session,
            run_id,
            current_actor(),
            now(),
            name=name,
            role=request.form.get("role", ""),
            due_at=_due(request.form.get("due", "").strip()),
        ),
        _("Action « %(name)s » ajoutée.", name=name),
        _back(dossier_id, run_id),
        run_id=run_id,
    )
