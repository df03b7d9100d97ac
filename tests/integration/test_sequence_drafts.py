"""Nothing lost by a slip: a new sequence or an import never silently replaces an existing one."""

import io
import re

from sqlalchemy import select

from designer.models import Sequence
from tests.factories import DATA, bpmn, xml_headers
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
    answer = client.post("/designer/upload", data={"file": (io.BytesIO(CHANGED), "relance.bpmn")},
                         content_type="multipart/form-data")
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
