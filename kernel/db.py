"""The declarative base shared by every package's models.

It sits in the lowest layer, so that every package's models share it and web/ binds it."""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, TypeDecorator, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, registry

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: SQLite keeps no time zone, PostgreSQL would convert."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING), type_annotation_map={datetime: UTCDateTime()}
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers go on while one writer writes; foreign keys are off by default in SQLite.
    if isinstance(dbapi_connection, sqlite3.Connection):
        # The driver's own transaction handling is replaced by ours (below): it cannot do savepoints.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash of the app loses nothing;
        # a power cut may lose the last commits, never the file's consistency.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    # SQLite has one writer at a time: taking the write lock when the transaction starts means a run read
    # in a transaction cannot be changed by another writer before this one writes (PostgreSQL uses
    # SELECT ... FOR UPDATE for the same guarantee).
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# A connection back in the pool for longer than this is checked before use (see ping_when_idle).
IDLE_BEFORE_PING = 1.0


def ping_when_idle(engine: Engine) -> None:
    """Checks a pooled connection before lending it only when it sat unused for IDLE_BEFORE_PING: one left
    idle may have been closed by the server (a restart, a pooler's timeout), and is then replaced at once.
    SQLAlchemy's pool_pre_ping checks at every checkout, a round trip that a busy process (a request, a
    step) would pay each time for a connection it gave back a few milliseconds before."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get("returned_at")  # none yet: a new connection, nothing to check
        if returned is None or time.monotonic() - returned < IDLE_BEFORE_PING:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"pooled connection lost while idle: {error}") from error
        if not alive:
            raise exc.DisconnectionError("pooled connection lost while idle")


@contextmanager
def unit_of_work(
    session: Session, *, fresh: bool = False, commit_on: tuple[type[BaseException], ...] = ()
) -> Iterator[Session]:
    """One transaction, the only way a change is committed (requests, command line, worker): what the block
    wrote is committed when it ends, rolled back when it raises (committed anyway for `commit_on` errors,
    which keep what was written before them). `fresh`: what the session had not committed is dropped first,
    so that the block sees what others committed."""
    if fresh:
        session.rollback()
    try:
        yield session
    except commit_on:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()
