"""The diagram of a sequence: per step, dossiers waiting, time spent, outcomes, lateness; a step's
dossiers; the share of each outcome on the gateways."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from designer.models import SequenceVersion

from .. import paths
from ..models import Action, ActionStatus, Dossier, Run, RunStatus, Timer
from . import rollup
from .common import (
    LISTED,
    Scope,
    _action_scope,
    _histograms,
    _merged,
    _read_buckets,
    _run_scope,
    _seconds,
    _spread,
    resolved,
)
from .delays import due_lateness


@dataclass
class StepFigures:
    waiting: int = 0
    ended: int = 0
    median: float | None = None  # seconds spent at the step
    p90: float | None = None
    with_due: int = 0
    late: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome → actions ended with it

    @property
    def late_share(self) -> float | None:
        return self.late / self.with_due if self.with_due else None


def step_figures(session: Session, scope: Scope, now: datetime) -> dict[str, StepFigures]:
    """Element id → dossiers waiting now, time spent (median, 90th), outcomes chosen, share of actions done
    late. Actions that ended in the period are read once, for their times and their outcomes.

    Waiting counts open actions and pending timers, as the overview does (a run waits once at a step)."""
    scope = resolved(session, scope)
    found: dict[str, StepFigures] = {}

    def at(element_id: str) -> StepFigures:
        return found.setdefault(element_id, StepFigures())

    waiting = _action_scope(
        select(Action.element_id, func.count())
        .join(Run, Run.id == Action.run_id)
        .where(Action.status == ActionStatus.OPEN, Run.status == RunStatus.RUNNING)
        .group_by(Action.element_id),
        scope,
        run_joined=True,
    )
    for element_id, count in session.execute(waiting):
        at(element_id).waiting += count
    if not scope.role and scope.holder is None:  # timers belong to no role
        timers = _run_scope(
            select(Timer.element_id, func.count())
            .join(Run, Run.id == Timer.run_id)
            .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Run.status == RunStatus.RUNNING)
            .group_by(Timer.element_id),
            scope,
        )
        for element_id, count in session.execute(timers):
            at(element_id).waiting += count
    # Time spent and outcomes: the actions that ended in the period, from the closed weeks' groups and the
    # rest from the actions; lateness: the actions due in the period (delays.due_lateness).
    grouped = rollup.span(session, scope, now)
    spent = _seconds(session, Action.completed_at, Action.created_at)
    sources = [_action_scope(select(Action.id).where(c), scope) for c in rollup.ended_live(scope, grouped)]
    per_outcome = _histograms(session, [Action.element_id, Action.outcome], spent, sources)
    if grouped is not None:
        _read_buckets(session.execute(rollup.spent_rows(scope, *grouped)), 2, found=per_outcome)
    for (element_id, outcome), buckets in per_outcome.items():
        if outcome is not None:
            outcomes = at(element_id).outcomes
            outcomes[outcome] = outcomes.get(outcome, 0) + sum(n for _low, _high, n in buckets.values())
    for element_id in {e for e, _o in per_outcome}:
        spread = _spread(_merged([b for (e, _o), b in per_outcome.items() if e == element_id]))
        figures = at(element_id)
        figures.ended, figures.median, figures.p90 = spread.count, spread.median, spread.p90
    for (element_id,), buckets in due_lateness(session, scope, now, grouped).items():
        figures = at(element_id)
        figures.with_due = sum(n for _low, _high, n in buckets.values())
        figures.late = sum(n for bucket, (_low, _high, n) in buckets.items() if bucket is not None)
    return found


def waiting_at(session: Session, scope: Scope, element_id: str, limit: int = LISTED) -> list[dict]:
    """The dossiers waiting now at one step (open action or pending timer), longest waiting first."""
    scope = resolved(session, scope)
    actions = _action_scope(
        select(
            Action.dossier_id.label("dossier_id"),
            Action.created_at.label("since"),
            Action.due_at.label("due_at"),
        )
        .join(Run, Run.id == Action.run_id)
        .where(Action.element_id == element_id, Action.status == ActionStatus.OPEN)
        .where(Run.status == RunStatus.RUNNING),
        scope,
        run_joined=True,
    )
    timers = _run_scope(
        select(Run.dossier_id, Timer.created_at, Timer.due_at)
        .join(Run, Run.id == Timer.run_id)
        .where(Timer.element_id == element_id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None))
        .where(Run.status == RunStatus.RUNNING),
        scope,
    )
    both = union_all(actions, timers).subquery()
    query = (
        select(Dossier.id, Dossier.reference, Dossier.title, both.c.since, both.c.due_at)
        .join(both, both.c.dossier_id == Dossier.id)
        .order_by(both.c.since, Dossier.id)
        .limit(limit)
    )
    return [
        {"dossier_id": i, "reference": ref, "title": title, "since": since, "due_at": due}
        for i, ref, title, since, due in session.execute(query)
    ]


def gateway_shares(
    version: SequenceVersion, outcomes: dict[str, dict[str, int]], now: datetime
) -> dict[str, tuple[int, float]]:
    """Flow id (leaving a gateway) → (actions whose outcome led there, share among the gateway's flows).

    Each outcome is followed through the diagram as the overview does (`paths.what_if`): one walk per
    distinct (step, outcome), whatever the number of dossiers."""
    graph = paths.graph_of(version)
    counts: dict[str, int] = {}
    for element_id, per_outcome in outcomes.items():
        if element_id not in graph.tags:
            continue
        for outcome, count in per_outcome.items():
            context = {"actions": {}, "dossier": {}, "event": None}
            for answer in paths.what_if(version, element_id, [outcome], "done", context, now):
                for flow_id in answer["flows"]:
                    if graph.tags.get(graph.flows[flow_id].source) in paths.GATEWAYS:
                        counts[flow_id] = counts.get(flow_id, 0) + count
    per_gateway: dict[str, int] = {}
    for flow_id, count in counts.items():
        source = graph.flows[flow_id].source
        per_gateway[source] = per_gateway.get(source, 0) + count
    return {f: (n, n / per_gateway[graph.flows[f].source]) for f, n in counts.items()}
