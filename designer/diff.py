"""What changed between two BPMN files of one sequence: elements added, removed and changed, attribute by
attribute, for analysts comparing versions before they publish.

An element is anything with an `id` that an analyst draws or names (process, lane, task, event, flow,
message...). Event definitions, expressions and other id-less or technical children are folded into the
element that holds them, under a path such as `timerEventDefinition/timeDuration`, so that a changed delay
shows as a change of the timer event rather than of a generated `TimerEventDefinition_0x1` id. The diagram
layout (BPMN DI) is ignored unless asked for: moving a shape is not a change of the sequence.
"""

from dataclasses import dataclass, field

from lxml import etree

from bpmn.xml import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SEQ_NS = "urn:sequences:bpmn:1"
DI_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
}
PREFIXES = {
    BPMN_NS: "",
    SEQ_NS: "seq:",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi:",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi:",
    "http://www.omg.org/spec/DD/20100524/DC": "dc:",
    "http://www.omg.org/spec/DD/20100524/DI": "di:",
}
# Children folded into their holder even when a tool gave them an id.
DETAILS = {
    "timerEventDefinition",
    "messageEventDefinition",
    "terminateEventDefinition",
    "signalEventDefinition",
    "errorEventDefinition",
    "escalationEventDefinition",
    "conditionalEventDefinition",
    "linkEventDefinition",
    "compensateEventDefinition",
    "cancelEventDefinition",
    "conditionExpression",
    "timeDuration",
    "timeDate",
    "timeCycle",
    "condition",
    "documentation",
    "extensionElements",
    "multiInstanceLoopCharacteristics",
    "standardLoopCharacteristics",
    "loopCardinality",
    "completionCondition",
    "laneSet",
    "ioSpecification",
    "dataInputAssociation",
    "dataOutputAssociation",
}
# Repeated references whose order means nothing.
UNORDERED = {"incoming", "outgoing", "flowNodeRef"}


@dataclass(frozen=True)
class Change:
    attribute: str
    before: str | None
    after: str | None


@dataclass
class ElementDiff:
    element_id: str
    kind: str  # the BPMN element type, e.g. userTask
    name: str | None
    changes: list[Change] = field(default_factory=list)


@dataclass
class Diff:
    added: list[ElementDiff] = field(default_factory=list)
    removed: list[ElementDiff] = field(default_factory=list)
    changed: list[ElementDiff] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict:
        def one(item: ElementDiff) -> dict:
            return {
                "element_id": item.element_id,
                "kind": item.kind,
                "name": item.name,
                "changes": [
                    {"attribute": c.attribute, "before": c.before, "after": c.after} for c in item.changes
                ],
            }

        return {
            "added": [one(i) for i in self.added],
            "removed": [one(i) for i in self.removed],
            "changed": [one(i) for i in self.changed],
        }


def diff_xml(before: bytes, after: bytes, layout: bool = False) -> Diff:
    """Compares two BPMN files. Raises kernel.errors.Malformed / TooLarge for unreadable XML."""
    old = elements(parse_xml(before), layout)
    new = elements(parse_xml(after), layout)
    result = Diff()
    for element_id, (kind, props) in new.items():
        if element_id not in old:
            result.added.append(
                ElementDiff(
                    element_id,
                    kind,
                    props.get("name"),
                    [Change(k, None, v) for k, v in sorted(props.items())],
                )
            )
    for element_id, (kind, props) in old.items():
        if element_id not in new:
            result.removed.append(
                ElementDiff(
                    element_id,
                    kind,
                    props.get("name"),
                    [Change(k, v, None) for k, v in sorted(props.items())],
                )
            )
            continue
        new_kind, new_props = new[element_id]
        changes = []
        if new_kind != kind:
            changes.append(Change("type", kind, new_kind))
        for attribute in sorted(set(props) | set(new_props)):
            if props.get(attribute) != new_props.get(attribute):
                changes.append(Change(attribute, props.get(attribute), new_props.get(attribute)))
        if changes:
            name = new_props.get("name") or props.get("name")
            result.changed.append(ElementDiff(element_id, new_kind, name, changes))
    return result


def elements(root: etree._Element, layout: bool = False) -> dict[str, tuple[str, dict[str, str]]]:
    """Every element with an id → (its type, its folded properties)."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    _walk(root, None, "", found, layout)
    return found


def _walk(node: etree._Element, holder: dict | None, path: str, found: dict, layout: bool) -> None:
    for child in node:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        namespace, local = _split(child.tag)
        if namespace in DI_NAMESPACES and not layout:
            continue
        element_id = child.get("id")
        if element_id and local not in DETAILS:
            props = _attributes(child)
            text = (child.text or "").strip()
            if text:
                props["text"] = text
            found[element_id] = (local, props)
            _walk(child, props, "", found, layout)
            continue
        if holder is None:
            _walk(child, None, "", found, layout)
            continue
        key = f"{path}{_name(child.tag)}"
        if local == "extensionElements" and namespace == BPMN_NS:
            key = "extensionElements"
        for attribute, value in _attributes(child).items():
            _put(holder, f"{key}@{attribute}", value, local)
        text = (child.text or "").strip()
        if text:
            _put(holder, key, text, local)
        elif not len(child) and not _attributes(child):
            _put(holder, key, "", local)  # a bare marker such as <terminateEventDefinition/>
        _walk(child, holder, f"{key}/", found, layout)


def _put(holder: dict, key: str, value: str, local: str) -> None:
    if key in holder:
        values = holder[key].split(", ") + [value]
        holder[key] = ", ".join(sorted(values) if local in UNORDERED else values)
    else:
        holder[key] = value


def _attributes(element: etree._Element) -> dict[str, str]:
    return {_name(k): v for k, v in element.attrib.items() if k != "id"}


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag


def _name(qualified: str) -> str:
    namespace, local = _split(qualified)
    if namespace is None or namespace in PREFIXES:
        return PREFIXES.get(namespace, "") + local
    return f"{{{namespace}}}{local}"
