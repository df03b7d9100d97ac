"""The open-actions-by-due-date revision upgrades a database made by the previous schema; everyone's inbox
reads as before."""

from sqlalchemy import inspect

from tests.conftest import START
from tests.integration.test_pilotage_migration import fresh_url  # noqa: F401 — the fixture

PREVIOUS = "9c3f5a1e7b64"  # the revision below the index


def test_upgrade_adds_the_open_actions_by_due_index(fresh_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from runtime.clock import FixedClock
    from runtime.inbox import Filters, inbox_page
    from tests.factories import make_user
    from tests.workspace_data import ensure_documents_table, publish, relance_dossier
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": fresh_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )

    def indexes() -> set[str]:
        return {i["name"] for i in inspect(db.engine).get_indexes("actions")}

    with app.app_context():
        upgrade(revision=PREVIOUS)
        ensure_documents_table(db)
        assert "ix_actions_open_due" not in indexes()
        manager = make_user(db.session, name="manager")
        publish(db.session, manager.id, "rt_sub", "rt_plan", "rt_relance")
        partner = make_user(db.session, name="partner", kind="partner", role=None)
        relance_dossier(db.session, manager, partner)
        db.session.commit()
        db.session.remove()
        upgrade()
        assert "ix_actions_open_due" in indexes()
        page = inbox_page(db.session, manager.id, START, Filters(holder="any"))
        assert [row[1] for row in page.rows] == ["D-1"] and page.counts["open"] == 1
        db.session.remove()
        downgrade(revision=PREVIOUS)
        assert "ix_actions_open_due" not in indexes()
        db.session.remove()
        db.engine.dispose()
