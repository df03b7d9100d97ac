"""open actions by due date: everyone's inbox pages read an index in due order

Revision ID: b7e41c09d2a3
Revises: 9c3f5a1e7b64
Create Date: 2026-12-06 08:00:00

« Toutes » (runtime/inbox.py) lists every open action by due date, 50 a page: with this partial index,
PostgreSQL reads the page's first rows from the index instead of sorting the open actions. No backfill:
the index is built from the rows already there.
"""

import sqlalchemy as sa
from alembic import op

revision = "b7e41c09d2a3"
down_revision = "9c3f5a1e7b64"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_actions_open_due",
        "actions",
        ["due_at", "id"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade():
    op.drop_index("ix_actions_open_due", table_name="actions")
