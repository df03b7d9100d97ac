"""inbox indexes: an assigned action's role, run and dossier, a run's version, a dossier's reference

Revision ID: 9c3f5a1e7b64
Revises: f3b354eda6bb
Create Date: 2026-12-06 07:00:00

A user's inbox (runtime/inbox.py) counts its actions per sequence and role and sorts them by dossier: with
these covering indexes, PostgreSQL reads what it needs of each action, run and dossier from an index rather
than from their rows. No backfill: indexes are built from the rows already there.
"""

import sqlalchemy as sa
from alembic import op

revision = "9c3f5a1e7b64"
down_revision = "f3b354eda6bb"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_actions_open_id",
        "actions",
        ["id"],
        postgresql_include=["run_id", "role", "dossier_id"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_runs_id_version", "runs", ["id"], postgresql_include=["version_id"])
    op.create_index("ix_dossiers_id_reference", "dossiers", ["id"], postgresql_include=["reference"])


def downgrade():
    op.drop_index("ix_dossiers_id_reference", table_name="dossiers")
    op.drop_index("ix_runs_id_version", table_name="runs")
    op.drop_index("ix_actions_open_id", table_name="actions")
