"""The figures of closed weeks, grouped once: a page reads a year as some fifty weeks of groups instead of
a million actions.

A week runs from Monday 00:00 (UTC, as the columns store time) to the next, and is closed `MARGIN` after
its end (a step's transaction commits a little after the moment it stamps). The actions that ended in a
closed week are grouped by `keep_up`, called by the pilotage pages before they read, into three tables:
- `pilotage_spent`: time spent per step and outcome, as histogram buckets (the step figures' times and
  outcomes);
- `pilotage_due`: per week of the due date, lateness per step as histogram buckets, the bucket null for
  the actions ended on time (the step figures' lateness and the legal delays);
- `pilotage_load`: per week the action opened and week it became overdue (the open and overdue actions
  per week).
Every row carries the week its actions ended, their run's version and their role: the sequence, version
and role filters read the rows. The holder filter (roles held now, which change) cannot: it reads actions.

`span` says which part of a scope the groups answer: the closed weeks that lie whole inside its period.
The figure functions read those from the groups and the rest from the actions (the first, partial week of
the period, the weeks not closed yet, the actions still open), so that the figures are the same as when
everything is read from the actions (tests/integration/test_pilotage_rollup.py compares both).

Ended actions never change, but the run they belong to can be moved to another version: `forget_run`
(called by run_versions.record_change) forgets the weeks its actions ended in, grouped again by the next
`keep_up`. On PostgreSQL both take an advisory lock to the end of their transaction, so that a grouping
never keeps what a move changed under it; SQLite writes one transaction at a time."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, Float, Index, String, and_, case, delete, func, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from kernel.db import Base

from ..models import Action, ActionStatus, Run
from .common import Scope, _histogram_query, _postgres, _seconds, _week

WEEK = timedelta(days=7)
MARGIN = timedelta(hours=1)
_LOCK = 7_402_020  # the advisory lock of grouping (PostgreSQL)


class GroupedWeek(Base):
    """A closed week whose ended actions are grouped in the three tables below."""

    __tablename__ = "pilotage_weeks"

    week: Mapped[date] = mapped_column(Date, primary_key=True)  # its Monday
    grouped_at: Mapped[datetime]


class SpentGroup(Base):
    __tablename__ = "pilotage_spent"
    __table_args__ = (Index("ix_pilotage_spent_week", "week", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date)  # when the actions ended
    version_id: Mapped[int]
    element_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str | None] = mapped_column(String(100))
    bucket: Mapped[float] = mapped_column(Float)
    count: Mapped[int]
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)


class DueGroup(Base):
    __tablename__ = "pilotage_due"
    __table_args__ = (Index("ix_pilotage_due_due_week", "due_week", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date, index=True)  # when the actions ended (ix_pilotage_due_week)
    due_week: Mapped[date] = mapped_column(Date)
    version_id: Mapped[int]
    element_id: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    bucket: Mapped[float | None] = mapped_column(Float)  # of lateness; null: ended on time
    count: Mapped[int]
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)


class LoadGroup(Base):
    __tablename__ = "pilotage_load"
    __table_args__ = (Index("ix_pilotage_load_week", "week", "version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[date] = mapped_column(Date)  # when the actions ended
    version_id: Mapped[int]
    role: Mapped[str] = mapped_column(String(100))
    opened_week: Mapped[date] = mapped_column(Date)
    late_week: Mapped[date | None] = mapped_column(Date)  # when it became overdue; null: ended on time
    count: Mapped[int]


GROUPS = (SpentGroup, DueGroup, LoadGroup)


# ---- weeks


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def monday(moment: datetime) -> datetime:
    """The start of the week holding `moment` (UTC)."""
    day = _utc(moment).date() - timedelta(days=_utc(moment).weekday())
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def closed_until(now: datetime) -> datetime:
    """The end of the last closed week."""
    return monday(_utc(now) - MARGIN)


def _first_week(session: Session) -> datetime | None:
    first = session.scalar(select(func.min(Action.completed_at)))
    return None if first is None else monday(first)


def _grouped(session: Session, since: datetime) -> set[date]:
    return set(session.scalars(select(GroupedWeek.week).where(GroupedWeek.week >= since.date())))


def _missing(session: Session, until: datetime) -> list[datetime]:
    first = _first_week(session)
    if first is None:
        return []
    done = _grouped(session, first)
    weeks, week = [], first
    while week < until:
        if week.date() not in done:
            weeks.append(week)
        week += WEEK
    return weeks


def _lock(session: Session) -> None:
    if _postgres(session):
        session.execute(select(func.pg_advisory_xact_lock(_LOCK)))


# ---- grouping


def keep_up(session: Session, now: datetime) -> int:
    """Groups the closed weeks not grouped yet (all of them the first time, then one a week, and those a
    move of version forgot), in the caller's transaction. Returns how many weeks it grouped."""
    until = closed_until(now)
    if not _missing(session, until):
        return 0
    _lock(session)
    missing = _missing(session, until)  # again, under the lock: what another grouping did is seen now
    runs: list[list[datetime]] = []
    for week in missing:
        if runs and runs[-1][-1] + WEEK == week:
            runs[-1].append(week)
        else:
            runs.append([week])
    for weeks in runs:
        _group(session, weeks[0], weeks[-1] + WEEK)
    session.execute(insert(GroupedWeek), [{"week": w.date(), "grouped_at": _utc(now)} for w in missing])
    return len(missing)


def _group(session: Session, since: datetime, until: datetime) -> None:
    """Groups the actions that ended in [since, until), Mondays."""
    for table in GROUPS:
        session.execute(delete(table).where(table.week >= since.date(), table.week < until.date()))
    ended = and_(Action.completed_at >= since, Action.completed_at < until)
    source = select(Action.id).join(Run, Run.id == Action.run_id).where(ended)
    week = _week(session, Action.completed_at)
    spent = _histogram_query(
        session,
        [week, Run.version_id, Action.element_id, Action.role, Action.outcome],
        _seconds(session, Action.completed_at, Action.created_at),
        source,
    )
    columns = ["week", "version_id", "element_id", "role", "outcome", "bucket", "count", "low", "high"]
    session.execute(insert(SpentGroup).from_select(columns, spent))
    lateness = case(
        (Action.completed_at > Action.due_at, _seconds(session, Action.completed_at, Action.due_at))
    )
    due = _histogram_query(
        session,
        [week, _week(session, Action.due_at), Run.version_id, Action.element_id, Action.role],
        lateness,
        source.where(Action.due_at.is_not(None)),
    )
    columns = ["week", "due_week", "version_id", "element_id", "role", "bucket", "count", "low", "high"]
    session.execute(insert(DueGroup).from_select(columns, due))
    late_from = (func.greatest if _postgres(session) else func.max)(Action.created_at, Action.due_at)
    keys = [
        week,
        Run.version_id,
        Action.role,
        _week(session, Action.created_at),
        case((Action.completed_at > Action.due_at, _week(session, late_from))),
    ]
    load = source.with_only_columns(*keys, func.count()).group_by(*keys)
    columns = ["week", "version_id", "role", "opened_week", "late_week", "count"]
    session.execute(insert(LoadGroup).from_select(columns, load))


def forget_run(session: Session, run_id: int) -> None:
    """The weeks a run's actions ended in are grouped again (its version changed)."""
    ended = select(_week(session, Action.completed_at)).where(
        Action.run_id == run_id, Action.completed_at.is_not(None)
    )
    _lock(session)
    session.execute(delete(GroupedWeek).where(GroupedWeek.week.in_(ended)))


# ---- reading


def span(session: Session, scope: Scope, now: datetime) -> tuple[datetime | None, datetime] | None:
    """[since, until) of what the groups answer for `scope` (since None: from the first action), Mondays;
    None when they answer nothing (a holder filter, a period shorter than a closed week)."""
    if scope.holder is not None:
        return None
    until = closed_until(now)
    if scope.until is not None:
        until = min(until, monday(scope.until))
    missing = _missing(session, until)
    if missing:  # up to the first week not grouped (closed, or forgotten, since the last keep_up)
        until = missing[0]
    since = None
    if scope.since is not None:
        since = monday(scope.since)
        if since < _utc(scope.since):
            since += WEEK
        if since >= until:
            return None
    return since, until


def _in(table, scope: Scope, week, since: datetime | None, until: datetime):
    conditions = [week < until.date()]
    if since is not None:
        conditions.append(week >= since.date())
    if scope.sequence:
        conditions.append(table.version_id.in_(scope.version_ids))
    if scope.role:
        conditions.append(table.role == scope.role)
    return and_(*conditions)


def spent_rows(scope: Scope, since: datetime | None, until: datetime):
    """(element, outcome, bucket, count, smallest, largest) of the actions that ended in the span."""
    t = SpentGroup
    return (
        select(t.element_id, t.outcome, t.bucket, func.sum(t.count), func.min(t.low), func.max(t.high))
        .where(_in(t, scope, t.week, since, until))
        .group_by(t.element_id, t.outcome, t.bucket)
    )


def due_rows(scope: Scope, since: datetime | None, until: datetime):
    """(element, bucket, count, smallest, largest) of the actions due in the span, ended before its end."""
    t = DueGroup
    return (
        select(t.element_id, t.bucket, func.sum(t.count), func.min(t.low), func.max(t.high))
        .where(_in(t, scope, t.due_week, since, until), t.week < until.date())
        .group_by(t.element_id, t.bucket)
    )


def load_rows(scope: Scope, since: datetime | None, until: datetime):
    """(week opened, week ended, week overdue or null, count) of the actions that ended in the span."""
    t = LoadGroup
    return (
        select(t.opened_week, t.week, t.late_week, func.sum(t.count))
        .where(_in(t, scope, t.week, since, until))
        .group_by(t.opened_week, t.week, t.late_week)
    )


# ---- what the groups leave to read from the actions


def _between(column, since: datetime | None, until: datetime | None):
    conditions = [column.is_not(None)]
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return and_(*conditions)


def ended_live(scope: Scope, found: tuple[datetime | None, datetime] | None) -> list:
    """Conditions on disjoint actions: those that ended in the period and the groups (`found`, a `span`)
    leave out, each an index range on the end (the period's first partial week, the weeks not grouped)."""
    if found is None:
        return [_between(Action.completed_at, scope.since, scope.until)]
    since, until = found
    parts = [_between(Action.completed_at, until, scope.until)]
    if since is not None:
        parts.append(_between(Action.completed_at, scope.since, since))
    return parts


def due_live(scope: Scope, found: tuple[datetime | None, datetime] | None) -> tuple[list, object]:
    """Conditions on disjoint actions: those due in the period that the groups leave out: due outside the
    grouped weeks, or due in them and ended after them; and, apart, due in them and still open."""
    if found is None:
        return [_between(Action.due_at, scope.since, scope.until)], None
    since, until = found
    inside = _between(Action.due_at, since, until)
    parts = [_between(Action.due_at, until, scope.until), and_(inside, Action.completed_at >= until)]
    if since is not None:
        parts.append(_between(Action.due_at, scope.since, since))
    return parts, and_(inside, Action.status == ActionStatus.OPEN)
