"""Typed dossier data: values parsed by the dictionary's types, French input accepted, refusals naming the
field with nothing written, every change in the history."""

import html

import pytest

FIELDS = [
    {"key": "hearing_date", "label": "Date d'audience", "type": "date"},
    {"key": "balance", "label": "Solde dû", "type": "amount"},
    {"key": "installments", "label": "Nombre d'échéances", "type": "number"},
    {"key": "caf_beneficiary", "label": "Allocataire CAF", "type": "boolean"},
    {
        "key": "landlord_kind",
        "label": "Type de bailleur",
        "type": "choice",
        "choices": [
            {"key": "personne_morale", "label": "Personne morale"},
            {"key": "personne_physique", "label": "Personne physique"},
        ],
    },
]


@pytest.fixture
def dossier(client, users):
    for field in FIELDS:
        assert (
            client.post("/api/v1/dictionary/fields", json=field, headers=users["analyst"].headers).status_code
            == 201
        )
    body = {"reference": "D-1", "title": "Dossier", "data": {"balance": "1 200,50", "tenant": "M. Durand"}}
    created = client.post("/api/v1/dossiers", json=body, headers=users["manager"].headers)
    assert created.status_code == 201, created.json
    return created.json


def test_creation_parses_the_known_fields_and_keeps_the_others(dossier):
    assert dossier["data"] == {"balance": 1200.5, "tenant": "M. Durand"}


def test_french_input_is_stored_typed_and_each_change_is_in_the_history(client, users, dossier):
    manager = users["manager"]
    path = f"/api/v1/dossiers/{dossier['id']}/data"
    body = {
        "hearing_date": "15/03/2027",
        "balance": "1 350,00 €",
        "installments": "12",
        "caf_beneficiary": "oui",
        "landlord_kind": "Personne physique",
    }
    answer = client.patch(path, json=body, headers=manager.headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["data"] == {
        "hearing_date": "2027-03-15",
        "balance": 1350.0,
        "installments": 12,
        "caf_beneficiary": True,
        "landlord_kind": "personne_physique",
        "tenant": "M. Durand",
    }
    history = client.get(f"/api/v1/dossiers/{dossier['id']}/history", headers=manager.headers).json
    change = history[-1]
    assert change["kind"] == "dossier_updated" and change["actor"] == f"user:{manager.id}"
    assert change["data"]["changes"]["data"]["balance"] == {"from": 1200.5, "to": 1350.0}
    assert change["data"]["changes"]["data"]["hearing_date"] == {"from": None, "to": "2027-03-15"}
    cleared = client.patch(path, json={"hearing_date": ""}, headers=manager.headers)
    assert cleared.json["data"]["hearing_date"] is None


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"balance": "2000", "hearing_date": "31/02/2027"}, "hearing_date", "n'existe pas"),
        ({"balance": "abc"}, "balance", "n'est pas un montant"),
        ({"landlord_kind": "sci"}, "landlord_kind", "Personne morale"),
        ({"caf_beneficiary": "peut-être"}, "caf_beneficiary", "oui ou non"),
        ({"balance": "2000", "hearing_dat": "15/03/2027"}, "hearing_dat", "hearing_date"),
    ],
)
def test_a_refusal_names_the_field_and_nothing_changes(client, users, dossier, body, field, words):
    manager = users["manager"]
    answer = client.patch(f"/api/v1/dossiers/{dossier['id']}/data", json=body, headers=manager.headers)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"] == field and words in answer.json["message"]
    after = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=manager.headers).json
    assert after["data"] == {"balance": 1200.5, "tenant": "M. Durand"}


def test_an_unknown_key_gives_the_closest_ones(client, users, dossier):
    answer = client.patch(
        f"/api/v1/dossiers/{dossier['id']}/data", json={"balanse": 1}, headers=users["manager"].headers
    )
    assert answer.json["error"] == "unknown_field" and answer.json["suggestions"] == ["balance"]


def test_who_may_write(client, users, dossier):
    path = f"/api/v1/dossiers/{dossier['id']}/data"
    assert client.patch(path, json={"balance": 1}, headers=users["analyst"].headers).status_code == 403
    assert client.patch(path, json={"balance": 1}, headers=users["partner"].headers).status_code == 404
    assert client.patch(path, json={}, headers=users["manager"].headers).status_code == 400


def test_the_data_tab_edits_each_field_by_type_and_keeps_what_was_typed_on_refusal(
    app, client, users, dossier
):
    from tests.integration.test_pages_matrix import login

    page = app.test_client()
    login(page, users["manager"])
    url = f"/dossiers/{dossier['id']}"
    tab = page.get(f"{url}?tab=data").get_data(as_text=True)
    assert 'type="date" id="field-hearing_date"' in tab
    assert 'id="field-balance" name="field-balance" value="1\u202f200,50"' in tab
    assert '<option value="personne_physique">Personne physique</option>' in tab
    assert "1\u202f200,50 €" in tab and "M. Durand" in tab  # the value as read, and a field outside
    was = {
        "was-hearing_date": "",
        "was-balance": "1\u202f200,50",
        "was-installments": "",
        "was-caf_beneficiary": "",
        "was-landlord_kind": "",
    }
    form = {
        **was,
        "field-hearing_date": "2027-03-15",
        "field-balance": "abc",
        "field-installments": "6",
        "field-caf_beneficiary": "oui",
        "field-landlord_kind": "personne_morale",
    }
    refused = page.post(f"{url}/data", data=form)
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "« Solde dû » : « abc » n'est pas un montant" in text
    assert 'name="field-balance" aria-invalid="true" aria-describedby="data-error" value="abc"' in text
    assert 'value="6"' in text and 'value="2027-03-15"' in text
    after = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=users["manager"].headers).json
    assert after["data"] == {"balance": 1200.5, "tenant": "M. Durand"}
    saved = page.post(f"{url}/data", data={**form, "field-balance": "1 300"})
    assert saved.status_code == 303
    after = client.get(f"/api/v1/dossiers/{dossier['id']}", headers=users["manager"].headers).json
    assert after["data"] == {
        "balance": 1300.0,
        "tenant": "M. Durand",
        "hearing_date": "2027-03-15",
        "installments": 6,
        "caf_beneficiary": True,
        "landlord_kind": "personne_morale",
    }
    # Unchanged inputs are not written: one change only in the history.
    page.post(
        f"{url}/data",
        data={
            **was,
            "was-balance": "1\u202f300,00",
            "field-balance": "1\u202f300,00",
            "field-installments": "7",
            "was-installments": "6",
        },
    )
    history = client.get(f"/api/v1/dossiers/{dossier['id']}/history", headers=users["manager"].headers).json
    assert history[-1]["data"]["changes"]["data"] == {"installments": {"from": 6, "to": 7}}
