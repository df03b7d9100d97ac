"""The case manager's dossier pages: the searchable list, and one dossier with its runs drawn, its open
actions, its participants and roles, and its history (filterable, exportable as CSV).

Every change goes through the runtime services, as the API does; the page only reads forms and redirects."""

import csv
import io
import json
from datetime import datetime

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from designer.models import Sequence, SequenceVersion
from kernel.accounts import User, UserKind
from kernel.errors import DomainError, Malformed
from runtime import dossiers as dossier_service
from runtime import paths, workspace
from runtime.actions import ENDING_STATUSES, allowed_statuses, complete_action
from runtime.documents import documents_of, get_document
from runtime.events import post_event
from runtime.journal import JournalEntry
from runtime.layout import with_diagram
from runtime.models import Action, ActionStatus, Dossier, Participant, Run, RunStatus
from runtime.runs import current_holders, interrupt_run, launch_run, roles_used, set_role_holders, switch_run
from runtime.specs import model_of

from ..clock import now
from ..extensions import db
from ..permissions import Perm, allows
from . import pages
from .auth import page_allowed
from .workspace import (
    KIND_LABELS,
    PARTICIPANT_KINDS,
    STATUS_LABELS,
    actor_names,
    attempt,
    bundle_built,
    current_actor,
    local_target,
)

TABS = ("run", "people", "history", "data")
HISTORY_SHOWN = 500
LIVE = (RunStatus.RUNNING, RunStatus.FAILED)


# ---- the list


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@pages.route("/dossiers/")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_list():
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
        sequences=_published_choices(),
        statuses=STATUS_LABELS,
        run_statuses=list(RunStatus),
        can_write=allows(current_user.account, Perm.DOSSIERS_WRITE),
    )


@pages.route("/dossiers/", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_create():
    try:
        dossier = dossier_service.create_dossier(
            db.session,
            current_actor(),
            request.form.get("reference", ""),
            request.form.get("title", "").strip(),
            {},
            now(),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("pages.dossier_list"), code=303)
    db.session.commit()
    flash(_("Dossier créé."), "success")
    return redirect(url_for("pages.dossier_page", dossier_id=dossier.id), code=303)


def _published_choices() -> list[tuple[str, str]]:
    query = (
        select(Sequence.key, Sequence.name)
        .where(Sequence.id.in_(select(SequenceVersion.sequence_id)))
        .order_by(Sequence.name)
    )
    return [(key, name) for key, name in db.session.execute(query)]


# ---- one dossier


def _load(dossier_id: int) -> Dossier:
    query = (
        select(Dossier)
        .where(Dossier.id == dossier_id)
        .options(selectinload(Dossier.participants).selectinload(Participant.roles))
    )
    dossier = db.session.scalar(query)
    if dossier is None:
        abort(404)
    return dossier


def _runs(dossier_id: int) -> list[Run]:
    # The engine state is never needed to show a run: it can be large, so it is not read.
    query = (
        select(Run)
        .where(Run.dossier_id == dossier_id)
        .order_by(Run.id)
        .options(
            defer(Run.state),
            defer(Run.failed_operation),
            selectinload(Run.holders),
            selectinload(Run.version)
            .load_only(
                SequenceVersion.id,
                SequenceVersion.number,
                SequenceVersion.name,
                SequenceVersion.checksum,
                SequenceVersion.sequence_id,
            )
            .selectinload(SequenceVersion.sequence),
        )
    )
    return list(db.session.scalars(query))


@pages.route("/dossiers/<int:dossier_id>")
@page_allowed(Perm.DOSSIERS_READ)
def dossier_page(dossier_id: int):
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "run"
    dossier = _load(dossier_id)
    runs = _runs(dossier_id)
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
        "sequences": _published_choices(),
    }
    live = [r for r in runs if r.status in LIVE]
    context["role_kinds"] = {r.id: roles_used(db.session, r.version) for r in live}
    context["holders"] = {r.id: current_holders(r) for r in live}
    context["unassigned"] = {
        r.id: sorted(k for k in context["role_kinds"][r.id] if not context["holders"][r.id].get(k))
        for r in live
        if r.status == RunStatus.RUNNING
    }
    if tab == "run":
        context.update(_run_tab(dossier, live, at))
        context["ended_runs"] = [r for r in runs if r.status not in LIVE]
    elif tab == "history":
        context.update(_history_tab(dossier))
    return render_template("dossiers/page.html", **context)


def _run_tab(dossier: Dossier, live: list[Run], at: datetime) -> dict:
    open_actions = list(
        db.session.scalars(
            select(Action)
            .where(Action.dossier_id == dossier.id, Action.status == ActionStatus.OPEN)
            .order_by(Action.due_at.asc().nulls_last(), Action.id)
        )
    )
    ended = list(
        db.session.execute(
            select(Action.run_id, Action.element_id, Action.status, Action.outcome, Action.completed_at)
            .where(
                Action.dossier_id == dossier.id, Action.status != ActionStatus.OPEN, Action.adhoc.is_(False)
            )
            .order_by(Action.id)
        )
    )
    done: dict[int, set[str]] = {}
    seen: dict[int, dict[str, dict]] = {}
    for run_id, element_id, status, outcome, completed_at in ended:
        if status in (ActionStatus.DONE, ActionStatus.VALIDATED):
            done.setdefault(run_id, set()).add(element_id)
        seen.setdefault(run_id, {})[element_id] = {
            "status": status,
            "outcome": outcome,
            "completed_at": completed_at.isoformat() if completed_at else None,
        }
    by_run = {r.id: r for r in live}
    actions_of: dict[int, list[Action]] = {}
    what_if: dict[int, list[dict]] = {}
    for action in open_actions:
        actions_of.setdefault(action.run_id, []).append(action)
        run = by_run.get(action.run_id)
        if run is None or action.adhoc or run.status != RunStatus.RUNNING:
            continue
        ending = sorted(ENDING_STATUSES.get(action.type, {ActionStatus.DONE}))[0]
        what_if[action.id] = paths.what_if(
            run.version,
            action.element_id,
            action.outcomes or [],
            ending,
            {"dossier": dict(dossier.data or {}), "actions": seen.get(run.id, {}), "event": None},
            at,
        )
    diagrams = {}
    for run in live:
        labels = {k: (v or _("sinon")) for k, v in paths.flow_labels(run.version).items()}
        diagrams[run.id] = {
            "xml": with_diagram(run.version.xml, run.version.checksum).decode("utf-8", errors="replace"),
            "active": run.active_elements or [],
            "done": sorted(done.get(run.id, set())),
            "labels": labels,
            "whatif": {
                str(a.id): [
                    {"outcome": w["outcome"], "flows": w["flows"], "reaches": [r["id"] for r in w["reaches"]]}
                    for w in what_if.get(a.id, [])
                ]
                for a in actions_of.get(run.id, [])
            },
        }
    documents = {}
    for document in documents_of(db.session, dossier.id):
        documents.setdefault(document.action_id, []).append(document)
    pairs = {(a.run_id, a.role) for a in open_actions}
    return {
        "open_actions": actions_of,
        "what_if": what_if,
        "diagrams": diagrams,
        "documents": documents,
        "holder_names": workspace.holders_of(db.session, pairs),
        "allowed_statuses": allowed_statuses,
        "ending_statuses": {
            a.id: sorted(ENDING_STATUSES.get(a.type, {ActionStatus.DONE})) for a in open_actions
        },
        "launch": _launch_form(dossier),
        "bundle_built": bundle_built(),
    }


def _launch_form(dossier: Dossier) -> dict | None:
    key = request.args.get("launch", "")
    if not key or not allows(current_user.account, Perm.RUNS_PILOT):
        return None
    version = db.session.scalar(
        select(SequenceVersion)
        .join(Sequence)
        .where(Sequence.key == key)
        .order_by(SequenceVersion.number.desc())
        .limit(1)
    )
    if version is None:
        return {"key": key, "missing_sequence": True}
    roles = roles_used(db.session, version)
    defaults = dossier_service.default_holders(dossier)
    return {
        "key": key,
        "name": version.name,
        "version": version.number,
        "roles": roles,
        "role_names": {k: r.name for k, r in model_of(version).roles.items()},
        "defaults": defaults,
        "missing": sorted(r for r in roles if not defaults.get(r)),
    }


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
    return {
        "entries": entries,
        "more_entries": more,
        "names": names,
        "kind_labels": KIND_LABELS,
        "chosen_kinds": kinds,
        "summaries": {e.id: summarize(e, people) for e in entries},
    }


def summarize(entry: JournalEntry, people: dict[int, str]) -> str:
    """One sentence of what the entry's data says: what, and why."""
    data = entry.data or {}
    parts = []
    if data.get("name"):
        parts.append(f"« {data['name']} »")
    if data.get("sequence"):
        parts.append(
            _("séquence %(key)s", key=data["sequence"])
            + (f" v{data['version']}" if data.get("version") else "")
        )
    if data.get("status"):
        parts.append(str(STATUS_LABELS.get(data["status"], data["status"])))
    if data.get("outcome"):
        parts.append(_("résultat : %(outcome)s", outcome=data["outcome"]))
    if data.get("role"):
        parts.append(_("rôle : %(role)s", role=data["role"]))
    holders = data.get("holders")
    if isinstance(holders, dict) and "to" in holders:
        parts.append(
            _(
                "titulaires : %(names)s",
                names=", ".join(people.get(i, f"#{i}") for i in holders["to"]) or _("aucun"),
            )
        )
    if data.get("unassigned"):
        parts.append(_("sans titulaire : %(roles)s", roles=", ".join(data["unassigned"])))
    if isinstance(data.get("roles"), list):
        parts.append(_("rôles : %(roles)s", roles=", ".join(data["roles"]) or _("aucun")))
    if data.get("due_at"):
        parts.append(_("échéance %(at)s", at=data["due_at"][:16].replace("T", " ")))
    if "delivered_to" in data:
        parts.append(_("reçu par %(n)d déroulement(s)", n=len(data["delivered_to"] or [])))
    for key, label in (
        ("reason", _("raison")),
        ("cause", _("cause")),
        ("comment", _("commentaire")),
        ("error", _("erreur")),
    ):
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
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets then read the file as UTF-8
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        [_("date (UTC)"), _("qui"), _("quoi"), _("déroulement"), _("action"), _("détail"), _("données")]
    )
    for e in entries:
        writer.writerow(
            [
                e.at.isoformat(),
                names.get(e.actor, e.actor),
                str(KIND_LABELS.get(e.kind, e.kind)),
                e.run_id or "",
                e.action_id or "",
                summarize(e, people),
                json.dumps(e.data, ensure_ascii=False, sort_keys=True),
            ]
        )
    filename = f"historique-{dossier.reference}.csv".replace('"', "")
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---- changes


def _back(dossier_id: int, tab: str = "run", **args) -> str:
    return local_target(url_for("pages.dossier_page", dossier_id=dossier_id, tab=tab, **args))


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@pages.route("/dossiers/<int:dossier_id>/actions/<int:action_id>/complete", methods=["POST"])
@page_allowed(Perm.ACTIONS_ANY)
def dossier_complete_action(dossier_id: int, action_id: int):
    action = db.session.get(Action, action_id)
    if action is None or action.dossier_id != dossier_id:
        abort(404)
    status, _sep, outcome = request.form.get("choice", "").partition(":")
    comment = request.form.get("comment", "").strip() or None
    return attempt(
        lambda: complete_action(
            db.session, action_id, current_actor(), status, outcome or None, comment, now()
        ),
        _("Action « %(name)s » terminée.", name=action.name),
        _back(dossier_id),
    )


@pages.route("/dossiers/<int:dossier_id>/runs", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_launch(dossier_id: int):
    dossier = _load(dossier_id)
    key = request.form.get("sequence", "")
    given = request.form.get("roles_given") == "1"
    try:
        version = db.session.scalar(
            select(SequenceVersion)
            .join(Sequence)
            .where(Sequence.key == key)
            .order_by(SequenceVersion.number.desc())
            .limit(1)
        )
        roles = None
        if version is not None and given:
            roles = {
                role: _ids(request.form.getlist(f"role:{role}")) for role in roles_used(db.session, version)
            }
        launch_run(
            db.session,
            dossier.id,
            current_actor(),
            now(),
            sequence=key,
            roles=roles,
            allow_unassigned=request.form.get("allow_unassigned") == "1",
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        # Back to the launch form, where the roles without holder are shown.
        return redirect(url_for("pages.dossier_page", dossier_id=dossier_id, launch=key), code=303)
    db.session.commit()
    flash(_("Séquence « %(key)s » lancée.", key=key), "success")
    return redirect(_back(dossier_id), code=303)


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
        _("Séquence remplacée par « %(key)s ».", key=key),
        _back(dossier_id),
    )


def _own_run(dossier_id: int, run_id: int) -> None:
    if db.session.scalar(select(Run.dossier_id).where(Run.id == run_id)) != dossier_id:
        abort(404)


@pages.route("/dossiers/<int:dossier_id>/events", methods=["POST"])
@page_allowed(Perm.RUNS_PILOT)
def dossier_event(dossier_id: int):
    name = request.form.get("name", "").strip()

    def work():
        raw = request.form.get("data", "").strip()
        try:
            data = json.loads(raw) if raw else None
        except ValueError as error:
            raise Malformed(
                _('Les données de l\'événement doivent être un objet JSON, par exemple {"montant": 120}.')
            ) from error
        delivered = post_event(db.session, dossier_id, current_actor(), name, data, now())
        if not delivered:
            flash(_("Aucune séquence n'attendait cet événement : il est noté dans l'historique."), "info")

    return attempt(work, _("Événement « %(name)s » enregistré.", name=name), _back(dossier_id))


@pages.route("/dossiers/<int:dossier_id>/data", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_set_data(dossier_id: int):
    dossier = _load(dossier_id)
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


@pages.route("/dossiers/<int:dossier_id>/participants", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_add_participant(dossier_id: int):
    dossier = _load(dossier_id)
    form = request.form

    def work():
        kind = form.get("kind", "")
        user_id = None
        email = form.get("user_email", "").strip().lower()
        if email:
            user = db.session.scalar(select(User).where(User.email == email))
            expected = UserKind.PARTNER if kind == "partner" else UserKind.INTERNAL
            if user is None or kind == "contact" or user.kind != expected:
                raise Malformed(_("Aucun compte « %(kind)s » %(email)s.", kind=kind, email=email))
            user_id = user.id
        dossier_service.add_participant(
            db.session,
            dossier,
            current_actor(),
            now(),
            kind=kind,
            name=form.get("name", ""),
            email=form.get("email") or None,
            phone=form.get("phone") or None,
            address=form.get("address") or None,
            user_id=user_id,
            roles=_role_list(form.get("roles", "")),
        )

    return attempt(work, _("Intervenant ajouté."), _back(dossier_id, "people"))


def _role_list(text: str) -> list[str]:
    return [r.strip() for r in text.replace(";", ",").split(",") if r.strip()]


@pages.route("/dossiers/<int:dossier_id>/participants/<int:participant_id>/roles", methods=["POST"])
@page_allowed(Perm.DOSSIERS_WRITE)
def dossier_participant_roles(dossier_id: int, participant_id: int):
    dossier = _load(dossier_id)
    participant = dossier_service.get_participant(db.session, dossier, participant_id)
    return attempt(
        lambda: dossier_service.set_participant_roles(
            db.session, participant, current_actor(), _role_list(request.form.get("roles", "")), now()
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
