"""One run's engine, loaded for one operation: SpiffWorkflow 3.2 behind a small, JSON-friendly API.

The runtime service layer persists `dump()` (the run's live state, without specs) and the specs once per
published version. Every operation ends with engine steps and a pruning of the task tree
(bpmn.engine_prune), so that a run that loops for years keeps a small state and fast steps.

Timers never fire by themselves: waiting_timers() lists them with their plain ISO value, the runtime's
worker schedules them and calls fire_timer() when due. Messages are delivered by name with deliver().
User tasks and send tasks are manual: open_tasks() lists them, complete() finishes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from bpmn import engine_prune
from bpmn.spec import (
    SPEC_CONFIG,
    LoadedSpec,
    SafeScriptEngine,
    SeqCycleTimer,
    SeqMessage,
    SeqTimer,
    make_registry,
)
from kernel.errors import Conflict, DomainError

STATE_FORMAT = 1


class EngineError(DomainError):
    """The engine could not go on (an expression failed, a called sequence is missing...): the run fails,
    nothing is persisted by the caller, an admin can retry."""

    code = "engine_error"

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message, element_id=element_id)
        self.element_id = element_id


@dataclass(frozen=True)
class SpecBundle:
    """The run's version and, for call activities, the versions of every sequence it may call
    (transitively), by key. The runtime pins those versions when the run starts."""

    top: LoadedSpec
    called: dict[str, LoadedSpec] = field(default_factory=dict)

    def subprocess_specs(self) -> dict:
        specs = dict(self.top.subprocesses)
        for key, loaded in self.called.items():
            specs[key] = loaded.spec
            specs.update(loaded.subprocesses)
        return specs


@dataclass(frozen=True)
class OpenTask:
    task_id: str
    element_id: str
    process_key: str
    name: str | None


@dataclass(frozen=True)
class WaitingTimer:
    """task_id is opaque: give it back to fire_timer. kind is duration|date|cycle; value is plain ISO
    (P15D, an ISO date-time already evaluated for timeDate expressions, R3/P7D); fired counts the
    firings of a cycle so far."""

    task_id: str
    element_id: str
    process_key: str
    kind: str
    value: str
    fired: int = 0


class _StateConverter(BpmnWorkflowConverter):
    """The workflow without its specs (stored once per version), restored onto cached spec objects."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = []
        return dct

    def from_dict(self, dct, spec=None, subprocess_specs=None, script_engine=None):
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        return workflow


_REGISTRY = make_registry({**SPEC_CONFIG, BpmnWorkflow: _StateConverter})


class Engine:
    def __init__(self, specs: SpecBundle, workflow: BpmnWorkflow, script_engine: SafeScriptEngine,
                 prune: bool = True, ends: list[str] | None = None, terminated: bool = False):
        self._specs = specs
        self._workflow = workflow
        self._script_engine = script_engine
        self._prune = prune
        self._ends: list[str] = list(ends or [])
        self._terminated = terminated

    # --- Loading --------------------------------------------------------------------------------------------

    @classmethod
    def start(cls, specs: SpecBundle, context: dict, prune: bool = True) -> Engine:
        script_engine = SafeScriptEngine(context)
        workflow = BpmnWorkflow(specs.top.spec, specs.subprocess_specs(), script_engine=script_engine)
        engine = cls(specs, workflow, script_engine, prune)
        engine._run(lambda: None)
        return engine

    @classmethod
    def restore(cls, specs: SpecBundle, state: dict, context: dict, prune: bool = True) -> Engine:
        if state.get("format") != STATE_FORMAT or state.get("key") != specs.top.key:
            raise EngineError("L'état enregistré ne correspond pas à cette séquence.")
        # A deserialized Spiff workflow gets Spiff's eval-based engine back: ours is attached right here.
        script_engine = SafeScriptEngine(context)
        # Spiff's converters pop keys from what they restore: work on a copy, the caller keeps its state.
        # The state is JSON by contract, and a JSON round trip copies it several times faster than deepcopy.
        workflow = _REGISTRY.restore(json.loads(json.dumps(state["workflow"])), spec=specs.top.spec,
                                     subprocess_specs=specs.subprocess_specs(), script_engine=script_engine)
        return cls(specs, workflow, script_engine, prune, state.get("ends"), state.get("terminated", False))

    def dump(self) -> dict:
        return {
            "format": STATE_FORMAT,
            "key": self._specs.top.key,
            "workflow": _REGISTRY.convert(self._workflow),
            "ends": list(self._ends),
            "terminated": self._terminated,
        }

    @property
    def context(self) -> dict:
        return self._script_engine.context

    @context.setter
    def context(self, value: dict) -> None:
        self._script_engine.context = dict(value)

    # --- Queries --------------------------------------------------------------------------------------------

    def open_tasks(self) -> list[OpenTask]:
        found = [
            OpenTask(str(task.id), task.task_spec.bpmn_id, _process_key(task), task.task_spec.bpmn_name)
            for task in self._all_tasks()
            if task.state == TaskState.READY and task.task_spec.manual
        ]
        return sorted(found, key=lambda t: (t.process_key, t.element_id, t.task_id))

    def waiting_timers(self) -> list[WaitingTimer]:
        found = []
        for task in self._waiting_event_tasks():
            definition = task.task_spec.event_definition
            if isinstance(definition, SeqTimer):
                found.append(_waiting_timer(task, definition, in_gateway=False))
            elif isinstance(definition, MultipleEventDefinition):
                found.extend(_waiting_timer(task, inner, in_gateway=True)
                             for inner in definition.event_definitions if isinstance(inner, SeqTimer))
        return sorted(found, key=lambda t: (t.process_key, t.element_id, t.task_id))

    def waiting_messages(self) -> set[str]:
        names = set()
        for task in self._waiting_event_tasks():
            definition = task.task_spec.event_definition
            names.update(d.name for d in _definitions(definition) if isinstance(d, SeqMessage))
        return names

    def is_completed(self) -> bool:
        return bool(self._workflow.completed)

    @property
    def terminated(self) -> bool:
        return self._terminated

    def end_events_reached(self) -> list[str]:
        return list(self._ends)

    def active_elements(self) -> list[str]:
        active = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        return sorted({
            task.task_spec.bpmn_id for task in self._all_tasks()
            if task.has_state(active) and isinstance(task.task_spec, BpmnSpecMixin)
        })

    def task_count(self) -> int:
        return engine_prune.task_count(self._workflow)

    # --- Operations -----------------------------------------------------------------------------------------

    def complete(self, task_id: str, data: dict) -> None:
        task = self._task(task_id)
        if task is None or task.state != TaskState.READY or not task.task_spec.manual:
            raise Conflict("Cette action n'est plus ouverte.", task_id=task_id)

        def operation() -> None:
            task.data.update(data)
            task.run()

        self._run(operation)

    def fire_timer(self, task_id: str) -> bool:
        """False when that timer no longer waits (already fired, cancelled, a cycle occurrence already
        fired): workers may retry freely."""
        waiting = {timer.task_id: timer for timer in self.waiting_timers()}
        if task_id not in waiting:
            return False
        ident, _, inner_name = task_id.split("#")[0].partition("/")
        task = self._task(ident)
        definition = task.task_spec.event_definition
        if inner_name:
            # An event-based gateway holds the definitions of the events it races.
            definition = next(d for d in _definitions(definition) if d.name == inner_name)
        event = BpmnEvent(definition)
        self._run(lambda: (task.task_spec.catch(task, event), task.task_spec._update(task)))
        return True

    def deliver(self, name: str, payload: dict) -> bool:
        """False when nothing waits for that event (never raises for that)."""
        if name not in self.waiting_messages():
            return False
        event = BpmnEvent(SeqMessage(name), payload=dict(payload))
        caught = 0

        def operation() -> None:
            nonlocal caught
            caught = self._workflow.event_manager.catch(event, internal=False)

        self._run(operation)
        return caught > 0

    def cancel(self) -> None:
        self._run(lambda: self._workflow.cancel(), steps=False)

    # --- Internals ------------------------------------------------------------------------------------------

    def _run(self, operation, steps: bool = True) -> None:
        try:
            operation()
            if steps:
                self._workflow.do_engine_steps(did_complete_task=self._completed)
            self._settle_timers()
            self._workflow.get_events()  # thrown events nobody caught: nothing outside the run listens
        except SpiffWorkflowException as error:
            spec = getattr(error, "task_spec", None)
            raise EngineError(str(error), getattr(spec, "bpmn_id", None)) from error
        if self._prune:
            engine_prune.prune(self._workflow)

    def _completed(self, task) -> None:
        # Finished end events are pruned: remember those of the top process as they are reached.
        spec = task.task_spec
        if isinstance(spec, EndEvent) and task.workflow is self._workflow:
            self._ends.append(spec.bpmn_id)
            if isinstance(spec.event_definition, TerminateEventDefinition):
                self._terminated = True

    def _settle_timers(self) -> None:
        # Listing the timers resolves them: a timeDate expression is evaluated once, in the operation
        # where its timer starts waiting (it may use now()), and kept in the task's internal data.
        self.waiting_timers()

    def _all_tasks(self) -> Iterator:
        yield from self._workflow.tasks.values()
        for subprocess in self._workflow.subprocesses.values():
            yield from subprocess.tasks.values()

    def _waiting_event_tasks(self) -> Iterable:
        return [t for t in self._workflow.event_manager.tasks.values() if t.state == TaskState.WAITING]

    def _task(self, task_id: str):
        try:
            ident = UUID(task_id)
        except ValueError:
            return None
        if ident in self._workflow.tasks:
            return self._workflow.tasks[ident]
        for subprocess in self._workflow.subprocesses.values():
            if ident in subprocess.tasks:
                return subprocess.tasks[ident]
        return None


def _process_key(task) -> str:
    # Embedded sub-process specs are named "<key>:<element id>" (bpmn.spec.build_spec).
    return task.workflow.spec.name.split(":", 1)[0]


def _definitions(definition) -> list:
    return definition.event_definitions if isinstance(definition, MultipleEventDefinition) else [definition]


def _waiting_timer(task, definition: Any, in_gateway: bool) -> WaitingTimer:
    task_id = f"{task.id}/{definition.name}" if in_gateway else str(task.id)
    element_id = definition.name if in_gateway else task.task_spec.bpmn_id
    fired = 0
    if isinstance(definition, SeqCycleTimer):
        # Each occurrence of a cycle gets its own id: the runtime schedules it once, a retry is refused.
        fired = task.internal_data.get("seq_cycle_fired", 0)
        task_id = f"{task_id}#{fired}"
    value = definition.resolve(task)
    return WaitingTimer(task_id, element_id, _process_key(task), definition.kind, value, fired)
