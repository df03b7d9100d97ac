"""Conditions said in the dictionary's words (designer/describe.py): never the raw expression."""

import pytest

from designer.describe import describe
from designer.dictionary import Dictionary, Event, Field, Outcome
from designer.values import Choice

DICTIONARY = Dictionary(
    fields={
        "has_guarantor": Field("has_guarantor", "Caution", "boolean", label_en="Guarantor"),
        "balance": Field("balance", "Solde dû", "amount", label_en="Balance due"),
        "monthly_rent": Field("monthly_rent", "Loyer mensuel", "amount"),
        "hearing_date": Field("hearing_date", "Date d'audience", "date"),
        "landlord_kind": Field(
            "landlord_kind",
            "Type de bailleur",
            "choice",
            choices=(Choice("personne_morale", "Personne morale"), Choice("particulier", "Particulier")),
        ),
    },
    events={
        "paiement_recu": Event(
            "paiement_recu", "Paiement reçu", None, (Field("montant", "Montant", "amount"),)
        )
    },
    outcomes={
        "paid": Outcome("paid", "Payé", "Paid"),
        "promise": Outcome("promise", "Promesse", None),
        "partial": Outcome("partial", "Paiement partiel", None),
    },
)


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        ('outcome == "paid"', "Résultat : Payé"),
        ('outcome in ["promise", "partial"]', "Résultat : Promesse ou Paiement partiel"),
        ('outcome != "paid"', "Résultat autre que Payé"),
        ("dossier.has_guarantor == True", "Caution : Oui"),
        ("dossier.has_guarantor == false", "Caution : Non"),
        ("dossier.has_guarantor", "Caution : Oui"),
        ("not dossier.has_guarantor", "Caution : Non"),
        ("dossier.hearing_date == None", "Sans date d'audience"),
        ("dossier.monthly_rent != None", "Avec loyer mensuel"),
        ("dossier.balance >= 2 * dossier.monthly_rent", "Solde dû ≥ 2 × Loyer mensuel"),
        ("dossier.balance > 1000", "Solde dû > 1\u202f000,00 €"),
        ("1000 < dossier.balance", "Solde dû > 1\u202f000,00 €"),
        ('dossier.landlord_kind == "personne_morale"', "Type de bailleur : Personne morale"),
        ('dossier["balance"] <= 0', "Solde dû ≤ 0,00 €"),
        ("event.montant >= dossier.balance", "Montant ≥ Solde dû"),
        ('actions["Serve"].outcome == "paid"', "Résultat de « Signifier » : Payé"),
        ('actions["Serve"].status == "done"', "Statut de « Signifier » : Fait"),
        ("in_truce(now())", "pendant la trêve hivernale"),
        ("true", "toujours"),
        (
            "dossier.has_guarantor == True and (dossier.monthly_rent == None or dossier.balance > 100)",
            "Caution : Oui et (Sans loyer mensuel ou Solde dû > 100,00 €)",
        ),
        (
            'add_duration(dossier.hearing_date, "-P6W", "legal") < now()',
            "6 semaines avant Date d'audience < aujourd'hui",
        ),
        ("dossier.unknown_field == 3", "Unknown field : 3"),
    ],
)
def test_said_in_french(expression, said):
    assert describe(expression, DICTIONARY, "fr", {"Serve": "Signifier"}) == said


def test_said_in_english_with_french_labels_where_no_english_one():
    assert describe('outcome == "paid"', DICTIONARY, "en") == "Outcome: Paid"
    assert describe('outcome == "promise"', DICTIONARY, "en") == "Outcome: Promesse"
    assert describe("dossier.has_guarantor == True", DICTIONARY, "en") == "Guarantor: Yes"
    assert describe("dossier.balance >= 2 * dossier.monthly_rent", DICTIONARY, "en") == (
        "Balance due ≥ 2 × Loyer mensuel"
    )


@pytest.mark.parametrize(
    "expression",
    ['outcome == "paid', "__import__('os')", "dossier.balance ** 2 > 3", "[x for x in actions]"],
)
def test_what_cannot_be_read_is_never_shown_raw(expression):
    said = describe(expression, DICTIONARY)
    assert said == "selon une règle"


def test_an_empty_condition_says_nothing():
    assert describe("", DICTIONARY) == "" and describe(None, DICTIONARY) == ""
