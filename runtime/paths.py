"""Where a run can go from here: the flows of a published version and "what if I choose this outcome?".

Read from the version's XML once per process (versions never change), and answered with the same
expression language the engine uses, so what a page announces is what the run will do."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bpmn.dialect import bpmn, local, main_process, ref
from bpmn.expressions import ExpressionError, evaluate
from bpmn.xml import parse_xml
from designer import describe as words
from designer.dictionary import Dictionary
from designer.models import SequenceVersion

from .specs import model_of

GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
MAX_HOPS = 12


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None
    default: bool = False


@dataclass
class Graph:
    flows: dict[str, Flow] = field(default_factory=dict)
    outgoing: dict[str, list[str]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Route:
    """The flows taken and the first elements reached (steps where the run would wait or end)."""

    flows: list[str] = field(default_factory=list)
    reaches: list[str] = field(default_factory=list)
    uncertain: bool = False  # a condition depends on data not known yet


_GRAPHS: dict[str, Graph] = {}


def graph_of(version: SequenceVersion) -> Graph:
    graph = _GRAPHS.get(version.checksum)
    if graph is None:
        graph = _GRAPHS[version.checksum] = _read_graph(version.xml)
    return graph


def _read_graph(xml: bytes) -> Graph:
    graph = Graph()
    process = main_process(parse_xml(xml))
    if process is None:
        return graph
    defaults = set()
    for node in process.iter():
        tag = local(node)
        if not tag or not node.get("id"):
            continue
        graph.tags[node.get("id")] = tag
        if node.get("default"):
            defaults.add(ref(node.get("default")))
    for node in process.iter(bpmn("sequenceFlow")):
        condition = node.find(bpmn("conditionExpression"))
        flow = Flow(
            id=node.get("id"),
            source=ref(node.get("sourceRef")) or "",
            target=ref(node.get("targetRef")) or "",
            name=node.get("name"),
            condition=(condition.text or "").strip() or None if condition is not None else None,
        )
        graph.flows[flow.id] = flow
        graph.outgoing.setdefault(flow.source, []).append(flow.id)
    for flow_id in defaults:
        if flow_id in graph.flows:
            graph.flows[flow_id].default = True
    return graph


def route(graph: Graph, start: str, context: dict[str, Any], now: datetime) -> Route:
    """Follows the flows leaving `start` through gateways, choosing as the engine would."""
    found = Route()
    pending = [(flow_id, 0) for flow_id in graph.outgoing.get(start, [])]
    while pending:
        flow_id, hops = pending.pop(0)
        flow = graph.flows[flow_id]
        if flow_id in found.flows:
            continue
        found.flows.append(flow_id)
        target = flow.target
        if graph.tags.get(target) not in GATEWAYS or hops >= MAX_HOPS:
            if target not in found.reaches:
                found.reaches.append(target)
            continue
        for chosen in _choose(graph, target, context, now, found):
            pending.append((chosen, hops + 1))
    return found


def _choose(graph: Graph, gateway: str, context: dict, now: datetime, found: Route) -> list[str]:
    outgoing = [graph.flows[f] for f in graph.outgoing.get(gateway, [])]
    tag = graph.tags.get(gateway)
    if tag in ("parallelGateway", "eventBasedGateway") or len(outgoing) <= 1:
        return [f.id for f in outgoing]
    taken, default, unsure = [], None, []
    for flow in outgoing:
        if flow.default:
            default = flow.id
            continue
        if flow.condition is None:
            taken.append(flow.id)
            continue
        try:
            holds = bool(evaluate(flow.condition, context, now))
        except ExpressionError:
            unsure.append(flow.id)
            continue
        if holds:
            taken.append(flow.id)
            if tag == "exclusiveGateway":
                break
    if unsure:
        found.uncertain = True
        return taken + unsure + ([default] if default else [])
    if taken:
        return taken
    return [default] if default else []


def what_if(
    version: SequenceVersion,
    element_id: str,
    outcomes: list[str],
    status: str,
    context: dict[str, Any],
    now: datetime,
) -> list[dict]:
    """For each outcome of the action at `element_id` (or none), where the run goes next."""
    graph = graph_of(version)
    model = model_of(version)
    answers = []
    for outcome in outcomes or [None]:
        actions = dict(context.get("actions") or {})
        actions[element_id] = {"status": status, "outcome": outcome, "completed_at": now.isoformat()}
        seen = {**context, "status": status, "outcome": outcome, "actions": actions}
        found = route(graph, element_id, seen, now)
        answers.append(
            {
                "outcome": outcome,
                "flows": found.flows,
                "uncertain": found.uncertain,
                "reaches": [describe(model, graph, e) for e in found.reaches],
            }
        )
    return answers


def describe(model, graph: Graph, element_id: str) -> dict:
    element = model.elements.get(element_id)
    tag = graph.tags.get(element_id) or (element.tag if element else "")
    return {
        "id": element_id,
        "tag": tag,
        "name": (element.name if element else None) or element_id,
        "role": element.role if element else None,
        "next": element.next if element else None,
        "called": element.called if element else None,
        "end": tag == "endEvent",
    }


def flow_labels(
    version: SequenceVersion, dictionary: Dictionary | None = None, lang: str = "fr"
) -> dict[str, str]:
    """What each flow leaving a gateway says, for labels drawn on the diagram: a flow the analyst named shows
    its name (drawn by the diagram itself, so not listed here); one without a name, its condition in the
    dictionary's words ("Résultat : Payé"), never the raw expression; "" for the default flow."""
    graph = graph_of(version)
    dictionary = dictionary or Dictionary()
    names = {k: e.name for k, e in model_of(version).elements.items() if e.name}
    labels = {}
    for flow in graph.flows.values():
        if graph.tags.get(flow.source) not in GATEWAYS or (flow.name or "").strip():
            continue
        if flow.default:
            labels[flow.id] = ""
        elif flow.condition:
            labels[flow.id] = words.describe(flow.condition, dictionary, lang, names)
    return labels
