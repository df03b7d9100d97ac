"""The engine a process keeps after a run's step serves that run's next step only while the stored state is
the one it dumped: a rolled-back step or another writer makes the next step rebuild it from the database."""

import pytest
from sqlalchemy import func, select

from bpmn.engine import Engine
from runtime import engine_cache
from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.journal import JournalEntry
from runtime.models import Run
from runtime.stepper import open_actions
from tests.factories import looping_run


@pytest.fixture
def looping(session, users, clock, monkeypatch):
    """A running rt_loop run, and the count of engines rebuilt from a stored state since."""
    manager = users["manager"].user
    run = looping_run(session, manager.id, clock.now(), "CACHE-1")
    rebuilt = []
    restore = Engine.restore.__func__

    def counted(cls, specs, state, context, prune=True):
        rebuilt.append(state)
        return restore(cls, specs, state, context, prune)

    monkeypatch.setattr(Engine, "restore", classmethod(counted))
    return run.id, Actor(user_id=manager.id), rebuilt


def _step(session, run_id, actor, clock) -> int:
    """Completes the run's open action; the id of the next one."""
    [action] = open_actions(session, session.get(Run, run_id))
    clock.advance(days=30)
    _action, settled = complete_action(session, action.id, actor, "done", "paid", None, clock.now())
    [following] = settled.created
    return following.id


def test_the_next_step_reuses_the_engine_of_the_last(session, clock, looping):
    run_id, actor, rebuilt = looping
    for _ in range(5):
        _step(session, run_id, actor, clock)
        session.commit()
        session.expire_all()
    assert rebuilt == []
    assert len(open_actions(session, session.get(Run, run_id))) == 1


def test_a_rolled_back_step_is_done_again_from_the_stored_state(session, clock, looping):
    run_id, actor, rebuilt = looping
    _step(session, run_id, actor, clock)
    session.commit()
    stored = session.get(Run, run_id).state
    [action] = open_actions(session, session.get(Run, run_id))
    _step(session, run_id, actor, clock)
    session.rollback()  # the kept engine went one step further than the database
    assert open_actions(session, session.get(Run, run_id)) == [action]
    _step(session, run_id, actor, clock)
    session.commit()
    assert rebuilt == [stored]
    completions = select(func.count(JournalEntry.id)).where(
        JournalEntry.kind == "action_completed", JournalEntry.action_id == action.id
    )
    assert session.scalar(completions) == 1
    assert len(open_actions(session, session.get(Run, run_id))) == 1


def test_no_engine_is_kept_when_the_cache_is_off(session, clock, looping, monkeypatch):
    run_id, actor, rebuilt = looping
    monkeypatch.setattr(engine_cache, "enabled", False)
    engine_cache.clear()
    for _ in range(3):
        _step(session, run_id, actor, clock)
        session.commit()
    assert len(rebuilt) == 3


class _Kept:
    context: dict = {}


def test_the_cache_keeps_a_bounded_number_of_runs(monkeypatch):
    monkeypatch.setattr(engine_cache, "KEPT", 3)
    engine_cache.clear()
    engines = {run_id: _Kept() for run_id in range(10)}
    for run_id, engine in engines.items():
        engine_cache.keep(run_id, engine, {"n": run_id})
    assert engine_cache.take(2, {"n": 2}, {}) is None  # the oldest are forgotten
    assert engine_cache.take(8, {"n": 8}, {"now": 1}) is engines[8]
    assert engines[8].context == {"now": 1}
    assert engine_cache.take(8, {"n": 8}, {}) is None  # taken out while it works
    assert engine_cache.take(9, {"n": 7}, {}) is None  # another state: not this engine, which is dropped
    assert engine_cache.take(9, {"n": 9}, {}) is None
    engine_cache.clear()


def test_the_configuration_sets_how_many_engines_are_kept(database_url, clock):
    from web import create_app

    try:
        create_app({"DATABASE_URL": database_url, "TESTING": True, "CLOCK": clock, "ENGINE_CACHE": 0})
        assert not engine_cache.enabled
        engine_cache.keep(1, _Kept(), {"n": 1})
        assert engine_cache.take(1, {"n": 1}, {}) is None
        create_app({"DATABASE_URL": database_url, "TESTING": True, "CLOCK": clock, "ENGINE_CACHE": 2})
        assert engine_cache.enabled and engine_cache.KEPT == 2
    finally:
        engine_cache.configure(256)
