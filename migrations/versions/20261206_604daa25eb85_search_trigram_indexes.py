"""trigram indexes for the dossier search (PostgreSQL with pg_trgm)

A search term that is not the start of a reference is looked for inside references, titles, the address
field and the names of partners and contacts (runtime/workspace.py). Without an index each such search
reads every dossier; pg_trgm's GIN indexes answer "contains" from the index. They are created only where
the extension is installed or this user may install it (it is a trusted extension since PostgreSQL 13:
the database's owner may); elsewhere, and on SQLite, the search works as before, by reading the tables.
The indexes live outside the models (runtime.workspace.TRIGRAM_INDEXES), which a SQLite schema cannot hold.

Revision ID: 604daa25eb85
Revises: c2d880609d38
Create Date: 2026-12-06 04:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "604daa25eb85"
down_revision = "c2d880609d38"
branch_labels = None
depends_on = None

# name -> (table, indexed expression): the very expressions runtime/workspace.py searches.
INDEXES = {
    "ix_dossiers_reference_trgm": ("dossiers", "reference"),
    "ix_dossiers_title_trgm": ("dossiers", "title"),
    "ix_dossiers_address_trgm": ("dossiers", "(data ->> 'address')"),
    "ix_participants_name_trgm": ("participants", "name"),
}

_CAN_HAVE_TRIGRAMS = sa.text(
    """
    SELECT e.installed_version IS NOT NULL
           OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
           OR (v.trusted AND has_database_privilege(current_database(), 'CREATE'))
    FROM pg_available_extensions e
    JOIN pg_available_extension_versions v ON v.name = e.name AND v.version = e.default_version
    WHERE e.name = 'pg_trgm'
    """
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql" or not bind.execute(_CAN_HAVE_TRIGRAMS).scalar():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, expression) in INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
