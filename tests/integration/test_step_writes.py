"""The writes a step holds (runtime/step_writes.py): sent together, checked by their guards, written before
anything reads, kept or dropped with the transaction or savepoint they belong to."""

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from kernel.errors import Conflict
from runtime import step_writes
from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.models import Action, ActionStatus, Run
from runtime.stepper import open_actions
from tests.factories import looping_run


@pytest.fixture
def run(session, users, clock):
    return looping_run(session, users["manager"].user.id, clock.now(), "HELD-1")


def _stale_run_write(session, run: Run) -> None:
    step_writes.write_run(session, run.id, run.revision + 7, {"step": run.step + 1})


def test_a_guarded_write_that_changes_nothing_raises_its_error(session, run):
    session.commit()
    step_writes.hold(session)
    with pytest.raises(StaleDataError):  # a revision nobody wrote: the guard refuses it, when it is sent
        _stale_run_write(session, run)
        assert step_writes.holding(session)  # PostgreSQL: held (elsewhere: written at once, and refused)
        step_writes.send(session)
    session.rollback()


def test_a_held_write_is_written_before_anything_reads(session, run, clock):
    session.commit()
    [action] = open_actions(session, run)
    step_writes.hold(session)
    step_writes.write_run(session, run.id, run.revision, {"step": 41})
    # An ORM read sends what is held first: it sees the write.
    assert session.scalar(select(Run.step).where(Run.id == run.id)) == 41
    assert not step_writes.holding(session)
    session.rollback()
    assert action.status == ActionStatus.OPEN


def test_a_savepoint_rolled_back_keeps_what_its_transaction_holds(session, run):
    session.commit()
    revision = run.revision
    step_writes.hold(session)
    step_writes.write_run(session, run.id, revision, {"step": 42})
    savepoint = session.begin_nested()
    step_writes.hold(session)  # within the savepoint, writes go out at once: the transaction's stay held
    savepoint.rollback()
    assert step_writes.holding(session) is (session.get_bind().dialect.name == "postgresql")
    session.commit()  # what is still held goes out at the commit
    session.expire_all()
    assert session.get(Run, run.id).step == 42


def test_a_completion_lost_to_another_writer_is_a_conflict_and_leaves_nothing(session, users, run, clock):
    """The action is read open under the lock; if it was ended meanwhile by a writer that took no lock, the
    guard of its ending refuses the completion (sent with the step's writes on PostgreSQL)."""
    session.commit()
    [action] = open_actions(session, run)
    actor = Actor(user_id=users["manager"].user.id)
    real_check = __import__("runtime.actions", fromlist=["_check"])._check
    ended_behind = []

    def end_it_behind_our_back(checked, *args):
        real_check(checked, *args)
        session.connection().execute(
            Action.__table__.update().where(Action.__table__.c.id == checked.id).values(status="cancelled")
        )
        ended_behind.append(checked.id)

    import runtime.actions

    runtime.actions._check = end_it_behind_our_back
    try:
        with pytest.raises(Conflict):
            complete_action(session, action.id, actor, "done", "paid", None, clock.now())
    finally:
        runtime.actions._check = real_check
    session.rollback()
    assert ended_behind == [action.id]
    session.expire_all()
    assert session.get(Action, action.id).status == ActionStatus.OPEN
    assert len(open_actions(session, session.get(Run, run.id))) == 1
