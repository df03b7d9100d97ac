"""What a run waiting for data asks for: the field read from the stored engine error, the action's name."""

import pytest

from runtime.data_needed import action_name, fields_read
from runtime.incidents import cause_of

TIMER = (
    "EngineError: La date du minuteur n'est pas une date : "
    'add_duration(dossier.hearing_date, "-P6W", "legal"). '
)


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("Date d'audience", "Renseigner la date d'audience"),
        ("Montant du plan", "Renseigner le montant du plan"),
        ("Solde dû", "Renseigner le solde dû"),
        ("Adresse du logement", "Renseigner l'adresse du logement"),
        ("Caution", "Renseigner la caution"),
        ("Nombre d'échéances", "Renseigner le nombre d'échéances"),
    ],
)
def test_the_action_is_named_after_the_field(label, name):
    assert action_name(label) == name


def test_a_timer_date_computed_from_an_empty_field_names_it():
    cause = cause_of(TIMER, {})
    assert cause.kind == "field_missing" and cause.fields == [("hearing_date", None)]
    assert cause.expression == 'add_duration(dossier.hearing_date, "-P6W", "legal")'
    unusable = cause_of(TIMER, {"hearing_date": "15/03/2027"})
    assert unusable.kind == "field_value" and unusable.expected == "date"
    assert fields_read(TIMER) == {"hearing_date"}


def test_another_error_reads_no_field():
    assert fields_read("KeyError: 'x'") == set() and fields_read(None) == set()
