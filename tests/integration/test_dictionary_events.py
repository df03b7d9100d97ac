"""Business events from the dictionary: unknown keys refused with the closest ones, fields parsed by type."""

import pytest

from tests.integration.pilot import Pilot


@pytest.fixture
def waiting(client, users):
    """A dossier whose rt_relance run waits for paiement_recu; the dictionary knows the event."""
    event = {
        "key": "paiement_recu",
        "label": "Paiement reçu",
        "label_en": "Payment received",
        "fields": [
            {"key": "montant", "label": "Montant reçu", "type": "amount", "required": True},
            {"key": "recu_le", "label": "Reçu le", "type": "date"},
        ],
    }
    assert (
        client.post("/api/v1/dictionary/events", json=event, headers=users["analyst"].headers).status_code
        == 201
    )
    pilot = Pilot(client, users)
    pilot.publish("rt_sub", "rt_plan", "rt_relance")
    dossier = pilot.dossier("EV-1")
    pilot.participant(dossier["id"], "internal", "G", ["gestionnaire"], user="manager")
    run = pilot.launch(dossier["id"], "rt_relance", allow_unassigned=True)
    return {"dossier": dossier, "run": run, "path": f"/api/v1/dossiers/{dossier['id']}/events"}


def test_an_unknown_key_is_refused_with_the_closest_and_nothing_is_recorded(client, users, waiting):
    manager = users["manager"]
    refused = client.post(
        waiting["path"], json={"name": "paiment_recu", "data": {"montant": "400"}}, headers=manager.headers
    )
    assert refused.status_code == 422
    assert refused.json["error"] == "unknown_event" and refused.json["suggestions"] == ["paiement_recu"]
    assert refused.json["field"] == "name"
    history = client.get(f"/api/v1/dossiers/{waiting['dossier']['id']}/history", headers=manager.headers).json
    assert not [e for e in history if e["kind"] == "event_received"]


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"montant": "abc"}, "data.montant", "invalid_value"),
        ({"montnat": "400"}, "data.montnat", "unknown_event_field"),
        ({"recu_le": "02/03/2026"}, "data.montant", "missing_event_field"),
    ],
)
def test_fields_are_checked_by_type(client, users, waiting, data, field, code):
    refused = client.post(
        waiting["path"], json={"name": "paiement_recu", "data": data}, headers=users["manager"].headers
    )
    assert refused.status_code == 422 and refused.json["field"] == field and refused.json["error"] == code


def test_french_values_are_delivered_typed(client, users, waiting):
    manager = users["manager"]
    posted = client.post(
        waiting["path"],
        json={"name": "paiement_recu", "data": {"montant": "1 200,50", "recu_le": "02/03/2026"}},
        headers=manager.headers,
    )
    assert posted.status_code == 202  # recorded even though no run waits for it yet
    history = client.get(f"/api/v1/dossiers/{waiting['dossier']['id']}/history", headers=manager.headers).json
    [received] = [e for e in history if e["kind"] == "event_received"]
    assert received["data"]["data"] == {"montant": 1200.5, "recu_le": "2026-03-02"}


def test_a_message_of_a_published_version_not_in_the_dictionary_is_known(client, session, users, waiting):
    from sqlalchemy import update

    from designer.dictionary import DictionaryEntry

    # A version published before the dictionary had any event (an installation upgraded from an earlier
    # release): publication checks events only once the dictionary has some.
    def events_kind(old: str, new: str) -> None:
        session.execute(update(DictionaryEntry).where(DictionaryEntry.kind == old).values(kind=new))
        session.commit()

    events_kind("events", "hidden")
    Pilot(client, users).publish("rt_loop")  # waits for surendettement, which the dictionary does not have
    events_kind("hidden", "events")
    posted = client.post(
        waiting["path"], json={"name": "surendettement", "data": {"any": 1}}, headers=users["manager"].headers
    )
    assert posted.status_code == 202 and posted.json["delivered_to"] == []


def test_the_dossier_page_offers_the_dictionary_events_with_typed_inputs(app, client, users, waiting):
    import html

    from tests.integration.test_pages_matrix import login

    page = app.test_client()
    login(page, users["manager"])
    url = f"/dossiers/{waiting['dossier']['id']}"
    body = page.get(url).get_data(as_text=True)
    assert '<option value="paiement_recu">Paiement reçu</option>' in body
    assert 'name="paiement_recu.montant" value="" placeholder="1 200,50"' in body
    assert 'type="date" id="event-paiement_recu-recu_le" name="paiement_recu.recu_le"' in body
    assert "JSON" not in body.split('id="event-title"')[1].split("</section>")[0]
    refused = page.post(
        f"{url}/events", data={"name": "paiement_recu", "paiement_recu.montant": "quatre cents"}
    )
    text = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "« Montant reçu » : « quatre cents » n'est pas un montant" in text
    assert (
        'name="paiement_recu.montant" aria-invalid="true" aria-describedby="event-error" value="quatre cents"'
        in text
    )
    posted = page.post(
        f"{url}/events",
        data={"name": "paiement_recu", "paiement_recu.montant": "1 200,50", "surendettement.any": "ignored"},
    )
    assert posted.status_code == 303
    history = client.get(
        f"/api/v1/dossiers/{waiting['dossier']['id']}/history", headers=users["manager"].headers
    ).json
    [received] = [e for e in history if e["kind"] == "event_received"]
    assert received["data"]["data"] == {"montant": 1200.5}
