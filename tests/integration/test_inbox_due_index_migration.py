"""The open-actions-by-due-date and inbox-rows revisions upgrade a database made by the previous schema: the
assignment rows already there take their action's role and dossier and their run's version; the inboxes
read as before."""

from sqlalchemy import inspect, text

from tests.conftest import START

PREVIOUS = "9c3f5a1e7b64"  # the revision below the index


def test_upgrade_adds_the_open_actions_by_due_index(empty_url, monkeypatch):
    from flask_migrate import downgrade, upgrade

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

    def indexes() -> set[str]:
        return {i["name"] for i in inspect(db.engine).get_indexes("actions")}

    with app.app_context():
        upgrade(revision=PREVIOUS)
        assign_as_before_inbox_rows(monkeypatch)
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
        copies = db.session.execute(
            text(
                "SELECT aa.role, aa.version_id, aa.dossier_id, a.role, r.version_id, a.dossier_id "
                "FROM action_assignees aa JOIN actions a ON a.id = aa.action_id "
                "JOIN runs r ON r.id = a.run_id"
            )
        ).all()
        assert copies and all(row[:3] == row[3:] and row[0] for row in copies), copies
        mine = inbox_page(db.session, manager.id, START, Filters(role="gestionnaire", sort="sequence"))
        assert [row[1] for row in mine.rows] == ["D-1"] and [s[0] for s in mine.sequences] == ["rt_relance"]
        page = inbox_page(db.session, manager.id, START, Filters(holder="any"))
        assert [row[1] for row in page.rows] == ["D-1"] and page.counts["open"] == 1
        db.session.remove()
        downgrade(revision=PREVIOUS)
        assert "ix_actions_open_due" not in indexes()
        db.session.remove()
        db.engine.dispose()
