"""After every engine operation, the tables follow the engine: actions, timers, the step and the run's end."""

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from bpmn.dialect import SequenceModel
from bpmn.durations import (
    PARIS,
    Deadline,
    Holidays,
    date_note,
    deadline,
    parse_cycle,
    parse_date_time,
    start_of,
)
from bpmn.engine import Engine
from bpmn.expressions import evaluate

from . import journal, step_writes
from .actors import Actor, system
from .assignments import assign, held, inserted_and_assigned, unassign, users_to_act
from .communications.outbox import queue_for_action
from .journal import Kind
from .models import Action, ActionStatus, ActionType, Checkpoint, Run, Timer, action_type
from .places import holidays_of

CHECKPOINTS_KEPT = 50


@dataclass
class Settled:
    created: list[Action] = field(default_factory=list)
    cancelled: list[Action] = field(default_factory=list)
    completed: bool = False
    end_events: list[str] = field(default_factory=list)
    # The run's open actions once settled, in the order they opened.
    open: list[Action] = field(default_factory=list)


def engine_context(run: Run, now: datetime) -> dict:
    return {"dossier": dict(run.dossier.data or {}), "now": now, "holidays": holidays_of(run.dossier)}


def result_entry(action: Action) -> dict:
    completed_at = action.completed_at.isoformat() if action.completed_at else None
    return {"status": action.status, "outcome": action.outcome, "completed_at": completed_at}


def remember(run: Run, action: Action) -> None:
    """Keeps what conditions see as `actions["<element id>"]`: the last ended action of each element."""
    if not action.adhoc:
        run.results = {**(run.results or {}), action.element_id: result_entry(action)}


_OPEN_ACTIONS = (
    select(Action)
    .where(Action.run_id == bindparam("run_id"), Action.status == ActionStatus.OPEN)
    .order_by(Action.id)
)
_OPEN_ACTIONS_FRESH = _OPEN_ACTIONS.execution_options(populate_existing=True)
_PENDING_TIMERS = select(Timer).where(
    Timer.run_id == bindparam("run_id"), Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)
)


# The writes a step makes without reading an answer, as builders of a parameter prefix (step_writes): several
# of them share one statement and their values one set of parameters.
@cache
def _cancel_timers(prefix: str):
    timers = Timer.__table__.c
    return (
        update(Timer.__table__)
        .where(
            timers.run_id == bindparam(f"{prefix}of_run"),
            timers.task_id.in_(bindparam(f"{prefix}task_ids", expanding=True)),
            timers.fired_at.is_(None),
            timers.cancelled_at.is_(None),
        )
        .values(cancelled_at=bindparam(f"{prefix}now", type_=timers.cancelled_at.type))
    )


def _inserting(table, columns: list[str]):
    @cache
    def build(prefix: str = ""):
        return insert(table).values({c: bindparam(f"{prefix}{c}", type_=table.c[c].type) for c in columns})

    return build


@cache
def _drop_checkpoints(prefix: str):
    checkpoints = Checkpoint.__table__.c
    return delete(Checkpoint.__table__).where(
        checkpoints.run_id == bindparam(f"{prefix}of_run"), checkpoints.step <= bindparam(f"{prefix}up_to")
    )


_insert_timer = _inserting(
    Timer.__table__, ["run_id", "element_id", "task_id", "due_at", "due_note", "created_at", "attempts"]
)
_insert_checkpoint = _inserting(Checkpoint.__table__, ["run_id", "step", "elements", "state", "created_at"])
_INSERT_ACTION = insert(Action.__table__)
_ACTION_COLUMNS = [c.key for c in Action.__table__.columns if c.key != "id"]
# PostgreSQL: the action and who must act on it, in one statement.
_INSERT_AND_ASSIGN = inserted_and_assigned(_inserting(Action.__table__, _ACTION_COLUMNS)())


def open_actions(session: Session, run: Run, fresh: bool = False) -> list[Action]:
    """`fresh`: what the session holds is read again (the run was just locked: others may have written)."""
    return list(session.scalars(_OPEN_ACTIONS_FRESH if fresh else _OPEN_ACTIONS, {"run_id": run.id}))


def settle(
    session: Session,
    run: Run,
    engine: Engine,
    models: dict[str, SequenceModel],
    actor: Actor,
    now: datetime,
    cause: str | None = None,
    current: list[Action] | None = None,
    timers_before: set[str] | None = None,
    new_step: bool = False,
) -> Settled:
    """`current`: the run's open actions, when the caller has just read them; `timers_before`: the run's
    pending timers, when the caller knows them (otherwise both are read). `new_step`: a step is reached
    even if no action changed (a migration to another version: it can be gone back from)."""
    settled = Settled()
    # Actions the path leaves behind are cancelled by the system, whoever made the run move.
    canceller = actor if actor.is_system else system("sequence")
    live = {t.task_id: t for t in engine.open_tasks()}
    if current is None:
        current = open_actions(session, run)
    known = {a.task_id for a in current if a.task_id}
    for action in current:
        if action.task_id and action.task_id not in live:
            _cancel(session, run, action, canceller, now, cause or "la séquence a pris un autre chemin")
            settled.cancelled.append(action)
    for task_id, task in live.items():
        if task_id not in known:
            settled.created.append(_create_action(session, run, task, models, actor, now))
    # The timers and the checkpoint of the step go out together, with the run's write (step_run sends them).
    step_writes.hold(session)
    _sync_timers(session, run, engine, models, actor, now, timers_before)
    changed = bool(settled.created or settled.cancelled) or new_step
    run.state = engine.dump()
    run.active_elements = engine.active_elements()
    run.waiting_messages = sorted(engine.waiting_messages())
    if changed:
        run.step += 1
        checkpoint(session, run, now)
    if engine.is_completed():
        settled.completed = True
        settled.end_events = engine.end_events_reached()
        run.active_elements, run.waiting_messages = [], []
        # The run's open actions are those it had, less those cancelled, plus those opened: not read again.
        for action in [a for a in current + settled.created if a.status == ActionStatus.OPEN]:
            if action not in settled.cancelled:
                _cancel(session, run, action, canceller, now, "la séquence est terminée")
                settled.cancelled.append(action)
    still_open = [a for a in current if a not in settled.cancelled] + settled.created
    settled.open = [a for a in still_open if a.status == ActionStatus.OPEN]
    return settled


def cancel_all(session: Session, run: Run, actor: Actor, now: datetime, cause: str) -> list[Action]:
    """Cancels the run's open actions and pending timers (the run ends)."""
    cancelled = []
    for action in open_actions(session, run):
        _cancel(session, run, action, actor, now, cause)
        cancelled.append(action)
    for timer in pending_timers(session, run):
        timer.cancelled_at = now
    return cancelled


def pending_timers(session: Session, run: Run) -> list[Timer]:
    return list(session.scalars(_PENDING_TIMERS, {"run_id": run.id}))


def _cancel(session: Session, run: Run, action: Action, actor: Actor, now: datetime, cause: str) -> None:
    unassign(session, [action.id], unheld=not held(run, action.role))
    action.status = ActionStatus.CANCELLED
    action.completed_at = now
    action.completed_by = actor.label
    action.cause = cause
    remember(run, action)
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.ACTION_CANCELLED,
        now,
        run_id=run.id,
        action_id=action.id,
        element_id=action.element_id,
        name=action.name,
        cause=cause,
    )


def cancel(session: Session, run: Run, action: Action, actor: Actor, now: datetime, cause: str) -> None:
    """Cancels one open action of the run that is no longer needed, saying why."""
    _cancel(session, run, action, actor, now, cause)


def open_action(session: Session, run: Run, actor: Actor, now: datetime, what: Kind, **fields) -> Action:
    """Adds an open action to a run: stored, given to the users holding its role, and in the history."""
    row = {column: None for column in _ACTION_COLUMNS} | {"adhoc": False, "outcomes": []} | fields
    row.update(run_id=run.id, dossier_id=run.dossier_id, status=ActionStatus.OPEN, created_at=now)
    # Written at once, then known to the session as stored: its id serves who must act and the history.
    users = users_to_act(run, row["role"])
    if users and step_writes.postgres(session):  # the action and who must act on it, in one statement
        assignees = {
            "assignees": users,
            "run_version_id": run.version_id,
            "run_reference": run.dossier.reference,
        }
        action_id = session.connection().scalar(_INSERT_AND_ASSIGN, row | assignees)
    else:
        [action_id] = session.connection().execute(_INSERT_ACTION, row).inserted_primary_key
    action = Action(id=action_id, **row)
    make_transient_to_detached(action)
    session.add(action)
    set_committed_value(action, "run", run)
    if not (users and step_writes.postgres(session)):  # (an action whose role nobody holds is listed as such)
        assign(session, action, run)
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        what,
        now,
        run_id=run.id,
        action_id=action.id,
        element_id=action.element_id,
        name=action.name,
        type=action.type,
        role=action.role,
        due_at=action.due_at.isoformat() if action.due_at else None,
    )
    return action


def _create_action(
    session: Session, run: Run, task, models: dict[str, SequenceModel], actor: Actor, now: datetime
) -> Action:
    element = models[task.process_key].elements.get(task.element_id)
    due = None
    if element and element.due:
        calendar = element.calendar or "calendar"
        due = deadline(now, element.due, calendar, holidays_of(run.dossier), element.not_during)
    action = open_action(
        session,
        run,
        actor,
        now,
        Kind.ACTION_CREATED,
        element_id=task.element_id,
        task_id=task.task_id,
        name=(element.name if element and element.name else task.name or task.element_id),
        type=action_type(element),
        role=(element.role if element and element.role else ""),
        outcomes=list(element.outcomes if element else []),
        due_at=due.due_at if due else None,
        due_note=due.note if due else None,
    )
    if action.type == ActionType.COMMUNICATION:
        queue_for_action(session, run, action, element, now, actor)
    return action


def _sync_timers(
    session: Session,
    run: Run,
    engine: Engine,
    models: dict[str, SequenceModel],
    actor: Actor,
    now: datetime,
    timers_before: set[str] | None,
) -> None:
    waiting = {t.task_id: t for t in engine.waiting_timers()}
    if timers_before is None:
        rows = pending_timers(session, run)
        pending = {t.task_id for t in rows}
        for timer in rows:
            if timer.task_id not in waiting:
                timer.cancelled_at = now
    else:
        pending = timers_before
        gone = pending - waiting.keys()
        if gone:
            step_writes.write(
                session, _cancel_timers, {"of_run": run.id, "task_ids": sorted(gone), "now": now}
            )
    place = None
    for task_id, waiting_timer in waiting.items():
        if task_id in pending:
            continue
        element = models[waiting_timer.process_key].elements.get(waiting_timer.element_id)
        place = place or holidays_of(run.dossier)
        due_at, note = timer_due(
            waiting_timer.kind,
            waiting_timer.value,
            (element.timer or {}).get("calendar", "calendar") if element else "calendar",
            run.dossier.data,
            now,
            place,
            element.not_during if element else None,
        )
        step_writes.write(
            session,
            _insert_timer,
            {
                "run_id": run.id,
                "element_id": waiting_timer.element_id,
                "task_id": task_id,
                "due_at": due_at,
                "due_note": note,
                "created_at": now,
                "attempts": 0,
            },
        )
        journal.record(
            session,
            run.dossier_id,
            actor.label,
            Kind.TIMER_SCHEDULED,
            now,
            run_id=run.id,
            element_id=waiting_timer.element_id,
            due_at=due_at.isoformat(),
        )


def timer_due(
    kind: str,
    value: str,
    calendar: str,
    dossier_data: dict,
    now: datetime,
    place: Holidays,
    not_during: str | None = None,
) -> tuple[datetime, dict[str, str] | None]:
    """When a timer fires, and how that was counted. A delay of days fires at the start of the day after
    its last day (Paris); a delay with a time part, or a date-time the diagram gives, fires at that instant;
    a date alone fires at the start of that day."""
    if kind in ("duration", "cycle"):
        every = parse_cycle(value)[1] if kind == "cycle" else value
        counted: Deadline = deadline(now, every, calendar, place, not_during)
        return counted.fires_at, counted.note
    try:
        moment = parse_date_time(value)
    except ValueError:
        moment = evaluate(
            value,
            {
                "dossier": dict(dossier_data or {}),
                "status": None,
                "outcome": None,
                "actions": {},
                "event": None,
            },
            now,
            place,
        )
    if isinstance(moment, str):
        moment = parse_date_time(moment)
    if isinstance(moment, date) and not isinstance(moment, datetime):
        moment = start_of(moment)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)  # a time written without zone is a time in Paris
    return moment, date_note(moment)


def checkpoint(session: Session, run: Run, now: datetime) -> None:
    """Keeps the run's state as the state of its current step."""
    step_writes.write(
        session,
        _insert_checkpoint,
        {
            "run_id": run.id,
            "step": run.step,
            "elements": run.active_elements,
            "state": run.state,
            "created_at": now,
        },
    )
    # Only recent steps can be gone back to; older ones live on in the history.
    if run.step % 10 == 0:  # pruned in batches: one statement every ten steps
        older = {"of_run": run.id, "up_to": run.step - CHECKPOINTS_KEPT}
        step_writes.write(session, _drop_checkpoints, older)
