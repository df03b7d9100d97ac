"""inbox queues: the open actions nobody holds as rows of their own; a dossier's reference on the inbox rows

Revision ID: c5d8e1f2a7b9
Revises: c5f8a2e1d930
Create Date: 2026-12-06 09:30:00

« Sans titulaire » (runtime/inbox.py) read every open action and looked for its role's holders, to find
the few nobody holds: unheld_actions keeps those, with what the inbox filters, counts and sorts on, so that
the view is one index range, as a user's own inbox is. The inbox sorted by dossier read every action's
dossier to sort on its reference: the rows keep the reference (it never changes once the dossier exists),
and an index in that order serves each page. Backfill: the rows from the open actions, runs and dossiers.
"""

import sqlalchemy as sa
from alembic import op

revision = "c5d8e1f2a7b9"
down_revision = "c5f8a2e1d930"
branch_labels = None
depends_on = None

KEPT = ["role", "version_id", "dossier_id"]


def upgrade():
    with op.batch_alter_table("action_assignees") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=100), nullable=True))
    op.execute(
        """UPDATE action_assignees SET
             reference = (SELECT d.reference FROM dossiers d WHERE d.id = action_assignees.dossier_id)"""
    )
    op.create_index(
        "ix_action_assignees_by_dossier",
        "action_assignees",
        ["user_id", "reference", "due_at", "action_id"],
        postgresql_include=KEPT,
    )
    op.create_table(
        "unheld_actions",
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name="fk_unheld_actions_action_id_actions", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("action_id", name="pk_unheld_actions"),
    )
    op.execute(
        """INSERT INTO unheld_actions (action_id, due_at, role, version_id, dossier_id, reference)
           SELECT a.id, a.due_at, a.role, r.version_id, a.dossier_id, d.reference
           FROM actions a JOIN runs r ON r.id = a.run_id JOIN dossiers d ON d.id = a.dossier_id
           WHERE a.status = 'open'
             AND NOT EXISTS (SELECT 1 FROM run_roles h WHERE h.run_id = a.run_id AND h.role = a.role)"""
    )
    op.create_index(
        "ix_unheld_actions_due", "unheld_actions", ["due_at", "action_id"], postgresql_include=KEPT
    )
    op.create_index(
        "ix_unheld_actions_by_dossier",
        "unheld_actions",
        ["reference", "due_at", "action_id"],
        postgresql_include=KEPT,
    )


def downgrade():
    op.drop_index("ix_unheld_actions_by_dossier", table_name="unheld_actions")
    op.drop_index("ix_unheld_actions_due", table_name="unheld_actions")
    op.drop_table("unheld_actions")
    op.drop_index("ix_action_assignees_by_dossier", table_name="action_assignees")
    with op.batch_alter_table("action_assignees") as batch:
        batch.drop_column("reference")
