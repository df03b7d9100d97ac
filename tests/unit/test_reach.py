"""Whom a sequence's communications will not reach, told at launch (runtime/reach.py), without a database."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from bpmn.validation import validate
from kernel.errors import RuleBroken
from runtime.reach import check_reach, unreachable_contacts
from web.errors import status_of

LETTER = Path(__file__).resolve().parents[1] / "data" / "bpmn" / "communications" / "comm_letter.bpmn"
MODEL = validate(LETTER.read_bytes()).model.to_dict()
VERSION = SimpleNamespace(id=-1, checksum="comm_letter", model=MODEL)  # only its model is read


def person(id, name, **coordinates):
    return SimpleNamespace(id=id, name=name, **{"email": None, "address": None, "phone": None, **coordinates})


DOSSIER = SimpleNamespace(participants=[
    person(1, "M. Dupont", email="dupont@caution.test"),
    person(2, "Mme Durand", address="3 rue des Lilas\n69003 Lyon"),
    person(3, "Gestionnaire", email="g@bailleur.test"),
])


def test_a_letter_to_a_holder_without_postal_address_is_named_with_its_step():
    holders = {"caution": [1, 2], "gestionnaire": [3]}
    [entry] = unreachable_contacts(None, DOSSIER, VERSION, holders)
    assert entry["message"] == "« Envoyer la mise en demeure » (lettre) : M. Dupont n'a pas d'adresse postale"
    assert (entry["element_id"], entry["participant_id"]) == ("Send_mise_en_demeure", 1)
    assert (entry["channel"], entry["missing"]) == ("letter", "address")
    assert unreachable_contacts(None, DOSSIER, VERSION, {"caution": [2]}) == []


def test_the_launch_is_refused_with_the_list_unless_allowed():
    with pytest.raises(RuleBroken) as refused:
        check_reach(None, DOSSIER, VERSION, {"caution": [1]}, allowed=False)
    assert refused.value.code == "unreachable_contacts" and status_of(refused.value) == 422
    assert [c["participant"] for c in refused.value.details["contacts"]] == ["M. Dupont"]
    assert "M. Dupont n'a pas d'adresse postale" in refused.value.message
    check_reach(None, DOSSIER, VERSION, {"caution": [1]}, allowed=True)
