"""Actions: who must act (read from the run's current role holders), listing and completion."""

from datetime import datetime
from functools import cache

from sqlalchemy import Select, and_, bindparam, exists, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from designer.dictionary import load as load_dictionary
from kernel.errors import Conflict, ForbiddenStatus, Malformed, NotFound, RuleBroken, TooLong

from . import data_needed, journal, step_writes
from .actors import Actor
from .assignments import held, unassign, unassigning
from .forms import form_spec, read_form, write_form
from .journal import Kind
from .models import Action, ActionStatus, ActionType, Participant, Run, RunRole, RunStatus
from .runs import get_run, resume_for_data, retry_run
from .step import action_ended, step_run
from .stepper import Settled, open_actions

ENDING_STATUSES = {
    ActionType.TASK: {ActionStatus.DONE},
    ActionType.REMINDER: {ActionStatus.DONE},
    ActionType.VALIDATION: {ActionStatus.VALIDATED},
    # `failed`: set by the system when a send fails and the diagram draws a failure path
    # (runtime.communication_ends).
    ActionType.COMMUNICATION: {ActionStatus.DONE, ActionStatus.FAILED},
}
ANY_TYPE = {ActionStatus.CANCELLED, ActionStatus.SKIPPED}
MAX_COMMENT = 10_000
ENDING_COLUMNS = ["status", "outcome", "comment", "completed_at", "completed_by", "completed_by_user_id"]


# How the holder of an action completes it: the only ending a partner may choose (the contract lets partners
# only complete their own actions).
COMPLETIONS = {ActionType.VALIDATION: ActionStatus.VALIDATED}


def ending_statuses(action_type: str) -> set[str]:
    """The statuses that can end an action of this type."""
    return ENDING_STATUSES.get(action_type, {ActionStatus.DONE}) | ANY_TYPE


def allowed_statuses(action: Action, actor: Actor | None = None) -> list[str]:
    """The statuses `actor` may end this action with: a partner only completes it; without an actor, every
    status its type allows. Pages and the API offer what this answers; completion checks it."""
    if actor is not None and actor.is_partner:
        return [COMPLETIONS.get(action.type, ActionStatus.DONE)]
    return sorted(ending_statuses(action.type))


def held_by_user(user_id: int):
    """Actions whose role is held, in their run, by a participant linked to this user."""
    return exists().where(
        RunRole.run_id == Action.run_id,
        RunRole.role == Action.role,
        RunRole.participant_id == Participant.id,
        Participant.user_id == user_id,
    )


def list_actions(
    session: Session,
    actor: Actor,
    *,
    dossier_id: int | None = None,
    run_id: int | None = None,
    status: str | None = None,
    mine: bool = False,
    unassigned: bool = False,
    limit: int = 500,
    offset: int = 0,
) -> list[Action]:
    query: Select = select(Action)
    if dossier_id is not None:
        query = query.where(Action.dossier_id == dossier_id)
    if run_id is not None:
        query = query.where(Action.run_id == run_id)
    if status:
        query = query.where(Action.status == status)
    if mine or actor.is_partner:
        query = query.where(held_by_user(actor.user_id))
    if unassigned:
        query = query.where(~exists().where(RunRole.run_id == Action.run_id, RunRole.role == Action.role))
    query = query.order_by(Action.due_at.is_(None), Action.due_at, Action.id).limit(limit).offset(offset)
    return list(session.scalars(query))


# An action with its run's role holders, whom its answer names, in one statement: the run's large JSON columns
# (its engine state above all), which an action's answer does not show, are left unread.
_WITH_HOLDERS = [
    joinedload(Action.run, innerjoin=True)
    .defer(Run.state)
    .defer(Run.results)
    .defer(Run.called_versions)
    .defer(Run.failed_operation)
    .joinedload(Run.holders)
]


def get_action(
    session: Session, action_id: int, actor: Actor | None = None, with_holders: bool = False
) -> Action:
    """`with_holders`: the run's role holders come with the action (to answer with it)."""
    action = session.get(Action, action_id, options=_WITH_HOLDERS if with_holders else ())
    if action is None:
        raise NotFound(f"Aucune action {action_id}.")
    if actor is not None and actor.is_partner:
        visible = session.scalar(
            select(Action.id).where(and_(Action.id == action_id, held_by_user(actor.user_id)))
        )
        if visible is None:
            raise NotFound(f"Aucune action {action_id}.")
    return action


# The status guard makes a second completion of the same action lose, whatever the interleaving.
@cache
def _end_open_action(prefix: str):
    actions = Action.__table__.c
    return (
        update(Action.__table__)
        .where(actions.id == bindparam(f"{prefix}action_id"), actions.status == ActionStatus.OPEN)
        .values({name: bindparam(f"{prefix}new_{name}", type_=actions[name].type) for name in ENDING_COLUMNS})
    )


@cache
def _end_and_unassign(prefix: str):
    """PostgreSQL: the action ends and nobody is left to act on it, in one statement (held with the step's
    other writes: runtime/step_writes.py)."""
    return unassigning(_end_open_action(prefix), prefix)


def complete_action(
    session: Session,
    action_id: int,
    actor: Actor,
    status: str,
    outcome: str | None,
    comment: str | None,
    now: datetime,
    data: dict | None = None,
) -> tuple[Action, Settled | None]:
    """Ends an open action with a status (and an optional outcome); the run moves on. `data`: the values of
    the action's form (runtime/forms.py), written to the dossier with the completion, or refused whole. The
    runs of the dossier stopped for want of a value the form gives take their step again (an action asking
    for data is such a form: runtime/data_needed.py)."""
    try:
        run = get_run(session, None, lock=True, action_id=action_id)
    except NotFound:
        raise NotFound(f"Aucune action {action_id}.") from None
    # Read once the run is locked: what another writer committed meanwhile is seen. The run's open actions
    # come in one statement: the step compares them with the engine's open tasks.
    current = open_actions(session, run, fresh=True)
    action = next((a for a in current if a.id == action_id), None)
    if action is None:  # no longer open (409), or another run's id (404 below)
        action = session.get(Action, action_id, populate_existing=True)
    get_action(session, action_id, actor)  # a partner's 404 outside the roles they hold
    _check(action, actor, status, outcome, comment)
    changes = {}
    if status not in ANY_TYPE:  # cancelling or skipping an action ignores its form
        spec = form_spec(session, action)
        if spec.fill or data:
            changes = read_form(run.dossier, spec, data, load_dictionary(session))
    ending = {
        "status": status,
        "outcome": outcome,
        "comment": comment,
        "completed_at": now,
        "completed_by": actor.label,
        "completed_by_user_id": actor.user_id,
    }
    values = {f"new_{name}": value for name, value in ending.items()}
    lost = Conflict(f"L'action {action.id} n'est plus ouverte.", action_status=action.status)
    postgres = step_writes.postgres(session)
    step_writes.hold(session)  # PostgreSQL: the action's end goes out with the step's writes
    ending_statement = _end_and_unassign if postgres else _end_open_action
    step_writes.write(session, ending_statement, {"action_id": action.id, **values}, guard=lost)
    for name, value in ending.items():  # what was written, without writing it again at the next flush
        set_committed_value(action, name, value)
    if not postgres:
        unassign(session, [action.id], unheld=not held(run, action.role))
    write_form(session, run.dossier, action, changes, actor, now)
    journal.record(
        session,
        action.dossier_id,
        actor.label,
        Kind.ACTION_COMPLETED,
        now,
        run_id=run.id,
        action_id=action.id,
        element_id=action.element_id,
        name=action.name,
        status=status,
        outcome=outcome,
        comment=comment,
    )
    if changes:
        resume_for_data(session, run.dossier, set(changes), actor, now)
    if data_needed.key_of(action) and status not in ANY_TYPE and run.status in data_needed.STOPPED:
        retry_run(session, run.id, actor, now)  # the value was there already
    if action.adhoc or run.status != RunStatus.RUNNING:
        step_writes.send(session)  # no step follows: the action's end goes out now
        return action, None
    others = [a for a in current if a is not action]
    settled = step_run(session, run, action_ended(run, action), actor, now, current=others)
    return action, settled


def _check(action: Action, actor: Actor, status: str, outcome: str | None, comment: str | None) -> None:
    if action.status != ActionStatus.OPEN:
        raise Conflict(
            f"L'action {action.id} n'est plus ouverte ({action.status}).", action_status=action.status
        )
    if not isinstance(status, str) or status not in allowed_statuses(action):
        raise RuleBroken(
            f"Statut {status!r} impossible pour une action « {action.type} » : "
            f"choisissez parmi {', '.join(allowed_statuses(action))}.",
            code="invalid_status",
            allowed=allowed_statuses(action),
        )
    if status not in allowed_statuses(action, actor):
        raise ForbiddenStatus(
            "Seul le gestionnaire du dossier peut passer ou annuler cette action : vous pouvez la terminer.",
            allowed=allowed_statuses(action, actor),
        )
    if outcome is not None:
        if not isinstance(outcome, str) or outcome not in (action.outcomes or []):
            raise RuleBroken(
                f"Résultat {outcome!r} inconnu pour cette action : choisissez parmi "
                f"{', '.join(action.outcomes or []) or '(aucun résultat prévu)'}.",
                code="invalid_outcome",
                allowed=action.outcomes or [],
            )
    if comment is not None and not isinstance(comment, str):
        raise Malformed("Le commentaire doit être un texte.")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise TooLong("comment", "Commentaire", MAX_COMMENT, len(comment))
