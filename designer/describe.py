"""An expression said in the dictionary's words, for people who never read `dossier.x == True`:

    outcome == "paid"                            → Résultat : Payé
    outcome in ["promise", "partial"]            → Résultat : Promesse ou Paiement partiel
    dossier.has_guarantor == True                → Caution : Oui
    dossier.hearing_date == None                 → Sans date d'audience
    dossier.balance >= 2 * dossier.monthly_rent  → Solde dû ≥ 2 × Loyer mensuel
    in_truce(now())                              → pendant la trêve hivernale

The expression is read with the engine's own parser (bpmn.expressions.parse, which refuses what the
sandbox refuses) and walked here: never evaluated. What cannot be said in words comes back as a short
generic sentence, never as the raw expression."""

import ast
from dataclasses import dataclass
from typing import Any

from bpmn.durations import describe_duration, parse_duration
from bpmn.expressions import ExpressionError, parse

from .dictionary import Dictionary, Field, humanize
from .values import display

_WORDS = {
    "fr": {
        "outcome": "Résultat",
        "status": "Statut",
        "of": "de « {name} »",
        "and": " et ",
        "or": " ou ",
        "not": "non ({text})",
        "set": "Avec {lower}",
        "unset": "Sans {lower}",
        "other": "{label} autre que {value}",
        "none": "vide",
        "yes": "Oui",
        "no": "Non",
        "always": "toujours",
        "never": "jamais",
        "today": "aujourd'hui",
        "in_truce": "pendant la trêve hivernale",
        "in_truce_of": "{day} pendant la trêve hivernale",
        "after_truce": "fin de la trêve hivernale après {day}",
        "after": "{start} + {delay}",
        "before": "{delay} avant {start}",
        "days": "{n} jours",
        "rule": "selon une règle",
        "in": "{label} : {values}",
        "not_in": "{label} ni {values}",
    },
    "en": {
        "outcome": "Outcome",
        "status": "Status",
        "of": "of “{name}”",
        "and": " and ",
        "or": " or ",
        "not": "not ({text})",
        "set": "With {lower}",
        "unset": "No {lower}",
        "other": "{label} other than {value}",
        "none": "empty",
        "yes": "Yes",
        "no": "No",
        "always": "always",
        "never": "never",
        "today": "today",
        "in_truce": "during the winter truce",
        "in_truce_of": "{day} during the winter truce",
        "after_truce": "end of the winter truce after {day}",
        "after": "{start} + {delay}",
        "before": "{delay} before {start}",
        "days": "{n} days",
        "rule": "by a rule",
        "in": "{label}: {values}",
        "not_in": "{label} neither {values}",
    },
}
STATUSES = {
    "fr": {"done": "Fait", "validated": "Validé", "cancelled": "Annulé", "skipped": "Sauté",
           "failed": "Échec", "open": "À faire"},
    "en": {"done": "Done", "validated": "Validated", "cancelled": "Cancelled", "skipped": "Skipped",
           "failed": "Failed", "open": "To do"},
}  # fmt: skip
_COMPARE = {ast.Eq: "=", ast.NotEq: "≠", ast.Lt: "<", ast.LtE: "≤", ast.Gt: ">", ast.GtE: "≥", ast.Is: "=",
            ast.IsNot: "≠"}  # fmt: skip
_ARITHMETIC = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷", ast.Mod: "mod", ast.FloorDiv: "÷"}


@dataclass(frozen=True)
class Subject:
    """What a name in the expression stands for: its label, and how its values are said."""

    label: str
    kind: str  # field, outcome, status, other
    field: Field | None = None


def describe(
    text: str | None, dictionary: Dictionary, lang: str = "fr", names: dict[str, str] | None = None
) -> str:
    """`text` in words. `names`: element id → name, for `actions["Serve"].outcome`."""
    lang = lang if lang in _WORDS else "fr"
    if not text or not text.strip():
        return ""
    try:
        tree = parse(text)
    except ExpressionError:
        return _WORDS[lang]["rule"]
    try:
        return _Describer(dictionary, lang, names or {}).sentence(tree.body)
    except _Unsaid:
        return _WORDS[lang]["rule"]


class _Unsaid(Exception):
    pass


class _Describer:
    def __init__(self, dictionary: Dictionary, lang: str, names: dict[str, str]):
        self.dictionary = dictionary
        self.lang = lang
        self.words = _WORDS[lang]
        self.names = names

    # ---- conditions

    def sentence(self, node: ast.AST) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = self.words["and"] if isinstance(node.op, ast.And) else self.words["or"]
            parts = []
            for value in node.values:
                part = self.sentence(value)
                if isinstance(value, ast.BoolOp) and type(value.op) is not type(node.op):
                    part = f"({part})"
                parts.append(part)
            return joiner.join(parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            subject = self.subject(node.operand)
            if subject is not None:
                return self._truth(subject, False)
            return self.words["not"].format(text=self.sentence(node.operand))
        if isinstance(node, ast.Compare):
            return self.comparison(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return self.words["always"] if node.value else self.words["never"]
        subject = self.subject(node)
        if subject is not None:
            return self._truth(subject, True)
        return self.operand(node)

    def _truth(self, subject: Subject, holds: bool) -> str:
        if subject.field is not None and subject.field.type == "boolean":
            return f"{subject.label}{self._colon()}{self.words['yes'] if holds else self.words['no']}"
        return self.words["set" if holds else "unset"].format(lower=_lower(subject.label))

    def _colon(self) -> str:
        return " : " if self.lang == "fr" else ": "

    def comparison(self, node: ast.Compare) -> str:
        parts = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            parts.append(self._pair(left, op, right))
            left = right
        return self.words["and"].join(parts)

    def _pair(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> str:
        subject = self.subject(left)
        if subject is None and self.subject(right) is not None and isinstance(left, ast.Constant):
            left, right = right, left
            op = _MIRROR.get(type(op), type(op))()
            subject = self.subject(left)
        if subject is not None and isinstance(right, ast.Constant):
            value = right.value
            if value is None and isinstance(op, ast.Eq | ast.Is):
                return self.words["unset"].format(lower=_lower(subject.label))
            if value is None and isinstance(op, ast.NotEq | ast.IsNot):
                return self.words["set"].format(lower=_lower(subject.label))
            if isinstance(value, bool) and isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot):
                holds = value == isinstance(op, ast.Eq | ast.Is)
                return f"{subject.label}{self._colon()}{self.words['yes'] if holds else self.words['no']}"
            if isinstance(op, ast.Eq):
                return f"{subject.label}{self._colon()}{self.value(subject, value)}"
            if isinstance(op, ast.NotEq):
                return self.words["other"].format(label=subject.label, value=self.value(subject, value))
        if (
            subject is not None
            and isinstance(op, ast.In | ast.NotIn)
            and isinstance(right, ast.List | ast.Tuple)
        ):
            values = [
                self.value(subject, e.value) if isinstance(e, ast.Constant) else self.operand(e)
                for e in right.elts
            ]
            if isinstance(op, ast.In):
                return self.words["in"].format(label=subject.label, values=self.words["or"].join(values))
            return self.words["not_in"].format(label=subject.label, values=self.words["or"].join(values))
        if type(op) in _COMPARE:
            return f"{self.operand(left)} {_COMPARE[type(op)]} {self.operand(right, subject)}"
        raise _Unsaid

    # ---- what names stand for

    def subject(self, node: ast.AST) -> Subject | None:
        if isinstance(node, ast.Name) and node.id == "outcome":
            return Subject(self.words["outcome"], "outcome")
        if isinstance(node, ast.Name) and node.id == "status":
            return Subject(self.words["status"], "status")
        key = _key(node)
        if key is None:
            return None
        base, name, attribute = key
        if base == "dossier":
            field = self.dictionary.fields.get(name)
            return Subject(self.dictionary.label("fields", name, self.lang), "field", field)
        if base == "event":
            for event in self.dictionary.events.values():
                for field in event.fields:
                    if field.key == name:
                        label = (field.label_en or field.label) if self.lang == "en" else field.label
                        return Subject(label, "field", field)
            return Subject(humanize(name), "field")
        if base == "actions" and attribute in ("outcome", "status"):
            of = self.words["of"].format(name=self.names.get(name) or humanize(name))
            return Subject(f"{self.words[attribute]} {of}", attribute)
        return None

    def value(self, subject: Subject, value: Any) -> str:
        if subject.kind == "outcome" and isinstance(value, str):
            return self.dictionary.label("outcomes", value, self.lang)
        if subject.kind == "status" and isinstance(value, str):
            return STATUSES[self.lang].get(value, humanize(value))
        if subject.field is not None and value is not None:
            return display(subject.field, value, self.lang)
        return self.constant(value)

    def constant(self, value: Any) -> str:
        if value is None:
            return self.words["none"]
        if isinstance(value, bool):
            return self.words["yes"] if value else self.words["no"]
        if isinstance(value, int | float):
            text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")
            return text.replace(",", "\u202f").replace(".", ",") if self.lang == "fr" else text
        return f"« {value} »" if self.lang == "fr" else f"“{value}”"

    def operand(self, node: ast.AST, subject: Subject | None = None) -> str:
        found = self.subject(node)
        if found is not None:
            return found.label
        if isinstance(node, ast.Constant):
            return self.value(subject, node.value) if subject is not None else self.constant(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return f"{self._inner(node.left)} {_ARITHMETIC[type(node.op)]} {self._inner(node.right)}"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return f"−{self._inner(node.operand)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return self.call(node.func.id, node.args, {k.arg: k.value for k in node.keywords})
        raise _Unsaid

    def _inner(self, node: ast.AST) -> str:
        text = self.operand(node)
        return f"({text})" if isinstance(node, ast.BinOp) else text

    def call(self, name: str, args: list[ast.AST], keywords: dict[str, ast.AST]) -> str:
        if name == "now":
            return self.words["today"]
        if name == "in_truce":
            day = self.operand(args[0])
            return (
                self.words["in_truce"]
                if day == self.words["today"]
                else self.words["in_truce_of"].format(day=day)
            )
        if name == "after_truce":
            return self.words["after_truce"].format(day=self.operand(args[0]))
        if name == "date":
            return self.operand(args[0])
        if name == "days" and isinstance(args[0], ast.Constant):
            return self.words["days"].format(n=self.constant(args[0].value))
        if name == "duration" and isinstance(args[0], ast.Constant):
            return self.delay(args[0].value, "calendar")[0]
        if name == "add_duration" and len(args) >= 2 and isinstance(args[1], ast.Constant):
            calendar_node = args[2] if len(args) > 2 else keywords.get("calendar")
            calendar = calendar_node.value if isinstance(calendar_node, ast.Constant) else "calendar"
            delay, negative = self.delay(args[1].value, calendar)
            start = self.operand(args[0])
            return self.words["before" if negative else "after"].format(start=start, delay=delay)
        raise _Unsaid

    def delay(self, text: Any, calendar: str) -> tuple[str, bool]:
        try:
            parsed = parse_duration(str(text))
        except ValueError:
            raise _Unsaid from None
        return describe_duration(
            parsed, calendar if calendar != "legal" else "calendar", self.lang
        ), parsed.negative


_MIRROR = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def _key(node: ast.AST) -> tuple[str, str, str | None] | None:
    """`dossier.x` / `dossier["x"]` → ("dossier", "x", None); `actions["T"].outcome` → ("actions", "T",
    "outcome"); `event.x` → ("event", "x", None)."""
    attribute = None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Subscript):
        attribute, node = node.attr, node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.value.id, node.attr, attribute
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.value.id, node.slice.value, attribute
    return None


def _lower(label: str) -> str:
    """ "Date d'audience" → "date d'audience", to follow "Sans"; "CAF" stays "CAF"."""
    if len(label) > 1 and label[1].isupper():
        return label
    return label[:1].lower() + label[1:]
