"""Moving running dossiers to a new version on PostgreSQL: S2 version 1 → 2 (a step added, the 6-week
wait turned into 2 months), through the service a manager calls (runtime/migrations.py), on the real engine.

Half the dossiers wait on an open action (the mandate), half in the 6-week wait (an event-based gateway with
a timer whose due date is recomputed from the service). Seeding goes around the service layer for speed: two
runs are taken to those points for real, then their rows (run, open action, timer) are copied in bulk.

Prints the preview time (every dossier moved inside a savepoint rolled back) and the execution's dossiers
per second (one transaction per dossier), and checks that every dossier was migrated once, with its action
or timer kept. Size: BENCH_MIGRATIONS (10000)."""

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

COUNT = int(os.environ.get("BENCH_MIGRATIONS", "10000"))
CHUNK = 2000
ROOT = Path(__file__).resolve().parent.parent
V2 = ROOT / "tests" / "data" / "bpmn" / "s2_precontentieux_v2.bpmn"
KEY = "precontentieux"


def _app(url: str):
    from flask_migrate import upgrade

    from runtime.clock import Clock
    from web import create_app

    app = create_app({"DATABASE_URL": url, "EMBEDDED_WORKER": False, "CLOCK": Clock(), "TESTING": True})
    with app.app_context():
        upgrade()
    return app


def _templates(session, now: datetime) -> list[dict]:
    """Two real runs of S2 version 1: one at the mandate, one in the 6-week wait."""
    from designer import services as designer
    from runtime.actions import complete_action
    from runtime.actors import system
    from runtime.dossiers import create_dossier
    from runtime.models import Action, Run, Timer
    from runtime.runs import launch_run
    from web.demo import LIBRARY, ensure_templates

    bench = system("bench")
    ensure_templates(session, bench, now)
    keys = []
    for path in sorted(LIBRARY.glob("*.bpmn")):
        sequence, _created, _report = designer.save_draft(session, path.read_bytes(), None, now)
        keys.append(sequence.key)
    designer.publish_versions(session, keys, None, now)
    data = {"balance": 1300, "has_guarantor": False, "landlord_kind": "personne_physique"}
    found = []
    for reference, steps in (
        ("MANDATE", []),
        ("WAIT", ["Mandater_commissaire", "Signifier_commandement", "Signaler_ccapex"]),
    ):
        dossier = create_dossier(session, bench, reference, reference, data, now)
        run = launch_run(session, dossier.id, bench, now, sequence=KEY, allow_unassigned=True)
        for element in steps:
            action = session.query(Action).filter_by(run_id=run.id, element_id=element, status="open").one()
            outcome = "served" if element == "Signifier_commandement" else None
            complete_action(session, action.id, bench, "done", outcome, None, now)
        session.flush()
        run = session.get(Run, run.id)
        found.append(
            {
                "run": {
                    c: getattr(run, c)
                    for c in (
                        "version_id",
                        "status",
                        "called_versions",
                        "state",
                        "active_elements",
                        "waiting_messages",
                        "results",
                        "step",
                        "started_at",
                        "started_by",
                    )
                },
                "actions": [
                    {c.key: getattr(a, c.key) for c in Action.__table__.columns if c.key != "id"}
                    for a in session.query(Action).filter_by(run_id=run.id, status="open")
                ],
                "timers": [
                    {c.key: getattr(t, c.key) for c in Timer.__table__.columns if c.key != "id"}
                    for t in session.query(Timer).filter_by(run_id=run.id, fired_at=None)
                ],
            }
        )
    session.commit()
    return found


def _seed(session, templates: list[dict], count: int, now: datetime) -> None:
    from sqlalchemy import insert, select

    from runtime.models import Action, Dossier, Run, Timer

    for start in range(0, count, CHUNK):
        refs = [f"B-{n}" for n in range(start, min(count, start + CHUNK))]
        session.execute(
            insert(Dossier),
            [
                {"reference": r, "title": r, "data": {"balance": 1300}, "created_at": now, "updated_at": now}
                for r in refs
            ],
        )
        query = select(Dossier.reference, Dossier.id).where(Dossier.reference.in_(refs))
        ids = {reference: dossier_id for reference, dossier_id in session.execute(query)}
        which = {ids[r]: templates[n % 2] for n, r in enumerate(refs)}
        runs = [{**which[ids[r]]["run"], "dossier_id": ids[r], "revision": 0} for r in refs]
        run_ids = session.execute(insert(Run).returning(Run.id, Run.dossier_id), runs).all()
        actions, timers = [], []
        for run_id, dossier_id in run_ids:
            template = which[dossier_id]
            actions += [{**a, "run_id": run_id, "dossier_id": dossier_id} for a in template["actions"]]
            timers += [{**t, "run_id": run_id} for t in template["timers"]]
        if actions:
            session.execute(insert(Action), actions)
        if timers:
            session.execute(insert(Timer), timers)
        session.commit()


def main() -> None:
    from sqlalchemy import func, select

    from designer import services as designer
    from kernel.db import unit_of_work
    from runtime.actors import Actor
    from runtime.migrations import migrate_runs, summarize
    from runtime.models import Run, Timer
    from tests.conftest import postgres_answers
    from tests.scratch import create_database
    from web.extensions import db

    if not postgres_answers():
        print("skipped: PostgreSQL does not answer at 127.0.0.1:5432")
        return
    url, drop = create_database("migrations_bench")
    try:
        app = _app(url)
        with app.app_context():
            session = db.session
            started = datetime.now(UTC) - timedelta(days=20)
            templates = _templates(session, started)
            began = time.perf_counter()
            _seed(session, templates, COUNT, started)
            seeded = time.perf_counter() - began
            now = datetime.now(UTC)
            with unit_of_work(session):
                designer.save_draft(session, V2.read_bytes(), None, now, replace=True)
                designer.publish_version(session, KEY, None, now)
            total = COUNT + len(templates)
            manager = Actor(user_id=None, cause="bench")

            def clock() -> datetime:
                return datetime.now(UTC)

            began = time.perf_counter()
            preview = migrate_runs(session, KEY, manager, clock, from_version=1, to_version=2, dry_run=True)
            previewed = time.perf_counter() - began
            still = session.scalar(
                select(func.count())
                .select_from(Run)
                .where(Run.version_id == templates[0]["run"]["version_id"])
            )
            began = time.perf_counter()
            done = migrate_runs(session, KEY, manager, clock, from_version=1, to_version=2)
            executed = time.perf_counter() - began
            on_v2 = session.scalar(
                select(func.count())
                .select_from(Run)
                .where(Run.version_id != templates[0]["run"]["version_id"])
            )
            rescheduled = session.scalar(
                select(func.count())
                .select_from(Timer)
                .where(
                    Timer.fired_at.is_(None),
                    Timer.cancelled_at.is_(None),
                    Timer.due_at > now + timedelta(days=30),
                )
            )
            ok = (
                summarize(preview) == {"would_migrate": total}
                and still == total
                and summarize(done) == {"migrated": total}
                and on_v2 == total
                and rescheduled == total // 2
            )
            print(
                f"postgresql: {total} dossiers on S2 v1 (seeded in {seeded:.1f} s), half at an open action, "
                f"half in the 6-week wait"
            )
            print(
                f"  preview (dry run, rolled back)  {previewed:.1f} s  ({total / previewed:.0f} dossiers/s)  "
                f"{summarize(preview)}"
            )
            print(
                f"  execution (one transaction each) {executed:.1f} s  ({total / executed:.0f} dossiers/s)  "
                f"{summarize(done)}"
            )
            print(
                f"  on version 2 afterwards: {on_v2}/{total}; timers moved to 2 months: {rescheduled}  "
                f"{'OK' if ok else 'WRONG'}"
            )
            db.engine.dispose()
    finally:
        drop()


if __name__ == "__main__":
    main()
