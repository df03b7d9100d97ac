"""The case manager's dossier pages: the searchable list, and one dossier with its runs drawn, its open
actions, its participants and roles, and its history (filterable, exportable as CSV).

Every change goes through the runtime services, as the API does; the page only reads forms and redirects."""

import io
import json
from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from bpmn.durations import PARIS
from designer.dictionary import Dictionary
from kernel.db import unit_of_work
from kernel.errors import AlreadyRunning, DomainError, Malformed
from runtime import data_needed, dossier_view, incidents, workspace
from runtime import dossiers as dossier_service
from runtime.actions import allowed_statuses, complete_action
from runtime.documents import get_document
from runtime.dossier_view import LIVE
from runtime.events import post_event, typed_event_data
from runtime.forms import FormRefused, action_forms, describe_changes
from runtime.journal import JournalEntry
from runtime.models import Dossier, Run, RunStatus
from runtime.places import place_of
from runtime.runs import interrupt_run, launch_run, set_role_holders, set_run_holders, switch_run
from runtime.specs import model_of

from ..actors import current_actor
from ..clock import now
from ..errors import status_of
from ..exports import csv_response
from ..extensions import db
from ..labels import (
    dictionary,
    event_label,
    field_label,
    lang,
    outcome_label,
    role_label,
    roles_text,
    sequence_label,
)
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed
from .shared_work import documents_tab
from .workspace import (
    KIND_LABELS,
    PARTICIPANT_KINDS,
    STATUS_LABELS,
    actor_names,
    attempt,
    bundle_built,
    cause_advice,
    cause_sentence,
    failure_message,
    local_target,
)

TABS = ("run", "people", "history", "data", "documents")
HISTORY_SHOWN = 500


# ---- the list


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@pages.route("/dossiers/")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_list():
    return _list_page()


def _list_page(typed: dict | None = None, error: str | None = None, status: int = 200):
    filters = {
        "q": request.args.get("q", "").strip(),
        "status": request.args.get("status", ""),
        "sequence": request.args.get("sequence", ""),
        "overdue": request.args.get("overdue") == "1",
    }
    at = now()
    page = workspace.search_dossiers(
        db.session,
        at,
        q=filters["q"],
        run_status=filters["status"] or None,
        sequence=filters["sequence"] or None,
        overdue=filters["overdue"],
        after=_int_arg("after"),
        before=_int_arg("before"),
    )
    found = workspace.summaries(db.session, [d.id for d in page.dossiers], at)
    kept = {k: ("1" if v is True else v) for k, v in filters.items() if v}
    return render_template(
        "dossiers/list.html",
        page=page,
        summaries=found,
        filters=filters,
        kept=kept,
        sequences=dossier_view.published_choices(db.session),
        statuses=STATUS_LABELS,
        run_statuses=list(RunStatus),
        can_write=allows(current_user.account, Perm.DOSSIERS_WRITE),
        typed=typed or {},
        create_error=error,
    ), status


@pages.route("/dossiers/", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_create():
    try:
        with unit_of_work(db.session):
            dossier = dossier_service.create_dossier(
                db.session,
                current_actor(),
                request.form.get("reference", ""),
                request.form.get("title", "").strip(),
                {},
                now(),
            )
    except DomainError as error:
        # The list again with the form open and what was typed, not a blank form to fill again.
        return _list_page(typed=request.form, error=error.message, status=status_of(error))
    flash(_("Dossier créé."), "success")
    return redirect(url_for("pages.dossier_page", dossier_id=dossier.id), code=303)


# ---- one dossier


def _load(dossier_id: int) -> Dossier:
    dossier = dossier_view.dossier_with_participants(db.session, dossier_id)
    if dossier is None:
        abort(404)
    return dossier


@pages.route("/dossiers/<int:dossier_id>")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_page(dossier_id: int):
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "run"
    return _dossier_page(dossier_id, tab)


def _dossier_page(dossier_id: int, tab: str, refusal: tuple | None = None, **extra):
    """`refusal`: (action id, what was typed in its form, the comment, the problems by field), shown again."""
    dossier = _load(dossier_id)
    runs = dossier_view.runs_of(db.session, dossier_id)
    at = now()
    account = current_user.account
    context = {
        "dossier": dossier,
        "runs": runs,
        "tab": tab,
        "now": at,
        "statuses": STATUS_LABELS,
        "kinds": PARTICIPANT_KINDS,
        "can_pilot": allows(account, Perm.RUNS_PILOT),
        "can_write": allows(account, Perm.DOSSIERS_WRITE),
        "can_act": allows(account, Perm.ACTIONS_ANY),
        "people": {p.id: p for p in dossier.participants},
        "sequences": dossier_view.published_choices(db.session),
    }
    live = [r for r in runs if r.status in LIVE]
    context.update(dossier_view.roles_of_runs(db.session, live))
    if tab == "run":
        words, otherwise = dictionary(), _("sinon")
        context.update(dossier_view.run_tab(db.session, dossier, live, at, otherwise, words, lang()))
        context["events"] = dossier_view.event_choices(db.session, live, lang())
        context.update(
            allowed_statuses=allowed_statuses, launch=_launch_form(dossier), bundle_built=bundle_built()
        )
        context.update(_repairs(dossier, live))
        context["asking"] = _asking(context["open_actions"])
        context["ended_runs"] = [r for r in runs if r.status not in LIVE]
        context.update(_forms(context["open_actions"], refusal))
    elif tab == "history":
        context.update(_history_tab(dossier))
    elif tab == "data":
        context["place"] = place_of(dossier)
        context.update(dossier_view.data_tab(db.session, dossier, lang()))
    elif tab == "documents":
        context.update(documents_tab(dossier))
    elif tab == "people":
        context["choices"] = {
            r.id: dossier_view.holder_choices(dossier, context["role_kinds"][r.id], context["holders"][r.id])
            for r in live
        }
        context["known_roles"] = dossier_view.roles_by_kind(db.session)
    return render_template("dossiers/page.html", **context, **extra)


def _asking(open_actions: dict) -> set[int]:
    """The open actions that ask for a value a run waits for (runtime/data_needed.py)."""
    return {a.id for actions in open_actions.values() for a in actions if data_needed.key_of(a)}


def _forms(open_actions: dict, refusal: tuple | None) -> dict:
    """The form of each open action; after a refusal, what was typed in it, and why it was refused."""
    refused_id, typed, comment, problems = refusal or (None, None, "", None)
    actions = [action for listed in open_actions.values() for action in listed]
    forms = action_forms(db.session, actions, lang(), typed, problems, refused_id)
    return {"forms": forms, "typed_comments": {refused_id: comment} if refused_id else {}}


def form_data(form) -> dict:
    """The values typed in an action's form: its inputs are named field:<key>."""
    return {name[6:]: value for name, value in form.items() if name.startswith("field:")}


def _repairs(dossier: Dossier, live: list[Run]) -> dict:
    """For each live run: the steps it can go back to, its roles by label; for a failed one, the cause."""
    causes = {}
    for run in live:
        if run.status == RunStatus.FAILED:
            cause = incidents.cause_of(run.error, dossier.data)
            causes[run.id] = {
                "sentence": cause_sentence(cause),
                "advice": cause_advice(cause),
                "detail": cause.detail,
                "fields": [key for key, _value in cause.fields],
            }
    return {
        "causes": causes,
        "steps": {r.id: incidents.recent_steps(db.session, r) for r in live},
        "role_names": {r.id: {k: v.name or k for k, v in model_of(r.version).roles.items()} for r in live},
    }


def _launch_form(dossier: Dossier) -> dict | None:
    key = request.args.get("launch", "")
    if not key or not allows(current_user.account, Perm.RUNS_PILOT):
        return None
    return dossier_view.launch_form(db.session, dossier, key)


# ---- history


def _kinds_arg() -> list[str]:
    return [k for k in request.args.getlist("kind") if k in KIND_LABELS]


def _history_tab(dossier: Dossier) -> dict:
    kinds = _kinds_arg()
    entries = workspace.history(db.session, dossier.id, kinds=kinds, limit=HISTORY_SHOWN + 1)
    more = len(entries) > HISTORY_SHOWN
    entries = entries[:HISTORY_SHOWN]
    names = actor_names({e.actor for e in entries})
    people = {p.id: p.name for p in dossier.participants}
    words = dictionary()
    return {
        "entries": entries,
        "more_entries": more,
        "names": names,
        "kind_labels": KIND_LABELS,
        "chosen_kinds": kinds,
        "summaries": {e.id: summarize(e, people, words) for e in entries},
    }


def summarize(entry: JournalEntry, people: dict[int, str], words: Dictionary | None = None) -> str:
    """One sentence of what the entry's data says: what, and why; `words` names changed fields by label."""
    data = entry.data or {}
    if entry.kind == "holders_reassigned":
        return _(
            "%(num)d action(s) confiée(s) à %(name)s — rôles : %(roles)s",
            num=len(data.get("actions") or []),
            name=data.get("name", "?"),
            roles=", ".join(role_label(c.get("role")) for c in data.get("changes") or []),
        ) + (" — " + _("ajouté(e) aux intervenants") if data.get("participant_added") else "")
    parts = []
    changes = data.get("changes")
    if words is not None and isinstance(changes, dict) and isinstance(changes.get("data"), dict):
        parts.append(describe_changes(changes["data"], words, lang()))
    if data.get("name"):
        name = event_label(data["name"]) if entry.kind == "event_received" else data["name"]
        parts.append(f"« {name} »")
    if data.get("sequence"):
        parts.append(
            _("séquence %(key)s", key=sequence_label(data["sequence"]))
            + (f" v{data['version']}" if data.get("version") else "")
        )
    if data.get("status"):
        parts.append(str(STATUS_LABELS.get(data["status"], data["status"])))
    if data.get("outcome"):
        parts.append(_("résultat : %(outcome)s", outcome=outcome_label(data["outcome"])))
    if data.get("role"):
        parts.append(_("rôle : %(role)s", role=role_label(data["role"])))
    holders = data.get("holders")
    if isinstance(holders, dict) and "to" in holders:
        parts.append(
            _(
                "titulaires : %(names)s",
                names=", ".join(people.get(i, f"#{i}") for i in holders["to"]) or _("aucun"),
            )
        )
    if data.get("unassigned"):
        parts.append(_("sans titulaire : %(roles)s", roles=roles_text(data["unassigned"])))
    if isinstance(data.get("roles"), list):
        parts.append(_("rôles : %(roles)s", roles=roles_text(data["roles"]) or _("aucun")))
    if data.get("field"):
        parts.append(_("donnée attendue : %(field)s", field=field_label(data["field"])))
    if data.get("due_at"):
        due = datetime.fromisoformat(data["due_at"]).astimezone(PARIS)  # delays are counted in Paris
        parts.append(_("échéance %(at)s", at=due.strftime("%d/%m/%Y %H:%M")))
    if data.get("to_version"):  # a run moved to another version of its sequence
        versions = {"a": data.get("from_version"), "b": data["to_version"]}
        parts.append(_("de la version %(a)s vers la version %(b)s", **versions))
        if data.get("steps"):
            parts.append(_("étapes : %(steps)s", steps=", ".join(data["steps"])))
    if data.get("previous_due_at"):
        before = datetime.fromisoformat(data["previous_due_at"]).astimezone(PARIS)
        parts.append(_("au lieu du %(at)s", at=before.strftime("%d/%m/%Y %H:%M")))
    if "delivered_to" in data:
        parts.append(_("reçu par %(n)d déroulement(s)", n=len(data["delivered_to"] or [])))
    for key, label in (
        ("reason", _("raison")),
        ("cause", _("cause")),
        ("comment", _("commentaire")),
        ("error", _("erreur")),
    ):
        if key == "error" and data.get("field"):
            continue  # waiting for a value: the field says it, the engine's words would not
        if data.get(key):
            parts.append(f"{label} : {data[key]}")
    return " — ".join(parts)


@pages.route("/dossiers/<int:dossier_id>/history.csv")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_history_csv(dossier_id: int):
    dossier = _load(dossier_id)
    entries = workspace.history(db.session, dossier.id, kinds=_kinds_arg(), newest_first=False)
    names = actor_names({e.actor for e in entries})
    people = {p.id: p.name for p in dossier.participants}
    words = dictionary()
    return csv_response(
        f"historique-{dossier.reference}.csv",
        [_("date (UTC)"), _("qui"), _("quoi"), _("déroulement"), _("action"), _("détail"), _("données")],
        (
            [
                e.at,
                names.get(e.actor, e.actor),
                str(KIND_LABELS.get(e.kind, e.kind)),
                e.run_id,
                e.action_id,
                summarize(e, people, words),
                json.dumps(e.data, ensure_ascii=False, sort_keys=True),
            ]
            for e in entries
        ),
    )


# ---- changes


def _back(dossier_id: int, tab: str = "run", **args) -> str:
    return local_target(url_for("pages.dossier_page", dossier_id=dossier_id, tab=tab, **args))


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@pages.route("/dossiers/<int:dossier_id>/actions/<int:action_id>/complete", methods=["POST"])
@page_allowed(Perm.ACTIONS_ANY)
def dossier_complete_action(dossier_id: int, action_id: int):
    action = dossier_view.action_in_dossier(db.session, dossier_id, action_id)
    if action is None:
        abort(404)
    status, _sep, outcome = request.form.get("choice", "").partition(":")
    comment = request.form.get("comment", "").strip() or None
    data = form_data(request.form)
    refused: list[FormRefused] = []

    def complete():
        try:
            return complete_action(
                db.session, action_id, current_actor(), status, outcome or None, comment, now(), data or None
            )
        except FormRefused as error:
            refused.append(error)
            raise

    answer = attempt(
        complete,
        _("Action « %(name)s » terminée.", name=action.name),
        _back(dossier_id),
        watch=dossier_id,
    )
    if refused:  # the page again, with what was typed and why it was refused (the reason is flashed too)
        refusal = (action_id, data, comment or "", refused[0].details.get("fields", {}))
        return _dossier_page(dossier_id, "run", refusal=refusal), 422
    return answer


@pages.route("/dossiers/<int:dossier_id>/runs", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_launch(dossier_id: int):
    dossier = _load(dossier_id)
    key = request.form.get("sequence", "")
    given = request.form.get("roles_given") == "1"
    mark = incidents.journal_mark(db.session, dossier.id)
    try:
        with unit_of_work(db.session):
            roles = None
            if given and (names := dossier_view.roles_to_give(db.session, key)) is not None:
                roles = {role: _ids(request.form.getlist(f"role:{role}")) for role in names}
            launch_run(
                db.session,
                dossier.id,
                current_actor(),
                now(),
                sequence=key,
                roles=roles,
                allow_unassigned=request.form.get("allow_unassigned") == "1",
                allow_unreachable=request.form.get("allow_unreachable") == "1",
                confirm=request.form.get("confirm") == "1",
            )
            failed = [failure_message(run) for run in incidents.failed_since(db.session, dossier.id, mark)]
    except AlreadyRunning as error:
        return _confirm_launch(dossier, error), 409
    except DomainError as error:
        flash(error.message, "error")
        # Back to the launch form, where the roles without holder are shown.
        return redirect(url_for("pages.dossier_page", dossier_id=dossier_id, launch=key), code=303)
    for message in failed:
        flash(message, "error")
    if not failed:
        flash(_("Séquence « %(key)s » lancée.", key=sequence_label(key)), "success")
    return redirect(_back(dossier_id), code=303)


def _confirm_launch(dossier: Dossier, refusal: AlreadyRunning) -> str:
    """Asks before a second run of a sequence already running, with the form as it was sent."""
    started_at = datetime.fromisoformat(refusal.details["started_at"])
    kept = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirm")]
    return render_template(
        "dossiers/confirm_launch.html",
        dossier=dossier,
        running={"name": refusal.details["name"], "started_at": started_at.strftime("%d/%m/%Y")},
        kept=kept,
    )


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/roles", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_set_role(dossier_id: int, run_id: int):
    _own_run(dossier_id, run_id)
    role = request.form.get("role", "")
    return attempt(
        lambda: set_role_holders(
            db.session, run_id, current_actor(), role, _ids(request.form.getlist("participant_ids")), now()
        ),
        _("Titulaires du rôle « %(role)s » enregistrés.", role=role),
        _back(dossier_id, "people"),
        run_id=run_id,
    )


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/holders", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_set_holders(dossier_id: int, run_id: int):
    """The one form of a run's role holders: every role it lists, with the participants checked."""
    _own_run(dossier_id, run_id)
    roles = list(dict.fromkeys(request.form.getlist("roles")))
    return attempt(
        lambda: set_run_holders(
            db.session,
            run_id,
            current_actor(),
            {role: _ids(request.form.getlist(f"holders:{role}")) for role in roles},
            now(),
        ),
        _("Titulaires des rôles enregistrés."),
        _back(dossier_id, "people"),
        run_id=run_id,
    )


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/interrupt", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_interrupt(dossier_id: int, run_id: int):
    _own_run(dossier_id, run_id)
    return attempt(
        lambda: interrupt_run(db.session, run_id, current_actor(), request.form.get("reason", ""), now()),
        _("Séquence interrompue."),
        _back(dossier_id),
    )


@pages.route("/dossiers/<int:dossier_id>/runs/<int:run_id>/switch", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_switch(dossier_id: int, run_id: int):
    _own_run(dossier_id, run_id)
    key = request.form.get("sequence", "")
    return attempt(
        lambda: switch_run(
            db.session, run_id, current_actor(), now(), sequence=key, reason=request.form.get("reason", "")
        ),
        _("Séquence remplacée par « %(key)s ».", key=sequence_label(key)),
        _back(dossier_id),
        watch=dossier_id,
    )


def _own_run(dossier_id: int, run_id: int) -> None:
    if not dossier_view.run_in_dossier(db.session, dossier_id, run_id):
        abort(404)


@pages.route("/dossiers/<int:dossier_id>/events", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_event(dossier_id: int):
    """A business event chosen from the dictionary, its fields typed in inputs named `<event>.<field>`: only
    the chosen event's are read. A refused value shows the page again with what was typed."""
    name = request.form.get("name", "").strip()
    data = {
        key.split(".", 1)[1]: value
        for key, value in request.form.items()
        if key.startswith(name + ".") and value.strip()
    }
    try:
        typed_event_data(db.session, name, data)
    except DomainError as error:
        db.session.rollback()
        page = _dossier_page(dossier_id, "run", event_typed={"name": name, **data}, event_error=error)
        return page, status_of(error)

    def work():
        delivered = post_event(db.session, dossier_id, current_actor(), name, data or None, now())
        if not delivered:
            return _("Aucune séquence n'attendait cet événement : il est noté dans l'historique.")
        return None

    label = event_label(name)
    return attempt(
        work, _("Événement « %(name)s » enregistré.", name=label), _back(dossier_id), watch=dossier_id
    )


@pages.route("/dossiers/<int:dossier_id>/data", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_set_data(dossier_id: int):
    dossier = _load(dossier_id)
    if "key" not in request.form:
        return _set_typed_data(dossier)
    key = request.form.get("key", "").strip()
    raw = request.form.get("value", "").strip()
    try:
        value = json.loads(raw) if raw and raw[0] in '-0123456789tfn[{"' else raw
    except ValueError:
        value = raw

    def work():
        if not key:
            raise Malformed(_("Indiquez le nom du champ."))
        dossier_service.update_dossier(
            db.session,
            dossier,
            current_actor(),
            now(),
            data={key: value},
            title=request.form.get("title") or None,
        )

    return attempt(work, _("Données enregistrées."), _back(dossier_id, "data"))


def _set_typed_data(dossier: Dossier):
    """The typed form of the Données tab: the fields whose input changed, parsed by the service; a refusal
    shows the tab again with what was typed and why."""
    typed = {
        name.removeprefix("field-"): value
        for name, value in request.form.items()
        if name.startswith("field-") and value != request.form.get("was-" + name.removeprefix("field-"))
    }
    if not typed:
        flash(_("Rien n’a changé."), "info")
        return redirect(_back(dossier.id, "data"), code=303)
    try:
        with unit_of_work(db.session):
            dossier_service.set_data(db.session, dossier, current_actor(), typed, now())
    except DomainError as error:
        form = request.form.items()
        kept = {name.removeprefix("field-"): v for name, v in form if name.startswith("field-")}
        page = _dossier_page(dossier.id, "data", typed_values=kept, data_error=error)
        return page, status_of(error)
    flash(_("Données enregistrées."), "success")
    return redirect(_back(dossier.id, "data"), code=303)


@pages.route("/dossiers/<int:dossier_id>/participants", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_add_participant(dossier_id: int):
    dossier = _load(dossier_id)
    form = request.form
    try:
        with unit_of_work(db.session):
            dossier_service.add_participant(
                db.session,
                dossier,
                current_actor(),
                now(),
                kind=form.get("kind", ""),
                name=form.get("name", ""),
                email=form.get("email"),
                phone=form.get("phone"),
                address=form.get("address"),
                user_email=form.get("user_email"),
                roles=_role_list(form.getlist("roles")),
            )
    except DomainError as error:
        if status_of(error) == 404:
            raise
        # The form again, as it was typed, with the reason next to the field it is about.
        typed = {
            "values": form.to_dict(),
            "roles": _role_list(form.getlist("roles")),
            "field": error.details.get("field"),
            "error": error.message,
        }
        return _dossier_page(dossier_id, "people", participant_form=typed), status_of(error)
    flash(_("Intervenant ajouté."), "success")
    return redirect(_back(dossier_id, "people"), code=303)


def _role_list(values: list[str]) -> list[str]:
    """Role keys picked (one per checkbox), or typed (separated by commas, as the API's clients may)."""
    return [r.strip() for text in values for r in text.replace(";", ",").split(",") if r.strip()]


@pages.route("/dossiers/<int:dossier_id>/participants/<int:participant_id>/roles", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_participant_roles(dossier_id: int, participant_id: int):
    dossier = _load(dossier_id)
    participant = dossier_service.get_participant(db.session, dossier, participant_id)
    return attempt(
        lambda: dossier_service.set_participant_roles(
            db.session, participant, current_actor(), _role_list(request.form.getlist("roles")), now()
        ),
        _("Rôles de %(name)s enregistrés.", name=participant.name),
        _back(dossier_id, "people"),
    )


@pages.route("/dossiers/<int:dossier_id>/documents/<int:document_id>")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_document(dossier_id: int, document_id: int):
    document = get_document(db.session, document_id)
    if document.dossier_id != dossier_id:
        abort(404)
    return send_document(document)


def send_document(document) -> Response:
    response = send_file(
        io.BytesIO(document.data),
        mimetype=document.content_type,
        as_attachment=True,
        download_name=document.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
