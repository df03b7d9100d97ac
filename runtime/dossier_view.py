"""What a dossier's page shows, read in a few queries: its participants, its runs with their role holders,
the open actions with what each of their outcomes leads to, the diagrams of the live runs."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from designer import dictionary
from designer.dictionary import Dictionary
from designer.models import Sequence, SequenceVersion
from designer.values import display

from . import paths, workspace
from .actions import ENDING_STATUSES
from .deadlines import waiting_delays
from .documents import documents_of
from .dossiers import default_holders
from .events import known_events
from .layout import with_diagram
from .models import Action, ActionStatus, Dossier, Participant, Run, RunStatus
from .reach import unreachable_contacts
from .roles import known_roles
from .runs import current_holders, running_run
from .specs import model_of, roles_used

LIVE = (RunStatus.RUNNING, RunStatus.FAILED, RunStatus.WAITING_DATA)


def published_choices(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every sequence with a published version and not archived, by name."""
    query = (
        select(Sequence.key, Sequence.name)
        .where(Sequence.id.in_(select(SequenceVersion.sequence_id)), Sequence.archived_at.is_(None))
        .order_by(Sequence.name)
    )
    return [(key, name) for key, name in session.execute(query)]


def latest_published(session: Session, key: str) -> SequenceVersion | None:
    return session.scalar(
        select(SequenceVersion)
        .join(Sequence)
        .where(Sequence.key == key)
        .order_by(SequenceVersion.number.desc())
        .limit(1)
    )


def dossier_with_participants(session: Session, dossier_id: int) -> Dossier | None:
    query = (
        select(Dossier)
        .where(Dossier.id == dossier_id)
        .options(selectinload(Dossier.participants).selectinload(Participant.roles))
    )
    return session.scalar(query)


def runs_of(session: Session, dossier_id: int) -> list[Run]:
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
    return list(session.scalars(query))


def run_in_dossier(session: Session, dossier_id: int, run_id: int) -> bool:
    return session.scalar(select(Run.dossier_id).where(Run.id == run_id)) == dossier_id


def action_in_dossier(session: Session, dossier_id: int, action_id: int) -> Action | None:
    action = session.get(Action, action_id)
    return action if action is not None and action.dossier_id == dossier_id else None


def roles_of_runs(session: Session, live: list[Run]) -> dict:
    """For each live run: its roles (key → kind), their holders, and the roles nobody holds while it runs."""
    role_kinds = {r.id: roles_used(session, r.version) for r in live}
    holders = {r.id: current_holders(r) for r in live}
    unassigned = {
        r.id: sorted(k for k in role_kinds[r.id] if not holders[r.id].get(k))
        for r in live
        if r.status == RunStatus.RUNNING
    }
    return {"role_kinds": role_kinds, "holders": holders, "unassigned": unassigned}


def holder_choices(
    dossier: Dossier, role_kinds: dict[str, str], holders: dict[str, list[int]]
) -> dict[str, list[tuple[Participant, bool]]]:
    """Role → the participants who may hold it, each with whether the role is one of their default roles on
    the dossier: of the role's kind and, unless a contact, with a user account (runtime/roles.py:
    check_holders says why); default holders first, then by name. A current holder who no longer fits
    stays in the list, so that saving the form never drops them unseen."""
    choices = {}
    for role, kind in role_kinds.items():
        held = holders.get(role, [])
        fit = [
            p
            for p in dossier.participants
            if p.id in held or (p.kind == kind and (kind == "contact" or p.user_id is not None))
        ]
        fit.sort(key=lambda p: (role not in p.role_keys, p.name.lower(), p.id))
        choices[role] = [(p, role in p.role_keys) for p in fit]
    return choices


def roles_by_kind(session: Session) -> dict[str, list[str]]:
    """The roles known to the library, by the kind of participant who holds them: what default roles are
    picked from."""
    grouped: dict[str, list[str]] = {}
    for key, kind in sorted(known_roles(session).items()):
        grouped.setdefault(kind, []).append(key)
    return grouped


def run_tab(
    session: Session,
    dossier: Dossier,
    live: list[Run],
    at: datetime,
    otherwise: str,
    words: Dictionary | None = None,
    lang: str = "fr",
) -> dict:
    """The open actions by run, what each outcome of each leads to, and the diagrams of the live runs.
    `otherwise`: the label of a default flow; conditions are said with the dictionary `words` in `lang`."""
    open_actions = list(
        session.scalars(
            select(Action)
            .where(Action.dossier_id == dossier.id, Action.status == ActionStatus.OPEN)
            .order_by(Action.due_at.asc().nulls_last(), Action.id)
        )
    )
    ended = list(
        session.execute(
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
        labels = {k: (v or otherwise) for k, v in paths.flow_labels(run.version, words, lang).items()}
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
    for document in documents_of(session, dossier.id):
        documents.setdefault(document.action_id, []).append(document)
    pairs = {(a.run_id, a.role) for a in open_actions}
    return {
        "open_actions": actions_of,
        "what_if": what_if,
        "diagrams": diagrams,
        "documents": documents,
        "holder_names": workspace.holders_of(session, pairs),
        "delays": waiting_delays(session, live),
        "ending_statuses": {
            a.id: sorted(ENDING_STATUSES.get(a.type, {ActionStatus.DONE})) for a in open_actions
        },
    }


def launch_form(session: Session, dossier: Dossier, key: str) -> dict:
    """What launching the latest version of `key` on the dossier asks: its roles and their default holders."""
    version = latest_published(session, key)
    if version is None:
        return {"key": key, "missing_sequence": True}
    roles = roles_used(session, version)
    defaults = default_holders(dossier)
    return {
        "key": key,
        "name": version.name,
        "version": version.number,
        "roles": roles,
        "role_names": {k: r.name for k, r in model_of(version).roles.items()},
        "defaults": defaults,
        "missing": sorted(r for r in roles if not defaults.get(r)),
        "unreachable": unreachable_contacts(session, dossier, version, defaults),
        "running": running_run(session, dossier.id, key),
    }


def roles_to_give(session: Session, key: str) -> list[str] | None:
    """The roles a launch of the latest version of `key` gives holders to (None: it is not published)."""
    version = latest_published(session, key)
    return list(roles_used(session, version)) if version is not None else None


@dataclass
class DataField:
    """One dossier field of the dictionary, as the Données tab shows and edits it."""

    key: str
    label: str
    type: str
    help: str
    shown: str  # the stored value as people read it ("1 200,50 €", "15/03/2027", "Oui")
    typed: str  # what its input holds ("1 200,50", "2027-03-15", "oui")
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = False


def data_tab(session: Session, dossier: Dossier, lang: str = "fr") -> dict:
    """The dictionary's fields with the dossier's values (by label), and the data outside the dictionary."""
    words = dictionary.load(session)
    data = dossier.data or {}
    fields = []
    for key, spec in words.fields.items():
        value = data.get(key)
        fields.append(
            DataField(
                key=key,
                label=words.label("fields", key, lang),
                type=spec.type,
                help=spec.help,
                shown=display(spec, value, lang),
                typed=_typed(spec, value),
                choices=[(c.key, (c.label_en or c.label) if lang == "en" else c.label) for c in spec.choices],
            )
        )
    fields.sort(key=lambda f: f.label.casefold())
    others = {key: value for key, value in data.items() if key not in words.fields}
    return {"data_fields": fields, "other_data": others}


def _typed(spec, value) -> str:
    if value is None or value == "":
        return ""
    if spec.type == "boolean":
        return "oui" if value is True else "non" if value is False else str(value)
    if spec.type in ("amount", "number"):
        return display(spec, value).removesuffix(" €")
    if spec.type == "date":  # a date input holds an ISO date or nothing
        text = str(value)
        return text if len(text) == 10 and text[4] == "-" and text[7] == "-" else ""
    return str(value)


@dataclass
class EventChoice:
    """A business event the dossier page offers, with the typed inputs of its fields."""

    key: str
    label: str
    waiting: bool  # a live run of the dossier waits for it
    fields: list[DataField] = field(default_factory=list)


def event_choices(session: Session, live: list[Run], lang: str = "fr") -> list[EventChoice]:
    """The events the installation knows, those the dossier's live runs wait for first, then by label."""
    words = dictionary.load(session)
    waiting = {name for run in live for name in run.waiting_messages or ()}
    choices = []
    for key, event in known_events(session).items():
        fields = [
            DataField(
                key=f.key,
                label=(f.label_en or f.label) if lang == "en" else f.label,
                type=f.type,
                help=f.help,
                shown="",
                typed="",
                choices=[(c.key, (c.label_en or c.label) if lang == "en" else c.label) for c in f.choices],
                required=f.required,
            )
            for f in (event.fields if event is not None else ())
        ]
        choices.append(EventChoice(key, words.label("events", key, lang), key in waiting, fields))
    choices.sort(key=lambda c: (not c.waiting, c.label.casefold()))
    return choices
