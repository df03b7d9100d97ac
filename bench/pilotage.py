"""The pilotage pages at scale: 100,000 dossiers and 1,000,000 actions on PostgreSQL.

Reuses the data of bench/workspace.py (ten actions per dossier over 400 days, nine runs in ten running),
then gives the history what pilotage reads: actions that took hours to days and met or missed their due
date, runs that ended some weeks after their launch, a legal-delay timer per run. Times the server side of
each pilotage page through the Flask test client, as the pages read (closed weeks from their groups, the
rest from the actions: runtime/pilotage/rollup.py) and, in the same run, as they read before the groups
(everything from the actions: the baseline), next to the overview page. Prints how long grouping took: all
the closed weeks at once (the first page after the upgrade), then one week (the first page of a Monday).
Target: p95 < 500 ms a page; the CSV download of a long list (50,000 rows) is timed apart, without target.

Env: as bench/workspace.py (BENCH_PG_URL, BENCH_DOSSIERS, BENCH_KEEP); BENCH_PAGE_REQUESTS (default 10)."""

import os
import time
from contextlib import contextmanager

from bench import workspace

REQUESTS = int(os.environ.get("BENCH_PAGE_REQUESTS", "10"))
TARGET_MS = 500


def _history(app) -> float:
    """What pilotage reads beyond the workspace data; returns the seconds it took."""
    from sqlalchemy import text

    from web.extensions import db

    params = {"n": workspace.DOSSIERS, "now": workspace.NOW.replace(tzinfo=None)}
    statements = [
        # Time spent: an hour to 19 days, spread to the second (as real times are: every histogram bucket
        # is used); due 1 to 10 days after creation, so often missed.
        """UPDATE actions SET completed_at = created_at + interval '1 hour'
                                             + (id::bigint * 7919 % (19 * 86400)) * interval '1 second',
                              due_at = created_at + (1 + id % 10) * interval '1 day'
           WHERE completed_at IS NOT NULL""",
        """UPDATE runs SET ended_at = started_at + (id % 90 + 1) * interval '1 day'
           WHERE status = 'completed'""",
        # One legal-delay timer per run: fired (one in five after its date) on ended runs, pending on others.
        """INSERT INTO timers (run_id, element_id, task_id, due_at, created_at, fired_at, attempts)
           SELECT g, 'Six_weeks', md5(g::text), :now - (g % 300) * interval '1 day',
                  :now - (g % 300 + 42) * interval '1 day',
                  CASE WHEN g % 10 = 0 THEN :now - (g % 300) * interval '1 day'
                       + (CASE WHEN g % 5 = 0 THEN 2 ELSE 0 END) * interval '1 day' END, 0
           FROM generate_series(1, :n) g""",
    ]
    started = time.perf_counter()
    with app.app_context():
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), params)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return time.perf_counter() - started


def _grouping(app) -> str:
    """Groups every closed week (as the first page after the upgrade does), then forgets the last one and
    groups it again (as the first page of a Monday does); says how long each took and how many rows the
    groups hold against the actions they stand for."""
    from sqlalchemy import delete, func, select

    from runtime import pilotage
    from runtime.models import Action
    from runtime.pilotage.rollup import GROUPS, GroupedWeek
    from web.extensions import db

    with app.app_context():
        started = time.perf_counter()
        weeks = pilotage.keep_up(db.session, workspace.NOW)
        db.session.commit()
        everything = time.perf_counter() - started
        last = db.session.scalar(select(func.max(GroupedWeek.week)))
        db.session.execute(delete(GroupedWeek).where(GroupedWeek.week == last))
        started = time.perf_counter()
        pilotage.keep_up(db.session, workspace.NOW)
        db.session.commit()
        one = time.perf_counter() - started
        rows = {t.__tablename__: db.session.scalar(select(func.count()).select_from(t)) for t in GROUPS}
        ended = db.session.scalar(select(func.count()).where(Action.completed_at.is_not(None)))
        db.session.remove()
    return (
        f"grouped {weeks} closed weeks in {everything:.1f} s, one week in {one * 1000:.0f} ms; "
        f"rows {rows} for {ended} ended actions"
    )


@contextmanager
def _from_actions(app):
    """The pages as they read before the groups: no week grouped, none grouped by the page."""
    from sqlalchemy import delete

    from runtime import pilotage
    from runtime.pilotage.rollup import GroupedWeek
    from web.extensions import db

    with app.app_context():
        db.session.execute(delete(GroupedWeek))
        db.session.commit()
    keep_up, pilotage.keep_up = pilotage.keep_up, lambda _session, _now: 0
    try:
        yield
    finally:
        pilotage.keep_up = keep_up
        with app.app_context():
            pilotage.keep_up(db.session, workspace.NOW)
            db.session.commit()


def main() -> None:

    from runtime.clock import FixedClock
    from tests.scratch import create_database
    from web import create_app
    from web.extensions import db

    url, drop = create_database("sequences_bench")
    app = None
    try:
        app = create_app(
            {
                "DATABASE_URL": url,
                "EMBEDDED_WORKER": False,
                "CLOCK": FixedClock(workspace.NOW),
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "bench",
            }
        )
        with app.app_context():
            db.create_all()  # the tables and indexes the models declare
        seeded = workspace._seed(app)
        extra = _history(app)
        print(f"seeded {seeded['counts']} in {seeded['seconds']:.1f} s, pilotage history in {extra:.1f} s")
        print(_grouping(app))
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = str(seeded["manager_id"])
            cookie["_fresh"] = True
        pages = {
            "overview, 30 days (baseline)": "/overview/?period=30",
            "overview, all (baseline)": "/overview/?period=all",
            "steps, 90 days": "/pilotage/?sequence=rt_relance",
            "steps, time overlay, a step's list": "/pilotage/?sequence=rt_relance&overlay=time&step=Call",
            "steps, one year": "/pilotage/?sequence=rt_relance&period=365",
            "steps, one holder": "/pilotage/?sequence=rt_relance&holder=2",
            "steps, one holder, one year": "/pilotage/?sequence=rt_relance&holder=2&period=365",
            "legal delays, one holder, one year": "/pilotage/delays?sequence=rt_relance&holder=2&period=365",
            "charts, 90 days": "/pilotage/charts",
            "charts, one year": "/pilotage/charts?period=365",
            "legal delays, 90 days": "/pilotage/delays?sequence=rt_relance",
            "legal delays, one year": "/pilotage/delays?sequence=rt_relance&period=365",
        }
        # A download, not a page: its time grows with its rows (up to pilotage.EXPORTED), shown apart.
        download = "/pilotage/delays?sequence=rt_relance&format=csv"
        workspace._time(client, list(pages.values()))  # warm caches and parsed diagrams
        print(f"load average {os.getloadavg()[0]:.2f}; target p95 < {TARGET_MS} ms")
        print(f"{'page':38} {'p50 ms':>8} {'p95 ms':>8}   {'before: p50':>11} {'p95 ms':>8}")
        missed = 0
        for label, page in pages.items():
            p50, p95 = workspace._time(client, [page] * REQUESTS)
            with _from_actions(app):
                before = workspace._time(client, [page] * REQUESTS)
            if "baseline" in label:
                flag = ""
            elif p95 < TARGET_MS:
                flag = "  met"
            else:
                flag, missed = "  MISSED", missed + 1
            print(f"{label:38} {p50:8.1f} {p95:8.1f}   {before[0]:11.1f} {before[1]:8.1f}{flag}")
        p50, p95 = workspace._time(client, [download] * REQUESTS)
        body = client.get(download).data
        rows, size = body.count(b"\n") - 1, len(body) / 1e6
        what = f"late steps of 90 days, CSV, {rows} rows, {size:.1f} MB"
        print(f"download: {what}: p50 {p50:.0f}, p95 {p95:.0f} ms")
        print(f"load average {os.getloadavg()[0]:.2f}; {missed} page(s) above {TARGET_MS} ms")
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            if app is not None:
                with app.app_context():
                    db.engine.dispose()
            drop()


if __name__ == "__main__":
    main()
