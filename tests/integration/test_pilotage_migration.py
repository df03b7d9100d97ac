"""The pilotage indexes' revision upgrades a database made by the previous schema, with its history kept."""

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import START, postgres_answers
from tests.scratch import PG_ADMIN_URL

PREVIOUS = "5b1e7c0d9a42"  # the revision below the pilotage indexes
INDEXES = {"ix_actions_completed_at", "ix_actions_due_at", "ix_actions_open_element"}


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of its own: the shared test databases are already at the latest revision."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'previous.db'}"
        return
    if not postgres_answers():
        if os.environ.get("SEQUENCES_TEST_POSTGRES") == "required":
            pytest.fail("PostgreSQL is required (SEQUENCES_TEST_POSTGRES=required) but does not answer")
        pytest.skip("PostgreSQL not reachable")
    name = f"sequences_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_adds_the_indexes_and_keeps_the_history(fresh_url):
    from flask_migrate import upgrade

    from runtime import pilotage
    from runtime.clock import FixedClock
    from tests.factories import make_user
    from tests.pilotage_data import build_history
    from tests.workspace_data import ensure_documents_table, later_tables
    from web import create_app
    from web.extensions import db

    app = create_app(
        {"DATABASE_URL": fresh_url, "TESTING": True, "EMBEDDED_WORKER": False, "CLOCK": FixedClock(START)}
    )
    with app.app_context():
        upgrade(revision=PREVIOUS)
        ensure_documents_table(db)
        assert not INDEXES & {i["name"] for i in inspect(db.engine).get_indexes("actions")}
        with later_tables(db):
            manager = make_user(db.session, name="manager")
            partner = make_user(db.session, name="partner", kind="partner", role=None)
            build_history(db.session, manager, partner)
        upgrade()
        assert INDEXES <= {i["name"] for i in inspect(db.engine).get_indexes("actions")}
        call = pilotage.step_figures(db.session, pilotage.Scope(sequence="rt_relance"), START)["Call"]
        assert (call.waiting, call.ended, call.late) == (1, 3, 2)
        db.session.remove()
        db.engine.dispose()
