"""bpmn.spec: our dialect parsed by SpiffWorkflow, stored as JSON, and the safe script engine."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bpmn.engine import Engine, SpecBundle
from bpmn.spec import (
    SafeScriptEngine,
    SendAction,
    SeqCycleTimer,
    SeqDateTimer,
    SeqDurationTimer,
    SeqMessage,
    build_spec,
    load_spec,
)
from kernel.errors import InvalidSequence

DATA = Path(__file__).parents[1] / "data" / "bpmn" / "engine"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def read(name: str) -> bytes:
    return (DATA / f"{name}.bpmn").read_bytes()


def refused(data: bytes) -> list[tuple]:
    with pytest.raises(InvalidSequence) as caught:
        build_spec(data)
    return [(i.element_id, i.code) for i in caught.value.issues]


def test_build_spec_is_json_and_round_trips():
    stored = build_spec(read("intermediate_timer"))
    assert stored["key"] == "intermediate_timer" and stored["name"] == "Mise en demeure"
    loaded = load_spec(json.loads(json.dumps(stored)))
    specs = loaded.spec.task_specs
    assert isinstance(specs["send_notice"], SendAction) and specs["send_notice"].manual
    assert specs["send_notice"].lane == "Locataire"
    assert isinstance(specs["wait_8d"].event_definition, SeqDurationTimer)
    assert specs["wait_8d"].event_definition.expression == "P8D"
    assert isinstance(specs["wait_hearing"].event_definition, SeqDateTimer)


def test_cycle_and_message_definitions():
    cycle = load_spec(build_spec(read("cycle_timer"))).spec.task_specs["weekly"].event_definition
    assert isinstance(cycle, SeqCycleTimer) and cycle.repetitions == 3
    gateway = load_spec(build_spec(read("event_gateway"))).spec.task_specs["race"].event_definition
    assert {type(d) for d in gateway.event_definitions} == {SeqDurationTimer, SeqMessage}
    assert "payment_received" in {d.name for d in gateway.event_definitions}


def test_embedded_subprocess_specs_are_named_after_the_sequence():
    stored = build_spec(read("subprocess"))
    assert list(stored["subprocesses"]) == ["subprocess:inner"]
    assert load_spec(stored).spec.task_specs["inner"].spec == "subprocess:inner"


def test_called_sequences_are_listed():
    assert build_spec(read("call_parent"))["called"] == ["call_child"]


def test_script_tasks_are_refused():
    assert refused(read("script_task")) == [("run_script", "script_refused")]


def test_a_blank_diagram_is_refused():
    assert refused(read("not_executable")) == [(None, "executable_process")]


def test_a_bad_timer_is_refused_with_its_element():
    data = read("boundary_timer").replace(b"<bpmn:timeDuration>P15D", b"<bpmn:timeDuration>P15X")
    assert refused(data) == [("too_late", "bad_timer")]
    data = read("boundary_timer").replace(
        b"<bpmn:timeDuration>P15D</bpmn:timeDuration>",
        b"<bpmn:timeDate>__import__('os').getcwd()</bpmn:timeDate>")
    assert refused(data) == [("too_late", "bad_timer")]


def test_a_legacy_quoted_timer_is_read_as_plain_iso():
    # Older tools wrote Python-quoted values; validation and the engine read them the same way.
    data = read("boundary_timer").replace(b"<bpmn:timeDuration>P15D", b"<bpmn:timeDuration>'P15D'")
    engine = Engine.start(SpecBundle(load_spec(build_spec(data))), {"now": NOW})
    assert [(t.element_id, t.value) for t in engine.waiting_timers()] == [("too_late", "P15D")]


def test_a_hostile_condition_is_refused_at_publication():
    assert refused(read("attack")) == [("gw", "bad_condition")]


def test_timers_never_fire_from_the_clock():
    # PT0S would be long past for Spiff's own timers; ours wait for fire_timer.
    stored = json.dumps(build_spec(read("boundary_timer"))).replace('"P15D"', '"PT0S"')
    engine = Engine.start(SpecBundle(load_spec(json.loads(stored))), {"now": NOW})
    engine._workflow.refresh_timers()
    engine._workflow.do_engine_steps()
    assert [t.element_id for t in engine.open_tasks()] == ["serve"]
    assert [(t.element_id, t.value) for t in engine.waiting_timers()] == [("too_late", "PT0S")]


def real_task(data: dict):
    engine = Engine.start(SpecBundle(load_spec(build_spec(read("exclusive")))), {"now": NOW})
    task = engine._task(engine.open_tasks()[0].task_id)
    task.data = data
    return task


def test_safe_script_engine_names():
    engine = SafeScriptEngine({"dossier": {"debt": 1200}, "now": NOW})
    task = real_task({"outcome": "paid", "event": {"amount": 3}, "secret": 1})
    assert engine.evaluate(task, 'outcome == "paid" and event.amount == 3 and dossier.debt > 1000') is True
    assert engine.evaluate(task, "status") is None
    with pytest.raises(Exception, match="refusée"):
        engine.evaluate(task, "secret")
    with pytest.raises(Exception, match="refusée"):
        engine.evaluate(task, "__import__('os').getcwd()")


def test_safe_script_engine_refuses_scripts_and_services():
    engine = SafeScriptEngine()
    with pytest.raises(Exception, match="scripts"):
        engine.execute(real_task({}), "x = 1")
    with pytest.raises(ValueError):
        engine.environment.execute("x = 1", {})
    with pytest.raises(Exception, match="service"):
        engine.call_service(real_task({}))
    assert engine.environment.evaluate('outcome == "ok"', {"outcome": "ok"}) is True
