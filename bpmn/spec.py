"""The engine side of the dialect: SpiffWorkflow specs built from a validated file, and the safe engine.

This module, bpmn/engine.py and bpmn/engine_prune.py are the only places that import SpiffWorkflow
(pinned to 3.2.0).

    build_spec(data) -> dict          JSON-safe, stored once per published version
    load_spec(dct) -> LoadedSpec      cached by callers, per version
    SafeScriptEngine                  conditions through bpmn.expressions, scripts refused, never eval

Timers are plain ISO text (P15D, R3/P7D, an ISO date-time, or an expression for timeDate) and never fire
from the wall clock: Spiff only sees them fire when the runtime's worker says so (see bpmn.engine).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    EndEventParser,
    EventBasedGatewayParser,
    IntermediateCatchEventParser,
    IntermediateThrowEventParser,
    ReceiveTaskParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import first, full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter,
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    EventBasedGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ReceiveTask,
    ScriptTask,
    ServiceTask,
    StartEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins import BpmnSpecMixin, UserTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity as CallActivityMixin
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.util.task import TaskState

from bpmn import durations, expressions, xml
from bpmn.dialect import unquote
from kernel.errors import InvalidSequence, Issue

SPEC_FORMAT = 1



# --- Timers -------------------------------------------------------------------------------------------------


class SeqTimer:
    """Spiff's timers compare their value with datetime.now() and evaluate it as Python. Ours do neither:
    they wait until the runtime's worker fires them (Engine.fire_timer), which sets `event_fired`."""

    kind: ClassVar[str]
    name: str
    expression: str

    def has_fired(self, my_task) -> bool:
        return my_task._get_internal_data("event_fired", False)

    def update_task(self, my_task) -> None:
        # Called by Spiff on every refresh: nothing to do, time is the runtime's business.
        pass

    def details(self, my_task) -> PendingBpmnEvent:
        return PendingBpmnEvent(self.name, type(self).__name__, self.expression)

    def value_key(self) -> str:
        return f"seq_timer_value:{self.name}"

    def resolve(self, my_task) -> str:
        """The plain value the runtime schedules; a timeDate expression is evaluated once and kept."""
        return self.expression


class SeqDurationTimer(SeqTimer, TimerEventDefinition):
    kind = "duration"


class SeqDateTimer(SeqTimer, TimerEventDefinition):
    kind = "date"

    def resolve(self, my_task) -> str:
        key = self.value_key()
        value = my_task.internal_data.get(key)
        if value is None:
            value = _iso_or_evaluate(self.expression, my_task)
            my_task.internal_data[key] = value
        return value


class SeqCycleTimer(SeqTimer, TimerEventDefinition):
    """R3/P7D on a non-interrupting boundary event: each firing completes this event instance, whose branch
    then lives on its own, and puts a fresh waiting instance next to it until the count is reached (never
    for R/...). Spiff's own cycle timer hangs every branch under one waiting event instead, and cancelling
    that event when the task ends drops the branches still open. Elsewhere a cycle fires once."""

    kind = "cycle"

    @property
    def repetitions(self) -> int:
        return durations.parse_cycle(self.expression)[0]

    def catch(self, my_task, event=None) -> None:
        super().catch(my_task, event)
        fired = my_task._get_internal_data("seq_cycle_fired", 0) + 1
        spec = my_task.task_spec
        again = self.repetitions < 0 or fired < self.repetitions
        if again and isinstance(spec, BoundaryEvent) and not spec.cancel_activity:
            following = my_task.parent._add_child(spec, TaskState.FUTURE)
            following.internal_data["seq_cycle_fired"] = fired
            spec._predict(following, mask=TaskState.NOT_FINISHED_MASK)
            spec._update(following)


def _check_timer(cls: type, text: str) -> None:
    # Refused at publication rather than at run time (the validation says the same, in more detail).
    if cls is SeqDurationTimer:
        durations.parse_duration(text)
    elif cls is SeqCycleTimer:
        durations.parse_cycle(text)
    elif not text:
        raise ValueError("La date du minuteur est vide.")
    else:
        try:
            durations.parse_date_time(text)
        except ValueError:
            expressions.check(text)


def _iso_or_evaluate(text: str, my_task) -> str:
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    result = my_task.workflow.script_engine.evaluate(my_task, text)
    if isinstance(result, datetime | date):
        return result.isoformat()
    if isinstance(result, str):
        return datetime.fromisoformat(result).isoformat()
    raise WorkflowTaskException(f"La date du minuteur n'est pas une date : {text}", task=my_task)


# --- Messages and send tasks --------------------------------------------------------------------------------


class SeqMessage(MessageEventDefinition):
    """A business event waited for by name; its payload becomes `event` for later conditions
    instead of being spread into the task data as Spiff does."""

    def update_task_data(self, my_task) -> None:
        payload = my_task.internal_data.get(self.name)
        if payload is not None:
            my_task.set_data(event=payload)


class SendAction(UserTaskMixin, BpmnSpecMixin):
    """Our sendTask is a communication action the runtime performs, then completes: a manual task.
    (Spiff 3.2 makes sendTask a throwing message event that completes at once.)"""


# --- Parser -------------------------------------------------------------------------------------------------


class _Refused(ValidationException):
    def __init__(self, code: str, message: str, node=None, element_id: str = ""):
        super().__init__(message, node=node, id=element_id)
        self.code = code
        self.message_fr = message


class _SeqEvents:
    """Overrides the event-definition parsing of every Spiff event parser it is mixed into."""

    def parse_timer_event(self, event):
        element_id = self.node.get("id")
        for tag, cls in (
            ("timeDate", SeqDateTimer),
            ("timeDuration", SeqDurationTimer),
            ("timeCycle", SeqCycleTimer),
        ):
            found = first(self.xpath(f".//bpmn:{tag}"))
            if found is None:
                continue
            # Files from older tools quote the value as Python ("'P15D'"): read it as the dialect does.
            text = unquote((found.text or "").strip())
            try:
                _check_timer(cls, text)
            except (ValueError, expressions.ExpressionError) as error:
                raise _Refused("bad_timer", getattr(error, "message", str(error)), self.node) from error
            # The element id names the timer: an event-based gateway tells its timers apart by name.
            return cls(element_id, text, description=self.get_event_description(event))
        raise _Refused("bad_timer", "Le minuteur n'a ni durée, ni date, ni cycle.", self.node)

    def parse_message_event(self, message_event):
        message_ref = message_event.get("messageRef")
        if message_ref is not None:
            name = self.process_parser.parser.messages.get(message_ref)
            if name is None:
                raise _Refused(
                    "unknown_message", f"Le message « {message_ref} » n'est pas déclaré.", self.node
                )
        else:
            name = message_event.getparent().get("name")
        return SeqMessage(name, [], description="Message")


class _StartEventParser(_SeqEvents, StartEventParser):
    pass


class _EndEventParser(_SeqEvents, EndEventParser):
    pass


class _CatchEventParser(_SeqEvents, IntermediateCatchEventParser):
    pass


class _ThrowEventParser(_SeqEvents, IntermediateThrowEventParser):
    pass


class _BoundaryEventParser(_SeqEvents, BoundaryEventParser):
    pass


class _EventGatewayParser(_SeqEvents, EventBasedGatewayParser):
    pass


class _ReceiveTaskParser(_SeqEvents, ReceiveTaskParser):
    pass


class _RefusedTaskParser(TaskParser):
    def create_task(self):
        raise _Refused(
            "script_refused", "Les tâches de script ou de service ne sont pas acceptées.", self.node
        )


class SeqParser(BpmnParser):
    """Spiff's parser with our timers, messages and send tasks; scripts refused."""

    OVERRIDE_PARSER_CLASSES = {
        full_tag("startEvent"): (_StartEventParser, StartEvent),
        full_tag("endEvent"): (_EndEventParser, EndEvent),
        full_tag("intermediateCatchEvent"): (_CatchEventParser, IntermediateCatchEvent),
        full_tag("intermediateThrowEvent"): (_ThrowEventParser, IntermediateThrowEvent),
        full_tag("boundaryEvent"): (_BoundaryEventParser, BoundaryEvent),
        full_tag("eventBasedGateway"): (_EventGatewayParser, EventBasedGateway),
        full_tag("receiveTask"): (_ReceiveTaskParser, ReceiveTask),
        full_tag("sendTask"): (TaskParser, SendAction),
        full_tag("scriptTask"): (_RefusedTaskParser, ScriptTask),
        full_tag("serviceTask"): (_RefusedTaskParser, ServiceTask),
    }


# --- Serialization ------------------------------------------------------------------------------------------

SPEC_CONFIG = dict(DEFAULT_CONFIG)
SPEC_CONFIG.update(
    {
        SeqDurationTimer: TimerConditionalEventDefinitionConverter,
        SeqDateTimer: TimerConditionalEventDefinitionConverter,
        SeqCycleTimer: TimerConditionalEventDefinitionConverter,
        SeqMessage: MessageEventDefinitionConverter,
        SendAction: BpmnTaskSpecConverter,
    }
)


def make_registry(config: dict | None = None):
    """A registry knowing our classes; bpmn.engine extends the config with its workflow converter."""
    return BpmnWorkflowSerializer.configure(config or SPEC_CONFIG)


_REGISTRY = make_registry()


@dataclass(frozen=True)
class LoadedSpec:
    """One published version ready for the engine: its process spec, the specs of its embedded
    sub-processes (named "<key>:<element id>" so that two sequences never collide) and the keys it calls."""

    key: str
    name: str
    spec: BpmnProcessSpec
    subprocesses: dict[str, BpmnProcessSpec]
    called: frozenset[str]


def build_spec(data: bytes) -> dict:
    """Parse the single executable process with our parser; JSON-safe, stored once per published version."""
    root = xml.parse_xml(data)
    parser = SeqParser()
    try:
        parser.add_bpmn_xml(root)
        keys = parser.get_process_ids()
        if len(keys) != 1:
            raise InvalidSequence(
                [
                    Issue(
                        None,
                        "executable_process",
                        "Le fichier doit contenir exactement un processus exécutable.",
                    )
                ]
            )
        key = keys[0]
        spec = parser.get_spec(key)
        subprocesses: dict[str, BpmnProcessSpec] = {}
        called: set[str] = set()
        _collect(parser, key, spec, subprocesses, called)
        for checked in (spec, *subprocesses.values()):
            _check_conditions(checked)
    except ValidationException as error:
        raise InvalidSequence([_issue(error)]) from error
    return {
        "format": SPEC_FORMAT,
        "key": key,
        "name": spec.description,
        "spec": _REGISTRY.convert(spec),
        "subprocesses": {name: _REGISTRY.convert(sp) for name, sp in subprocesses.items()},
        "called": sorted(called),
    }


def _collect(parser: SeqParser, key: str, spec, subprocesses: dict, called: set) -> None:
    for task_spec in list(spec.task_specs.values()):
        if isinstance(task_spec, CallActivityMixin):
            called.add(task_spec.spec)
        elif isinstance(task_spec, SubWorkflowTaskMixin) and ":" not in task_spec.spec:
            sp_spec = parser.get_spec(task_spec.spec)
            # ":" cannot appear in an XML id, so the renamed spec never collides with a process key.
            task_spec.spec = sp_spec.name = f"{key}:{sp_spec.name}"
            subprocesses[sp_spec.name] = sp_spec
            _collect(parser, key, sp_spec, subprocesses, called)


def _check_conditions(spec) -> None:
    # A condition is never evaluated unchecked, even if the validation that runs before missed it.
    for task_spec in spec.task_specs.values():
        for condition, _target in getattr(task_spec, "cond_task_specs", []):
            if condition is None:
                continue
            try:
                expressions.check(condition.args[0])
            except expressions.ExpressionError as error:
                raise _Refused("bad_condition", error.message, element_id=task_spec.bpmn_id) from error


def _issue(error: ValidationException) -> Issue:
    if isinstance(error, _Refused):
        return Issue(error.id or None, error.code, error.message_fr)
    detail = str(error).split("\n")[0]
    return Issue(
        getattr(error, "id", None) or None,
        "engine_refused",
        f"Le moteur d'exécution refuse cet élément : {detail}",
    )


def load_spec(dct: dict) -> LoadedSpec:
    if dct.get("format") != SPEC_FORMAT:
        raise ValueError(f"Unknown spec format {dct.get('format')!r}")
    return LoadedSpec(
        key=dct["key"],
        name=dct.get("name") or dct["key"],
        spec=_REGISTRY.restore(dct["spec"]),
        subprocesses={name: _REGISTRY.restore(sp) for name, sp in dct["subprocesses"].items()},
        called=frozenset(dct["called"]),
    )


# --- Script engine ------------------------------------------------------------------------------------------


class SafeScriptEngine(PythonScriptEngine):
    """Conditions go through bpmn.expressions (a sandbox, never eval); scripts and services are refused.

    Names seen by an expression: status, outcome, actions, event from the task data; dossier and now from
    `context`, which the runtime sets before each operation (engine.context = {"dossier": ..., "now": ...,
    "holidays": the dossier's public holidays, for add_duration}).
    """

    def __init__(self, context: dict | None = None):
        super().__init__(environment=_SafeEnvironment(self))
        self.context: dict = dict(context or {})

    def names(self, data: dict) -> dict:
        return {
            "status": data.get("status"),
            "outcome": data.get("outcome"),
            "actions": data.get("actions") or {},
            "event": data.get("event"),
            "dossier": self.context.get("dossier") or {},
        }

    def evaluate_data(self, expression: str, data: dict) -> Any:
        place = self.context.get("holidays") or durations.METROPOLE
        return expressions.evaluate(expression, self.names(data), self.context.get("now"), place)

    def validate(self, expression: str) -> None:
        expressions.check(expression)

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.evaluate_data(expression, task.data)
        except Exception as error:
            raise WorkflowTaskException(
                f"Expression refusée : {expression!r} ({error})", task=task, exception=error
            ) from error

    def execute(self, task, script, external_context=None):
        raise WorkflowTaskException("Les scripts ne sont pas acceptés.", task=task)

    def call_service(self, task, **kwargs):
        raise WorkflowTaskException("Les appels de service ne sont pas acceptés.", task=task)


class _SafeEnvironment(BasePythonScriptEngineEnvironment):
    """Spiff sometimes bypasses the engine and calls its environment directly (message correlations,
    ad hoc sub-process conditions): the environment is safe too."""

    def __init__(self, engine: SafeScriptEngine):
        super().__init__()
        self._engine = engine

    def evaluate(self, expression, context, external_context=None):
        return self._engine.evaluate_data(expression, context)

    def execute(self, script, context, external_context=None):
        raise ValueError("Les scripts ne sont pas acceptés.")

    def call_service(self, context, **kwargs):
        raise ValueError("Les appels de service ne sont pas acceptés.")
