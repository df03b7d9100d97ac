"""The history is tamper-evident and agrees with the runs: `sequences check`."""

from sqlalchemy import select, update

from runtime.journal import JournalEntry
from runtime.models import Timer
from tests.integration.pilot import Pilot


def drive(client, users):
    pilot = Pilot(client, users)
    pilot.publish("rt_sub", "rt_plan", "rt_relance")
    for reference in ("C-1", "C-2"):
        dossier = pilot.dossier(reference)
        pilot.participant(dossier["id"], "internal", "G", ["gestionnaire", "comptable"], user="manager")
        pilot.participant(dossier["id"], "partner", "CJ", ["commissaire_justice"], user="partner")
        run = pilot.launch(dossier["id"], "rt_relance")
        pilot.complete(pilot.only_action(run["id"], "Call")["id"], "done", "no_answer")
    return pilot


def test_a_clean_history_passes(app, client, users):
    drive(client, users)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert "intègre" in result.output


def test_an_altered_entry_and_a_removed_one_are_reported(app, client, users, session):
    drive(client, users)
    entries = session.scalars(select(JournalEntry).order_by(JournalEntry.id)).all()
    altered, removed = entries[3], [e for e in entries if e.dossier_id == entries[-1].dossier_id][2]
    session.execute(update(JournalEntry).where(JournalEntry.id == altered.id).values(actor="user:999"))
    session.execute(JournalEntry.__table__.delete().where(JournalEntry.id == removed.id))
    session.commit()
    result = app.test_cli_runner().invoke(args=["check", "--quick"])
    assert result.exit_code == 1
    assert f"[entry_altered] l'entrée {altered.id}" in result.output
    assert "[chain_broken]" in result.output


def test_history_disagreeing_with_the_runs_is_reported(app, client, users, session):
    drive(client, users)
    completion = session.scalar(select(JournalEntry).where(JournalEntry.kind == "action_completed"))
    action_id = completion.action_id
    session.execute(JournalEntry.__table__.delete().where(JournalEntry.id == completion.id))
    session.commit()
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert f"l'action {action_id} (done) a 0 entrée(s) de fin" in result.output


def test_timers_disagreeing_with_the_engine_are_reported(app, client, users, session):
    pilot = drive(client, users)
    pilot.publish("rt_loop")
    dossier = pilot.dossier("C-3")
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    run = pilot.launch(dossier["id"], "rt_loop")
    pilot.complete(pilot.open_actions(run["id"])[0]["id"], "done", "paid")  # the timer is scheduled again
    waiting = select(Timer).where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
    pending = session.scalars(waiting).all()
    assert pending, "the drive leaves timers waiting"
    lost = pending[0]
    session.execute(update(Timer).where(Timer.id == lost.id).values(cancelled_at=lost.created_at))
    session.commit()
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    expected = f"[timers_disagree] le déroulement {lost.run_id} attend les délais ['{lost.task_id}']"
    assert expected in result.output
    # The quick check does not load engines: it cannot see it.
    assert "timers_disagree" not in app.test_cli_runner().invoke(args=["check", "--quick"]).output


def test_entries_are_written_with_their_transaction_and_read_back_before_it_ends(app, session, clock):
    from runtime import journal
    from runtime.actors import system
    from runtime.dossiers import create_dossier
    from runtime.journal import Kind

    dossier = create_dossier(session, system("test"), "J-1", "Journal", {}, clock.now())
    session.commit()

    def kinds() -> list[str]:
        query = select(JournalEntry.kind).where(JournalEntry.dossier_id == dossier.id)
        return list(session.scalars(query.order_by(JournalEntry.id)))

    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="a")
    assert kinds() == ["dossier_created", "dossier_updated"]  # read within the transaction that wrote it
    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="b")
    with session.begin_nested() as savepoint:
        journal.record(session, dossier.id, "user:1", Kind.PARTICIPANT_ADDED, clock.now())
        savepoint.rollback()
    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="c")
    session.rollback()  # the whole transaction: nothing of it stays
    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="d")
    with session.begin_nested() as savepoint:
        journal.record(session, dossier.id, "user:1", Kind.PARTICIPANT_ADDED, clock.now())
        savepoint.rollback()  # only what the savepoint recorded goes
    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="e")
    session.commit()
    entries = session.scalars(
        select(JournalEntry).where(JournalEntry.dossier_id == dossier.id).order_by(JournalEntry.id)
    ).all()
    assert [e.data.get("field") for e in entries] == [None, "d", "e"]
    assert all(e.prev_hash == before.hash for before, e in zip(entries, entries[1:], strict=False))
    assert app.test_cli_runner().invoke(args=["check", "--quick"]).exit_code == 0


def test_entries_of_a_session_closed_without_commit_are_not_history(app, session, clock):
    from runtime import journal
    from runtime.actors import system
    from runtime.dossiers import create_dossier
    from runtime.journal import Kind

    dossier = create_dossier(session, system("test"), "J-2", "Journal", {}, clock.now())
    session.commit()
    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="lost")
    session.close()
    journal.record(session, dossier.id, "user:1", Kind.DOSSIER_UPDATED, clock.now(), field="kept")
    session.commit()
    entries = session.scalars(
        select(JournalEntry).where(JournalEntry.dossier_id == dossier.id).order_by(JournalEntry.id)
    ).all()
    assert [e.data.get("field") for e in entries] == [None, "kept"]
    assert entries[1].prev_hash == entries[0].hash
