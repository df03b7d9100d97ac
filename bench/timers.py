"""The timer worker on PostgreSQL: real `sequences worker` processes, real time, today's code and the
baseline (bench/baseline.py: an earlier commit's worker) in turn, in the same run.

1. 10,000 timers due at the same instant, drained by 1 then by 2 worker processes: every timer fired, none
   twice (TIMER_FIRED history entries per run); time to drain, p50/p99 lateness (fired_at - due_at).
   Targets: <= 40 s with 1 worker, <= 20 s (>= 500/s) with 2.
2. Timers spread evenly over a minute, 1 worker: p50/p99 lateness (target: p99 <= 0.25 s).

Seeding goes around the service layer for speed: one run of a tiny sequence (start, PT2S timer, end) is
launched for real, then its state row is copied into thousands of dossiers/runs/timers in bulk.
Sizes: BENCH_TIMERS (10000), BENCH_SPREAD_TIMERS (600, i.e. 10 a second), BENCH_SPREAD_SECONDS (60)."""

import os
import signal
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import baseline

BURST = int(os.environ.get("BENCH_TIMERS", "10000"))
SPREAD = int(os.environ.get("BENCH_SPREAD_TIMERS", "600"))
SPREAD_SECONDS = float(os.environ.get("BENCH_SPREAD_SECONDS", "60"))
BATCH = 100
CHUNK = 2000
DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "bpmn" / "timers" / "tm_tiny.bpmn"


def _app(url: str):
    from flask_migrate import upgrade

    from runtime.clock import Clock
    from web import create_app

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": Clock(), "TESTING": True})
    with app.app_context():
        upgrade()
    return app


def _template(app) -> dict:
    """One real run waiting on its timer: what every seeded run copies."""
    from designer import services as designer
    from runtime.actors import system
    from runtime.dossiers import create_dossier
    from runtime.models import Run, Timer
    from runtime.runs import launch_run
    from web.extensions import db

    with app.app_context():
        session = db.session
        now = datetime.now(UTC)
        designer.save_draft(session, DATA.read_bytes(), None, now)
        designer.publish_version(session, "tm_tiny", None, now)
        dossier = create_dossier(session, system("bench"), "TEMPLATE", "Modèle", {}, now)
        run = launch_run(session, dossier.id, system("bench"), now, sequence="tm_tiny", allow_unassigned=True)
        session.commit()
        timer = session.query(Timer).filter_by(run_id=run.id).one()
        run = session.get(Run, run.id)
        return {"version_id": run.version_id, "state": run.state, "active_elements": run.active_elements,
                "waiting_messages": run.waiting_messages, "called_versions": run.called_versions,
                "step": run.step, "element_id": timer.element_id, "task_id": timer.task_id}


def _seed(app, template: dict, due: list[datetime], tag: str) -> None:
    from sqlalchemy import insert, select

    from runtime.models import Dossier, Run, Timer
    from web.extensions import db

    now = datetime.now(UTC)
    with app.app_context():
        session = db.session
        for start in range(0, len(due), CHUNK):
            part = due[start:start + CHUNK]
            refs = [f"{tag}-{start + n}" for n in range(len(part))]
            session.execute(insert(Dossier), [{"reference": r, "title": r, "data": {}, "created_at": now,
                                               "updated_at": now} for r in refs])
            dossier_ids = dict(session.execute(select(Dossier.reference, Dossier.id)
                                               .where(Dossier.reference.in_(refs))).all())
            session.execute(insert(Run), [{
                "dossier_id": dossier_ids[r], "version_id": template["version_id"], "status": "running",
                "called_versions": template["called_versions"], "state": template["state"],
                "active_elements": template["active_elements"],
                "waiting_messages": template["waiting_messages"],
                "revision": 1, "started_at": now, "started_by": "system:bench", "step": template["step"],
            } for r in refs])
            run_ids = dict(session.execute(select(Run.dossier_id, Run.id)
                                           .where(Run.dossier_id.in_(dossier_ids.values()))).all())
            session.execute(insert(Timer), [{
                "run_id": run_ids[dossier_ids[r]], "element_id": template["element_id"],
                "task_id": template["task_id"], "due_at": at, "created_at": now, "attempts": 0,
            } for r, at in zip(refs, part, strict=True)])
            session.commit()


def _reset(app) -> None:
    from sqlalchemy import text

    from web.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("TRUNCATE journal, checkpoints, actions, timers, run_roles, runs, "
                          "participant_roles, participants, dossiers RESTART IDENTITY CASCADE"))


def _workers(url: str, count: int, tree: Path | None) -> list[tuple[subprocess.Popen, object]]:
    command, extra = baseline.sequences(tree)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEQUENCES_")}
    env.update(extra, SEQUENCES_DATABASE_URL=url)
    # stderr (the log) goes to a file: a pipe nobody reads would block a talkative worker.
    logs = [tempfile.TemporaryFile() for _ in range(count)]
    return [(subprocess.Popen([*command, "worker", "--batch", str(BATCH)], env=env, stdout=log,
                              stderr=subprocess.STDOUT), log) for log in logs]


def _stop(workers: list[tuple[subprocess.Popen, object]]) -> list[int]:
    for worker, _ in workers:
        worker.send_signal(signal.SIGTERM)
    codes = []
    for worker, log in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        codes.append(worker.returncode)
        log.seek(0)
        text = log.read().decode(errors="replace")
        log.close()
        errors = [line for line in text.splitlines() if " ERROR " in line]
        if worker.returncode or errors:
            print(f"    worker {worker.pid}: exit {worker.returncode}, {len(errors)} error(s), log:")
            print("    " + text[-1500:].replace("\n", "\n    "))
    return codes


def _wait_drained(app, total: int, limit: float) -> bool:
    from sqlalchemy import func, select

    from runtime.models import Timer
    from web.extensions import db

    deadline = time.monotonic() + limit
    with app.app_context():
        while time.monotonic() < deadline:
            fired = db.session.scalar(select(func.count()).select_from(Timer)
                                      .where(Timer.fired_at.is_not(None)))
            db.session.rollback()
            if fired >= total:
                return True
            time.sleep(0.2)
    return False


def _measure(app, total: int) -> dict:
    from sqlalchemy import func, select

    from runtime.journal import JournalEntry, Kind
    from runtime.models import Run, Timer
    from web.extensions import db

    with app.app_context():
        session = db.session
        rows = session.execute(select(Timer.due_at, Timer.fired_at).where(Timer.fired_at.is_not(None))).all()
        per_run = select(JournalEntry.run_id, func.count().label("n")).where(
            JournalEntry.kind == Kind.TIMER_FIRED.value).group_by(JournalEntry.run_id).subquery()
        twice = session.scalar(select(func.count()).select_from(per_run).where(per_run.c.n > 1))
        entries = session.scalar(select(func.count()).select_from(JournalEntry)
                                 .where(JournalEntry.kind == Kind.TIMER_FIRED.value))
        completed = session.scalar(select(func.count()).select_from(Run).where(Run.status == "completed"))
        session.rollback()
    late = sorted((fired - due).total_seconds() for due, fired in rows)
    return {
        "fired": len(rows), "entries": entries, "twice": twice, "completed": completed, "total": total,
        "first_due": min(due for due, _ in rows) if rows else None,
        "last_fired": max(fired for _, fired in rows) if rows else None,
        "p50": statistics.median(late) if late else None,
        "p99": late[min(len(late) - 1, int(len(late) * 0.99))] if late else None,
        "max": late[-1] if late else None,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process of this machine (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])
    return (total - idle) / os.sysconf("SC_CLK_TCK"), total / os.sysconf("SC_CLK_TCK")


class _Cpu:
    """CPU used while the timers drain: by the worker processes, by their PostgreSQL backends (the server
    runs on this machine), and by the whole machine (other people's work included)."""

    def __init__(self, app, workers: list[int]) -> None:
        self.app, self.workers = app, workers
        self.start = self._sample()

    def _backends(self) -> list[int]:
        from sqlalchemy import text

        from web.extensions import db

        with self.app.app_context():
            query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                         "AND pid <> pg_backend_pid()")
            pids = db.session.scalars(query).all()
            db.session.rollback()
        return list(pids)

    def _sample(self) -> dict:
        return {"workers": {pid: _cpu_seconds(pid) for pid in self.workers},
                "backends": {pid: _cpu_seconds(pid) for pid in self._backends()},
                "machine": _machine_busy()}

    def stop(self) -> dict:
        end = self._sample()

        def used(kind: str) -> float:
            return sum(max(0.0, cpu - self.start[kind].get(pid, 0.0)) for pid, cpu in end[kind].items())

        busy, total = (e - s for e, s in zip(end["machine"], self.start["machine"], strict=True))
        return {"worker_cpu": used("workers"), "pg_cpu": used("backends"),
                "machine_busy": busy / total if total else float("nan")}


def _scenario(app, url: str, template: dict, label: str, due: list[datetime], workers: int,
              tree: Path | None) -> dict:
    _reset(app)
    started = time.perf_counter()
    _seed(app, template, due, label)
    seeded = time.perf_counter() - started
    lead = min(due) - datetime.now(UTC)
    if lead < timedelta(seconds=3):
        print(f"  {label}: seeding took {seeded:.1f} s, timers already due; raise the lead time")
    processes = _workers(url, workers, tree)
    # CPU counted from the first due time: the workers' start (imports, app) is not the timers' cost.
    time.sleep(max(0.0, (min(due) - datetime.now(UTC)).total_seconds() - 0.2))
    cpu = _Cpu(app, [process.pid for process, _ in processes])
    drained = _wait_drained(app, len(due), limit=120.0 + SPREAD_SECONDS * 2 + len(due) / 5)
    used = cpu.stop()
    codes = _stop(processes)
    result = _measure(app, len(due))
    result.update(seeded=seeded, drained=drained, codes=codes, workers=workers, **used)
    return result


def _correct(result: dict) -> bool:
    return (result["fired"] == result["total"] == result["entries"] == result["completed"]
            and result["twice"] == 0)


def _drain(result: dict) -> float | None:
    if not result["fired"]:
        return None
    return (result["last_fired"] - result["first_due"]).total_seconds()


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _print(label: str, result: dict) -> None:
    ok = _correct(result)
    if not result["fired"]:
        print(f"  {label}: nothing fired (exit codes {result['codes']})")
        return
    drain = (result["last_fired"] - result["first_due"]).total_seconds()
    print(f"  {label:<28} workers {result['workers']}  fired {result['fired']}/{result['total']}  "
          f"twice {result['twice']}  {'OK' if ok else 'WRONG'}  drain {drain:.1f} s  "
          f"({result['total'] / drain if drain > 0 else float('nan'):.0f}/s)  "
          f"lateness p50 {result['p50']:.2f} s  p99 {result['p99']:.2f} s  max {result['max']:.2f} s  "
          f"(seeded in {result['seeded']:.1f} s; exit codes {result['codes']})")
    print(f"  {'':<28} per timer: worker CPU {1000 * result['worker_cpu'] / result['fired']:.2f} ms, "
          f"PostgreSQL CPU {1000 * result['pg_cpu'] / result['fired']:.2f} ms; "
          f"machine busy {100 * result['machine_busy']:.0f}% while draining; load average {_load()}")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _ceiling(result: dict) -> str:
    """What the CPU one timer costs (worker + PostgreSQL) allows on 2 and on 4 cores with nothing else
    running: an upper bound, that workers sharing the cores with PostgreSQL approach from below."""
    per = (result["worker_cpu"] + result["pg_cpu"]) / result["fired"] if result["fired"] else 0.0
    if per <= 0:
        return "n/a"
    return f"{per * 1000:.2f} ms of CPU per timer: at most {2 / per:.0f}/s on 2 cores, {4 / per:.0f}/s on 4"




def main() -> None:
    from tests.conftest import postgres_answers
    from tests.scratch import create_database

    if not postgres_answers():
        print("skipped: PostgreSQL does not answer at 127.0.0.1:5432 (several workers need it)")
        return
    url, drop = create_database("timers_bench")
    try:
        app = _app(url)
        template = _template(app)
        # Due a few seconds after seeding: the workers are up and polling when the timers come due.
        lead = timedelta(seconds=10 + BURST / 1000)
        print(f"postgresql: real `sequences worker` processes, batch {BATCH}, "
              f"interval {app.config['WORKER_INTERVAL_SECONDS']} s")
        figures: dict[tuple[str, str], dict] = {}
        with baseline.checkout() as tree:
            for name, code in (("baseline", tree), ("today", None)):
                for workers in (1, 2):
                    at = datetime.now(UTC) + lead
                    result = _scenario(app, url, template, f"burst{workers}", [at] * BURST, workers, code)
                    _print(f"{name}: {BURST} due at one instant", result)
                    figures[name, f"burst{workers}"] = result
                start = datetime.now(UTC) + lead
                step = SPREAD_SECONDS / SPREAD
                spread = [start + timedelta(seconds=i * step) for i in range(SPREAD)]
                result = _scenario(app, url, template, "spread", spread, 1, code)
                _print(f"{name}: {SPREAD} over {SPREAD_SECONDS:.0f} s", result)
                figures[name, "spread"] = result
        print(f"  baseline: {baseline.REF}; load average now {_load()}")
        for name in ("baseline", "today"):
            print(f"  {name}, 2 workers: {_ceiling(figures[name, 'burst2'])}")
        for scenario, what, limit, measure in (
            ("burst1", f"{BURST} due at once, 1 worker, drained in <= 40 s", 40.0, _drain),
            ("burst2", f"{BURST} due at once, 2 workers, drained in <= 20 s", 20.0, _drain),
            ("spread", "spread over a minute, 1 worker, p99 lateness <= 0.25 s", 0.25, lambda r: r["p99"]),
        ):
            before, after = measure(figures["baseline", scenario]), measure(figures["today", scenario])
            met = after is not None and after <= limit and _correct(figures["today", scenario])
            ratio = f"{after / before:.2f}" if after is not None and before else "n/a"
            print(f"  target {what}: today {_seconds(after)}, baseline {_seconds(before)} "
                  f"(ratio {ratio}): {'met' if met else 'MISSED'}")
        with app.app_context():
            from web.extensions import db

            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
