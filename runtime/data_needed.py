"""Data needed: a run that reaches a step needing a dossier value that is missing or unusable (a timer
computed from an empty hearing date, a condition on a balance typed as words) does not fail. It waits
(`waiting_data`) with the operation it could not take kept for later, exactly as a failed run keeps it, and
an action asks its gestionnaire for the value: « Renseigner la date d'audience », whose form has that one
field, typed by the dictionary.

When the value is given (the action completed with it, or the dossier's Données tab, or the API), the dossier
is updated in the same transaction, and the run takes again the step it could not take (runs.retry_run);
should the value still not serve, it waits again with a new action. A run that failed for the same reason
before this existed (`failed`, its cause a dossier field) comes back the same way when that field changes.

Who is asked: the run's gestionnaire role. The rule, in order: the role `gestionnaire` when the run's
sequence has that lane or someone holds it in the run (the role that pilots a dossier, SPEC §1); otherwise
the first internal lane of the sequence that someone holds in the run; otherwise its first internal lane;
otherwise `gestionnaire` (the action is then « sans titulaire », where managers look)."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from designer.dictionary import Dictionary, Field, humanize
from designer.dictionary import load as load_dictionary
from designer.values import InvalidValue, parse

from .actors import Actor
from .incidents import MANAGER_ROLE, cause_of
from .journal import Kind
from .models import Action, ActionStatus, Dossier, Run, RunStatus
from .specs import model_of
from .stepper import cancel, open_action

PREFIX = "data_needed:"  # element_id of the action: data_needed:<field key>
STOPPED = (RunStatus.FAILED, RunStatus.WAITING_DATA)  # runs holding an operation to take again


def field_needed(session: Session, error: str | None, data: dict | None) -> str | None:
    """The dossier field a person must give for the step that raised `error` to be taken: one the failed
    expression reads and the dossier lacks, or holds in a form its type refuses (a date typed 15/03/2027
    where the dictionary, or the expression counting a delay from it, wants a date). None for any other
    failure (a value of no known type, an error of the diagram), which stays an incident."""
    cause = cause_of(error, data)
    if cause.kind == "field_missing" and cause.fields:
        return cause.fields[0][0]
    if cause.kind != "field_value":
        return None
    dictionary = load_dictionary(session)
    for key, value in cause.fields:
        field = dictionary.fields.get(key)
        if field is None and _dated(cause.expression or "", key):
            field = Field(key=key, label=humanize(key), type="date")
        if field is not None and not _fits(field, value):
            return key
    return None


def _dated(expression: str, key: str) -> bool:
    """The expression counts a delay from the field, or reads it as a date."""
    return any(f"{call}(dossier.{key}" in expression for call in ("add_duration", "date"))


def _fits(field: Field, value) -> bool:
    """The stored value is in the form its type stores (what `parse` gives back unchanged)."""
    try:
        return parse(field, value) == value
    except InvalidValue:
        return False


def fields_read(error: str | None) -> set[str]:
    """Every dossier field the failed expression reads."""
    return {key for key, _value in cause_of(error, {}).fields}


def field_of(
    session: Session, key: str, error: str | None = None, dictionary: Dictionary | None = None
) -> Field:
    """The field as the dictionary types it; unknown to the dictionary, a date when the failed expression
    counts a delay from it or reads it as a date, a number when it computes with it, text otherwise."""
    known = (dictionary or load_dictionary(session)).fields.get(key)
    if known is not None:
        return known
    expression = cause_of(error, {}).expression or ""
    kind = "text"
    if f"dossier.{key}" in expression and any(f in expression for f in ("add_duration(", "date(")):
        kind = "date"
    elif any(op in expression for op in (">", "<", "*", "+", "-", "/")):
        kind = "number"
    return Field(key=key, label=humanize(key), type=kind)


def action_name(label: str) -> str:
    """« Renseigner la date d'audience », « Renseigner le montant du plan », « Renseigner l'adresse »."""
    word = label[:1].lower() + label[1:] if not label[1:2].isupper() else label
    first = word.split(" ", 1)[0].casefold()
    if first[:1] in "aeiouyhéèêàâîôû":
        article = "l'"
    elif first in _MASCULINE_IN_E or not first.endswith(("e", "ion", "té")):
        article = "le "
    else:
        article = "la "
    return f"Renseigner {article}{word}"


# Masculine words ending in -e that dossier fields often start with.
_MASCULINE_IN_E = {"solde", "nombre", "code", "compte", "type", "titre", "terme", "reste", "capital", "motif",
                   "montant", "loyer", "numéro", "département", "délai"}  # fmt: skip


def gestionnaire_role(run: Run) -> str:
    """The internal role that pilots the run (see the module's docstring)."""
    roles = model_of(run.version).roles
    held = {h.role for h in run.holders}
    if MANAGER_ROLE in roles or MANAGER_ROLE in held:
        return MANAGER_ROLE
    internal = [key for key, role in roles.items() if role.kind == "internal"]
    for key in internal:
        if key in held:
            return key
    return internal[0] if internal else MANAGER_ROLE


def open_actions_for_data(session: Session, run: Run) -> list[Action]:
    query = select(Action).where(
        Action.run_id == run.id, Action.status == ActionStatus.OPEN, Action.element_id.startswith(PREFIX)
    )
    return list(session.scalars(query))


def ask(session: Session, run: Run, key: str, actor: Actor, now: datetime) -> Action:
    """The run, which just could not take its step for want of `key`, waits for it: an action asks for it
    (unless one already does)."""
    run.status = RunStatus.WAITING_DATA
    for action in open_actions_for_data(session, run):
        if action.element_id == PREFIX + key:
            return action
    field = field_of(session, key, run.error)
    return open_action(
        session,
        run,
        actor,
        now,
        Kind.ACTION_ADDED,
        element_id=PREFIX + key,
        name=action_name(field.label),
        type="task",
        role=gestionnaire_role(run),
        outcomes=[],
        adhoc=True,
    )


def key_of(action: Action) -> str | None:
    """The field a data-needed action asks for (None: another action)."""
    return action.element_id[len(PREFIX) :] if action.element_id.startswith(PREFIX) else None


def close_for(session: Session, run: Run, actor: Actor, now: datetime, keep: Action | None = None) -> None:
    """The run takes its step again: the actions that asked for data are no longer needed."""
    for action in open_actions_for_data(session, run):
        if action is not keep:
            cancel(session, run, action, actor, now, "donnée renseignée, la séquence reprend")


def stopped_for(session: Session, dossier: Dossier, keys: set[str]) -> list[int]:
    """The dossier's runs stopped (waiting for data, or failed) on an expression reading one of `keys`."""
    query = select(Run.id, Run.error).where(Run.dossier_id == dossier.id, Run.status.in_(STOPPED))
    return [run_id for run_id, error in session.execute(query) if fields_read(error) & keys]
