"""Ending a communication action once every one of its outbox rows has ended.

- Every recipient sent: the action is completed `done` by system:communication and the run moves on.
- A recipient failed for good (refused address, no address, template not applicable to the dossier):
  * if the diagram draws a failure path — the flows leaving the send task route a completion with
    `status == "failed"` somewhere else than a `done` one, typically an exclusive gateway right after the
    send task with a flow whose condition is `status == "failed"` — the action is completed `failed`
    (with the reason as its comment) and the run follows that path;
  * otherwise the action stays open, flagged with the reason in its `cause`, for a manager to decide
    (complete it done, skipped or cancelled).
"""

from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from kernel.errors import Conflict

from . import journal
from .actions import complete_action
from .communications.models import Communication, CommunicationStatus
from .communications.outbox import ACTOR
from .journal import Kind
from .models import Action, ActionStatus, ActionType
from .notifications import note_failure
from .paths import graph_of, route
from .specs import version_holding

FLAG = "Envoi en échec, décision attendue : "
MAX_REASON = 2000


def awaiting_resolution():
    """Open communication actions, not flagged yet, whose rows have all ended (or that have none)."""
    pending = exists().where(Communication.action_id == Action.id,
                             Communication.status.in_(CommunicationStatus.pending()))
    return select(Action.id).where(and_(Action.status == ActionStatus.OPEN,
                                        Action.type == ActionType.COMMUNICATION,
                                        Action.cause.is_(None), ~pending)).order_by(Action.id)


def resolve(session: Session, action_id: int, now: datetime) -> str | None:
    """Ends or flags the action if its communications are all over; returns what was done."""
    action = session.get(Action, action_id, populate_existing=True)
    if action is None or action.status != ActionStatus.OPEN or action.type != ActionType.COMMUNICATION \
            or action.cause:
        return None
    rows = [r for r in session.scalars(select(Communication).where(Communication.action_id == action.id))
            if r.status != CommunicationStatus.CANCELLED]
    if any(r.status in CommunicationStatus.pending() for r in rows):
        return None
    failed = [r for r in rows if r.status == CommunicationStatus.FAILED]
    try:
        if rows and not failed:
            complete_action(session, action.id, ACTOR, ActionStatus.DONE, None, None, now)
            return ActionStatus.DONE
        reason = "; ".join(f"{r.recipient_name or 'destinataire'} : {r.error}" for r in failed) \
            or f"aucun destinataire : personne ne tient le rôle « {action.role} »"
        reason = reason[:MAX_REASON]
        note_failure(session, action.dossier_id, "communication_failed", f"« {action.name} » : {reason}", now,
                     run_id=action.run_id, action_id=action.id)
        if has_failure_path(session, action, now):
            comment = f"Envoi en échec : {reason}"
            complete_action(session, action.id, ACTOR, ActionStatus.FAILED, None, comment, now)
            return ActionStatus.FAILED
    except Conflict:
        return None  # someone ended it meanwhile: their decision stands
    action.cause = FLAG + reason
    journal.record(session, action.dossier_id, ACTOR.label, Kind.COMMUNICATION_FAILED, now,
                   run_id=action.run_id, action_id=action.id, reason=reason, awaiting_decision=True)
    return "flagged"


def has_failure_path(session: Session, action: Action, now: datetime) -> bool:
    """Whether the diagram sends a failed communication elsewhere than a sent one (see module doc)."""
    run = action.run
    graph = graph_of(version_holding(session, run, action.element_id))
    context = {"outcome": None, "actions": {}, "dossier": dict(run.dossier.data or {}), "event": None}
    failed = route(graph, action.element_id, {**context, "status": ActionStatus.FAILED.value}, now)
    done = route(graph, action.element_id, {**context, "status": ActionStatus.DONE.value}, now)
    return failed.flows != done.flows
