"""Scenario data for the workspace pages (integration and browser tests), built through the services."""

from contextlib import contextmanager

from designer import services as designer
from runtime.actors import Actor
from runtime.dossiers import add_participant, create_dossier
from runtime.runs import launch_run
from tests.conftest import START
from tests.factories import DATA

RUNTIME = DATA / "bpmn" / "runtime"


def ensure_documents_table(db) -> None:
    """Creates the `documents` table where the schema lacks it (a database migrated before it existed)."""
    from sqlalchemy import inspect

    from runtime.documents import Document

    if "documents" not in inspect(db.engine).get_table_names():
        Document.metadata.create_all(bind=db.engine, tables=[Document.__table__])


@contextmanager
def later_tables(db):
    """The tables of later revisions, created while today's services build data on an older schema (they read
    the dictionary, note notifications...), then dropped so that the upgrade creates and fills them."""
    from sqlalchemy import inspect

    existing = set(inspect(db.engine).get_table_names())
    missing = [table for table in db.metadata.sorted_tables if table.name not in existing]
    db.metadata.create_all(bind=db.engine, tables=missing)
    try:
        yield
    finally:
        db.session.remove()
        db.metadata.drop_all(bind=db.engine, tables=missing)


def assign_as_before_inbox_rows(monkeypatch) -> None:
    """For a database at a revision before the inbox rows (e2a9d4c6b813): its action_assignees has no copy
    of the action's role and dossier and of the run's version, so the runtime writes the other columns."""
    from runtime import assignments

    monkeypatch.setattr(assignments, "_copied", lambda action, run: {})
    monkeypatch.setattr(assignments, "held", lambda run, role: True)  # no unheld_actions table either
    _one_write_at_a_time(monkeypatch)


def write_as_before_inbox_queues(monkeypatch) -> None:
    """For a database at a revision before the inbox queues (c5d8e1f2a7b9): its action_assignees has no copy
    of the dossier's reference and there is no table of the actions nobody holds."""
    from runtime import assignments

    monkeypatch.setattr(assignments, "_copied", _without_reference(assignments._copied))
    monkeypatch.setattr(assignments, "held", lambda run, role: True)
    _one_write_at_a_time(monkeypatch)


def _one_write_at_a_time(monkeypatch) -> None:
    """PostgreSQL's one-statement insert of an action with its assignees is built once, with today's columns:
    the step takes the statement-by-statement path instead, which writes what `_copied` gives."""
    from runtime import step_writes

    monkeypatch.setattr(step_writes, "postgres", lambda session: False)


def _without_reference(copied):
    def without(action, run):
        kept = copied(action, run)
        kept.pop("reference")
        return kept

    return without


def publish(session, user_id, *names, now=START):
    for name in names:
        designer.save_draft(session, (RUNTIME / f"{name}.bpmn").read_bytes(), user_id, now)
        designer.publish_version(session, name, user_id, now)


def relance_dossier(
    session,
    manager,
    partner=None,
    reference="D-1",
    title="Dupont — loyers impayés",
    with_partner=True,
    launch=True,
    now=START,
):
    """A dossier with a case manager (gestionnaire) and, optionally, a bailiff (commissaire_justice)."""
    actor = Actor(user_id=manager.id)
    dossier = create_dossier(session, actor, reference, title, {"montant": 1200}, now)
    add_participant(
        session,
        dossier,
        actor,
        now,
        kind="internal",
        name="Gestionnaire " + reference,
        user_id=manager.id,
        roles=["gestionnaire"],
    )
    # rt_relance has no tenant's role: the tenant is on the dossier without one.
    add_participant(session, dossier, actor, now, kind="contact", name="Jean Dupont")
    if with_partner and partner is not None:
        add_participant(
            session,
            dossier,
            actor,
            now,
            kind="partner",
            name="Maître Huissier",
            user_id=partner.id,
            roles=["commissaire_justice"],
        )
    run = launch_run(session, dossier.id, actor, now, sequence="rt_relance") if launch else None
    return dossier, run
