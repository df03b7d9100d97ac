"""Legal delays: per due date and timer, how often the step came after its date and by how much; the
late steps, dossier by dossier."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Select,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from ..models import Action, ActionStatus, Dossier, Run, Timer
from . import rollup
from .common import (
    LISTED,
    TIMER_GRACE,
    Buckets,
    Scope,
    _action_scope,
    _histograms,
    _moment,
    _period,
    _postgres,
    _read_buckets,
    _run_scope,
    _seconds,
    _spread,
    resolved,
)


@dataclass
class Delay:
    element_id: str
    kind: str  # "action" (a due date) or "timer"
    count: int
    late: int
    median_late: float | None = None  # seconds after the date, among the late ones
    max_late: float | None = None


def _timer_late(session: Session, now: datetime):
    return or_(
        _seconds(session, Timer.fired_at, Timer.due_at) > TIMER_GRACE.total_seconds(),
        and_(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Timer.due_at < now - TIMER_GRACE),
    )


def _late_rows(
    session: Session, scope: Scope, now: datetime, limit: int, element_id: str | None = None
) -> list[Select]:
    """The selects of the late steps, each its `limit` latest (so their union holds the `limit` latest of
    all): dossier, element, kind, date, when it happened, lateness in seconds. Actions ended late, actions
    still open past their date and late timers are three selects, each read in lateness order: on PostgreSQL
    the actions ended late by `LATENESS_INDEX` (stopping after `limit` rows in scope), the open ones (which
    have no end: never in the first select) by their due date, the earliest being the latest, the timers (one
    per run) sorted."""
    columns = (
        Action.dossier_id.label("dossier_id"),
        Action.element_id.label("element_id"),
        literal("action").label("kind"),
        Action.due_at.label("due_at"),
        Action.completed_at.label("happened_at"),
    )
    in_period = and_(Action.due_at.is_not(None), _period(Action.due_at, scope))
    if element_id:
        in_period = and_(in_period, Action.element_id == element_id)
    late = _seconds(session, Action.completed_at, Action.due_at)
    ended = _action_scope(
        select(*columns, late.label("late"))
        .where(in_period, Action.completed_at > Action.due_at)
        .order_by((Action.completed_at - Action.due_at).desc() if _postgres(session) else late.desc())
        .order_by(Action.dossier_id)
        .limit(limit),
        scope,
    )
    # Read in due order from the earliest open one's date: the index of due dates holds the period's ended
    # actions before it, which the planner cannot know (it would walk them).
    earliest_open = select(func.min(Action.due_at)).where(Action.status == ActionStatus.OPEN)
    still_open = _action_scope(
        select(*columns, _seconds(session, _moment(now), Action.due_at).label("late"))
        .where(in_period, Action.status == ActionStatus.OPEN, Action.due_at < now)
        .where(Action.due_at >= earliest_open.scalar_subquery())
        .order_by(Action.due_at, Action.dossier_id)
        .limit(limit),
        scope,
    )
    selects = [ended, still_open]
    if not scope.role and scope.holder is None:  # timers belong to no role
        timer_late = _seconds(session, func.coalesce(Timer.fired_at, _moment(now)), Timer.due_at)
        selects.append(
            _run_scope(
                select(
                    Run.dossier_id,
                    Timer.element_id,
                    literal("timer"),
                    Timer.due_at,
                    Timer.fired_at,
                    timer_late,
                )
                .join(Run, Run.id == Timer.run_id)
                .where(_period(Timer.due_at, scope), _timer_late(session, now))
                .where(true() if element_id is None else Timer.element_id == element_id)
                .order_by(timer_late.desc(), Run.dossier_id)
                .limit(limit),
                scope,
            )
        )
    return selects


def due_lateness(
    session: Session, scope: Scope, now: datetime, grouped: tuple[datetime | None, datetime] | None
) -> dict[tuple, Buckets]:
    """Per step (a 1-tuple of its element id), the actions due in the period as a histogram of how late
    they ended (or are, still open), the bucket None counting those on time. The closed weeks' groups
    (`grouped`, a `rollup.span`) answer for the actions due and ended in them; the rest is read from the
    actions, each part an index range."""
    # Late: ended after the date, or still open past it (an open action has no end). Each part names only
    # the columns its index holds: the open ones are read from the open actions' index.
    until = func.coalesce(Action.completed_at, _moment(now))
    late = case((until > Action.due_at, _seconds(session, until, Action.due_at)))
    parts, still_open = rollup.due_live(scope, grouped)
    sources: list = [_action_scope(select(Action.id).where(c), scope) for c in parts]
    if still_open is not None:
        open_late = case((Action.due_at < _moment(now), _seconds(session, _moment(now), Action.due_at)))
        sources.append((_action_scope(select(Action.id).where(still_open), scope), open_late))
    found = _histograms(session, [Action.element_id], late, sources)
    if grouped is not None:
        _read_buckets(session.execute(rollup.due_rows(scope, *grouped)), 1, found=found)
    return found


def legal_delays(session: Session, scope: Scope, now: datetime) -> list[Delay]:
    """Per due date (actions) and per timer of the scope: how many, how many late, by how much.

    One pass over the actions due in the period (and one over the timers): each row's lateness is null
    when it was on time, so one histogram per step gives both the counts and the spread of the late ones."""
    scope = resolved(session, scope)
    passes = [("action", due_lateness(session, scope, now, rollup.span(session, scope, now)))]
    if not scope.role and scope.holder is None:  # timers belong to no role
        timers = _run_scope(
            select(Timer.id)
            .join(Run, Run.id == Timer.run_id)
            .where(
                _period(Timer.due_at, scope), or_(Timer.fired_at.is_not(None), Timer.cancelled_at.is_(None))
            ),
            scope,
        )
        late = _seconds(session, func.coalesce(Timer.fired_at, _moment(now)), Timer.due_at)
        passes.append(
            (
                "timer",
                _histograms(session, [Timer.element_id], case((_timer_late(session, now), late)), timers),
            )
        )
    found = []
    for kind, histograms in passes:
        for (element_id,), buckets in histograms.items():
            late_ones = {b: v for b, v in buckets.items() if b is not None}
            delay = Delay(
                element_id, kind, sum(v[2] for v in buckets.values()), sum(v[2] for v in late_ones.values())
            )
            if late_ones:
                spread = _spread(late_ones)
                delay.median_late, delay.max_late = spread.median, spread.longest
            found.append(delay)
    return sorted(found, key=lambda d: (-d.late, d.element_id))


def late_dossiers(
    session: Session, scope: Scope, now: datetime, *, element_id: str | None = None, limit: int = LISTED
) -> list[dict]:
    """The late steps of the scope, one row each, latest first."""
    scope = resolved(session, scope)
    selects = _late_rows(session, scope, now, limit, element_id)
    rows = union_all(*[q.subquery().select() for q in selects]).subquery()
    query = select(
        Dossier.id,
        Dossier.reference,
        Dossier.title,
        rows.c.element_id,
        rows.c.kind,
        rows.c.due_at,
        rows.c.happened_at,
        rows.c.late,
    ).join(rows, rows.c.dossier_id == Dossier.id)
    query = query.order_by(rows.c.late.desc(), Dossier.id).limit(limit)
    keys = ("dossier_id", "reference", "title", "element_id", "kind", "due_at", "happened_at", "late")
    return [dict(zip(keys, row, strict=True)) for row in session.execute(query)]
