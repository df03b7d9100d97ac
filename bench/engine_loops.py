"""How a run that loops for years behaves: pruned engine versus SpiffWorkflow's unpruned tree.

    .venv/bin/python -m bench engine_loops        (BENCH_LOOPS: 2000)

The loop (tests/data/bpmn/engine/long_loop.bpmn) is a user task with an interrupting boundary timer and
an interrupting boundary message, going back through a gateway; the steps alternate completing the task,
firing the timer and delivering the message. A step is what the runtime does for one operation:
restore the saved state, run the operation, save the state (JSON). Baselines without pruning are run
until they fail (Spiff 3.2 dies near 330 loops with boundary events) or get too slow.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bpmn.engine import Engine, SpecBundle  # noqa: E402
from bpmn.spec import build_spec, load_spec  # noqa: E402

CONTEXT = {"dossier": {}, "now": datetime(2026, 1, 1, tzinfo=UTC)}
SLOW_STEP_SECONDS = 2.0


def operate(engine: Engine, index: int) -> None:
    match index % 3:
        case 0:
            task = next(t for t in engine.open_tasks() if t.element_id == "work")
            engine.complete(task.task_id, {"status": "done", "outcome": "again"})
        case 1:
            timer = next(t for t in engine.waiting_timers() if t.element_id == "timeout")
            assert engine.fire_timer(timer.task_id)
        case 2:
            assert engine.deliver("ping", {"n": index})
    if [t.element_id for t in engine.open_tasks()] != ["work"]:
        raise RuntimeError("the loop stalled: the task did not come back")


def run(specs: SpecBundle, loops: int, prune: bool, save: bool) -> dict:
    engine = Engine.start(specs, CONTEXT, prune=prune)
    state = json.dumps(engine.dump()) if save else ""
    times: list[float] = []
    failure = None
    for index in range(loops):
        began = time.perf_counter()
        try:
            if save:
                engine = Engine.restore(specs, json.loads(state), CONTEXT, prune=prune)
            operate(engine, index)
            if save:
                state = json.dumps(engine.dump())
        except Exception as error:  # the baselines are expected to die (RecursionError, stall)
            failure = f"{type(error).__name__} at loop {index}: {str(error)[:80]}"
            break
        times.append(time.perf_counter() - began)
        if times[-1] > SLOW_STEP_SECONDS:
            failure = f"stopped at loop {index}: one step took {times[-1]:.1f} s"
            break
    return {
        "times": times,
        "failure": failure,
        "tasks": engine.task_count(),
        "state_bytes": len(state) if save else len(json.dumps(engine.dump())),
    }


def median_ms(times: list[float], start: int, stop: int) -> float | None:
    window = times[start:stop]
    return statistics.median(window) * 1000 if window else None


def show(label: str, result: dict, loops: int) -> None:
    times = result["times"]
    early = median_ms(times, 10, 100)
    late = median_ms(times, loops - 100, loops)
    print(f"{label}")
    print(f"  loops done         {len(times)}" + (f"  ({result['failure']})" if result["failure"] else ""))
    print(f"  median step 10-100 {early:.2f} ms" if early is not None else "  median step 10-100 -")
    if late is not None:
        print(f"  median step {loops - 100}-{loops} {late:.2f} ms   ratio {late / early:.2f}")
    else:
        last = median_ms(times, max(0, len(times) - 20), len(times))
        print(f"  median of the last 20 steps before stopping {last:.1f} ms" if last else "")
    print(f"  tasks in the tree  {result['tasks']}")
    print(f"  saved state        {result['state_bytes'] / 1024:.1f} KB")


def main() -> None:
    loops = int(os.environ.get("BENCH_LOOPS", "2000"))
    stored = build_spec((ROOT / "tests/data/bpmn/engine/long_loop.bpmn").read_bytes())
    specs = SpecBundle(load_spec(json.loads(json.dumps(stored))))
    print(f"spec stored once per version: {len(json.dumps(stored)) / 1024:.1f} KB\n")
    for label, prune, save in (
        ("pruned, saved and restored every step", True, True),
        ("unpruned, saved and restored every step", False, True),
        ("unpruned, in memory", False, False),
    ):
        show(label, run(specs, loops, prune=prune, save=save), loops)


if __name__ == "__main__":
    main()
