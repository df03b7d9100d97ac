"""How runtime objects are shown in JSON."""

from datetime import datetime

from runtime.actions import allowed_statuses
from runtime.actors import Actor
from runtime.models import Action, ActionStatus, Dossier, Participant, Run, RunStatus
from runtime.runs import current_holders
from runtime.specs import model_of


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def participant_dict(p: Participant) -> dict:
    return {
        "id": p.id,
        "dossier_id": p.dossier_id,
        "kind": p.kind,
        "name": p.name,
        "email": p.email,
        "phone": p.phone,
        "address": p.address,
        "user_id": p.user_id,
        "roles": p.role_keys,
    }


def action_dict(action: Action, now: datetime, actor: Actor | None = None) -> dict:
    """`actor`: who reads it, for the statuses they may end it with."""
    holders = [h.participant for h in action.run.holders if h.role == action.role]
    return {
        "id": action.id,
        "run_id": action.run_id,
        "dossier_id": action.dossier_id,
        "element_id": action.element_id,
        "name": action.name,
        "type": action.type,
        "role": action.role,
        "adhoc": action.adhoc,
        "assignees": [
            {"participant_id": p.id, "name": p.name, "kind": p.kind, "user_id": p.user_id} for p in holders
        ],
        "unassigned": not holders,
        "status": action.status,
        "outcome": action.outcome,
        "outcomes": action.outcomes or [],
        "allowed_statuses": allowed_statuses(action, actor),
        "comment": action.comment,
        "due_at": _iso(action.due_at),
        # how due_at was counted, {"fr": ..., "en": ...} (none for a date set by hand or written before)
        "due_note": action.due_note,
        "overdue": bool(action.status == ActionStatus.OPEN and action.due_at and action.due_at < now),
        "created_at": _iso(action.created_at),
        "completed_at": _iso(action.completed_at),
        "completed_by": action.completed_by,
        "cause": action.cause,
    }


def run_dict(run: Run, open_actions: list[Action], now: datetime) -> dict:
    holders = current_holders(run)
    roles = model_of(run.version).roles
    by_id = {h.participant.id: h.participant for h in run.holders}
    return {
        "id": run.id,
        "dossier_id": run.dossier_id,
        "sequence": run.version.key,
        "version": run.version.number,
        "status": run.status,
        "roles": {
            role: [
                {"participant_id": i, "name": by_id[i].name, "kind": by_id[i].kind} for i in ids if i in by_id
            ]
            for role, ids in holders.items()
        },
        "unassigned_roles": sorted(r for r in roles if not holders.get(r))
        if run.status == RunStatus.RUNNING
        else [],
        "open_actions": [action_dict(a, now) for a in open_actions],
        "active_elements": run.active_elements or [],
        "waiting_events": run.waiting_messages or [],
        "step": run.step,
        "started_at": _iso(run.started_at),
        "started_by": run.started_by,
        "ended_at": _iso(run.ended_at),
        "end_reason": run.end_reason,
        "error": run.error,
        "previous_run_id": run.previous_run_id,
        "next_run_id": run.next_run_id,
    }


def dossier_dict(dossier: Dossier, full: bool = True) -> dict:
    body = {"id": dossier.id, "reference": dossier.reference, "title": dossier.title}
    if full:
        body.update(
            data=dossier.data,
            created_at=_iso(dossier.created_at),
            updated_at=_iso(dossier.updated_at),
            participants=[participant_dict(p) for p in dossier.participants],
            runs=[
                {
                    "id": r.id,
                    "sequence": r.version.key,
                    "version": r.version.number,
                    "status": r.status,
                    "started_at": _iso(r.started_at),
                    "ended_at": _iso(r.ended_at),
                }
                for r in dossier.runs
            ],
        )
    return body
