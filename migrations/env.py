"""Alembic environment: the app's engine and the metadata of every package's models."""

import logging

from alembic import context
from flask import current_app

logger = logging.getLogger("alembic.env")
config = context.config
db = current_app.extensions["migrate"].db


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares: not the trigram indexes, which only PostgreSQL with pg_trgm holds."""
    from runtime.workspace import TRIGRAM_INDEXES

    return not (type_ == "index" and name in TRIGRAM_INDEXES)


def run_migrations_offline() -> None:
    context.configure(
        url=str(db.engine.url), target_metadata=db.metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):
        # `db migrate` with no change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            process_revision_directives=skip_empty,
            include_object=include_object,
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
