"""designer/diff.py: what changed between two versions of a sequence, element by element."""

import pytest

from designer.diff import diff_xml
from kernel.errors import Malformed

HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
        'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
        'xmlns:seq="urn:sequences:bpmn:1" id="D" targetNamespace="urn:x">')


def doc(body: str, layout: str = "") -> bytes:
    return (f'{HEAD}<bpmn:process id="relance" name="Relance" isExecutable="true">{body}</bpmn:process>'
            f'<bpmndi:BPMNDiagram id="Di"><bpmndi:BPMNPlane id="Pl" bpmnElement="relance">{layout}'
            f'</bpmndi:BPMNPlane></bpmndi:BPMNDiagram></bpmn:definitions>').encode()


BASE = """
<bpmn:laneSet id="LS"><bpmn:lane id="L1" seq:role="gestionnaire"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
<bpmn:flowNodeRef>call</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
<bpmn:startEvent id="start"/>
<bpmn:userTask id="call" name="Appeler" seq:outcomes="paid,no_answer"/>
<bpmn:intermediateCatchEvent id="wait" name="Attendre">
  <bpmn:timerEventDefinition id="TimerEventDefinition_1"><bpmn:timeDuration>P15D</bpmn:timeDuration>
  </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
<bpmn:sequenceFlow id="f1" sourceRef="call" targetRef="wait">
  <bpmn:conditionExpression>outcome == "paid"</bpmn:conditionExpression></bpmn:sequenceFlow>
"""


def test_identical_files_have_no_difference():
    assert diff_xml(doc(BASE), doc(BASE)).empty


def test_added_and_removed_elements():
    start = '<bpmn:startEvent id="start"/>'
    after = BASE.replace(start, start + '<bpmn:endEvent id="end"/>')
    after = after.replace('<bpmn:userTask id="call" name="Appeler" seq:outcomes="paid,no_answer"/>', "")
    diff = diff_xml(doc(BASE), doc(after))
    assert [(e.element_id, e.kind) for e in diff.added] == [("end", "endEvent")]
    assert [(e.element_id, e.kind, e.name) for e in diff.removed] == [("call", "userTask", "Appeler")]


def test_changed_attributes_and_folded_children():
    after = (BASE.replace("paid,no_answer", "paid,partial,no_answer").replace("P15D", "P6W")
             .replace('outcome == "paid"', 'outcome == "partial"')
             .replace('id="TimerEventDefinition_1"', 'id="TimerEventDefinition_other"'))
    diff = diff_xml(doc(BASE), doc(after))
    changes = {e.element_id: {(c.attribute, c.before, c.after) for c in e.changes} for e in diff.changed}
    assert changes == {
        "call": {("seq:outcomes", "paid,no_answer", "paid,partial,no_answer")},
        "wait": {("timerEventDefinition/timeDuration", "P15D", "P6W")},
        "f1": {("conditionExpression", 'outcome == "paid"', 'outcome == "partial"')},
    }
    assert not diff.added and not diff.removed


def test_type_change_and_lane_membership():
    after = BASE.replace('<bpmn:userTask id="call" name="Appeler" seq:outcomes="paid,no_answer"/>',
                         '<bpmn:sendTask id="call" name="Appeler" seq:channel="email"/>')
    after = after.replace("<bpmn:flowNodeRef>start</bpmn:flowNodeRef>", "")
    diff = diff_xml(doc(BASE), doc(after))
    by_id = {e.element_id: e for e in diff.changed}
    call_changes = {(c.attribute, c.before, c.after) for c in by_id["call"].changes}
    assert ("type", "userTask", "sendTask") in call_changes
    assert {(c.attribute, c.before, c.after) for c in by_id["L1"].changes} == {
        ("flowNodeRef", "call, start", "call")}


def test_layout_is_ignored_unless_asked():
    shape = ('<bpmndi:BPMNShape id="call_di" bpmnElement="call">'
             '<dc:Bounds x="{x}" y="10" width="100" height="80"/></bpmndi:BPMNShape>')
    before, after = doc(BASE, shape.format(x=10)), doc(BASE, shape.format(x=300))
    assert diff_xml(before, after).empty
    moved = diff_xml(before, after, layout=True)
    assert [e.element_id for e in moved.changed] == ["call_di"]
    assert moved.to_dict()["changed"][0]["changes"] == [
        {"attribute": "dc:Bounds@x", "before": "10", "after": "300"}]


def test_unreadable_xml_is_refused_in_french():
    with pytest.raises(Malformed):
        diff_xml(doc(BASE), b"<not-closed")
