"""Which version of its sequence a run was on at each of its steps, and how the tables follow a change of
version: a run moved to another version (runtime/migrations.py), or moved back to a step before such a move.

Each change of version is a history entry `run_migrated` recorded before the step that reaches it, with the
step reached (`to_step`): steps only grow, so the version of step N is the one of the last change whose
`to_step` is at most N (the first change's `from_version_id` before it)."""

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bpmn.engine import Engine
from designer.models import SequenceVersion

from . import journal
from .actors import Actor
from .assignments import Assignment, Unheld, assign, unassign
from .journal import JournalEntry, Kind
from .models import Action, ActionStatus, Run, Timer, action_type
from .pilotage import rollup
from .places import holidays_of
from .specs import bundle_of_run, models_of_run
from .stepper import engine_context, pending_timers, timer_due


def version_at(session: Session, run: Run, step: int) -> tuple[int, dict] | None:
    """(version id, called versions) of the run at `step`, or None when its version never changed."""
    query = (
        select(JournalEntry.data)
        .where(JournalEntry.run_id == run.id, JournalEntry.kind == Kind.RUN_MIGRATED.value)
        .order_by(JournalEntry.id)
    )
    changes = list(session.scalars(query))
    if not changes:
        return None
    found = (changes[0]["from_version_id"], changes[0].get("from_called") or {})
    for change in changes:
        if change["to_step"] <= step:
            found = (change["to_version_id"], change.get("to_called") or {})
    return found


def record_change(
    session: Session, run: Run, target: SequenceVersion, called: dict, actor: Actor, now: datetime, **data
) -> dict:
    """Puts the run on `target` (the caller then takes the step) and records it. Returns the entry's data."""
    entry = {
        "sequence": run.version.key,
        "from_version": run.version.number,
        "to_version": target.number,
        "from_version_id": run.version_id,
        "to_version_id": target.id,
        "from_called": dict(run.called_versions or {}),
        "to_called": dict(called),
        "step_before": run.step,
        "to_step": run.step + 1,
        **data,
    }
    journal.record(session, run.dossier_id, actor.label, Kind.RUN_MIGRATED, now, run_id=run.id, **entry)
    run.version, run.version_id, run.called_versions = target, target.id, dict(called)
    rollup.forget_run(session, run.id)  # its ended actions now count under the target version
    # The inbox rows of the run's open actions keep its version.
    of_run = select(Action.id).where(Action.run_id == run.id)
    for rows in (Assignment, Unheld):
        moved = update(rows).where(rows.action_id.in_(of_run)).values(version_id=target.id)
        session.execute(moved.execution_options(synchronize_session=False))
    return entry


def follow(
    session: Session, run: Run, actor: Actor, now: datetime, restart: bool = False
) -> tuple[list[Action], list[dict], list[Timer]]:
    """After a step that changed the run's version: the open actions kept (same id, holder and history) take
    the element they now stand for, and the timers kept take the new version's delay, counted from when
    their wait started (from now with `restart`). Returns the actions renamed, the timers rescheduled and the
    run's pending timers."""
    engine = Engine.restore(bundle_of_run(session, run), run.state, engine_context(run, now))
    models = models_of_run(session, run)
    tasks = {t.task_id: t for t in engine.open_tasks()}
    renamed = []
    actions = session.scalars(
        select(Action).where(Action.run_id == run.id, Action.status == ActionStatus.OPEN)
    )
    for action in actions:
        task = tasks.get(action.task_id or "")
        if task is None:
            continue
        element = models[task.process_key].elements.get(task.element_id)
        name = element.name if element and element.name else task.name or task.element_id
        if (action.element_id, action.name) != (task.element_id, name):
            role = element.role if element and element.role else action.role
            action.element_id, action.name = task.element_id, name
            action.type = action_type(element)
            action.outcomes = list(element.outcomes if element else [])
            if role != action.role:  # another lane: who must act follows the new role
                action.role = role
                session.flush()
                unassign(session, [action.id])
                assign(session, action, run)
            renamed.append(action)
    waiting = {t.task_id: t for t in engine.waiting_timers()}
    timers = []
    place = holidays_of(run.dossier)
    pending = pending_timers(session, run)
    for timer in pending:
        found = waiting.get(timer.task_id)
        if found is None or timer.created_at >= now:
            continue
        element = models[found.process_key].elements.get(found.element_id)
        due_at, note = timer_due(
            found.kind,
            found.value,
            (element.timer or {}).get("calendar", "calendar") if element else "calendar",
            run.dossier.data,
            now if restart else timer.created_at,
            place,
            element.not_during if element else None,
        )
        before = timer.due_at
        if due_at == before and timer.element_id == found.element_id:
            continue
        _reschedule(session, run, timer, found.element_id, due_at, note, actor, now)
        timers.append(
            {
                "element_id": found.element_id,
                "kind": found.kind,
                "due_at": due_at.isoformat(),
                "previous_due_at": before.isoformat(),
                "started_at": timer.created_at.isoformat(),
            }
        )
    return renamed, timers, pending


def _reschedule(session, run: Run, timer: Timer, element_id: str, due_at, note, actor: Actor, now) -> None:
    previous = timer.due_at
    timer.element_id, timer.due_at, timer.due_note = element_id, due_at, note
    timer.claimed_by, timer.claimed_until = None, None
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.TIMER_RESCHEDULED,
        now,
        run_id=run.id,
        element_id=element_id,
        due_at=due_at.isoformat(),
        previous_due_at=previous.isoformat(),
        started_at=timer.created_at.isoformat(),
    )
