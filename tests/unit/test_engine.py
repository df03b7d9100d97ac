"""The engine wrapper, scenario by scenario.

Every scenario runs twice side by side (Twin): pruned, with dump -> JSON -> restore between every step,
and Spiff's own unpruned tree kept in memory. After every step both must show the same open tasks,
waiting timers and messages, active elements and end state.
"""

import json
import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from bpmn.engine import Engine, EngineError, SpecBundle
from bpmn.spec import LoadedSpec, SafeScriptEngine, build_spec, load_spec
from kernel.errors import Conflict

DATA = Path(__file__).parents[1] / "data" / "bpmn" / "engine"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CONTEXT = {"dossier": {"hearing_at": "2026-06-01T09:00:00+00:00", "debt": 1200}, "now": NOW}


@cache
def spec_dict(name: str) -> str:
    # Stored as JSON, as the runtime does: the round trip is part of what is tested.
    return json.dumps(build_spec((DATA / f"{name}.bpmn").read_bytes()))


def loaded(name: str) -> LoadedSpec:
    return load_spec(json.loads(spec_dict(name)))


def bundle(name: str, *called: str) -> SpecBundle:
    return SpecBundle(loaded(name), {key: loaded(key) for key in called})


def view(engine: Engine) -> dict:
    return {
        "open": sorted((t.element_id, t.process_key, t.name) for t in engine.open_tasks()),
        "timers": sorted(
            (t.element_id, t.process_key, t.kind, t.value, t.fired) for t in engine.waiting_timers()
        ),
        "messages": sorted(engine.waiting_messages()),
        "active": engine.active_elements(),
        "completed": engine.is_completed(),
        "ends": engine.end_events_reached(),
        "terminated": engine.terminated,
    }


def task_id(engine: Engine, element_id: str) -> str:
    return next(t.task_id for t in engine.open_tasks() if t.element_id == element_id)


def timer_id(engine: Engine, element_id: str) -> str:
    return next(t.task_id for t in engine.waiting_timers() if t.element_id == element_id)


def complete(engine: Engine, element_id: str, outcome: str | None = None, **data) -> None:
    engine.complete(task_id(engine, element_id), {"status": "done", "outcome": outcome, **data})


def fire(engine: Engine, element_id: str) -> bool:
    return engine.fire_timer(timer_id(engine, element_id))


def deliver(engine: Engine, name: str, payload: dict | None = None) -> bool:
    return engine.deliver(name, payload or {})


class Twin:
    """One scenario on engines that must agree after every step: restored from the stored state at each step
    (as a run is), unpruned Spiff in memory, and pruned in memory (as runtime.engine_cache keeps one)."""

    def __init__(self, specs: SpecBundle, context: dict = CONTEXT):
        self.specs = specs
        self.context = context
        self.state = self._save(Engine.start(specs, context))
        self.plain = Engine.start(specs, context, prune=False)
        self.kept = self.pruned()
        self.max_tasks = 0
        self.view = self._compare()

    def _save(self, engine: Engine) -> dict:
        self.max_tasks = max(getattr(self, "max_tasks", 0), engine.task_count())
        return json.loads(json.dumps(engine.dump()))

    def pruned(self) -> Engine:
        return Engine.restore(self.specs, self.state, self.context)

    def _compare(self) -> dict:
        pruned = view(self.pruned())
        assert pruned == view(self.plain)
        return pruned

    def step(self, operation, *args, **kwargs):
        engine = self.pruned()
        result = operation(engine, *args, **kwargs)
        self.state = self._save(engine)
        assert operation(self.plain, *args, **kwargs) == result
        assert operation(self.kept, *args, **kwargs) == result
        self.kept.dump()  # as the runtime does with the engine it keeps
        self.view = self._compare()
        assert view(self.kept) == self.view and self.kept.task_count() == engine.task_count()
        return result

    def complete(self, element_id: str, outcome: str | None = None, **data) -> dict:
        self.step(complete, element_id, outcome, **data)
        return self.view

    def fire(self, element_id: str) -> dict:
        assert self.step(fire, element_id) is True
        return self.view

    def deliver(self, name: str, payload: dict | None = None) -> bool:
        return self.step(deliver, name, payload)


def open_ids(view_: dict) -> list[str]:
    return [element_id for element_id, _key, _name in view_["open"]]


def test_exclusive_gateway_follows_the_outcome():
    twin = Twin(bundle("exclusive"))
    assert twin.view["open"] == [("review", "exclusive", "Vérifier le paiement")]
    assert twin.view["active"] == ["review"]
    done = twin.complete("review", "paid")
    assert done["completed"] and done["ends"] == ["end_paid"] and not done["terminated"]
    assert done["open"] == [] and done["active"] == []


def test_default_flow_when_no_condition_holds():
    twin = Twin(bundle("exclusive"))
    assert open_ids(twin.complete("review", "unpaid")) == ["remind"]
    assert twin.complete("remind")["ends"] == ["end_unpaid"]


def test_interrupting_boundary_timer_cancels_the_task():
    twin = Twin(bundle("boundary_timer"))
    assert twin.view["timers"] == [("too_late", "boundary_timer", "duration", "P15D", 0)]
    after = twin.fire("too_late")
    assert open_ids(after) == ["escalate"] and after["timers"] == []
    assert twin.complete("escalate")["ends"] == ["end_late"]


def test_boundary_timer_disappears_when_the_task_is_done_first():
    twin = Twin(bundle("boundary_timer"))
    stale = timer_id(twin.pruned(), "too_late")
    done = twin.complete("serve")
    assert done["ends"] == ["end_ok"] and done["timers"] == []
    assert twin.pruned().fire_timer(stale) is False


def test_non_interrupting_cycle_timer_fires_its_count_then_stops():
    twin = Twin(bundle("cycle_timer"))
    assert twin.view["timers"] == [("weekly", "cycle_timer", "cycle", "R3/P7D", 0)]
    first_id = timer_id(twin.pruned(), "weekly")
    after = twin.fire("weekly")
    assert open_ids(after) == ["reminder", "wait_payment"]
    assert after["timers"] == [("weekly", "cycle_timer", "cycle", "R3/P7D", 1)]
    # Each occurrence has its own id: a worker retrying the first one changes nothing.
    assert timer_id(twin.pruned(), "weekly") != first_id
    assert twin.pruned().fire_timer(first_id) is False
    twin.complete("reminder")
    twin.fire("weekly")
    after = twin.fire("weekly")
    assert after["timers"] == []
    assert open_ids(after) == ["reminder", "reminder", "wait_payment"]
    twin.complete("reminder")
    twin.complete("wait_payment")
    done = twin.complete("reminder")
    assert done["completed"]
    assert sorted(done["ends"]) == ["end_main", "end_reminder", "end_reminder", "end_reminder"]


def test_cycle_timer_stops_when_the_task_is_done():
    twin = Twin(bundle("cycle_timer"))
    twin.fire("weekly")
    after = twin.complete("wait_payment")
    assert after["timers"] == [] and open_ids(after) == ["reminder"] and not after["completed"]
    assert twin.complete("reminder")["completed"]


def test_send_task_waits_then_intermediate_timers():
    twin = Twin(bundle("intermediate_timer"))
    assert twin.view["open"] == [("send_notice", "intermediate_timer", "Envoyer la mise en demeure")]
    assert twin.complete("send_notice")["timers"] == [("wait_8d", "intermediate_timer", "duration", "P8D", 0)]
    after = twin.fire("wait_8d")
    # timeDate is an expression here: evaluated once, with the dossier, when the timer starts waiting.
    assert after["timers"] == [("wait_hearing", "intermediate_timer", "date", "2026-06-01T09:00:00+00:00", 0)]
    assert open_ids(twin.fire("wait_hearing")) == ["check"]
    assert twin.complete("check")["ends"] == ["end"]


def test_event_based_gateway_message_wins():
    twin = Twin(bundle("event_gateway"))
    assert twin.view["timers"] == [("deadline", "event_gateway", "duration", "P30D", 0)]
    assert twin.view["messages"] == ["payment_received"]
    stale = timer_id(twin.pruned(), "deadline")
    assert twin.deliver("payment_received", {"amount": 150}) is True
    assert twin.view["ends"] == ["end_paid"] and twin.view["timers"] == []
    assert twin.pruned().fire_timer(stale) is False


def test_event_based_gateway_payload_becomes_event():
    twin = Twin(bundle("event_gateway"))
    assert twin.deliver("payment_received", {"amount": 50}) is True
    assert open_ids(twin.view) == ["partial"]


def test_event_based_gateway_timer_wins():
    twin = Twin(bundle("event_gateway"))
    after = twin.fire("deadline")
    assert open_ids(after) == ["late"] and after["messages"] == []
    assert twin.deliver("payment_received", {"amount": 150}) is False
    assert twin.complete("late")["ends"] == ["end_late"]


def test_boundary_message_interrupts_the_task():
    twin = Twin(bundle("boundary_message"))
    assert twin.view["messages"] == ["payment_received"]
    assert twin.deliver("nobody_waits_for_this") is False
    assert twin.deliver("payment_received", {"amount": 10}) is True
    assert open_ids(twin.view) == ["thank"] and twin.view["messages"] == []
    assert twin.complete("thank")["ends"] == ["end_paid"]


def test_parallel_split_and_join_in_a_loop():
    twin = Twin(bundle("parallel_loop"))
    for _ in range(12):
        assert open_ids(twin.view) == ["task_a", "task_b"]
        assert open_ids(twin.complete("task_a")) == ["task_b"]
        assert open_ids(twin.complete("task_b")) == ["decide"]
        twin.complete("decide", "again")
    twin.complete("task_a")
    twin.complete("task_b")
    assert twin.complete("decide", "stop")["ends"] == ["end"]
    assert twin.max_tasks < 30


def test_parallel_join_waits_for_both_branches_whatever_their_order():
    # Unpruned Spiff 3.2 counts the branches of earlier rounds and fires early when the order changes;
    # pruning drops them, so the join waits as BPMN says.
    specs = bundle("parallel_loop")
    state = Engine.start(specs, CONTEXT).dump()
    for round_ in range(6):
        first, second = ("task_a", "task_b") if round_ % 2 else ("task_b", "task_a")
        for element_id, outcome in ((first, None), (second, None), ("decide", "again")):
            engine = Engine.restore(specs, state, CONTEXT)
            complete(engine, element_id, outcome)
            state = engine.dump()
            if element_id == first:
                assert [t.element_id for t in engine.open_tasks()] == [second]


@pytest.mark.parametrize(
    ("choice", "branches"), [("a", ["task_a"]), ("b", ["task_b"]), ("both", ["task_a", "task_b"])]
)
def test_inclusive_gateway(choice, branches):
    twin = Twin(bundle("inclusive"))
    after = twin.complete("choose", choice)
    assert open_ids(after) == branches
    for index, element_id in enumerate(branches):
        after = twin.complete(element_id)
        assert open_ids(after) == (["after"] if index == len(branches) - 1 else branches[index + 1:])
    assert twin.complete("after")["ends"] == ["end"]


def test_embedded_subprocess():
    twin = Twin(bundle("subprocess"))
    assert twin.view["open"] == [("inner_task", "subprocess", "Instruire")]
    assert twin.view["active"] == ["inner", "inner_task"]
    assert open_ids(twin.complete("inner_task")) == ["after"]
    assert twin.complete("after")["ends"] == ["end"]


def test_call_activity_runs_the_sub_sequence_then_continues():
    twin = Twin(bundle("call_parent", "call_child"))
    assert twin.view["open"] == [("child_task", "call_child", "Démarche de la sous-séquence")]
    assert twin.view["active"] == ["call", "child_task"]
    after = twin.complete("child_task", "ok")
    assert after["timers"] == [("child_wait", "call_child", "duration", "P2D", 0)]
    assert twin.fire("child_wait")["open"] == [("after", "call_parent", "Conclure")]
    done = twin.complete("after")
    # Only the end events of the run's own process count (the runtime reads seq:next from them).
    assert done["completed"] and done["ends"] == ["end"]


def test_call_activity_sub_workflow_is_dropped_once_finished():
    specs = bundle("call_parent", "call_child")
    engine = Engine.start(specs, CONTEXT)
    complete(engine, "child_task", "ok")
    fire(engine, "child_wait")
    assert engine.dump()["workflow"]["subprocesses"] == {}


def test_terminate_end_event_cancels_open_actions():
    twin = Twin(bundle("terminate"))
    assert open_ids(twin.view) == ["task_a", "task_b"]
    done = twin.complete("task_a")
    assert done["completed"] and done["terminated"] and done["ends"] == ["stop_all"] and done["open"] == []


def test_cancel_ends_everything():
    engine = Engine.start(bundle("boundary_timer"), CONTEXT)
    engine.cancel()
    assert engine.open_tasks() == [] and engine.waiting_timers() == [] and engine.is_completed()
    assert engine.end_events_reached() == []


def test_dump_is_json_without_specs():
    engine = Engine.start(bundle("subprocess"), CONTEXT)
    state = engine.dump()
    text = json.dumps(state)
    assert "spec" not in state["workflow"] and "subprocess_specs" not in state["workflow"]
    assert "inner_task" in text and len(text) < 10_000


def test_restore_refuses_the_state_of_another_sequence():
    state = Engine.start(bundle("exclusive"), CONTEXT).dump()
    with pytest.raises(EngineError):
        Engine.restore(bundle("inclusive"), state, CONTEXT)


def test_completing_a_task_that_is_not_open_is_a_conflict():
    engine = Engine.start(bundle("exclusive"), CONTEXT)
    done = task_id(engine, "review")
    engine.complete(done, {"status": "done", "outcome": "paid"})
    with pytest.raises(Conflict):
        engine.complete(done, {"status": "done"})
    with pytest.raises(Conflict):
        engine.complete("not-a-task-id", {})


def test_conditions_see_actions_and_dossier():
    engine = Engine.start(bundle("exclusive"), CONTEXT)
    task = engine._task(task_id(engine, "review"))
    task.data.update({"actions": {"review": {"status": "done", "outcome": "paid"}}, "outcome": "paid"})
    script_engine = engine._workflow.script_engine
    assert script_engine.evaluate(task, 'actions["review"].outcome == "paid" and dossier.debt > 1000') is True


def hostile_spec(name: str, safe: str, hostile: str) -> SpecBundle:
    """A stored spec tampered with after publication (or published before validation existed)."""
    text = spec_dict(name)
    assert safe in text
    return SpecBundle(load_spec(json.loads(text.replace(safe, hostile))))


def test_hostile_condition_never_runs_before_or_after_restore(tmp_path):
    target = tmp_path / "pwned"
    hostile = json.dumps(f"__import__('os').system('touch {target}')")[1:-1]
    specs = hostile_spec("exclusive", 'outcome == \\"paid\\"', hostile)
    engine = Engine.start(specs, CONTEXT)
    assert isinstance(engine._workflow.script_engine, SafeScriptEngine)
    with pytest.raises(EngineError):
        complete(engine, "review", "paid")
    assert not target.exists()

    restored = Engine.restore(specs, Engine.start(specs, CONTEXT).dump(), CONTEXT)
    assert isinstance(restored._workflow.script_engine, SafeScriptEngine)
    with pytest.raises(EngineError):
        complete(restored, "review", "paid")
    assert not target.exists()
    assert not os.path.exists("/tmp/pwned")
