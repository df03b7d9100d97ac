"""The inbox indexes' revision upgrades a database made by the previous schema; the inbox reads as before."""

from sqlalchemy import inspect

from tests.conftest import START

PREVIOUS = "f3b354eda6bb"  # the revision below the inbox indexes
INDEXES = {
    "actions": "ix_actions_open_id",
    "runs": "ix_runs_id_version",
    "dossiers": "ix_dossiers_id_reference",
}


def test_upgrade_adds_the_inbox_indexes(empty_url, monkeypatch):
    from flask_migrate import upgrade

    from runtime.clock import FixedClock
    from runtime.inbox import Filters, inbox_page
    from tests.factories import make_user
    from tests.workspace_data import (
        assign_as_before_inbox_rows,
        ensure_documents_table,
        publish,
        relance_dossier,
    )
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )
    with app.app_context():
        upgrade(revision=PREVIOUS)
        assign_as_before_inbox_rows(monkeypatch)
        ensure_documents_table(db)
        for table, index in INDEXES.items():
            assert index not in {i["name"] for i in inspect(db.engine).get_indexes(table)}
        manager = make_user(db.session, name="manager")
        publish(db.session, manager.id, "rt_sub", "rt_plan", "rt_relance")
        partner = make_user(db.session, name="partner", kind="partner", role=None)
        relance_dossier(db.session, manager, partner)
        db.session.commit()
        db.session.remove()
        upgrade()
        for table, index in INDEXES.items():
            assert index in {i["name"] for i in inspect(db.engine).get_indexes(table)}
        page = inbox_page(db.session, manager.id, START, Filters(sequence="rt_relance", sort="dossier"))
        assert [row[1] for row in page.rows] == ["D-1"] and page.roles == [("gestionnaire", 1)]
        db.session.remove()
        db.engine.dispose()
