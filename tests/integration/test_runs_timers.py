"""Timers seen from the runtime: scheduled in their table at the right time, fired by id."""

from datetime import date

from sqlalchemy import select

from bpmn.durations import start_of
from runtime.events import fire_timer
from runtime.models import Timer
from tests.integration.pilot import Pilot


def test_boundary_timer_cancels_the_action_and_takes_its_path(client, users, session, clock):
    pilot = Pilot(client, users)
    pilot.publish("rt_loop")
    dossier = pilot.dossier("D-T")
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    run = pilot.launch(dossier["id"], "rt_loop")
    first = pilot.only_action(run["id"], "Installment")
    [timer] = session.scalars(select(Timer).where(Timer.run_id == run["id"])).all()
    assert timer.element_id == "Late" and timer.due_at == start_of(date(2026, 4, 12))
    # Looping cancels the old timer and schedules a new one from the new step.
    clock.advance(days=10)
    pilot.complete(first["id"], "done", "paid")
    session.expire_all()
    timers = session.scalars(select(Timer).where(Timer.run_id == run["id"]).order_by(Timer.id)).all()
    assert [t.cancelled_at is not None for t in timers] == [True, False]
    assert timers[1].due_at == start_of(date(2026, 4, 22))
    clock.advance(days=40)
    assert fire_timer(session, timers[1].id, clock.now()) is True
    session.commit()
    assert fire_timer(session, timers[1].id, clock.now()) is False  # never twice
    after = pilot.run(run["id"])
    assert after["status"] == "completed"
    history = pilot.history(dossier["id"])
    fired = [e for e in history if e["kind"] == "timer_fired"]
    assert len(fired) == 1 and fired[0]["actor"] == "system:timer"
    cancelled = [e for e in history if e["kind"] == "action_cancelled"]
    assert cancelled[-1]["actor"] == "system:timer"
