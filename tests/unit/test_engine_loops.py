"""Runs that loop for years: the pruned state stays small and behaves like Spiff's own (unpruned) tree.

Unpruned Spiff 3.2 cannot go that far (RecursionError near 330 loops with boundary events, silent stall
near 500 without): the equivalence is checked over the first loops, the bound over 2,000.
"""

import json

from bpmn.engine import Engine
from tests.unit.test_engine import CONTEXT, Twin, bundle, complete, deliver, fire, open_ids

LOOP_OPERATIONS = (
    lambda target: target.complete("work", "again"),
    lambda target: target.fire("timeout"),
    lambda target: target.deliver("ping", {"n": 1}),
)


def test_long_loop_behaves_like_unpruned_spiff():
    twin = Twin(bundle("long_loop"))
    for index in range(150):
        LOOP_OPERATIONS[index % 3](twin)
        assert open_ids(twin.view) == ["work"]
        assert [t[0] for t in twin.view["timers"]] == ["timeout"]
        assert twin.view["messages"] == ["ping"]
    assert twin.complete("work", "stop")["ends"] == ["end"]
    assert twin.max_tasks < 60


def test_two_thousand_loops_keep_a_small_state():
    specs = bundle("long_loop")
    state = Engine.start(specs, CONTEXT).dump()
    biggest_tree = biggest_state = 0
    for index in range(2_000):
        engine = Engine.restore(specs, state, CONTEXT)
        match index % 3:
            case 0:
                complete(engine, "work", "again")
            case 1:
                assert fire(engine, "timeout")
            case 2:
                assert deliver(engine, "ping", {"n": index})
        state = json.loads(json.dumps(engine.dump()))
        biggest_tree = max(biggest_tree, engine.task_count())
        biggest_state = max(biggest_state, len(json.dumps(state)))
    assert biggest_tree < 60
    assert biggest_state < 50_000
    engine = Engine.restore(specs, state, CONTEXT)
    assert [t.element_id for t in engine.open_tasks()] == ["work"]
    complete(engine, "work", "stop")
    assert engine.is_completed() and engine.end_events_reached() == ["end"]


def test_parallel_loop_behaves_like_unpruned_spiff():
    twin = Twin(bundle("parallel_loop"))
    for _ in range(60):
        twin.complete("task_a")
        twin.complete("task_b")
        twin.complete("decide", "again")
    assert open_ids(twin.view) == ["task_a", "task_b"]
    assert twin.max_tasks < 40


def test_cycle_reminders_stay_bounded():
    # While the process runs, its end join keeps the branches that already ended (Spiff merges their data
    # when the process ends): two tasks per ended reminder, bounded by the cycle's count.
    specs = bundle("cycle_timer")
    engine = Engine.start(specs, CONTEXT)
    for _ in range(3):
        assert fire(engine, "weekly")
        engine = Engine.restore(specs, engine.dump(), CONTEXT)
        complete(engine, "reminder")
    assert engine.waiting_timers() == []
    assert engine.task_count() <= 20
