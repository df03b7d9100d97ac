"""The due-note revision upgrades a database made by the schema before it, keeping its rows."""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, inspect, text

PREVIOUS = "c2d880609d38"
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def fresh_url(database_url, tmp_path):
    """A database of its own, so the shared test database keeps the head schema."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'previous.db'}"
        return
    # A name of its own: two runs of the suite on one server must not share it.
    name = f"sequences_previous_schema_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield database_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_the_previous_schema_adds_empty_due_notes(fresh_url, clock):
    from flask_migrate import upgrade

    from web import create_app
    from web.extensions import db

    app = create_app({"DATABASE_URL": fresh_url, "TESTING": True, "EMBEDDED_WORKER": False,
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
