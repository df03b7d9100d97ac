"""ISO 8601 durations, month arithmetic and French working days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bpmn.durations import (
    METROPOLE,
    Duration,
    Holidays,
    add_duration,
    after_truce,
    deadline,
    holidays_for,
    in_truce,
    is_working_day,
    parse_cycle,
    parse_date_time,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("P15D", Duration(days=15)),
        ("P2M", Duration(months=2)),
        ("P6W", Duration(weeks=6)),
        ("PT2S", Duration(seconds=2)),
        ("-P6W", Duration(weeks=6, negative=True)),
        ("P1Y2M3W4DT5H6M7S", Duration(1, 2, 3, 4, 5, 6, 7)),
        ("PT0.5S", Duration(seconds=0.5)),
        (" P8D ", Duration(days=8)),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "P1DT", "15D", "P15", "P-1D", "15 jours", "P1.5D", "'P15D'", "p15d"]
)
def test_parse_duration_refuses_in_french(text):
    with pytest.raises(ValueError, match="durée ISO 8601"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P15D", "-P6W", "P1Y2M3W4DT5H6M7S", "PT0.5S", "P0D"])
def test_a_duration_prints_back_as_iso(text):
    assert str(parse_duration(text)) == text


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (date(2026, 1, 31), "P1M", date(2026, 2, 28)),
        (date(2028, 1, 31), "P1M", date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), "P1Y", date(2029, 2, 28)),
        (date(2028, 2, 29), "P4Y", date(2032, 2, 29)),
        (date(2026, 3, 31), "-P1M", date(2026, 2, 28)),
        (date(2026, 8, 31), "P2M", date(2026, 10, 31)),
        (date(2026, 12, 31), "P2M", date(2027, 2, 28)),
        (date(2026, 1, 1), "P15D", date(2026, 1, 16)),
        (date(2026, 3, 2), "P6W", date(2026, 4, 13)),
        (date(2026, 6, 15), "-P6W", date(2026, 5, 4)),
        (date(2026, 1, 31), "P1M1D", date(2026, 3, 1)),
    ],
)
def test_calendar_arithmetic(start, duration, expected):
    assert add_duration(start, duration) == expected


def test_aware_datetime_keeps_its_time_and_zone():
    start = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    assert add_duration(start, "P1M") == datetime(2026, 2, 28, 9, 30, tzinfo=UTC)
    assert add_duration(start, "PT2S") == datetime(2026, 1, 31, 9, 30, 2, tzinfo=UTC)
    assert add_duration(start, "-PT1H") == datetime(2026, 1, 31, 8, 30, tzinfo=UTC)


def test_wall_clock_days_across_daylight_saving_in_paris():
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 3, 28, 9, 0, tzinfo=paris)
    assert add_duration(start, "P1D") == datetime(2026, 3, 29, 9, 0, tzinfo=paris)


def test_a_duration_object_is_accepted():
    assert add_duration(date(2026, 1, 1), Duration(days=2)) == date(2026, 1, 3)


def test_the_result_keeps_the_start_type():
    assert type(add_duration(date(2026, 1, 1), "P1D")) is date
    assert type(add_duration(datetime(2026, 1, 1, tzinfo=UTC), "P1D")) is datetime


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (date(2026, 3, 6), "P1D", date(2026, 3, 9)),  # Friday + 1 working day = Monday
        (date(2026, 3, 7), "P1D", date(2026, 3, 9)),  # from a Saturday
        (date(2026, 7, 13), "P1D", date(2026, 7, 15)),  # over 14 July (Tuesday)
        (date(2026, 4, 30), "P1D", date(2026, 5, 4)),  # 1 May is a Friday
        (date(2026, 5, 13), "P1D", date(2026, 5, 15)),  # over Ascension (Thursday 14 May 2026)
        (date(2026, 5, 7), "P1D", date(2026, 5, 11)),  # over 8 May (Friday)
        (date(2026, 3, 2), "P15D", date(2026, 3, 23)),  # 15 jours ouvrés = 3 weeks without holidays
        (date(2026, 3, 2), "P1W", date(2026, 3, 9)),  # a week counts 5 working days
        (date(2026, 7, 15), "-P1D", date(2026, 7, 13)),  # backwards over 14 July
        (date(2026, 3, 9), "-P1D", date(2026, 3, 6)),  # backwards over a weekend
        (date(2026, 1, 31), "P1M", date(2026, 2, 28)),  # months stay calendar months
        (date(2026, 3, 2), "P0D", date(2026, 3, 2)),
    ],
)
def test_business_days_skip_weekends_and_french_holidays(start, duration, expected):
    assert add_duration(start, duration, calendar="business") == expected


def test_business_days_on_aware_datetime_keep_the_time():
    start = datetime(2026, 7, 13, 14, 0, tzinfo=UTC)
    assert add_duration(start, "P1D", "business") == datetime(2026, 7, 15, 14, 0, tzinfo=UTC)


def test_working_days():
    assert is_working_day(date(2026, 3, 2))
    assert not is_working_day(date(2026, 3, 7))  # Saturday
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2028, 5, 25))  # Ascension 2028


@pytest.mark.parametrize(
    ("start", "duration", "calendar"),
    [
        (date(2026, 1, 1), "PT2H", "calendar"),  # hours on a plain date
        (date(2026, 1, 1), "P1D", "lunar"),
        (date(9999, 6, 1), "P1Y", "calendar"),
        (date(1, 1, 1), "-P1D", "calendar"),
        (date(2026, 1, 1), "P999999D", "business"),
    ],
)
def test_add_duration_refuses_in_french(start, duration, calendar):
    with pytest.raises(ValueError) as raised:
        add_duration(start, duration, calendar)
    assert "durée" in str(raised.value) or "Calendrier" in str(raised.value)


def test_parse_cycle():
    assert parse_cycle("R3/P7D") == (3, Duration(days=7))
    assert parse_cycle("R/P1M") == (-1, Duration(months=1))


@pytest.mark.parametrize(
    "text", ["P7D", "R3/", "R0/P7D", "R3/-P7D", "R3/P0D", "0/5 0/1 * 1/1 * ?", "R3/2026-01-01/P7D"]
)
def test_parse_cycle_refuses(text):
    with pytest.raises(ValueError):
        parse_cycle(text)


def test_parse_date_time():
    assert parse_date_time("2026-01-31") == date(2026, 1, 31)
    assert parse_date_time("2026-01-31T09:00:00Z") == datetime(2026, 1, 31, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="date ISO 8601"):
        parse_date_time("31/01/2026")


# --- Legal time: Paris dates, art. 641-642 CPC, places, the winter truce ------------------------------------

PARIS = ZoneInfo("Europe/Paris")


def _paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("start", "duration", "last_day"),
    [
        (date(2027, 1, 8), "P15D", date(2027, 1, 25)),  # Saturday 23 January → Monday 25
        (date(2027, 1, 9), "P15D", date(2027, 1, 25)),  # Sunday 24 January → Monday 25
        (date(2027, 1, 6), "P15D", date(2027, 1, 21)),  # Thursday: not extended
        (date(2027, 3, 25), "P6W", date(2027, 5, 7)),  # Ascension Thursday 6 May → Friday 7
        (date(2027, 2, 28), "P1M", date(2027, 3, 30)),  # Sunday 28 March, Easter Monday 29 → Tuesday 30
        (date(2026, 3, 25), "P2M", date(2026, 5, 26)),  # Whit Monday 25 May 2026 → Tuesday 26
        (date(2026, 12, 1), "P1M", date(2027, 1, 4)),  # Friday 1 January → Monday 4 (and not Saturday 2)
        (date(2026, 12, 17), "P15D", date(2027, 1, 4)),
        (date(2027, 12, 17), "P15D", date(2028, 1, 3)),  # 1 January 2028 is a Saturday
        (date(2027, 12, 1), "P1M", date(2028, 1, 3)),
        (date(2028, 1, 29), "P1M", date(2028, 2, 29)),  # a Tuesday, in a leap year
        (date(2027, 12, 31), "P2M", date(2028, 2, 29)),  # no 31 February: the last day of the month
        (date(2027, 8, 31), "P2M", date(2027, 11, 2)),  # Sunday 31 October, then 1 November → Tuesday 2
        (date(2027, 6, 20), "-P6W", date(2027, 5, 7)),  # counted backwards: Saturday 8 May → Friday 7
    ],
)
def test_legal_delays_end_on_a_working_day(start, duration, last_day):
    assert add_duration(start, duration, "legal") == last_day


def test_legal_delay_explains_its_extension_art_642():
    counted = deadline(_paris(2027, 1, 8, 10, 0), "P15D", "legal")
    assert counted.day == date(2027, 1, 25)
    assert counted.note["fr"] == (
        "15 jours à compter du 8 janvier 2027, prorogé du samedi 23 janvier 2027 au lundi 25 janvier 2027 "
        "— art. 642 CPC"
    )
    assert counted.note["en"].startswith("15 days from 8 January 2027, extended from Saturday 23 January")
    # due at the end of its last day, a timer fires at the start of the next one, both in Paris
    assert counted.due_at == datetime(2027, 1, 25, 22, 59, 59, tzinfo=UTC)
    assert counted.fires_at == datetime(2027, 1, 25, 23, 0, tzinfo=UTC)


def test_holiday_named_in_the_explanation():
    counted = deadline(_paris(2027, 3, 25, 15, 0), "P6W", "legal")
    assert "prorogé du jeudi 6 mai 2027 (Ascension) au vendredi 7 mai 2027" in counted.note["fr"]
    assert "(Ascension Day)" in counted.note["en"]


def test_calendar_delays_are_not_extended_but_are_explained():
    counted = deadline(_paris(2027, 1, 8, 10, 0), "P15D")
    assert counted.day == date(2027, 1, 23)
    assert counted.note["fr"] == "15 jours à compter du 8 janvier 2027 : samedi 23 janvier 2027"


def test_days_are_paris_days_not_utc_days():
    # 00:30 on 14 July in Paris is still 13 July in UTC: one working day from the holiday is 15 July.
    start = _paris(2027, 7, 14, 0, 30)
    assert start.astimezone(UTC).date() == date(2027, 7, 13)
    counted = deadline(start, "P1D", "business")
    assert counted.day == date(2027, 7, 15)
    assert counted.due_at.astimezone(PARIS) == _paris(2027, 7, 15, 23, 59, 59)
    assert add_duration(start, "P1D", "business") == _paris(2027, 7, 15, 0, 30)


@pytest.mark.parametrize(
    ("start", "day"),
    [
        (_paris(2027, 3, 27, 12, 0), date(2027, 3, 28)),  # the night the clocks go forward
        (_paris(2027, 10, 30, 12, 0), date(2027, 10, 31)),  # the night they go back
    ],
)
def test_daylight_saving_nights_change_nothing(start, day):
    counted = deadline(start, "P1D")
    assert counted.day == day
    assert counted.due_at.astimezone(PARIS) == datetime.combine(day, datetime.min.time(), PARIS).replace(
        hour=23, minute=59, second=59
    )
    assert counted.fires_at.astimezone(PARIS).time() == datetime.min.time()
    assert counted.fires_at.astimezone(PARIS).date() == day + timedelta(days=1)
    assert add_duration(start, "P1D").astimezone(PARIS).hour == 12


def test_sub_day_durations_stay_exact():
    start = datetime(2027, 3, 28, 0, 59, 59, tzinfo=UTC)  # one second before the clocks go forward
    counted = deadline(start, "PT2S", "legal")
    assert counted.day is None and counted.due_at == counted.fires_at == start + timedelta(seconds=2)
    assert add_duration(start, "PT1H") == start + timedelta(hours=1)


def test_a_timer_set_again_at_midnight_does_not_drift():
    first = deadline(_paris(2027, 1, 4, 9, 0), "P1M").fires_at
    second = deadline(first, "P1M").fires_at
    assert first.astimezone(PARIS) == _paris(2027, 2, 5, 0, 0)
    assert second.astimezone(PARIS) == _paris(2027, 3, 5, 0, 0)


def test_good_friday_in_moselle_not_in_paris():
    # 15 days from Thursday 11 March 2027 end on Good Friday 26 March
    moselle, paris = holidays_for("57"), holidays_for("75")
    assert paris == METROPOLE and moselle != METROPOLE
    assert add_duration(date(2027, 3, 11), "P15D", "legal", paris) == date(2027, 3, 26)
    # Good Friday, then the weekend and Easter Monday
    assert add_duration(date(2027, 3, 11), "P15D", "legal", moselle) == date(2027, 3, 30)
    assert holidays_for("67") == holidays_for("68") == Holidays("6AE")
    assert is_working_day(date(2027, 12, 27), moselle) and not is_working_day(date(2026, 12, 26), moselle)
    note = deadline(_paris(2027, 3, 11, 9, 0), "P15D", "legal", moselle).note["fr"]
    assert "(Vendredi saint)" in note and note.endswith("jours fériés : Moselle")


def test_a_dossier_in_guadeloupe_keeps_the_abolition_of_slavery_day():
    guadeloupe = holidays_for("971")
    # 15 days from Wednesday 12 May 2027 end on Thursday 27 May, a holiday in Guadeloupe only
    assert add_duration(date(2027, 5, 12), "P15D", "legal") == date(2027, 5, 27)
    assert add_duration(date(2027, 5, 12), "P15D", "legal", guadeloupe) == date(2027, 5, 28)
    note = deadline(_paris(2027, 5, 12, 9), "P15D", "legal", guadeloupe).note["fr"]
    assert "(Abolition de l'esclavage)" in note


@pytest.mark.parametrize(
    ("day", "inside", "after"),
    [
        (date(2026, 10, 31), False, date(2026, 10, 31)),
        (date(2026, 11, 1), True, date(2027, 4, 1)),
        (date(2027, 1, 15), True, date(2027, 4, 1)),
        (date(2028, 2, 29), True, date(2028, 4, 1)),
        (date(2027, 3, 31), True, date(2027, 4, 1)),
        (date(2027, 4, 1), False, date(2027, 4, 1)),
    ],
)
def test_the_winter_truce_from_1_november_to_31_march_both_included(day, inside, after):
    assert in_truce(day) is inside and after_truce(day) == after


def test_a_due_date_not_during_the_truce_moves_after_it():
    counted = deadline(_paris(2026, 10, 15, 9, 0), "P1M", "legal", not_during="treve_hivernale")
    assert counted.day == date(2027, 4, 1) and counted.fires_at.astimezone(PARIS) == _paris(2027, 4, 1, 0, 0)
    assert "après la trêve hivernale" in counted.note["fr"] and "winter truce" in counted.note["en"]
    # a delay whose last day is 31 October: due that day, but a timer waits for the truce to end
    before = deadline(_paris(2026, 10, 1, 9, 0), "P30D", not_during="treve_hivernale")
    assert before.day == date(2026, 10, 31) and before.fires_at.astimezone(PARIS) == _paris(2027, 4, 1, 0, 0)
    with pytest.raises(ValueError, match="Période « ete » inconnue"):
        deadline(_paris(2026, 10, 1, 9, 0), "P30D", not_during="ete")
