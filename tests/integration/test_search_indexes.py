"""The trigram indexes of the dossier search (PostgreSQL with pg_trgm): the revision adds them to a database
made by the previous schema, and the search's own statements can use them."""

import uuid

import pytest
import sqlalchemy
from sqlalchemy import text

from tests.conftest import START, postgres_answers
from tests.scratch import PG_ADMIN_URL

PREVIOUS = "c2d880609d38"


@pytest.fixture
def fresh_postgres():
    if not postgres_answers():
        pytest.skip("PostgreSQL does not answer")
    name = f"sequences_trgm_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_revision_adds_trigram_indexes_the_search_uses(fresh_postgres):
    from flask_migrate import upgrade

    from runtime import workspace
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from web import create_app
    from web.extensions import db

    app = create_app({"DATABASE_URL": fresh_postgres, "TESTING": True, "EMBEDDED_WORKER": False})
    with app.app_context():
        upgrade(revision=PREVIOUS)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO dossiers (reference, title, data, created_at, updated_at) "
                    "VALUES ('IMP-2026-0111', 'Loyers', '{\"address\": \"12 rue des Lilas\"}', :at, :at)"
                ),
                {"at": START},
            )
        upgrade()
        with db.engine.connect() as conn:
            found = set(conn.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'")))
        assert found == set(workspace.TRIGRAM_INDEXES)
        session = db.session
        dossier = create_dossier(session, Actor(user_id=None), "IMP-2026-0112", "Loyers", {}, START)
        add_participant(session, dossier, Actor(user_id=None), START, kind="contact", name="Sofia Benali")
        session.commit()
        assert [d.reference for d in workspace.search_dossiers(session, START, q="0111").dossiers] == [
            "IMP-2026-0111"
        ]
        assert [d.reference for d in workspace.search_dossiers(session, START, q="lilas").dossiers] == [
            "IMP-2026-0111"
        ]
        # Few rows: the planner would rather read the tables, or the whole of a covering index (the inbox's
        # ix_dossiers_id_reference). Told not to, it must find an index for every part of the search, the
        # address's expression included.
        session.execute(text("SET enable_seqscan = off"))
        session.execute(text("SET enable_indexonlyscan = off"))
        found_by = workspace._found_by(session, "benali")
        query = sqlalchemy.select(workspace.Dossier.id).where(found_by)
        compiled = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
        for name in workspace.TRIGRAM_INDEXES:
            assert name in plan, plan
        session.rollback()
        db.session.remove()
        db.engine.dispose()
