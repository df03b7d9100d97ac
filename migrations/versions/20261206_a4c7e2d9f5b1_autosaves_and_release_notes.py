"""draft autosaves and release notes

Marks the draft entries written by the editor's autosave (sequence_draft_autosaves) and keeps the release note
written at publication with its version (sequence_version_notes). Two new tables: nothing to backfill (no
earlier draft was autosaved, no earlier version had a note).

Revision ID: a4c7e2d9f5b1
Revises: 3c9d2e8f1a6b
Create Date: 2026-12-06 07:00:00

"""
from alembic import op
import sqlalchemy as sa

import kernel.db


# revision identifiers, used by Alembic.
revision = 'a4c7e2d9f5b1'
down_revision = "3c9d2e8f1a6b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sequence_draft_autosaves',
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('started_at', kernel.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['sequence_drafts.id'], name=op.f('fk_sequence_draft_autosaves_draft_id_sequence_drafts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_id', name=op.f('pk_sequence_draft_autosaves'))
    )
    op.create_table('sequence_version_notes',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['sequence_versions.id'], name=op.f('fk_sequence_version_notes_version_id_sequence_versions')),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_sequence_version_notes'))
    )


def downgrade():
    op.drop_table('sequence_version_notes')
    op.drop_table('sequence_draft_autosaves')
