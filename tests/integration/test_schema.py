"""The Alembic revisions build exactly the schema the models describe, on SQLite and PostgreSQL."""

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from runtime.workspace import TRIGRAM_INDEXES
from web.extensions import db


def outside_models(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection, warnings.catch_warnings():
        # Alembic cannot compare an expression index on SQLite, where this one is not made (PostgreSQL only).
        warnings.filterwarnings("ignore", message=".*expression-based index 'ix_actions_ended_late'")
        context = MigrationContext.configure(connection, opts={"include_object": outside_models})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
