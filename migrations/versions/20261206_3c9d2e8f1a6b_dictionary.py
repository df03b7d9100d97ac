"""dictionary: roles, dossier fields, business events and outcomes with their labels, and every change

Revision ID: 3c9d2e8f1a6b
Revises: 5d1e7a9c4b20
Create Date: 2026-12-06 06:45:00

"""

import sqlalchemy as sa
from alembic import op

import kernel.db

revision = "3c9d2e8f1a6b"
down_revision = "5d1e7a9c4b20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dictionary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=True),
        sa.Column("role_kind", sa.String(length=10), nullable=True),
        sa.Column("type", sa.String(length=10), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("help", sa.Text(), nullable=False),
        sa.Column("updated_at", kernel.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_dictionary_entries_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dictionary_entries")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_dictionary_entries_kind")),
    )
    op.create_table(
        "dictionary_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("at", kernel.db.UTCDateTime(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["by"], ["users.id"], name=op.f("fk_dictionary_changes_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dictionary_changes")),
    )
    op.create_index(op.f("ix_dictionary_changes_kind"), "dictionary_changes", ["kind"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_dictionary_changes_kind"), table_name="dictionary_changes")
    op.drop_table("dictionary_changes")
    op.drop_table("dictionary_entries")
