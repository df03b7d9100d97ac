"""End to end: a real `sequences worker` process fires a real PT2S timer in a SQLite file.

The only test that waits for a timer in real time: it polls the database for at most 20 seconds."""

import signal
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select

from tests.integration.timer_helpers import finish, output_of, start_worker

pytestmark = pytest.mark.e2e


def _prepare(url: str) -> int:
    from flask_migrate import upgrade

    from runtime.clock import Clock
    from tests.integration.timer_helpers import launch_many, publish
    from web import create_app
    from web.extensions import db

    app = create_app({"DATABASE_URL": url, "TESTING": True, "EMBEDDED_WORKER": False, "SECRET_KEY": "test",
                      "CLOCK": Clock()})
    with app.app_context():
        upgrade()
        publish(db.session, "tm_pause", now=datetime.now(UTC))
        [run_id] = launch_many(db.session, "tm_pause", 1, datetime.now(UTC), prefix="E2E")
        db.session.remove()
        db.engine.dispose()
    return run_id


def test_a_real_worker_fires_a_two_second_timer(tmp_path):
    from runtime.journal import JournalEntry, Kind
    from runtime.models import Action, Timer

    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    run_id = _prepare(url)
    worker = start_worker(url, "--interval", "0.2")
    engine = create_engine(url)
    try:
        fired = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and worker.poll() is None:
            with engine.connect() as conn:
                fired = conn.execute(select(Timer.due_at, Timer.fired_at, Timer.claimed_by)
                                     .where(Timer.run_id == run_id, Timer.fired_at.is_not(None))).first()
            if fired:
                break
            time.sleep(0.2)
        assert fired is not None, output_of(worker)
        due_at, fired_at, claimed_by = fired
        assert fired_at >= due_at  # never early
        assert claimed_by.endswith(f":{worker.pid}")
        with engine.connect() as conn:
            actions = conn.execute(select(Action.element_id, Action.status)
                                   .where(Action.run_id == run_id)).all()
            kinds = conn.scalars(select(JournalEntry.kind).where(JournalEntry.run_id == run_id)
                                 .order_by(JournalEntry.id)).all()
            actor = conn.scalar(select(JournalEntry.actor).where(JournalEntry.kind == Kind.TIMER_FIRED.value))
        assert actions == [("Remind", "open")]
        assert kinds.count(Kind.TIMER_FIRED.value) == 1 and actor == "system:timer"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0, output_of(worker)
    finally:
        finish(worker)
        engine.dispose()
