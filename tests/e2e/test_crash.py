"""Crash safety: gunicorn (3 workers) on PostgreSQL is killed with -9 (master and workers at once) twice
in the middle of a burst of completions sent by several client processes, then restarted.

Afterwards: every completion that was answered 200 is in the database (the action is no longer open) and
in the history (exactly one action_completed entry); no answer was a 5xx; the clients finished every run
after the restarts; and the consistency checker (`sequences check`) finds nothing."""

import json
import multiprocessing
import random
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.e2e.servers import Api, Server, database_session, fresh_database, seed_accounts, through

pytestmark = pytest.mark.e2e

PARALLEL_RUNS = 20  # rt_parallel: A and B, then C — 3 completions each
LOOP_RUNS = 20  # rt_loop: "paid" three times, then "last" — 4 completions each
CLIENTS = 4
KILLS = 2
EXPECTED = PARALLEL_RUNS * 3 + LOOP_RUNS * 4


def drive_runs(
    port: int, token: str, runs: list[dict], out: str, acked, epoch, seed: int, deadline: float
) -> None:
    """A client process: drives its runs to the end, one completion at a time, whatever the server does.
    Writes one JSON line per attempt: the action, the answer (a status code, or "lost" when the server
    went away before answering) and the server's epoch (how many times it had been killed)."""
    api = Api([port], token)
    rng = random.Random(seed)
    pending = list(runs)
    with open(out, "a") as log:

        def note(**entry) -> None:
            log.write(json.dumps(entry) + "\n")
            log.flush()

        while pending and time.monotonic() < deadline:
            run = rng.choice(pending)
            action = None
            try:
                status, body = api("GET", f"/runs/{run['id']}")
                if status != 200:
                    note(run=run["id"], action=None, code=status)
                    time.sleep(0.1)
                    continue
                if body["status"] != "running":
                    pending.remove(run)
                    continue
                choice = {"status": "done"}
                if run["sequence"] == "rt_loop":
                    _, done = api("GET", f"/actions?run_id={run['id']}&status=done")
                    choice["outcome"] = "paid" if len(done) < 3 else "last"
                action = rng.choice(body["open_actions"])
                status, _ = api("POST", f"/actions/{action['id']}/complete", choice)
            except OSError:  # refused, reset, cut mid-answer: the server is being killed or restarted
                # With an action: the completion was sent and never answered — committed or not, the next
                # look at the run tells.
                note(
                    run=run["id"],
                    action=action and action["id"],
                    code="lost" if action else "away",
                    epoch=epoch.value,
                )
                time.sleep(0.1)
                continue
            note(run=run["id"], action=action["id"], code=status, epoch=epoch.value)
            if status == 200:
                with acked.get_lock():
                    acked.value += 1


def _wait_for(counter, target: int, limit: float) -> None:
    deadline = time.monotonic() + limit
    while counter.value < target and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.parametrize("path", ["direct", "pgbouncer"])
def test_kill_minus_nine_mid_burst_loses_nothing(tmp_path: Path, path: str):
    """Also through PgBouncer in transaction pooling mode: the transactions of a killed server are rolled
    back by the pooler, and its server connections serve the restarted one."""
    from runtime.check import check_all
    from runtime.journal import JournalEntry, Kind
    from runtime.models import Action, ActionStatus, Run, RunStatus

    with fresh_database() as url, through(path, url) as app_url:
        pooled = {"SEQUENCES_DATABASE_POOLER": "transaction"} if path == "pgbouncer" else {}
        tokens = seed_accounts(url)
        server = Server(app_url, workers=3, log=tmp_path / "gunicorn.log", **pooled).start()
        clients: list[multiprocessing.Process] = []
        try:
            Api([server.port], tokens["analyst"]).publish("rt_parallel")
            Api([server.port], tokens["analyst"]).publish("rt_loop")
            api = Api([server.port], tokens["manager"])
            runs = [api.dossier_with_run(f"CRASH-P{n}", "rt_parallel") for n in range(PARALLEL_RUNS)]
            runs += [api.dossier_with_run(f"CRASH-L{n}", "rt_loop") for n in range(LOOP_RUNS)]
            runs = [{"id": r["id"], "sequence": r["sequence"]} for r in runs]

            context = multiprocessing.get_context("spawn")
            acked, epoch = context.Value("i", 0), context.Value("i", 0)
            deadline = time.monotonic() + 300
            for n in range(CLIENTS):
                clients.append(
                    context.Process(
                        target=drive_runs,
                        args=(
                            server.port,
                            tokens["manager"],
                            runs[n::CLIENTS],
                            str(tmp_path / f"client{n}.jsonl"),
                            acked,
                            epoch,
                            n,
                            deadline,
                        ),
                    )
                )
            for client in clients:
                client.start()
            at_kill = []
            for kill in range(1, KILLS + 1):
                _wait_for(acked, EXPECTED * kill // (KILLS + 1), 120)
                server.kill()
                at_kill.append(acked.value)
                with epoch.get_lock():
                    epoch.value += 1
                time.sleep(0.3)  # the clients keep knocking on a closed port meanwhile
                server.start()
            for client in clients:
                client.join(max(1.0, deadline - time.monotonic() + 10))
            assert all(c.exitcode == 0 for c in clients), [c.exitcode for c in clients]
        finally:
            for client in clients:
                if client.is_alive():
                    client.kill()
                    client.join(10)
            server.kill()

        lines = [
            line for n in range(CLIENTS) for line in (tmp_path / f"client{n}.jsonl").read_text().splitlines()
        ]
        attempts = [json.loads(line) for line in lines]
        codes = Counter(str(a["code"]) for a in attempts)
        ok = {a["action"] for a in attempts if a["code"] == 200}
        assert len(ok) == sum(1 for a in attempts if a["code"] == 200), "an action was acknowledged twice"
        assert not [code for code in codes if code.isdigit() and int(code) >= 500], codes

        with database_session(url) as session:
            status = dict(session.execute(select(Action.id, Action.status)).all())
            entries = Counter(
                session.scalars(
                    select(JournalEntry.action_id).where(JournalEntry.kind == Kind.ACTION_COMPLETED.value)
                )
            )
            run_status = Counter(session.scalars(select(Run.status)))
            done = session.scalar(
                select(func.count()).select_from(Action).where(Action.status == ActionStatus.DONE)
            )
            problems = check_all(session)

        lost_acks = [i for i in ok if status.get(i) != ActionStatus.DONE or entries[i] != 1]
        print(
            f"\ncrash: {KILLS} kill -9 of gunicorn (master + 3 workers) during {EXPECTED} completions by "
            f"{CLIENTS} clients; acknowledged before each kill: {at_kill}; acknowledged in all: {len(ok)}; "
            f"checked after restart: {len(ok)} in the database and the history, {len(lost_acks)} missing; "
            f"done in the database: {done} (committed but unanswered: {done - len(ok)}); "
            f"answers {dict(codes)}"
        )
        assert lost_acks == []
        assert all(n == 1 for n in entries.values()), "an action completed twice in the history"
        assert done == EXPECTED == sum(entries.values())
        assert run_status == Counter({RunStatus.COMPLETED: PARALLEL_RUNS + LOOP_RUNS}), run_status
        assert [str(p) for p in problems] == []
        assert at_kill[-1] < EXPECTED and codes["away"] + codes["lost"] > 0, (
            "the kills did not land mid-burst"
        )
