"""The expression language of conditions and timer dates: Python syntax, evaluated by a sandbox, never by
eval.

An expression is parsed with `ast` and walked by our own small interpreter. Only the node types listed in
_ALLOWED are accepted; anything else (lambdas, comprehensions, `**`, f-strings, starred arguments, walrus,
names or attributes starting with "_") is refused by `check`, which `evaluate` always runs first, so the
same rules hold at validation time and at run time. The interpreter never calls `getattr` on arbitrary
objects: attribute access reads keys of mappings, or a short list of data attributes of dates, durations
and time spans. Sizes are capped (text length, nesting, integers, strings and lists built by `+` and `*`).

Missing data is not an error: `dossier.hearing_date` on a dossier without that field is None, and so is
any attribute or item read on None (`actions["Task_1"].outcome` before Task_1 is completed), and so is
an index past the end of a list or text. Ordering
comparisons (`<`, `>`...) with None are False and `x in None` is False, so a condition about a field that
is not filled in yet simply does not hold instead of failing the run. Typos in field names are therefore not
caught at run time; the validation only checks the top-level names (status, outcome, actions...).
"""

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from bpmn import durations
from bpmn.durations import Duration

NAMES = frozenset({"status", "outcome", "actions", "dossier", "event"})

MAX_LENGTH = 2_000
MAX_DEPTH = 40
MAX_SIZE = 10_000  # longest string or list an expression may build
MAX_INT = 10**15
MAX_DAYS = 100_000


class ExpressionError(Exception):
    """An expression that cannot be accepted or evaluated; `.message` says in French what to fix."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and len(value.strip()) > 10:
        try:  # a date-time with its zone: the day it is in Paris, as for a date-time value
            value = durations.parse_date_time(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        # the day it is in Paris: 00:30 on 14 July in Paris is still 13 July in UTC
        return value.astimezone(durations.PARIS).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise ExpressionError(f'date() attend une date ISO comme "2026-01-31", pas {_show(value)}.')


def _days(count: Any) -> timedelta:
    if isinstance(count, bool) or not isinstance(count, int | float) or abs(count) > MAX_DAYS:
        raise ExpressionError(f"days() attend un nombre de jours entre -{MAX_DAYS} et {MAX_DAYS}.")
    return timedelta(days=count)


def _duration(text: Any) -> Duration:
    if isinstance(text, Duration):
        return text
    try:
        return durations.parse_duration(text)
    except ValueError as error:
        raise ExpressionError(str(error)) from None


def _add_duration(
    start: Any, duration: Any, calendar: str = "calendar", holidays_of: Any = durations.METROPOLE
) -> date | datetime | None:
    if start is None:
        return None
    if isinstance(start, str):
        try:
            start = durations.parse_date_time(start)
        except ValueError as error:
            raise ExpressionError(str(error)) from None
    try:
        return durations.add_duration(start, _duration(duration), calendar, holidays_of)
    except ValueError as error:
        raise ExpressionError(str(error)) from None


def _in_truce(day: Any) -> bool:
    # a Paris date, as date() gives it: the truce is a period of Paris dates
    found = _date(day)
    return found is not None and durations.in_truce(found)


def _after_truce(day: Any) -> date | None:
    found = _date(day)
    return None if found is None else durations.after_truce(found)


# name -> (min positional, max positional, allowed keywords); `now` is bound per evaluation.
_SIGNATURES: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "date": (1, 1, ()),
    "now": (0, 0, ()),
    "days": (1, 1, ()),
    "duration": (1, 1, ()),
    "add_duration": (2, 3, ("calendar",)),
    # the winter truce, 1 November – 31 March: "is this day in it", "the first day from this one out of it"
    "in_truce": (1, 1, ()),
    "after_truce": (1, 1, ()),
}
FUNCTIONS = frozenset(_SIGNATURES)

# Only plain data attributes: none of them is callable or leads back to Python internals.
_SAFE_ATTRIBUTES: dict[type, frozenset[str]] = {
    datetime: frozenset({"year", "month", "day", "hour", "minute", "second"}),
    date: frozenset({"year", "month", "day"}),
    timedelta: frozenset({"days", "seconds"}),
    Duration: frozenset({"years", "months", "weeks", "days", "hours", "minutes", "seconds", "negative"}),
}

_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not,
    ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv, ast.Compare,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot, ast.IfExp,
    ast.Attribute, ast.Subscript, ast.Call, ast.keyword, ast.List, ast.Tuple,
)  # fmt: skip

_REFUSED = {
    ast.Pow: "l'opérateur ** (puissance) n'est pas permis",
    ast.Lambda: "les fonctions lambda ne sont pas permises",
    ast.ListComp: "les compréhensions ne sont pas permises",
    ast.SetComp: "les compréhensions ne sont pas permises",
    ast.DictComp: "les compréhensions ne sont pas permises",
    ast.GeneratorExp: "les compréhensions ne sont pas permises",
    ast.NamedExpr: "l'affectation := n'est pas permise",
    ast.JoinedStr: "les f-strings ne sont pas permises",
    ast.Slice: "les tranches [a:b] ne sont pas permises",
    ast.Starred: "l'étoile * dans un appel n'est pas permise",
}

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv,
}  # fmt: skip
_ORDERING: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}  # fmt: skip
_EQUALITY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Is: operator.is_, ast.IsNot: operator.is_not,
}  # fmt: skip


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parse(text: str) -> ast.Expression:
    if not isinstance(text, str):
        raise ExpressionError("Une expression doit être un texte.")
    if not text.strip():
        raise ExpressionError(
            'L\'expression est vide : écrivez une condition, par exemple outcome == "paid".'
        )
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"L'expression fait {len(text)} caractères ; la limite est de {MAX_LENGTH}.")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        where = f" (colonne {error.offset})" if error.offset else ""
        raise ExpressionError(
            f"L'expression « {text.strip()} » n'est pas lisible{where} : vérifiez les guillemets, "
            "les parenthèses et les opérateurs (==, and, or, not, in)."
        ) from None
    except (ValueError, RecursionError, MemoryError):
        message = "L'expression est trop complexe ou contient des caractères interdits."
        raise ExpressionError(message) from None
    return _BOOLEANS.visit(tree)


class _Booleans(ast.NodeTransformer):
    """`true` and `false`, as XPath, FEEL and JavaScript write them (diagrams from other tools), are the
    literals True and False: never names, so no context can give them another value."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in ("true", "false"):
            return ast.copy_location(ast.Constant(node.id == "true"), node)
        return node


_BOOLEANS = _Booleans()


def _check_node(node: ast.AST, names: frozenset[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"L'expression est trop imbriquée (au plus {MAX_DEPTH} niveaux).")
    for refused, reason in _REFUSED.items():
        if isinstance(node, refused):
            raise ExpressionError(f"Dans une expression, {reason}.")
    if not isinstance(node, _ALLOWED):
        raise ExpressionError(
            f"Cette construction ({type(node).__name__}) n'est pas permise dans une expression : "
            "utilisez des comparaisons, and, or, not, in et les fonctions date, now, days, duration, "
            "add_duration."
        )
    if isinstance(node, ast.Constant) and not isinstance(node.value, str | int | float | None):
        raise ExpressionError(f"La valeur {_show(node.value)} n'est pas permise dans une expression.")
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > MAX_SIZE:
        raise ExpressionError(f"Un texte d'une expression dépasse {MAX_SIZE} caractères.")
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and abs(node.value) > MAX_INT:
        raise ExpressionError(f"Le nombre {_show(node.value)} est trop grand.")
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} est une fonction, appelez-la : {node.id}(…).")
        if node.id.startswith("_") or node.id not in names:
            raise ExpressionError(
                f"Nom inconnu « {node.id} » : les noms permis sont {', '.join(sorted(names))} "
                "(et les fonctions date, now, days, duration, add_duration). "
                "Mettez les textes entre guillemets."
            )
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise ExpressionError(f"L'attribut « {node.attr} » est interdit : un nom ne commence pas par _.")
    if isinstance(node, ast.BinOp):
        # Catches `'a' * 10000000` at validation time; computed operands are capped again when evaluated.
        _guard_size(node.op, _literal(node.left), _literal(node.right))
    if isinstance(node, ast.Call):
        _check_call(node)
        children: list[ast.AST] = [*node.args, *node.keywords]
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        _check_node(child, names, depth + 1)


def _literal(node: ast.AST) -> Any:
    """A constant, or the elements of a literal list, so that sizes can be judged before running."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return node.elts
    return None


def _check_call(node: ast.Call) -> None:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        raise ExpressionError(
            "Seules les fonctions date, now, days, duration, add_duration, in_truce et after_truce peuvent "
            "être appelées."
        )
    name = node.func.id
    low, high, keywords = _SIGNATURES[name]
    for keyword in node.keywords:
        if keyword.arg is None or keyword.arg not in keywords:
            raise ExpressionError(f"{name}() n'accepte pas l'argument « {keyword.arg or '**'} ».")
    count = len(node.args) + len(node.keywords)
    if not low <= count <= high:
        expected = str(low) if low == high else f"{low} à {high}"
        raise ExpressionError(f"{name}() attend {expected} argument(s), pas {count}.")


def check(text: str, names: frozenset[str] | set[str] = NAMES) -> None:
    """Parse `text` and check its constructs and names; raises ExpressionError (French) if refused."""
    parse(text, names)


def parse(text: str, names: frozenset[str] | set[str] = NAMES) -> ast.Expression:
    """The checked tree of `text` (`true`/`false` already the literals), for readers that say an expression
    in words (designer/describe.py); never run it but through `evaluate`."""
    tree = _parse(text)
    _check_node(tree, frozenset(names), 0)
    return tree


class _Evaluator:
    def __init__(self, context: Mapping[str, Any], now: datetime, holidays_of: durations.Holidays):
        self.context = context
        self.functions: dict[str, Callable[..., Any]] = {
            "date": _date,
            "now": lambda: now,
            "days": _days,
            "duration": _duration,
            "add_duration": lambda start, duration, calendar="calendar": _add_duration(
                start, duration, calendar, holidays_of
            ),
            "in_truce": _in_truce,
            "after_truce": _after_truce,
        }

    def run(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}")
        return method(node)

    def _Expression(self, node: ast.Expression) -> Any:
        return self.run(node.body)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        # A known name missing from the context (no completed action yet, no event) reads as None.
        return self.context.get(node.id)

    def _List(self, node: ast.List) -> list:
        return [self.run(item) for item in node.elts]

    def _Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.run(item) for item in node.elts)

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        value: Any = None
        for item in node.values:
            value = self.run(item)
            if bool(value) != is_and:
                return value
        return value

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.run(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ExpressionError("Les signes + et - devant une valeur s'appliquent à un nombre.")
        return -value if isinstance(node.op, ast.USub) else value

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self.run(node.body) if self.run(node.test) else self.run(node.orelse)

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.run(node.left), self.run(node.right)
        _guard_size(node.op, left, right)
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ExpressionError("Division par zéro dans l'expression.") from None
        except (TypeError, ValueError, OverflowError, ExpressionError):
            raise ExpressionError(f"Calcul impossible entre {_show(left)} et {_show(right)}.") from None
        if isinstance(result, int) and abs(result) > MAX_INT:
            raise ExpressionError("Un nombre calculé dans l'expression est trop grand.")
        return result

    def _Compare(self, node: ast.Compare) -> bool:
        left = self.run(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.run(comparator)
            if not _compare(op, left, right):
                return False
            left = right
        return True

    def _Attribute(self, node: ast.Attribute) -> Any:
        return _read(self.run(node.value), node.attr, attribute=True)

    def _Subscript(self, node: ast.Subscript) -> Any:
        return _read(self.run(node.value), self.run(node.slice), attribute=False)

    def _Call(self, node: ast.Call) -> Any:
        assert isinstance(node.func, ast.Name)  # guaranteed by check()
        args = [self.run(arg) for arg in node.args]
        kwargs = {keyword.arg: self.run(keyword.value) for keyword in node.keywords if keyword.arg}
        try:
            return self.functions[node.func.id](*args, **kwargs)
        except ExpressionError:
            raise
        except (TypeError, ValueError, OverflowError) as error:
            raise ExpressionError(f"{node.func.id}() n'a pas pu être calculée : {error}") from None


def _guard_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse `'a' * 10**9` or repeated `+` before the result is built, not after memory is gone."""
    if isinstance(op, ast.Mult):
        for sized, count in ((left, right), (right, left)):
            if isinstance(sized, str | list | tuple) and isinstance(count, int):
                if len(sized) * max(count, 0) > MAX_SIZE:
                    raise ExpressionError(f"Le texte ou la liste calculé dépasserait {MAX_SIZE} éléments.")
    if isinstance(op, ast.Mod) and isinstance(left, str):
        raise ExpressionError("Le formatage de texte avec % n'est pas permis dans une expression.")
    sized = str | list | tuple
    if isinstance(op, ast.Add) and isinstance(left, sized) and isinstance(right, sized):
        if len(left) + len(right) > MAX_SIZE:
            raise ExpressionError(f"Le texte ou la liste calculé dépasserait {MAX_SIZE} éléments.")


def _compare(op: ast.cmpop, left: Any, right: Any) -> bool:
    try:
        if type(op) in _EQUALITY:
            return bool(_EQUALITY[type(op)](left, right))
        if type(op) in _ORDERING:
            if left is None or right is None:
                return False
            return bool(_ORDERING[type(op)](left, right))
        if right is None:
            return False
        contained = left in (right.data if isinstance(right, Record) else right)
        return contained if isinstance(op, ast.In) else not contained
    except TypeError:
        raise ExpressionError(
            f"Comparaison impossible entre {_show(left)} et {_show(right)} : comparez des valeurs de même "
            "nature (convertissez un texte en date avec date(...))."
        ) from None


class Record(Mapping):
    """Read-only view of a dict whose keys read as attributes too: `actions["x"].status`, `dossier.amount`."""

    __slots__ = ("data",)

    def __init__(self, data: Mapping):
        self.data = data

    def __getitem__(self, key: Any) -> Any:
        return self.data[key]

    def __iter__(self):
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Record({self.data!r})"


def _wrap(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, Record):
        return Record(value)
    return value


def _read(container: Any, key: Any, attribute: bool) -> Any:
    if container is None:
        return None
    if isinstance(container, Mapping):
        try:
            return _wrap(container.get(key))
        except TypeError:  # unhashable key such as a list
            raise ExpressionError(f"Clé impossible : {_show(key)}.") from None
    if attribute:
        for kind, allowed in _SAFE_ATTRIBUTES.items():
            if isinstance(container, kind):
                if key in allowed:
                    return getattr(container, key)
                break
        raise ExpressionError(f"« {key} » n'est pas une donnée lisible sur {_show(container)}.")
    if isinstance(container, str | Sequence) and isinstance(key, int) and not isinstance(key, bool):
        try:
            return _wrap(container[key])
        except IndexError:
            return None
    raise ExpressionError(f"Impossible de lire [{_show(key)}] sur {_show(container)}.")


def _unwrap(value: Any) -> Any:
    return value.data if isinstance(value, Record) else value


def evaluate(
    text: str,
    context: Mapping[str, Any],
    now: datetime,
    holidays_of: durations.Holidays = durations.METROPOLE,
) -> Any:
    """Evaluate `text` with the names of `context` (plus NAMES, None when absent) and the functions;
    `holidays_of`: the public holidays add_duration skips (the dossier's place).

    Raises ExpressionError on any refusal or failure; never runs Python code from the text.
    """
    if not isinstance(text, str):
        _parse(text)  # refuses it, with the message every other refusal of a non-text gives
    tree = _checked(text, NAMES | frozenset(context))
    wrapped = {name: _wrap(value) for name, value in context.items()}
    try:
        return _unwrap(_Evaluator(wrapped, now, holidays_of).run(tree))
    except ExpressionError:
        raise
    except (RecursionError, MemoryError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
        raise ExpressionError(f"L'expression n'a pas pu être évaluée : {error}") from None


@lru_cache(maxsize=1024)  # a sequence's few conditions are evaluated at every step; the tree is only read
def _checked(text: str, names: frozenset[str]) -> ast.Expression:
    tree = _parse(text)
    _check_node(tree, names, 0)
    return tree


def outcome_references(text: str) -> list[tuple[str | None, str]]:
    """Outcomes an expression compares with: `outcome == "paid"` gives (None, "paid") and
    `actions["Task_1"].outcome in ["a", "b"]` gives ("Task_1", "a"), ("Task_1", "b").

    Used by validation to spot outcomes no task declares; returns [] for an expression that does not parse.
    """
    try:
        tree = _parse(text)
    except ExpressionError:
        return []
    found: list[tuple[str | None, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for index, side in enumerate(operands):
            action = _outcome_source(side)
            if action is False:
                continue
            for other in operands[:index] + operands[index + 1 :]:
                found.extend((action, literal) for literal in _string_literals(other))  # type: ignore[misc]
    return found


def _outcome_source(node: ast.AST) -> str | None | bool:
    """None for the name `outcome`, the element id for `actions["id"].outcome` / `["outcome"]`, else False."""
    if isinstance(node, ast.Name) and node.id == "outcome":
        return None
    target = None
    if isinstance(node, ast.Attribute) and node.attr == "outcome":
        target = node.value
    elif isinstance(node, ast.Subscript) and _constant(node.slice) == "outcome":
        target = node.value
    if (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == "actions"
        and isinstance(target.slice, ast.Constant)
        and isinstance(target.slice.value, str)
    ):
        return target.slice.value
    return False


def _constant(node: ast.AST) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _string_literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def action_references(text: str) -> list[str]:
    """Element ids read through `actions["id"]`; [] for an expression that does not parse."""
    try:
        tree = _parse(text)
    except ExpressionError:
        return []
    return [
        node.slice.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "actions"
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ]


def field_references(text: str, root: str = "dossier") -> list[str]:
    """Fields read through `dossier.x` or `dossier["x"]` (or `event.x` with root="event"), in order, each
    once; [] for an expression that does not parse."""
    try:
        tree = _parse(text)
    except ExpressionError:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == root:
            name = node.attr
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == root:
            name = _constant(node.slice) if isinstance(_constant(node.slice), str) else None
        if name and name not in found:
            found.append(name)
    return found
