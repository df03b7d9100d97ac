"""Forms on actions: the dossier fields a user task shows (seq:show) and asks for (seq:fill, some required),
typed by the dictionary (designer/dictionary.py) and read the way people type them (designer/values.py).

Completing an action reads its form first (`read_form`: every value parsed, every required field there, or
one refusal naming each field at fault and nothing written), then writes the values to the dossier in the
same transaction as the completion (`write_form`), one history entry listing each change (old → new, who),
before the run takes its step: the conditions after the action see the new values. Cancelling or skipping
an action ignores its form."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from designer.dictionary import Dictionary, Field, humanize, load
from designer.values import InvalidValue, display, parse
from kernel.errors import Malformed, RuleBroken

from . import journal
from .actors import Actor
from .data_needed import key_of
from .journal import Kind
from .models import Action, Dossier
from .specs import models_of_run

EMPTY = (None, "")


@dataclass(frozen=True)
class FormSpec:
    """What a user task's form names: fields shown, fields to fill, the required ones among them."""

    show: tuple[str, ...] = ()
    fill: tuple[str, ...] = ()
    required: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.show or self.fill)


class FormRefused(RuleBroken):
    """Values of a form that cannot be kept: `fields` says, per field key, what to fix."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(
            " ".join(problems.values()), code="invalid_form", field=next(iter(problems)), fields=problems
        )


def form_spec(session: Session, action: Action) -> FormSpec:
    """The form of the action's user task (in the run's sequence, or a sequence it calls)."""
    if action.adhoc:
        # An action asking for the value a run waits for: that field, required (runtime/data_needed.py).
        key = key_of(action)
        return FormSpec(fill=(key,), required=frozenset({key})) if key else FormSpec()
    for model in models_of_run(session, action.run).values():
        element = model.elements.get(action.element_id)
        if element is not None and element.tag == "userTask":
            return FormSpec(tuple(element.show), tuple(element.fill), frozenset(element.required))
    return FormSpec()


def field_of(dictionary: Dictionary, key: str) -> Field:
    # A field the dictionary no longer knows is read as text: the form still works.
    return dictionary.fields.get(key) or Field(key=key, label=humanize(key), type="text")


def read_form(dossier: Dossier, spec: FormSpec, data, dictionary: Dictionary) -> dict[str, dict]:
    """The changes the values `data` (field -> what was typed) make to the dossier: {field: {from, to}}.

    Raises FormRefused naming every field that cannot be kept (not asked by the form, unreadable, required
    and empty), so that nothing is written."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Malformed("« data » doit être un objet : {champ: valeur}.")
    problems: dict[str, str] = {}
    for key in data:
        if key not in spec.fill:
            label = dictionary.label("fields", str(key))
            asked = ", ".join(spec.fill) or "aucun champ"
            problems[str(key)] = (
                f"« {label} » ({key}) n'est pas demandé par cette action (demandés : {asked})."
            )
    current = dossier.data or {}
    changes: dict[str, dict] = {}
    for key in spec.fill:
        spec_field = field_of(dictionary, key)
        if key in data:
            try:
                value = parse(spec_field, data[key])
            except InvalidValue as error:
                problems[key] = error.message
                continue
        else:
            value = current.get(key)
        if key in spec.required and value in EMPTY:
            problems[key] = f"« {spec_field.label} » : à remplir, ce champ est obligatoire."
        elif key in data and value != current.get(key):
            changes[key] = {"from": current.get(key), "to": value}
    if problems:
        raise FormRefused(problems)
    return changes


def write_form(
    session: Session, dossier: Dossier, action: Action, changes: dict[str, dict], actor: Actor, now: datetime
) -> None:
    """Writes what `read_form` returned to the dossier, with its history entry."""
    if not changes:
        return
    dossier.data = {**(dossier.data or {}), **{key: change["to"] for key, change in changes.items()}}
    dossier.updated_at = now
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.DOSSIER_UPDATED,
        now,
        run_id=action.run_id,
        action_id=action.id,
        changes={"data": changes},
    )


@dataclass(frozen=True)
class Fact:
    key: str
    label: str
    text: str  # the value as people read it


@dataclass(frozen=True)
class Input:
    """One field to fill, as a page renders it."""

    key: str
    label: str
    type: str
    required: bool
    value: str  # what the input holds: the typed text after a refusal, else the stored value for the input
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class FormView:
    facts: list[Fact] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.facts or self.inputs)


def input_value(spec_field: Field, value, lang: str = "fr") -> str:
    """A stored value as its input holds it: ISO for a date picker, `1 200,50` for an amount."""
    if value in EMPTY:
        return ""
    if spec_field.type == "date":
        return str(value)[:10]
    if spec_field.type == "boolean":
        return "oui" if value is True else "non" if value is False else str(value)
    if spec_field.type == "choice":
        return str(value)
    if spec_field.type in ("amount", "number"):
        return display(spec_field, value, lang).removesuffix(" €")
    return str(value)


def form_view(
    dossier: Dossier,
    spec: FormSpec,
    dictionary: Dictionary,
    lang: str = "fr",
    typed: dict | None = None,
    problems: dict | None = None,
) -> FormView:
    """The form as pages render it; after a refusal, `typed` keeps what was typed and `problems` says why."""
    current = dossier.data or {}
    facts = []
    for key in spec.show:
        spec_field = field_of(dictionary, key)
        facts.append(
            Fact(key, dictionary.label("fields", key, lang), display(spec_field, current.get(key), lang))
        )
    inputs = []
    for key in spec.fill:
        spec_field = field_of(dictionary, key)
        value = (typed or {}).get(key)
        inputs.append(
            Input(
                key=key,
                label=dictionary.label("fields", key, lang),
                type=spec_field.type,
                required=key in spec.required,
                value=str(value) if value is not None else input_value(spec_field, current.get(key), lang),
                help=spec_field.help,
                choices=tuple(
                    (c.key, (c.label_en or c.label) if lang == "en" else c.label) for c in spec_field.choices
                ),
                error=(problems or {}).get(key),
            )
        )
    return FormView(facts, inputs)


def action_forms(
    session: Session,
    actions: list[Action],
    lang: str = "fr",
    typed: dict | None = None,
    problems: dict | None = None,
    refused_id: int | None = None,
) -> dict[int, FormView]:
    """The forms of the actions a page shows, by action id (the dictionary is read once, and only when one of
    them has a form). `typed`/`problems` apply to the action `refused_id`."""
    specs = {action.id: (action, form_spec(session, action)) for action in actions}
    if not any(spec for _action, spec in specs.values()):
        return {}
    dictionary = load(session)
    return {
        action_id: form_view(
            action.run.dossier,
            spec,
            dictionary,
            lang,
            typed if action_id == refused_id else None,
            problems if action_id == refused_id else None,
        )
        for action_id, (action, spec) in specs.items()
        if spec
    }


def describe_changes(changes: dict, dictionary: Dictionary, lang: str = "fr") -> str:
    """ "Montant du plan : — → 1 200,50 €" for each field of a history entry's data changes."""
    parts = []
    for key, change in (changes or {}).items():
        if not isinstance(change, dict):
            continue
        spec_field = field_of(dictionary, key)
        before = display(spec_field, change.get("from"), lang)
        after = display(spec_field, change.get("to"), lang)
        parts.append(f"{dictionary.label('fields', key, lang)} : {before} → {after}")
    return " ; ".join(parts)
