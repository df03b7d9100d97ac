"""Runs: launched by hand on one dossier (or by another sequence), piloted, ended."""

from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from designer.models import Sequence, SequenceVersion
from designer.services import get_version, latest_version, require_launchable
from kernel.errors import AlreadyRunning, Conflict, Malformed, NotFound, RuleBroken

from . import data_needed, journal
from .actors import Actor, system
from .assignments import reassign_role
from .data_needed import STOPPED
from .dossiers import get_dossier
from .journal import Kind
from .models import Action, Checkpoint, Run, RunRole, RunStatus
from .reach import check_reach
from .roles import check_holders
from .run_versions import follow, record_change, version_at
from .specs import roles_used
from .step import (
    current_holders,
    holders_for,
    migrated,
    moved_back,
    retried,
    start_run,
    step_run,
    switch_to,
)
from .stepper import cancel_all, open_action


def _locked_run_query(condition) -> Select:
    return (
        select(Run)
        .where(condition)
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
    if by == "runs":
        condition = Run.id.in_(bindparam("run_ids", expanding=True))
    else:
        condition = Run.id == (_RUN_OF_ACTION if by == "action" else bindparam("run_id"))
    return _locked_run_query(condition).add_columns(journal.head_of(Run.dossier_id).scalar_subquery())


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


def read_locked_runs(session: Session, run_ids: list[int]) -> dict[int, Run]:
    """Runs whose dossiers this transaction has locked already, each read as get_run(lock=True) reads it, all
    in one statement: what their steps' first history entries chain onto is known too."""
    found = {}
    for run, head in session.execute(_locked_run("runs"), {"run_ids": run_ids}).unique():
        journal.known_head(session, run.dossier_id, head)
        found[run.id] = run
    return found


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
    allow_unreachable: bool = False,
    confirm: bool = False,
) -> Run:
    """Starts a run by an explicit act of a user on one dossier (a sequence that ends starts the next one
    through step.switch_to). A sequence that already runs on the dossier runs a second time only with
    `confirm` (`already_running`); an archived sequence is refused."""
    dossier = get_dossier(session, dossier_id)
    require_launchable(session, sequence)
    pinned = _resolve_version(session, sequence, version)
    if not confirm:
        # Locked first: two launches at once (a double click) cannot both find the sequence not running.
        journal.lock_dossier(session, dossier.id)
        running = running_run(session, dossier.id, pinned.key)
        if running is not None:
            raise AlreadyRunning(
                f"« {running.version.name} » est déjà en cours sur ce dossier depuis le "
                f"{running.started_at:%d/%m/%Y} : confirmez pour la lancer une seconde fois.",
                run_id=running.id,
                sequence=pinned.key,
                name=running.version.name,
                started_at=running.started_at.isoformat(),
            )
    used = roles_used(session, pinned)
    holders = holders_for(dossier, used, roles, None)
    missing = sorted(r for r in used if not holders.get(r))
    if missing and not allow_unassigned:
        raise RuleBroken(
            "Des rôles de la séquence n'ont pas de titulaire : " + ", ".join(missing) + ".",
            code="unassigned_roles",
            roles=missing,
        )
    check_reach(session, dossier, pinned, holders, allowed=allow_unreachable)
    return start_run(session, dossier, pinned, holders, actor, now, unassigned=missing)


def running_run(session: Session, dossier_id: int, key: str) -> Run | None:
    """The earliest run of the sequence `key` on the dossier that has not ended (running, or failed and
    waiting to be repaired), if any."""
    return session.scalar(
        select(Run)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(SequenceVersion.sequence)
        .where(
            Run.dossier_id == dossier_id,
            Run.status.in_([RunStatus.RUNNING, RunStatus.FAILED, RunStatus.WAITING_DATA]),
            Sequence.key == key,
        )
        .order_by(Run.started_at, Run.id)
        .limit(1)
    )


def _require_running(run: Run) -> None:
    if run.status != RunStatus.RUNNING:
        raise Conflict(f"Le déroulement {run.id} n'est plus en cours ({run.status}).")


def _require_live(run: Run) -> None:
    if run.status not in (RunStatus.RUNNING, *STOPPED):
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
    if run.status not in (RunStatus.RUNNING, *STOPPED):
        raise Conflict(f"Le déroulement {run.id} n'est plus en cours ({run.status}).")
    require_launchable(session, sequence)
    return switch_to(session, run, actor, now, sequence, reason, roles, by_sequence=False)


def set_role_holders(
    session: Session, run_id: int, actor: Actor, role: str, participant_ids: list, now: datetime
) -> Run:
    """Moves the role's open actions at once (who must act is read from the holders); completed actions
    keep who completed them. A failed run's holders can change too: who repairs it may be someone else."""
    return set_run_holders(session, run_id, actor, {role: participant_ids}, now, unchanged_too=True)


def set_run_holders(
    session: Session,
    run_id: int,
    actor: Actor,
    holders: dict[str, list],
    now: datetime,
    *,
    unchanged_too: bool = False,
) -> Run:
    """The holders of several roles of one run (the dossier page's one form): each role whose holders
    change is one history entry, as when one role changes; roles left as they were write nothing. Every
    role is checked before anything is written."""
    run = get_run(session, run_id, lock=True)
    _require_live(run)
    used = roles_used(session, run.version)
    people = {p.id: p for p in run.dossier.participants}
    for role, participant_ids in holders.items():
        if role not in used and role not in current_holders(run):
            raise RuleBroken(
                f"La séquence de ce déroulement n'a pas de rôle « {role} ».", code="unknown_role", role=role
            )
        if not isinstance(participant_ids, list) or not all(isinstance(i, int) for i in participant_ids):
            raise Malformed(
                "« participant_ids » doit être une liste d'identifiants.", field="participant_ids"
            )
        strangers = [i for i in participant_ids if i not in people]
        if strangers:
            raise RuleBroken(
                f"Intervenant(s) {strangers} inconnu(s) dans ce dossier.",
                code="unknown_participant",
                field="participant_ids",
                role=role,
            )
        if role in used:  # a role carried over from an earlier run, not drawn here, has no kind to check
            check_holders(used, role, [people[i] for i in participant_ids], field="participant_ids")
    for role, participant_ids in holders.items():
        wanted = list(dict.fromkeys(participant_ids))
        if not unchanged_too and sorted(wanted) == sorted(current_holders(run).get(role, [])):
            continue
        before = replace_holders(session, run, role, wanted)
        journal.record(
            session,
            run.dossier_id,
            actor.label,
            Kind.ROLE_CHANGED,
            now,
            run_id=run.id,
            role=role,
            holders={"from": before, "to": wanted},
        )
    return run


def replace_holders(session: Session, run: Run, role: str, wanted: list[int]) -> list[int]:
    """The role's holders in the run become `wanted` (participant ids, checked by the caller) and its open
    actions move to them; returns the holders before. Writes no history: the caller says why."""
    before = current_holders(run).get(role, [])
    # Holders who stay are kept, not removed and added again: the flush inserts before it deletes.
    run.holders[:] = [h for h in run.holders if h.role != role or h.participant_id in wanted]
    for participant_id in wanted:
        if participant_id not in before:
            run.holders.append(RunRole(role=role, participant_id=participant_id))
    session.flush()
    reassign_role(session, run, role)
    return before


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
    _require_live(run)  # a failed run too: the action may be what repairs it
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
    """Returns the run to an earlier step; what happened since stays in the history. A failed run may also
    return to its current step: the operation that failed was not applied, the step's actions reopen."""
    if not (reason or "").strip():
        raise Malformed("Indiquez la raison du retour en arrière.")
    run = get_run(session, run_id, lock=True)
    _require_live(run)
    target = session.scalar(select(Checkpoint).where(Checkpoint.run_id == run.id, Checkpoint.step == step))
    failed = run.status in STOPPED
    if target is None or step > run.step or (step == run.step and not failed):
        raise RuleBroken(f"L'étape {step} n'est pas une étape antérieure disponible.", code="unknown_step")
    from_step = run.step
    run.state = target.state
    if failed:  # what failed is left behind; should the step fail again, guarded says so
        data_needed.close_for(session, run, actor, now)
        run.status, run.error, run.failed_operation = RunStatus.RUNNING, None, None
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
    back_to = version_at(session, run, step)
    if back_to is not None and back_to[0] != run.version_id:
        # A step before a migration: the run goes back to the version it was on, its actions and timers too.
        version = session.get(SequenceVersion, back_to[0])
        record_change(session, run, version, back_to[1], actor, now, back=True)
        step_run(session, run, migrated(f"retour à l'étape {step} : {reason}"), actor, now)
        follow(session, run, actor, now)
        return run
    step_run(session, run, moved_back(f"retour à l'étape {step} : {reason}"), actor, now)
    return run


def resume_for_data(session: Session, dossier, keys: set[str], actor: Actor, now: datetime) -> list[Run]:
    """The runs of the dossier stopped for want of one of `keys` (waiting for data, or failed on an
    expression reading it) take their step again, now that the dossier holds a new value."""
    stopped = data_needed.stopped_for(session, dossier, keys)
    return [retry_run(session, run_id, actor, now) for run_id in stopped]


def retry_run(session: Session, run_id: int, actor: Actor, now: datetime) -> Run:
    """Takes again the step a failed run, or a run waiting for data, could not take; the actions asking for
    data are no longer needed (should the step stop again, it asks again)."""
    run = get_run(session, run_id, lock=True)
    if run.status not in STOPPED:
        raise Conflict(f"Le déroulement {run.id} n'est pas en échec.")
    operation = run.failed_operation or {"op": "restore"}
    data_needed.close_for(session, run, actor, now)
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


def running_by_version(session: Session) -> dict[int, int]:
    """Published version id → dossiers running it (failed runs included: they are retried, not ended), the
    versions of called sequences too. What the dictionary may not retype nor remove depends on it."""
    live = Run.status.in_([RunStatus.RUNNING, RunStatus.FAILED])
    dossiers = func.count(func.distinct(Run.dossier_id))
    query = select(Run.version_id, dossiers).where(live).group_by(Run.version_id)
    counts = dict(session.execute(query).all())
    for called in session.scalars(select(Run.called_versions).where(live)):
        for version_id in (called or {}).values():
            counts[version_id] = counts.get(version_id, 0) + 1
    return counts
