"""The seq: dialect (README, "Writing sequences") read from a parsed BPMN file into a plain model the
runtime uses.

Delays: `seq:due` (user tasks) and timer values are ISO 8601 durations counted by bpmn/durations.py with
`seq:calendar` = calendar | business | legal (délai de procédure, art. 641-642 CPC), and `seq:notDuring` =
treve_hivernale keeps a due date or a timer out of the winter truce (1 November – 31 March).

Forms: `seq:show="balance,monthly_rent"` (dossier fields shown read-only) and `seq:fill="montant_plan!,nb"`
(fields to fill, "!" marking a required one) on user tasks; runtime/forms.py renders and checks them.

`read_model` is tolerant: it takes what it can from any BPMN file and leaves judging to validation, so
the validator and the runtime read the file the same way. Values are kept as written (a bad `seq:due`
stays a string); only a legacy quoted timer value such as "'P15D'" is unquoted, because older diagrams
wrote timer values as Python expressions.
"""

from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

SEQ_NS = "urn:sequences:bpmn:1"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

FLOW_NODES = frozenset(
    {
        "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
        "userTask", "sendTask", "task", "manualTask", "serviceTask", "scriptTask", "businessRuleTask",
        "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "exclusiveGateway",
        "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway",
    }
)  # fmt: skip
ACTIVITIES = frozenset(
    {
        "userTask", "sendTask", "task", "manualTask", "serviceTask", "scriptTask", "businessRuleTask",
        "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    }
)  # fmt: skip
SUB_PROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
TIMER_KINDS = {"timeDuration": "duration", "timeDate": "date", "timeCycle": "cycle"}


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def seq(name: str) -> str:
    return f"{{{SEQ_NS}}}{name}"


def local(element: etree._Element) -> str:
    """The local name of a BPMN element, or "" for anything else (other namespaces, comments)."""
    if not isinstance(element.tag, str):
        return ""
    qname = etree.QName(element)
    return qname.localname if qname.namespace == BPMN_NS else ""


def ref(value: str | None) -> str | None:
    """An id reference without the QName prefix some tools write ("tns:Message_1")."""
    if not value:
        return None
    return value.strip().rsplit(":", 1)[-1] or None


def unquote(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


@dataclass
class Role:
    key: str
    kind: str = "internal"
    name: str | None = None


@dataclass
class Element:
    id: str
    tag: str
    name: str | None = None
    role: str | None = None
    action: str | None = None
    outcomes: list[str] = field(default_factory=list)
    # The form of a user task: dossier fields shown as facts (seq:show) and fields to fill (seq:fill, a
    # trailing "!" marks a required one, kept in `required`).
    show: list[str] = field(default_factory=list)
    fill: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    due: str | None = None
    calendar: str = "calendar"
    # a named period of the legal calendar its due date or timer is kept out of ("treve_hivernale")
    not_during: str | None = None
    channel: str | None = None
    template: str | None = None
    next: str | None = None
    called: str | None = None
    timer: dict[str, Any] | None = None
    message: str | None = None
    attached_to: str | None = None
    interrupting: bool = True


@dataclass
class SequenceModel:
    key: str | None
    name: str | None
    roles: dict[str, Role] = field(default_factory=dict)
    elements: dict[str, Element] = field(default_factory=dict)
    called: set[str] = field(default_factory=set)
    next_keys: set[str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "roles": {key: asdict(role) for key, role in self.roles.items()},
            "elements": {key: asdict(element) for key, element in self.elements.items()},
            "called": sorted(self.called),
            "next_keys": sorted(self.next_keys),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SequenceModel":
        return cls(
            key=data.get("key"),
            name=data.get("name"),
            roles={key: Role(**role) for key, role in data.get("roles", {}).items()},
            elements={key: Element(**element) for key, element in data.get("elements", {}).items()},
            called=set(data.get("called", ())),
            next_keys=set(data.get("next_keys", ())),
        )


def processes(root: etree._Element) -> list[etree._Element]:
    return root.findall(bpmn("process"))


def is_executable(process: etree._Element) -> bool:
    return (process.get("isExecutable") or "").strip().lower() == "true"


def has_content(process: etree._Element) -> bool:
    """Whether anything is drawn in the process: tools export an empty process behind a black-box pool."""
    return any(local(element) in FLOW_NODES for element in process.iter())


def main_process(root: etree._Element) -> etree._Element | None:
    """The process a sequence is made of: the first executable one, else the first; in both cases the first
    with something drawn in it, so that an empty pool drawn first (a black-box partner) is passed over."""
    found = processes(root)
    candidates = [process for process in found if is_executable(process)] or found
    drawn = [process for process in candidates if has_content(process)]
    return (drawn or candidates or [None])[0]


def pool_names(root: etree._Element) -> dict[str, str]:
    """Process id -> the name of its pool (participant), as the analyst sees it in the editor."""
    names: dict[str, str] = {}
    for participant in root.iter(bpmn("participant")):
        process_id = ref(participant.get("processRef"))
        name = " ".join((participant.get("name") or "").split())
        if process_id and name:
            names.setdefault(process_id, name)
    return names


def lanes(process: etree._Element) -> list[etree._Element]:
    return list(process.iter(bpmn("lane")))


def lane_roles(process: etree._Element) -> dict[str, str]:
    """Element id -> role key. A nested lane is read after its parent, so the innermost role wins."""
    roles: dict[str, str] = {}
    for lane in lanes(process):
        role = (lane.get(seq("role")) or "").strip()
        if not role:
            continue
        for node_ref in lane.findall(bpmn("flowNodeRef")):
            if node_ref.text and node_ref.text.strip():
                roles[node_ref.text.strip()] = role
    return roles


def read_model(root: etree._Element) -> SequenceModel:
    """Read the sequence model of the (first executable) process of a parsed `bpmn:definitions`."""
    process = main_process(root)
    if process is None:
        return SequenceModel(key=None, name=None)
    model = SequenceModel(key=process.get("id"), name=process.get("name"))
    for lane in lanes(process):
        key = (lane.get(seq("role")) or "").strip()
        if key and key not in model.roles:
            kind = (lane.get(seq("roleKind")) or "internal").strip()
            model.roles[key] = Role(key=key, kind=kind, name=lane.get("name"))
    messages = {m.get("id"): m.get("name") for m in root.iter(bpmn("message")) if m.get("id")}
    roles = lane_roles(process)
    for node in process.iter():
        tag = local(node)
        if tag in FLOW_NODES and node.get("id"):
            element = _read_element(node, tag, messages)
            element.role = roles.get(element.id) or _inherited_role(node, process, roles)
            model.elements[element.id] = element
            if element.called:
                model.called.add(element.called)
            if element.next:
                model.next_keys.add(element.next)
    return model


def _inherited_role(node: etree._Element, process: etree._Element, roles: dict[str, str]) -> str | None:
    # bpmn-js lists only the sub-process itself in the lane, not what is drawn inside it.
    parent = node.getparent()
    while parent is not None and parent is not process:
        if local(parent) in SUB_PROCESSES and parent.get("id") in roles:
            return roles[parent.get("id")]
        parent = parent.getparent()
    return None


def _read_element(node: etree._Element, tag: str, messages: dict[str, str | None]) -> Element:
    element = Element(id=node.get("id"), tag=tag, name=node.get("name"))
    element.calendar = (node.get(seq("calendar")) or "calendar").strip()
    element.not_during = (node.get(seq("notDuring")) or "").strip() or None
    if tag == "userTask":
        element.action = (node.get(seq("action")) or "task").strip()
        outcomes = node.get(seq("outcomes")) or ""
        element.outcomes = [outcome.strip() for outcome in outcomes.split(",") if outcome.strip()]
        element.due = (node.get(seq("due")) or "").strip() or None
        element.show = [key.rstrip("!").strip() for key in split_list(node.get(seq("show")))]
        filled = split_list(node.get(seq("fill")))
        element.fill = [key.rstrip("!").strip() for key in filled]
        element.required = [key.rstrip("!").strip() for key in filled if key.endswith("!")]
    elif tag == "sendTask":
        element.action = "communication"
        element.channel = (node.get(seq("channel")) or "").strip() or None
        element.template = (node.get(seq("template")) or "").strip() or None
    elif tag == "endEvent":
        element.next = (node.get(seq("next")) or "").strip() or None
    elif tag == "callActivity":
        element.called = (node.get("calledElement") or "").strip() or None
    elif tag == "boundaryEvent":
        element.attached_to = ref(node.get("attachedToRef"))
        element.interrupting = (node.get("cancelActivity") or "true").strip().lower() != "false"
    element.timer = read_timer(node, element.calendar)
    definition = node.find(bpmn("messageEventDefinition"))
    if definition is not None:
        element.message = messages.get(ref(definition.get("messageRef")) or "")
    return element


def split_list(text: str | None) -> list[str]:
    """The items of a comma-separated attribute ("a, b!,c"), blanks dropped."""
    return [item.strip() for item in (text or "").split(",") if item.strip()]


def read_timer(node: etree._Element, calendar: str = "calendar") -> dict[str, Any] | None:
    """{"kind", "value", "calendar"} of the event's timer; kind is None when no value is given."""
    definition = node.find(bpmn("timerEventDefinition"))
    if definition is None:
        return None
    for child in definition:
        kind = TIMER_KINDS.get(local(child))
        if kind:
            return {"kind": kind, "value": unquote(child.text), "calendar": calendar}
    return {"kind": None, "value": "", "calendar": calendar}
