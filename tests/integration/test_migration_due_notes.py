"""The due-note revision upgrades a database made by the schema before it, keeping its rows."""

from datetime import UTC, datetime

from sqlalchemy import inspect, text

PREVIOUS = "c2d880609d38"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_upgrade_from_the_previous_schema_adds_empty_due_notes(empty_url, clock):
    from flask_migrate import upgrade

    from web import create_app
    from web.extensions import db

    app = create_app({"DATABASE_URL": empty_url, "TESTING": True, "EMBEDDED_WORKER": False,
                      "CLOCK": clock, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO dossiers (reference, title, data, created_at, updated_at) "
                              "VALUES ('D-1', 'D', '{}', :at, :at)"), {"at": START})
            assert "due_note" not in {c["name"] for c in inspect(conn).get_columns("actions")}
        upgrade()
        with db.engine.connect() as conn:
            for table in ("actions", "timers"):
                column = {c["name"]: c for c in inspect(conn).get_columns(table)}["due_note"]
                assert column["nullable"] is True
            assert conn.execute(text("SELECT reference FROM dossiers")).scalars().all() == ["D-1"]
        db.engine.dispose()
