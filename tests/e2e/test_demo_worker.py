"""`sequences demo`, twice, while a real `sequences worker` polls the same database every 0.1 s (as the worker
inside `sequences serve` does on a user's machine), on a SQLite file and on PostgreSQL.

The demo dates its stories in the past and leaves only timers due in the future: the worker must find nothing
to fire or send, before, during or after the demo, and the demo must load every dossier whole."""

import subprocess
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.e2e.servers import SEQUENCES, Worker, database_session, environment, fresh_database

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    if request.param == "postgresql":
        with fresh_database() as url:
            yield url
        return
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    subprocess.run([SEQUENCES, "db", "upgrade"], env=environment(url), check=True, capture_output=True,
                   timeout=120)
    yield url


def _demo(url: str) -> str:
    done = subprocess.run([SEQUENCES, "demo"], env=environment(url), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_demo_twice_while_a_worker_polls_the_database(database, tmp_path):
    from runtime.communications.models import Communication
    from runtime.journal import JournalEntry
    from runtime.models import Dossier, Run, RunStatus, Timer
    from web.demo import CASES

    log = tmp_path / "worker.log"
    worker = Worker(database, log, SEQUENCES_WORKER_INTERVAL_SECONDS="0.1")
    try:
        deadline = time.monotonic() + 60
        while "started" not in log.read_text() and worker.process.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        started = log.read_text()
        assert "started (batch 100, every 0.10 s at most" in started, started
        # On PostgreSQL the worker listens for new timers; on SQLite it only polls.
        assert ("woken by new timers" in started) == database.startswith("postgresql"), started
        before = datetime.now(UTC)
        assert f"Dossiers : {len(CASES)} créé(s), 0 déjà présent(s)." in _demo(database)
        assert f"Dossiers : 0 créé(s), {len(CASES)} déjà présent(s)." in _demo(database)
        time.sleep(1)  # ten more passes of the worker over the loaded demo
        assert worker.process.poll() is None, log.read_text()
    finally:
        worker.stop()
    with database_session(database) as session:
        assert session.scalar(select(func.count()).select_from(Dossier)) == len(CASES)
        assert RunStatus.FAILED not in set(session.scalars(select(Run.status)))
        # Everything the demo did is dated in its stories' past; the worker, which acts now, did nothing.
        assert session.scalar(select(func.max(JournalEntry.at))) < before
        claimed = select(func.count()).select_from(Timer).where(Timer.claimed_by.is_not(None))
        assert session.scalar(claimed) == 0
        pending = select(Timer.due_at).where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        assert min(session.scalars(pending)) > before
        assert session.scalar(select(func.max(Communication.sent_at))) < before
    assert "claimed" not in log.read_text(), log.read_text()
    check = subprocess.run([SEQUENCES, "check"], env=environment(database), capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
