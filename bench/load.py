"""HTTP action completions per second: gunicorn (2 workers) on PostgreSQL, N client processes on loopback.

Seeding (before timing, in-process through the service layer): BENCH_LOAD_RUNS dossiers, each with a run of
rt_loop waiting on its open "Contrôler l'échéance" action. Each client owns a share of the runs and completes
their open actions with the outcome "paid" round and round: every completion is the real path (lock the
run, check, update, history entry, engine step through the gateway, a new action, timers), and every
answer names the next open action of that run.

Baselines measured in the same run: PostgreSQL's own ceiling on this machine, pgbench simple-update (-N)
with the same client count and duration on a scratch database; and the ceiling of the web stack itself, the
lightest authenticated request of the API (GET one action: the token checked, one row read, its JSON) on the
same server with the same clients.

Sizes: BENCH_LOAD_CLIENTS (8), BENCH_LOAD_SECONDS (20), BENCH_LOAD_RUNS (400), BENCH_LOAD_WORKERS (2).
With BENCH_LOAD_PROFILE=1 (or below the target), the request path is profiled in-process (cProfile)."""

import cProfile
import multiprocessing
import os
import pstats
import re
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
RUNS = int(os.environ.get("BENCH_LOAD_RUNS", "400"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "2"))
TARGET = 300
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _database(prefix: str):
    """A new PostgreSQL database: its name, and the function that drops it."""
    from tests.scratch import create_database

    url, drop = create_database(prefix)
    return url.rsplit("/", 1)[1], drop


def _seed(url: str) -> tuple[str, list[int]]:
    """The manager's token and, per run, its open action."""
    from designer import services as designer
    from kernel.accounts import create_token, create_user
    from runtime.actors import system
    from runtime.clock import Clock
    from runtime.dossiers import create_dossier
    from runtime.runs import launch_run
    from runtime.stepper import open_actions
    from tests.factories import DATA
    from web import create_app
    from web.extensions import db

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": Clock()})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        session, now, actor = db.session, datetime.now(UTC), system("bench")
        user = create_user(
            session,
            email="manager@example.test",
            name="Manager",
            kind="internal",
            role="manager",
            password="correct horse",
            now=now,
        )
        token = create_token(session, user, now)
        designer.save_draft(session, (DATA / "bpmn" / "runtime" / "rt_loop.bpmn").read_bytes(), None, now)
        designer.publish_version(session, "rt_loop", None, now)
        actions = []
        for n in range(RUNS):
            dossier = create_dossier(session, actor, f"LOAD-{n}", f"Dossier {n}", {}, now)
            run = launch_run(session, dossier.id, actor, now, sequence="rt_loop", allow_unassigned=True)
            [action] = open_actions(session, run)
            actions.append(action.id)
            if n % 100 == 99:
                session.commit()
        session.commit()
        db.session.remove()
        db.engine.dispose()
    return token, actions


def _client(port: int, token: str, actions: list[int], start, stop_at: float, results, read: bool) -> None:
    from tests.e2e.servers import call

    latencies, errors, conflicts = [], 0, 0
    current = list(actions)
    start.wait(60)
    turn = 0
    while time.time() < stop_at:
        index = turn % len(current)
        turn += 1
        began = time.perf_counter()
        try:
            if read:
                status, body = call(port, "GET", f"/api/v1/actions/{current[index]}", token)
            else:
                status, body = call(
                    port,
                    "POST",
                    f"/api/v1/actions/{current[index]}/complete",
                    token,
                    {"status": "done", "outcome": "paid"},
                )
        except OSError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - began)
        if status == 200:
            if not read:
                current[index] = body["next_actions"][0]["id"]
        elif status == 409:
            conflicts += 1
        else:
            errors += 1
    results.put((latencies, errors, conflicts))


def _http(url: str, token: str, actions: list[int]) -> tuple[dict, dict]:
    """Completions, then reads of one action, on the same server."""
    from tests.e2e.servers import Server

    log = Path(tempfile.mkdtemp()) / "gunicorn.log"
    server = Server(url, workers=WORKERS, log=log).start()
    try:
        return _burst(server.port, token, actions, read=False), _burst(server.port, token, actions, read=True)
    finally:
        server.kill()


def _burst(port: int, token: str, actions: list[int], read: bool) -> dict:
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    stop_at = time.time() + 3 + SECONDS  # the clients take about a second to start
    clients = [
        context.Process(
            target=_client, args=(port, token, actions[n::CLIENTS], start, stop_at, results, read)
        )
        for n in range(CLIENTS)
    ]
    try:
        for client in clients:
            client.start()
        time.sleep(max(0.0, stop_at - SECONDS - time.time()))
        began = time.time()
        start.set()
        gathered = [results.get(timeout=SECONDS + 120) for _ in clients]
        elapsed = time.time() - began
        for client in clients:
            client.join(30)
    finally:
        for client in clients:
            if client.is_alive():
                client.kill()
    latencies = sorted(x for lat, _, _ in gathered for x in lat)
    ok = len(latencies) - sum(c for _, _, c in gathered)
    return {
        "requests": ok,
        "per_second": ok / elapsed,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "errors": sum(e for _, e, _ in gathered),
        "conflicts": sum(c for _, _, c in gathered),
    }


def _pgbench() -> float | None:
    name, drop = _database("load_pgbench")
    base = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "5", *base, name], check=True, capture_output=True, timeout=300
        )
        done = subprocess.run(
            ["pgbench", "-N", "-c", str(CLIENTS), "-j", "2", "-T", str(int(SECONDS)), *base, name],
            check=True,
            capture_output=True,
            text=True,
            timeout=SECONDS + 120,
        )
    except (OSError, subprocess.SubprocessError) as error:
        print(f"  pgbench failed: {error}")
        return None
    finally:
        drop()
    found = re.search(
        r"tps = ([\d.]+) \((?:without initial connection time|excluding connections)", done.stdout
    )
    return float(found.group(1)) if found else None


def _profile(url: str, token: str, actions: list[int], count: int = 300) -> None:
    """The same request in-process (Flask test client, same database): where a completion's time goes."""
    from runtime.clock import Clock
    from web import create_app

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": Clock()})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    # The seeded actions were completed by the HTTP clients: take the runs' current open actions.
    found = client.get(f"/api/v1/actions?status=open&limit={count}", headers=headers).get_json()
    current = [a["id"] for a in found]
    count = len(current)
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for index, action_id in enumerate(current):
        answer = client.post(
            f"/api/v1/actions/{action_id}/complete",
            json={"status": "done", "outcome": "paid"},
            headers=headers,
        )
        assert answer.status_code == 200, answer.get_json()
        current[index] = answer.get_json()["next_actions"][0]["id"]
    profiler.disable()
    elapsed = time.perf_counter() - began
    print(
        f"  in-process, one client, cProfile on: {count / elapsed:.0f} completions/s "
        f"({elapsed / count * 1000:.1f} ms each); top cumulative time:"
    )
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(r"(?<!site-packages)/(runtime|web|designer|bpmn)/", 25)
    stats.sort_stats("tottime").print_stats(20)
    with app.app_context():
        from web.extensions import db

        db.engine.dispose()


def main() -> None:
    from tests.conftest import postgres_answers

    if not postgres_answers():
        print("skipped: PostgreSQL does not answer at 127.0.0.1:5432")
        return
    name, drop = _database("load_bench")
    url = f"{PG}/{name}"
    try:
        began = time.perf_counter()
        token, actions = _seed(url)
        print(
            f"postgresql, gunicorn -w {WORKERS}, {CLIENTS} client processes, {SECONDS:.0f} s; "
            f"{RUNS} runs of rt_loop seeded in {time.perf_counter() - began:.1f} s ({os.cpu_count()} cores)"
        )
        http, reads = _http(url, token, actions)
        tps = _pgbench()
        ratio = http["per_second"] / tps if tps else float("nan")
        print(
            f"  {'HTTP completions':<22} {http['per_second']:8.0f}/s  ({http['requests']} in all, "
            f"p50 {http['p50']:.1f} ms, p99 {http['p99']:.1f} ms, errors {http['errors']}, "
            f"409 {http['conflicts']})"
        )
        print(
            f"  {'GET one action':<22} {reads['per_second']:8.0f}/s  (same server and clients: the web "
            f"stack's ceiling; p50 {reads['p50']:.1f} ms, errors {reads['errors']})"
        )
        print(f"  {'pgbench -N (ceiling)':<22} {tps or float('nan'):8.0f} TPS  (same clients and duration)")
        print(
            f"  ratio completions/pgbench TPS: {ratio:.3f}; completions/GET: "
            f"{http['per_second'] / reads['per_second']:.2f}; target >= {TARGET}/s: "
            f"{'met' if http['per_second'] >= TARGET else 'MISSED'}"
        )
        if http["per_second"] < TARGET or os.environ.get("BENCH_LOAD_PROFILE") == "1":
            _profile(url, token, actions)
    finally:
        drop()


if __name__ == "__main__":
    main()
