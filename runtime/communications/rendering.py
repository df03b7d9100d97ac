"""Rendering templates in a sandbox: analysts write them, so they are untrusted code.

ImmutableSandboxedEnvironment refuses underscore attributes (`''.__class__`), unsafe callables and every
method that changes a list or dict; the default globals (`cycler`, `joiner`, `namespace`, `lipsum`, `range`,
`dict`) are removed, so a template sees only the variables given to it and two filters. StrictUndefined
turns a misspelt variable into an error, which `check_template` raises when the template is saved, by
rendering it against a sample dossier. Data fields differ from dossier to dossier, so they are read under
`dossier.data` (any name passes the check); a field missing from the dossier when the communication is
queued fails that communication with the line, and the action with it.
"""

import traceback
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_OUTPUT = 200_000  # characters one rendered field may have
MAX_REPEAT = 10_000  # `"x" * n`: longer results are refused

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
NBSP = "\u00a0"  # kept in Windows-1252, so letters can print it


class RenderError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Sample:
    """Stands for a dossier data field when a template is checked at save time: data fields differ from
    dossier to dossier, so any name is accepted, and the filters accept it too."""

    name: str

    def __str__(self) -> str:
        return f"[{self.name}]"

    def __getattr__(self, name: str) -> "Sample":
        if name.startswith("_"):
            raise AttributeError(name)
        return Sample(f"{self.name}.{name}")

    def __getitem__(self, name) -> "Sample":
        return Sample(f"{self.name}.{name}")

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True

    def _compare(self, _other) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _compare


class SampleData(dict):
    """The sample dossier's data: every key exists."""

    def __missing__(self, key):
        if str(key).startswith("_"):
            raise KeyError(key)  # refused, as attributes are
        return Sample(str(key))


def _defined(value: Any) -> None:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()  # the missing name, not "date expected"


def date_fr(value: Any, style: str = "long") -> str:
    """`2 mars 2026` (long) or `02/03/2026` (short); accepts dates, datetimes and ISO strings."""
    _defined(value)
    if isinstance(value, Sample):
        return str(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip()) if "T" in value or " " in value.strip() \
                else date.fromisoformat(value.strip())
        except ValueError as error:
            raise ValueError(f"« {value} » n'est pas une date (AAAA-MM-JJ attendu)") from error
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValueError(f"date_fr attend une date, pas {type(value).__name__}")
    if style == "short":
        return value.strftime("%d/%m/%Y")
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def money(value: Any, currency: str = "€") -> str:
    """`1 234,56 €` (French grouping, two decimals)."""
    _defined(value)
    if isinstance(value, Sample):
        return str(value)
    if isinstance(value, bool):
        raise ValueError("money attend un montant")
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as error:
        raise ValueError(f"« {value} » n'est pas un montant") from error
    text = f"{amount:,.2f}".replace(",", NBSP).replace(".", ",")
    return f"{text}{NBSP}{currency}" if currency else text


class _Environment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("puissance trop grande")
        elif operator == "*":
            sized = left if isinstance(left, str | list | tuple) else right
            count = right if sized is left else left
            too_long = isinstance(count, int) and len(sized) * count > MAX_REPEAT
            if isinstance(sized, str | list | tuple) and too_long:
                raise SecurityError("résultat trop long")
        return super().call_binop(context, operator, left, right)


def _environment(autoescape: bool) -> _Environment:
    env = _Environment(undefined=StrictUndefined, autoescape=autoescape, keep_trailing_newline=True)
    env.globals.clear()
    env.filters["date_fr"] = date_fr
    env.filters["money"] = money
    return env


_TEXT = _environment(False)
_HTML = _environment(True)


def _line_of(error: BaseException) -> int | None:
    line = getattr(error, "lineno", None)
    if line:
        return line
    lines = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == "<template>"]
    return lines[-1] if lines else None


def _explain(error: BaseException) -> str:
    if isinstance(error, SecurityError):
        return f"opération interdite dans un modèle ({error})"
    if isinstance(error, TemplateSyntaxError):
        return f"erreur de syntaxe : {error.message}"
    if isinstance(error, TemplateError):
        return str(error.message or error)
    return f"{type(error).__name__}: {error}"


def render(source: str, context: dict, html: bool = False) -> str:
    """The rendered text; RenderError (French message, template line) for anything that goes wrong."""
    env = _HTML if html else _TEXT
    try:
        text = env.from_string(source).render(context)
    except RecursionError as error:
        raise RenderError("le modèle s'appelle lui-même sans fin") from error
    except Exception as error:  # noqa: BLE001 — a template can raise anything; all of it is the author's to fix
        raise RenderError(_explain(error), _line_of(error)) from error
    if len(text) > MAX_OUTPUT:
        raise RenderError(f"le texte produit dépasse {MAX_OUTPUT} caractères")
    return text


def sample_context(today: date) -> dict:
    """What a template is checked against when it is saved."""
    participant = {"name": "Jeanne Exemple", "email": "jeanne@example.test", "phone": "06 00 00 00 00",
                   "address": "1 rue de l'Exemple\n75000 Paris", "kind": "contact", "roles": ["locataire"]}
    return {
        "dossier": {"reference": "D-EXEMPLE", "title": "Dossier exemple", "data": SampleData()},
        "participant": participant, "recipient": participant,
        "run": {"id": 1, "sequence": "exemple", "version": 1,
                "started_at": datetime.combine(today, datetime.min.time())},
        "action": {"id": 1, "name": "Envoi", "element_id": "Send", "due_at": None},
        "today": today,
    }
