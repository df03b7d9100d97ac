"""Reading the seq: dialect into the model the runtime uses."""

import json
from pathlib import Path

from bpmn.dialect import SequenceModel, read_model
from bpmn.xml import parse_xml

DATA = Path(__file__).resolve().parents[1] / "data" / "bpmn"
HEAD = (
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:seq="urn:sequences:bpmn:1" id="D">'
)


def model_of(body: str) -> SequenceModel:
    return read_model(parse_xml((HEAD + body + "</bpmn:definitions>").encode()))


def relance() -> SequenceModel:
    return read_model(parse_xml((DATA / "valid" / "relance.bpmn").read_bytes()))


def test_key_name_and_roles_of_the_relance_sequence():
    model = relance()
    assert (model.key, model.name) == ("relance_amiable", "Relance amiable")
    assert {key: (role.kind, role.name) for key, role in model.roles.items()} == {
        "gestionnaire": ("internal", "Gestionnaire"),
        "locataire": ("contact", "Locataire"),
    }
    assert model.next_keys == {"plan_apurement"}
    assert model.called == set()


def test_user_task_send_task_timer_and_end_of_the_relance_sequence():
    elements = relance().elements
    task = elements["Task_relancer"]
    assert (task.tag, task.role, task.action) == ("userTask", "gestionnaire", "reminder")
    assert task.outcomes == ["paid", "promise", "no_answer"]
    assert (task.due, task.calendar) == ("P8D", "business")
    send = elements["Send_mise_en_demeure"]
    assert (send.action, send.role, send.channel, send.template) == (
        "communication",
        "locataire",
        "letter",
        "mise_en_demeure",
    )
    timer = elements["Timer_sans_reponse"]
    assert timer.timer == {"kind": "duration", "value": "P15D", "calendar": "calendar"}
    assert (timer.attached_to, timer.interrupting) == ("Task_relancer", True)
    assert elements["End_promesse"].next == "plan_apurement"
    assert elements["Gateway_resultat"].action is None
    assert "Flow_start" not in elements  # flows are not elements of the model


def test_the_model_survives_json():
    model = relance()
    restored = SequenceModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert restored == model


def test_defaults():
    model = model_of(
        """<bpmn:process id="p" isExecutable="true">
        <bpmn:laneSet><bpmn:lane id="L" seq:role="gestionnaire">
        <bpmn:flowNodeRef>T</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
        <bpmn:userTask id="T"/><bpmn:boundaryEvent id="B" attachedToRef="T" cancelActivity="false">
        <bpmn:timerEventDefinition><bpmn:timeCycle>R3/P7D</bpmn:timeCycle></bpmn:timerEventDefinition>
        </bpmn:boundaryEvent></bpmn:process>"""
    )
    assert model.name is None  # a missing process name is not a problem
    assert model.roles["gestionnaire"].kind == "internal"
    task = model.elements["T"]
    assert (task.action, task.outcomes, task.due, task.calendar) == ("task", [], None, "calendar")
    assert model.elements["B"].interrupting is False
    assert model.elements["B"].timer == {"kind": "cycle", "value": "R3/P7D", "calendar": "calendar"}
    assert model.elements["B"].role is None


def test_legacy_quoted_timer_values_are_unquoted():
    model = model_of(
        """<bpmn:process id="p" isExecutable="true">
        <bpmn:intermediateCatchEvent id="A" seq:calendar="business"><bpmn:timerEventDefinition>
        <bpmn:timeDuration>'P15D'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="B"><bpmn:timerEventDefinition>
        <bpmn:timeDate>"2026-01-31T09:00:00Z"</bpmn:timeDate></bpmn:timerEventDefinition>
        </bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="C"><bpmn:timerEventDefinition/></bpmn:intermediateCatchEvent>
        </bpmn:process>"""
    )
    assert model.elements["A"].timer == {"kind": "duration", "value": "P15D", "calendar": "business"}
    assert model.elements["B"].timer["value"] == "2026-01-31T09:00:00Z"
    assert model.elements["C"].timer == {"kind": None, "value": "", "calendar": "calendar"}


def test_message_events_read_the_message_name_even_through_a_prefix():
    model = model_of(
        """<bpmn:message id="M1" name="paiement_recu"/>
        <bpmn:process id="p" isExecutable="true">
        <bpmn:intermediateCatchEvent id="A"><bpmn:messageEventDefinition messageRef="M1"/>
        </bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="B"><bpmn:messageEventDefinition messageRef="tns:M1"/>
        </bpmn:intermediateCatchEvent>
        <bpmn:intermediateCatchEvent id="C"><bpmn:messageEventDefinition messageRef="M9"/>
        </bpmn:intermediateCatchEvent></bpmn:process>"""
    )
    assert [model.elements[i].message for i in "ABC"] == ["paiement_recu", "paiement_recu", None]


def test_nested_lanes_and_sub_processes():
    model = model_of(
        """<bpmn:process id="p" isExecutable="true"><bpmn:laneSet>
        <bpmn:lane id="Parent" seq:role="gestionnaire">
          <bpmn:flowNodeRef>T1</bpmn:flowNodeRef><bpmn:flowNodeRef>T2</bpmn:flowNodeRef>
          <bpmn:flowNodeRef>Sub</bpmn:flowNodeRef>
          <bpmn:childLaneSet><bpmn:lane id="Child" seq:role="comptable">
            <bpmn:flowNodeRef>T2</bpmn:flowNodeRef>
          </bpmn:lane></bpmn:childLaneSet>
        </bpmn:lane></bpmn:laneSet>
        <bpmn:userTask id="T1"/><bpmn:userTask id="T2"/>
        <bpmn:subProcess id="Sub"><bpmn:userTask id="Inner"/></bpmn:subProcess>
        <bpmn:callActivity id="Call" calledElement="commandement"/>
        <bpmn:endEvent id="E" seq:next="expulsion"/></bpmn:process>"""
    )
    roles = {key: element.role for key, element in model.elements.items()}
    assert roles == {"T1": "gestionnaire", "T2": "comptable", "Sub": "gestionnaire", "Inner": "gestionnaire",
                     "Call": None, "E": None}  # fmt: skip
    assert model.called == {"commandement"}
    assert model.next_keys == {"expulsion"}
    assert set(model.roles) == {"gestionnaire", "comptable"}


def test_the_first_executable_process_is_the_sequence():
    model = model_of(
        """<bpmn:process id="draft" isExecutable="false"/>
        <bpmn:process id="first" name="Premier" isExecutable="true"/>
        <bpmn:process id="second" isExecutable="true"/>"""
    )
    assert model.key == "first"


def test_without_executable_process_the_first_process_is_read():
    assert model_of('<bpmn:process id="only"/>').key == "only"


def test_a_file_without_process_gives_an_empty_model():
    model = model_of('<bpmn:message id="M" name="m"/>')
    assert (model.key, model.roles, model.elements) == (None, {}, {})


def test_the_first_lane_of_a_role_gives_its_kind():
    model = model_of(
        """<bpmn:process id="p" isExecutable="true"><bpmn:laneSet>
        <bpmn:lane id="A" seq:role="x" seq:roleKind="partner"/>
        <bpmn:lane id="B" seq:role="x" seq:roleKind="contact"/>
        </bpmn:laneSet></bpmn:process>"""
    )
    assert model.roles["x"].kind == "partner"
