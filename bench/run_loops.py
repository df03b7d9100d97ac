"""One dossier looping 2,000 times through the service layer, persisted and journaled, on a real database.

Prints the median step time at loops 10–100 and 1,900–2,000 and their ratio, the state stored per run, and the
same figures for a naive baseline in the same run: the whole SpiffWorkflow state (spec included, never pruned)
serialized at every step, as a plain integration would do. The baseline dies where SpiffWorkflow does.

The machine's speed drifts by up to 2x over tens of seconds (shared cores), so loops 10-100 and loops
1,900-2,000, minutes apart, may run at different speeds. The last 100 loops are therefore also timed side by
side with a new dossier's first 100, one step of each in turn: that ratio compares the two in the same
seconds.

"pruned" is the runtime as it runs: the process keeps the engine it stepped last (runtime.engine_cache), so
that the next step of the same run skips rebuilding it from the stored state. "rebuilt" is the same runtime
with that cache off, as when another process stepped the run last: every step rebuilds the engine. What the
cache saves is then measured side by side: two runs stepped in turn, 400 steps each, one with its engine kept
and one with its engine forgotten after each step.

Each row ends with the targets on a 2-core machine, met or missed: ratio <= 1.5 (the worse of the two
ratios), median <= 10 ms (the worse of the two medians), state <= 50 KB, and all the loops done.

With both backends, the last lines compare them (engine kept): a new dossier on each, each backend in a
process of its own, completed one step of each in turn so that both are timed in the same seconds;
PostgreSQL's median completion within 1.5x SQLite's, and at most 8 statements per completion on PostgreSQL,
each met or missed. The commit is then measured alone on this disk: PostgreSQL flushes its WAL at every
commit (synchronous_commit=on, kept), while the app's SQLite (WAL, synchronous=NORMAL, kernel/db.py) flushes
only at checkpoints; SQLite with synchronous=FULL, as durable at each commit as PostgreSQL, is timed in the
same run for comparison.

Sizes: BENCH_LOOPS (2000); BENCH_BACKENDS (sqlite,postgresql: those that answer)."""

import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event

LOOPS = int(os.environ.get("BENCH_LOOPS", "2000"))
# The targets on a 2-core machine: the worst of the ratios and of the two medians is judged.
RATIO_TARGET, MEDIAN_TARGET_MS, STATE_TARGET_KB = 1.5, 10.0, 50
# A completion on PostgreSQL against one on SQLite in the same run, and its statements on PostgreSQL.
BACKEND_RATIO_TARGET, STATEMENTS_TARGET = 1.5, 8
DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "bpmn" / "runtime" / "rt_loop.bpmn"


def _setup(url: str, synchronous_full: bool = False):
    """`synchronous_full`: SQLite syncs its WAL at every commit, as PostgreSQL does (a comparison only: the
    app runs SQLite with synchronous=NORMAL, kernel/db.py)."""
    from flask_migrate import upgrade

    from runtime.clock import FixedClock
    from web import create_app
    from web.extensions import db

    clock = FixedClock(datetime(2026, 1, 5, 9, tzinfo=UTC))
    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": clock, "TESTING": True})
    with app.app_context():
        if synchronous_full:
            event.listen(db.engine, "checkout", lambda dbapi, *_: dbapi.execute("PRAGMA synchronous=FULL"))
        upgrade()
    return app, clock


def _loop(app, clock, naive: bool, kept: bool = True) -> dict:
    """Steps one dossier's run LOOPS times. For its last 100 steps, a second dossier's run starts and the two
    alternate, step by step: that run's first 100 steps are timed in the same seconds as the first run's last
    100, whatever the machine does meanwhile."""
    import json

    from bpmn.engine import Engine
    from designer import services as designer
    from runtime import engine_cache
    from runtime import step as step_module
    from runtime.models import Run
    from web.extensions import db

    with app.app_context():
        session = db.session
        suffix = "naive" if naive else "pruned" if kept else "rebuilt"
        actor = _manager_with_rt_loop(session, clock, suffix)
        step_module.Engine = (
            _naive_engine(designer.latest_version(session, "rt_loop").spec) if naive else Engine
        )
        engine_cache.enabled = kept and not naive
        engine_cache.clear()
        long_run = _Looping(session, clock, actor, f"BENCH-{suffix}")
        fresh_run = None
        for loop in range(1, LOOPS + 1):
            if loop > LOOPS - 100 and long_run.died is None:
                fresh_run = fresh_run or _Looping(session, clock, actor, f"BENCH-{suffix}-fresh")
                fresh_run.step()
            if not long_run.step():
                break
        step_module.Engine = Engine
        engine_cache.enabled = True
        state = len(json.dumps(session.get(Run, long_run.run_id).state or {}))
    return {
        "times": long_run.times,
        "statements": long_run.statements,
        "fresh": fresh_run.times if fresh_run else [],
        "died": long_run.died,
        "state_bytes": state,
    }


class _Looping:
    """A run of rt_loop on a new dossier, completed step by step as an API client would: the next action's id
    comes from the previous completion's answer."""

    def __init__(self, session, clock, actor, reference: str):
        from runtime.models import Run
        from runtime.stepper import open_actions
        from tests.factories import looping_run

        self.session, self.clock, self.actor = session, clock, actor
        self.run_id = looping_run(session, actor.user_id, clock.now(), reference, publish=False).id
        [action] = open_actions(session, session.get(Run, self.run_id))
        self.action_id = action.id
        self.times: list[float] = []
        self.statements: list[int] = []
        self.died: str | None = None

    def step(self) -> bool:
        """One timed completion (and commit); False once the run cannot go on (the baseline dies)."""
        from runtime.actions import complete_action
        from runtime.models import Run

        session = self.session
        loop = len(self.times) + 1
        self.clock.advance(days=30)
        counted = [0]

        def count(*_args) -> None:
            counted[0] += 1

        bind = session.get_bind()
        event.listen(bind, "before_cursor_execute", count)
        start = time.perf_counter()
        try:
            _action, settled = complete_action(
                session, self.action_id, self.actor, "done", "paid", None, self.clock.now()
            )
            following = [a.id for a in settled.created] if settled else []
            session.commit()
        except Exception as error:  # the baseline dies here: report where and why
            session.rollback()
            self.died = f"loop {loop}: {type(error).__name__}: {error}"
            return False
        finally:
            event.remove(bind, "before_cursor_execute", count)
        elapsed = time.perf_counter() - start
        self.statements.append(counted[0])
        if len(following) != 1:
            run = session.get(Run, self.run_id)
            self.died = f"loop {loop}: run {run.status} ({(run.error or '')[:60]})"
            return False
        self.action_id = following[0]
        self.times.append(elapsed)
        return True


def _manager_with_rt_loop(session, clock, suffix: str):
    """A new manager, who publishes rt_loop again (a new version): the actor who launches and completes."""
    from designer import services as designer
    from kernel.accounts import create_user
    from runtime.actors import Actor

    user = create_user(
        session,
        email=f"bench-{suffix}@example.test",
        name="Bench",
        kind="internal",
        role="manager",
        password="benchmark",
        now=clock.now(),
    )
    designer.save_draft(session, DATA.read_bytes(), user.id, clock.now())
    designer.publish_version(session, "rt_loop", user.id, clock.now())
    return Actor(user_id=user.id)


def _kept_against_rebuilt(app, clock, steps: int = 400) -> None:
    """What keeping the engine saves, side by side: two runs stepped in turn, one whose engine is kept
    between its steps, one whose engine is forgotten after each step (as when another process stepped it)."""
    from runtime import engine_cache
    from web.extensions import db

    with app.app_context():
        session = db.session
        actor = _manager_with_rt_loop(session, clock, "side")
        kept = _Looping(session, clock, actor, "BENCH-side-kept")
        rebuilt = _Looping(session, clock, actor, "BENCH-side-rebuilt")
        for _ in range(steps):
            kept.step()
            rebuilt.step()
            engine_cache.take(rebuilt.run_id, None, {})  # forgotten: its next step rebuilds it
    with_engine = statistics.median(kept.times[10:]) * 1000
    without = statistics.median(rebuilt.times[10:]) * 1000
    print(
        f"  engine kept against rebuilt, {steps} steps of each in turn: {with_engine:.2f} ms against "
        f"{without:.2f} ms, ratio {with_engine / without:.2f}"
    )


def _naive_engine(spec: dict):
    """The baseline: SpiffWorkflow's whole state, never pruned, with its spec, saved at every step."""
    from bpmn.engine import Engine

    class NaiveEngine(Engine):
        @classmethod
        def start(cls, specs, context, prune=True):
            return super().start(specs, context, prune=False)

        @classmethod
        def restore(cls, specs, state, context, prune=True):
            state = {k: v for k, v in state.items() if k != "spec"}
            return super().restore(specs, state, context, prune=False)

        def dump(self):
            return {**super().dump(), "spec": spec}

    return NaiveEngine


def _median_ms(times: list[float], first: int, last: int) -> float | None:
    window = times[first - 1 : last]
    return statistics.median(window) * 1000 if len(window) >= (last - first) // 2 else None


def _report(label: str, result: dict) -> None:
    early = _median_ms(result["times"], 10, 100)
    late = _median_ms(result["times"], LOOPS - 100, LOOPS)
    shown = [f"  {label:<7} loops {len(result['times']):>5}"]
    shown.append(f"median 10-100: {early:.2f} ms" if early else "median 10-100: n/a")
    shown.append(
        f"median {LOOPS - 100}-{LOOPS}: {late:.2f} ms" if late else f"median {LOOPS - 100}-{LOOPS}: n/a"
    )
    shown.append(f"ratio {late / early:.2f}" if early and late else "ratio n/a")
    shown.append(f"state {result['state_bytes'] / 1024:.1f} KB")
    if result["died"]:
        shown.append(f"stopped at {result['died']}")
    print("  ".join(shown))
    fresh = _median_ms(result["fresh"], 10, 100)
    if fresh and late:
        print(
            f"  {'':<7} side by side: a new dossier's loops 10-100, interleaved with those "
            f"{LOOPS - 100}-{LOOPS}: {fresh:.2f} ms, ratio {late / fresh:.2f}"
        )
    print(f"  {'':<7} targets: " + "; ".join(_against_targets(early, late, fresh, result)))


def _against_targets(early, late, fresh, result: dict) -> list[str]:
    """Each target of the benchmark with the figure it is judged on: met, or missed."""
    ratios = [late / early] if early and late else []
    ratios += [late / fresh] if fresh and late else []
    medians = [m for m in (early, late) if m]
    checks = [
        (f"ratio <= {RATIO_TARGET}", max(ratios, default=None), RATIO_TARGET, "{:.2f}"),
        (f"median <= {MEDIAN_TARGET_MS:.0f} ms", max(medians, default=None), MEDIAN_TARGET_MS, "{:.2f} ms"),
        (f"state <= {STATE_TARGET_KB} KB", result["state_bytes"] / 1024, STATE_TARGET_KB, "{:.1f} KB"),
    ]
    shown = []
    for name, value, limit, form in checks:
        verdict = "n/a" if value is None else "met" if value <= limit else "MISSED"
        shown.append(f"{name} {verdict}" + (f" ({form.format(value)})" if value is not None else ""))
    if result["died"] or len(result["times"]) < LOOPS:
        shown.append(f"{LOOPS} loops MISSED")
    return shown


def main() -> None:
    from tests.conftest import postgres_answers
    from tests.scratch import create_database

    backends = ["sqlite"] + (["postgresql"] if postgres_answers() else [])
    chosen = os.environ.get("BENCH_BACKENDS")  # e.g. "sqlite": only those
    if chosen:
        backends = [b for b in backends if b in chosen.split(",")]
    pruned = {}
    for backend in backends:
        with tempfile.TemporaryDirectory() as folder:
            url, drop = (
                (f"sqlite:///{folder}/bench.db", None)
                if backend == "sqlite"
                else create_database("sequences_bench")
            )
            try:
                app, clock = _setup(url)
                print(
                    f"{backend}: {LOOPS} loops of a user task with a boundary timer and message, gateway back"
                )
                pruned[backend] = _loop(app, clock, naive=False)
                _report("pruned", pruned[backend])
                _report("rebuilt", _loop(app, clock, naive=False, kept=False))
                _report("naive", _loop(app, clock, naive=True))
                _kept_against_rebuilt(app, clock)
                with app.app_context():
                    from web.extensions import db

                    db.engine.dispose()
            finally:
                if drop:
                    drop()
    if "sqlite" in pruned and "postgresql" in pruned:
        with tempfile.TemporaryDirectory() as folder:
            app, clock = _setup(f"sqlite:///{folder}/bench.db", synchronous_full=True)
            pruned["sqlite-full"] = _loop(app, clock, naive=False)
            with app.app_context():
                from web.extensions import db

                db.engine.dispose()
        _compare_backends(pruned, _in_turn())


def _in_turn() -> dict[str, list[float]]:
    """A new dossier on each backend, each in a process of its own (its own engines kept, its own memory),
    completed one step of each in turn, LOOPS steps: both are timed in the same seconds, whatever the
    machine does meanwhile. The backends' times and statements, by backend."""
    import multiprocessing

    from tests.scratch import create_database

    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        pg_url, drop = create_database("sequences_bench_turn")
        urls = {"sqlite": f"sqlite:///{folder}/turn.db", "postgresql": pg_url}
        pipes, processes = {}, []
        try:
            for backend, url in urls.items():
                ours, theirs = context.Pipe()
                process = context.Process(target=_stepper_process, args=(url, theirs))
                process.start()
                pipes[backend] = ours
                processes.append(process)
            for pipe in pipes.values():
                pipe.recv()  # set up and ready
            times: dict[str, list[float]] = {backend: [] for backend in pipes}
            statements: dict[str, list[int]] = {backend: [] for backend in pipes}
            for _ in range(LOOPS):
                for backend, pipe in pipes.items():
                    pipe.send("step")
                    took, counted = pipe.recv()
                    times[backend].append(took)
                    statements[backend].append(counted)
        finally:
            for pipe in pipes.values():
                pipe.send("stop")
            for process in processes:
                process.join(60)
            drop()
    return {"times": times, "statements": statements}


def _stepper_process(url: str, pipe) -> None:
    """One backend's side of _in_turn: completes the next action of its run each time it is asked."""
    app, clock = _setup(url)
    with app.app_context():
        from web.extensions import db

        session = db.session
        looping = _Looping(session, clock, _manager_with_rt_loop(session, clock, "turn"), "BENCH-turn")
        pipe.send("ready")
        while pipe.recv() == "step":
            if not looping.step():
                raise SystemExit(f"the run stopped: {looping.died}")
            pipe.send((looping.times[-1], looping.statements[-1]))
        db.engine.dispose()


def _compare_backends(pruned: dict, in_turn: dict) -> None:
    """A completion on PostgreSQL against one on SQLite: both backends stepped in turn (the target), and
    each backend's pruned loops above, minutes apart (for reference); then what a durable commit alone costs
    on this disk, which PostgreSQL pays at every commit and SQLite, as the app sets it (WAL,
    synchronous=NORMAL), does not."""
    medians = {k: statistics.median(r["times"][10:]) * 1000 for k, r in pruned.items() if r["times"][10:]}
    turn = {k: statistics.median(t[10:]) * 1000 for k, t in in_turn["times"].items()}
    statements = {k: sorted(set(c[10:])) for k, c in in_turn["statements"].items()}
    ratio = turn["postgresql"] / turn["sqlite"]
    most = max(statements["postgresql"])
    print(
        f"postgresql against sqlite, engine kept, a new dossier on each completed one step of each in turn "
        f"({LOOPS} steps, from the 10th): median {turn['postgresql']:.2f} ms against "
        f"{turn['sqlite']:.2f} ms, "
        f"ratio {ratio:.2f}: target <= {BACKEND_RATIO_TARGET} "
        f"{'met' if ratio <= BACKEND_RATIO_TARGET else 'MISSED'}; statements per completion "
        f"{'/'.join(map(str, statements['postgresql']))} "
        f"(sqlite {'/'.join(map(str, statements['sqlite']))}): "
        f"target <= {STATEMENTS_TARGET} {'met' if most <= STATEMENTS_TARGET else 'MISSED'}"
    )
    print(
        f"  the pruned loops above, each backend in its own minutes: {medians['postgresql']:.2f} ms against "
        f"{medians['sqlite']:.2f} ms, ratio {medians['postgresql'] / medians['sqlite']:.2f}"
    )
    commits = _commit_costs()
    print(
        f"  a commit alone on this disk (median of {COMMITS}): PostgreSQL, one row inserted and committed, "
        f"{commits['pg_sync']:.2f} ms with synchronous_commit=on (the WAL flushed to disk: the server's "
        f"setting, kept), {commits['pg_async']:.2f} ms with it off; SQLite in WAL mode "
        f"{commits['sqlite_normal']:.2f} ms with synchronous=NORMAL (the app's: nothing flushed at commit), "
        f"{commits['sqlite_full']:.2f} ms with synchronous=FULL"
    )
    full = medians["sqlite-full"]
    flush = commits["pg_sync"] - commits["pg_async"]
    print(
        f"  sqlite with synchronous=FULL (each commit flushed, as PostgreSQL's), same run: median "
        f"{full:.2f} ms; postgresql against it: ratio {medians['postgresql'] / full:.2f}. Without the "
        f"flush, PostgreSQL's median less one commit's flush ({flush:.2f} ms) is "
        f"{(medians['postgresql'] - flush) / medians['sqlite']:.2f}x "
        f"SQLite's"
    )


COMMITS = 300


def _commit_costs() -> dict[str, float]:
    """What one commit of a one-row insert costs, PostgreSQL (durable and not) and SQLite (NORMAL, FULL)."""
    import psycopg

    def median(write) -> float:
        times = []
        for _ in range(COMMITS):
            began = time.perf_counter()
            write()
            times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000

    costs = {}
    table = f"commit_probe_{os.getpid()}"  # a logged table: a temporary one writes no WAL, flushes nothing
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as pg:
        pg.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, v int)")
        pg.commit()
        try:
            for name, setting in [("pg_sync", "on"), ("pg_async", "off")]:

                def write(setting=setting) -> None:
                    pg.execute(f"SET LOCAL synchronous_commit = {setting}")
                    pg.execute(f"INSERT INTO {table} (v) VALUES (1)")
                    pg.commit()

                costs[name] = median(write)
        finally:
            pg.rollback()
            pg.execute(f"DROP TABLE {table}")
            pg.commit()
    with tempfile.TemporaryDirectory() as folder:
        lite = sqlite3.connect(f"{folder}/probe.db", isolation_level=None)
        lite.execute("PRAGMA journal_mode=WAL")
        lite.execute("CREATE TABLE commit_probe (id INTEGER PRIMARY KEY, v INTEGER)")
        for name, setting in [("sqlite_normal", "NORMAL"), ("sqlite_full", "FULL")]:
            lite.execute(f"PRAGMA synchronous={setting}")

            def write() -> None:
                lite.execute("BEGIN IMMEDIATE")
                lite.execute("INSERT INTO commit_probe (v) VALUES (1)")
                lite.execute("COMMIT")

            costs[name] = median(write)
        lite.close()
    return costs
