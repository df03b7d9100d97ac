"""The case managers' pages at scale: 100,000 dossiers and 1,000,000 actions on PostgreSQL.

Seeds a fresh database with bulk INSERT ... SELECT generate_series (a few seconds), then times the server
side of the inbox (« Mes actions », searched, filtered and sorted; « Sans titulaire »; everyone's open
actions, the team view), the dossier page, the dossier search and the incidents (one run in a
hundred failed) through the Flask test client, in process: p50 and p95 over BENCH_REQUESTS requests each.
Target: p95 < 50 ms.

Env: BENCH_PG_URL (admin URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test), BENCH_DOSSIERS,
BENCH_REQUESTS, BENCH_KEEP=1 to keep the database."""

import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DOSSIERS = int(os.environ.get("BENCH_DOSSIERS", "100000"))
ACTIONS_PER_DOSSIER = 10
MANAGERS = 20
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
RUNTIME = Path(__file__).resolve().parent.parent / "tests" / "data" / "bpmn" / "runtime"


def _seed(app) -> dict:
    from sqlalchemy import text

    from designer import services as designer
    from kernel.accounts import create_user
    from runtime.documents import Document
    from web.extensions import db

    with app.app_context():
        Document.metadata.create_all(bind=db.engine, tables=[Document.__table__])
        session = db.session
        managers = [
            create_user(
                session,
                email=f"m{i}@bench.test",
                name=f"Gestionnaire {i}",
                kind="internal",
                role="manager",
                password="benchmark",
                now=NOW,
            )
            for i in range(1, MANAGERS + 1)
        ]
        for name in ("rt_sub", "rt_plan", "rt_relance"):
            designer.save_draft(session, (RUNTIME / f"{name}.bpmn").read_bytes(), managers[0].id, NOW)
            version = designer.publish_version(session, name, managers[0].id, NOW)
        session.commit()
        first_manager = managers[0].id
        # Participants are linked to managers round-robin; this one holds running dossiers.
        bench_manager = managers[1].id
        params = {
            "n": DOSSIERS,
            "k": ACTIONS_PER_DOSSIER,
            "v": version.id,
            "m": MANAGERS,
            "u0": first_manager,
            "now": NOW.replace(tzinfo=None),
        }
        started = time.perf_counter()
        statements = [
            """INSERT INTO dossiers (id, reference, title, data, created_at, updated_at)
               SELECT g, 'D-' || lpad(g::text, 6, '0'), 'Locataire ' || g || ' — loyers impayés',
                      json_build_object('montant', 100 + g % 2000, 'address', g || ' rue des Lilas, Tours'),
                      :now - (g % 700) * interval '1 day', :now
               FROM generate_series(1, :n) g""",
            # Two participants per dossier: the case manager (linked to one of the managers) and the tenant.
            """INSERT INTO participants (id, dossier_id, kind, name, email, user_id, created_at)
               SELECT 2 * g - 1, g, 'internal', 'Gestionnaire ' || (g % :m + 1), NULL, :u0 + g % :m, :now
               FROM generate_series(1, :n) g
               UNION ALL
               SELECT 2 * g, g, 'contact', 'Locataire' || g, 'l' || g || '@example.test', NULL, :now
               FROM generate_series(1, :n) g""",
            """INSERT INTO participant_roles (participant_id, role)
               SELECT 2 * g - 1, 'gestionnaire' FROM generate_series(1, :n) g
               UNION ALL SELECT 2 * g, 'locataire' FROM generate_series(1, :n) g""",
            # One run per dossier; nine in ten still running, waiting at « Appeler le locataire »; one in a
            # hundred failed on a condition.
            """INSERT INTO runs (id, dossier_id, version_id, status, called_versions, state, active_elements,
                                waiting_messages, results, revision, started_at, started_by, step, error)
               SELECT g, g, :v, CASE WHEN g % 10 = 0 THEN 'completed' WHEN g % 100 = 5 THEN 'failed'
                                     ELSE 'running' END, '{}'::json, NULL,
                    CASE WHEN g % 10 = 0 THEN '[]'::json ELSE '["Call"]'::json END, '[]'::json, '{}'::json, 1,
                      :now - (g % 700) * interval '1 day', 'user:' || :u0, 1,
                      CASE WHEN g % 100 = 5
                           THEN 'EngineError: Expression refusée : ''dossier.montant > 100'' '
                                || '(Comparaison impossible entre ''beaucoup'' et 100).' END
               FROM generate_series(1, :n) g""",
            """INSERT INTO run_roles (run_id, role, participant_id)
               SELECT g, 'gestionnaire', 2 * g - 1 FROM generate_series(1, :n) g""",
            # Ten actions per dossier: nine completed with an outcome, the last one open on running runs.
            """INSERT INTO actions (id, run_id, dossier_id, element_id, task_id, name, type, role, outcomes,
                                   adhoc, status, outcome, due_at, created_at, completed_at, completed_by)
             SELECT a, d, d, 'Call', md5(a::text)::uuid::text, 'Appeler le locataire', 'task', 'gestionnaire',
                      '["paid", "promise", "no_answer"]'::json, false,
                      CASE WHEN a % :k = 0 AND d % 10 <> 0 THEN 'open' ELSE 'done' END,
                      CASE WHEN a % :k = 0 AND d % 10 <> 0 THEN NULL
                           ELSE (ARRAY['paid', 'promise', 'no_answer'])[a % 3 + 1] END,
                :now + ((a::bigint * 7919) % 60 - 30) * interval '1 day', :now - (a % 400) * interval '1 day',
                  CASE WHEN a % :k = 0 AND d % 10 <> 0 THEN NULL ELSE :now - (a % 400) * interval '1 day' END,
                      CASE WHEN a % :k = 0 AND d % 10 <> 0 THEN NULL ELSE 'user:' || :u0 END
               FROM (SELECT a, (a - 1) / :k + 1 AS d FROM generate_series(1, CAST(:n AS bigint) * :k) a) s""",
            # Who must act on each open action: the users holding its role in its run.
            """INSERT INTO action_assignees
                      (action_id, user_id, due_at, role, version_id, dossier_id, reference)
               SELECT a.id, p.user_id, a.due_at, a.role, :v, a.dossier_id, d.reference FROM actions a
               JOIN dossiers d ON d.id = a.dossier_id
               JOIN run_roles rr ON rr.run_id = a.run_id AND rr.role = a.role
               JOIN participants p ON p.id = rr.participant_id
               WHERE a.status = 'open' AND p.user_id IS NOT NULL""",
            # The open actions whose role nobody holds (« Sans titulaire »): none here, every run has its
            # case manager.
            """INSERT INTO unheld_actions (action_id, due_at, role, version_id, dossier_id, reference)
               SELECT a.id, a.due_at, a.role, :v, a.dossier_id, d.reference FROM actions a
               JOIN dossiers d ON d.id = a.dossier_id
               WHERE a.status = 'open'
                 AND NOT EXISTS (SELECT 1 FROM run_roles rr
                                 WHERE rr.run_id = a.run_id AND rr.role = a.role)""",
            # History entries (their hash chain is not what is measured here: a stand-in hash).
            """INSERT INTO journal (dossier_id, run_id, action_id, at, actor, kind, data, hash)
            SELECT (a - 1) / :k + 1, (a - 1) / :k + 1, a, :now - (a % 400) * interval '1 day', 'user:' || :u0,
                      'action_completed', json_build_object('name', 'Appeler le locataire', 'status', 'done'),
                      md5(a::text) || md5(a::text)
               FROM generate_series(1, CAST(:n AS bigint) * :k, 2) a""",
            """INSERT INTO journal (dossier_id, run_id, at, actor, kind, data, hash)
               SELECT g, g, :now - (g % 300) * interval '1 hour', 'user:' || :u0, 'run_failed',
                      json_build_object('operation', 'complete'), md5(g::text) || md5(g::text)
               FROM generate_series(5, :n, 100) g""",
        ]
        with db.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement), params)
            for table in (
                "dossiers",
                "participants",
                "participant_roles",
                "runs",
                "run_roles",
                "actions",
                "journal",
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        seeded = time.perf_counter() - started
        counts = {
            t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("dossiers", "actions", "journal")
        }
        return {"manager_id": bench_manager, "seconds": seeded, "counts": counts}


def _time(client, urls: list[str]) -> tuple[float, float]:
    timings = []
    for url in urls:
        started = time.perf_counter()
        response = client.get(url)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (url, response.status_code)
        timings.append(elapsed)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def _time_call(function, count: int) -> tuple[float, float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    from sqlalchemy import text

    from runtime import inbox, incidents, workspace
    from runtime.clock import FixedClock
    from tests.scratch import create_database
    from web import create_app
    from web.extensions import db

    url, drop = create_database("sequences_bench")
    try:
        app = create_app(
            {
                "DATABASE_URL": url,
                "EMBEDDED_WORKER": False,
                "CLOCK": FixedClock(NOW),
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "bench",
            }
        )
        with app.app_context():
            # The tables as the models declare them (indexes included), whatever migration is current, and the
            # search's trigram indexes, which a migration adds outside the models.
            db.create_all()
            with db.engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
                for index, (table, expression) in workspace.TRIGRAM_INDEXES.items():
                    using = f"USING gin ({expression} gin_trgm_ops)"
                    conn.execute(text(f"CREATE INDEX {index} ON {table} {using}"))
        seeded = _seed(app)
        print(f"seeded {seeded['counts']} in {seeded['seconds']:.1f} s")
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"] = str(seeded["manager_id"])
            cookie["_fresh"] = True
        rng = random.Random(7)
        warm = ["/inbox/", "/dossiers/1", "/dossiers/"]
        _time(client, warm * 3)
        with app.app_context():
            held = db.session.execute(
                text(
                    "SELECT count(*) FROM actions a JOIN run_roles r ON r.run_id = a.run_id "
                    "JOIN participants p ON p.id = r.participant_id "
                    "WHERE a.status = 'open' AND p.user_id = :u"
                ),
                {"u": seeded["manager_id"]},
            ).scalar()
            query = _time_call(lambda: workspace.inbox(db.session, seeded["manager_id"], NOW), REQUESTS)
            filtered = _time_call(
                lambda: inbox.inbox_page(db.session, seeded["manager_id"], NOW, inbox.Filters()), REQUESTS
            )
            failed_count = _time_call(lambda: incidents.count_open(db.session), REQUESTS)
            mine = seeded["manager_id"]
            failed_mine = _time_call(lambda: incidents.count_for_user(db.session, mine), REQUESTS)
            db.session.remove()
        print(f"inbox of one manager: {held} open actions among {seeded['counts']['actions']:,}")
        held_by = seeded["manager_id"] + 1  # a colleague's inbox, seen from the team view
        results = {
            "inbox query (service)": query,
            "inbox with counts per filter": filtered,
            "inbox page": _time(client, [f"/inbox/?page={rng.randint(1, 5)}" for _ in range(REQUESTS)]),
            "inbox page, overdue only": _time(client, ["/inbox/?overdue=1" for _ in range(REQUESTS)]),
            "inbox, sequence + role": _time(
                client, ["/inbox/?sequence=rt_relance&role=gestionnaire" for _ in range(REQUESTS // 2)]
            ),
            "inbox, due in 7 days": _time(client, ["/inbox/?due=soon" for _ in range(REQUESTS // 2)]),
            "inbox, search a dossier": _time(
                client, [f"/inbox/?q=D-0{rng.randint(10000, 99999)}" for _ in range(REQUESTS // 2)]
            ),
            "inbox, search + filters": _time(
                client,
                [f"/inbox/?q={rng.randint(100, 999)}&due=later&sort=dossier" for _ in range(REQUESTS // 2)],
            ),
            "inbox, sorted by dossier": _time(
                client, [f"/inbox/?sort=dossier&page={rng.randint(1, 50)}" for _ in range(REQUESTS // 2)]
            ),
            "inbox, sorted by sequence": _time(
                client, [f"/inbox/?sort=sequence&page={rng.randint(1, 50)}" for _ in range(REQUESTS // 2)]
            ),
            "unassigned (none, 90k open)": _time(client, ["/inbox/unassigned" for _ in range(REQUESTS // 4)]),
            "all open, a colleague, late": _time(
                client, [f"/inbox/all?holder={held_by}&due=overdue" for _ in range(REQUESTS // 4)]
            ),
            "all open actions (team)": _time(client, ["/inbox/all" for _ in range(REQUESTS // 4)]),
            "all open, by dossier": _time(client, ["/inbox/all?sort=dossier" for _ in range(REQUESTS // 4)]),
            "dossier page": _time(client, [f"/dossiers/{rng.randint(1, DOSSIERS)}" for _ in range(REQUESTS)]),
            "dossier history tab": _time(
                client, [f"/dossiers/{rng.randint(1, DOSSIERS)}?tab=history" for _ in range(REQUESTS // 2)]
            ),
            "dossier list (newest)": _time(client, ["/dossiers/" for _ in range(REQUESTS // 2)]),
            "dossier search by reference": _time(
                client, [f"/dossiers/?q=D-0{rng.randint(10000, 99999)}" for _ in range(REQUESTS // 2)]
            ),
            "dossier search, part of a ref.": _time(
                client, [f"/dossiers/?q={rng.randint(10000, 99999)}" for _ in range(REQUESTS // 2)]
            ),
            "dossier search, tenant name": _time(
                client, [f"/dossiers/?q=Locataire{rng.randint(10000, 99999)}" for _ in range(REQUESTS // 2)]
            ),
            "dossier search, no match": _time(
                client, ["/dossiers/?q=introuvable" for _ in range(REQUESTS // 2)]
            ),
            "dossier list, overdue": _time(client, ["/dossiers/?overdue=1" for _ in range(REQUESTS // 2)]),
            "overview (all sequences)": _time(client, ["/overview/?period=30" for _ in range(10)]),
            "incident count (navigation)": failed_count,
            "failed runs on my dossiers": failed_mine,
            "incidents page (all)": _time(client, ["/incidents/" for _ in range(REQUESTS // 4)]),
            "incidents page (mine)": _time(client, ["/incidents/?mine=1" for _ in range(REQUESTS // 4)]),
        }
        print(f"{'request':32} {'p50 ms':>8} {'p95 ms':>8}")
        for label, (p50, p95) in results.items():
            flag = "" if p95 < 50 else "  (above 50 ms)"
            print(f"{label:32} {p50:8.1f} {p95:8.1f}{flag}")
    finally:
        if os.environ.get("BENCH_KEEP") != "1":
            from web.extensions import db as _db

            try:
                with app.app_context():
                    _db.engine.dispose()
            except Exception:  # noqa: BLE001 — the app may not exist if the database could not be created
                pass
            drop()


if __name__ == "__main__":
    main()
