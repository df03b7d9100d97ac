"""Every page that shows a due date or a delay says how it was counted (legal calendar, art. 642 CPC)."""

from datetime import UTC, datetime

import pytest
from flask import g
from flask.testing import FlaskClient
from flask_babel import refresh

from tests.factories import DATA
from tests.integration.pilot import Pilot

EXTENDED = "prorogé du samedi 23 janvier 2027 au lundi 25 janvier 2027 — art. 642 CPC"


class FreshClient(FlaskClient):
    def open(self, *args, **kwargs):
        # one app context for all requests: load the user and choose the language at each one
        g.pop("_login_user", None)
        refresh()
        return super().open(*args, **kwargs)


@pytest.fixture
def legal_run(app, client, users, clock):
    clock.at = datetime(2027, 1, 8, 9, 0, tzinfo=UTC)  # a Friday: 15 days end on Saturday 23 January
    pilot = Pilot(client, users)
    pilot.publish("tm_legal", folder="timers")
    dossier = pilot.dossier("D-LEGAL", {"address": "3 rue Nationale, 37000 Tours"})
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    pilot.participant(dossier["id"], "partner", "Me Huissier", ["commissaire_justice"], user="partner")
    run = pilot.launch(dossier["id"], "tm_legal")
    return dossier, pilot.only_action(run["id"], "Serve")


def page(app, account, url: str) -> str:
    app.test_client_class = FreshClient
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(account.id)
        cookie["_fresh"] = True
    answer = client.get(url)
    assert answer.status_code == 200, url
    return answer.get_data(as_text=True)


def test_due_dates_and_delays_say_how_they_were_counted(app, users, legal_run):
    dossier, serve = legal_run
    assert EXTENDED in serve["due_note"]["fr"]
    assert "extended from Saturday 23 January 2027 to Monday 25 January 2027" in serve["due_note"]["en"]

    dossier_page = page(app, users["manager"], f"/dossiers/{dossier['id']}")
    assert "échéance 25/01/2027" in dossier_page and EXTENDED in dossier_page
    # the boundary timer: one month, ending in the winter truce it is kept out of: 1 April, 00:00 in Paris
    assert "Délai « 1 mois, hors trêve » : le 01/04/2027 00:00" in dossier_page
    postponed = "reporté du lundi 8 février 2027 au jeudi 1er avril 2027, après la trêve hivernale"
    assert f"1 mois à compter du 8 janvier 2027, {postponed}" in dossier_page

    portal = page(app, users["partner"], "/portal/")
    assert f'title="15 jours à compter du 8 janvier 2027, {EXTENDED}"' in portal
    action = page(app, users["partner"], f"/portal/actions/{serve['id']}")
    assert "25/01/2027" in action and EXTENDED in action
    english = page(app, users["partner"], f"/portal/actions/{serve['id']}?lang=en")
    assert "15 days from 8 January 2027, extended from Saturday 23 January 2027" in english
    # Without a holder, the action is in the managers' inbox (« Sans titulaire »), with the same explanation.
    Pilot(app.test_client(), users).call(
        "PUT", f"/runs/{serve['run_id']}/roles/commissaire_justice", json={"participant_ids": []}, expect=200
    )
    inbox = page(app, users["manager"], "/inbox/unassigned")
    assert f'title="15 jours à compter du 8 janvier 2027, {EXTENDED}">25/01/2027</time>' in inbox


def test_the_simulation_counts_a_timer_as_the_runtime_does(client, users, clock):
    clock.at = datetime(2027, 1, 8, 9, 0, tzinfo=UTC)
    xml = (DATA / "bpmn" / "timers" / "tm_legal.bpmn").read_text()
    body = {"xml": xml, "steps": [], "dossier": {"departement": "971"}}
    answer = client.post("/api/v1/simulation", json=body, headers=users["analyst"].headers)
    assert answer.status_code == 200, answer.get_json()
    [timer] = answer.get_json()["timers"]
    assert timer["due_at"] == "2027-03-31T22:00:00+00:00"
    assert timer["note"]["fr"].endswith("jours fériés : Guadeloupe")


def test_the_data_tab_says_which_public_holidays_the_delays_skip(app, client, users):
    pilot = Pilot(client, users)
    metz = pilot.dossier("D-METZ", {"address": "12 rue Serpenoise, 57000 Metz"})
    by_hand = pilot.dossier("D-GP", {"address": "Pointe-à-Pitre", "departement": "971"})
    nowhere = pilot.dossier("D-NONE", {})
    assert "jours fériés : Moselle (département 57, d’après l’adresse)" in page(
        app, users["manager"], f"/dossiers/{metz['id']}?tab=data")
    assert "jours fériés : Guadeloupe (département 971, indiqué à la main)" in page(
        app, users["manager"], f"/dossiers/{by_hand['id']}?tab=data")
    english = page(app, users["manager"], f"/dossiers/{nowhere['id']}?tab=data&lang=en")
    assert "public holidays of metropolitan France (no postcode in the address" in english
