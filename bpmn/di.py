"""The layout part of a BPMN file (BPMN DI: shapes and edges), apart from the model it draws.

Tools write vendor extensions and layout with ids of their own, and some export layout that no longer
matches the model (a shape left behind by a deleted task, one id given to two shapes). None of it changes
what runs, so it never counts as a problem of the sequence: it is one warning, and `repair` removes what
can be removed without guessing.
"""

from collections import Counter
from collections.abc import Iterator

from lxml import etree

from bpmn.dialect import BPMN_NS, bpmn, main_process, ref
from bpmn.xml import parse_xml
from kernel.errors import DomainError, Issue

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
_EXTENSIONS = bpmn("extensionElements")
_DRAWINGS = frozenset({"BPMNShape", "BPMNEdge", "BPMNPlane"})


def model_elements(root: etree._Element) -> Iterator[etree._Element]:
    """The elements of the BPMN model: BPMN namespace, outside the vendors' extension elements."""
    stack = [root]
    while stack:
        element = stack.pop()
        if element.tag == _EXTENSIONS:
            continue
        if etree.QName(element).namespace == BPMN_NS:
            yield element
        stack.extend(child for child in reversed(element) if isinstance(child.tag, str))


def _faults(root: etree._Element) -> tuple[list[etree._Element], list[etree._Element]]:
    """(drawings to drop: of elements the model does not have, or a second drawing of one element in one
    plane; drawings whose id another element already has)."""
    model_ids = {element.get("id") for element in model_elements(root)} - {None}
    drawings: list[etree._Element] = []
    dangling: list[etree._Element] = []
    for plane in root.iter(f"{{{DI_NS}}}BPMNPlane"):
        drawn: set[str] = set()
        for drawing in (plane, *(child for child in plane if isinstance(child.tag, str))):
            if etree.QName(drawing).localname not in _DRAWINGS:
                continue
            drawings.append(drawing)
            target = ref(drawing.get("bpmnElement"))
            if target is not None and (target not in model_ids or target in drawn):
                dangling.append(drawing)
            drawn.add(target or "")
    counts = Counter(d.get("id") for d in drawings if d.get("id"))
    duplicated = [
        d for d in drawings if d.get("id") and (counts[d.get("id")] > 1 or d.get("id") in model_ids)
    ]
    return dangling, duplicated


def check(root: etree._Element) -> list[Issue]:
    """At most one warning that says what is wrong with the layout; the sequence itself is not concerned."""
    dangling, duplicated = _faults(root)
    parts = []
    if dangling:
        targets = sorted({d.get("bpmnElement") or "" for d in dangling})
        parts.append(f"{len(dangling)} forme(s) en trop ou qui dessinent des éléments absents du modèle "
                     f"({_few(targets)})")
    if duplicated:
        ids = sorted({d.get("id") or "" for d in duplicated})
        parts.append(f"{len(duplicated)} forme(s) portent un identifiant déjà pris ({_few(ids)})")
    if not parts:
        return []
    return [
        Issue(
            None,
            "layout",
            "La mise en page du fichier (BPMN DI) a des défauts, sans effet sur la séquence : "
            + " ; ".join(parts)
            + ". Ils sont corrigés à l'enregistrement du brouillon : les formes orphelines sont retirées "
            "et les identifiants renumérotés.",
        )
    ]


def repair(root: etree._Element) -> bool:
    """Removes the drawings of missing elements and renumbers duplicated drawing ids, in place; True when
    something changed. The model is never touched."""
    dangling, duplicated = _faults(root)
    # A diagram needs its plane: a plane of a missing element draws the collaboration, else the process.
    canvas = root.find(bpmn("collaboration"))
    canvas = canvas if canvas is not None else main_process(root)
    for drawing in dangling:
        parent = drawing.getparent()
        if etree.QName(drawing).localname != "BPMNPlane" and parent is not None:
            parent.remove(drawing)
        elif canvas is not None and canvas.get("id"):
            drawing.set("bpmnElement", canvas.get("id") or "")
    taken = {element.get("id") for element in root.iter() if isinstance(element.tag, str)} - {None}
    seen: set[str] = set()
    model_ids = {element.get("id") for element in model_elements(root)}
    for drawing in duplicated:
        if drawing.getparent() is None and drawing is not root:
            continue  # removed above
        current = drawing.get("id") or ""
        if current not in seen and current not in model_ids:
            seen.add(current)  # the first of a repeated id keeps it
            continue
        number = 2
        while f"{current}_{number}" in taken:
            number += 1
        drawing.set("id", f"{current}_{number}")
        taken.add(f"{current}_{number}")
    return bool(dangling or duplicated)


def repaired(data: bytes) -> bytes:
    """The file with its layout repaired, or the very same bytes when there is nothing to repair (or when it
    cannot be read: validation says why)."""
    try:
        root = parse_xml(data)
    except DomainError:
        return data
    if not repair(root):
        return data
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _few(values: list[str], shown: int = 5) -> str:
    head = ", ".join(values[:shown])
    return head + (f" et {len(values) - shown} autre(s)" if len(values) > shown else "")
