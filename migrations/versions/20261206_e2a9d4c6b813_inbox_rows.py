"""inbox rows: an assignment row keeps its action's role and dossier and its run's version

Revision ID: e2a9d4c6b813
Revises: b7e41c09d2a3
Create Date: 2026-12-06 08:10:00

A user's inbox (runtime/inbox.py) counts its actions per sequence and role, filters and sorts them: with
these copies on action_assignees (and in its inbox index), it reads that table alone instead of joining
every open action and its run. Backfill: the rows already there take them from their action and run.
"""

import sqlalchemy as sa
from alembic import op

revision = "e2a9d4c6b813"
down_revision = "b7e41c09d2a3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("action_assignees") as batch:
        batch.add_column(sa.Column("role", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("version_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("dossier_id", sa.Integer(), nullable=True))
    op.execute(
        """UPDATE action_assignees SET
             role = (SELECT a.role FROM actions a WHERE a.id = action_assignees.action_id),
             dossier_id = (SELECT a.dossier_id FROM actions a WHERE a.id = action_assignees.action_id),
             version_id = (SELECT r.version_id FROM actions a JOIN runs r ON r.id = a.run_id
                           WHERE a.id = action_assignees.action_id)"""
    )
    op.drop_index("ix_action_assignees_inbox", table_name="action_assignees")
    op.create_index(
        "ix_action_assignees_inbox",
        "action_assignees",
        ["user_id", "due_at", "action_id"],
        postgresql_include=["role", "version_id", "dossier_id"],
    )


def downgrade():
    op.drop_index("ix_action_assignees_inbox", table_name="action_assignees")
    op.create_index("ix_action_assignees_inbox", "action_assignees", ["user_id", "due_at", "action_id"])
    with op.batch_alter_table("action_assignees") as batch:
        batch.drop_column("dossier_id")
        batch.drop_column("version_id")
        batch.drop_column("role")
