"""Designer pages over HTTP (library, modeler, versions, diff, files, languages), and the simulation API."""

import io
import json
import re

import pytest

from tests.factories import bpmn, xml_headers

RELANCE = "runtime/rt_relance.bpmn"


def login(client, name: str) -> None:
    answer = client.post("/login", data={"email": f"{name}@example.test", "password": "correct horse"})
    assert answer.status_code == 302, answer.get_data(as_text=True)


def save_draft(client, account, data: bytes) -> dict:
    """As the modeler saves the sequence it has open: replacing its draft."""
    answer = client.post("/api/v1/sequences?replace=true", data=data, headers=xml_headers(account))
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def publish(client, account, key: str) -> dict:
    answer = client.post(f"/api/v1/sequences/{key}/publish", headers=account.headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def publish_relance(client, account) -> None:
    """rt_relance ends with seq:next="rt_plan", which calls rt_sub: those must be published first."""
    for name, key in (("runtime/rt_sub.bpmn", "rt_sub"), ("runtime/rt_plan.bpmn", "rt_plan")):
        save_draft(client, account, bpmn(name))
        publish(client, account, key)
    publish(client, account, "rt_relance")


@pytest.fixture
def relance(client, users):
    """rt_relance saved as a draft by the analyst."""
    return save_draft(client, users["analyst"], bpmn(RELANCE))


def test_library_lists_drafts_versions_and_problems(client, users, relance):
    save_draft(client, users["analyst"], bpmn("invalid/lane_without_role.bpmn"))
    login(client, "analyst")
    body = client.get("/designer/").get_data(as_text=True)
    assert "Bibliothèque des séquences" in body
    row = re.search(r'<tr data-key="rt_relance">.*?</tr>', body, re.S).group(0)
    assert "jamais publié" in row and "/designer/sequences/rt_relance/edit" in row
    counts = dict(re.findall(r'<tr data-key="([^"]+)">.*?issues-count">(\d+)<', body, re.S))
    assert counts.pop("rt_relance") == "0"
    assert [int(n) for n in counts.values()] and all(int(n) >= 1 for n in counts.values())
    publish_relance(client, users["analyst"])
    body = client.get("/designer/").get_data(as_text=True)
    row = re.search(r'<tr data-key="rt_relance">.*?</tr>', body, re.S).group(0)
    assert "identique à la v1" in row and "/designer/sequences/rt_relance/versions/1" in row


def test_who_may_see_the_designer(client, users, relance):
    assert client.get("/designer/").status_code == 302  # anonymous → login
    login(client, "partner")
    assert client.get("/designer/").status_code == 404
    client.post("/logout")
    login(client, "manager")
    assert client.get("/designer/").status_code == 200
    assert client.get("/designer/new").status_code == 403
    assert client.get("/designer/sequences/rt_relance/edit").status_code == 403


def test_modeler_pages_carry_the_diagram_and_labels(client, users, relance):
    login(client, "analyst")
    body = client.get("/designer/sequences/rt_relance/edit").get_data(as_text=True)
    xml = json.loads(re.search(r'<script id="diagram-xml" type="application/json">(.*?)</script>', body,
                               re.S).group(1))
    assert xml.encode() == bpmn(RELANCE)
    found = re.search(r'<script id="designer-labels" type="application/json">(.*?)</script>', body, re.S)
    labels = json.loads(found.group(1))
    assert labels["saved"] == "Brouillon enregistré."
    assert 'data-mode="edit"' in body and 'for="file-open"' in body
    body = client.get("/designer/new?key=Relance Loyers&name=Relance").get_data(as_text=True)
    assert 'data-mode="new"' in body and 'data-new-key="relance_loyers"' in body
    assert 'id="diagram-xml"' not in body
    assert client.get("/designer/sequences/unknown/edit").status_code == 404


def get_page(client, url: str) -> str:
    from flask import g

    # The test keeps one app context across requests; Flask-Babel caches the locale in it.
    g.pop("_flask_babel", None)
    return client.get(url).get_data(as_text=True)


def test_english_labels(client, users, relance):
    login(client, "analyst")
    body = get_page(client, "/designer/?lang=en")
    assert "Sequence library" in body and "never published" in body
    # the choice sticks for the next pages
    body = get_page(client, "/designer/sequences/rt_relance/edit")
    assert "Save draft" in body and '"saved": "Draft saved."' in body
    assert "Bibliothèque" in get_page(client, "/designer/?lang=fr")


def test_version_page_download_and_diff(client, users, relance):
    analyst = users["analyst"]
    publish_relance(client, analyst)
    changed = bpmn(RELANCE).replace(b'seq:due="P8D"', b'seq:due="P15D"')
    save_draft(client, analyst, changed)
    publish(client, analyst, "rt_relance")
    login(client, "manager")
    page = client.get("/designer/sequences/rt_relance/versions/1")
    assert page.status_code == 200 and 'data-bpmn-viewer="version-xml"' in page.get_data(as_text=True)
    download = client.get("/designer/sequences/rt_relance/versions/2/download")
    assert download.data == changed
    assert 'filename="rt_relance-v2.bpmn"' in download.headers["Content-Disposition"]
    diff = client.get("/designer/sequences/rt_relance/diff?from=1&to=2").get_data(as_text=True)
    assert re.search(r"Modifiés</h2>|Modifiés \(1\)", diff)
    # said in words, with both diagrams coloured (not a table of XML paths)
    changes = re.search(r'<ul class="diff-list">(.*?)</ul>', diff, re.S).group(1)
    assert "échéance : 8 jours → 15 jours" in changes and "seq:due" not in changes and "P8D" not in changes
    assert 'data-bpmn-viewer="xml-from"' in diff and 'data-bpmn-viewer="xml-to"' in diff
    assert "seq-diff-changed" in diff
    assert client.get("/designer/sequences/rt_relance/diff?from=1&to=9").status_code == 400
    assert client.get("/designer/sequences/rt_relance/versions/9").status_code == 404


def test_upload_form(client, users):
    login(client, "analyst")
    answer = client.post("/designer/upload", data={"file": (io.BytesIO(bpmn(RELANCE)), "relance.bpmn")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/designer/sequences/rt_relance/edit")
    answer = client.post("/designer/upload", data={"file": (io.BytesIO(b"<not xml"), "bad.bpmn")},
                         content_type="multipart/form-data", follow_redirects=True)
    body = answer.get_data(as_text=True)
    assert "pas été importé" in body
    assert client.get("/designer/sequences/rt_relance/draft/download").data == bpmn(RELANCE)


# --- simulation -----------------------------------------------------------------------------------------

def simulate(client, account, steps, xml: bytes | None = None):
    data = (xml or bpmn(RELANCE)).decode()
    return client.post("/api/v1/simulation", json={"xml": data, "steps": steps}, headers=account.headers)


def test_simulation_walks_a_path_on_the_engine(client, users):
    analyst = users["analyst"]
    answer = simulate(client, analyst, [])
    assert answer.status_code == 200, answer.get_json()
    state = answer.get_json()
    assert [a["element_id"] for a in state["open_actions"]] == ["Call"]
    call = state["open_actions"][0]
    assert call["outcomes"] == ["paid", "promise", "no_answer"]
    assert call["statuses"] == ["done", "cancelled", "skipped"]
    assert "Call" in state["active_elements"] and not state["ended"]

    no_answer = {"kind": "complete", "element_id": "Call", "outcome": "no_answer"}
    state = simulate(client, analyst, [no_answer]).get_json()
    assert [a["element_id"] for a in state["open_actions"]] == ["Serve"]
    assert state["messages"] == ["paiement_recu"]

    steps = [{"kind": "complete", "element_id": "Call", "outcome": "no_answer"},
             {"kind": "message", "name": "paiement_recu"}]
    state = simulate(client, analyst, steps).get_json()
    assert state["ended"] and state["end_events"] == ["End_paid"] and not state["open_actions"]
    assert len(state["log"]) >= 3


def test_simulation_refuses_bad_steps_and_invalid_drafts(client, users):
    analyst = users["analyst"]
    answer = simulate(client, analyst, [{"kind": "complete", "element_id": "Serve"}])
    assert answer.status_code == 422 and answer.get_json()["error"] == "simulation_step"
    answer = simulate(client, analyst, [{"kind": "complete", "element_id": "Call", "outcome": "nope"}])
    assert answer.status_code == 422 and "nope" in answer.get_json()["message"]
    answer = simulate(client, analyst, [], xml=bpmn("invalid/lane_without_role.bpmn"))
    assert answer.status_code == 422 and answer.get_json()["issues"]
    assert client.post("/api/v1/simulation", json={"steps": []}, headers=analyst.headers).status_code == 400
    assert simulate(client, users["manager"], []).status_code == 403
    assert simulate(client, users["partner"], []).status_code == 404
