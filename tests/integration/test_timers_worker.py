"""The timer worker: claims, leases, races between workers, a killed worker, and the delays of the dialect
(boundary, cycle, intermediate, event-based gateway, due dates, business calendar, timeDate, month ends).

Time is a FixedClock moved by hand: nothing here waits for a timer."""

import signal
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bpmn.durations import end_of, start_of
from runtime import timers
from runtime.events import fire_timer
from runtime.journal import JournalEntry, Kind
from runtime.models import Run, Timer
from tests.integration.pilot import Pilot
from tests.integration.timer_helpers import (
    clone_runs,
    finish,
    fired_per_run,
    launch_many,
    output_of,
    publish,
    run_threads,
    start_worker,
)


def pending(session) -> list[Timer]:
    session.expire_all()
    query = select(Timer).where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)).order_by(Timer.id)
    return list(session.scalars(query))


def work(session, clock, worker="w1", **options) -> timers.Pass:
    return timers.run_once(session, worker, clock, **options)


def pilot_with(client, users, *names, reference="D-1", data=None, partner=False):
    pilot = Pilot(client, users)
    pilot.publish(*names, folder="timers")
    dossier = pilot.dossier(reference, data)
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    if partner:
        pilot.participant(dossier["id"], "partner", "Me Huissier", ["commissaire_justice"], user="partner")
    return pilot, dossier


# --- Claiming and firing -----------------------------------------------------------------------------------


def test_a_worker_sleeps_until_the_next_timer_falls_due(session, clock):
    """Not a whole polling interval: a worker that slept `interval` seconds fired timers up to that late."""
    assert timers.seconds_to_next(session, clock.now(), 5.0) == 5.0  # nothing pending: the longest sleep
    publish(session, "tm_tiny", now=clock.now())
    launch_many(session, "tm_tiny", 2, clock.now())  # PT2S timers
    assert timers.seconds_to_next(session, clock.now(), 5.0) == 2.0
    assert timers.seconds_to_next(session, clock.now(), 1.0) == 1.0  # at most the longest sleep
    clock.advance(seconds=1.5)
    assert timers.seconds_to_next(session, clock.now(), 5.0) == 0.5
    clock.advance(seconds=1)
    assert timers.seconds_to_next(session, clock.now(), 5.0) == 0.0  # due already: no sleep
    timers.claim_batch(session, "w1", clock.now(), 10)
    # Both are under w1's lease: another worker waits for the lease, at most its longest sleep.
    assert timers.seconds_to_next(session, clock.now(), 5.0) == 5.0
    assert not session().in_transaction()  # nothing held open while the worker sleeps


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_timer_committed_elsewhere_wakes_a_sleeping_worker_when_due_earlier(session, clock):
    """The worker listens (runtime.timers.Bell) before it looks at the next due time: a timer another
    connection commits afterwards, due before the worker would wake, ends its sleep; one due later not."""
    publish(session, "tm_tiny", now=clock.now())
    bell = timers.Bell(session.get_bind())
    stop = threading.Event()
    bell.open()
    try:
        assert bell.listening
        assert bell.sleep(0.3, stop, clock.now()) is False  # nothing announced: the whole sleep
        launch_many(session, "tm_tiny", 1, clock.now())  # a PT2S timer, committed by another connection
        assert bell.sleep(30, stop, clock.now()) is True  # due in 2 s: woken, not after 30 s
        launch_many(session, "tm_tiny", 1, clock.now(), prefix="L")
        assert bell.sleep(1.0, stop, clock.now()) is False  # due after the end of a 1 s sleep
        # Claiming and firing announce nothing: the rows they write are claimed, then fired.
        clock.advance(seconds=2)
        assert work(session, clock).fired == 2
        assert bell.sleep(0.3, stop, clock.now()) is False
    finally:
        bell.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_postgresql_a_worker_polls(session, clock):
    bell = timers.Bell(session.get_bind())
    bell.open()
    assert not bell.listening
    assert bell.sleep(0.05, threading.Event(), clock.now()) is False


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_sleeping_worker_process_fires_a_timer_created_after_it_fell_asleep(app, session, clock,
                                                                            database_url):
    """A real `sequences worker` with a 30 s interval and nothing pending sleeps 30 s; a timer due 2 s later,
    committed meanwhile by this process, is fired long before those 30 s are over, because its commit woke
    the worker (with polling it would still be asleep when the wait below gives up)."""
    clock.at = datetime.now(UTC)
    publish(session, "tm_tiny", now=clock.now())
    url = session.get_bind().url.render_as_string(hide_password=False)
    worker = start_worker(url, "--interval", "30")
    try:
        assert _wait_until(lambda: _listening(session), 20), output_of(worker)
        time.sleep(1)  # its first pass found nothing: asleep for 30 s
        clock.at = datetime.now(UTC)
        [run_id] = launch_many(session, "tm_tiny", 1, clock.now())
        assert _wait_until(lambda: _fired_count(session) == 1, 15), output_of(worker)
    finally:
        finish(worker)
    assert fired_per_run(session) == {run_id: 1}


def _listening(session) -> bool:
    from sqlalchemy import text

    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND query = :listen")
    found = session.scalar(query, {"listen": f"LISTEN {timers.CHANNEL}"})
    session.rollback()
    return found == 1


def test_a_due_timer_is_claimed_leased_and_fired_once(session, clock):
    publish(session, "tm_tiny", now=clock.now())
    [run_id] = launch_many(session, "tm_tiny", 1, clock.now())
    [timer] = pending(session)
    timer_id = timer.id
    assert timer.due_at == clock.now() + timedelta(seconds=2)

    assert work(session, clock).claimed == 0  # not due yet
    clock.advance(seconds=2)
    assert timers.claim_batch(session, "w1", clock.now(), 10) == [timer.id]
    session.expire_all()
    assert timer.claimed_by == "w1" and timer.claimed_until == clock.now() + timers.LEASE
    assert timers.claim_batch(session, "w2", clock.now(), 10) == []  # w1's lease holds

    # w1 dies without firing: once its lease has run out, w2 takes the timer over.
    clock.advance(seconds=61)
    done = work(session, clock, "w2")
    assert (done.claimed, done.fired, done.failed) == (1, 1, 0)
    assert work(session, clock, "w2").claimed == 0
    assert fire_timer(session, timer_id, clock.now()) is False
    session.rollback()

    assert session.get(Run, run_id).status == "completed"
    [entry] = session.scalars(select(JournalEntry).where(JournalEntry.kind == Kind.TIMER_FIRED.value)).all()
    assert entry.actor == "system:timer" and entry.run_id == run_id
    assert entry.data["due_at"] == datetime(2026, 3, 2, 9, 0, 2, tzinfo=UTC).isoformat()
    assert entry.data["fired_at"] == clock.now().isoformat() and entry.data["late_seconds"] == 61


def test_an_error_on_one_timer_does_not_stop_the_batch(session, clock, monkeypatch):
    publish(session, "tm_tiny", now=clock.now())
    run_ids = launch_many(session, "tm_tiny", 3, clock.now())
    broken = pending(session)[1].id
    real = timers.fire_taken

    def flaky(session, firing, now):
        if firing.timer_id == broken:
            raise RuntimeError("base indisponible")
        return real(session, firing, now)

    monkeypatch.setattr(timers, "fire_taken", flaky)
    clock.advance(seconds=2)
    done = work(session, clock)
    assert (done.claimed, done.fired, done.failed) == (3, 2, 1)
    [left] = pending(session)
    assert left.id == broken and left.attempts == 1
    assert left.claimed_until == clock.now() + timedelta(seconds=30)
    assert work(session, clock).claimed == 0  # waits before another try
    monkeypatch.setattr(timers, "fire_taken", real)
    clock.advance(seconds=31)
    assert work(session, clock).fired == 1
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}


def test_a_timer_failing_mid_batch_is_rolled_back_alone_and_the_batch_commits_together(session, clock,
                                                                                      monkeypatch):
    """The third of five timers fails after its step has written (its run moved, its history recorded):
    that firing is rolled back alone, counted on its timer, and the four others commit in one transaction."""
    from runtime import events
    from runtime.check import check_chains

    publish(session, "tm_tiny", now=clock.now())
    run_ids = launch_many(session, "tm_tiny", 5, clock.now())
    broken = pending(session)[2]
    broken_id, broken_run = broken.id, broken.run_id
    real_step = events.step_run

    def step_then_fail(session, run, *args, **kwargs):
        settled = real_step(session, run, *args, **kwargs)
        if run.id == broken_run:
            raise RuntimeError("panne après l'étape")
        return settled

    monkeypatch.setattr(events, "step_run", step_then_fail)
    monkeypatch.setattr(timers, "CHUNK_SECONDS", 60.0)  # one chunk, however slow the machine
    commits = []

    def count(_connection) -> None:
        commits.append(1)

    bind = session.get_bind()
    event.listen(bind, "commit", count)
    clock.advance(seconds=2)
    try:
        done = work(session, clock)
    finally:
        event.remove(bind, "commit", count)
    assert (done.claimed, done.fired, done.failed) == (5, 4, 1)
    assert len(commits) == 2  # the claim, then the whole batch (one per timer before)
    [left] = pending(session)
    assert left.id == broken_id and left.attempts == 1
    assert left.claimed_until == clock.now() + timedelta(seconds=30)
    assert session.get(Run, broken_run).status == "running"
    fired_entries = select(JournalEntry.run_id).where(JournalEntry.kind == Kind.TIMER_FIRED)
    assert broken_run not in session.scalars(fired_entries).all()
    assert check_chains(session) == []  # the history chains through the rolled-back firing
    monkeypatch.setattr(events, "step_run", real_step)
    clock.advance(seconds=31)
    assert work(session, clock).fired == 1
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}


def test_two_timers_of_one_run_due_together_fire_one_after_the_other(session, clock):
    """A chunk takes one timer per run (each firing reads the run as the one before left it): the second
    waits for the next chunk of the same pass."""
    from runtime.check import check_chains

    publish(session, "tm_two", now=clock.now())
    [run_id] = launch_many(session, "tm_two", 1, clock.now())
    assert len(pending(session)) == 2
    clock.advance(seconds=2)
    done = work(session, clock)
    assert (done.claimed, done.fired, done.skipped, done.failed) == (2, 2, 0, 0)
    assert pending(session) == [] and session.get(Run, run_id).status == "completed"
    assert fired_per_run(session) == {run_id: 2}
    assert check_chains(session) == []


def test_a_chunk_of_timers_costs_the_same_statements_whatever_its_size(session, clock, monkeypatch):
    """Firing a chunk: claim, then take (dossiers locked, timers marked, runs and open actions read), then
    at the commit the history and the runs written, each in one statement for the whole chunk; no savepoint
    is sent for a firing that writes nothing else."""
    publish(session, "tm_tiny", now=clock.now())
    [model] = launch_many(session, "tm_tiny", 1, clock.now())
    [timer] = pending(session)
    clone_runs(session, model, [timer.due_at] * 29)
    clock.advance(seconds=2)
    monkeypatch.setattr(timers, "CHUNK_SECONDS", 60.0)  # one chunk each, however slow the machine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement.split()[0].upper())

    bind = session.get_bind()
    event.listen(bind, "before_cursor_execute", count)
    try:
        done = work(session, clock, batch=5)
        few = len(statements)
        statements.clear()
        done_more = work(session, clock, batch=25)
    finally:
        event.remove(bind, "before_cursor_execute", count)
    assert (done.fired, done_more.fired) == (5, 25)
    assert len(statements) == few <= 10, statements
    assert "SAVEPOINT" not in statements


def test_a_stopping_worker_releases_what_it_has_not_fired(session, clock):
    publish(session, "tm_tiny", now=clock.now())
    launch_many(session, "tm_tiny", 4, clock.now())
    clock.advance(seconds=2)
    calls = iter([False, True])
    done = work(session, clock, should_stop=lambda: next(calls, True))
    assert (done.claimed, done.fired, done.released) == (4, 1, 3)
    assert all(t.claimed_by is None for t in pending(session))
    assert work(session, clock, "w2").fired == 3  # at once, without waiting for a lease


def test_cancelled_timers_are_not_claimed(session, clock):
    from runtime.actors import system
    from runtime.runs import interrupt_run

    publish(session, "tm_tiny", now=clock.now())
    [run_id] = launch_many(session, "tm_tiny", 1, clock.now())
    interrupt_run(session, run_id, system("test"), "abandon", clock.now())
    session.commit()
    clock.advance(days=1)
    assert work(session, clock).claimed == 0
    assert fired_per_run(session) == {}


# --- Several workers ---------------------------------------------------------------------------------------


def drain(engine, clock, worker, batch, fired):
    def body():
        with Session(engine) as own:
            while True:
                done = timers.run_once(own, worker, clock, batch=batch)
                fired[worker] = fired.get(worker, 0) + done.fired
                if done.claimed == 0:
                    return
    return body


def seed(session, clock, count: int) -> list[int]:
    """`count` runs of tm_tiny waiting on their timer: one launched for real, the others copied from it."""
    publish(session, "tm_tiny", now=clock.now())
    [run_id] = launch_many(session, "tm_tiny", 1, clock.now())
    [timer] = pending(session)
    return [run_id, *clone_runs(session, run_id, [timer.due_at] * (count - 1))]


def test_two_workers_racing_fire_each_timer_exactly_once(app, session, clock):
    count = 400
    run_ids = seed(session, clock, count)
    clock.advance(minutes=1)
    fired: dict[str, int] = {}
    engine = session.get_bind()
    errors = run_threads([drain(engine, clock, "w1", 7, fired), drain(engine, clock, "w2", 7, fired)])
    assert errors == []
    assert sum(fired.values()) == count
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}
    assert pending(session) == []
    assert session.scalar(select(func.count()).select_from(Run).where(Run.status == "completed")) == count


def test_overlapping_claims_still_fire_each_timer_once(app, session, clock):
    """Leases are an optimisation: two workers holding the same timers (a lease expired under a slow worker)
    still fire each once, because fire_timer re-checks the timer under the run's lock."""
    run_ids = seed(session, clock, 100)
    ids = [t.id for t in pending(session)]
    session.rollback()  # on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)
    clock.advance(minutes=1)
    engine = session.get_bind()
    fired = {"a": 0, "b": 0}

    def fire_all(name, order):
        def body():
            with Session(engine) as own:
                for timer_id in order:
                    fired[name] += fire_timer(own, timer_id, clock.now())
                    own.commit()
        return body

    errors = run_threads([fire_all("a", ids), fire_all("b", list(reversed(ids)))])
    assert errors == []
    assert fired["a"] + fired["b"] == 100
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_batch_loses_nothing(app, session, clock, database_url):
    """A real `sequences worker` claims the whole batch and is killed (-9) while it fires, with firings done
    and not committed yet (its chunk in progress); a second worker takes over once the first one's leases
    run out: every timer fired, none twice."""
    clock.at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    count, blocked_at = 200, 100
    run_ids = seed(session, clock, count)
    url = session.get_bind().url.render_as_string(hide_password=False)
    order = [t.run_id for t in pending(session)]  # due order: all due together, then by id

    # Hold one run's lock, so that the worker stops in the middle of its batch, deterministically.
    blocker = Session(session.get_bind())
    blocker.execute(select(Run.id).where(Run.id == order[blocked_at]).with_for_update())
    first = start_worker(url, "--batch", "500", "--lease", "3", "--interval", "0.2")
    try:
        # It fires in chunks: what it fired before the blocked run's chunk is committed, the rest is not.
        least = blocked_at - timers.CHUNK_RUNS
        assert _wait_until(lambda: _fired_count(session) >= least, 30), output_of(first)
        assert _wait_until_still(lambda: _fired_count(session), 1.0, 30), output_of(first)
        committed = _fired_count(session)
        assert least <= committed <= blocked_at
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        finish(first)
        blocker.rollback()
        blocker.close()
    session.expire_all()
    claimed = session.scalars(select(Timer.claimed_by).where(Timer.fired_at.is_(None))).all()
    assert len(claimed) == count - committed and all(c and c.endswith(f":{first.pid}") for c in claimed)

    second = start_worker(url, "--batch", "25", "--interval", "0.2")
    try:
        assert _wait_until(lambda: _fired_count(session) >= count, 40), output_of(second)
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0, output_of(second)  # graceful stop
    finally:
        finish(second)
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}
    assert pending(session) == []


def _fired_count(session) -> int:
    session.rollback()
    count = session.scalar(select(func.count()).select_from(Timer).where(Timer.fired_at.is_not(None)))
    session.rollback()  # on SQLite every transaction holds the write lock (BEGIN IMMEDIATE)
    return count


def _wait_until_still(value, still: float, seconds: float) -> bool:
    """Waits until `value()` has not changed for `still` seconds (at most `seconds`)."""
    deadline = time.monotonic() + seconds
    last, since = value(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = value()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= still:
            return True
    return False


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# --- The delays of the dialect, driven through the API -----------------------------------------------------


def test_boundary_timer_interrupts_the_action_and_due_date_flags_it_overdue(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_boundary", partner=True)
    run = pilot.launch(dossier["id"], "tm_boundary")
    serve = pilot.only_action(run["id"], "Serve")
    # Due at the end of its 8th day (Paris); the timer fires at the start of the day after the 15th.
    assert serve["due_at"] == end_of(date(2026, 3, 10)).isoformat() and serve["overdue"] is False
    [timer] = pending(session)
    assert timer.element_id == "Deadline" and timer.due_at == start_of(date(2026, 3, 18))

    clock.advance(days=9)
    assert work(session, clock).claimed == 0
    [listed] = pilot.call("GET", f"/actions?dossier_id={dossier['id']}&status=open", expect=200)
    assert listed["element_id"] == "Serve" and listed["overdue"] is True and listed["status"] == "open"
    partner_view = pilot.call("GET", "/actions?mine=true", who="partner", expect=200)
    assert [a["overdue"] for a in partner_view] == [True]

    clock.at = timer.due_at - timedelta(seconds=1)
    assert work(session, clock).claimed == 0
    clock.at = timer.due_at
    assert work(session, clock).fired == 1
    after = pilot.run(run["id"])
    assert [a["element_id"] for a in after["open_actions"]] == ["Escalate"]
    cancelled = pilot.call("GET", f"/actions/{serve['id']}", expect=200)
    assert cancelled["status"] == "cancelled" and cancelled["completed_by"] == "system:timer"
    assert cancelled["overdue"] is False
    history = pilot.history(dossier["id"])
    [fired] = [e for e in history if e["kind"] == "timer_fired"]
    assert fired["actor"] == "system:timer" and fired["data"]["element_id"] == "Deadline"
    assert fired["data"]["due_at"] == timer.due_at.isoformat() == fired["data"]["fired_at"]


def test_completing_the_action_first_cancels_its_boundary_timer(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_boundary", partner=True)
    run = pilot.launch(dossier["id"], "tm_boundary")
    clock.advance(days=3)
    pilot.complete(pilot.only_action(run["id"], "Serve")["id"], who="partner")
    assert pending(session) == []
    clock.advance(days=30)
    assert work(session, clock).claimed == 0
    assert pilot.run(run["id"])["status"] == "completed"


def test_non_interrupting_cycle_reminds_three_times_then_stops(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_cycle")
    run = pilot.launch(dossier["id"], "tm_cycle")
    start = clock.now().date()
    for week in (1, 2, 3):
        [timer] = pending(session)
        # Each week starts from the midnight the last one fired at: no drift of a day per firing.
        assert timer.due_at == start_of(start + timedelta(days=7 * week + 1))
        clock.at = timer.due_at - timedelta(minutes=1)
        assert work(session, clock).claimed == 0
        clock.at = timer.due_at
        assert work(session, clock).fired == 1
        reminders = [a for a in pilot.open_actions(run["id"]) if a["element_id"] == "Remind"]
        assert len(reminders) == week
    assert pending(session) == []
    clock.advance(days=30)
    assert work(session, clock).claimed == 0
    assert sorted(a["element_id"] for a in pilot.open_actions(run["id"])) == ["Remind"] * 3 + ["Wait_payment"]
    fired = [e for e in pilot.history(dossier["id"]) if e["kind"] == "timer_fired"]
    assert len(fired) == 3 and {e["data"]["element_id"] for e in fired} == {"Weekly"}
    # The reminders live on their own: paying ends the wait, the reminders are still there to complete.
    pilot.complete(pilot.only_action(run["id"], "Wait_payment")["id"])
    for reminder in pilot.open_actions(run["id"]):
        pilot.complete(reminder["id"])
    assert pilot.run(run["id"])["status"] == "completed"


def test_intermediate_timer_waits_six_weeks(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_intermediate")
    run = pilot.launch(dossier["id"], "tm_intermediate")
    pilot.complete(pilot.only_action(run["id"], "Serve")["id"])
    served = clock.now()
    [timer] = pending(session)
    assert timer.due_at == start_of(served.date() + timedelta(weeks=6, days=1))
    clock.at = timer.due_at - timedelta(seconds=1)
    assert work(session, clock).claimed == 0
    assert pilot.open_actions(run["id"]) == []
    clock.advance(seconds=1)
    assert work(session, clock).fired == 1
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Check"]


def test_event_based_gateway_payment_wins_over_the_deadline(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_race")
    run = pilot.launch(dossier["id"], "tm_race")
    [timer] = pending(session)
    assert timer.element_id == "Deadline" and timer.due_at == start_of(date(2026, 4, 2))
    clock.advance(days=10)
    posted = pilot.call("POST", f"/dossiers/{dossier['id']}/events", json={"name": "payment_received"},
                        expect=202)
    assert posted["delivered_to"] == [run["id"]]
    assert pending(session) == []
    session.expire_all()
    assert session.get(Timer, timer.id).cancelled_at == clock.now()
    clock.advance(days=30)
    assert work(session, clock).claimed == 0
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Thank"]


def test_event_based_gateway_deadline_wins_over_the_payment(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_race")
    run = pilot.launch(dossier["id"], "tm_race")
    clock.advance(days=30)
    assert work(session, clock).claimed == 0  # the 30th day is not over
    clock.advance(days=1)
    assert work(session, clock).fired == 1
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Late"]
    posted = pilot.call("POST", f"/dossiers/{dossier['id']}/events", json={"name": "payment_received"},
                        expect=202)
    assert posted["delivered_to"] == []
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Late"]


def test_business_calendar_skips_weekends_14_july_and_15_august(client, users, session, clock):
    # 2028: 14 July is a Friday, 15 August a Tuesday.
    clock.at = datetime(2028, 7, 3, 9, 0, tzinfo=UTC)  # a Monday
    pilot, dossier = pilot_with(client, users, "tm_business")
    run = pilot.launch(dossier["id"], "tm_business")
    answer = pilot.only_action(run["id"], "Answer")
    assert answer["due_at"] == end_of(date(2028, 7, 25)).isoformat()  # 15 working days
    assert answer["due_note"]["fr"] == "15 jours ouvrés à compter du 3 juillet 2028 : mardi 25 juillet 2028"
    clock.at = datetime(2028, 8, 1, 9, 0, tzinfo=UTC)
    pilot.complete(answer["id"])
    [timer] = pending(session)
    # 15 working days end on 23 August (calendar days would say 16 August); it fires once that day is over.
    assert timer.due_at == start_of(date(2028, 8, 24)) == datetime(2028, 8, 23, 22, 0, tzinfo=UTC)
    clock.at = datetime(2028, 8, 23, 21, 59, tzinfo=UTC)
    assert work(session, clock).claimed == 0
    clock.at = datetime(2028, 8, 23, 22, 0, tzinfo=UTC)
    assert work(session, clock).fired == 1
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Follow_up"]


def test_time_date_computed_from_the_hearing_date(client, users, session, clock):
    pilot, dossier = pilot_with(client, users, "tm_hearing", data={"hearing_date": "2026-06-15"},
                                partner=True)
    pilot.launch(dossier["id"], "tm_hearing")
    [timer] = pending(session)
    assert timer.due_at == start_of(date(2026, 5, 4))  # six weeks before 15 June, from its start in Paris
    clock.at = datetime(2026, 5, 3, 21, 59, tzinfo=UTC)
    assert work(session, clock).claimed == 0
    clock.at = datetime(2026, 5, 3, 22, 0, tzinfo=UTC)
    assert work(session, clock).fired == 1
    [notify] = pilot.call("GET", "/actions?mine=true", who="partner", expect=200)
    assert notify["element_id"] == "Notify_prefect" and notify["role"] == "commissaire_justice"


@pytest.mark.parametrize(("start", "expected"), [
    (datetime(2026, 1, 31, 9, 0, tzinfo=UTC), date(2026, 2, 28)),
    (datetime(2028, 1, 31, 9, 0, tzinfo=UTC), date(2028, 2, 29)),
    (datetime(2026, 3, 31, 9, 0, tzinfo=UTC), date(2026, 4, 30)),
])
def test_a_month_from_the_end_of_a_month(client, users, session, clock, start, expected):
    clock.at = start
    pilot, dossier = pilot_with(client, users, "tm_monthly")
    run = pilot.launch(dossier["id"], "tm_monthly")
    installment = pilot.only_action(run["id"], "Installment")
    assert installment["due_at"] == end_of(expected).isoformat()
    pilot.complete(installment["id"])
    [timer] = pending(session)
    fires = start_of(expected + timedelta(days=1))
    assert timer.due_at == fires
    clock.at = fires - timedelta(minutes=1)
    assert work(session, clock).claimed == 0
    clock.at = fires
    assert work(session, clock).fired == 1
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Next"]


def test_a_long_lived_worker_session_sees_new_timers(app, session, clock):
    """The worker keeps one session for hours: each pass must see what others committed since."""
    publish(session, "tm_tiny", now=clock.now())
    engine = session.get_bind()
    with Session(engine) as own:
        assert timers.run_once(own, "w", clock).claimed == 0
        launch_many(session, "tm_tiny", 2, clock.now())
        clock.advance(seconds=2)
        assert timers.run_once(own, "w", clock).fired == 2


def test_worker_once_from_the_command_line(app, session, clock):
    from web.worker import worker_command

    publish(session, "tm_tiny", now=clock.now())
    run_ids = launch_many(session, "tm_tiny", 5, clock.now())
    clock.advance(seconds=2)
    result = app.test_cli_runner().invoke(worker_command, ["--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}


def test_worker_identifies_itself_by_host_and_pid():
    import os
    import socket

    from web.worker import worker_id

    assert worker_id() == f"{socket.gethostname()}:{os.getpid()}"


def test_embedded_worker_fires_due_timers(app, session, clock):
    from web.worker import start_embedded, stop_embedded

    publish(session, "tm_tiny", now=clock.now())
    run_ids = launch_many(session, "tm_tiny", 3, clock.now())
    clock.advance(seconds=2)
    app.config["WORKER_INTERVAL_SECONDS"] = 0.05
    thread = start_embedded(app)
    try:
        assert start_embedded(app) is thread  # once per app
        assert _wait_until(lambda: _fired_count(session) == 3, 20)
    finally:
        stop_embedded(app)
    assert not thread.is_alive()
    assert fired_per_run(session) == {run_id: 1 for run_id in run_ids}


# --- Legal time: the dossier's place chooses the public holidays ------------------------------------------


@pytest.mark.parametrize(("data", "last_day", "place"), [
    ({"address": "3 rue Nationale, 75013 Paris"}, date(2027, 3, 26), None),
    # Good Friday, then the weekend and Easter Monday
    ({"address": "12 rue Serpenoise, 57000 Metz"}, date(2027, 3, 30), "Moselle"),
    ({"address": "Paris", "departement": "67"}, date(2027, 3, 30), "Alsace"),  # set by hand
])
def test_a_legal_due_date_skips_the_holidays_of_the_place(client, users, clock, data, last_day, place):
    clock.at = datetime(2027, 3, 11, 9, 0, tzinfo=UTC)  # a Thursday: 15 days end on Good Friday 26 March
    pilot, dossier = pilot_with(client, users, "tm_legal", data=data, partner=True)
    run = pilot.launch(dossier["id"], "tm_legal")
    serve = pilot.only_action(run["id"], "Serve")
    assert serve["due_at"] == end_of(last_day).isoformat()
    assert ("Vendredi saint" in serve["due_note"]["fr"]) is (place is not None)
    assert serve["due_note"]["fr"].endswith(f"jours fériés : {place}") is (place is not None)


def test_a_legal_timer_kept_out_of_the_truce_keeps_its_note(client, users, session, clock):
    clock.at = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)  # one month ends on 15 November, in the truce
    pilot, dossier = pilot_with(client, users, "tm_legal", partner=True)
    run = pilot.launch(dossier["id"], "tm_legal")
    [timer] = pending(session)
    assert timer.due_at == start_of(date(2027, 4, 1))
    assert "après la trêve hivernale" in timer.due_note["fr"]
    scheduled = [e for e in pilot.history(dossier["id"]) if e["kind"] == "timer_scheduled"]
    assert scheduled[-1]["data"]["due_at"] == timer.due_at.isoformat()
    clock.at = timer.due_at
    assert work(session, clock).fired == 1
    assert [a["element_id"] for a in pilot.open_actions(run["id"])] == ["Escalate"]
