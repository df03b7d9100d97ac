"""Runs: launched by hand on one dossier (or by another sequence), piloted, ended."""

from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, inspect, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from bpmn.engine import Engine
from bpmn.errors import Conflict, Malformed, NotFound, RuleBroken
from designer.models import SequenceVersion
from designer.services import get_sequence, get_version, latest_version

from . import engine_cache, journal
from .actors import Actor, system
from .assignments import reassign_role
from .dossiers import default_holders, get_dossier
from .journal import Kind
from .models import Action, Checkpoint, Dossier, Run, RunRole, RunStatus
from .specs import bundle_of_run, models_of_run, pin_called_versions
from .stepper import Settled, cancel_all, engine_context, open_action, settle


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


def roles_used(session: Session, run_or_version) -> dict[str, str]:
    """Role key → kind, for the sequence and every sequence it calls."""
    from .specs import model_of, pin_called_versions

    version = run_or_version
    roles = {k: r.kind for k, r in model_of(version).roles.items()}
    for version_id in pin_called_versions(session, version).values():
        roles.update({k: r.kind for k, r in model_of(session.get(SequenceVersion, version_id)).roles.items()})
    return roles


def _resolve_version(session: Session, key: str, number: int | None) -> SequenceVersion:
    if number is not None:
        return get_version(session, key, number)
    return latest_version(session, key)


def _holders(
    session: Session,
    dossier: Dossier,
    roles: dict[str, str],
    given: dict | None,
    inherited: dict[str, list[int]] | None,
) -> dict[str, list[int]]:
    if given is not None and not isinstance(given, dict):
        raise Malformed("« roles » doit associer chaque rôle à une liste d'intervenants.")
    ids = {p.id for p in dossier.participants}
    holders: dict[str, list[int]] = {}
    for role, participant_ids in (given or {}).items():
        if not isinstance(participant_ids, list) or not all(isinstance(i, int) for i in participant_ids):
            raise Malformed(f"Le rôle « {role} » attend une liste d'identifiants d'intervenants.")
        strangers = [i for i in participant_ids if i not in ids]
        if strangers:
            raise RuleBroken(
                f"Intervenant(s) {strangers} inconnu(s) dans ce dossier.", code="unknown_participant"
            )
        holders[role] = list(dict.fromkeys(participant_ids))
    defaults = default_holders(dossier)
    for role in roles:
        if role not in holders:
            holders[role] = [i for i in (inherited or {}).get(role, []) if i in ids] or defaults.get(role, [])
    return holders


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
    inherited: dict[str, list[int]] | None = None,
    previous: Run | None = None,
) -> Run:
    """Starts a run by an explicit act: a user on one dossier, or another sequence (`inherited` holders)."""
    dossier = get_dossier(session, dossier_id)
    pinned = _resolve_version(session, sequence, version)
    used = roles_used(session, pinned)
    holders = _holders(session, dossier, used, roles, inherited)
    missing = sorted(r for r in used if not holders.get(r))
    if missing and not allow_unassigned and inherited is None:
        raise RuleBroken(
            "Des rôles de la séquence n'ont pas de titulaire : " + ", ".join(missing) + ".",
            code="unassigned_roles",
            roles=missing,
        )
    run = Run(
        dossier=dossier,
        version=pinned,
        version_id=pinned.id,
        status=RunStatus.RUNNING,
        called_versions=pin_called_versions(session, pinned),
        started_at=now,
        started_by=actor.label,
        previous_run_id=previous.id if previous else None,
    )
    session.add(run)
    for role, participant_ids in holders.items():
        for participant_id in participant_ids:
            run.holders.append(RunRole(role=role, participant_id=participant_id))
    session.flush()
    journal.record(
        session,
        dossier.id,
        actor.label,
        Kind.RUN_LAUNCHED,
        now,
        run_id=run.id,
        sequence=pinned.key,
        version=pinned.number,
        holders=holders,
        unassigned=missing,
        previous_run_id=run.previous_run_id,
    )
    guarded(session, run, actor, now, {"op": "start"})
    return run


def guarded(
    session: Session,
    run: Run,
    actor: Actor,
    now: datetime,
    operation: dict,
    cause: str | None = None,
    current: list[Action] | None = None,
) -> Settled | None:
    """Applies one engine operation to a run. The engine works in memory first: an unexpected engine error
    leaves the run as it was before the operation, marked failed with the error, and an admin retries it
    once the cause is fixed. Only a successful operation is written (settled) into the tables. `current`:
    the run's open actions, when the caller has just read them."""
    try:
        engine, timers_before = _operate(session, run, now, operation)
    except (Conflict, NotFound, Malformed, RuleBroken):
        raise
    except Exception as error:  # noqa: BLE001 — any engine failure must be kept, not lost
        run.status = RunStatus.FAILED
        run.error = f"{type(error).__name__}: {error}"
        run.failed_operation = operation
        journal.record(
            session,
            run.dossier_id,
            actor.label,
            Kind.RUN_FAILED,
            now,
            run_id=run.id,
            error=run.error,
            operation=operation.get("op"),
        )
        return None
    settled = settle(
        session, run, engine, models_of_run(session, run), actor, now, cause, current, timers_before
    )
    _after(session, run, settled, actor, now)
    engine_cache.keep(run.id, engine, run.state)
    return settled


def _operate(session: Session, run: Run, now: datetime, operation: dict) -> tuple[Engine, set[str] | None]:
    """The engine after the operation and, when they are known, the timers pending before it: after each
    step the pending timers are those the engine waited for, and completing an action or delivering an event
    fires none."""
    bundle = bundle_of_run(session, run)
    context = engine_context(run, now)
    op = operation["op"]
    if op == "start":
        return Engine.start(bundle, context), None
    engine = engine_cache.take(run.id, run.state, context) or Engine.restore(bundle, run.state, context)
    timers_before = {t.task_id for t in engine.waiting_timers()} if op in ("complete", "event") else None
    if op == "complete":
        engine.complete(operation["task_id"], operation["data"])
    elif op == "timer":
        engine.fire_timer(operation["task_id"])
    elif op == "event":
        engine.deliver(operation["name"], operation.get("payload") or {})
    elif op != "restore":  # restore: the state was replaced by a checkpoint's; settling follows it
        raise ValueError(f"unknown engine operation {op!r}")
    return engine, timers_before


def _after(session: Session, run: Run, settled: Settled, actor: Actor, now: datetime) -> None:
    if not settled.completed:
        return
    model = models_of_run(session, run)[run.version.key]
    next_keys = [
        model.elements[e].next for e in settled.end_events if e in model.elements and model.elements[e].next
    ]
    run.ended_at = now
    run.state = None  # nothing left to execute; the history keeps the path
    if next_keys:
        _switch(
            session,
            run,
            system("sequence"),
            now,
            next_keys[0],
            reason="fin de séquence",
            roles=None,
            by_sequence=True,
        )
    else:
        run.status = RunStatus.COMPLETED
        journal.record(
            session,
            run.dossier_id,
            actor.label,
            Kind.RUN_COMPLETED,
            now,
            run_id=run.id,
            end_events=settled.end_events,
        )


def write_run(session: Session, run: Run) -> None:
    """Writes what changed in the run's columns at once, guarded by its revision, as the session's flush would
    for this one row but without the flush's bookkeeping of everything the session holds. A run whose holders
    changed is left to the flush."""
    state = inspect(run)
    if any(state.attrs[r.key].history.has_changes() for r in state.mapper.relationships):
        return
    changes = {}
    for column in state.mapper.column_attrs:
        added = state.attrs[column.key].history.added
        if added:
            changes[column.key] = added[0]
    if not changes:
        return
    revision = state.committed_state.get("revision", run.revision)
    table = Run.__table__
    done = session.connection().execute(
        update(table).where(table.c.id == run.id, table.c.revision == revision),
        {**changes, "revision": revision + 1},
    )
    if done.rowcount != 1:
        raise StaleDataError(f"runs {run.id}: revision {revision} was changed by another writer")
    set_committed_value(run, "revision", revision + 1)
    # What is in memory is now what is stored: nothing left for the flush (SQLAlchemy is pinned for this).
    state._commit_all(state.dict, session.identity_map)


def current_holders(run: Run) -> dict[str, list[int]]:
    holders: dict[str, list[int]] = {}
    for holder in run.holders:
        holders.setdefault(holder.role, []).append(holder.participant_id)
    return holders


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
    return _switch(session, run, actor, now, sequence, reason, roles, by_sequence=False)


def _switch(
    session: Session,
    run: Run,
    actor: Actor,
    now: datetime,
    sequence: str,
    reason: str,
    roles: dict | None,
    by_sequence: bool,
) -> Run:
    cancel_all(session, run, system("switch"), now, f"changement de séquence vers « {sequence} »")
    run.status, run.ended_at, run.end_reason, run.state = RunStatus.SWITCHED, now, reason, None
    new = launch_run(
        session,
        run.dossier_id,
        actor,
        now,
        sequence=sequence,
        roles=roles,
        inherited=current_holders(run),
        previous=run,
        allow_unassigned=True,
    )
    run.next_run_id = new.id
    journal.record(
        session,
        run.dossier_id,
        actor.label,
        Kind.RUN_SWITCHED,
        now,
        run_id=run.id,
        next_run_id=new.id,
        sequence=sequence,
        reason=reason,
        by_sequence=by_sequence,
    )
    return new


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
    guarded(session, run, actor, now, {"op": "restore"}, cause=f"retour à l'étape {step} : {reason}")
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
    guarded(session, run, actor, now, operation)
    return run
