"""ISO 8601 durations and legal calendars.

Delays in the law are written in days, weeks and months ("deux mois", "six semaines", "15 jours ouvrés").
Months are added the way a lawyer counts them: 31 January + 1 month = 28 (or 29) February, never
3 March. Days are counted on Paris dates (Europe/Paris), whatever the time zone of the start, so a night
of daylight-saving change or an instant just after midnight in Paris (still the day before in UTC) moves
nothing. Three calendars:

- "calendar": calendar days.
- "business": the day and week parts count working days (jours ouvrés): Saturdays, Sundays and the public
  holidays of the dossier's place are skipped; a week counts as five working days.
- "legal" (délai de procédure, code de procédure civile): calendar days, the starting day not counted
  (art. 641), and a delay that would end on a Saturday, a Sunday or a public holiday is extended to the
  next working day (art. 642). A delay counted backwards ("-P6W": six weeks before the hearing) is not
  extended: it is brought forward to the working day before, the act having to be done in time.

Years and months are applied first, then days, then the time part. A delay without a time part is a number
of days: `deadline` gives its last day, the instant it is due (the end of that day) or the instant a timer
fires (the start of the next day), and a sentence saying how it was counted, from the same computation.
The public holidays of a place come from `holidays_for(département)` and are passed in, never looked up.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

PARIS = ZoneInfo("Europe/Paris")
CALENDARS = ("calendar", "business", "legal")
# Named periods of the legal calendar a due date or a timer may be kept out of (seq:notDuring).
PERIODS = ("treve_hivernale",)

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


# Départements whose public holidays differ from metropolitan France, and their subdivision in `holidays`:
# Alsace-Moselle keeps Good Friday and 26 December; each overseas department has its own days.
_SUBDIVISIONS = {
    "57": "57", "67": "6AE", "68": "6AE",
    "971": "971", "972": "972", "973": "973", "974": "974", "976": "976",
}  # fmt: skip
_PLACES = {
    None: ("France métropolitaine", "metropolitan France"),
    "57": ("Moselle", "Moselle"),
    "6AE": ("Alsace", "Alsace"),
    "971": ("Guadeloupe", "Guadeloupe"),
    "972": ("Martinique", "Martinique"),
    "973": ("Guyane", "French Guiana"),
    "974": ("La Réunion", "Réunion"),
    "976": ("Mayotte", "Mayotte"),
}


@dataclass(frozen=True)
class Holidays:
    """The public holidays of one place: metropolitan France (no subdivision) or a `holidays` subdivision."""

    subdivision: str | None = None

    def name(self, day: date, lang: str = "fr") -> str | None:
        return _holidays(self.subdivision, day.year, lang).get(day)

    def place(self, lang: str = "fr") -> str:
        return _PLACES[self.subdivision][0 if lang == "fr" else 1]


METROPOLE = Holidays()


def holidays_for(departement: str | None) -> Holidays:
    """The holidays of a département ("57", "971"...); any other or none: metropolitan France."""
    return Holidays(_SUBDIVISIONS.get((departement or "").strip().upper()))


@lru_cache(maxsize=256)
def _holidays(subdivision: str | None, year: int, lang: str) -> dict[date, str]:
    language = "fr" if lang == "fr" else "en_US"
    return dict(holidays.France(years=year, subdiv=subdivision, language=language))


def is_working_day(day: date, holidays_of: Holidays = METROPOLE) -> bool:
    """A French working day (jour ouvré): Monday to Friday, not a public holiday of the place."""
    return day.weekday() < 5 and holidays_of.name(day) is None


def _add_working_days(start: date, count: int, holidays_of: Holidays) -> date:
    step = timedelta(days=1 if count > 0 else -1)
    remaining = abs(count)
    current = start
    while remaining:
        current = current + step
        if is_working_day(current, holidays_of):
            remaining -= 1
    return current


# --- The winter truce (trêve hivernale): no eviction from 1 November to 31 March, both included ---------


def in_truce(day: date) -> bool:
    return day.month >= 11 or day.month <= 3


def after_truce(day: date) -> date:
    """The first day from `day` on that is not in the winter truce: `day` itself outside it, else 1 April."""
    if not in_truce(day):
        return day
    return date(day.year + (1 if day.month >= 11 else 0), 4, 1)


# --- Deadlines ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A delay counted from an instant. `day`: its last day (None for a delay with a time part, counted
    exactly); `due_at`: when an action is due (the end of that day, UTC); `fires_at`: when a timer fires (the
    start of the next day, UTC); `note`: how it was counted, {"fr": ..., "en": ...}."""

    day: date | None
    due_at: datetime
    fires_at: datetime
    note: dict[str, str] = field(default_factory=dict)


def paris_day(moment: datetime) -> date:
    """The Paris date a delay starting at `moment` counts from. A delay starting at midnight starts from the
    day that just ended, so a timer fired at the start of a day and set again (R/P1M) does not drift."""
    local = moment.astimezone(PARIS)
    if local.time() == time(0):
        return local.date() - timedelta(days=1)
    return local.date()


def start_of(day: date) -> datetime:
    """Midnight in Paris at the start of `day`, in UTC (23:00 or 22:00 the day before)."""
    return datetime.combine(day, time(0), PARIS).astimezone(UTC)


def end_of(day: date) -> datetime:
    """The last second of `day` in Paris, in UTC: when a due date expires."""
    return datetime.combine(day, time(23, 59, 59), PARIS).astimezone(UTC)


def count_days(
    start: date, duration: Duration | str, calendar: str = "calendar", holidays_of: Holidays = METROPOLE
) -> tuple[date, list[tuple[str, str]]]:
    """The last day of a delay of whole days counted from `start` (not counted), and the steps that moved
    it, as (French, English) sentences. Raises ValueError (French) as add_duration does."""
    duration = _checked(duration, calendar)
    if duration.has_time:
        raise ValueError(f"La durée {duration} comporte des heures : elle ne se compte pas en jours.")
    sign = -1 if duration.negative else 1
    steps: list[tuple[str, str]] = []
    try:
        day = start + relativedelta(years=sign * duration.years, months=sign * duration.months)
        if calendar == "business":
            day = _add_working_days(day, sign * (duration.weeks * 5 + duration.days), holidays_of)
        else:
            day = day + timedelta(days=sign * (duration.weeks * 7 + duration.days))
        if calendar == "legal":
            reached = day
            while not is_working_day(day, holidays_of):
                day = day + timedelta(days=sign)
            if day != reached:
                steps.append(_moved(reached, day, sign, holidays_of))
    except (OverflowError, ValueError):
        # date arithmetic past year 9999 (or before year 1) raises either, with an English message
        raise ValueError(f"La durée {duration} mène en dehors des dates possibles.") from None
    return day, steps


def deadline(
    start: datetime,
    duration: Duration | str,
    calendar: str = "calendar",
    holidays_of: Holidays = METROPOLE,
    not_during: str | None = None,
) -> Deadline:
    """The deadline of a delay counted from the aware instant `start`, with how it was counted.

    A delay with a time part (PT2S, P1DT12H) is exact: days on the Paris wall clock, then the time; it is
    due and fires at that instant. Any other delay ends at the end of its last day (Paris). `not_during`
    ("treve_hivernale") moves a deadline that falls in that period to the first day after it."""
    duration = _checked(duration, calendar)
    if duration.has_time:
        at = add_duration(start, duration, calendar, holidays_of)
        assert isinstance(at, datetime)
        at = at.astimezone(UTC)
        return Deadline(None, at, at, _exact_note(start, duration, at))
    first = paris_day(start)
    day, steps = count_days(first, duration, calendar, holidays_of)
    fires = day + timedelta(days=1)
    if not_during is not None:
        _check_period(not_during)
        if in_truce(day):
            moved = after_truce(day)
            steps.append(_truce_step(day, moved))
            day = moved
        if in_truce(fires):
            fires = after_truce(fires)
    note = _day_note(first, duration, calendar, day, steps, holidays_of)
    return Deadline(day, end_of(day), start_of(fires), note)


def add_duration(
    start: datetime | date,
    duration: Duration | str,
    calendar: str = "calendar",
    holidays_of: Holidays = METROPOLE,
) -> datetime | date:
    """Add (or, for "-P6W", subtract) a duration to a date or an aware datetime; returns the same type.

    Days are counted on the Paris date of a datetime, whose Paris wall-clock time is kept; with the legal
    calendar a datetime gives the instant the delay has run out (the start of the day after its last day).
    Raises ValueError (French) for an unknown calendar, a time part added to a plain date, or a result
    outside the supported range of dates.
    """
    duration = _checked(duration, calendar)
    if not isinstance(start, date):
        raise ValueError(f"On ne peut ajouter une durée qu'à une date, pas à {start!r}.")
    if not isinstance(start, datetime):
        if duration.has_time:
            raise ValueError(
                f"La durée {duration} comporte des heures : elle ne peut s'ajouter qu'à une date avec heure."
            )
        return count_days(start, duration, calendar, holidays_of)[0]
    if start.tzinfo is None:
        raise ValueError(f"La date {start.isoformat()} n'a pas de fuseau horaire.")
    sign = -1 if duration.negative else 1
    days = Duration(duration.years, duration.months, duration.weeks, duration.days, negative=sign < 0)
    local = start.astimezone(PARIS)
    try:
        if calendar == "legal" and not duration.has_time:
            day = count_days(local.date(), days, calendar, holidays_of)[0]
            return start_of(day + timedelta(days=1)).astimezone(start.tzinfo)
        # a delay with a time part is exact: it is not extended to a working day
        day = count_days(local.date(), days, "calendar" if calendar == "legal" else calendar, holidays_of)[0]
        result = datetime.combine(day, local.time(), PARIS).astimezone(UTC)
        # a time part is exact: two hours are two hours, even across a change of clock
        result += sign * timedelta(hours=duration.hours, minutes=duration.minutes, seconds=duration.seconds)
        return result.astimezone(start.tzinfo)
    except (OverflowError, ValueError):
        raise ValueError(f"La durée {duration} mène en dehors des dates possibles.") from None


def _checked(duration: Duration | str, calendar: str) -> Duration:
    if isinstance(duration, str):
        duration = parse_duration(duration)
    if calendar not in CALENDARS:
        raise ValueError(
            f"Calendrier « {calendar} » inconnu : utilisez « calendar », « business » ou « legal »."
        )
    if calendar == "business" and duration.weeks * 5 + duration.days > MAX_BUSINESS_DAYS:
        raise ValueError(f"La durée {duration} compte trop de jours ouvrés (au plus {MAX_BUSINESS_DAYS}).")
    return duration


def _check_period(name: str) -> None:
    if name not in PERIODS:
        raise ValueError(f"Période « {name} » inconnue : utilisez « treve_hivernale ».")


# --- Explanations, in French and English ---------------------------------------------------------------

_WEEKDAYS = (
    ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
)
_MONTHS = (
    ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
     "novembre", "décembre"),
    ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"),
)  # fmt: skip
_UNITS = (
    (("an", "ans"), ("mois", "mois"), ("semaine", "semaines"), ("jour", "jours"), ("heure", "heures"),
     ("minute", "minutes"), ("seconde", "secondes")),
    (("year", "years"), ("month", "months"), ("week", "weeks"), ("day", "days"), ("hour", "hours"),
     ("minute", "minutes"), ("second", "seconds")),
)  # fmt: skip


def format_day(day: date, lang: str = "fr", weekday: bool = False) -> str:
    """Like "vendredi 8 janvier 2027" / "Friday 8 January 2027"."""
    i = 0 if lang == "fr" else 1
    number = "1er" if day.day == 1 and i == 0 else str(day.day)
    text = f"{number} {_MONTHS[i][day.month - 1]} {day.year}"
    return f"{_WEEKDAYS[i][day.weekday()]} {text}" if weekday else text


def describe_duration(duration: Duration, calendar: str = "calendar", lang: str = "fr") -> str:
    """In words, without its sign: "2 mois et 15 jours", "15 jours ouvrés", "2 seconds"..."""
    i = 0 if lang == "fr" else 1
    values = (duration.years, duration.months, duration.weeks, duration.days, duration.hours,
              duration.minutes, duration.seconds)  # fmt: skip
    parts = []
    for n, (value, (one, many)) in enumerate(zip(values, _UNITS[i], strict=True)):
        if not value:
            continue
        word = one if value == 1 else many
        if calendar == "business" and n in (2, 3) and i == 0:
            word += (" ouvrée" if n == 2 else " ouvré") + ("" if value == 1 else "s")
        elif calendar == "business" and n in (2, 3):
            word = "working " + word
        parts.append(f"{value} {word}")
    if not parts:
        return "0 jour" if i == 0 else "0 days"
    joiner = " et " if i == 0 else " and "
    return ", ".join(parts[:-1]) + joiner + parts[-1] if len(parts) > 1 else parts[0]


def _moved(reached: date, day: date, sign: int, holidays_of: Holidays) -> tuple[str, str]:
    def why(lang: str) -> str:
        name = holidays_of.name(reached, lang)
        return f" ({name})" if name else ""

    if sign > 0:
        return (
            f"prorogé du {format_day(reached, 'fr', True)}{why('fr')} au {format_day(day, 'fr', True)} — "
            "art. 642 CPC",
            f"extended from {format_day(reached, 'en', True)}{why('en')} to {format_day(day, 'en', True)} — "
            "art. 642 CPC",
        )
    return (
        f"avancé du {format_day(reached, 'fr', True)}{why('fr')} au {format_day(day, 'fr', True)} "
        "(un délai compté à rebours n'est pas prorogé)",
        f"brought forward from {format_day(reached, 'en', True)}{why('en')} to "
        f"{format_day(day, 'en', True)} (a delay counted backwards is not extended)",
    )


def _truce_step(day: date, moved: date) -> tuple[str, str]:
    return (
        f"reporté du {format_day(day, 'fr', True)} au {format_day(moved, 'fr', True)}, après la trêve "
        "hivernale (1er novembre – 31 mars)",
        f"postponed from {format_day(day, 'en', True)} to {format_day(moved, 'en', True)}, after the winter "
        "truce (1 November – 31 March)",
    )


_WORDS = {
    "fr": {"from": "à compter du", "before": "avant le", "after": "après le", "on": " : ",
           "start": " (jour de départ non compté, art. 641 CPC)", "holidays": " ; jours fériés : "},
    "en": {"from": "from", "before": "before", "after": "after", "on": ": ",
           "start": " (the starting day not counted, art. 641 CPC)", "holidays": "; public holidays: "},
}  # fmt: skip


def _day_note(
    first: date, duration: Duration, calendar: str, day: date, steps: list, holidays_of: Holidays
) -> dict[str, str]:
    note = {}
    for i, lang in enumerate(("fr", "en")):
        words = _WORDS[lang]
        way = words["before" if duration.negative else "from"]
        text = f"{describe_duration(duration, calendar, lang)} {way} {format_day(first, lang)}"
        if steps:
            text += ", " + ", ".join(step[i] for step in steps)
        else:
            text += words["on"] + format_day(day, lang, True)
            if calendar == "legal" and not duration.negative:
                text += words["start"]
        if calendar != "calendar" and holidays_of != METROPOLE:
            text += words["holidays"] + holidays_of.place(lang)
        note[lang] = text
    return note


def _exact_note(start: datetime, duration: Duration, at: datetime) -> dict[str, str]:
    begin, end = start.astimezone(PARIS), at.astimezone(PARIS)
    note = {}
    for lang in ("fr", "en"):
        words = _WORDS[lang]
        note[lang] = (
            f"{describe_duration(duration, lang=lang)} {words['before' if duration.negative else 'after']} "
            f"{format_day(begin.date(), lang)} {begin:%H:%M:%S}{words['on']}{format_day(end.date(), lang)} "
            f"{end:%H:%M:%S}"
        )
    return note


def date_note(moment: datetime) -> dict[str, str]:
    """The note of a timer at a date the diagram gives (a date alone: the start of that day, in Paris)."""
    local = moment.astimezone(PARIS)
    return {
        "fr": f"date indiquée par la séquence : {format_day(local.date(), 'fr', True)} à {local:%H:%M}",
        "en": f"date given by the sequence: {format_day(local.date(), 'en', True)} at {local:%H:%M}",
    }
