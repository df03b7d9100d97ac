"""Runs: launched by hand on one dossier (or by another sequence), piloted, ended."""

from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from designer.models import SequenceVersion
from designer.services import get_sequence, get_version, latest_version
from kernel.errors import Conflict, Malformed, NotFound, RuleBroken

from . import journal
from .actors import Actor, system
from .assignments import reassign_role
from .dossiers import get_dossier
from .journal import Kind
from .models import Action, Checkpoint, Run, RunRole, RunStatus
from .specs import roles_used
from .step import current_holders, holders_for, moved_back, retried, start_run, step_run, switch_to
from .stepper import cancel_all, open_action


def _locked_run_query(run_id) -> Select:
    return (
        select(Run)
        .where(Run.id == run_id)
        .options(
            joinedload(Run.version, innerjoin=True).joinedload(SequenceVersion.sequence, innerjoin=True),
            joinedload(Run.dossier, innerjoin=True),
            joinedload(Run.holders),  # with their participants (RunRole.participant is joined)
        )
        .execution_options(populate_existing=True)
    )


# Built once: statements of every step (building them costs more than running them on SQLite).
_RUN_OF_ACTION = select(Action.run_id).where(Action.id == bindparam("action_id")).scalar_subquery()


@cache  # on first use, once every model is mapped
def _locked_run(by: str) -> Select:
    """The run with what it needs, and the hash of its dossier's last history entry: read once the dossier is
    locked, it is what the step's first entry chains onto."""
    query = _locked_run_query(_RUN_OF_ACTION if by == "action" else bindparam("run_id"))
    return query.add_columns(journal.head_of(Run.dossier_id).scalar_subquery())


def _dossier_lock(run_id) -> Select:
    return journal.lock_statement(select(Run.dossier_id).where(Run.id == run_id).scalar_subquery())


_LOCK_DOSSIER_OF = {"run": _dossier_lock(bindparam("run_id")), "action": _dossier_lock(_RUN_OF_ACTION)}


def get_run(
    session: Session,
    run_id: int | None,
    actor: Actor | None = None,
    lock: bool = False,
    action_id: int | None = None,
) -> Run:
    """The run `run_id`, or the run of the action `action_id`. With `lock`, the run's dossier is locked first
    (the lock every writer of its runs and history takes), then the run is read with what every engine
    operation needs (version, sequence key, dossier data, role holders) in one statement."""
    by = "action" if action_id is not None else "run"
    params = {"action_id": action_id} if action_id is not None else {"run_id": run_id}
    if lock:
        journal.lock_with(session, _LOCK_DOSSIER_OF[by], params)
        run, head = session.execute(_locked_run(by), params).unique().first() or (None, None)
        if run is not None:
            journal.known_head(session, run.dossier_id, head)
    elif action_id is not None:
        run = session.scalar(select(Run).where(Run.id == _RUN_OF_ACTION), params)
    else:
        run = session.get(Run, run_id)
    if run is None:
        raise NotFound(f"Aucun déroulement {run_id}." if run_id is not None else "Aucun déroulement.")
    if actor is not None and actor.is_partner:
        get_dossier(session, run.dossier_id, actor)  # 404 outside the partner's dossiers
    return run


def _resolve_version(session: Session, key: str, number: int | None) -> SequenceVersion:
    if number is not None:
        return get_version(session, key, number)
    return latest_version(session, key)


def launch_run(
    session: Session,
    dossier_id: int,
    actor: Actor,
    now: datetime,
    *,
    sequence: str,
    version: int | None = None,
    roles: dict | None = None,
    allow_unassigned: bool = False,
) -> Run:
    """Starts a run by an explicit act of a user on one dossier (a sequence that ends starts the next one
    through step.switch_to)."""
    dossier = get_dossier(session, dossier_id)
    pinned = _resolve_version(session, sequence, version)
    used = roles_used(session, pinned)
    holders = holders_for(dossier, used, roles, None)
    missing = sorted(r for r in used if not holders.get(r))
    if missing and not allow_unassigned:
        raise RuleBroken(
            "Des rôles de la séquence n'ont pas de titulaire : " + ", ".join(missing) + ".",
            code="unassigned_roles",
            roles=missing,
        )
    return start_run(session, dossier, pinned, holders, actor, now, unassigned=missing)


def _require_running(run: Run) -> None:
    if run.status != RunStatus.RUNNING:
        raise Conflict(f"Le déroulement {run.id} n'est plus en cours ({run.status}).")


def interrupt_run(session: Session, run_id: int, actor: Actor, reason: str, now: datetime) -> Run:
    if not (reason or "").strip():
        raise Malformed("Indiquez la raison de l'interruption.")
    run = get_run(session, run_id, lock=True)
    _require_running(run)
    cancel_all(session, run, system("interruption"), now, f"déroulement interrompu : {reason}")
    run.status, run.ended_at, run.end_reason, run.state = RunStatus.INTERRUPTED, now, reason, None
    journal.record(
        session, run.dossier_id, actor.label, Kind.RUN_INTERRUPTED, now, run_id=run.id, reason=reason
    )
    return run


def switch_run(
    session: Session,
    run_id: int,
    actor: Actor,
    now: datetime,
    *,
    sequence: str,
    reason: str,
    roles: dict | None = None,
) -> Run:
    if not (reason or "").strip():
        raise Malformed("Indiquez la raison du changement de séquence.")
    run = get_run(session, run_id, lock=True)
    if run.status not in (RunStatus.RUNNING, RunStatus.FAILED):
        raise Conflict(f"Le déroulement {run.id} n'est plus en cours ({run.status}).")
    get_sequence(session, sequence)
    return switch_to(session, run, actor, now, sequence, reason, roles, by_sequence=False)


def set_role_holders(
    session: Session, run_id: int, actor: Actor, role: str, participant_ids: list, now: datetime
) -> Run:
    """Moves the role's open actions at once (who must act is read from the holders); completed actions
    keep who completed them."""
    run = get_run(session, run_id, lock=True)
    _require_running(run)
    if role not in roles_used(session, run.version) and role not in current_holders(run):
        raise RuleBroken(f"La séquence de ce déroulement n'a pas de rôle « {role} ».", code="unknown_role")
    if not isinstance(participant_ids, list) or not all(isinstance(i, int) for i in participant_ids):
        raise Malformed("« participant_ids » doit être une liste d'identifiants.")
    dossier_ids = {p.id for p in run.dossier.participants}
    strangers = [i for i in participant_ids if i not in dossier_ids]
    if strangers:
        raise RuleBroken(
            f"Intervenant(s) {strangers} inconnu(s) dans ce dossier.", code="unknown_participant"
        )
    before = current_holders(run).get(role, [])
    run.holders[:] = [h for h in run.holders if h.role != role]
    for participant_id in dict.fromkeys(participant_ids):
        run.holders.append(RunRole(role=role, participant_id=participant_id))
    session.flush()
    reassign_role(session, run, role)
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.ROLE_CHANGED,
        now,
        run_id=run.id,
        role=role,
        holders={"from": before, "to": list(dict.fromkeys(participant_ids))},
    )
    return run


def add_adhoc_action(
    session: Session,
    run_id: int,
    actor: Actor,
    now: datetime,
    *,
    name: str,
    role: str,
    due_at: datetime | None = None,
) -> Action:
    """An action outside the drawn path: it does not change where the run goes."""
    if not (name or "").strip() or not (role or "").strip():
        raise Malformed("Une action ajoutée a besoin d'un intitulé et d'un rôle.")
    run = get_run(session, run_id, lock=True)
    _require_running(run)
    return open_action(
        session,
        run,
        actor,
        now,
        Kind.ACTION_ADDED,
        element_id="adhoc",
        name=name.strip(),
        type="task",
        role=role.strip(),
        outcomes=[],
        adhoc=True,
        due_at=due_at,
    )


def checkpoints(session: Session, run: Run) -> list[Checkpoint]:
    query = select(Checkpoint).where(Checkpoint.run_id == run.id).order_by(Checkpoint.step)
    return list(session.scalars(query))


def move_back(session: Session, run_id: int, actor: Actor, now: datetime, *, step: int, reason: str) -> Run:
    """Returns the run to an earlier step; what happened since stays in the history."""
    if not (reason or "").strip():
        raise Malformed("Indiquez la raison du retour en arrière.")
    run = get_run(session, run_id, lock=True)
    _require_running(run)
    target = session.scalar(select(Checkpoint).where(Checkpoint.run_id == run.id, Checkpoint.step == step))
    if target is None or step >= run.step:
        raise RuleBroken(f"L'étape {step} n'est pas une étape antérieure disponible.", code="unknown_step")
    from_step = run.step
    run.state = target.state
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.RUN_MOVED_BACK,
        now,
        run_id=run.id,
        from_step=from_step,
        to_step=step,
        elements=target.elements,
        reason=reason,
    )
    step_run(session, run, moved_back(f"retour à l'étape {step} : {reason}"), actor, now)
    return run


def retry_run(session: Session, run_id: int, actor: Actor, now: datetime) -> Run:
    run = get_run(session, run_id, lock=True)
    if run.status != RunStatus.FAILED:
        raise Conflict(f"Le déroulement {run.id} n'est pas en échec.")
    operation = run.failed_operation or {"op": "restore"}
    run.status, run.error, run.failed_operation = RunStatus.RUNNING, None, None
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.RUN_RETRIED,
        now,
        run_id=run.id,
        operation=operation.get("op"),
    )
    step_run(session, run, retried(operation), actor, now)
    return run
