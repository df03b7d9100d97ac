"""Concurrency at load: gunicorn (3 workers) on PostgreSQL, several client processes at once.

Every client tries to complete every action of the shared runs (rt_parallel: A and B, then C once both are
done), each in its own random order, while also driving runs of its own (rt_loop). Each shared action must
be won exactly once (200) and lost by every other client (409); no answer is a 5xx (no deadlock or
serialization failure escapes); nothing is lost: the database, the history and the counts agree."""

import json
import multiprocessing
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.servers import Api, Server, database_session, fresh_database, seed_accounts

pytestmark = pytest.mark.e2e

CLIENTS = 6
SHARED_RUNS = 30  # rt_parallel, raced on by every client: 90 actions
OWN_RUNS = 4  # rt_loop per client, "paid" three times then "last": 4 completions each


def race(port: int, token: str, shared: list[int], own: list[int], out: str, barrier, seed: int) -> None:
    api = Api([port], token)
    rng = random.Random(seed)
    own_left = {run_id: 0 for run_id in own}

    with open(out, "a") as log:

        def complete(action_id: int, shared_action: bool, **choice) -> int:
            status, body = api("POST", f"/actions/{action_id}/complete", {"status": "done", **choice})
            log.write(json.dumps({"action": action_id, "shared": shared_action, "code": status}) + "\n")
            return status

        def step_own() -> None:
            """One completion in one of this client's own runs (nobody else touches them)."""
            if not own_left:
                return
            run_id = rng.choice(list(own_left))
            _, run = api("GET", f"/runs/{run_id}", expect=200)
            if run["status"] != "running":
                del own_left[run_id]
                return
            [action] = run["open_actions"]
            outcome = "paid" if own_left[run_id] < 3 else "last"
            if complete(action["id"], False, outcome=outcome) == 200:
                own_left[run_id] += 1

        def rush(action_ids: list[int]) -> None:
            order = list(action_ids)
            rng.shuffle(order)
            for n, action_id in enumerate(order):
                complete(action_id, True)
                if n % 4 == 0:
                    step_own()

        barrier.wait(120)
        rush(shared)
        barrier.wait(120)  # every A and B is done: every C is open
        _, open_now = api("GET", "/actions?status=open&limit=1000", expect=200)
        barrier.wait(120)  # every client has listed every C before anyone completes one
        rush([a["id"] for a in open_now if a["element_id"] == "C"])
        deadline = time.monotonic() + 120
        while own_left and time.monotonic() < deadline:
            step_own()


def test_many_clients_race_without_loss_or_5xx(tmp_path: Path):
    from runtime.check import check_all
    from runtime.journal import JournalEntry, Kind
    from runtime.models import Action, ActionStatus, Run, RunStatus

    with fresh_database() as url:
        tokens = seed_accounts(url)
        server = Server(url, workers=3, log=tmp_path / "gunicorn.log").start()
        clients: list[multiprocessing.Process] = []
        try:
            Api([server.port], tokens["analyst"]).publish("rt_parallel")
            Api([server.port], tokens["analyst"]).publish("rt_loop")
            api = Api([server.port], tokens["manager"])
            shared = [api.dossier_with_run(f"RACE-{n}", "rt_parallel") for n in range(SHARED_RUNS)]
            shared_actions = [a["id"] for run in shared for a in run["open_actions"]]
            own = [
                [api.dossier_with_run(f"OWN-{c}-{n}", "rt_loop")["id"] for n in range(OWN_RUNS)]
                for c in range(CLIENTS)
            ]
            context = multiprocessing.get_context("spawn")
            barrier = context.Barrier(CLIENTS)
            for c in range(CLIENTS):
                out = str(tmp_path / f"client{c}.jsonl")
                args = (server.port, tokens["manager"], shared_actions, own[c], out, barrier, c)
                clients.append(context.Process(target=race, args=args))
            started = time.monotonic()
            for client in clients:
                client.start()
            for client in clients:
                client.join(300)
            elapsed = time.monotonic() - started
            assert [c.exitcode for c in clients] == [0] * CLIENTS, server.tail()
        finally:
            for client in clients:
                if client.is_alive():
                    client.kill()
                    client.join(10)
            server.kill()

        attempts = [
            json.loads(line)
            for c in range(CLIENTS)
            for line in (tmp_path / f"client{c}.jsonl").read_text().splitlines()
        ]
        codes = Counter(a["code"] for a in attempts)
        wins: dict[int, int] = defaultdict(int)
        for attempt in attempts:
            wins[attempt["action"]] += attempt["code"] == 200
        shared_ids = {a["action"] for a in attempts if a["shared"]}
        own_completions = CLIENTS * OWN_RUNS * 4
        print(
            f"\nraces: {CLIENTS} clients, {len(attempts)} completions attempted in {elapsed:.1f} s "
            f"({len(attempts) / elapsed:.0f}/s) on gunicorn -w 3; answers {dict(codes)}; "
            f"{len(shared_ids)} shared actions each won once; {own_completions} own completions"
        )
        assert set(codes) <= {200, 409}, codes
        assert len(shared_ids) == SHARED_RUNS * 3
        assert all(wins[i] == 1 for i in shared_ids), {i: wins[i] for i in shared_ids if wins[i] != 1}
        assert codes[409] == (CLIENTS - 1) * len(shared_ids)
        assert codes[200] == len(shared_ids) + own_completions

        with database_session(url) as session:
            statuses = Counter(session.scalars(select(Action.status)))
            entries = Counter(
                session.scalars(
                    select(JournalEntry.action_id).where(JournalEntry.kind == Kind.ACTION_COMPLETED.value)
                )
            )
            runs = Counter(session.scalars(select(Run.status)))
            problems = [str(p) for p in check_all(session)]
        assert statuses == Counter({ActionStatus.DONE: codes[200]})
        assert sum(entries.values()) == codes[200] and set(entries.values()) == {1}
        assert runs == Counter({RunStatus.COMPLETED: SHARED_RUNS + CLIENTS * OWN_RUNS})
        assert problems == []
