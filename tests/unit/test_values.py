"""Typed values: what a French user types is read, stored in one form, and shown back; the rest is refused
naming the field."""

from datetime import date

import pytest

from designer.values import Choice, FieldType, InvalidValue, display, parse

HEARING = FieldType("hearing_date", "Date d'audience", "date")
PLAN = FieldType("plan_amount", "Montant du plan", "amount")
COUNT = FieldType("installments", "Nombre d'échéances", "number")
LANDLORD = FieldType(
    "landlord_kind",
    "Bailleur",
    "choice",
    (Choice("personne_morale", "Personne morale"), Choice("particulier", "Particulier")),
)
GUARANTOR = FieldType("has_guarantor", "Caution", "boolean")


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("15/03/2027", "2027-03-15"),
        ("5/3/2027", "2027-03-05"),
        ("15-03-2027", "2027-03-15"),
        ("15.03.27", "2027-03-15"),
        ("2027-03-15", "2027-03-15"),
        (" 2027-03-15T10:00:00 ", "2027-03-15"),
        (date(2027, 3, 15), "2027-03-15"),
    ],
)
def test_dates_are_read_as_french_users_write_them(typed, stored):
    assert parse(HEARING, typed) == stored


@pytest.mark.parametrize("typed", ["31/02/2027", "abc", "15/03", "2027/15/03", 12])
def test_a_date_that_is_not_one_is_refused_naming_the_field(typed):
    with pytest.raises(InvalidValue) as refused:
        parse(HEARING, typed)
    assert refused.value.details["field"] == "hearing_date"
    assert "Date d'audience" in refused.value.message


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("1 200,50", 1200.5),
        ("1\u202f200,50 €", 1200.5),
        ("1200.5 €", 1200.5),
        ("1.200,50", 1200.5),
        ("1,200.50", 1200.5),
        ("-35", -35.0),
        ("400 EUR", 400.0),
        (400, 400.0),
        (12.3, 12.3),
    ],
)
def test_amounts_accept_french_input(typed, stored):
    assert parse(PLAN, typed) == stored


@pytest.mark.parametrize("typed", ["abc", "12,3,4", "1200,505", "1 2OO", True])
def test_an_amount_that_is_not_one_is_refused(typed):
    with pytest.raises(InvalidValue) as refused:
        parse(PLAN, typed)
    assert refused.value.details["field"] == "plan_amount"


def test_numbers_choices_and_booleans():
    assert parse(COUNT, "12") == 12 and isinstance(parse(COUNT, "12"), int)
    assert parse(COUNT, "2,5") == 2.5
    assert parse(LANDLORD, "Personne morale") == "personne_morale"
    assert parse(LANDLORD, "particulier") == "particulier"
    with pytest.raises(InvalidValue, match="Personne morale"):
        parse(LANDLORD, "SCI")
    assert (
        parse(GUARANTOR, "oui") is True
        and parse(GUARANTOR, "Non") is False
        and parse(GUARANTOR, True) is True
    )
    with pytest.raises(InvalidValue):
        parse(GUARANTOR, "peut-être")


def test_nothing_typed_clears_the_field():
    assert parse(HEARING, "") is None and parse(PLAN, "  ") is None and parse(COUNT, None) is None


def test_values_are_shown_as_people_read_them():
    assert display(HEARING, "2027-03-15") == "15/03/2027"
    assert display(PLAN, 1200.5) == "1\u202f200,50 €"
    assert display(PLAN, 1200.5, "en") == "1,200.50 €"
    assert display(GUARANTOR, True) == "Oui"
    assert display(LANDLORD, "personne_morale") == "Personne morale"
    assert display(COUNT, None) == "—"


@pytest.mark.parametrize(
    "raw", [10**40, "1" + "0" * 40, 1e300, float("nan"), float("inf"), "1 000 000 000 000"]
)
@pytest.mark.parametrize("type_", ["amount", "number"])
def test_a_number_too_big_or_not_finite_is_refused_naming_the_field(raw, type_):
    with pytest.raises(InvalidValue) as error:
        parse(FieldType("balance", "Solde", type_), raw)
    assert error.value.details["field"] == "balance"
