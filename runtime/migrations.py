"""Moving running dossiers from one published version of a sequence to another.

- `plan_migration`: the waiting points of the source version (where a run can stand: tasks, timers, event
  waits), each with the dossiers waiting there and its counterpart in the target, drafted from the same
  element id; a waiting point without counterpart must be mapped by hand or its dossiers are left out.
- `migrate_runs`: for each chosen run of the source version, under its dossier's lock: the engine state is
  moved onto the target (bpmn/engine_migrate.py), the run takes one step (runtime/step.py: open actions
  kept when their element maps, the others cancelled, new ones created), kept timers take the new delay
  counted from when their wait started, and the history says from
  which version to which, who, and the mapping used.
  A preview (`dry_run`) does exactly that inside a savepoint rolled back: it is the real engine's answer.
  Executed, each dossier is one transaction of its own: a dossier is migrated or left out with the reason,
  never half-moved. A dossier stepped by someone else meanwhile (an action completed, a timer fired) waits for
  the lock and is migrated after that step, or left out if that step ended its run.

Going back: runtime/runs.py:move_back to a step before the migration puts the run back on its version
(runtime/run_versions.py)."""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bpmn.engine import Engine, EngineError, SpecBundle
from bpmn.engine_migrate import MigrationRefused, migrate
from designer.models import Sequence, SequenceVersion
from designer.services import get_version
from kernel.db import unit_of_work
from kernel.errors import DomainError, Malformed, RuleBroken

from .actors import Actor
from .assignments import reassign_role
from .dossiers import default_holders
from .models import Action, Dossier, Run, RunRole, RunStatus
from .run_versions import follow, record_change
from .runs import get_run
from .specs import bundle_of_run, model_of, pin_called_versions, roles_used, spec_of
from .step import current_holders, mark_step, migrated, step_run
from .stepper import engine_context, open_actions

# Where a run can stand, by BPMN tag, and what it waits for.
WAITING_KINDS = {
    "userTask": "task",
    "sendTask": "task",
    "receiveTask": "event",
    "intermediateCatchEvent": "event",
    "eventBasedGateway": "event",
    "boundaryEvent": "event",
}


@dataclass(frozen=True)
class _Move:
    """What every dossier's migration needs of the two versions, computed once (a commit per dossier would
    otherwise read the versions again each time)."""

    source_id: int
    target_id: int
    target_number: int
    mapping: dict[str, str]
    called: dict[str, int]
    bundle: SpecBundle
    used: dict[str, str]
    labels: dict[str, str]
    source_names: dict[str, str]
    target_names: dict[str, str]


def _prepare(session: Session, source: SequenceVersion, target: SequenceVersion, mapping: dict) -> _Move:
    called = pin_called_versions(session, target)
    bundle = SpecBundle(
        top=spec_of(target), called={k: spec_of(session.get(SequenceVersion, v)) for k, v in called.items()}
    )
    return _Move(
        source_id=source.id,
        target_id=target.id,
        target_number=target.number,
        mapping=mapping,
        called=called,
        bundle=bundle,
        used=roles_used(session, target),
        labels={k: r.name or k for k, r in model_of(target).roles.items()},
        source_names={e: p["name"] for e, p in _waits(source).items()},
        target_names={e: p["name"] for e, p in _waits(target).items()},
    )


def _versions(
    session: Session, key: str, from_version, to_version
) -> tuple[SequenceVersion, SequenceVersion]:
    for name, value in (("from_version", from_version), ("to_version", to_version)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise Malformed(f"« {name} » doit être un numéro de version.", field=name)
    if from_version == to_version:
        raise RuleBroken(
            "Choisissez une version cible différente de la version source.",
            code="same_version",
            field="to_version",
        )
    return get_version(session, key, from_version), get_version(session, key, to_version)


def _waits(version: SequenceVersion) -> dict[str, dict]:
    model = model_of(version)
    return {
        e.id: {"element_id": e.id, "name": e.name or e.id, "kind": WAITING_KINDS[e.tag], "tag": e.tag}
        for e in model.elements.values()
        if e.tag in WAITING_KINDS
    }


def _running(session: Session, version: SequenceVersion) -> list[Run]:
    query = select(Run).where(Run.version_id == version.id, Run.status == RunStatus.RUNNING).order_by(Run.id)
    return list(session.scalars(query))


def plan_migration(session: Session, key: str, from_version, to_version, mapping: dict | None = None) -> dict:
    """The waiting points of the source with the dossiers at each and their target (the mapping given, else
    the same id), the target's waiting points, and the mapping to use."""
    source, target = _versions(session, key, from_version, to_version)
    mapping = check_mapping(source, target, mapping or {})
    targets = _waits(target)
    waiting = Counter(e for run in _running(session, source) for e in set(run.active_elements or []))
    points = []
    for element_id, point in _waits(source).items():
        chosen = mapping.get(element_id)
        if chosen is None and element_id in targets and targets[element_id]["kind"] == point["kind"]:
            chosen = element_id
        points.append(
            {
                **point,
                "dossiers": waiting.get(element_id, 0),
                "target": chosen,
                "drafted": chosen == element_id and element_id not in mapping,
            }
        )
    drafted = {p["element_id"]: p["target"] for p in points if p["target"]}
    return {
        "sequence": key,
        "name": target.name,
        "from_version": source.number,
        "to_version": target.number,
        "waits": points,
        "targets": list(targets.values()),
        "mapping": drafted,
        "unmapped": [p for p in points if not p["target"] and p["dossiers"]],
        "running": sum(1 for _ in _running(session, source)),
    }


def check_mapping(source: SequenceVersion, target: SequenceVersion, mapping) -> dict[str, str]:
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise Malformed("« mapping » associe des identifiants d'éléments : {source: cible}.", field="mapping")
    sources, targets = _waits(source), _waits(target)
    for element_id, target_id in mapping.items():
        if element_id not in sources:
            raise RuleBroken(
                f"« {element_id} » n'est pas une étape d'attente de la version {source.number}.",
                code="unknown_element",
                field=f"mapping.{element_id}",
            )
        if target_id not in targets:
            raise RuleBroken(
                f"« {target_id} » n'est pas une étape d'attente de la version {target.number}.",
                code="unknown_element",
                field=f"mapping.{element_id}",
            )
        if sources[element_id]["kind"] != targets[target_id]["kind"]:
            raise RuleBroken(
                f"« {sources[element_id]['name']} » ne peut pas devenir « {targets[target_id]['name']} » : "
                "une tâche va vers une tâche, une attente vers une attente.",
                code="incompatible_elements",
                field=f"mapping.{element_id}",
            )
    return dict(mapping)


def migrate_runs(
    session: Session,
    key: str,
    actor: Actor,
    now: Callable[[], datetime],
    *,
    from_version,
    to_version,
    mapping: dict | None = None,
    dossiers="all",
    dry_run: bool = False,
    restart_timers: bool = False,
) -> list[dict]:
    """One report per run of the source version on the chosen dossiers (`"all"` or a list of ids) (who may:
    managers and admins, web/permissions.py). Executed, each dossier is committed (or rolled back) on its
    own; previewed, nothing is.
    `now` is called for each dossier: a long migration dates each one when it happens."""
    source, target = _versions(session, key, from_version, to_version)
    mapping = check_mapping(source, target, mapping or {})
    drafted = {**{e: e for e in _waits(source) if e in _waits(target)}, **mapping}
    run_ids = _chosen(session, source, dossiers)
    reports = []
    found = {dossier_id for _run, dossier_id, _ref in run_ids}
    missing = [] if dossiers == "all" else [i for i in dict.fromkeys(dossiers) if i not in found]
    query = select(Dossier.id, Dossier.reference).where(Dossier.id.in_(missing))
    references = {i: ref for i, ref in session.execute(query)} if missing else {}
    for dossier_id in missing:  # ended or moved meanwhile: said, never silently dropped
        gone = RuleBroken(
            f"Aucun déroulement en cours sur la version {source.number} dans ce dossier.", code="not_running"
        )
        reports.append(_left_out(dossier_id, None, references.get(dossier_id), gone))
    move = _prepare(session, source, target, drafted)
    for run_id, dossier_id, reference in run_ids:
        if dry_run:
            savepoint = session.begin_nested()
            try:
                reports.append(_migrate_one(session, run_id, move, actor, now(), True, restart_timers))
            except DomainError as refused:
                reports.append(_left_out(dossier_id, run_id, reference, refused))
            finally:
                savepoint.rollback()
                # Nothing of this dossier is kept: a long preview's session stays small (flushes stay fast).
                session.expunge_all()
        else:
            try:
                with unit_of_work(session, fresh=True):
                    reports.append(
                        _migrate_one(
                            session,
                            run_id,
                            move,
                            actor,
                            now(),
                            False,
                            restart_timers,
                        )
                    )
            except DomainError as refused:
                reports.append(_left_out(dossier_id, run_id, reference, refused))
    if dry_run:
        session.rollback()
    return reports


def _chosen(session: Session, source: SequenceVersion, dossiers) -> list[tuple[int, int, str]]:
    """(run id, dossier id, reference) of the runs of the source version not ended, on the chosen dossiers."""
    query = (
        select(Run.id, Run.dossier_id, Dossier.reference)
        .join(Dossier, Dossier.id == Run.dossier_id)
        .where(Run.version_id == source.id, Run.status.in_([RunStatus.RUNNING, RunStatus.FAILED]))
    )
    if dossiers != "all":
        if not isinstance(dossiers, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31 for i in dossiers
        ):
            raise Malformed(
                '« dossiers » vaut "all" ou une liste d\'identifiants de dossiers.', field="dossiers"
            )
        query = query.where(Run.dossier_id.in_(dossiers))
    return [tuple(row) for row in session.execute(query.order_by(Run.dossier_id, Run.id))]


def _left_out(dossier_id: int, run_id: int | None, reference: str | None, refused: DomainError) -> dict:
    return {
        "dossier_id": dossier_id,
        "reference": reference,
        "run_id": run_id,
        "status": "left_out",
        "reason": refused.message,
        "code": refused.code,
        "element_id": refused.details.get("element_id"),
        "actions": {"kept": [], "cancelled": [], "created": []},
        "timers": [],
    }


def _action(action: Action) -> dict:
    return {
        "id": action.id,
        "element_id": action.element_id,
        "name": action.name,
        "role": action.role,
        "due_at": action.due_at.isoformat() if action.due_at else None,
    }


def _migrate_one(
    session: Session,
    run_id: int,
    move: _Move,
    actor: Actor,
    now: datetime,
    dry_run: bool,
    restart: bool,
) -> dict:
    run = get_run(session, run_id, lock=True)
    if run.status == RunStatus.FAILED:
        raise RuleBroken("Le déroulement est en échec : réparez-le d'abord (Incidents).", code="run_failed")
    if run.status != RunStatus.RUNNING:
        raise RuleBroken("Le déroulement s'est terminé entre-temps.", code="not_running")
    if run.version_id != move.source_id:  # moved meanwhile: the mapping was drawn for the source only
        raise RuleBroken(f"Le déroulement est sur la version {run.version.number}.", code="other_version")
    dossier: Dossier = run.dossier
    waits_before = list(run.active_elements or [])
    current = open_actions(session, run, fresh=True)
    context = engine_context(run, now)
    try:
        source_engine = Engine.restore(bundle_of_run(session, run), run.state, context)
        results = {"actions": dict(run.results or {})}
        engine, moved = migrate(source_engine, move.bundle, move.mapping, context, results)
    except (MigrationRefused, EngineError) as refused:
        raise RuleBroken(
            refused.message, code="migration_refused", element_id=getattr(refused, "element_id", None)
        ) from refused
    used = move.used
    holders = current_holders(run)
    missing = [role for role in used if not holders.get(role)]
    if missing:  # roles the new version adds: the dossier's default holders, as a launch would take
        defaults = default_holders(dossier)
        for role in missing:
            for participant_id in defaults.get(role, []):
                run.holders.append(RunRole(role=role, participant_id=participant_id))
        session.flush()
        for role in missing:  # an open action of such a role now has someone to act on it
            reassign_role(session, run, role)
    unassigned = sorted(r for r in used if not current_holders(run).get(r))
    step_before = mark_step(session, run, now)
    names, targets = move.source_names, move.target_names
    # What the history says in words: the steps that became another one (the mapping keeps them all).
    steps = [f"{names.get(a, a)} → {targets.get(b, b)}" for a, b in moved.waits.items() if a != b]
    target = session.get(SequenceVersion, move.target_id)
    record_change(
        session, run, target, move.called, actor, now, mapping=moved.waits, steps=steps, dry_run=dry_run
    )
    run.state = engine.dump()
    settled = step_run(
        session, run, migrated(f"migration vers la version {move.target_number}"), actor, now, current=current
    )
    if settled is None:
        raise RuleBroken(f"Le moteur a refusé la migration : {run.error}", code="migration_refused")
    renamed, timers, pending = follow(session, run, actor, now, restart)
    cancelled = {a.id for a in settled.cancelled}
    kept = [a for a in current if a.id not in cancelled]
    return {
        "dossier_id": dossier.id,
        "reference": dossier.reference,
        "run_id": run.id,
        "status": "would_migrate" if dry_run else "migrated",
        "reason": None,
        "step_before": step_before,
        "waits_before": waits_before,
        "waits_after": list(run.active_elements or []),
        "mapping": moved.waits,
        "actions": {
            "kept": [_action(a) for a in kept],
            "cancelled": [_action(a) for a in settled.cancelled],
            "created": [_action(a) for a in settled.created],
        },
        "renamed": [a.id for a in renamed],
        "timers": timers + _new_timers(pending, now),
        "unassigned_roles": unassigned,
        "unassigned_role_names": [move.labels.get(r, r) for r in unassigned],
    }


def _new_timers(pending, now: datetime) -> list[dict]:
    """The timers the migration started (a wait the new version adds): counted from now."""
    return [
        {
            "element_id": t.element_id,
            "kind": None,
            "due_at": t.due_at.isoformat(),
            "previous_due_at": None,
            "started_at": t.created_at.isoformat(),
        }
        for t in pending
        if t.created_at >= now
    ]


def running_counts(session: Session, key: str) -> dict[int, int]:
    """Running dossiers per version number of the sequence `key` (what a publication leaves behind)."""
    query = (
        select(SequenceVersion.number, Run.id)
        .join(Run, Run.version_id == SequenceVersion.id)
        .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
        .where(Sequence.key == key, Run.status == RunStatus.RUNNING)
    )
    return dict(Counter(number for number, _ in session.execute(query)))


def summarize(reports: Iterable[dict]) -> dict[str, int]:
    return dict(Counter(r["status"] for r in reports))
