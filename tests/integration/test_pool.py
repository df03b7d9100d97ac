"""The pool lends a connection it got back moments ago without checking it, and checks (and replaces, when the
server closed it) one that sat idle: no round trip per request or step, no error after a restart."""

import pytest
from sqlalchemy import text

import kernel.db


@pytest.fixture
def pg_app(postgres_url, clock):
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": postgres_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": clock}
    )
    with app.app_context():
        yield app, db
        db.session.remove()
        db.engine.dispose()


def _pings(monkeypatch, engine) -> list:
    pings = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_just_given_back_is_lent_without_a_ping(pg_app, monkeypatch):
    _app, db = pg_app
    monkeypatch.setattr(kernel.db, "IDLE_BEFORE_PING", 3600)
    pings = _pings(monkeypatch, db.engine)
    for _ in range(5):
        with db.engine.connect() as connection:
            assert connection.scalar(text("SELECT 1")) == 1
    assert pings == []


def test_an_idle_connection_the_server_closed_is_replaced_before_use(pg_app, monkeypatch):
    _app, db = pg_app
    with db.engine.connect() as connection:
        victim = connection.scalar(text("SELECT pg_backend_pid()"))
    with db.engine.connect() as other:  # the same pooled connection: check it out again to close it
        assert other.scalar(text("SELECT pg_backend_pid()")) == victim
    killer = db.engine.pool._creator()  # a connection outside the pool
    try:
        killer.autocommit = True
        killer.execute("SELECT pg_terminate_backend(%s)", (victim,))
    finally:
        killer.close()
    monkeypatch.setattr(kernel.db, "IDLE_BEFORE_PING", 0)  # whatever sat in the pool counts as idle
    pings = _pings(monkeypatch, db.engine)
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT 1")) == 1
        assert connection.scalar(text("SELECT pg_backend_pid()")) != victim
    assert len(pings) == 1
