"""Drafts, validation and publication through the API; attacks are refused and leave nothing behind."""

import hashlib

import pytest
from sqlalchemy import func, select

from designer.models import Sequence, SequenceVersion
from tests.factories import bpmn

XML = {"Content-Type": "application/xml"}


def post_xml(client, account, path, data):
    return client.post(f"/api/v1{path}", data=data, headers={**account.headers, **XML})


def counts(session):
    return (
        session.scalar(select(func.count(Sequence.id))),
        session.scalar(select(func.count(SequenceVersion.id))),
    )


def test_draft_publish_and_immutable_versions(client, users, session):
    analyst = users["analyst"]
    data = bpmn("runtime/rt_sub.bpmn")
    saved = post_xml(client, analyst, "/sequences", data)
    assert saved.status_code == 201
    assert saved.json == {"key": "rt_sub", "name": saved.json["name"], "draft": True, "issues": []}
    # The same file again replaces nothing: 200, not 409.
    assert post_xml(client, analyst, "/sequences", data).status_code == 200
    published = client.post("/api/v1/sequences/rt_sub/publish", headers=analyst.headers)
    assert published.status_code == 201
    assert published.json == {"key": "rt_sub", "version": 1, "checksum": hashlib.sha256(data).hexdigest()}
    # Publishing an unchanged draft is not a new version.
    again = client.post("/api/v1/sequences/rt_sub/publish", headers=analyst.headers)
    assert again.status_code == 200 and again.json["version"] == 1
    changed = data.replace(b'name="Suivi (test)"', b'name="Suivi modifi\xc3\xa9"', 1)
    assert changed != data
    assert post_xml(client, analyst, "/sequences?replace=true", changed).status_code == 200
    assert client.post("/api/v1/sequences/rt_sub/publish", headers=analyst.headers).json["version"] == 2
    v1 = client.get("/api/v1/sequences/rt_sub/versions/1", headers=users["manager"].headers)
    assert v1.status_code == 200 and v1.data == data  # byte for byte
    assert v1.headers["X-Checksum-SHA256"] == hashlib.sha256(data).hexdigest()
    assert client.get("/api/v1/sequences/rt_sub/versions/2", headers=analyst.headers).data == changed
    listed = client.get("/api/v1/sequences", headers=users["manager"].headers).json
    assert [(s["key"], s["latest_version"], [v["version"] for v in s["versions"]]) for s in listed] == [
        ("rt_sub", 2, [1, 2])
    ]
    assert client.get("/api/v1/sequences/rt_sub/versions/3", headers=analyst.headers).status_code == 404


def test_an_invalid_draft_is_kept_but_not_published(client, users, session):
    analyst = users["analyst"]
    saved = post_xml(client, analyst, "/sequences", bpmn("invalid/branch_without_condition.bpmn"))
    assert saved.status_code == 201
    codes = {i["code"] for i in saved.json["issues"]}
    assert "branch_without_condition" in codes
    refused = client.post(f"/api/v1/sequences/{saved.json['key']}/publish", headers=analyst.headers)
    assert refused.status_code == 422 and refused.json["error"] == "invalid_sequence"
    assert {i["element_id"] for i in refused.json["issues"]} >= {"Flow_other"}
    assert all(i["message"] for i in refused.json["issues"])
    assert counts(session)[1] == 0


def test_validate_reports_every_problem_without_storing(client, users, session):
    answer = post_xml(
        client, users["analyst"], "/sequences/validate", bpmn("invalid/unsupported_element.bpmn")
    )
    assert answer.status_code == 200
    assert answer.json["valid"] is False
    assert [i for i in answer.json["issues"] if i["code"] == "unsupported_element"][0][
        "element_id"
    ] == "Task_1"
    assert counts(session) == (0, 0)
    ok = post_xml(client, users["analyst"], "/sequences/validate", bpmn("runtime/rt_sub.bpmn"))
    assert ok.json == {"valid": True, "issues": [], "warnings": []}


def test_called_sequence_must_be_published_at_publication(client, users):
    analyst = users["analyst"]
    post_xml(client, analyst, "/sequences", bpmn("runtime/rt_plan.bpmn"))
    refused = client.post("/api/v1/sequences/rt_plan/publish", headers=analyst.headers)
    assert refused.status_code == 422
    assert [(i["element_id"], i["code"]) for i in refused.json["issues"]] == [
        ("Sub", "called_sequence_unknown")
    ]
    post_xml(client, analyst, "/sequences", bpmn("runtime/rt_sub.bpmn"))
    assert client.post("/api/v1/sequences/rt_sub/publish", headers=analyst.headers).status_code == 201
    assert client.post("/api/v1/sequences/rt_plan/publish", headers=analyst.headers).status_code == 201


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" name="&x;" isExecutable="true"/></bpmn:definitions>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY e "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p" name="&e;" isExecutable="true"/></bpmn:definitions>"""


def _with_condition(expression: bytes) -> bytes:
    data = bpmn("runtime/rt_loop.bpmn")
    assert b'outcome == "paid"' in data
    return data.replace(b'outcome == "paid"', expression.replace(b'"', b"&quot;"), 1)


ATTACKS = {
    "xxe": (XXE, 400),
    "billion_laughs": (LAUGHS, 400),
    "oversized": (b"<x>" + b" " * (5 * 1024 * 1024 + 10) + b"</x>", 413),
    "not_xml": (b"{not: xml}", 400),
    "script_task": (bpmn("invalid/unsupported_element.bpmn"), 422),
    "import": (_with_condition(b"__import__('os').system('touch /tmp/sequences-pwned')"), 422),
    "dunder": (_with_condition(b"().__class__.__bases__[0].__subclasses__()"), 422),
    "huge_power": (_with_condition(b"9 ** 9 ** 9 ** 9 > 1"), 422),
    "huge_string": (_with_condition(b"'a' * 10 ** 12 == outcome"), 422),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attacks_are_refused_and_nothing_is_stored(client, users, session, name):
    data, status = ATTACKS[name]
    analyst = users["analyst"]
    saved = post_xml(client, analyst, "/sequences", data)
    if status == 422:
        # A hostile diagram may be kept as a draft to be fixed, never published nor executed.
        assert saved.status_code in (200, 201)
        codes = {i["code"] for i in saved.json["issues"]}
        assert codes & {"invalid_condition", "unsupported_element"}, codes
        published = client.post(f"/api/v1/sequences/{saved.json['key']}/publish", headers=analyst.headers)
        assert published.status_code == 422
        assert counts(session)[1] == 0
    else:
        assert saved.status_code == status
        assert saved.json["error"] in ("malformed", "too_large")
        assert counts(session) == (0, 0)
    validated = post_xml(client, analyst, "/sequences/validate", data)
    assert validated.status_code == (200 if status == 422 else status)


def test_xml_only_with_an_xml_content_type(client, users):
    answer = client.post("/api/v1/sequences", json={"x": 1}, headers=users["analyst"].headers)
    assert answer.status_code == 415 and answer.json["error"] == "unsupported_media_type"


def test_sequences_that_switch_into_each_other_publish_together(client, users, session):
    analyst = users["analyst"]
    ping = bpmn("runtime/rt_sub.bpmn").replace(
        b'<bpmn:endEvent id="Fin"/>', b'<bpmn:endEvent id="Fin" seq:next="rt_pong"/>'
    )
    pong = ping.replace(b"rt_sub", b"rt_pong").replace(b'seq:next="rt_pong"', b'seq:next="rt_sub"')
    for data in (ping, pong):
        assert post_xml(client, analyst, "/sequences", data).status_code == 201
    alone = client.post("/api/v1/sequences/rt_sub/publish", headers=analyst.headers)
    assert alone.status_code == 422
    assert [i["code"] for i in alone.json["issues"]] == ["next_sequence_unknown"]
    together = client.post(
        "/api/v1/sequences/publish", json={"keys": ["rt_sub", "rt_pong"]}, headers=analyst.headers
    )
    assert together.status_code == 201
    assert [(p["key"], p["version"]) for p in together.json["published"]] == [("rt_sub", 1), ("rt_pong", 1)]


LETTER = {"key": "mise_en_demeure", "channel": "email", "subject": "Mise en demeure", "body": "Payez.\n"}


def test_a_send_task_names_a_template_of_the_library_for_its_channel(client, users):
    analyst = users["analyst"]
    data = bpmn("communications/comm_letter.bpmn")  # a letter, template mise_en_demeure
    assert post_xml(client, analyst, "/sequences", data).json["issues"] == []  # a draft may wait for it

    def problems(answer):
        return [(i["element_id"], i["code"]) for i in answer.json["issues"]]

    checked = post_xml(client, analyst, "/sequences/validate", data)
    assert problems(checked) == [("Send_mise_en_demeure", "unknown_template")]
    assert "« mise_en_demeure »" in checked.json["issues"][0]["message"]
    refused = client.post("/api/v1/sequences/comm_letter/publish", headers=analyst.headers)
    assert refused.status_code == 422 and problems(refused) == [("Send_mise_en_demeure", "unknown_template")]

    def add(template):
        answer = client.post("/api/v1/templates", json=template, headers=analyst.headers)
        assert answer.status_code == 201, answer.json

    add(LETTER)  # written for email, the task sends a letter
    add({"key": "courrier_caution", "channel": "letter", "subject": "Caution", "body": "Payez.\n"})
    checked = post_xml(client, analyst, "/sequences/validate", data)
    assert problems(checked) == [("Send_mise_en_demeure", "template_channel_mismatch")]
    assert "courrier_caution" in checked.json["issues"][0]["message"]  # the letters it may choose
    refused = client.post("/api/v1/sequences/comm_letter/publish", headers=analyst.headers)
    assert refused.status_code == 422
    assert problems(refused) == [("Send_mise_en_demeure", "template_channel_mismatch")]

    changed = client.put(
        "/api/v1/templates/mise_en_demeure", json={"channel": "letter"}, headers=analyst.headers
    )
    assert changed.status_code == 200
    assert post_xml(client, analyst, "/sequences/validate", data).json["valid"] is True
    assert client.post("/api/v1/sequences/comm_letter/publish", headers=analyst.headers).status_code == 201


def test_a_faulty_layout_is_a_warning_at_validation_and_repaired_when_saved(client, users):
    analyst = users["analyst"]
    client.post("/api/v1/templates", json={**LETTER, "channel": "letter"}, headers=analyst.headers)
    data = bpmn("valid/relance.bpmn").replace(
        b"</bpmndi:BPMNPlane>",
        b'<bpmndi:BPMNShape id="Shape_gone" bpmnElement="Task_deleted"/></bpmndi:BPMNPlane>',
    )
    checked = post_xml(client, analyst, "/sequences/validate", data)
    # The layout is no problem of the sequence (whose seq:next is not published in this test).
    assert [i["code"] for i in checked.json["issues"]] == ["next_sequence_unknown"]
    assert [w["code"] for w in checked.json["warnings"]] == ["layout"]
    assert "Task_deleted" in checked.json["warnings"][0]["message"]
    saved = post_xml(client, analyst, "/sequences", data)
    assert saved.status_code == 201 and saved.json["issues"] == []  # drafts wait for their seq:next
    draft = client.get("/api/v1/sequences/relance_amiable/draft", headers=analyst.headers).data
    assert b"Task_deleted" not in draft and b"Shape_gone" not in draft
    assert post_xml(client, analyst, "/sequences/validate", draft).json["warnings"] == []
