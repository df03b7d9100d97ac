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
        "POST",
        f"/actions/{action_id}/complete",
        who=who,
        expect=expect,
        json={"status": status, "data": data},
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


def login(client, account):
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(account.id)
        cookie["_fresh"] = True


def test_the_manager_fills_the_form_on_the_dossier_page_and_a_refusal_keeps_what_was_typed(
    pilot, dossier, client, users
):
    run = pilot.launch(dossier["id"], "rt_form")
    action = pilot.only_action(run["id"], "Formaliser")
    login(client, users["manager"])
    page = client.get(f"/dossiers/{dossier['id']}").get_data(as_text=True)
    assert 'name="field:montant_plan"' in page and 'type="date"' in page
    assert "Montant du plan" in page and "Solde" in page and "1\u202f800,00 €" in page
    url = f"/dossiers/{dossier['id']}/actions/{action['id']}/complete"
    typed = {"choice": "done", "comment": "accord", "field:montant_plan": "abc", "field:nb_echeances": "12"}
    refused = client.post(url, data=typed)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "n&#39;est pas un montant" in page or "n'est pas un montant" in page
    assert 'value="abc"' in page and 'value="12"' in page and ">accord</textarea>" in page
    assert pilot.only_action(run["id"], "Formaliser")["status"] == "open"
    done = client.post(url, data={**typed, "field:montant_plan": "1 200,50"})
    assert done.status_code == 303
    assert pilot.call("GET", f"/dossiers/{dossier['id']}")["data"]["montant_plan"] == 1200.5
    history = client.get(f"/dossiers/{dossier['id']}?tab=history").get_data(as_text=True)
    assert "Montant du plan : — → 1\u202f200,50 €" in history


def test_the_partner_fills_the_form_in_the_portal(pilot, dossier, client, users):
    run = pilot.launch(dossier["id"], "rt_form")
    complete(pilot, pilot.only_action(run["id"], "Formaliser")["id"], {"montant_plan": "5 000"})
    serve = pilot.only_action(run["id"], "Signifier")
    login(client, users["partner"])
    page = client.get(f"/portal/actions/{serve['id']}").get_data(as_text=True)
    assert "5\u202f000,00 €" in page and 'name="field:date_signification"' in page
    url = f"/portal/actions/{serve['id']}/complete"
    refused = client.post(url, data={"choice": "done", "field:date_signification": "32/13/2027"})
    assert refused.status_code == 422 and 'value="32/13/2027"' in refused.get_data(as_text=True)
    given = client.post(url, data={"choice": "done", "field:date_signification": "2027-04-02"})
    assert given.status_code == 303
    assert pilot.call("GET", f"/dossiers/{dossier['id']}")["data"]["date_signification"] == "2027-04-02"


def test_saving_and_publishing_check_the_sequence_against_the_dictionary(pilot):
    from tests.factories import DATA

    xml = (
        (DATA / "bpmn" / "runtime" / "rt_form.bpmn")
        .read_bytes()
        .replace(b"&gt; 1000", b'&gt; date("2027-01-01")')
    )
    xml = xml.replace(b'seq:fill="montant_plan!,', b'seq:fill="montant_plans!,')
    answer = pilot.call(
        "POST", "/sequences/validate", who="analyst", data=xml, headers={"Content-Type": "application/xml"}
    )
    found = {(i["element_id"], i["code"]) for i in answer["issues"]}
    assert found == {("Formaliser", "unknown_field"), ("F_important", "type_mismatch")}
    assert any("vouliez-vous dire montant_plan ?" in i["message"] for i in answer["issues"])
    saved = pilot.call("POST", "/sequences?replace=true", who="analyst", data=xml,
                       headers={"Content-Type": "application/xml"})  # fmt: skip
    assert {i["code"] for i in saved["issues"]} == {"unknown_field", "type_mismatch"}
    refused = pilot.call("POST", "/sequences/rt_form/publish", who="analyst", expect=422)
    assert refused["error"] == "invalid_sequence"
