"""The weekly charts: runs started and ended, actions open and overdue, workload per role and holder, time
from launch to end."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from designer.models import Sequence, SequenceVersion
from kernel.accounts import User

from ..assignments import Assignment
from ..models import Action, ActionStatus, Run, RunStatus
from . import rollup
from .common import (
    Scope,
    Spread,
    _action_scope,
    _as_date,
    _moment,
    _period,
    _postgres,
    _run_scope,
    _seconds,
    _spreads,
    _week,
    resolved,
)


def runs_per_week(session: Session, scope: Scope) -> dict[date, dict[str, int]]:
    """Week → {"started": n, "completed": n, "interrupted": n, "failed": n, "switched:<key>": n}."""
    scope = resolved(session, scope)
    found: dict[date, dict[str, int]] = {}
    started = _run_scope(
        select(_week(session, Run.started_at), func.count())
        .where(_period(Run.started_at, scope))
        .group_by(_week(session, Run.started_at)),
        scope,
    )
    for week, count in session.execute(started):
        found.setdefault(_as_date(week), {})["started"] = count
    following = aliased(Run)
    next_version = aliased(SequenceVersion)
    next_sequence = aliased(Sequence)
    week = _week(session, Run.ended_at)
    ended = _run_scope(
        select(week, Run.status, next_sequence.key, func.count())
        .outerjoin(following, following.id == Run.next_run_id)
        .outerjoin(next_version, next_version.id == following.version_id)
        .outerjoin(next_sequence, next_sequence.id == next_version.sequence_id)
        .where(Run.ended_at.is_not(None), _period(Run.ended_at, scope))
        .group_by(week, Run.status, next_sequence.key),
        scope,
    )
    for week_start, status, next_key, count in session.execute(ended):
        kind = f"switched:{next_key}" if status == RunStatus.SWITCHED and next_key else status
        per = found.setdefault(_as_date(week_start), {})
        per[kind] = per.get(kind, 0) + count
    return dict(sorted(found.items()))


def actions_per_week(session: Session, scope: Scope, now: datetime) -> dict[date, tuple[int, int]]:
    """Week → (actions open, of which overdue) at the end of that week, for the weeks of the period.

    Each action adds one when it opens (becomes overdue) and removes one when it ends, so the state at each
    week's end is a running sum of per-week counts. SQL reads only the actions open now or ended since the
    start (index ranges; those that ended in grouped weeks from their groups) and groups them by the weeks
    of their events; Python adds up the weeks."""
    scope = resolved(session, scope)
    start = scope.since or session.scalar(_action_scope(select(func.min(Action.created_at)), scope))
    if start is None:
        return {}
    end = min(scope.until or now, now)
    first_week = _as_date(session.scalar(select(_week(session, literal(start)))))
    columns = [Action.created_at, Action.completed_at, Action.due_at]
    grouped = rollup.span(session, scope, now)
    # The actions ended since the start (whatever the period's end: they are open at the weeks before it).
    ended_since = rollup.ended_live(replace(scope, since=start, until=None), grouped)
    relevant = union_all(
        _action_scope(select(*columns).where(Action.status == ActionStatus.OPEN), scope),
        *[_action_scope(select(*columns).where(c), scope) for c in ended_since],
    ).subquery()
    late_from = (func.greatest if _postgres(session) else func.max)(relevant.c.created_at, relevant.c.due_at)
    ended = and_(relevant.c.completed_at.is_not(None), relevant.c.completed_at < end)
    overdue = and_(
        relevant.c.due_at.is_not(None),
        late_from < _moment(end),
        or_(relevant.c.completed_at.is_(None), relevant.c.completed_at > relevant.c.due_at),
    )
    weeks = select(
        case((relevant.c.created_at < end, _week(session, relevant.c.created_at))).label("opened"),
        case((ended, _week(session, relevant.c.completed_at))).label("ended"),
        case((overdue, _week(session, late_from))).label("late"),
        case((and_(ended, relevant.c.completed_at > relevant.c.due_at), 1), else_=0).label("ended_late"),
    ).subquery()
    keys = [weeks.c.opened, weeks.c.ended, weeks.c.late, weeks.c.ended_late]
    deltas: dict[date, list[int]] = {}

    def move(week, open_step: int, late_step: int, count: int) -> None:
        if week is not None:
            delta = deltas.setdefault(_as_date(week), [0, 0])
            delta[0] += open_step * count
            delta[1] += late_step * count

    for opened, closed, late, ended_late, count in session.execute(
        select(*keys, func.count()).group_by(*keys)
    ):
        move(opened, 1, 0, count)
        move(closed, -1, -1 if ended_late else 0, count)
        move(late, 0, 1, count)
    if grouped is not None:  # ended before `end`, so opened before, and overdue exactly when ended late
        for opened, closed, late, count in session.execute(rollup.load_rows(scope, *grouped)):
            move(opened, 1, 0, count)
            move(closed, -1, -1 if late is not None else 0, count)
            move(late, 0, 1, count)
    found: dict[date, tuple[int, int]] = {}
    open_count = late_count = 0
    for week in sorted(w for w in deltas if w < first_week):
        open_count, late_count = open_count + deltas[week][0], late_count + deltas[week][1]
    week = first_week
    while week <= end.date():
        step = deltas.get(week, (0, 0))
        open_count, late_count = open_count + step[0], late_count + step[1]
        found[week] = (open_count, late_count)
        week += timedelta(days=7)
    return found


@dataclass
class Load:
    key: str  # role key, or holder's user id as text
    name: str | None
    open: int
    overdue: int


def workload(session: Session, scope: Scope, now: datetime) -> tuple[list[Load], list[Load]]:
    """Open and overdue actions now, per role and per holder (users holding the action's role)."""
    scope = resolved(session, scope)
    overdue = func.count().filter(Action.due_at < now)
    roles = _action_scope(
        select(Action.role, func.count(), overdue)
        .where(Action.status == ActionStatus.OPEN)
        .group_by(Action.role)
        .order_by(func.count().desc(), Action.role),
        scope,
    )
    per_role = [Load(role, None, n, late) for role, n, late in session.execute(roles)]
    holders = _action_scope(
        select(User.id, User.name, func.count(), overdue)
        .select_from(Assignment)
        .join(Action, Action.id == Assignment.action_id)
        .join(User, User.id == Assignment.user_id)
        .where(Action.status == ActionStatus.OPEN)
        .group_by(User.id, User.name)
        .order_by(func.count().desc(), User.name),
        scope,
    )
    per_holder = [Load(str(i), name, n, late) for i, name, n, late in session.execute(holders)]
    return per_role, per_holder


def run_durations(session: Session, scope: Scope) -> dict[tuple[str, str], Spread]:
    """(sequence key, how it ended: status or "switched:<key>") → time from launch to end, for runs that
    ended in the period."""
    scope = resolved(session, scope)
    following = aliased(Run)
    next_version = aliased(SequenceVersion)
    next_sequence = aliased(Sequence)
    ending = case(
        (
            and_(Run.status == RunStatus.SWITCHED, next_sequence.key.is_not(None)),
            literal("switched:") + next_sequence.key,
        ),
        else_=Run.status,
    )
    source = _run_scope(
        select(Run.id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
        .outerjoin(following, following.id == Run.next_run_id)
        .outerjoin(next_version, next_version.id == following.version_id)
        .outerjoin(next_sequence, next_sequence.id == next_version.sequence_id)
        .where(Run.ended_at.is_not(None), _period(Run.ended_at, scope)),
        scope,
    )
    spent = _seconds(session, Run.ended_at, Run.started_at)
    return dict(sorted(_spreads(session, [Sequence.key, ending], spent, source).items()))
