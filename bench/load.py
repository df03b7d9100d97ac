"""HTTP action completions per second: gunicorn on PostgreSQL, N client processes on loopback, and where one
completion's time goes on this machine.

Seeding (before timing, in-process through the service layer): BENCH_LOAD_RUNS dossiers, each with a run of
rt_loop waiting on its open "Contrôler l'échéance" action. Each client owns a share of the runs and completes
their open actions with the outcome "paid" round and round: every completion is the real path (lock the
run, check, update, history entry, engine step through the gateway, a new action, timers), and every
answer names the next open action of that run.

Baselines measured in the same run: PostgreSQL's own ceiling on this machine, pgbench simple-update (-N)
with the same client count and duration on a scratch database; and the ceiling of the web stack itself, the
lightest authenticated request of the API (GET one action: the token checked, one row read, its JSON) on the
same server with the same clients.

Where the time goes, per request, from the CPU time each process used during the burst (/proc/PID/stat):
the app (gunicorn's master and workers), PostgreSQL (the backends connected to the benchmark's database),
the clients (their own loop), and the rest of the machine's time (cores × seconds / requests): other
processes (the machine is shared) and idle. When idle is near zero the machine is CPU-bound and the
throughput is cores / (CPU per request); the same CPU per request on 4 cores gives the figure printed as
"4 cores".

The server: the configuration the README recommends (gunicorn.conf.py), or with BENCH_LOAD_SERVERS a list
of gunicorn options separated by ";" (e.g. "-w 2;-w 3;-w 4;-w 2 --threads 4"), each measured in the same
run, one after the other, on the same runs.

Sizes: BENCH_LOAD_CLIENTS (8), BENCH_LOAD_SECONDS (20), BENCH_LOAD_RUNS (400).
With BENCH_LOAD_PROFILE=1, the request path is also profiled in-process (cProfile, CPU time)."""

import cProfile
import multiprocessing
import os
import pstats
import re
import resource
import shlex
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "20"))
RUNS = int(os.environ.get("BENCH_LOAD_RUNS", "400"))
ROOT = Path(__file__).resolve().parent.parent
RECOMMENDED = f"-c {ROOT / 'gunicorn.conf.py'}"
SERVERS = [s.strip() for s in os.environ.get("BENCH_LOAD_SERVERS", RECOMMENDED).split(";") if s.strip()]
TARGETS = {"completions": 250, "reads": 700}  # per second, on a 2-core machine
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
TICK = os.sysconf("SC_CLK_TCK")


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


def _client(n: int, port: int, token: str, actions: list[int], ready, start, stop, results, read: bool):
    from tests.e2e.servers import call

    latencies, errors, conflicts = [], 0, 0
    current = list(actions)
    ready.put(n)
    start.wait(120)
    stop_at = stop.value
    used = resource.getrusage(resource.RUSAGE_SELF)
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
    done = resource.getrusage(resource.RUSAGE_SELF)
    cpu = done.ru_utime + done.ru_stime - used.ru_utime - used.ru_stime
    results.put((n, latencies, errors, conflicts, current, cpu))


def _cpu(pids) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far; processes gone are left out."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return found


def _children(pid: int) -> list[int]:
    """The process and its children (gunicorn's master and workers)."""
    found = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def _machine() -> tuple[float, float]:
    """The machine's busy and idle CPU seconds so far, all cores (/proc/stat)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK, (idle + iowait) / TICK


def _backends(database: str) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres") as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (database,)
        )
        return [pid for (pid,) in rows]


class _Server:
    """gunicorn with the given options on a free loopback port, in its own process group."""

    def __init__(self, url: str, options: str, log: Path):
        from tests.e2e.servers import Server

        self.server = Server(url, log=log, options=shlex.split(options))

    def __enter__(self):
        self.server.start()
        return self.server

    def __exit__(self, *_exc):
        self.server.kill()


def _burst(server, database: str, token: str, actions: list[int], read: bool) -> dict:
    context = multiprocessing.get_context("spawn")
    ready, start, stop, results = context.Queue(), context.Event(), context.Value("d", 0.0), context.Queue()
    clients = [
        context.Process(
            target=_client,
            args=(n, server.port, token, actions[n::CLIENTS], ready, start, stop, results, read),
        )
        for n in range(CLIENTS)
    ]
    try:
        for client in clients:
            client.start()
        for _ in clients:  # every client started (imports done) before the clock starts
            ready.get(timeout=120)
        app_pids = _children(server.process.pid)
        app_before, pg_before, machine_before = _cpu(app_pids), _cpu(_backends(database)), _machine()
        began = time.time()
        stop.value = began + SECONDS
        start.set()
        gathered = sorted(results.get(timeout=SECONDS + 120) for _ in clients)
        elapsed = time.time() - began
        machine_after = _machine()
        app_after = _cpu(app_pids)
        pg_after = _cpu(_backends(database))
        for client in clients:
            client.join(30)
    finally:
        for client in clients:
            if client.is_alive():
                client.kill()
    latencies = sorted(x for _, lat, _, _, _, _ in gathered for x in lat)
    conflicts = sum(c for _, _, _, c, _, _ in gathered)
    ok = len(latencies) - conflicts
    current = list(actions)
    for n, _, _, _, theirs, _ in gathered:
        current[n::CLIENTS] = theirs
    busy = machine_after[0] - machine_before[0]
    idle = machine_after[1] - machine_before[1]
    return {
        "requests": ok,
        "per_second": ok / elapsed,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "errors": sum(e for _, _, e, _, _, _ in gathered),
        "conflicts": conflicts,
        "current": current,
        "app": sum(app_after.get(p, t) - t for p, t in app_before.items()),
        "postgres": sum(t - pg_before.get(p, 0.0) for p, t in pg_after.items()),
        "clients": sum(cpu for *_, cpu in gathered),
        "busy": busy,
        "idle": idle,
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


def _verdict(value: float, target: float) -> str:
    return f"target >= {target}/s {'met' if value >= target else 'MISSED'}"


def _report(label: str, figures: dict, target: int) -> None:
    n = figures["requests"] or 1
    ms = {k: figures[k] / n * 1000 for k in ("app", "postgres", "clients", "busy", "idle")}
    ours = ms["app"] + ms["postgres"] + ms["clients"]
    others = max(0.0, ms["busy"] - ours)
    cores = os.cpu_count() or 1
    print(
        f"  {label:<18} {figures['per_second']:7.0f}/s  {_verdict(figures['per_second'], target)}  "
        f"({figures['requests']} in all, p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms, "
        f"errors {figures['errors']}, 409 {figures['conflicts']})"
    )
    print(
        f"  {'':<18} per request, CPU: app {ms['app']:.2f} ms + PostgreSQL {ms['postgres']:.2f} ms + "
        f"clients {ms['clients']:.2f} ms = {ours:.2f} ms; rest of the {cores} cores' time: "
        f"other processes {others:.2f} ms, idle {ms['idle']:.2f} ms"
    )
    server = ms["app"] + ms["postgres"]
    if not server:
        return
    print(
        f"  {'':<18} at this CPU per request: {cores} cores {cores * 1000 / ours:.0f}/s with the clients on "
        f"the machine ({cores * 1000 / server:.0f}/s without them); 4 cores {4000 / ours:.0f}/s "
        f"({4000 / server:.0f}/s without them)"
    )


def _profile(url: str, token: str, actions: list[int], count: int = 300) -> None:
    """The same requests in-process (Flask test client, same database), CPU time: where a request's time
    goes in the app."""
    from runtime.clock import Clock
    from web import create_app

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": Clock()})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    current = actions[:count]
    for label, path in [("completions", "complete"), ("GET one action", "get")]:
        profiler = cProfile.Profile(time.process_time)
        began = time.process_time()
        profiler.enable()
        for index, action_id in enumerate(current):
            if path == "get":
                answer = client.get(f"/api/v1/actions/{action_id}", headers=headers)
                assert answer.status_code == 200, answer.get_json()
                continue
            answer = client.post(
                f"/api/v1/actions/{action_id}/complete",
                json={"status": "done", "outcome": "paid"},
                headers=headers,
            )
            assert answer.status_code == 200, answer.get_json()
            current[index] = answer.get_json()["next_actions"][0]["id"]
        profiler.disable()
        used = time.process_time() - began
        print(f"  in-process {label}, one client, cProfile on: {used / len(current) * 1000:.1f} ms CPU each")
        stats = pstats.Stats(profiler)
        ours = r"(?<!site-packages)/(runtime|web|designer|bpmn|kernel)/"
        stats.sort_stats("cumulative").print_stats(ours, 25)
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
            f"postgresql, {CLIENTS} client processes, {SECONDS:.0f} s per burst; {RUNS} runs of rt_loop "
            f"seeded in {time.perf_counter() - began:.1f} s; {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.2f}"
        )
        log = Path(tempfile.mkdtemp()) / "gunicorn.log"
        for options in SERVERS:
            shown = "gunicorn.conf.py (recommended)" if options == RECOMMENDED else options
            with _Server(url, options, log) as server:
                workers = len(_children(server.process.pid)) - 1
                print(f"gunicorn {shown}: {workers} worker processes")
                completions = _burst(server, name, token, actions, read=False)
                actions = completions["current"]
                reads = _burst(server, name, token, actions, read=True)
            _report("HTTP completions", completions, TARGETS["completions"])
            _report("GET one action", reads, TARGETS["reads"])
        tps = _pgbench()
        print(
            f"  {'pgbench -N':<18} {tps or float('nan'):7.0f} TPS (PostgreSQL alone, same clients and "
            f"duration); load average {os.getloadavg()[0]:.2f}"
        )
        if os.environ.get("BENCH_LOAD_PROFILE") == "1":
            _profile(url, token, actions)
    finally:
        drop()


if __name__ == "__main__":
    main()
