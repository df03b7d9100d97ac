"""Throw-away PostgreSQL databases on the local server, for tests and benchmarks: created empty, dropped
afterwards even when connections remain."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_SERVER = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}"
PG_ADMIN_URL = f"{PG_SERVER}/test"


def create_database(prefix: str) -> tuple[str, Callable[[], None]]:
    """A new empty database named `prefix_<random>`: its URL, and the function that drops it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{PG_SERVER}/{name}", drop


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    url, drop = create_database(prefix)
    try:
        yield url
    finally:
        drop()
