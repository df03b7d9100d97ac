"""A drawing for sequences published without one (files written by hand or by tools that omit BPMN DI).

bpmn-js draws only what the file's BPMNDiagram places; a version without it still has to be shown on the
dossier page. Nodes are placed left to right by their distance from the start (loops ignored), one band
per lane; flows are drawn as right-angled lines. A file that has its own drawing is returned unchanged."""

from lxml import etree

from bpmn.dialect import bpmn, local, main_process, ref
from bpmn.xml import parse_xml

DI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DD_DI = "http://www.omg.org/spec/DD/20100524/DI"
SIZES = {"event": (36, 36), "gateway": (50, 50), "activity": (100, 80)}
COLUMN, ROW = 170, 120

_CACHE: dict[str, bytes] = {}


def _kind(tag: str) -> str:
    if tag.endswith("Event"):
        return "event"
    if tag.endswith("Gateway"):
        return "gateway"
    return "activity"


def with_diagram(xml: bytes, cache_key: str | None = None) -> bytes:
    if cache_key and cache_key in _CACHE:
        return _CACHE[cache_key]
    root = parse_xml(xml)
    if root.find(f".//{{{DI}}}BPMNShape") is not None:
        result = xml
    else:
        result = _layout(root)
    if cache_key:
        _CACHE[cache_key] = result
    return result


def _layout(root: etree._Element) -> bytes:
    process = main_process(root)
    if process is None:
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    nodes: dict[str, str] = {}
    boundaries: dict[str, str] = {}
    for child in process:
        tag = local(child)
        if (
            not tag
            or not child.get("id")
            or tag in ("sequenceFlow", "laneSet", "textAnnotation", "association")
        ):
            continue
        if tag == "boundaryEvent":
            boundaries[child.get("id")] = ref(child.get("attachedToRef")) or ""
        elif tag.endswith(("Event", "Gateway", "Task", "Activity")) or tag in (
            "task",
            "subProcess",
            "transaction",
        ):
            nodes[child.get("id")] = tag
    flows = [
        (f.get("id"), ref(f.get("sourceRef")), ref(f.get("targetRef")))
        for f in process.iter(bpmn("sequenceFlow"))
    ]
    ranks = _ranks(nodes, boundaries, flows)
    lanes = _lanes(process)
    lane_order = list(dict.fromkeys(lanes.values()))
    bands = sorted(
        {lanes.get(n, "") for n in nodes},
        key=lambda lane: lane_order.index(lane) if lane in lane_order else len(lane_order),
    )
    order = {lane: i for i, lane in enumerate(bands)}
    row_of = _rows(nodes, boundaries, flows, ranks, lanes)
    depth: dict[str, int] = {}
    for node, row in row_of.items():
        lane = lanes.get(node, "")
        depth[lane] = max(depth.get(lane, 1), row + 1)
    tops, top = {}, 40
    for lane in sorted(order, key=order.get):
        tops[lane] = top
        top += depth.get(lane, 1) * ROW + 20
    bounds: dict[str, tuple[float, float, float, float]] = {}
    for node, tag in nodes.items():
        width, height = SIZES[_kind(tag)]
        center_x = 120 + ranks.get(node, 0) * COLUMN
        center_y = tops[lanes.get(node, "")] + ROW / 2 + row_of[node] * ROW
        bounds[node] = (center_x - width / 2, center_y - height / 2, width, height)
    for event, host in boundaries.items():
        if host in bounds:
            x, y, width, height = bounds[host]
            bounds[event] = (x + width - 28, y + height - 18, 36, 36)
    return _write(root, process, bounds, flows, {n for n, tag in nodes.items() if tag.endswith("Gateway")})


def _ranks(nodes: dict[str, str], boundaries: dict[str, str], flows) -> dict[str, int]:
    outgoing: dict[str, list[str]] = {}
    for _id, source, target in flows:
        outgoing.setdefault(source, []).append(target)
    # A boundary event leaves from its host: its targets come after the host.
    for event, host in boundaries.items():
        outgoing.setdefault(host, []).extend(outgoing.get(event, []))
    incoming = {t for targets in outgoing.values() for t in targets}
    starts = [n for n in nodes if n not in incoming] or list(nodes)[:1]
    ranks: dict[str, int] = {}
    stack = [(s, 0, frozenset()) for s in starts]
    while stack:
        node, rank, path = stack.pop()
        if node in path or rank <= ranks.get(node, -1) or rank > len(nodes):
            continue
        ranks[node] = rank
        for target in outgoing.get(node, []):
            stack.append((target, rank + 1, path | {node}))
    return ranks


def _rows(nodes, boundaries, flows, ranks, lanes) -> dict[str, int]:
    """A branch tree: the first branch of a split stays on its parent's row, the others open new rows."""
    outgoing: dict[str, list[str]] = {}
    for _id, source, target in flows:
        outgoing.setdefault(boundaries.get(source, source), []).append(target)
    next_row: dict[str, int] = {}
    rows: dict[str, int] = {}
    taken: set[tuple[str, int, int]] = set()
    queue = sorted((n for n in nodes if ranks.get(n, 0) == 0), key=str)
    for node in queue:
        lane = lanes.get(node, "")
        rows[node] = next_row.get(lane, 0)
        next_row[lane] = rows[node] + 1
    while queue:
        node = queue.pop(0)
        first = True
        for target in outgoing.get(node, []):
            if target in rows or target not in nodes:
                continue
            lane = lanes.get(target, "")
            row = rows[node] if first and lane == lanes.get(node, "") else next_row.get(lane, 0)
            while (lane, ranks.get(target, 0), row) in taken:
                row += 1
            rows[target] = row
            taken.add((lane, ranks.get(target, 0), row))
            next_row[lane] = max(next_row.get(lane, 0), row + 1)
            first = False
            queue.append(target)
    for node in nodes:
        rows.setdefault(node, 0)
    return rows


def _lanes(process: etree._Element) -> dict[str, str]:
    found = {}
    for lane in process.iter(bpmn("lane")):
        for node_ref in lane.findall(bpmn("flowNodeRef")):
            if node_ref.text:
                found[node_ref.text.strip()] = lane.get("id")
    return found


def _write(root, process, bounds, flows, gateways=frozenset()) -> bytes:
    diagram = etree.SubElement(root, f"{{{DI}}}BPMNDiagram", id="Diagram_auto", nsmap={"bpmndi": DI})
    plane = etree.SubElement(diagram, f"{{{DI}}}BPMNPlane", id="Plane_auto", bpmnElement=process.get("id"))
    for node, (x, y, width, height) in bounds.items():
        shape = etree.SubElement(
            plane, f"{{{DI}}}BPMNShape", id=f"{node}_di", bpmnElement=node, nsmap={"dc": DC}
        )
        etree.SubElement(
            shape, f"{{{DC}}}Bounds", x=f"{x:g}", y=f"{y:g}", width=f"{width:g}", height=f"{height:g}"
        )
    for flow_id, source, target in flows:
        if source not in bounds or target not in bounds:
            continue
        edge = etree.SubElement(
            plane, f"{{{DI}}}BPMNEdge", id=f"{flow_id}_di", bpmnElement=flow_id, nsmap={"di": DD_DI}
        )
        for x, y in _route(bounds[source], bounds[target], gateway=source in gateways):
            etree.SubElement(edge, f"{{{DD_DI}}}waypoint", x=f"{x:g}", y=f"{y:g}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _route(source, target, gateway: bool = False) -> list[tuple[float, float]]:
    sx, sy, sw, sh = source
    tx, ty, tw, th = target
    start_y, end_y = sy + sh / 2, ty + th / 2
    if gateway and tx >= sx + sw and abs(start_y - end_y) >= 1:
        # Branches leave a gateway from its top or bottom corner: each has its own first segment and label.
        corner = (sx + sw / 2, sy + sh if end_y > start_y else sy)
        return [corner, (corner[0], end_y), (tx, end_y)]
    if tx >= sx + sw:
        start, end = (sx + sw, start_y), (tx, end_y)
    else:  # a loop back: leave from below, come back from above
        start, end = (sx + sw / 2, sy + sh), (tx + tw / 2, ty + th)
        low = max(sy + sh, ty + th) + 25
        return [start, (start[0], low), (end[0], low), end]
    if abs(start_y - end_y) < 1:
        return [start, end]
    middle = (start[0] + end[0]) / 2
    return [start, (middle, start_y), (middle, end_y), end]
