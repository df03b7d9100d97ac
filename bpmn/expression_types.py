"""What an expression reads of the dossier and of events, and the kind of value each part gives, read from
its syntax tree without running it: validation uses this to check `dossier.x` and `event.x` against the
dictionary's fields and their types ("a date compared with a number", `add_duration` of an amount).

Kinds are coarse on purpose: "date" (a date field, date(), add_duration()), "datetime" (now()), "number"
(amount and number fields, numeric literals), "text" (text and choice fields, string literals), "boolean",
"duration" (days(), duration()). None means "not known statically": nothing is said about it."""

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bpmn.expressions import ExpressionError, _parse, field_references

ROOTS = ("dossier", "event")
# Field types of the dictionary (designer/values.py TYPES) -> kinds of values in expressions.
KIND_OF_TYPE = {
    "date": "date",
    "amount": "number",
    "number": "number",
    "text": "text",
    "choice": "text",
    "boolean": "boolean",
}
_CALLS = {
    "date": "date",
    "now": "datetime",
    "days": "duration",
    "duration": "duration",
    "add_duration": "date",
    "after_truce": "date",
    "in_truce": "boolean",
}
# Functions whose first argument must be a date.
DATE_ARGUMENT = ("add_duration", "date", "in_truce", "after_truce")
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_DATES = {"date", "datetime"}


@dataclass(frozen=True)
class Reference:
    """`dossier.x` or `dossier["x"]` (root "dossier", key "x"), or the same on `event`."""

    root: str
    key: str

    def __str__(self) -> str:
        return f"{self.root}.{self.key}"


@dataclass(frozen=True)
class Mismatch:
    """A part of the expression whose kinds cannot work together; `what` says it in French."""

    what: str


def reference_of(node: ast.AST) -> Reference | None:
    if isinstance(node, ast.Attribute):
        base, key = node.value, node.attr
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        base, key = node.value, node.slice.value
    else:
        return None
    if isinstance(base, ast.Name) and base.id in ROOTS and isinstance(key, str):
        return Reference(base.id, key)
    return None


def _tree(text: str) -> ast.Expression | None:
    try:
        return _parse(text)
    except ExpressionError:
        return None


def references(text: str) -> list[Reference]:
    """Every `dossier.x` / `event.x` the expression reads, once each; [] when it does not parse."""
    return [Reference(root, key) for root in ROOTS for key in field_references(text, root)]


KindOf = Callable[[Reference], str | None]
ChoicesOf = Callable[[Reference], tuple[str, ...] | None]


def kind(node: ast.AST, kind_of: KindOf) -> str | None:
    """The kind of value `node` gives, or None when it cannot be told without running it."""
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int | float):
            return "number"
        if isinstance(value, str):
            return "text"
        return None
    found = reference_of(node)
    if found is not None:
        return kind_of(found)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return _CALLS.get(node.func.id)
    if isinstance(node, ast.Compare):
        return "boolean"
    if isinstance(node, ast.UnaryOp):
        return "boolean" if isinstance(node.op, ast.Not) else kind(node.operand, kind_of)
    if isinstance(node, ast.BinOp):
        left, right = kind(node.left, kind_of), kind(node.right, kind_of)
        if left == right == "number":
            return "number"
        if left in _DATES and right == "duration":
            return left
    return None


KIND_WORDS = {
    "date": "une date",
    "datetime": "une date et heure",
    "number": "un nombre",
    "text": "un texte",
    "boolean": "oui/non",
    "duration": "une durée",
}


def _incompatible(op: ast.cmpop, left: str | None, right: str | None) -> bool:
    if left is None or right is None or left == right:
        return False
    pair = {left, right}
    if pair & _DATES and pair & {"number", "boolean", "duration"}:
        return True  # never equal, never ordered: a date compared with a number is a slip
    # A date field holds an ISO text ("2027-03-15"): comparing it with a text literal is fine.
    return isinstance(op, _ORDERING) and not pair <= _DATES | {"text"}


def mismatches(
    text: str, kind_of: KindOf, describe: Callable[[ast.AST], str], choices_of: ChoicesOf | None = None
) -> Iterator[Mismatch]:
    """The parts of `text` whose kinds cannot work: a comparison of a date with a number (or an ordering
    of a text with a number), a date function given a field that is not a date, a choice compared with a
    value that is none of its options. `describe(node)` names a part for the message."""
    tree = _tree(text)
    if tree is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
                left_kind, right_kind = kind(left, kind_of), kind(right, kind_of)
                if _incompatible(op, left_kind, right_kind):
                    yield Mismatch(
                        f"{describe(left)} est {KIND_WORDS[left_kind]} et {describe(right)} "  # type: ignore[index]
                        f"{KIND_WORDS[right_kind]} : ils ne se comparent pas"  # type: ignore[index]
                    )
                if choices_of is not None:
                    yield from _choice_mismatch(left, right, choices_of, describe)
                    yield from _choice_mismatch(right, left, choices_of, describe)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args:
            name = node.func.id
            first = node.args[0]
            first_kind = kind(first, kind_of)
            if name in DATE_ARGUMENT and first_kind is not None and first_kind not in _DATES:
                if reference_of(first) is not None or first_kind != "text":
                    yield Mismatch(
                        f"{name}() attend une date, mais {describe(first)} est {KIND_WORDS[first_kind]}"
                    )


def _choice_mismatch(
    field: ast.AST, other: ast.AST, choices_of: ChoicesOf, describe: Callable[[ast.AST], str]
) -> Iterator[Mismatch]:
    found = reference_of(field)
    if found is None:
        return
    allowed = choices_of(found)
    if not allowed:
        return
    literals = []
    if isinstance(other, ast.Constant) and isinstance(other.value, str):
        literals = [other.value]
    elif isinstance(other, ast.List | ast.Tuple):
        literals = [e.value for e in other.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    for literal in literals:
        if literal not in allowed:
            yield Mismatch(
                f"« {literal} » n'est pas un des choix de {describe(field)} (choix : {', '.join(allowed)})"
            )
