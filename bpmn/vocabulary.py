"""Validation of a sequence against the installation's dictionary (designer/dictionary.py), given to bpmn as
plain data so that this layer knows nothing of where it is kept.

Checked: each lane's role (and its kind), each field of a user task's form (seq:show, seq:fill), each
`dossier.x` and `event.x` of conditions and timer dates, with their types (a date compared with a number,
`add_duration` of an amount, a choice compared with a value it does not offer), and each business event a
diagram waits for. An unknown name comes with the closest known keys ("vouliez-vous dire hearing_date ?").

A kind the dictionary has no entry of yet (a new installation) is not checked: nothing would pass."""

import ast
import difflib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from bpmn import expression_types as types
from bpmn.dialect import bpmn, read_timer, seq
from bpmn.expression_types import Reference
from bpmn.rules import Context, describe, describe_of
from kernel.errors import Issue

TYPE_WORDS = {
    "date": "une date",
    "amount": "un montant",
    "number": "un nombre",
    "text": "un texte",
    "choice": "un choix",
    "boolean": "oui/non",
}


@dataclass(frozen=True)
class Term:
    """A field as validation needs it: its type, its label and, for a choice, its option keys."""

    type: str
    label: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vocabulary:
    roles: Mapping[str, str] = field(default_factory=dict)  # role key -> internal | partner | contact
    fields: Mapping[str, Term] = field(default_factory=dict)
    events: Mapping[str, Mapping[str, Term]] = field(default_factory=dict)  # event key -> its fields


def _slug(text: str) -> str:
    """ "Date d'audience" -> "date_d_audience": how an analyst may have turned a label into a key."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def _closest(key: str, known) -> str:
    """The known keys closest to `key`, by their key or, for fields, by their label (`date_audience` is
    close to the label "Date d'audience" of hearing_date)."""
    names: dict[str, str] = {k: k for k in known}
    for k, entry in known.items() if isinstance(known, Mapping) else ():
        if isinstance(entry, Term) and entry.label:
            names.setdefault(_slug(entry.label), k)
    found = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
    keys = list(dict.fromkeys(names[name] for name in found))
    return f" : vouliez-vous dire {' ou '.join(keys)} ?" if keys else ""


def _unknown(what: str, key: str, known) -> str:
    """ "champ inconnu « date_audience » : vouliez-vous dire hearing_date ?", or the same ending with "."."""
    return f"{what} inconnu « {key} »{_closest(key, known) or '.'}"


def check_roles(ctx: Context) -> Iterator[Issue]:
    roles = ctx.vocabulary.roles if ctx.vocabulary else None
    if not roles or ctx.process is None:
        return
    for lane in ctx.process.iter(bpmn("lane")):
        key = (lane.get(seq("role")) or "").strip()
        if not key:
            continue
        if key not in roles:
            yield Issue(
                lane.get("id"),
                "unknown_role",
                f"{describe(lane, True)} : {_unknown('rôle', key, roles)} Choisissez un rôle du "
                "dictionnaire, ou ajoutez-le au dictionnaire.",
            )
            continue
        kind = (lane.get(seq("roleKind")) or "internal").strip()
        if kind != roles[key]:
            yield Issue(
                lane.get("id"),
                "role_kind_conflict",
                f"{describe(lane, True)} déclare le rôle « {key} » comme {kind}, alors que le dictionnaire "
                f"le définit comme {roles[key]} : donnez-lui la même nature.",
            )


def check_forms(ctx: Context) -> Iterator[Issue]:
    fields = ctx.vocabulary.fields if ctx.vocabulary else None
    for node in ctx.of("userTask"):
        element = ctx.model.elements.get(node.get("id") or "")
        if element is None:
            continue
        seen: set[str] = set()
        for attribute, keys in (("show", element.show), ("fill", element.fill)):
            for key in keys:
                if key in seen:
                    yield Issue(
                        element.id,
                        "form_field_twice",
                        f"Le formulaire {describe_of(node)} nomme deux fois le champ « {key} » "
                        f"(seq:{attribute}) : un champ à remplir montre déjà sa valeur actuelle.",
                    )
                seen.add(key)
                if fields and key not in fields:
                    yield Issue(
                        element.id,
                        "unknown_field",
                        f"Le formulaire {describe_of(node)} (seq:{attribute}) : "
                        f"{_unknown('champ', key, fields)}",
                    )


def _expressions(ctx: Context) -> Iterator[tuple[str, str, str]]:
    """(element id, the what of the message, the expression) of each condition and timer date."""
    for flow in ctx.flows.values():
        condition = flow.find(bpmn("conditionExpression"))
        text = (condition.text or "").strip() if condition is not None else ""
        if text:
            yield flow.get("id") or "", f"La condition {describe_of(flow)}", text
    for node in ctx.nodes.values():
        timer = read_timer(node)
        if timer is not None and timer["kind"] == "date" and timer["value"]:
            yield node.get("id") or "", f"La date de la minuterie {describe_of(node)}", timer["value"]


class _Reader:
    """Answers what a reference is, for the sequence being validated."""

    def __init__(self, vocabulary: Vocabulary, awaited: set[str]):
        self.fields = vocabulary.fields
        # event.x: the events the diagram waits for when the dictionary knows them, else every event.
        events = {k: v for k, v in vocabulary.events.items() if k in awaited} or vocabulary.events
        self.event_fields: dict[str, Term] = {}
        for carried in events.values():
            for key, term in carried.items():
                self.event_fields.setdefault(key, term)
        self.check_events = bool(vocabulary.events)

    def term(self, found: Reference) -> Term | None:
        return (self.fields if found.root == "dossier" else self.event_fields).get(found.key)

    def kind(self, found: Reference) -> str | None:
        term = self.term(found)
        return types.KIND_OF_TYPE.get(term.type) if term else None

    def choices(self, found: Reference) -> tuple[str, ...] | None:
        term = self.term(found)
        return term.choices if term is not None and term.type == "choice" else None

    def describe(self, node: ast.AST) -> str:
        found = types.reference_of(node)
        if found is not None:
            term = self.term(found)
            label = f"« {term.label} » " if term is not None and term.label else ""
            return f"{label}({found})"
        try:
            return f"« {ast.unparse(node)} »"
        except Exception:  # noqa: BLE001 - a description never stops validation
            return "une valeur"


def check_expressions(ctx: Context) -> Iterator[Issue]:
    vocabulary = ctx.vocabulary
    if vocabulary is None or not (vocabulary.fields or vocabulary.events):
        return
    awaited = {e.message for e in ctx.model.elements.values() if e.message}
    reader = _Reader(vocabulary, awaited)
    for element_id, what, text in _expressions(ctx):
        for found in types.references(text):
            if found.root == "dossier" and vocabulary.fields and found.key not in vocabulary.fields:
                yield Issue(
                    element_id,
                    "unknown_field",
                    f"{what} lit {found} : {_unknown('champ', found.key, vocabulary.fields)}",
                )
            elif found.root == "event" and reader.check_events and found.key not in reader.event_fields:
                yield Issue(
                    element_id,
                    "unknown_event_field",
                    f"{what} lit {found} : {_unknown('donnée d’événement', found.key, reader.event_fields)}",
                )
        for mismatch in types.mismatches(text, reader.kind, reader.describe, reader.choices):
            yield Issue(element_id, "type_mismatch", f"{what} : {mismatch.what}.")


_ADD_EVENT = " : ajoutez-le au dictionnaire ou choisissez-en un."


def check_events(ctx: Context) -> Iterator[Issue]:
    events = ctx.vocabulary.events if ctx.vocabulary else None
    if not events:
        return
    for element in ctx.model.elements.values():
        if element.message and element.message not in events:
            node = ctx.nodes.get(element.id)
            where = describe(node, True) if node is not None else element.id
            yield Issue(
                element.id,
                "unknown_event",
                f"{where} attend l'événement « {element.message} », que le dictionnaire ne connaît pas"
                f"{_closest(element.message, events) or _ADD_EVENT}",
            )


RULES = (check_roles, check_forms, check_expressions, check_events)
