"""Scale-out as the README runs it: 3 gunicorn app servers (round-robin from the client) + 2 `sequences
worker` processes + PostgreSQL, on loopback.

Dossiers go through a real two-second timer (tests/data/bpmn/scale/sc_timer.bpmn: Open, PT2S, Close with
an interrupting one-hour boundary timer): every request goes to the next server, both workers claim timers.
Every PT2S timer fires exactly once (one timer_fired entry per run), every boundary timer is cancelled when
Close is completed, every run completes, and `sequences check` finds nothing."""

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.servers import Api, Server, Worker, database_session, fresh_database, seed_accounts, through

pytestmark = pytest.mark.e2e

DOSSIERS = 12
SERVERS = 3
WORKERS = 2


def _wait_until(condition, limit: float, every: float = 0.25):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    return condition()


@pytest.mark.parametrize("path", ["direct", "pgbouncer"])
def test_three_app_servers_two_workers(tmp_path: Path, path: str):
    """Directly on PostgreSQL, and through PgBouncer in transaction pooling mode (fewer server connections
    than app processes and workers): row locks, SKIP LOCKED claims and statements all still hold. Without
    SEQUENCES_DATABASE_POOLER=transaction the pooled run fails: statements psycopg prepared on one server
    connection are missing on the next."""
    from runtime.check import check_all
    from runtime.journal import JournalEntry, Kind
    from runtime.models import Run, RunStatus, Timer

    with fresh_database() as url, through(path, url) as app_url:
        pooled = {"SEQUENCES_DATABASE_POOLER": "transaction"} if path == "pgbouncer" else {}
        tokens = seed_accounts(url)
        servers: list[Server] = []
        workers: list[Worker] = []
        try:
            for n in range(SERVERS):
                log = tmp_path / f"gunicorn{n}.log"
                servers.append(Server(app_url, workers=1, log=log, **pooled).start())
            ports = [s.port for s in servers]
            for n in range(WORKERS):
                log = tmp_path / f"worker{n}.log"
                interval = {"SEQUENCES_WORKER_INTERVAL_SECONDS": "0.2", **pooled}
                workers.append(Worker(app_url, log, "--interval", "0.2", **interval))
            Api(ports, tokens["analyst"]).publish("sc_timer", folder="scale")
            api = Api(ports, tokens["manager"])
            runs = [api.dossier_with_run(f"SCALE-{n}", "sc_timer") for n in range(DOSSIERS)]
            for run in runs:
                [action] = run["open_actions"]
                _, answer = api("POST", f"/actions/{action['id']}/complete", {"status": "done"}, expect=200)
                assert answer["run"]["active_elements"] == ["Wait"], answer["run"]
            run_ids = [r["id"] for r in runs]

            def closes_open():
                found = {}
                for run_id in run_ids:
                    _, run = api("GET", f"/runs/{run_id}", expect=200)
                    if [a["element_id"] for a in run["open_actions"]] != ["Close"]:
                        return None
                    found[run_id] = run["open_actions"][0]["id"]
                return found

            closes = _wait_until(closes_open, 60)
            assert closes, [w.log.read_text()[-2000:] for w in workers]
            for action_id in closes.values():
                api("POST", f"/actions/{action_id}/complete", {"status": "done"}, expect=200)
            for run_id in run_ids:
                _, run = api("GET", f"/runs/{run_id}", expect=200)
                assert run["status"] == "completed", run
            time.sleep(1)  # a few more passes of both workers: nothing else may fire
            exits = [w.stop() for w in workers]
            assert exits == [0] * WORKERS, [w.log.read_text()[-2000:] for w in workers]
        finally:
            for worker in workers:
                worker.stop()
            for server in servers:
                server.kill()

        with database_session(url) as session:
            fired = Counter(
                session.scalars(
                    select(JournalEntry.run_id).where(JournalEntry.kind == Kind.TIMER_FIRED.value)
                )
            )
            timers = session.execute(
                select(
                    Timer.element_id,
                    Timer.fired_at.is_not(None),
                    Timer.cancelled_at.is_not(None),
                    Timer.claimed_by,
                )
            ).all()
            statuses = Counter(session.scalars(select(Run.status)))
            problems = [str(p) for p in check_all(session)]
        by_worker = Counter(claimed.rsplit(":", 1)[-1] for _, done, _, claimed in timers if done)
        print(
            f"\nscale-out: {SERVERS} app servers, {WORKERS} workers, {DOSSIERS} dossiers; "
            f"timer_fired entries {sum(fired.values())} over {len(fired)} runs; "
            f"fired per worker pid {dict(by_worker)}"
        )
        assert fired == Counter({run_id: 1 for run_id in run_ids})
        assert Counter((e, done, cancelled) for e, done, cancelled, _ in timers) == Counter(
            {("Wait", True, False): DOSSIERS, ("TooLate", False, True): DOSSIERS}
        )
        assert statuses == Counter({RunStatus.COMPLETED: DOSSIERS})
        assert problems == []
