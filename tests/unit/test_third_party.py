"""Diagrams drawn in other tools (../shared/corpus, read in place: public test material of bpmn-js,
SpiffWorkflow and the BPMN MIWG suite): what they carry beyond the model never reads as a problem of the
sequence, and what is refused says what to draw instead."""

from pathlib import Path

import pytest
from lxml import etree

from bpmn import di, spec
from bpmn.dialect import main_process
from bpmn.validation import validate
from bpmn.xml import parse_xml
from kernel.errors import Malformed

DATA = Path(__file__).resolve().parents[1] / "data" / "bpmn"
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
FILES = {
    "spiff_random_fact.bpmn": "spiffworkflow-tests/bpmn/data/random_fact.bpmn",
    "examples__bundling__pizza-collaboration.bpmn": "bpmn-io/examples__bundling__pizza-collaboration.bpmn",
    "miwg_C.9.2-export.bpmn": "miwg-vendors/bpmnio-camunda-modeler-18.6.1/C.9.2-export.bpmn",
    "miwg_A.2.1.bpmn": "miwg-reference/A.2.1.bpmn",
    "not-wellformed__draw__events.bpmn": "bpmn-io/invalid/not-wellformed__draw__events.bpmn",
    "import-error__multiple-dis.bpmn": "bpmn-io/invalid/import-error__multiple-dis.bpmn",
    "di-plane-no-bpmn-element.bpmn": "bpmn-io/invalid/di-plane-no-bpmn-element.bpmn",
}
RELANCE = (DATA / "valid" / "relance.bpmn").read_text()


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    monkeypatch.setattr(spec, "build_spec", lambda data: {}, raising=False)


def corpus(name: str) -> bytes:
    path = CORPUS / FILES[name]
    if not path.is_file():
        pytest.skip(f"third-party corpus (../shared/corpus) not present: {FILES[name]}")
    return path.read_bytes()


def codes(report, element_id=None):
    return [i.code for i in report.issues if element_id is None or i.element_id == element_id]


def test_ids_repeated_in_vendor_extensions_are_not_duplicates():
    # camunda:property id="description" in two forms of a SpiffWorkflow test diagram.
    report = validate(corpus("spiff_random_fact.bpmn"))
    assert "duplicate_id" not in codes(report)
    assert report.warnings == []


def test_ids_repeated_in_the_model_are_still_duplicates():
    data = RELANCE.replace('id="Task_relancer"', 'id="End_paye"', 1).encode()
    report = validate(data)
    assert [(i.element_id, i.code) for i in report.issues if i.code == "duplicate_id"] == [
        ("End_paye", "duplicate_id")
    ]


def broken_layout() -> bytes:
    """relance.bpmn with a shape id given twice, a shape id equal to a task's, and a shape left behind."""
    root = parse_xml(RELANCE.encode())
    shapes = list(root.iter(f"{{{di.DI_NS}}}BPMNShape"))
    shapes[1].set("id", shapes[0].get("id"))
    shapes[2].set("id", "Task_relancer")
    orphan = etree.SubElement(shapes[0].getparent(), f"{{{di.DI_NS}}}BPMNShape", id="Shape_gone",
                              bpmnElement="Task_deleted")
    orphan.append(etree.fromstring(etree.tostring(shapes[0].find("{*}Bounds"))))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def test_layout_faults_are_one_warning_and_never_a_problem_of_the_sequence():
    report = validate(broken_layout())
    assert report.valid, report.issues
    assert [w.code for w in report.warnings] == ["layout"]
    (warning,) = report.warnings
    assert warning.element_id is None
    assert "Task_deleted" in warning.message and "identifiant déjà pris" in warning.message


def model_of(root) -> list[bytes]:
    return [etree.tostring(e) for e in root if etree.QName(e).localname != "BPMNDiagram"]


def test_layout_faults_are_repaired_and_the_model_is_left_alone():
    data = broken_layout()
    repaired = di.repaired(data)
    report = validate(repaired)
    assert report.valid and report.warnings == []
    before, after = parse_xml(data), parse_xml(repaired)
    assert model_of(before) == model_of(after)
    ids = [e.get("id") for e in after.iter() if isinstance(e.tag, str) and e.get("id")]
    assert len(ids) == len(set(ids))
    assert "Task_deleted" not in repaired.decode()
    assert di.repaired(repaired) is repaired  # nothing left to do: the very same bytes


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("import-error__multiple-dis.bpmn", "InclusiveGateway_1"),
        ("di-plane-no-bpmn-element.bpmn", "Collaboration_2"),
    ],
)
def test_layout_fixtures_of_bpmn_js_are_warned_about_then_repaired(name, target):
    data = corpus(name)
    report = validate(data)
    assert "duplicate_id" not in codes(report)
    assert [w.code for w in report.warnings] == ["layout"] and target in report.warnings[0].message
    assert validate(di.repaired(data)).warnings == []


def with_an_empty_pool_first(executable: str) -> bytes:
    text = RELANCE.replace(
        '<bpmn:participant id="Participant_relance"',
        '<bpmn:participant id="Participant_locataire" name="Locataire" processRef="Process_locataire"/>\n'
        '    <bpmn:participant id="Participant_relance"',
    ).replace(
        '<bpmn:process id="relance_amiable"',
        f'<bpmn:process id="Process_locataire" isExecutable="{executable}"/>\n'
        '  <bpmn:process id="relance_amiable"',
    )
    return text.encode()


def test_an_empty_pool_drawn_first_is_passed_over():
    data = with_an_empty_pool_first("false")
    assert main_process(parse_xml(data)).get("id") == "relance_amiable"
    assert validate(data).valid
    # Neither marked executable (as many tools export): the problem is about the pool with the drawing.
    report = validate(data.replace(b'name="Relance amiable" isExecutable="true"', b'name="Relance amiable"'))
    assert report.model.key == "relance_amiable"
    assert [(i.element_id, i.code) for i in report.issues] == [("relance_amiable", "not_executable")]


def test_an_empty_pool_marked_executable_is_the_one_to_uncheck():
    report = validate(with_an_empty_pool_first("true"))
    assert report.model.key == "relance_amiable"
    assert [(i.element_id, i.code) for i in report.issues] == [("Process_locataire", "several_executable")]


def test_several_drawn_pools_and_none_executable_ask_the_analyst_to_choose_by_name():
    report = validate(corpus("examples__bundling__pizza-collaboration.bpmn"))
    (choice,) = [i for i in report.issues if i.code == "several_pools"]
    assert "« Pizza vendor » (_6-1)" in choice.message and "« Pizza Customer » (_6-2)" in choice.message
    assert "Exécutable" in choice.message
    assert "not_executable" not in codes(report)


def test_error_end_events_name_what_is_supported():
    report = validate(corpus("miwg_C.9.2-export.bpmn"))
    ends = [i for i in report.issues if i.element_id in ("Event_00ey6jp", "Event_0iyct3a")]
    assert ends and all(i.code == "unsupported_element" for i in ends)
    for issue in ends:
        assert "d'erreur" in issue.message
        assert "fin simple" in issue.message and "fin de terminaison" in issue.message
        assert "seq:next" in issue.message
        assert "minuterie ou un message" not in issue.message


def test_a_condition_written_true_is_accepted():
    report = validate(corpus("miwg_A.2.1.bpmn"))
    assert not [i for i in report.issues if i.code == "invalid_condition"], report.issues


def test_malformed_xml_of_another_tool_is_explained_in_french_with_the_line():
    with pytest.raises(Malformed) as raised:
        validate(corpus("not-wellformed__draw__events.bpmn"))
    message = raised.value.message
    assert "ligne 131" in message and raised.value.details["line"] == 131
    assert "le préfixe « bpmn » de la balise « signalEventDefinition » n'est pas déclaré" in message
    assert "is not defined" not in message
