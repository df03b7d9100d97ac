"""ISO 8601 durations and legal calendars.

Delays in the law are written in days, weeks and months ("deux mois", "six semaines", "15 jours ouvrés").
Months are added the way a lawyer counts them: 31 January + 1 month = 28 (or 29) February, never
3 March. With calendar="business", the day and week parts count French working days: Saturdays, Sundays
and the national public holidays of the `holidays` library are skipped; a week counts as five working
days. Years and months are applied first, then working days, then the time part.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from dateutil.relativedelta import relativedelta

CALENDARS = ("calendar", "business")

# Bounds keep a typo such as "P99999999D" from looping for minutes in business mode or overflowing dates.
MAX_BUSINESS_DAYS = 20_000
_NUMBER = r"(\d{1,6})"
_DURATION = re.compile(
    rf"^(-)?P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:(\d{{1,6}}(?:[.,]\d{{1,6}})?)S)?)?$"
)
_CYCLE = re.compile(r"^R(\d{0,6})/(.+)$")


@dataclass(frozen=True)
class Duration:
    """An ISO 8601 duration kept component by component, since "P1M" is not a fixed number of days."""

    years: int = 0
    months: int = 0
    weeks: int = 0
    days: int = 0
    hours: int = 0
    minutes: int = 0
    seconds: float = 0
    negative: bool = False

    @property
    def has_time(self) -> bool:
        return bool(self.hours or self.minutes or self.seconds)

    def __str__(self) -> str:
        date_part = "".join(
            f"{value}{unit}"
            for value, unit in ((self.years, "Y"), (self.months, "M"), (self.weeks, "W"), (self.days, "D"))
            if value
        )
        seconds = int(self.seconds) if float(self.seconds).is_integer() else self.seconds
        time_part = "".join(
            f"{value}{unit}"
            for value, unit in ((self.hours, "H"), (self.minutes, "M"), (seconds, "S"))
            if value
        )
        text = "P" + date_part + (f"T{time_part}" if time_part else "")
        if text == "P":
            text = "P0D"
        return ("-" if self.negative else "") + text


def parse_duration(text: str) -> Duration:
    """Read "P15D", "P2M", "P6W", "PT2S", "-P6W"...; raises ValueError with a French message."""
    if not isinstance(text, str):
        raise ValueError(f"Une durée doit être un texte ISO 8601 (par ex. P15D), pas {text!r}.")
    cleaned = text.strip()
    match = _DURATION.match(cleaned)
    if not match or cleaned in ("P", "-P") or cleaned.endswith("T"):
        raise ValueError(
            f"« {text} » n'est pas une durée ISO 8601 : écrivez par exemple P15D (15 jours), "
            "P6W (6 semaines), P2M (2 mois), PT2H (2 heures) ou -P6W (6 semaines avant)."
        )
    sign, years, months, weeks, days, hours, minutes, seconds = match.groups()
    return Duration(
        years=int(years or 0),
        months=int(months or 0),
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=_number(seconds),
        negative=bool(sign),
    )


def _number(text: str | None) -> float:
    if not text:
        return 0
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def parse_cycle(text: str) -> tuple[int, Duration]:
    """Read "R3/P7D" into (3, P7D); an unbounded "R/P7D" gives (-1, P7D)."""
    match = _CYCLE.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(
            f"« {text} » n'est pas un cycle ISO 8601 : écrivez par exemple R3/P7D (3 fois, tous les 7 jours) "
            "ou R/P1M (tous les mois, sans limite)."
        )
    count, interval = match.groups()
    duration = parse_duration(interval)
    if duration.negative or duration == Duration():
        raise ValueError(f"Le cycle « {text} » doit avoir un intervalle positif, par exemple R3/P7D.")
    if count and int(count) < 1:
        raise ValueError(f"Le cycle « {text} » doit se répéter au moins une fois (R1 ou plus).")
    return (int(count) if count else -1), duration


def parse_date_time(text: str) -> datetime | date:
    """Read an ISO 8601 date ("2026-01-31") or date-time ("2026-01-31T09:00:00Z"); ValueError otherwise."""
    cleaned = text.strip() if isinstance(text, str) else ""
    try:
        if "T" in cleaned or " " in cleaned:
            return datetime.fromisoformat(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(
            f"« {text} » n'est pas une date ISO 8601 : écrivez par exemple 2026-01-31 "
            "ou 2026-01-31T09:00:00Z."
        ) from None


@lru_cache(maxsize=64)
def _french_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.France(years=year))


def is_working_day(day: date) -> bool:
    """A French working day (jour ouvré): Monday to Friday, not a national public holiday."""
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def _add_working_days(start: date | datetime, count: int) -> date | datetime:
    step = timedelta(days=1 if count > 0 else -1)
    remaining = abs(count)
    current = start
    while remaining:
        current = current + step
        day = current.date() if isinstance(current, datetime) else current
        if is_working_day(day):
            remaining -= 1
    return current


def add_duration(
    start: datetime | date, duration: Duration | str, calendar: str = "calendar"
) -> datetime | date:
    """Add (or, for "-P6W", subtract) a duration to a date or an aware datetime; returns the same type.

    Raises ValueError (French) for an unknown calendar, a time part added to a plain date, or a result
    outside the supported range of dates.
    """
    if isinstance(duration, str):
        duration = parse_duration(duration)
    if calendar not in CALENDARS:
        raise ValueError(f"Calendrier « {calendar} » inconnu : utilisez « calendar » ou « business ».")
    if not isinstance(start, date):
        raise ValueError(f"On ne peut ajouter une durée qu'à une date, pas à {start!r}.")
    if duration.has_time and not isinstance(start, datetime):
        raise ValueError(
            f"La durée {duration} comporte des heures : elle ne peut s'ajouter qu'à une date avec heure."
        )
    sign = -1 if duration.negative else 1
    working_days = duration.weeks * 5 + duration.days
    if calendar == "business" and working_days > MAX_BUSINESS_DAYS:
        raise ValueError(f"La durée {duration} compte trop de jours ouvrés (au plus {MAX_BUSINESS_DAYS}).")
    try:
        result = start + relativedelta(years=sign * duration.years, months=sign * duration.months)
        if calendar == "business":
            result = _add_working_days(result, sign * working_days)
        else:
            result = result + relativedelta(days=sign * (duration.weeks * 7 + duration.days))
        if duration.has_time:
            result = result + sign * timedelta(
                hours=duration.hours, minutes=duration.minutes, seconds=duration.seconds
            )
    except (OverflowError, ValueError):
        # date arithmetic past year 9999 (or before year 1) raises either, with an English message
        raise ValueError(f"La durée {duration} mène en dehors des dates possibles.") from None
    return result
