"""The dictionary through the API: read by internal users, written by analysts and admins."""

from tests.factories import looping_run


def test_an_analyst_defines_a_field_a_manager_reads_it_a_partner_does_not_see_it(client, users):
    analyst, manager, partner = users["analyst"], users["manager"], users["partner"]
    body = {
        "key": "landlord_kind",
        "label": "Type de bailleur",
        "type": "choice",
        "choices": [
            {"key": "social", "label": "Bailleur social"},
            {"key": "private", "label": "Bailleur privé"},
        ],
    }
    created = client.post("/api/v1/dictionary/fields", json=body, headers=analyst.headers)
    assert created.status_code == 201, created.json
    assert created.json["choices"][0] == {"key": "social", "label": "Bailleur social", "label_en": None}
    listed = client.get("/api/v1/dictionary/fields", headers=manager.headers)
    assert [e["key"] for e in listed.json] == ["landlord_kind"]
    assert client.get("/api/v1/dictionary", headers=manager.headers).json["fields"][0]["type"] == "choice"
    assert client.get("/api/v1/dictionary/fields", headers=partner.headers).status_code == 404
    assert client.post("/api/v1/dictionary/fields", json=body, headers=manager.headers).status_code == 403

    again = client.post("/api/v1/dictionary/fields", json=body, headers=analyst.headers)
    assert again.status_code == 409 and again.json["error"] == "entry_exists"

    relabelled = client.put(
        "/api/v1/dictionary/fields/landlord_kind",
        json={**body, "key": None, "label": "Bailleur", "label_en": "Landlord"},
        headers=users["admin"].headers,
    )
    assert relabelled.status_code == 200 and relabelled.json["label_en"] == "Landlord"
    one = client.get("/api/v1/dictionary/fields/landlord_kind", headers=manager.headers).json
    assert [c["change"] for c in one["changes"]] == ["updated", "created"]
    assert one["changes"][0]["before"]["label"] == "Type de bailleur"
    assert one["changes"][0]["by"] == users["admin"].id

    assert (
        client.delete("/api/v1/dictionary/fields/landlord_kind", headers=analyst.headers).status_code == 204
    )
    assert client.get("/api/v1/dictionary/fields/landlord_kind", headers=manager.headers).status_code == 404
    history = client.get("/api/v1/dictionary/fields/landlord_kind/changes", headers=manager.headers).json
    assert [c["change"] for c in history] == ["removed", "updated", "created"]


def test_invalid_bodies_answer_422_naming_the_field(client, users):
    analyst = users["analyst"]
    for kind, body, field in [
        ("fields", {"key": "date audience", "label": "Date"}, "key"),
        ("fields", {"key": "d", "type": "datetime"}, "type"),
        ("fields", {"key": "d", "type": "choice"}, "choices"),
        ("roles", {"key": "r", "kind": "robot"}, "kind"),
        (
            "events",
            {"key": "paiement_recu", "fields": [{"key": "montant", "type": "euros"}]},
            "fields[0].type",
        ),
    ]:
        answer = client.post(f"/api/v1/dictionary/{kind}", json=body, headers=analyst.headers)
        assert answer.status_code == 422, (body, answer.json)
        assert answer.json["field"] == field and answer.json["message"]
    assert (
        client.post("/api/v1/dictionary/colours", json={"key": "x"}, headers=analyst.headers).status_code
        == 404
    )
    assert (
        client.post("/api/v1/dictionary/roles", json={"label": "x"}, headers=analyst.headers).status_code
        == 400
    )


def test_what_running_dossiers_use_is_refused_by_name(client, users, session, clock):
    analyst = users["analyst"]
    looping_run(session, analyst.id, clock.now(), "IMP-1")
    client.post(
        "/api/v1/dictionary/roles",
        json={"key": "gestionnaire", "label": "Gestionnaire"},
        headers=analyst.headers,
    )
    refused = client.delete("/api/v1/dictionary/roles/gestionnaire", headers=analyst.headers)
    assert refused.status_code == 409 and refused.json["error"] == "entry_in_use"
    assert refused.json["sequences"] == ["Échéancier (test)"]
    retyped = client.put(
        "/api/v1/dictionary/roles/gestionnaire",
        json={"label": "Gestionnaire", "kind": "partner"},
        headers=analyst.headers,
    )
    assert retyped.status_code == 409
    relabelled = client.put(
        "/api/v1/dictionary/roles/gestionnaire",
        json={"label": "Chargé de recouvrement"},
        headers=analyst.headers,
    )
    assert relabelled.status_code == 200


def test_the_openapi_description_documents_the_entry_body(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/dictionary/{kind}/{key}" in spec["paths"]
    assert {"key", "label", "type", "choices", "fields", "kind"} <= set(
        spec["components"]["schemas"]["EntryIn"]["properties"]
    )


def test_a_role_of_the_dictionary_can_be_held_before_any_sequence_draws_it(client, users):
    analyst, manager = users["analyst"], users["manager"]
    role = {"key": "mediateur", "label": "Médiateur", "kind": "contact"}
    assert client.post("/api/v1/dictionary/roles", json=role, headers=analyst.headers).status_code == 201
    dossier = client.post(
        "/api/v1/dossiers", json={"reference": "D-1", "title": "D"}, headers=manager.headers
    ).json
    path = f"/api/v1/dossiers/{dossier['id']}/participants"
    added = client.post(
        path,
        json={"kind": "contact", "name": "M. Médiation", "roles": ["mediateur"]},
        headers=manager.headers,
    )
    assert added.status_code == 201, added.json
    typo = client.post(
        path, json={"kind": "contact", "name": "Autre", "roles": ["mediatuer"]}, headers=manager.headers
    )
    assert typo.status_code == 422 and typo.json["suggestions"] == ["mediateur"]
    wrong_kind = client.post(
        path,
        json={"kind": "partner", "name": "P", "roles": ["mediateur"], "user_email": "partner@example.test"},
        headers=manager.headers,
    )
    assert wrong_kind.status_code == 422 and wrong_kind.json["error"] == "role_kind_mismatch"


def test_a_put_keeps_what_it_leaves_out(client, users):
    analyst = users["analyst"]
    body = {"key": "landlord_kind", "label": "Bailleur", "type": "choice", "choices": [{"key": "social"}]}
    client.post("/api/v1/dictionary/fields", json=body, headers=analyst.headers)
    put = client.put(
        "/api/v1/dictionary/fields/landlord_kind", json={"label_en": "Landlord"}, headers=analyst.headers
    )
    assert put.status_code == 200, put.json
    assert (put.json["label"], put.json["label_en"], put.json["type"]) == ("Bailleur", "Landlord", "choice")
    assert put.json["choices"] == [{"key": "social", "label": "Social", "label_en": None}]
