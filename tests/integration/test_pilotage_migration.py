"""The pilotage indexes' revision upgrades a database made by the previous schema, with its history kept."""

from sqlalchemy import inspect

from tests.conftest import START

PREVIOUS = "5b1e7c0d9a42"  # the revision below the pilotage indexes
INDEXES = {"ix_actions_completed_at", "ix_actions_due_at", "ix_actions_open_element"}


def test_upgrade_adds_the_indexes_and_keeps_the_history(empty_url):
    from flask_migrate import upgrade

    from runtime import pilotage
    from runtime.clock import FixedClock
    from tests.factories import make_user
    from tests.pilotage_data import build_history
    from tests.workspace_data import ensure_documents_table, later_tables
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )
    with app.app_context():
        upgrade(revision=PREVIOUS)
        ensure_documents_table(db)
        assert not INDEXES & {i["name"] for i in inspect(db.engine).get_indexes("actions")}
        with later_tables(db):
            manager = make_user(db.session, name="manager")
            partner = make_user(db.session, name="partner", kind="partner", role=None)
            build_history(db.session, manager, partner)
        upgrade()
        assert INDEXES <= {i["name"] for i in inspect(db.engine).get_indexes("actions")}
        call = pilotage.step_figures(db.session, pilotage.Scope(sequence="rt_relance"), START)["Call"]
        assert (call.waiting, call.ended, call.late) == (1, 3, 2)
        db.session.remove()
        db.engine.dispose()


def test_upgrade_adds_the_lateness_index_and_the_list_reads_it(empty_url):
    """The revision of the late actions' index (on PostgreSQL; nothing on SQLite): the list of late steps is
    the same before and after it, the hand-computed one."""
    from flask_migrate import upgrade

    from runtime import pilotage
    from runtime.clock import FixedClock
    from tests.factories import make_user
    from tests.pilotage_data import build_history
    from tests.workspace_data import ensure_documents_table
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )
    expected = [("D-3", 12.0), ("D-3", 9.0), ("D-1", 5.0), ("D-2", 5.0), ("D-1", 1.0)]

    def listed() -> list[tuple[str, float]]:
        rows = pilotage.late_dossiers(db.session, pilotage.Scope(sequence="rt_relance"), START)
        return [(r["reference"], round(r["late"] / 86400, 3)) for r in rows]

    with app.app_context():
        upgrade(revision="c5d1f0a7e3b2")  # the revision below the index
        ensure_documents_table(db)
        build_history(
            db.session,
            make_user(db.session, name="manager"),
            make_user(db.session, name="partner", kind="partner", role=None),
        )
        db.session.commit()
        assert listed() == expected
        db.session.remove()
        upgrade()
        names = {i["name"] for i in inspect(db.engine).get_indexes("actions")}
        assert ("ix_actions_ended_late" in names) == (db.engine.dialect.name == "postgresql")
        assert listed() == expected
        db.session.remove()
        db.engine.dispose()


def test_the_models_declare_the_lateness_index_as_the_migration_makes_it(empty_url):
    """A database made from the models (benchmarks, `create_all`) has the index too, on PostgreSQL only."""
    from runtime.clock import FixedClock
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )
    with app.app_context():
        db.create_all()
        names = {i["name"] for i in inspect(db.engine).get_indexes("actions")}
        assert ("ix_actions_ended_late" in names) == (db.engine.dialect.name == "postgresql")
        db.engine.dispose()


def test_upgrade_to_the_grouped_weeks_keeps_the_figures(empty_url):
    """The revision of the closed weeks' groups, on a database with history made by the previous one: the
    first page groups the weeks closed before the upgrade, and the figures are the hand-computed ones."""
    from flask_migrate import upgrade

    from runtime import pilotage
    from runtime.clock import FixedClock
    from runtime.pilotage.rollup import GroupedWeek
    from tests.factories import make_user
    from tests.pilotage_data import build_history
    from tests.workspace_data import ensure_documents_table
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )
    with app.app_context():
        upgrade(revision="c5d8e1f2a7b9")  # the revision below the groups
        ensure_documents_table(db)
        manager = make_user(db.session, name="manager")
        build_history(db.session, manager, make_user(db.session, name="partner", kind="partner", role=None))
        db.session.commit()
        assert "pilotage_weeks" not in inspect(db.engine).get_table_names()
        db.session.remove()
        upgrade()
        assert db.session.query(GroupedWeek).count() == 0  # grouped by the first page, not by the upgrade
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie["_user_id"], cookie["_fresh"] = str(manager.id), True
        assert client.get("/pilotage/?sequence=rt_relance&overlay=time").status_code == 200
        assert db.session.query(GroupedWeek).count() == 3
        call = pilotage.step_figures(db.session, pilotage.Scope(sequence="rt_relance"), START)["Call"]
        assert (call.waiting, call.ended, call.with_due, call.late) == (1, 3, 4, 2)
        db.session.remove()
        db.engine.dispose()
