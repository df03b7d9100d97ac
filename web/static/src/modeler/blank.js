// A new sequence starts executable, with one lane ready for the case manager (seq:role="gestionnaire").
const escape = text => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

export function blankDiagram(key, name, laneName) {
  const k = escape(key);
  const n = escape(name);
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
  xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:seq="urn:sequences:bpmn:1"
  id="Definitions_${k}" targetNamespace="urn:sequences:bpmn:1">
  <bpmn:collaboration id="Collaboration_${k}">
    <bpmn:participant id="Participant_${k}" name="${n}" processRef="${k}" />
  </bpmn:collaboration>
  <bpmn:process id="${k}" name="${n}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_${k}">
      <bpmn:lane id="Lane_gestionnaire" name="${escape(laneName)}" seq:role="gestionnaire" seq:roleKind="internal">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="BPMNDiagram_1">
    <bpmndi:BPMNPlane id="BPMNPlane_1" bpmnElement="Collaboration_${k}">
      <bpmndi:BPMNShape id="Participant_${k}_di" bpmnElement="Participant_${k}" isHorizontal="true">
        <dc:Bounds x="120" y="60" width="1000" height="260" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="Lane_gestionnaire_di" bpmnElement="Lane_gestionnaire" isHorizontal="true">
        <dc:Bounds x="150" y="60" width="970" height="260" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="StartEvent_1_di" bpmnElement="StartEvent_1">
        <dc:Bounds x="202" y="172" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}
