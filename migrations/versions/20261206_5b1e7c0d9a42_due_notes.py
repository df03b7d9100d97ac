"""how each due date and timer was counted

Revision ID: 5b1e7c0d9a42
Revises: 7eb6c30487a0
Create Date: 2026-12-06 04:00:00

Actions and timers keep the sentence saying how their date was counted ({"fr": ..., "en": ...}). Rows
written before have none: their pages show the date alone.
"""
from alembic import op
import sqlalchemy as sa


revision = '5b1e7c0d9a42'
down_revision = "7eb6c30487a0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_note', sa.JSON(), nullable=True))
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_note', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_column('due_note')
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('due_note')
