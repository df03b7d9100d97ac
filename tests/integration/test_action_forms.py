"""Forms on actions through the API: typed values written to the dossier with the completion, refused whole
when one cannot be kept, the history showing each change, the conditions seeing the new values."""

import pytest

from tests.factories import add_words
from tests.integration.pilot import Pilot


@pytest.fixture
def pilot(client, users, session):
    add_words(session)
    session.commit()
    pilot = Pilot(client, users)
    pilot.publish("rt_form")
    return pilot


@pytest.fixture
def dossier(pilot):
    dossier = pilot.dossier("D-F", {"balance": 1800, "monthly_rent": 600})
    pilot.participant(dossier["id"], "internal", "Gestionnaire", ["gestionnaire"], user="manager")
    pilot.participant(dossier["id"], "partner", "Maître Huissier", ["commissaire_justice"], user="partner")
    return dossier


def complete(pilot, action_id, data, expect=200, status="done", who="manager"):
    return pilot.call(
        "POST", f"/actions/{action_id}/complete", who=who, expect=expect, json={"status": status, "data": data}
    )


def test_values_typed_the_french_way_reach_the_dossier_and_the_condition(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_form")
    action = pilot.only_action(run["id"], "Formaliser")
    answer = complete(
        pilot,
        action["id"],
        {"montant_plan": "1 200,50", "nb_echeances": "12", "premiere_echeance": "15/03/2027",
         "caution_informee": "oui", "frequence": "Mensuelle"},
    )  # fmt: skip
    assert [a["element_id"] for a in answer["next_actions"]] == ["Signifier"]  # 1200.50 > 1000
    data = pilot.call("GET", f"/dossiers/{dossier['id']}")["data"]
    assert data == {
        "balance": 1800, "monthly_rent": 600, "montant_plan": 1200.5, "nb_echeances": 12,
        "premiere_echeance": "2027-03-15", "caution_informee": True, "frequence": "mensuelle",
    }  # fmt: skip
    history = pilot.history(dossier["id"])
    change = next(e for e in history if e["kind"] == "dossier_updated")
    assert change["action_id"] == action["id"]
    assert change["actor"] == f"user:{pilot.users['manager'].id}"
    assert change["data"]["changes"]["data"]["montant_plan"] == {"from": None, "to": 1200.5}
    kinds = [e["kind"] for e in history]
    assert kinds.index("dossier_updated") < kinds.index("action_completed")


def test_a_small_plan_takes_the_default_branch(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_form")
    action = pilot.only_action(run["id"], "Formaliser")
    answer = complete(pilot, action["id"], {"montant_plan": "800"})
    assert [a["element_id"] for a in answer["next_actions"]] == ["Echeancier"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"montant_plan": "abc"}, "montant_plan"),
        ({"nb_echeances": "12"}, "montant_plan"),  # required and missing
        ({"montant_plan": "1200", "premiere_echeance": "31/02/2027"}, "premiere_echeance"),
        ({"montant_plan": "1200", "frequence": "hebdo"}, "frequence"),
        ({"montant_plan": "1200", "balance": "0"}, "balance"),  # shown, not asked
    ],
)
def test_a_value_that_cannot_be_kept_is_422_naming_the_field_and_nothing_changes(pilot, dossier, data, field):
    run = pilot.launch(dossier["id"], "rt_form")
    action = pilot.only_action(run["id"], "Formaliser")
    before = pilot.history(dossier["id"])
    refused = complete(pilot, action["id"], data, expect=422)
    assert refused["error"] == "invalid_form" and refused["field"] == field
    assert field in refused["fields"]
    assert pilot.call("GET", f"/dossiers/{dossier['id']}")["data"] == {"balance": 1800, "monthly_rent": 600}
    assert pilot.history(dossier["id"]) == before
    assert pilot.only_action(run["id"], "Formaliser")["status"] == "open"


def test_the_message_names_the_field_by_its_label(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_form")
    action = pilot.only_action(run["id"], "Formaliser")
    refused = complete(pilot, action["id"], {"montant_plan": "abc"}, expect=422)
    assert refused["message"].startswith("« Montant du plan » : « abc » n'est pas un montant")


def test_a_partner_fills_the_form_of_their_action_and_skipping_ignores_the_form(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_form")
    complete(pilot, pilot.only_action(run["id"], "Formaliser")["id"], {"montant_plan": "5000"})
    serve = pilot.only_action(run["id"], "Signifier")
    assert complete(pilot, serve["id"], {}, expect=422, who="partner")["field"] == "date_signification"
    complete(pilot, serve["id"], {"date_signification": "2027-04-02"}, who="partner")
    assert pilot.call("GET", f"/dossiers/{dossier['id']}")["data"]["date_signification"] == "2027-04-02"
    # A skipped action asks for nothing.
    run = pilot.launch(dossier["id"], "rt_form", confirm=True)
    complete(pilot, pilot.only_action(run["id"], "Formaliser")["id"], None, status="skipped")


def test_data_for_an_action_without_a_form_is_refused(pilot, dossier):
    run = pilot.launch(dossier["id"], "rt_form")
    complete(pilot, pilot.only_action(run["id"], "Formaliser")["id"], {"montant_plan": "10"})
    refused = complete(pilot, pilot.only_action(run["id"], "Echeancier")["id"], {"x": 1}, expect=422)
    assert refused["field"] == "x"
