"""The notifications revision upgrades a database made by the revision before it: the actions already
assigned count as announced (nobody is emailed about work they already have), and notification emails may
then be queued without a dossier."""

import pytest
from sqlalchemy import inspect, select, text

from tests.conftest import START

PREVIOUS = "a4c7e2d9f5b1"


@pytest.fixture
def old_app(empty_url, clock):
    from web import create_app

    return create_app(
        {
            "DATABASE_URL": empty_url,
            "TESTING": True,
            "EMBEDDED_WORKER": False,
            "CLOCK": clock,
            "SECRET_KEY": "test",
        }
    )


def test_upgrade_marks_existing_assignments_as_announced(old_app, monkeypatch):
    from flask_migrate import upgrade

    from runtime import notifications
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.notices import ActionNotice
    from runtime.runs import launch_run
    from tests.factories import make_user
    from tests.workspace_data import assign_as_before_inbox_rows, publish
    from web.extensions import db

    with old_app.app_context():
        upgrade(revision=PREVIOUS)
        assign_as_before_inbox_rows(monkeypatch)
        session = db.session
        analyst = make_user(session, name="analyst", role="analyst")
        manager = make_user(session, name="manager", role="manager")
        partner = make_user(session, name="partner", kind="partner", role=None)
        publish(session, analyst.id, "rt_notify")
        actor = Actor(user_id=manager.id)
        dossier = create_dossier(session, actor, "OLD-1", "Ancien dossier", {}, START)
        add_participant(
            session,
            dossier,
            actor,
            START,
            kind="partner",
            name="Maître",
            user_id=partner.id,
            roles=["commissaire_justice"],
        )
        launch_run(session, dossier.id, actor, START, sequence="rt_notify")
        session.commit()
        with db.engine.connect() as conn:
            assert "action_notices" not in inspect(conn).get_table_names()
        session.remove()
        upgrade()
        with db.engine.connect() as conn:
            columns = {c["name"]: c for c in inspect(conn).get_columns("communications")}
            assert columns["dossier_id"]["nullable"] is True
            assert conn.execute(text("SELECT reference FROM dossiers")).scalars().all() == ["OLD-1"]
        notices = list(db.session.scalars(select(ActionNotice)))
        assert [(n.user_id, n.sent) for n in notices] == [(partner.id, True)]
        queued = notifications.queue_due(db.session, START, notifications.Links("http://x.test"))
        assert queued.emails == 0
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
