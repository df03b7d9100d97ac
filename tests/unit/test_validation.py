"""Validation: one small fixture per rule, every problem at once, in French, tied to an element."""

from pathlib import Path

import pytest
from lxml import etree

from bpmn import spec
from bpmn.validation import Report, validate
from bpmn.xml import MAX_BYTES
from kernel.errors import InvalidSequence, Issue, Malformed, TooLarge

DATA = Path(__file__).resolve().parents[1] / "data" / "bpmn"
VALID = DATA / "valid" / "relance.bpmn"

# fixture -> (element id, code) it must report; `codes` lists every code the fixture may give.
CASES = {
    "not_executable": ("relance", "not_executable"),
    "several_executable": ("autre", "several_executable"),
    "no_executable": (None, "no_executable"),
    "no_start_event": ("relance", "no_start_event"),
    "several_start_events": ("Start_2", "several_start_events"),
    "action_outside_lane": ("Task_1", "action_outside_lane"),
    "lane_without_role": ("Lane_1", "lane_without_role"),
    "role_kind_conflict": ("Lane_2", "role_kind_conflict"),
    "contact_role_user_task": ("Task_1", "contact_role_user_task"),
    "unknown_seq_value": ("Task_1", "unknown_seq_value"),
    "unknown_seq_attribute": ("Task_1", "unknown_seq_value"),
    "invalid_duration": ("Task_1", "invalid_duration"),
    "invalid_timer_duration": ("Wait_1", "invalid_duration"),
    "timer_without_value": ("Wait_1", "timer_without_value"),
    "invalid_time_date": ("Wait_1", "invalid_time_date"),
    "missing_template": ("Send_1", "missing_template"),
    "missing_channel": ("Send_1", "missing_channel"),
    "branch_without_condition": ("Flow_other", "branch_without_condition"),
    "invalid_condition": ("Flow_other", "invalid_condition"),
    "invalid_outcome_reference": ("Flow_paid", "invalid_outcome_reference"),
    "invalid_action_reference": ("Flow_paid", "invalid_action_reference"),
    "unsupported_element": ("Task_1", "unsupported_element"),
    "unsupported_plain_task": ("Task_1", "unsupported_element"),
    "unsupported_signal_event": ("Wait_1", "unsupported_element"),
    "dangling_reference": ("Flow_2", "dangling_reference"),
    "called_sequence_unknown": ("Call_1", "called_sequence_unknown"),
    "missing_called_element": ("Call_1", "missing_called_element"),
    "recursive_call": ("Call_1", "recursive_call"),
    "next_sequence_unknown": ("End_1", "next_sequence_unknown"),
    "several_outgoing_flows": ("Task_1", "several_outgoing_flows"),
    "message_without_name": ("Message_1", "message_without_name"),
    "duplicate_id": ("Lane_gestionnaire", "duplicate_id"),
    "unreachable": ("Task_2", "unreachable"),
    "reserved_id": ("Start", "reserved_id"),
}
# A fixture may show a consequence of its problem too (a missing start leaves the first task unreachable).
ALSO = {"no_start_event": {"unreachable"}, "dangling_reference": {"unreachable"}}
KNOWN = {"called_sequence_unknown": {"relance"}, "next_sequence_unknown": {"relance"}}


def read(name: str) -> bytes:
    return (DATA / "invalid" / f"{name}.bpmn").read_bytes()


@pytest.fixture(autouse=True)
def no_engine(monkeypatch):
    """Rules are tested alone; the engine hand-off has its own tests below."""
    monkeypatch.setattr(spec, "build_spec", lambda data: {}, raising=False)


def test_every_fixture_is_covered():
    assert {path.stem for path in (DATA / "invalid").glob("*.bpmn")} == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_rule_reports_its_element(name):
    report = validate(read(name), known_sequences=KNOWN.get(name))
    element_id, code = CASES[name]
    assert not report.valid
    assert (element_id, code) in [(issue.element_id, issue.code) for issue in report.issues]
    assert {issue.code for issue in report.issues} <= {code} | ALSO.get(name, set())
    for issue in report.issues:
        assert isinstance(issue, Issue)
        assert issue.message.endswith(".") or issue.message.endswith(")")
        if issue.element_id:
            assert issue.element_id in issue.message or issue.code == "duplicate_id"


def test_the_relance_sequence_is_valid():
    report = validate(VALID.read_bytes())
    assert report.issues == []
    assert report.valid
    assert report.model.key == "relance_amiable"
    assert isinstance(report.root, etree._Element)


def test_the_relance_sequence_is_valid_for_the_engine_too(monkeypatch):
    monkeypatch.undo()
    if getattr(spec, "build_spec", None) is None:
        pytest.skip("bpmn.spec.build_spec is not there yet")
    assert validate(VALID.read_bytes()).issues == []


def test_known_sequences_are_checked_only_when_given():
    data = VALID.read_bytes()
    assert validate(data, known_sequences=None).valid
    assert validate(data, known_sequences={"plan_apurement"}).valid
    report = validate(data, known_sequences=set())
    assert [(i.element_id, i.code) for i in report.issues] == [("End_promesse", "next_sequence_unknown")]


def test_a_self_call_is_refused_even_for_drafts():
    assert [i.code for i in validate(read("recursive_call")).issues] == ["recursive_call"]


def test_the_example_message_of_the_brief():
    report = validate(read("action_outside_lane"))
    assert report.issues == [
        Issue(
            "Task_1",
            "action_outside_lane",
            "La tâche « Relancer le locataire » (Task_1) n'est dans aucun couloir : "
            "placez-la dans le couloir du rôle qui doit agir.",
        )
    ]


def test_every_problem_is_reported_at_once():
    data = read("missing_template").replace(b' seq:channel="letter"', b"")
    data = data.replace(b'isExecutable="true"', b'isExecutable="false"')
    data = data.replace(b"<bpmn:flowNodeRef>Send_1</bpmn:flowNodeRef>", b"")
    codes = sorted(issue.code for issue in validate(data).issues)
    assert codes == ["action_outside_lane", "missing_channel", "missing_template", "not_executable"]


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (b"<bpmn:timeDuration>15 days", b"<bpmn:timeDuration>-P1D", "invalid_duration"),
        (b"<bpmn:timeDuration>15 days", b"<bpmn:timeDuration>'P15D'", None),  # legacy quotes are tolerated
        (b"<bpmn:timeDuration>15 days</bpmn:timeDuration>",
         b"<bpmn:timeDate>2026-01-31T09:00:00Z</bpmn:timeDate>", None),
        (b"<bpmn:timeDuration>15 days</bpmn:timeDuration>",
         b'<bpmn:timeDate>add_duration(dossier.hearing_date, "-P6W")</bpmn:timeDate>', None),
        (b"<bpmn:timeDuration>15 days</bpmn:timeDuration>", b"<bpmn:timeCycle>R3/P7D</bpmn:timeCycle>",
         "unsupported_element"),  # a cycle only makes sense on a boundary event
        (b"<bpmn:timeDuration>15 days</bpmn:timeDuration>", b"<bpmn:timeCycle>R3/sept jours</bpmn:timeCycle>",
         "invalid_duration"),
    ],
)  # fmt: skip
def test_timer_values(old, new, code):
    data = read("invalid_timer_duration").replace(old, new)
    assert [issue.code for issue in validate(data).issues] == ([code] if code else [])


@pytest.mark.parametrize(
    ("attribute", "valid"),
    [
        (b'seq:action="validation"', True),
        (b'seq:calendar="business"', True),
        (b'seq:calendar="ouvre"', False),
        (b'seq:calendar="legal" seq:due="P15D"', True),
        (b'seq:due="P2M" seq:notDuring="treve_hivernale"', True),
        (b'seq:notDuring="vacances"', False),
        (b'seq:due="P8D"', True),
        (b'seq:due="-P8D"', False),
        (b'seq:channel="email"', False),  # not an attribute of a user task
    ],
)
def test_user_task_attributes(attribute, valid):
    data = read("unknown_seq_value").replace(b'seq:action="call"', attribute)
    assert validate(data).valid is valid


def test_a_contact_may_hold_a_send_task():
    data = read("missing_template").replace(b'seq:channel="letter"', b'seq:channel="letter" seq:template="t"')
    data = data.replace(b'seq:role="gestionnaire"', b'seq:role="locataire" seq:roleKind="contact"')
    assert validate(data).valid


def test_default_branch_needs_no_condition():
    data = read("branch_without_condition").replace(
        b'name="R\xc3\xa9sultat ?"', b'name="R" default="Flow_other"'
    )
    assert validate(data).valid


def test_gateway_with_one_outgoing_flow_needs_no_condition():
    data = read("branch_without_condition").replace(
        b'sourceRef="Gateway_1" targetRef="End_2"', b'sourceRef="Task_9"'
    )
    codes = {issue.code for issue in validate(data).issues}
    assert "branch_without_condition" not in codes
    assert "dangling_reference" in codes


def test_a_message_name_gives_a_valid_wait():
    unnamed, named = b'<bpmn:message id="Message_1"/>', b'<bpmn:message id="Message_1" name="paiement_recu"/>'
    data = read("message_without_name").replace(unnamed, named)
    assert validate(data).valid


def test_engine_refusals_become_issues(monkeypatch):
    refused = [Issue("Task_relancer", "bad_timer", "Le moteur refuse la minuterie.")]

    def build_spec(data):
        raise InvalidSequence(refused)

    monkeypatch.setattr(spec, "build_spec", build_spec, raising=False)
    assert validate(VALID.read_bytes()).issues == refused


def test_an_engine_crash_becomes_one_issue(monkeypatch):
    def build_spec(data):
        raise RuntimeError("boom")

    monkeypatch.setattr(spec, "build_spec", build_spec, raising=False)
    [issue] = validate(VALID.read_bytes()).issues
    assert (issue.element_id, issue.code) == (None, "engine_refused")
    assert "boom" in issue.message and "moteur" in issue.message


def test_the_engine_is_asked_only_about_clean_diagrams(monkeypatch):
    calls = []
    monkeypatch.setattr(spec, "build_spec", calls.append, raising=False)
    validate(read("missing_channel"))
    assert calls == []
    validate(VALID.read_bytes())
    assert len(calls) == 1


def test_a_clean_file_carries_the_spec_the_engine_built_once(monkeypatch):
    calls = []
    real = spec.build_spec

    def counted(data):
        calls.append(data)
        return real(data)

    monkeypatch.setattr(spec, "build_spec", counted)
    report = validate(VALID.read_bytes())
    assert report.valid and report.spec == real(VALID.read_bytes()) and len(calls) == 1
    assert validate(read("missing_channel")).spec is None


def test_unreadable_files_propagate():
    with pytest.raises(Malformed):
        validate(b"<bpmn:definitions")
    with pytest.raises(Malformed, match="DOCTYPE"):
        validate(b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>')
    with pytest.raises(TooLarge):
        validate(b" " * (MAX_BYTES + 1))


def test_report_validity():
    assert Report().valid
    assert not Report(issues=[Issue(None, "x", "y")]).valid


LETTER = DATA / "communications" / "comm_letter.bpmn"  # sends a letter with the template mise_en_demeure


def test_a_send_task_template_is_checked_against_the_library_when_it_is_given():
    data = LETTER.read_bytes()
    assert validate(data).valid  # drafts: the library is not asked
    assert validate(data, templates={"mise_en_demeure": "letter"}).valid

    [issue] = validate(data, templates={"relance_amiable": "email", "courrier_caution": "letter"}).issues
    assert (issue.element_id, issue.code) == ("Send_mise_en_demeure", "unknown_template")
    assert "« mise_en_demeure »" in issue.message and "courrier_caution" in issue.message
    assert "relance_amiable" not in issue.message  # an email template is no choice for a letter

    [issue] = validate(data, templates={"mise_en_demeure": "email"}).issues
    assert (issue.element_id, issue.code) == ("Send_mise_en_demeure", "template_channel_mismatch")
    assert "e-mail" in issue.message and "courrier" in issue.message and "changez le canal" in issue.message

    [issue] = validate(data, templates={}).issues
    assert issue.code == "unknown_template" and "créez « mise_en_demeure »" in issue.message
