"""pilotage weeks: the figures of closed weeks, grouped once

Revision ID: d7e2a4b6c8f1
Revises: c5d8e1f2a7b9
Create Date: 2026-12-06 16:00:00

The pilotage pages read a year of history as a million actions (a second on PostgreSQL at 100,000
dossiers). These tables keep the actions that ended in each closed week grouped per step, version and role
(runtime/pilotage/rollup.py): time spent and lateness as histogram buckets, open and overdue weeks. No
backfill here: the first pilotage page after the upgrade groups the weeks already closed (pilotage_weeks
lists those grouped), the next ones only the week closed since.
"""

import sqlalchemy as sa
from alembic import op

revision = "d7e2a4b6c8f1"
down_revision = "c5d8e1f2a7b9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pilotage_weeks",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("grouped_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("week", name="pk_pilotage_weeks"),
    )
    op.create_table(
        "pilotage_spent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=100), nullable=True),
        sa.Column("bucket", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pilotage_spent"),
    )
    op.create_index("ix_pilotage_spent_week", "pilotage_spent", ["week", "version_id"])
    op.create_table(
        "pilotage_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("due_week", sa.Date(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("bucket", sa.Float(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_pilotage_due"),
    )
    op.create_index("ix_pilotage_due_due_week", "pilotage_due", ["due_week", "version_id"])
    op.create_index("ix_pilotage_due_week", "pilotage_due", ["week"])
    op.create_table(
        "pilotage_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("opened_week", sa.Date(), nullable=False),
        sa.Column("late_week", sa.Date(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pilotage_load"),
    )
    op.create_index("ix_pilotage_load_week", "pilotage_load", ["week", "version_id"])


def downgrade():
    for table in ("pilotage_load", "pilotage_due", "pilotage_spent", "pilotage_weeks"):
        op.drop_table(table)
