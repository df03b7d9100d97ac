"""pilotage indexes: actions by end, by due date, and open actions by step

Revision ID: 5d1e7a9c4b20
Revises: 5b1e7c0d9a42
Create Date: 2026-12-06 04:25:00

The pilotage figures (runtime/pilotage.py) read a period of ended or due actions, and the open actions per
step, each as one index range; on PostgreSQL the included columns spare reading the table. No backfill:
indexes are built from the rows already there.
"""

import sqlalchemy as sa
from alembic import op

revision = "5d1e7a9c4b20"
down_revision = "5b1e7c0d9a42"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_actions_completed_at",
        "actions",
        ["completed_at", "element_id"],
        postgresql_include=["created_at", "due_at", "run_id", "role", "outcome"],
    )
    op.create_index(
        "ix_actions_due_at",
        "actions",
        ["due_at", "element_id"],
        postgresql_include=["completed_at", "status", "run_id", "role", "dossier_id"],
    )
    op.create_index(
        "ix_actions_open_element",
        "actions",
        ["element_id", "run_id"],
        postgresql_include=["created_at", "due_at", "role", "dossier_id"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade():
    op.drop_index("ix_actions_open_element", table_name="actions")
    op.drop_index("ix_actions_due_at", table_name="actions")
    op.drop_index("ix_actions_completed_at", table_name="actions")
