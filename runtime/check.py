"""Consistency of what is stored: the hash chain of each dossier, and the history agreeing with runs."""

from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from .journal import JournalEntry, Kind
from .models import Action, ActionStatus, Run, RunStatus, Timer

RUN_ENDINGS = {
    RunStatus.COMPLETED: Kind.RUN_COMPLETED,
    RunStatus.INTERRUPTED: Kind.RUN_INTERRUPTED,
    RunStatus.SWITCHED: Kind.RUN_SWITCHED,
}
ENDED_ACTION = {Kind.ACTION_COMPLETED.value, Kind.ACTION_CANCELLED.value}


@dataclass(frozen=True)
class Problem:
    dossier_id: int | None
    code: str
    message: str

    def __str__(self) -> str:
        return f"dossier {self.dossier_id}: [{self.code}] {self.message}"


def check_chains(session: Session) -> list[Problem]:
    problems: list[Problem] = []
    heads: dict[int, str | None] = {}
    entries = session.scalars(select(JournalEntry).order_by(JournalEntry.dossier_id, JournalEntry.id))
    for entry in entries.yield_per(2000):
        expected = heads.get(entry.dossier_id)
        if entry.prev_hash != expected:
            problems.append(
                Problem(
                    entry.dossier_id,
                    "chain_broken",
                    f"l'entrée {entry.id} ne suit pas l'entrée précédente du dossier "
                    "(une entrée a été supprimée ou insérée)",
                )
            )
        if entry.hash != entry.digest():
            problems.append(
                Problem(
                    entry.dossier_id,
                    "entry_altered",
                    f"l'entrée {entry.id} ({entry.kind}) a été modifiée après coup",
                )
            )
        heads[entry.dossier_id] = entry.hash
    return problems


def check_agreement(session: Session, restore=None) -> list[Problem]:
    """The history agrees with the state of runs and actions; running runs can be loaded (`restore`)."""
    by_action, by_run = _history_kinds(session)
    return _actions_agree(session, by_action) + _runs_agree(session, by_run, restore)


def _history_kinds(session: Session) -> tuple[dict[int, Counter], dict[int, list[str]]]:
    """What the history says of each action (kinds counted) and of each run (its run_* kinds, in order)."""
    by_action: dict[int, Counter] = defaultdict(Counter)
    by_run: dict[int, list[str]] = defaultdict(list)
    query = select(JournalEntry.run_id, JournalEntry.action_id, JournalEntry.kind).order_by(JournalEntry.id)
    for run_id, action_id, kind in session.execute(query):
        if action_id is not None:
            by_action[action_id][kind] += 1
        if run_id is not None and kind.startswith("run_"):
            by_run[run_id].append(kind)
    return by_action, by_run


def _actions_agree(session: Session, by_action: dict[int, Counter]) -> list[Problem]:
    """Each action was created once, and ended once if it is no longer open."""
    problems: list[Problem] = []
    for action in session.scalars(select(Action)).yield_per(2000):
        seen = by_action.get(action.id, Counter())
        created = seen[Kind.ACTION_CREATED.value] + seen[Kind.ACTION_ADDED.value]
        ended = sum(seen[k] for k in ENDED_ACTION)
        if created != 1:
            problems.append(
                Problem(
                    action.dossier_id,
                    "action_creation",
                    f"l'action {action.id} a {created} entrée(s) de création",
                )
            )
        if action.status == ActionStatus.OPEN and ended:
            problems.append(
                Problem(
                    action.dossier_id,
                    "action_open_but_ended",
                    f"l'action {action.id} est ouverte mais l'historique la dit terminée",
                )
            )
        if (
            action.status
            in (ActionStatus.DONE, ActionStatus.VALIDATED, ActionStatus.SKIPPED, ActionStatus.CANCELLED)
            and ended != 1
        ):
            problems.append(
                Problem(
                    action.dossier_id,
                    "action_end",
                    f"l'action {action.id} ({action.status}) a {ended} entrée(s) de fin",
                )
            )
    return problems


def _runs_agree(session: Session, by_run: dict[int, list[str]], restore) -> list[Problem]:
    """Each run was launched, ended as its status says, and a running one has a state that loads."""
    problems: list[Problem] = []
    pending_timers: dict[int, set[str]] = defaultdict(set)
    if restore is not None:
        pending = select(Timer.run_id, Timer.task_id).where(
            Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)
        )
        for run_id, task_id in session.execute(pending):
            pending_timers[run_id].add(task_id)
    for run in session.scalars(select(Run)).yield_per(500):
        problems += _run_problems(run, by_run.get(run.id, []), restore, pending_timers)
    return problems


def _run_problems(run: Run, kinds: list[str], restore, pending_timers: dict[int, set[str]]) -> list[Problem]:
    problems: list[Problem] = []
    if Kind.RUN_LAUNCHED.value not in kinds:
        problems.append(
            Problem(run.dossier_id, "run_launch", f"le déroulement {run.id} n'a pas d'entrée de lancement")
        )
    ending = RUN_ENDINGS.get(run.status)
    if ending is not None and kinds.count(ending.value) != 1:
        problems.append(
            Problem(
                run.dossier_id,
                "run_end",
                f"le déroulement {run.id} ({run.status}) n'a pas une seule entrée {ending.value}",
            )
        )
    if run.status == RunStatus.RUNNING:
        if any(k in kinds for k in (e.value for e in RUN_ENDINGS.values())):
            problems.append(
                Problem(
                    run.dossier_id,
                    "run_running_but_ended",
                    f"le déroulement {run.id} est en cours mais l'historique le dit terminé",
                )
            )
        if run.state is None:
            problems.append(
                Problem(
                    run.dossier_id,
                    "run_without_state",
                    f"le déroulement {run.id} est en cours sans état moteur",
                )
            )
        elif restore is not None:
            try:
                engine = restore(run)
            except Exception as error:  # noqa: BLE001 — reported, not raised: this is a checker
                problems.append(
                    Problem(
                        run.dossier_id,
                        "run_corrupted",
                        f"le déroulement {run.id} ne se recharge pas : {error}",
                    )
                )
            else:
                problems += _timers_agree(run, engine, pending_timers)
    if run.status == RunStatus.FAILED and (not kinds or kinds[-1] != Kind.RUN_FAILED.value):
        problems.append(
            Problem(
                run.dossier_id,
                "run_failed_unrecorded",
                f"le déroulement {run.id} est en échec sans entrée run_failed finale",
            )
        )
    return problems


def _timers_agree(run: Run, engine, pending_timers: dict[int, set[str]]) -> list[Problem]:
    """The pending timers of a running run are exactly those its engine waits for (each step relies on it)."""
    waiting = {t.task_id for t in engine.waiting_timers()}
    pending = pending_timers.get(run.id, set())
    if waiting == pending:
        return []
    return [
        Problem(
            run.dossier_id,
            "timers_disagree",
            f"le déroulement {run.id} attend les délais {sorted(waiting)} mais {sorted(pending)} sont "
            "programmés",
        )
    ]


def check_assignments(session: Session) -> list[Problem]:
    """The inbox rows are exactly the open actions × the users holding their role in their run."""
    from .assignments import Assignment
    from .models import Participant, RunRole

    expected_query = (
        select(Action.id, Participant.user_id, Action.dossier_id)
        .join(RunRole, (RunRole.run_id == Action.run_id) & (RunRole.role == Action.role))
        .join(Participant, Participant.id == RunRole.participant_id)
        .where(Action.status == ActionStatus.OPEN, Participant.user_id.is_not(None))
    )
    expected = {(a, u): d for a, u, d in session.execute(expected_query)}
    actual = {(a, u) for a, u in session.execute(select(Assignment.action_id, Assignment.user_id))}
    problems = [
        Problem(
            expected[k], "assignment_missing", f"l'action {k[0]} manque à la liste de l'utilisateur {k[1]}"
        )
        for k in sorted(set(expected) - actual)
    ]
    problems += [
        Problem(None, "assignment_stale", f"l'action {a} figure encore dans la liste de l'utilisateur {u}")
        for a, u in sorted(actual - set(expected))
    ]
    return problems + _check_unheld(session)


def _check_unheld(session: Session) -> list[Problem]:
    """The rows of « Sans titulaire » are exactly the open actions whose role nobody holds in their run."""
    from .assignments import Unheld
    from .models import RunRole

    nobody = ~exists().where(RunRole.run_id == Action.run_id, RunRole.role == Action.role)
    expected_query = select(Action.id, Action.dossier_id).where(Action.status == ActionStatus.OPEN, nobody)
    expected = {a: d for a, d in session.execute(expected_query)}
    actual = set(session.scalars(select(Unheld.action_id)))
    problems = [
        Problem(expected[a], "unheld_missing", f"l'action {a} manque à la liste des actions sans titulaire")
        for a in sorted(set(expected) - actual)
    ]
    problems += [
        Problem(None, "unheld_stale", f"l'action {a} figure encore dans la liste des actions sans titulaire")
        for a in sorted(actual - set(expected))
    ]
    return problems


def check_all(session: Session, deep: bool = True) -> list[Problem]:
    restore = None
    if deep:
        from bpmn.engine import Engine

        from .specs import bundle_of_run

        def restore(run: Run) -> Engine:
            return Engine.restore(bundle_of_run(session, run), run.state, {"dossier": run.dossier.data or {}})

    return check_chains(session) + check_agreement(session, restore) + check_assignments(session)
