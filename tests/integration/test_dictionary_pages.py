"""The dictionary page: analysts add and edit entries, a refusal keeps what was typed, managers only read."""

from tests.factories import looping_run
from tests.integration.test_pages_matrix import login


def test_an_analyst_adds_a_choice_field_and_an_event_and_sees_the_history(app, users):
    client = app.test_client()
    login(client, users["analyst"])
    page = client.get("/dictionary/?tab=fields")
    assert page.status_code == 200 and "Champs du dossier" in page.get_data(as_text=True)
    saved = client.post(
        "/dictionary/save",
        data={
            "kind": "fields",
            "key": "landlord_kind",
            "label": "Type de bailleur",
            "type": "choice",
            "choices": "social = Bailleur social\nprivate = Bailleur privé\n",
        },
    )
    assert saved.status_code == 303
    page = client.get("/dictionary/?tab=fields").get_data(as_text=True)
    assert "Type de bailleur" in page and "Bailleur social, Bailleur privé" in page
    saved = client.post(
        "/dictionary/save",
        data={
            "kind": "events",
            "key": "paiement_recu",
            "label": "Paiement reçu",
            "fields": "montant = Montant reçu (montant)\nrecu_le = Reçu le (date)",
        },
    )
    assert saved.status_code == 303
    api = client.get("/api/v1/dictionary/events/paiement_recu").json
    assert [(f["key"], f["type"]) for f in api["fields"]] == [("montant", "amount"), ("recu_le", "date")]
    edit = client.get("/dictionary/?tab=events&edit=paiement_recu").get_data(as_text=True)
    assert "montant = Montant reçu (montant)" in edit
    client.post(
        "/dictionary/save",
        data={
            "kind": "fields",
            "original": "landlord_kind",
            "key": "landlord_kind",
            "label": "Bailleur",
            "type": "choice",
            "choices": "social = Bailleur social\nprivate = Bailleur privé",
        },
    )
    history = client.get("/dictionary/?tab=fields").get_data(as_text=True)
    assert "Libellé : Type de bailleur → Bailleur" in history and "Analyst" in history


def test_a_refusal_is_shown_with_what_was_typed(app, users):
    client = app.test_client()
    login(client, users["analyst"])
    refused = client.post(
        "/dictionary/save",
        data={"kind": "fields", "key": "montant plan", "label": "Montant du plan", "type": "amount"},
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Clé « montant plan » refusée" in text
    assert 'value="Montant du plan"' in text and 'value="montant plan"' in text
    refused = client.post(
        "/dictionary/save", data={"kind": "fields", "key": "k", "label": "K", "type": "choice", "choices": ""}
    )
    assert refused.status_code == 422 and "au moins un choix" in refused.get_data(as_text=True)
    refused = client.post(
        "/dictionary/save", data={"kind": "events", "key": "e", "label": "E", "fields": "montant = M (euros)"}
    )
    assert refused.status_code == 400 and "Ligne 1 des champs" in refused.get_data(as_text=True)
    assert "M (euros)" in refused.get_data(as_text=True)


def test_removing_what_runs_use_is_refused_by_name(app, users, session, clock):
    looping_run(session, users["analyst"].id, clock.now(), "IMP-1")
    client = app.test_client()
    login(client, users["analyst"])
    client.post("/dictionary/save", data={"kind": "outcomes", "key": "paid", "label": "Payé"})
    answer = client.post(
        "/dictionary/remove", data={"kind": "outcomes", "key": "paid"}, follow_redirects=True
    )
    text = answer.get_data(as_text=True)
    assert "Impossible de supprimer" in text and "Échéancier (test)" in text
    assert 'data-key="paid"' in text


def test_managers_read_without_forms(app, users):
    client = app.test_client()
    body = {"key": "comptable", "label": "Comptable", "label_en": "Accountant", "kind": "internal"}
    client.post("/api/v1/dictionary/roles", json=body, headers=users["analyst"].headers)
    login(client, users["manager"])
    page = client.get("/dictionary/?tab=roles").get_data(as_text=True)
    assert "Comptable" in page and "entry-form" not in page
    assert client.post("/dictionary/save", data={"kind": "roles", "key": "x"}).status_code == 403


def test_the_page_in_english(app, users):
    client = app.test_client()
    login(client, users["analyst"])
    english = client.get("/dictionary/?tab=roles&lang=en").get_data(as_text=True)
    assert "Dictionary" in english and "Business events" in english and "Held by" in english
