"""The inbox queues' revision upgrades a database made by the previous schema: the assignment rows take
their dossier's reference, the open actions nobody holds get their rows; the inboxes read as before."""

from datetime import timedelta

from sqlalchemy import inspect, text

from tests.conftest import START

PREVIOUS = "c5f8a2e1d930"  # the revision below the inbox queues


def test_upgrade_lists_the_unheld_actions_and_the_references(empty_url, monkeypatch):
    from flask_migrate import downgrade, upgrade

    from runtime.actors import Actor
    from runtime.check import check_assignments
    from runtime.clock import FixedClock
    from runtime.dossiers import create_dossier
    from runtime.inbox import Filters, inbox_page
    from runtime.runs import launch_run
    from tests.factories import make_user
    from tests.workspace_data import (
        ensure_documents_table,
        publish,
        relance_dossier,
        write_as_before_inbox_queues,
    )
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )

    def tables() -> set[str]:
        return set(inspect(db.engine).get_table_names())

    with app.app_context():
        upgrade(revision=PREVIOUS)
        with monkeypatch.context() as before:
            write_as_before_inbox_queues(before)
            ensure_documents_table(db)
            assert "unheld_actions" not in tables()
            manager = make_user(db.session, name="manager")
            publish(db.session, manager.id, "rt_sub", "rt_plan", "rt_relance")
            partner = make_user(db.session, name="partner", kind="partner", role=None)
            for reference in ("D-2", "D-1"):
                relance_dossier(db.session, manager, partner, reference=reference)
            actor = Actor(user_id=manager.id)
            lonely = create_dossier(db.session, actor, "L-1", "Sans gestionnaire", {}, START)
            launch_run(db.session, lonely.id, actor, START, sequence="rt_relance", allow_unassigned=True)
            db.session.commit()
            db.session.remove()
        upgrade()
        assert "unheld_actions" in tables()
        references = db.session.execute(text("SELECT reference FROM action_assignees ORDER BY reference"))
        assert references.scalars().all() == ["D-1", "D-2"]
        assert check_assignments(db.session) == []
        mine = inbox_page(db.session, manager.id, START, Filters(sort="dossier"))
        assert [row[1] for row in mine.rows] == ["D-1", "D-2"] and mine.counts["open"] == 2
        nobody = inbox_page(db.session, manager.id, START + timedelta(days=1), Filters(holder="none"))
        assert [row[1] for row in nobody.rows] == ["L-1"] and nobody.roles == [("gestionnaire", 1)]
        db.session.remove()
        downgrade(revision=PREVIOUS)
        assert "unheld_actions" not in tables()
        db.session.remove()
        db.engine.dispose()
