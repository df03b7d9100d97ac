"""One function takes every step of a run (runtime.step.step_run), and the errors it meets that are not the
engine's reach the caller instead of being recorded as a failed run or a business answer."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from designer.services import latest_version
from kernel.errors import RuleBroken
from runtime import actions, events, runs, specs, step
from runtime.actors import system
from runtime.events import fire_timer
from runtime.models import Run, RunStatus, Timer
from tests.integration.pilot import Pilot


def _database_down(*_args, **_kwargs):
    raise OperationalError("SELECT ...", {}, Exception("server closed the connection unexpectedly"))


@pytest.fixture
def pilot(client, users):
    pilot = Pilot(client, users)
    pilot.publish("rt_loop", "rt_sub", "rt_plan")
    return pilot


def _looping(pilot, reference):
    dossier = pilot.dossier(reference)
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    return dossier, pilot.launch(dossier["id"], "rt_loop")


def test_a_completion_a_timer_and_an_event_each_take_one_step(pilot, session, clock, monkeypatch):
    taken = []
    original = step.step_run

    def spy(session, run, trigger, *args, **kwargs):
        taken.append(trigger.kind)
        return original(session, run, trigger, *args, **kwargs)

    for module in (step, runs, actions, events):
        monkeypatch.setattr(module, "step_run", spy)

    _dossier, run = _looping(pilot, "D-STEP-1")
    pilot.complete(pilot.only_action(run["id"], "Installment")["id"], "done", "paid")
    assert taken == ["start", "action"]
    timer = session.scalars(
        select(Timer).where(Timer.run_id == run["id"], Timer.cancelled_at.is_(None))
    ).one()
    clock.advance(days=41)
    assert fire_timer(session, timer.id, clock.now()) is True
    session.commit()
    assert taken == ["start", "action", "timer"]
    assert pilot.run(run["id"])["status"] == "completed"

    other, second = _looping(pilot, "D-STEP-2")
    pilot.call("POST", f"/dossiers/{other['id']}/events", expect=202, json={"name": "surendettement"})
    assert taken == ["start", "action", "timer", "start", "event"]
    assert pilot.run(second["id"])["status"] == "completed"


def test_a_database_error_during_a_step_is_not_a_failed_run(pilot, session, clock, monkeypatch):
    _dossier, run = _looping(pilot, "D-STEP-3")
    action_id = pilot.only_action(run["id"], "Installment")["id"]
    monkeypatch.setattr(step, "bundle_of_run", _database_down)
    with pytest.raises(OperationalError):
        actions.complete_action(session, action_id, system("test"), "done", "paid", None, clock.now())
    session.rollback()
    assert session.get(Run, run["id"]).status == RunStatus.RUNNING
    kinds = [e["kind"] for e in pilot.history(_dossier["id"])]
    assert "run_failed" not in kinds


def test_a_database_error_while_pinning_called_sequences_is_not_an_unpublished_one(
    pilot, session, monkeypatch
):
    plan = latest_version(session, "rt_plan")
    assert specs.pin_called_versions(session, plan) == {"rt_sub": latest_version(session, "rt_sub").id}
    monkeypatch.setattr(specs, "latest_version", _database_down)
    with pytest.raises(OperationalError):
        specs.pin_called_versions(session, plan)


def test_an_unpublished_called_sequence_is_still_refused_as_such(session, monkeypatch, pilot):
    from kernel.errors import NotFound

    def unpublished(_session, key):
        raise NotFound(f"La séquence « {key} » n'a aucune version publiée.")

    monkeypatch.setattr(specs, "latest_version", unpublished)
    with pytest.raises(RuleBroken) as refused:
        specs.pin_called_versions(session, latest_version(session, "rt_plan"))
    assert refused.value.code == "called_sequence_unknown"
