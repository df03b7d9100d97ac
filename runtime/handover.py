"""Handing open actions to someone else: a case manager going on holiday gives their actions to a
colleague, a team lead takes (« prendre ») an action nobody holds.

Actions go to roles: handing an action over makes the chosen user the holder of its role in its run (the
role's other open actions in that run follow, as when holders change on the dossier page). The user takes
part in the dossier as a participant, added when they are not one yet. Each dossier gets one history
entry for the whole handover. A preview (`plan_handover`) says what would change, and what would be
refused, before anything is written; `hand_over` writes all of it or nothing."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from kernel.accounts import User, UserKind
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken

from . import journal
from .actors import Actor
from .journal import Kind
from .models import Action, ActionStatus, Dossier, Participant, ParticipantKind, Run, RunRole, RunStatus
from .roles import KIND_LABELS
from .runs import get_run, replace_holders
from .specs import roles_used

MAX_ACTIONS = 500  # a handover is one transaction: beyond this, narrow the filter and hand over in parts


@dataclass
class DossierHandover:
    dossier_id: int
    reference: str
    title: str
    actions: list[tuple[int, str]] = field(default_factory=list)  # (id, name) of the chosen actions
    roles: list[tuple[int, str]] = field(default_factory=list)  # (run id, role) whose holder changes
    participant_id: int | None = None  # the user's participant, None: added by the handover


@dataclass
class Handover:
    user: User
    dossiers: list[DossierHandover]
    moved: int  # open actions that change hands: the chosen ones and the other actions of their roles
    gone: int  # chosen actions that are no longer open
    problems: list[str]

    @property
    def actions(self) -> int:
        return sum(len(d.actions) for d in self.dossiers)


def _user(session: Session, user_id) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise RuleBroken(
            "Choisissez la personne à qui confier les actions.", code="unknown_user", field="user_id"
        )
    return user


def _ids(action_ids) -> list[int]:
    if not isinstance(action_ids, list) or not all(isinstance(i, int) for i in action_ids):
        raise Malformed("« action_ids » doit être une liste d'identifiants d'actions.", field="action_ids")
    ids = list(dict.fromkeys(action_ids))
    if not ids:
        raise Malformed("Cochez au moins une action.", field="action_ids")
    if len(ids) > MAX_ACTIONS:
        raise RuleBroken(
            f"{len(ids)} actions choisies : {MAX_ACTIONS} au plus à la fois. Filtrez davantage, puis "
            "confiez-les en plusieurs fois.",
            code="too_many_actions",
            field="action_ids",
            limit=MAX_ACTIONS,
        )
    return ids


def plan_handover(session: Session, action_ids, user_id) -> Handover:
    """What handing the actions `action_ids` to the user `user_id` would do, and why it would be refused
    (`problems`, one sentence each, naming the dossier). Writes nothing."""
    user = _user(session, user_id)
    ids = _ids(action_ids)
    kind = ParticipantKind.PARTNER if user.kind == UserKind.PARTNER else ParticipantKind.INTERNAL
    rows = session.execute(
        select(
            Action.id, Action.name, Action.run_id, Action.role, Dossier.id, Dossier.reference, Dossier.title
        )
        .join(Dossier, Dossier.id == Action.dossier_id)
        .where(Action.id.in_(ids), Action.status == ActionStatus.OPEN)
        .order_by(Dossier.reference, Action.id)
    ).all()
    if not rows:
        raise Conflict("Aucune des actions choisies n'est encore ouverte.", code="actions_ended")
    dossiers: dict[int, DossierHandover] = {}
    for action_id, name, run_id, role, dossier_id, reference, title in rows:
        entry = dossiers.setdefault(dossier_id, DossierHandover(dossier_id, reference, title))
        entry.actions.append((action_id, name))
        if (run_id, role) not in entry.roles:
            entry.roles.append((run_id, role))
    known = session.execute(
        select(Participant.dossier_id, Participant.id).where(
            Participant.dossier_id.in_(dossiers), Participant.user_id == user.id
        )
    )
    problems = []
    for dossier_id, participant_id in known:
        dossiers[dossier_id].participant_id = participant_id
    runs = {
        r.id: r
        for r in session.scalars(
            select(Run)
            .where(Run.id.in_({run_id for d in dossiers.values() for run_id, _role in d.roles}))
            .options(selectinload(Run.version))
        )
    }
    for entry in dossiers.values():
        for run_id, role in entry.roles:
            run = runs[run_id]
            wanted = roles_used(session, run.version).get(role)
            if run.status not in (RunStatus.RUNNING, RunStatus.FAILED):
                problems.append(f"{entry.reference} : la séquence n'est plus en cours.")
            elif wanted is not None and wanted != kind:
                problems.append(
                    f"{entry.reference} : le rôle « {role} » revient à un intervenant "
                    f"{KIND_LABELS.get(wanted, wanted)}, et {user.name} est un intervenant "
                    f"{KIND_LABELS.get(kind, kind)}."
                )
    pairs = {pair for d in dossiers.values() for pair in d.roles}
    moved = sum(
        count
        for run_id, role, count in session.execute(
            select(Action.run_id, Action.role, func.count())
            .where(Action.run_id.in_(runs), Action.status == ActionStatus.OPEN)
            .group_by(Action.run_id, Action.role)
        )
        if (run_id, role) in pairs
    )
    return Handover(user, list(dossiers.values()), moved, len(ids) - len(rows), problems)


def hand_over(
    session: Session, actor: Actor, now: datetime, action_ids, user_id, *, only_unassigned: bool = False
) -> Handover:
    """Hands the actions to the user, all or nothing: refused (422 `handover_refused`, with the problems)
    if any of them cannot be. With `only_unassigned`, an action whose role someone holds by now is refused
    (409: someone else took it first)."""
    plan = plan_handover(session, action_ids, user_id)
    if plan.problems:
        raise RuleBroken(
            "Rien n'a été confié : " + " ".join(plan.problems[:5]),
            code="handover_refused",
            field="user_id",
            problems=plan.problems,
        )
    user = plan.user
    kind = ParticipantKind.PARTNER if user.kind == UserKind.PARTNER else ParticipantKind.INTERNAL
    for entry in sorted(plan.dossiers, key=lambda d: d.dossier_id):  # one lock order: no deadlock
        journal.lock_dossier(session, entry.dossier_id)
        added = entry.participant_id is None
        if added:
            participant = Participant(
                dossier_id=entry.dossier_id,
                kind=kind,
                name=user.name,
                email=user.email,
                user_id=user.id,
                created_at=now,
            )
            session.add(participant)
            session.flush()
            entry.participant_id = participant.id
        changes = []
        for run_id, role in entry.roles:
            run = get_run(session, run_id, lock=True)
            if only_unassigned and any(h.role == role for h in run.holders):
                raise Conflict(
                    f"{entry.reference} : quelqu'un tient déjà le rôle « {role} » de cette action.",
                    code="already_assigned",
                )
            before = replace_holders(session, run, role, [entry.participant_id])
            changes.append({"run_id": run_id, "role": role, "from": before, "to": [entry.participant_id]})
        journal.record(
            session,
            entry.dossier_id,
            actor.label,
            Kind.HOLDERS_REASSIGNED,
            now,
            user_id=user.id,
            name=user.name,
            participant_id=entry.participant_id,
            participant_added=added,
            actions=[action_id for action_id, _name in entry.actions],
            changes=changes,
        )
    return plan


def take_action(session: Session, action_id: int, actor: Actor, now: datetime) -> Handover:
    """« Prendre »: the actor becomes the holder of the role of an open action nobody holds."""
    if session.get(Action, action_id) is None:
        raise NotFound(f"Aucune action {action_id}.")
    held = session.scalar(
        select(
            exists().where(
                Action.id == action_id, RunRole.run_id == Action.run_id, RunRole.role == Action.role
            )
        )
    )
    if held:
        raise Conflict("Cette action a déjà un titulaire.", code="already_assigned")
    return hand_over(session, actor, now, [action_id], actor.user_id, only_unassigned=True)
