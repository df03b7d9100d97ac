"""Nothing lost by a slip: a new sequence or an import never silently replaces an existing one."""

import io
import re

import pytest
from sqlalchemy import select

from designer.models import Sequence
from tests.factories import DATA, bpmn, xml_headers
from tests.integration.pilot import Pilot
from tests.integration.test_designer_pages import login

RELANCE = "runtime/rt_relance.bpmn"
CHANGED = bpmn(RELANCE).replace(b'seq:due="P8D"', b'seq:due="P15D"')


def post(client, account, data: bytes, query: str = ""):
    return client.post(f"/api/v1/sequences{query}", data=data, headers=xml_headers(account))


def draft_of(session, key: str) -> bytes:
    session.expire_all()
    return session.scalar(select(Sequence.draft_xml).where(Sequence.key == key))


# --- A. an existing key is refused unless the request says it replaces -----------------------------------


def test_an_existing_key_is_refused_with_409_unless_replace(client, users, session):
    analyst = users["analyst"]
    assert post(client, analyst, bpmn(RELANCE)).status_code == 201
    refused = post(client, analyst, CHANGED)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"] == "sequence_exists"
    assert refused.get_json()["key"] == "rt_relance"
    assert draft_of(session, "rt_relance") == bpmn(RELANCE)
    # The very same file again replaces nothing, so it is not refused.
    assert post(client, analyst, bpmn(RELANCE)).status_code == 200
    replaced = post(client, analyst, CHANGED, "?replace=true")
    assert replaced.status_code == 200, replaced.get_json()
    assert draft_of(session, "rt_relance") == CHANGED
    # replace=true on a key that does not exist yet creates it.
    assert post(client, analyst, bpmn("runtime/rt_sub.bpmn"), "?replace=true").status_code == 201


def test_the_library_refuses_a_new_sequence_with_an_existing_key(client, users, session):
    assert post(client, users["analyst"], bpmn(RELANCE)).status_code == 201
    login(client, "analyst")
    answer = client.get("/designer/new?key=rt_relance&name=Mon+nouveau")
    assert answer.status_code == 409
    body = answer.get_data(as_text=True)
    assert 'id="key-taken"' in body and 'href="/designer/sequences/rt_relance/edit"' in body
    assert 'value="rt_relance"' in body and 'value="Mon nouveau"' in body  # what was typed is kept
    assert 'id="designer"' not in body  # no blank modeler that could be saved over it
    assert draft_of(session, "rt_relance") == bpmn(RELANCE)
    assert client.get("/designer/new?key=autre_cle&name=Autre").status_code == 200


def test_an_upload_over_an_existing_draft_asks_first(client, users, session):
    assert post(client, users["analyst"], bpmn(RELANCE)).status_code == 201
    login(client, "analyst")
    answer = client.post(
        "/designer/upload",
        data={"file": (io.BytesIO(CHANGED), "relance.bpmn")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 409
    body = answer.get_data(as_text=True)
    assert "Remplacer le brouillon de « " in body and 'id="replace-confirm"' in body
    assert draft_of(session, "rt_relance") == bpmn(RELANCE)
    content = re.search(r'name="content" type="hidden" value="([^"]+)"', body).group(1)
    confirmed = client.post("/designer/upload/replace", data={"content": content, "filename": "relance.bpmn"})
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith("/designer/sequences/rt_relance/edit")
    assert draft_of(session, "rt_relance") == CHANGED
    # A tampered confirmation stores nothing.
    tampered = client.post("/designer/upload/replace", data={"content": "%%%", "filename": "x"})
    assert tampered.status_code == 302 and draft_of(session, "rt_relance") == CHANGED


def test_a_large_file_goes_through_the_confirmation_step(client, users, session):
    post(client, users["analyst"], bpmn(RELANCE))
    login(client, "analyst")
    large = CHANGED.replace(b"</bpmn:definitions>", b"<!-- " + b"x" * 400_000 + b" --></bpmn:definitions>")
    answer = client.post(
        "/designer/upload",
        data={"file": (io.BytesIO(large), "relance.bpmn")},
        content_type="multipart/form-data",
    )
    body = answer.get_data(as_text=True)
    content = re.search(r'name="content" type="hidden" value="([^"]+)"', body).group(1)
    # More than a multipart field may hold by default: the confirmation is url-encoded, without that limit.
    assert len(content) > 500_000
    confirmed = client.post("/designer/upload/replace", data={"content": content, "filename": "relance.bpmn"})
    assert confirmed.status_code == 302, confirmed.status_code
    assert draft_of(session, "rt_relance") == large


def test_cli_import_refuses_an_existing_draft_unless_replace(app, session, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["import", str(DATA / "bpmn" / RELANCE)]).exit_code == 0
    changed = tmp_path / "rt_relance.bpmn"
    changed.write_bytes(CHANGED)
    refused = runner.invoke(args=["import", str(changed)])
    assert refused.exit_code == 1
    assert "rt_relance" in refused.output and "--replace" in refused.output
    assert draft_of(session, "rt_relance") == bpmn(RELANCE)
    done = runner.invoke(args=["import", str(changed), "--replace"])
    assert done.exit_code == 0, done.output
    assert draft_of(session, "rt_relance") == CHANGED


def test_cli_import_publish_of_the_same_files_again_still_works(app):
    runner = app.test_cli_runner()
    files = [str(DATA / "bpmn" / "runtime" / name) for name in ("rt_plan.bpmn", "rt_sub.bpmn")]
    for _ in range(2):
        done = runner.invoke(args=["import", *files, "--publish"])
        assert done.exit_code == 0, done.output
        assert done.output.count("publiée en version 1") == 2


# --- B. every saved draft is kept, and an earlier one can be restored -------------------------------------


def test_replace_keeps_earlier_drafts_and_restore_brings_one_back(client, users, session, clock):
    analyst, manager = users["analyst"], users["manager"]
    post(client, analyst, bpmn(RELANCE))
    clock.advance(hours=1)
    post(client, analyst, CHANGED, "?replace=true")
    listed = client.get("/api/v1/sequences/rt_relance/drafts", headers=manager.headers)
    assert listed.status_code == 200
    first, second = listed.json[1], listed.json[0]
    assert [second["current"], first["current"]] == [True, False]
    assert first["saved_by"] == "Analyst" and first["name"] == "Relance (test)"
    assert first["element_count"] == second["element_count"] == 17  # lanes, nodes and flows
    assert second["saved_at"] > first["saved_at"]
    # Managers read; partners do not see; analysts restore.
    restore = f"/api/v1/sequences/rt_relance/drafts/{first['id']}/restore"
    assert client.post(restore, headers=manager.headers).status_code == 403
    assert (
        client.get("/api/v1/sequences/rt_relance/drafts", headers=users["partner"].headers).status_code == 404
    )
    assert client.post(restore, headers=analyst.headers).status_code == 200
    assert draft_of(session, "rt_relance") == bpmn(RELANCE)
    after = client.get("/api/v1/sequences/rt_relance/drafts", headers=analyst.headers).json
    assert [d["id"] for d in after[1:]] == [second["id"], first["id"]]  # nothing deleted by a restore
    assert after[0]["current"] and after[0]["restored_from"] == first["id"]
    assert (
        client.post("/api/v1/sequences/rt_relance/drafts/999999/restore", headers=analyst.headers).status_code
        == 404
    )


def test_the_list_goes_back_30_days_and_always_shows_the_current_draft(client, users, clock):
    analyst = users["analyst"]
    post(client, analyst, bpmn(RELANCE))
    clock.advance(days=31)
    listed = client.get("/api/v1/sequences/rt_relance/drafts", headers=analyst.headers).json
    assert len(listed) == 1 and listed[0]["current"]
    post(client, analyst, CHANGED, "?replace=true")
    listed = client.get("/api/v1/sequences/rt_relance/drafts", headers=analyst.headers).json
    assert len(listed) == 1 and listed[0]["current"]  # the 31-day-old one is stored, not listed


# --- C. archive, unarchive, delete ------------------------------------------------------------------------


@pytest.fixture
def pilot(client, users):
    pilot = Pilot(client, users)
    pilot.publish("rt_sub", "rt_plan", "rt_relance")
    return pilot


def _dossier(pilot, reference="D-1"):
    dossier = pilot.dossier(reference)
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    pilot.participant(dossier["id"], "partner", "Maître Huissier", ["commissaire_justice"], user="partner")
    return dossier


def test_an_archived_sequence_is_refused_at_launch_and_running_ones_go_on(pilot, client):
    dossier = _dossier(pilot)
    running = pilot.launch(dossier["id"], "rt_relance")
    assert pilot.call("POST", "/sequences/rt_relance/archive", who="manager", expect=403)
    archived = pilot.call("POST", "/sequences/rt_relance/archive", who="analyst", expect=200)
    assert archived["archived"] is True
    refused = pilot.launch(_dossier(pilot, "D-2")["id"], "rt_relance", expect=422)
    assert refused["error"] == "sequence_archived"
    # The run already going on moves on, and its history is untouched.
    pilot.complete(pilot.only_action(running["id"], "Call")["id"], "done", "no_answer")
    assert pilot.only_action(running["id"], "Serve")
    # A switch by a user into an archived sequence is refused as a launch is.
    pilot.call("POST", "/sequences/rt_plan/archive", who="analyst", expect=200)
    refused = pilot.call(
        "POST", f"/runs/{running['id']}/switch", json={"sequence": "rt_plan", "reason": "x"}, expect=422
    )
    assert refused["error"] == "sequence_archived"
    pilot.call("POST", "/sequences/rt_relance/unarchive", who="admin", expect=200)
    assert pilot.launch(_dossier(pilot, "D-3")["id"], "rt_relance")["status"] == "running"
    assert [s["archived"] for s in pilot.call("GET", "/sequences") if s["key"] == "rt_plan"] == [True]


def test_seq_next_into_an_archived_sequence_still_switches(pilot):
    dossier = _dossier(pilot)
    run = pilot.launch(dossier["id"], "rt_relance")
    pilot.call("POST", "/sequences/rt_plan/archive", who="analyst", expect=200)
    pilot.complete(pilot.only_action(run["id"], "Call")["id"], "done", "promise")
    old = pilot.run(run["id"])
    assert old["status"] == "switched"
    assert pilot.run(old["next_run_id"])["sequence"] == "rt_plan"


def test_the_dossier_page_no_longer_offers_an_archived_sequence(pilot, client):
    dossier = _dossier(pilot)
    login(client, "manager")
    page = client.get(f"/dossiers/{dossier['id']}").get_data(as_text=True)
    assert 'value="rt_relance"' in page
    pilot.call("POST", "/sequences/rt_relance/archive", who="analyst", expect=200)
    page = client.get(f"/dossiers/{dossier['id']}").get_data(as_text=True)
    assert 'value="rt_relance"' not in page and 'value="rt_plan"' in page


def test_only_a_never_published_sequence_can_be_deleted(pilot, client, users, session):
    refused = pilot.call("DELETE", "/sequences/rt_relance", who="analyst", expect=422)
    assert refused["error"] == "published_sequence"
    post(client, users["analyst"], bpmn("invalid/lane_without_role.bpmn"))
    key = session.scalar(select(Sequence.key).where(~Sequence.versions.any()))
    assert (
        pilot.call("POST", f"/sequences/{key}/archive", who="analyst", expect=422)["error"] == "not_published"
    )
    pilot.call("DELETE", f"/sequences/{key}", who="manager", expect=403)
    pilot.call("DELETE", f"/sequences/{key}", who="analyst", expect=204)
    pilot.call("GET", f"/sequences/{key}", who="analyst", expect=404)
    pilot.call("GET", "/sequences/rt_relance", who="analyst", expect=200)


# --- the pages --------------------------------------------------------------------------------------------


def test_the_drafts_page_lists_earlier_drafts_and_restores_one(client, users, session, clock):
    post(client, users["analyst"], bpmn(RELANCE))
    clock.advance(minutes=10)
    post(client, users["analyst"], CHANGED, "?replace=true")
    login(client, "manager")
    body = client.get("/designer/sequences/rt_relance/drafts").get_data(as_text=True)
    assert body.count("data-draft=") == 2 and "Restaurer" not in body  # managers read only
    client.post("/logout")
    login(client, "analyst")
    for page in ("/designer/", "/designer/sequences/rt_relance/edit"):
        assert 'href="/designer/sequences/rt_relance/drafts"' in client.get(page).get_data(as_text=True)
    body = client.get("/designer/sequences/rt_relance/drafts").get_data(as_text=True)
    assert "Brouillon actuel" in body and "02/03/2026 09:00 UTC" in body and "Analyst" in body
    older = re.findall(r'data-draft="(\d+)"', body)[-1]
    restored = client.post(f"/designer/sequences/rt_relance/drafts/{older}/restore")
    assert restored.status_code == 303
    assert draft_of(session, "rt_relance") == bpmn(RELANCE)
    body = client.get("/designer/sequences/rt_relance/drafts").get_data(as_text=True)
    assert body.count("data-draft=") == 3 and "(restauré)" in body


def test_the_library_archives_in_a_collapsed_section_and_deletes_drafts(pilot, client, users, session):
    post(client, users["analyst"], bpmn("invalid/lane_without_role.bpmn"))
    unpublished = session.scalar(select(Sequence.key).where(~Sequence.versions.any()))
    login(client, "analyst")
    assert client.post("/designer/sequences/rt_relance/archive").status_code == 303
    body = client.get("/designer/").get_data(as_text=True)
    main, archived = body.split('<details id="archived"')
    assert 'data-key="rt_relance"' not in main and 'data-key="rt_plan"' in main
    assert 'data-key="rt_relance"' in archived and "Désarchiver" in archived
    assert f"/designer/sequences/{unpublished}/delete" in main
    assert "/designer/sequences/rt_plan/delete" not in main  # published: archived, never deleted
    assert client.post("/designer/sequences/rt_plan/delete").status_code == 422
    assert client.post(f"/designer/sequences/{unpublished}/delete").status_code == 303
    assert client.post("/designer/sequences/rt_relance/unarchive").status_code == 303
    body = client.get("/designer/").get_data(as_text=True)
    assert '<details id="archived"' not in body and f'data-key="{unpublished}"' not in body
