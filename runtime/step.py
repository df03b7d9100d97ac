"""One step of a run, whatever made it: a run starting, an action ending, a timer firing, an event arriving,
a move back or a retry. `step_run` owns the step from the engine to the database: the engine moves in memory,
the tables follow it (stepper.settle), the run ends or switches into the next sequence when its sequence
ends, the ended action is remembered for the conditions, and the run row is written once.

A run's start is a step too, so starting the next sequence at the end of one (and switching by hand) lives
here with it: they are the same operation seen from the run that ends."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, event, inspect, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from bpmn.engine import Engine
from designer.models import SequenceVersion
from designer.services import latest_version
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken

from . import data_needed, engine_cache, journal, step_writes
from .actors import Actor, system
from .dossiers import default_holders
from .journal import Kind
from .models import Action, Dossier, Run, RunRole, RunStatus
from .notifications import note_failure
from .roles import check_holders
from .specs import bundle_of_run, models_of_run, pin_called_versions, roles_used
from .stepper import Settled, cancel_all, checkpoint, engine_context, result_entry, settle


@dataclass(frozen=True)
class Trigger:
    """What makes a run take a step. `operation` is what the engine does, as a failed run keeps it for its
    retry; `action`: the action that ended, remembered once the step is taken; `cause`: why the actions the
    step leaves behind are cancelled."""

    kind: str  # start, action, timer, event, back, retry, migrate
    operation: dict
    action: Action | None = None
    cause: str | None = None
    result: dict | None = None  # what conditions will see of the ended action


def started() -> Trigger:
    return Trigger("start", {"op": "start"})


def action_ended(run: Run, action: Action) -> Trigger:
    """The action has just ended: conditions see its status and outcome, and every action ended before."""
    result = result_entry(action)
    results = {**(run.results or {}), action.element_id: result}
    data = {"status": action.status, "outcome": action.outcome, "actions": results}
    operation = {"op": "complete", "task_id": action.task_id, "data": data}
    return Trigger("action", operation, action, result=result)


def timer_fired(task_id: str, element_id: str, name: str | None = None) -> Trigger:
    """`name`: the timer's label, which the history says (its id when it has none)."""
    return Trigger("timer", {"op": "timer", "task_id": task_id}, cause=f"délai écoulé ({name or element_id})")


def event_received(name: str, payload: dict) -> Trigger:
    return Trigger("event", {"op": "event", "name": name, "payload": payload}, cause=f"événement « {name} »")


def moved_back(cause: str) -> Trigger:
    """The run's state was replaced by a checkpoint's: the tables follow it."""
    return Trigger("back", {"op": "restore"}, cause=cause)


def migrated(cause: str) -> Trigger:
    """The run's version and state were replaced by the same dossier's state moved onto another version of
    its sequence (runtime/migrations.py): the tables follow it, and the migration is a step of its own."""
    return Trigger("migrate", {"op": "restore"}, cause=cause)


def retried(operation: dict) -> Trigger:
    return Trigger("retry", operation)


def step_run(
    session: Session,
    run: Run,
    trigger: Trigger,
    actor: Actor,
    now: datetime,
    current: list[Action] | None = None,
) -> Settled | None:
    """Takes one step of a locked run. The engine works in memory first: an unexpected engine error leaves the
    run's engine state as it was, marks the run failed with the error and the operation, and an admin retries
    it once the cause is fixed (None is returned). A refused request and a database error go to the caller:
    they are not the engine's. `current`: the run's open actions, when the caller has just read them."""
    settled = None
    try:
        engine, timers_before = _move_engine(session, run, now, trigger.operation)
    except (Conflict, NotFound, Malformed, RuleBroken, SQLAlchemyError):
        raise
    except Exception as error:  # noqa: BLE001 — any engine failure must be kept, not lost
        _fail(session, run, actor, now, trigger.operation, error)
    else:
        models = models_of_run(session, run)
        settled = settle(
            session, run, engine, models, actor, now, trigger.cause, current, timers_before,
            new_step=trigger.kind == "migrate",
        )
        if settled.completed:
            step_writes.send(session)  # ending may read and write anything: what the step holds goes first
            _end(session, run, settled, actor, now)
    if trigger.action is not None:
        # After the step: the actions it cancelled are remembered already, and the run is written once.
        run.results = {**(run.results or {}), trigger.action.element_id: trigger.result}
    write_run(session, run)
    step_writes.send(session)  # the step's timers, checkpoint and history with the run's write
    if settled is not None:
        engine_cache.keep(run.id, engine, run.state)
    return settled


def _move_engine(
    session: Session, run: Run, now: datetime, operation: dict
) -> tuple[Engine, set[str] | None]:
    """The engine after the operation and, when they are known, the timers pending before it: after each
    step the pending timers are those the engine waited for; completing an action or delivering an event
    fires none, and a timer fires itself only."""
    bundle = bundle_of_run(session, run)
    context = engine_context(run, now)
    op = operation["op"]
    if op == "start":
        return Engine.start(bundle, context), None
    engine = engine_cache.take(run.id, run.state, context) or Engine.restore(bundle, run.state, context)
    timers_before = {t.task_id for t in engine.waiting_timers()} if op in ("complete", "event") else None
    if op == "timer":  # the one that fires is no longer pending (fire_timer marked it)
        timers_before = {t.task_id for t in engine.waiting_timers()} - {operation["task_id"]}
    if op == "complete":
        engine.complete(operation["task_id"], operation["data"])
    elif op == "timer":
        engine.fire_timer(operation["task_id"])
    elif op == "event":
        engine.deliver(operation["name"], operation.get("payload") or {})
    elif op != "restore":  # restore: the state was replaced by a checkpoint's; settling follows it
        raise ValueError(f"unknown engine operation {op!r}")
    return engine, timers_before


def _fail(session: Session, run: Run, actor: Actor, now: datetime, operation: dict, error: Exception) -> None:
    """The run keeps the operation it could not take. When what stopped it is a dossier value missing or
    unusable, it waits for that value, which an action asks for (data_needed); otherwise it failed."""
    run.status = RunStatus.FAILED
    run.error = f"{type(error).__name__}: {error}"
    run.failed_operation = operation
    key = data_needed.field_needed(session, run.error, session.get(Dossier, run.dossier_id).data)
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.RUN_WAITING_DATA if key else Kind.RUN_FAILED,
        now,
        run_id=run.id,
        error=run.error,
        operation=operation.get("op"),
        **({"field": key} if key else {}),
    )
    if key:
        data_needed.ask(session, run, key, system("data"), now)
    else:
        note_failure(session, run.dossier_id, "run_failed", f"déroulement {run.id} : {run.error}", now,
                     run_id=run.id)


def _end(session: Session, run: Run, settled: Settled, actor: Actor, now: datetime) -> None:
    """The run's sequence has ended: the run completes, or switches into the sequence its end event names."""
    model = models_of_run(session, run)[run.version.key]
    next_keys = [
        model.elements[e].next for e in settled.end_events if e in model.elements and model.elements[e].next
    ]
    run.ended_at = now
    run.state = None  # nothing left to execute; the history keeps the path
    if next_keys:
        switch_to(
            session,
            run,
            system("sequence"),
            now,
            next_keys[0],
            reason="fin de séquence",
            roles=None,
            by_sequence=True,
        )
    else:
        run.status = RunStatus.COMPLETED
        journal.record(
            session,
            run.dossier_id,
            actor.label,
            Kind.RUN_COMPLETED,
            now,
            run_id=run.id,
            end_events=settled.end_events,
        )


def mark_step(session: Session, run: Run, now: datetime) -> int:
    """Makes the run's current state a step of its own, that a move back returns to exactly (a migration
    marks where the run stood before it: the last step's checkpoint may be older). Returns the step."""
    run.step += 1
    checkpoint(session, run, now)
    return run.step


# A run's write, guarded by its revision: the columns set are those of the parameters (built once).
_BY_REVISION = update(Run.__table__).where(
    Run.__table__.c.id == bindparam("_id"), Run.__table__.c.revision == bindparam("_revision")
)


def write_run(session: Session, run: Run) -> None:
    """Writes what changed in the run's columns at once, guarded by its revision, as the session's flush would
    for this one row but without the flush's bookkeeping of everything the session holds. A run whose holders
    changed is left to the flush."""
    state = inspect(run)
    if any(state.attrs[r.key].history.has_changes() for r in state.mapper.relationships):
        return
    changes = {}
    for column in state.mapper.column_attrs:
        added = state.attrs[column.key].history.added
        if added:
            changes[column.key] = added[0]
    if not changes:
        return
    revision = state.committed_state.get("revision", run.revision)
    held = session.info.get(_HELD_RUNS)
    if held is not None:
        held.append((journal.innermost(session), {**changes, "revision": revision + 1, "_id": run.id,
                                             "_revision": revision}))
    else:
        step_writes.write_run(session, run.id, revision, changes)
    set_committed_value(run, "revision", revision + 1)
    # What is in memory is now what is stored: nothing left for the flush (SQLAlchemy is pinned for this).
    state._commit_all(state.dict, session.identity_map)


# Held run writes (hold_run_writes): the timer worker fires a chunk of runs, a savepoint each, and writes
# them together when the chunk commits; a firing whose savepoint rolls back takes its run's write with it.
_HELD_RUNS = "step_held_runs"


def hold_run_writes(session: Session) -> None:
    """For the rest of the transaction, write_run keeps each run's write instead of sending it: they go out
    together when the transaction commits (or at write_held_runs)."""
    session.info[_HELD_RUNS] = []


def write_held_runs(session: Session) -> None:
    """Sends the run writes held since hold_run_writes: one executemany per set of columns changed, each row
    guarded by its revision as write_run guards it."""
    held = session.info.pop(_HELD_RUNS, None) or []
    groups: dict[tuple[str, ...], list[dict]] = {}
    for _transaction_held, row in held:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for rows in groups.values():
        done = session.connection().execute(_BY_REVISION, rows)
        if done.rowcount != len(rows):
            raise StaleDataError(f"runs {[r['_id'] for r in rows]}: changed by another writer")


@event.listens_for(Session, "before_commit")
def _write_held_runs(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint released: its writes wait for the commit
        write_held_runs(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_held_runs(session: Session, rolled_back) -> None:
    held = session.info.get(_HELD_RUNS)
    if held:
        held[:] = [(t, row) for t, row in held if not journal.within(t, rolled_back)]


@event.listens_for(Session, "after_transaction_end")
def _stop_holding(session: Session, transaction) -> None:
    if transaction.parent is None:  # held for one transaction only
        session.info.pop(_HELD_RUNS, None)


def current_holders(run: Run) -> dict[str, list[int]]:
    holders: dict[str, list[int]] = {}
    for holder in run.holders:
        holders.setdefault(holder.role, []).append(holder.participant_id)
    return holders


def start_run(
    session: Session,
    dossier: Dossier,
    version: SequenceVersion,
    holders: dict[str, list[int]],
    actor: Actor,
    now: datetime,
    *,
    unassigned: list[str],
    previous: Run | None = None,
) -> Run:
    """Creates the run of `version` on the dossier with its role holders, and takes its first step."""
    run = Run(
        dossier=dossier,
        version=version,
        version_id=version.id,
        status=RunStatus.RUNNING,
        called_versions=pin_called_versions(session, version),
        started_at=now,
        started_by=actor.label,
        previous_run_id=previous.id if previous else None,
    )
    session.add(run)
    for role, participant_ids in holders.items():
        for participant_id in participant_ids:
            run.holders.append(RunRole(role=role, participant_id=participant_id))
    session.flush()
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.RUN_LAUNCHED,
        now,
        run_id=run.id,
        sequence=version.key,
        version=version.number,
        holders=holders,
        unassigned=unassigned,
        previous_run_id=run.previous_run_id,
    )
    step_run(session, run, started(), actor, now)
    return run


def holders_for(
    dossier: Dossier,
    roles: dict[str, str],
    given: dict | None,
    inherited: dict[str, list[int]] | None,
) -> dict[str, list[int]]:
    """Who holds each role of a new run: as given, else as in the run it follows, else the dossier's
    default holders."""
    if given is not None and not isinstance(given, dict):
        raise Malformed("« roles » doit associer chaque rôle à une liste d'intervenants.")
    people = {p.id: p for p in dossier.participants}
    ids = set(people)
    holders: dict[str, list[int]] = {}
    for role, participant_ids in (given or {}).items():
        if not isinstance(participant_ids, list) or not all(isinstance(i, int) for i in participant_ids):
            raise Malformed(f"Le rôle « {role} » attend une liste d'identifiants d'intervenants.")
        strangers = [i for i in participant_ids if i not in ids]
        if strangers:
            raise RuleBroken(
                f"Intervenant(s) {strangers} inconnu(s) dans ce dossier.", code="unknown_participant"
            )
        holders[role] = list(dict.fromkeys(participant_ids))
        check_holders(roles, role, [people[i] for i in holders[role]], field=f"roles.{role}")
    defaults = default_holders(dossier)
    for role in roles:
        if role not in holders:
            holders[role] = [i for i in (inherited or {}).get(role, []) if i in ids] or defaults.get(role, [])
    return holders


def switch_to(
    session: Session,
    run: Run,
    actor: Actor,
    now: datetime,
    sequence: str,
    reason: str,
    roles: dict | None,
    by_sequence: bool,
) -> Run:
    """Ends the run and starts the latest version of `sequence` on its dossier, with its role holders."""
    cancel_all(session, run, system("switch"), now, f"changement de séquence vers « {sequence} »")
    run.status, run.ended_at, run.end_reason, run.state = RunStatus.SWITCHED, now, reason, None
    version = latest_version(session, sequence)
    used = roles_used(session, version)
    holders = holders_for(run.dossier, used, roles, current_holders(run))
    missing = sorted(r for r in used if not holders.get(r))
    new = start_run(session, run.dossier, version, holders, actor, now, unassigned=missing, previous=run)
    run.next_run_id = new.id
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.RUN_SWITCHED,
        now,
        run_id=run.id,
        next_run_id=new.id,
        sequence=sequence,
        reason=reason,
        by_sequence=by_sequence,
    )
    return new
