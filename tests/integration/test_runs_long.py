"""A dossier that loops for years: 2,000 installments on one run, through the services, saved every step."""

import json

from sqlalchemy import event, func, select

from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.check import check_chains
from runtime.events import post_event
from runtime.journal import JournalEntry
from runtime.models import Action, Checkpoint, Run, Timer
from runtime.stepper import CHECKPOINTS_KEPT, open_actions
from tests.factories import looping_run

LOOPS = 2000


def test_two_thousand_loops_keep_a_bounded_state(app, session, users, clock):
    manager = users["manager"].user
    actor = Actor(user_id=manager.id)
    run = looping_run(session, manager.id, clock.now(), "LOOP-1")
    dossier = run.dossier
    sizes, statements = [], []
    counted = [0]

    def count(*_args) -> None:
        counted[0] += 1

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    for loop in range(LOOPS):
        [action] = open_actions(session, run)
        clock.advance(days=30)
        counted[0] = 0
        complete_action(session, action.id, actor, "done", "paid", None, clock.now())
        session.commit()
        statements.append(counted[0])
        session.expire_all()  # every step reads the run back from the database
        if loop % 500 == 0:
            sizes.append(len(json.dumps(run.state)))
    event.remove(bind, "before_cursor_execute", count)
    # A step costs the same statements after 2,000 loops as after 10, and no more than its budget. On
    # PostgreSQL, 5: the dossier locked; the run with its history head; the open actions; the new action and
    # its assignee; then, together (runtime/step_writes.py), the action ended and unassigned, the timer moved
    # (cancelled and scheduled), the checkpoint (and, every tenth step, the old checkpoints dropped), the
    # step's history entries and the run. On SQLite (no writes inside WITH, no lock to take), each write is a
    # statement of its own: 11, one more every tenth step.
    assert sorted(set(statements[10:100])) == sorted(set(statements[-100:]))
    budget = 5 if session.get_bind().dialect.name == "postgresql" else 12
    assert max(statements[10:]) <= budget, sorted(set(statements))
    run = session.get(Run, run.id)
    assert run.status == "running"
    # Only recent steps can be gone back to: old checkpoints are dropped, ten steps at a time.
    kept = session.scalars(select(Checkpoint.step).where(Checkpoint.run_id == run.id)).all()
    assert max(kept) == run.step and CHECKPOINTS_KEPT <= len(kept) < CHECKPOINTS_KEPT + 10
    assert len(json.dumps(run.state)) < 50_000
    assert max(sizes) < 50_000 and len(json.dumps(run.state)) < 2 * sizes[0]
    assert session.scalar(select(func.count(Action.id)).where(Action.run_id == run.id)) == LOOPS + 1
    assert (
        session.scalar(
            select(func.count(Timer.id)).where(
                Timer.run_id == run.id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)
            )
        )
        == 1
    )
    # After all those loops the boundary message still interrupts the current installment.
    assert post_event(session, dossier.id, actor, "surendettement", None, clock.now()) == [run.id]
    session.commit()
    assert session.get(Run, run.id).status == "completed"
    # The entries written with each step's other writes came in the order they were recorded: the chain holds.
    assert check_chains(session) == []
    completed = select(func.count(JournalEntry.id)).where(JournalEntry.kind == "action_completed")
    assert session.scalar(completed) == LOOPS
