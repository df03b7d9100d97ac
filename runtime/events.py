"""What happens to runs from outside: business events posted to a dossier, and timers coming due."""

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.orm import Session

from designer import dictionary
from designer.models import SequenceVersion
from designer.values import InvalidValue, parse
from kernel.errors import Malformed, RuleBroken

from . import journal
from .actors import Actor, system
from .dossiers import get_dossier
from .journal import Kind
from .models import Action, ActionStatus, Dossier, Run, RunStatus, Timer
from .runs import get_run, read_locked_runs
from .specs import model_of
from .step import event_received, step_run, timer_fired


def post_event(
    session: Session, dossier_id: int, actor: Actor, name: str, data: dict | None, now: datetime
) -> list[int]:
    """Delivers a business event to every run of the dossier waiting for it; always recorded. The event is one
    the installation knows (its dictionary, or a message of a published version), its fields parsed by their
    types: anything else is refused naming the field, before anything is written."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise Malformed("Le nom de l'événement est obligatoire (200 caractères au plus).", field="name")
    if data is not None and not isinstance(data, dict):
        raise Malformed("« data » doit être un objet JSON.", field="data")
    dossier = get_dossier(session, dossier_id)
    data = typed_event_data(session, name, data or {})
    delivered = []
    running = (
        select(Run.id).where(Run.dossier_id == dossier.id, Run.status == RunStatus.RUNNING).order_by(Run.id)
    )
    for run_id in list(session.scalars(running)):
        run = get_run(session, run_id, lock=True)
        if run.status != RunStatus.RUNNING:
            continue
        if name in (run.waiting_messages or []):
            settled = step_run(session, run, event_received(name, data), system("event"), now)
            if settled is not None:
                delivered.append(run.id)
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.EVENT_RECEIVED,
        now,
        name=name,
        data=data,
        delivered_to=delivered,
    )
    return delivered


def known_events(session: Session) -> dict[str, dictionary.Event | None]:
    """Event key → its dictionary entry, or None for a message of a published version the dictionary does not
    have yet."""
    found: dict[str, dictionary.Event | None] = dict.fromkeys(_published_messages(session))
    found.update(dictionary.load(session).events)
    return found


# Published versions never change: the messages each one waits for are read once per process.
_MESSAGES_OF_VERSION: dict[tuple[int, str], set[str]] = {}


def _published_messages(session: Session) -> set[str]:
    names: set[str] = set()
    for version_id, checksum in session.execute(select(SequenceVersion.id, SequenceVersion.checksum)):
        key = (version_id, checksum)
        if key not in _MESSAGES_OF_VERSION:
            model = model_of(session.get(SequenceVersion, version_id))
            _MESSAGES_OF_VERSION[key] = {e.message for e in model.elements.values() if e.message}
        names |= _MESSAGES_OF_VERSION[key]
    return names


def typed_event_data(session: Session, name: str, data: dict) -> dict:
    """The event's fields parsed by their types (`1 200,50` → 1200.5). An unknown event key, a field the
    event does not carry, a missing required field or a value its type refuses: 422 naming it, closest keys
    given."""
    known = known_events(session)
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
        hint = f" Événements proches : {', '.join(close)}." if close else ""
        raise RuleBroken(
            f"Événement « {name} » inconnu du dictionnaire.{hint}",
            code="unknown_event",
            field="name",
            suggestions=close,
        )
    event = known[name]
    if event is None:
        return data  # drawn in a diagram, not yet in the dictionary: its fields are not typed
    fields = {f.key: f for f in event.fields}
    typed = {}
    for key, raw in data.items():
        if key not in fields:
            close = difflib.get_close_matches(key, list(fields), n=3, cutoff=0.6)
            carried = ", ".join(f"{f.key} ({f.label})" for f in event.fields) or "aucun"
            raise RuleBroken(
                f"L'événement « {event.label} » ne porte pas de champ « {key} » (champs : {carried}).",
                code="unknown_event_field",
                field=f"data.{key}",
                suggestions=close,
            )
        try:
            typed[key] = parse(fields[key], raw)
        except InvalidValue as error:
            error.details["field"] = f"data.{key}"
            raise
    for field in event.fields:
        if field.required and typed.get(field.key) is None:
            raise RuleBroken(
                f"« {field.label} » est obligatoire pour l'événement « {event.label} ».",
                code="missing_event_field",
                field=f"data.{field.key}",
            )
    return {key: value for key, value in typed.items() if value is not None}


@dataclass(frozen=True)
class Firing:
    """A timer taken to be fired: marked fired, its dossier locked, its run read with its open actions."""

    timer_id: int
    element_id: str
    task_id: str
    due_at: datetime
    run: Run
    current: list[Action]


def fire_timer(session: Session, timer_id: int, now: datetime, only_if_due: bool = False) -> bool:
    """Fires one due timer: loads its run only. Returns False when the timer is no longer pending, or with
    `only_if_due` (the worker) no longer due: a migration may have postponed it since it was claimed."""
    firings, _skipped, _later = take_timers(session, [timer_id], now, only_if_due)
    for firing in firings:
        fire_taken(session, firing, now)
    return bool(firings)


def take_timers(
    session: Session, timer_ids: list[int], now: datetime, only_if_due: bool = False
) -> tuple[list[Firing], list[int], list[int]]:
    """Takes several timers to fire in this transaction, in four statements whatever their number: locks their
    runs' dossiers (in id order), marks fired those still pending whose run runs (and, with `only_if_due`,
    still due), reads their runs and the runs' open actions. Each firing is then `fire_taken`; one not fired
    in the end (it failed, or the worker stops) is `untake`n in the same transaction.

    Returns the firings (in the order of `timer_ids`), the timers no longer to fire, and the timers left
    for later: a second timer of a run that fires here waits for the next call, as two firings of one run
    in a row would each need what the other changed."""
    if not timer_ids:
        return [], [], []
    journal.lock_all(session, _LOCK_DOSSIERS_OF_TIMERS, {"timer_ids": timer_ids})
    statement = _MARK_DUE if only_if_due else _MARK
    marked = {row.id: row for row in session.connection().execute(statement, {"timer_ids": timer_ids,
                                                                               "now": now})}
    order = [timer_id for timer_id in timer_ids if timer_id in marked]
    taken, later, runs_seen = [], [], set()
    for timer_id in order:
        (later if marked[timer_id].run_id in runs_seen else taken).append(timer_id)
        runs_seen.add(marked[timer_id].run_id)
    untake(session, later)
    skipped = [timer_id for timer_id in timer_ids if timer_id not in marked]
    if not taken:
        return [], skipped, later
    run_ids = [marked[timer_id].run_id for timer_id in taken]
    runs = read_locked_runs(session, run_ids)
    current: dict[int, list[Action]] = {run_id: [] for run_id in run_ids}
    for action in session.scalars(_OPEN_ACTIONS_OF_RUNS, {"run_ids": run_ids}):
        current[action.run_id].append(action)
    firings = [
        Firing(timer_id, row.element_id, row.task_id, row.due_at, runs[row.run_id], current[row.run_id])
        for timer_id in taken
        for row in [marked[timer_id]]
    ]
    return firings, skipped, later


def fire_taken(session: Session, firing: Firing, now: datetime) -> None:
    """The step of a run whose timer was taken (take_timers): recorded, then the engine fires it."""
    run = firing.run
    journal.record(
        session,
        run.dossier_id,
        "system:timer",
        Kind.TIMER_FIRED,
        now,
        run_id=run.id,
        element_id=firing.element_id,
        due_at=firing.due_at.isoformat(),
        fired_at=now.isoformat(),
        late_seconds=max(0.0, (now - firing.due_at).total_seconds()),
    )
    element = model_of(run.version).elements.get(firing.element_id)
    fired = timer_fired(firing.task_id, firing.element_id, element.name if element is not None else None)
    step_run(session, run, fired, system("timer"), now, current=firing.current)


def untake(session: Session, timer_ids: list[int]) -> None:
    """Timers taken in this transaction and not fired after all are pending again."""
    if timer_ids:
        session.connection().execute(_UNMARK, {"timer_ids": timer_ids})


_TIMERS = Timer.__table__.c
_MARK = (
    update(Timer.__table__)
    .where(
        _TIMERS.id.in_(bindparam("timer_ids", expanding=True)),
        _TIMERS.fired_at.is_(None),
        _TIMERS.cancelled_at.is_(None),
        exists().where(Run.id == _TIMERS.run_id, Run.status == RunStatus.RUNNING),
    )
    .values(fired_at=bindparam("now"))
    .returning(_TIMERS.id, _TIMERS.run_id, _TIMERS.element_id, _TIMERS.task_id, _TIMERS.due_at)
)
_MARK_DUE = _MARK.where(_TIMERS.due_at <= bindparam("now"))
_UNMARK = update(Timer.__table__).where(_TIMERS.id.in_(bindparam("timer_ids", expanding=True))).values(
    fired_at=None
)
_LOCK_DOSSIERS_OF_TIMERS = (
    select(Dossier.id)
    .where(
        Dossier.id.in_(
            select(Run.dossier_id)
            .join(Timer, Timer.run_id == Run.id)
            .where(Timer.id.in_(bindparam("timer_ids", expanding=True)))
        )
    )
    .order_by(Dossier.id)
    .with_for_update()
)
_OPEN_ACTIONS_OF_RUNS = (
    select(Action)
    .where(Action.run_id.in_(bindparam("run_ids", expanding=True)), Action.status == ActionStatus.OPEN)
    .order_by(Action.id)
    .execution_options(populate_existing=True)
)
