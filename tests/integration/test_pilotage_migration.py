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
