"""The revision that makes timers announce themselves upgrades a database made by the previous schema with
timers pending: on PostgreSQL a timer committed afterwards is announced on the worker's channel, the pending
ones still fire; on SQLite nothing changes (its workers poll)."""

import threading

from sqlalchemy import text

from tests.conftest import START

PREVIOUS = "e2a9d4c6b813"  # the revision below the announcing trigger


def _triggers(db) -> set[str]:
    if db.engine.dialect.name != "postgresql":
        return set()
    query = text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'timers'::regclass AND NOT tgisinternal")
    return set(db.session.scalars(query))


def test_upgrade_makes_new_timers_wake_sleeping_workers(empty_url):
    from flask_migrate import downgrade, upgrade

    from runtime import timers
    from runtime.clock import FixedClock
    from tests.integration.timer_helpers import fired_per_run, launch_many, publish
    from web import create_app
    from web.extensions import db

    clock = FixedClock(START)
    app = create_app({"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": clock})
    with app.app_context():
        upgrade(revision=PREVIOUS)
        publish(db.session, "tm_tiny", now=clock.now())
        before = launch_many(db.session, "tm_tiny", 2, clock.now())  # two PT2S timers pending
        db.session.remove()
        upgrade()
        postgres = db.engine.dialect.name == "postgresql"
        assert _triggers(db) == ({"timers_announce_insert", "timers_announce_update"} if postgres else set())
        db.session.rollback()
        bell = timers.Bell(db.engine)
        bell.open()
        try:
            assert bell.listening is postgres
            later = launch_many(db.session, "tm_tiny", 1, clock.now(), prefix="N")
            assert bell.sleep(30 if postgres else 0.05, threading.Event(), clock.now()) is postgres
        finally:
            bell.close()
        clock.advance(seconds=2)
        assert timers.run_once(db.session, "w", clock).fired == 3
        assert fired_per_run(db.session) == {run_id: 1 for run_id in before + later}
        db.session.remove()
        downgrade(revision=PREVIOUS)
        assert _triggers(db) == set()
        db.session.remove()
        db.engine.dispose()
