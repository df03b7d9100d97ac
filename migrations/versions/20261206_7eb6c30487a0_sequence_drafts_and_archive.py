"""sequence drafts history and archive

Every saved draft is kept in sequence_drafts; each existing sequence's current draft becomes its first
entry. Sequences can be archived.

Revision ID: 7eb6c30487a0
Revises: 604daa25eb85
Create Date: 2026-12-06 04:00:00

"""
from alembic import op
import sqlalchemy as sa

import kernel.db
from designer.drafts import count_elements


# revision identifiers, used by Alembic.
revision = '7eb6c30487a0'
down_revision = "604daa25eb85"
branch_labels = None
depends_on = None


def upgrade():
    drafts = op.create_table('sequence_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sequence_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('element_count', sa.Integer(), nullable=False),
    sa.Column('saved_at', kernel.db.UTCDateTime(), nullable=False),
    sa.Column('saved_by', sa.Integer(), nullable=True),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['restored_from'], ['sequence_drafts.id'], name=op.f('fk_sequence_drafts_restored_from_sequence_drafts')),
    sa.ForeignKeyConstraint(['saved_by'], ['users.id'], name=op.f('fk_sequence_drafts_saved_by_users')),
    sa.ForeignKeyConstraint(['sequence_id'], ['sequences.id'], name=op.f('fk_sequence_drafts_sequence_id_sequences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sequence_drafts'))
    )
    with op.batch_alter_table('sequence_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sequence_drafts_sequence_id'), ['sequence_id'], unique=False)

    with op.batch_alter_table('sequences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', kernel.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('archived_by', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_sequences_archived_by_users'), 'users', ['archived_by'], ['id'])

    # Backfill: each sequence's current draft is the first entry of its history.
    sequences = sa.table('sequences',
        sa.column('id', sa.Integer()), sa.column('name', sa.String()), sa.column('draft_xml', sa.LargeBinary()),
        sa.column('draft_updated_at', kernel.db.UTCDateTime()),
        sa.column('draft_updated_by', sa.Integer()), sa.column('created_at', kernel.db.UTCDateTime()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(sequences).where(sequences.c.draft_xml.is_not(None))
                              .order_by(sequences.c.id))
    for row in rows.all():
        connection.execute(drafts.insert().values(
            sequence_id=row.id, name=row.name, xml=row.draft_xml, element_count=count_elements(row.draft_xml),
            saved_at=row.draft_updated_at or row.created_at, saved_by=row.draft_updated_by))


def downgrade():
    with op.batch_alter_table('sequences', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sequences_archived_by_users'), type_='foreignkey')
        batch_op.drop_column('archived_by')
        batch_op.drop_column('archived_at')

    with op.batch_alter_table('sequence_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sequence_drafts_sequence_id'))

    op.drop_table('sequence_drafts')
