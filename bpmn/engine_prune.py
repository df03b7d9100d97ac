"""Bounded live state for SpiffWorkflow 3.2 task trees.

Spiff keeps every task ever run: each loop through a gateway makes the tree one level deeper, so a plain
loop stalls after ~500 iterations, a loop with boundary events dies of RecursionError near 330, and every
step gets slower. After each engine operation we keep only what Spiff still reads:

- every unfinished task and its ancestor path (finished ancestors with a single child are spliced out,
  except the parent of each live task, which Spiff's joins and loop tasks look at);
- for a structured join (boundary-event join), the nearest split it finds with find_ancestor;
- for an unstructured join (parallel, inclusive, process end) that is waiting, the instances cancelled
  since it last fired and their parents: the join counts them, and the end join merges their data;
- sub-workflows whose task is finished (Spiff never removes them).

This relies on private attributes (Task._parent/_children, Workflow.tasks): Spiff is pinned, and the
pruned-versus-unpruned equivalence tests guard an upgrade. A pruned task cannot be reset to; going back
a step is the runtime's business (it keeps the state saved when a step is reached).
"""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.util.task import TaskState

_LIVE = TaskState.NOT_FINISHED_MASK


def prune(top: BpmnWorkflow) -> None:
    _drop_finished_subprocesses(top)
    for workflow in [top, *top.subprocesses.values()]:
        _prune_workflow(workflow)
        if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
            workflow.last_task = None
    _drop_finished_subprocesses(top)


def task_count(top: BpmnWorkflow) -> int:
    return len(top.tasks) + sum(len(sp.tasks) for sp in top.subprocesses.values())


def _drop_finished_subprocesses(top: BpmnWorkflow) -> None:
    changed = True
    while changed:
        changed = False
        for sp_id, subprocess in list(top.subprocesses.items()):
            owner = _find_task(top, sp_id)
            if owner is None or owner.has_state(TaskState.FINISHED_MASK):
                del top.subprocesses[sp_id]
                for task_id in subprocess.tasks:
                    top.event_manager.tasks.pop(task_id, None)
                changed = True


def _find_task(top: BpmnWorkflow, task_id: UUID):
    if task_id in top.tasks:
        return top.tasks[task_id]
    for subprocess in top.subprocesses.values():
        if task_id in subprocess.tasks:
            return subprocess.tasks[task_id]
    return None


def _prune_workflow(workflow) -> None:
    tasks = workflow.tasks
    root = workflow.task_tree
    keep: set[UUID] = {root.id}
    protected: set[UUID] = {root.id}

    def keep_path(task) -> None:
        while task is not None and task.id not in keep:
            keep.add(task.id)
            task = tasks.get(task._parent)

    live = [task for task in tasks.values() if task.has_state(_LIVE)]
    waiting_joins = set()
    for task in live:
        keep_path(task)
        if task._parent is not None:
            protected.add(task._parent)
        spec = task.task_spec
        if isinstance(spec, UnstructuredJoin) and task.state == TaskState.WAITING:
            waiting_joins.add(spec.name)
        elif isinstance(spec, Join) and spec.split_task is not None:
            split = _nearest_ancestor(tasks, task, spec.split_task)
            if split is not None:
                protected.add(split.id)

    for task in tasks.values():
        if task.task_spec.name in waiting_joins and task.state == TaskState.CANCELLED:
            keep_path(task)
            protected.add(task.id)
            if task._parent is not None:
                protected.add(task._parent)

    spliced = {
        task_id for task_id in keep
        if task_id not in protected
        and tasks[task_id].has_state(TaskState.FINISHED_MASK)
        and sum(1 for child in tasks[task_id]._children if child in keep) == 1
    }
    _rebuild(workflow, keep, spliced)


def _nearest_ancestor(tasks: dict, task, spec_name: str):
    # Task.find_ancestor is recursive: iterate instead, trees may be deep before their first pruning.
    current = tasks.get(task._parent)
    while current is not None:
        if current.task_spec.name == spec_name:
            return current
        current = tasks.get(current._parent)
    return None


def _rebuild(workflow, keep: set[UUID], spliced: set[UUID]) -> None:
    tasks = workflow.tasks

    def through(task_id: UUID) -> UUID:
        # A spliced task has exactly one kept child: follow the chain down to a surviving task.
        while task_id in spliced:
            task_id = next(child for child in tasks[task_id]._children if child in keep)
        return task_id

    survivors = {task_id: tasks[task_id] for task_id in keep if task_id not in spliced}
    for task in survivors.values():
        task._children = [through(child) for child in task._children if child in keep]
        for child in task._children:
            survivors[child]._parent = task.id
    workflow.tasks = survivors
