"""Typed values of dossier fields and event fields: what a person types, read the way a French user writes
it, and stored as plain JSON the expression language understands.

| type      | accepted input                                  | stored as             |
|-----------|-------------------------------------------------|-----------------------|
| `date`    | `15/03/2027`, `15-03-2027`, `15.03.27`, `2027-03-15`, a date | `"2027-03-15"` |
| `amount`  | `1 200,50`, `1200.5 €`, `1.200,50`, `-35`, a number | `1200.5` (2 decimals at most) |
| `number`  | `12`, `2,5`, `1 000`, a number                   | `12`, `2.5`           |
| `text`    | any text                                        | the text, trimmed     |
| `choice`  | an option's key or its label                    | the option's key      |
| `boolean` | oui/non, vrai/faux, yes/no, true/false, 1/0, on | `true` / `false`      |

An empty input is `None` (the field is cleared). Anything else is refused with `InvalidValue`, which names
the field and says what to type: a value is never stored in a form the runtime cannot use."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from kernel.errors import RuleBroken

TYPES = ("date", "amount", "number", "text", "choice", "boolean")
TEXT_LIMIT = 2000
# Amounts and numbers stay below a thousand billion: what a dossier holds, and what a float keeps exactly to
# the cent (beyond, rounding to 2 decimals fails and the stored number would not be the one typed).
NUMBER_LIMIT = Decimal(10) ** 12


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    label_en: str | None = None


@dataclass(frozen=True)
class FieldType:
    """What `parse` needs to know of a field: its key and label (for messages), its type and options."""

    key: str
    label: str
    type: str
    choices: tuple[Choice, ...] = field(default=())


class InvalidValue(RuleBroken):
    def __init__(self, spec: FieldType, message: str):
        super().__init__(f"« {spec.label} » : {message}", code="invalid_value", field=spec.key)


def parse(spec: FieldType, raw):
    """The stored form of `raw` typed into the field `spec`, or None when nothing was typed."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    parser = _PARSERS.get(spec.type)
    if parser is None:
        raise InvalidValue(spec, f"type inconnu « {spec.type} ».")
    return parser(spec, raw)


def _date(spec: FieldType, raw) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    hint = "attendu une date, par exemple 15/03/2027."
    if not isinstance(raw, str):
        raise InvalidValue(spec, hint)
    text = raw.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", text)
    french = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})", text)
    if iso:
        year, month, day = (int(g) for g in iso.groups()[:3])
    elif french:
        day, month, year = (int(g) for g in french.groups())
        if year < 100:
            year += 2000
    else:
        raise InvalidValue(spec, hint)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise InvalidValue(spec, f"le {day:02d}/{month:02d}/{year} n'existe pas.") from None


def _decimal(spec: FieldType, raw, *, money: bool) -> Decimal:
    what = "un montant, par exemple 1 200,50" if money else "un nombre, par exemple 12 ou 2,5"
    if isinstance(raw, bool):
        raise InvalidValue(spec, f"attendu {what}.")
    if isinstance(raw, int | float):
        return _bounded(spec, Decimal(str(raw)), what)
    if not isinstance(raw, str):
        raise InvalidValue(spec, f"attendu {what}.")
    text = re.sub(r"[\s\u00a0\u202f']", "", raw)
    if money:
        text = re.sub(r"(?i)(€|eur|euros?)$", "", text)
        text = re.sub(r"^(€)", "", text)
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        text = text.replace(thousands, "").replace(decimal_mark, ".")
    elif "," in text:
        if text.count(",") > 1:
            raise InvalidValue(spec, f"attendu {what}.")
        text = text.replace(",", ".")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise InvalidValue(spec, f"« {raw} » n'est pas {what}.")
    try:
        return _bounded(spec, Decimal(text), what)
    except InvalidOperation:
        raise InvalidValue(spec, f"« {raw} » n'est pas {what}.") from None


def _bounded(spec: FieldType, value: Decimal, what: str) -> Decimal:
    if not value.is_finite():
        raise InvalidValue(spec, f"attendu {what}.")
    if abs(value) >= NUMBER_LIMIT:
        raise InvalidValue(spec, "nombre trop grand (moins de mille milliards).")
    return value


def _amount(spec: FieldType, raw) -> float:
    value = _decimal(spec, raw, money=True)
    if value != value.quantize(Decimal("0.01")):
        raise InvalidValue(spec, "deux décimales au plus (les centimes).")
    return float(value.quantize(Decimal("0.01")))


def _number(spec: FieldType, raw) -> int | float:
    value = _decimal(spec, raw, money=False)
    return int(value) if value == value.to_integral_value() else float(value)


def _text(spec: FieldType, raw) -> str:
    text = str(raw).strip()
    if len(text) > TEXT_LIMIT:
        raise InvalidValue(spec, f"{len(text)} caractères, {TEXT_LIMIT} au plus.")
    return text


def _choice(spec: FieldType, raw) -> str:
    text = str(raw).strip()
    for choice in spec.choices:
        if text == choice.key or text.casefold() in {
            choice.label.casefold(),
            (choice.label_en or "").casefold(),
        }:
            return choice.key
    offered = ", ".join(f"« {c.label} »" for c in spec.choices) or "aucun choix n'est défini"
    raise InvalidValue(spec, f"« {text} » n'est pas un des choix ({offered}).")


_TRUE = {"true", "oui", "vrai", "yes", "1", "on", "o", "y"}
_FALSE = {"false", "non", "faux", "no", "0", "off", "n"}


def _boolean(spec: FieldType, raw) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValue(spec, "attendu oui ou non.")


_PARSERS = {
    "date": _date,
    "amount": _amount,
    "number": _number,
    "text": _text,
    "choice": _choice,
    "boolean": _boolean,
}


def display(spec: FieldType, value, lang: str = "fr") -> str:
    """A stored value as people read it: `15/03/2027`, `1 200,50 €`, `Oui`, an option's label."""
    if value is None or value == "":
        return "—"
    try:
        if spec.type == "date":
            day = date.fromisoformat(str(value)[:10])
            return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()
        if spec.type == "amount":
            return _grouped(Decimal(str(value)).quantize(Decimal("0.01")), lang) + " €"
        if spec.type == "number":
            return _grouped(Decimal(str(value)), lang)
        if spec.type == "boolean":
            yes = value is True or str(value).casefold() in _TRUE
            return ("Oui" if yes else "Non") if lang == "fr" else ("Yes" if yes else "No")
        if spec.type == "choice":
            for choice in spec.choices:
                if choice.key == value:
                    return (choice.label_en or choice.label) if lang == "en" else choice.label
    except (ValueError, InvalidOperation):
        pass
    return str(value)


def _grouped(value: Decimal, lang: str) -> str:
    text = f"{value:,}"
    if lang == "fr":
        return text.replace(",", "\u202f").replace(".", ",")
    return text
