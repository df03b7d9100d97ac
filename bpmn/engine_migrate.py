"""Moving a run's live engine state from one published version of its sequence onto another.

SpiffWorkflow 3.2 ships `migrate_workflow`, which aligns specs by name and resets what waits; it keeps the old
spec object for a task whose element is gone, and knows nothing of a mapping drawn by an analyst. Ours:

1. every task of the (pruned, bounded) tree gets the spec of its element in the target version: the same id,
   or the one the mapping names; specs Spiff derives from an element (`X.BoundaryEventSplit`...) follow it;
2. a finished task whose element has no counterpart is spliced out of the tree (its children go to its
   parent): what is finished is history, and the runtime keeps that in its own tables;
3. every task that waits (a ready user or send task, a waiting timer or event) is reset in place, keeping its
   id and its data, so that Spiff predicts what follows it from the target version and re-reads its timer.
   Keeping the id keeps the runtime's open action and its timer row: same action, same holder, same history;
4. a waiting task whose element has no counterpart, or maps onto an element of another kind, is refused
   (`MigrationRefused`) with the element's id: the dossier is left out, never half-moved.

Only the top process is moved: a run inside an embedded sub-process or a called sequence is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from bpmn.engine import Engine, EngineError, SpecBundle
from kernel.errors import DomainError

_WAITS = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_PREDICTED = TaskState.PREDICTED_MASK | TaskState.FUTURE


class MigrationRefused(DomainError):
    code = "migration_refused"

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message, element_id=element_id)
        self.element_id = element_id


@dataclass(frozen=True)
class Moved:
    """What waited where: source element id -> target element id, for every waiting task moved."""

    waits: dict[str, str]


def _kind(spec) -> str:
    if getattr(spec, "manual", False):
        return "task"
    if isinstance(spec, CatchingEvent):
        return "event"
    return type(spec).__name__


def _target_name(name: str, mapping: dict[str, str]) -> str:
    # Spiff names the specs it adds around an element "<element id>.<Something>".
    base, dot, suffix = name.partition(".")
    return mapping.get(base, base) + dot + suffix


def migrate(
    engine: Engine, target: SpecBundle, mapping: dict[str, str], context: dict, data: dict | None = None
) -> tuple[Engine, Moved]:
    """The engine of `target` holding the state of `engine` (a source version's), moved along `mapping`
    (source element id -> target element id; an id not in it keeps its own). `data`: what conditions and
    timer dates of the waiting tasks see (the run's results as `actions`): a waiting task has not inherited
    its data yet. Raises MigrationRefused."""
    workflow = engine._workflow
    if any(workflow.subprocesses):
        raise MigrationRefused(
            "Le dossier attend dans une sous-séquence : il ne peut pas changer de version."
        )
    specs = target.top.spec.task_specs
    tasks = workflow.tasks
    moved: dict[str, str] = {}
    # Predicted tasks are Spiff's guesses from the old diagram: dropped, then predicted again.
    for task in list(tasks.values()):
        if task.has_state(_PREDICTED) and task.id in tasks:
            parent = tasks.get(task._parent)
            if parent is not None and task.id in parent._children:
                parent._children.remove(task.id)
            for gone in list(task):
                tasks.pop(gone.id, None)
    for task in list(tasks.values()):
        old = task.task_spec
        name = _target_name(old.name, mapping)
        new = specs.get(name)
        if task.has_state(_WAITS):
            element = getattr(old, "bpmn_id", None) or old.name
            if isinstance(old, SubWorkflowTask):
                raise MigrationRefused(
                    f"Le dossier attend dans « {element} », une sous-séquence : il ne peut pas changer "
                    "de version.",
                    element,
                )
            if new is None:
                raise MigrationRefused(
                    f"« {element} » n'a pas d'équivalent dans la nouvelle version.", element
                )
            if _kind(new) != _kind(old):
                raise MigrationRefused(
                    f"« {element} » ne peut pas devenir « {getattr(new, 'bpmn_id', name)} », "
                    "un élément d'une autre nature.",
                    element,
                )
            if getattr(old, "bpmn_id", None):
                moved[old.bpmn_id] = new.bpmn_id
            task.task_spec = new
        elif new is not None:
            task.task_spec = new
        elif task is workflow.task_tree:
            raise MigrationRefused("La nouvelle version n'a pas de racine compatible.")
        else:
            _splice(workflow, task)
    workflow.spec = target.top.spec
    workflow.last_task = None
    for task in [t for t in tasks.values() if t.has_state(_WAITS)]:
        cycle = task.internal_data.get("seq_cycle_fired")
        task.reset_branch({**task.data, **(data or {})})
        if cycle is not None:
            task.internal_data["seq_cycle_fired"] = cycle
    migrated = Engine(
        target, workflow, engine._script_engine, ends=engine._ends, terminated=engine._terminated
    )
    migrated.context = context
    try:
        migrated._run(lambda: None)
        # What a restore of the target version gives back: Spiff's own checks run on it now, not later.
        state = migrated.dump()
        migrated = Engine.restore(target, state, context)
    except EngineError:
        raise
    except Exception as error:  # noqa: BLE001 — Spiff refusing the moved tree is a refusal, not a crash
        raise MigrationRefused(f"Le moteur refuse l'état déplacé : {error}") from error
    return migrated, Moved(moved)


def _splice(workflow, task) -> None:
    tasks = workflow.tasks
    parent = tasks.get(task._parent)
    children = list(task._children)
    if parent is not None:
        at = parent._children.index(task.id)
        parent._children[at : at + 1] = children
    for child in children:
        tasks[child]._parent = parent.id if parent is not None else None
    del tasks[task.id]
