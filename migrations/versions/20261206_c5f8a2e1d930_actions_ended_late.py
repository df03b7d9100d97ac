"""actions ended late, latest first: the legal delays' list of late steps reads its page from an index

Revision ID: c5f8a2e1d930
Revises: c5d1f0a7e3b2
Create Date: 2026-12-06 09:30:00

The list of late steps (runtime/pilotage/delays.py, `late_dossiers`) shows the latest first, 200 a page and up to
50,000 in an export. On PostgreSQL this partial index holds the actions that ended after their due date in
order of lateness, with the columns the list reads: the list stops after its length instead of sorting the
year's late actions. SQLite reads the table (its databases are small). No backfill: the index is built from
the rows already there.
"""

from alembic import op

revision = "c5f8a2e1d930"
down_revision = "c5d1f0a7e3b2"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_actions_ended_late ON actions ((completed_at - due_at) DESC, dossier_id) "
        "INCLUDE (due_at, completed_at, run_id, role, element_id) WHERE completed_at > due_at"
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_actions_ended_late", table_name="actions")
