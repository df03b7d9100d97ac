"""ISO 8601 durations, month arithmetic and French working days."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bpmn.durations import (
    Duration,
    add_duration,
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
