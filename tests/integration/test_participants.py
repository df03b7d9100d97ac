"""Participants and the roles they hold are checked by the services, so that the API and the pages obey
alike: the kind of participant matches the kind of role, roles exist in the library, no one is on a dossier
twice, internal and partner participants have an account, e-mail and phone numbers look like ones."""

import pytest

from tests.integration.pilot import Pilot
from tests.integration.test_communications import RELANCE
from tests.integration.test_pages_matrix import login


@pytest.fixture
def pilot(client, users):
    pilot = Pilot(client, users)
    # gestionnaire (internal), commissaire_justice (partner), locataire (contact).
    pilot.publish("rt_sub", "rt_plan", "rt_relance")
    # A sequence is published only once the templates its send tasks name exist.
    pilot.call("POST", "/templates", who="analyst", json=RELANCE, expect=201)
    pilot.publish("comm_relance", folder="communications")
    return pilot


@pytest.fixture
def dossier(pilot):
    return pilot.dossier("P-1")


def add(pilot, dossier, expect, **body):
    return pilot.call("POST", f"/dossiers/{dossier['id']}/participants", json=body, expect=expect)


def participants(pilot, dossier) -> list[str]:
    return [p["name"] for p in pilot.call("GET", f"/dossiers/{dossier['id']}")["participants"]]


MANAGER = "manager@example.test"
PARTNER = "partner@example.test"


REFUSALS = [
    # The kind of participant and the kind of role.
    (
        {"kind": "contact", "name": "Locataire", "roles": ["gestionnaire"]},
        422,
        "role_kind_mismatch",
        "roles",
    ),
    (
        {"kind": "internal", "name": "G", "user_email": MANAGER, "roles": ["commissaire_justice"]},
        422,
        "role_kind_mismatch",
        "roles",
    ),
    (
        {"kind": "partner", "name": "Me P", "user_email": PARTNER, "roles": ["locataire"]},
        422,
        "role_kind_mismatch",
        "roles",
    ),
    # Roles the library knows.
    ({"kind": "contact", "name": "L", "roles": ["Locataire principal!!"]}, 422, "unknown_role", "roles"),
    # Accounts: internal and partner participants log in; a contact never does.
    ({"kind": "internal", "name": "G", "roles": ["gestionnaire"]}, 422, "account_required", "user_email"),
    ({"kind": "partner", "name": "Me P", "roles": []}, 422, "account_required", "user_email"),
    (
        {"kind": "internal", "name": "G", "user_email": PARTNER},
        422,
        "account_kind_mismatch",
        "user_email",
    ),
    (
        {"kind": "internal", "name": "G", "user_email": "nobody@example.test"},
        422,
        "unknown_account",
        "user_email",
    ),
    (
        {"kind": "contact", "name": "L", "user_email": MANAGER},
        422,
        "contact_without_account",
        "user_email",
    ),
    # Contact details.
    ({"kind": "contact", "name": "L", "phone": "pas un numéro"}, 422, "invalid_field", "phone"),
    ({"kind": "contact", "name": "L", "phone": "06 12 34"}, 422, "invalid_field", "phone"),
    ({"kind": "contact", "name": "L", "email": "pas-un-email"}, 422, "invalid_field", "email"),
]


def test_a_participant_breaking_a_rule_is_refused_naming_the_field(pilot, dossier):
    for body, status, code, field in REFUSALS:
        refused = add(pilot, dossier, status, **body)
        assert (refused["error"], refused["field"]) == (code, field), (body, refused)
    assert participants(pilot, dossier) == []  # nothing written


def test_an_unknown_role_names_the_key_and_the_closest_ones(pilot, dossier):
    refused = add(pilot, dossier, 422, kind="internal", name="G", user_email=MANAGER, roles=["gestionaire"])
    assert refused["role"] == "gestionaire" and refused["suggestions"][0] == "gestionnaire"
    assert "« gestionaire »" in refused["message"] and "gestionnaire" in refused["message"]


PHONES = [
    "06 12 34 56 78",
    "06.12.34.56.78",
    "0612345678",
    "+33 6 12 34 56 78",
    "0033 6 12 34 56 78",
    "+44 20 7946 0958",
]


def test_french_and_international_phone_numbers_are_accepted(pilot, dossier):
    for i, phone in enumerate(PHONES):
        added = add(pilot, dossier, 201, kind="contact", name=f"L{i}", phone=phone, roles=["locataire"])
        assert added["phone"] == phone


def test_no_one_is_on_a_dossier_twice(pilot, dossier):
    add(pilot, dossier, 201, kind="internal", name="G", user_email=MANAGER, roles=["gestionnaire"])
    again = add(pilot, dossier, 409, kind="internal", name="G bis", user_email=MANAGER.upper())
    assert (again["error"], again["field"]) == ("duplicate_participant", "user_email")
    add(pilot, dossier, 201, kind="contact", name="Jeanne", email="jeanne@example.test", roles=["locataire"])
    same = add(pilot, dossier, 409, kind="contact", name="Jeanne M.", email="Jeanne@Example.test")
    assert (same["error"], same["field"]) == ("duplicate_participant", "email")
    assert participants(pilot, dossier) == ["G", "Jeanne"]
    # The same person on another dossier is fine.
    add(pilot, pilot.dossier("P-2"), 201, kind="internal", name="G", user_email=MANAGER)


def test_default_roles_and_run_holders_follow_the_kind_of_role(pilot, dossier):
    manager = add(pilot, dossier, 201, kind="internal", name="G", user_email=MANAGER, roles=["gestionnaire"])
    bailiff = add(
        pilot, dossier, 201, kind="partner", name="Me P", user_email=PARTNER, roles=["commissaire_justice"]
    )
    tenant = add(pilot, dossier, 201, kind="contact", name="Jeanne", roles=["locataire"])
    roles = f"/dossiers/{dossier['id']}/participants/{tenant['id']}/roles"
    refused = pilot.call("PUT", roles, json={"roles": ["locataire", "gestionnaire"]}, expect=422)
    assert (refused["error"], refused["role"]) == ("role_kind_mismatch", "gestionnaire")
    assert pilot.call("PUT", roles, json={"roles": ["locatair"]}, expect=422)["suggestions"] == ["locataire"]
    # Launch: the holders named must be of the role's kind, and the role one of the sequence's.
    launch = {"roles": {"gestionnaire": [tenant["id"]]}}
    assert pilot.launch(dossier["id"], "rt_relance", expect=422, **launch)["error"] == "role_kind_mismatch"
    unknown = pilot.launch(dossier["id"], "rt_relance", expect=422, roles={"gestionaire": [manager["id"]]})
    assert (unknown["error"], unknown["suggestions"]) == ("unknown_role", ["gestionnaire"])
    assert pilot.call("GET", f"/dossiers/{dossier['id']}")["runs"] == []
    run = pilot.launch(dossier["id"], "rt_relance")
    # Changing a run's holders: the same rule.
    path = f"/runs/{run['id']}/roles/commissaire_justice"
    moved = pilot.call("PUT", path, json={"participant_ids": [manager["id"]]}, expect=422)
    assert moved["error"] == "role_kind_mismatch" and moved["participant_id"] == manager["id"]
    assert [h["name"] for h in pilot.run(run["id"])["roles"]["commissaire_justice"]] == ["Me P"]
    pilot.call("PUT", path, json={"participant_ids": [bailiff["id"]]}, expect=200)


def test_the_participants_form_shows_the_error_next_to_the_field_and_keeps_what_was_typed(
    app, pilot, dossier, users
):
    client = app.test_client()
    login(client, users["manager"])
    url = f"/dossiers/{dossier['id']}/participants"
    typed = {
        "kind": "contact",
        "name": "Jeanne Martin",
        "email": "jeanne@example.test",
        "phone": "pas un numéro",
        "roles": "locataire",
    }
    answer = client.post(url, data=typed)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert '<span class="field-error" id="p-phone-error" role="alert">Numéro de téléphone invalide' in page
    assert 'id="p-phone" name="phone" type="tel" value="pas un numéro" aria-invalid="true"' in page
    for value in ("Jeanne Martin", "jeanne@example.test", "locataire"):
        assert f'value="{value}"' in page, value
    assert '<option value="contact" selected>' in page
    refused = client.post(url, data={**typed, "phone": "06 12 34 56 78", "roles": "Locataire principal!!"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="p-roles-error"' in page and "Rôles proches : locataire" in page
    assert participants(pilot, dossier) == []
    added = client.post(url, data={**typed, "phone": "06 12 34 56 78"})
    assert added.status_code == 303 and participants(pilot, dossier) == ["Jeanne Martin"]
