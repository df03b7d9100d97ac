"""Shared fixtures. Integration tests run on a real SQLite file and, when it answers, on PostgreSQL."""

import os
import socket
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from tests.scratch import PG_HOST, PG_PORT, scratch_database

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def postgres_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL database for this test session."""
    require_postgres()
    with scratch_database("sequences_test") as url:
        yield url


def require_postgres() -> None:
    """Skips, saying why, when PostgreSQL does not answer; fails instead when CI requires it."""
    if not postgres_answers():
        if os.environ.get("SEQUENCES_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is required (SEQUENCES_TEST_POSTGRES=required) but does not answer")
        pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """An empty database of its own, for upgrades from an earlier revision: the shared test databases are
    already at the newest schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'previous.db'}"
        return
    require_postgres()
    with scratch_database("sequences_previous") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'sequences.db'}"


_migrated: set[str] = set()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    return request.getfixturevalue("postgres_url" if request.param == "postgresql" else "sqlite_url")


@pytest.fixture
def clock():
    from runtime.clock import FixedClock

    return FixedClock(START)


@pytest.fixture
def app(database_url, clock):
    """The app on a migrated, empty database."""
    from web import create_app
    from web.extensions import db

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "TESTING": True,
            "EMBEDDED_WORKER": False,
            "WTF_CSRF_ENABLED": False,
            "CLOCK": clock,
            "SECRET_KEY": "test",
        }
    )
    with app.app_context():
        if database_url not in _migrated:
            from flask_migrate import upgrade

            upgrade()
            _migrated.add(database_url)
        _empty(db)
        yield app
        db.session.remove()
        db.engine.dispose()


def _empty(db) -> None:
    with db.engine.begin() as conn:
        existing = set(inspect(conn).get_table_names())
        tables = [t for t in db.metadata.sorted_tables if t.name in existing]
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


@pytest.fixture
def session(app):
    from web.extensions import db

    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def users(app, session):
    """One account of each kind, with an API token each: {name: (user, headers)}."""
    from tests.factories import make_user

    found = {}
    for name, kind, role in [
        ("admin", "internal", "admin"),
        ("analyst", "internal", "analyst"),
        ("manager", "internal", "manager"),
        ("partner", "partner", None),
        ("partner2", "partner", None),
    ]:
        found[name] = make_user(session, name=name, kind=kind, role=role)
    session.commit()
    return found
