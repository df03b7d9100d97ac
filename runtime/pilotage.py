"""Pilotage: where dossiers wait, how long each step takes, whether due dates and legal delays are met.

Everything is computed by SQL over the history tables (actions, timers, runs), grouped in the database:
Python only reads one row per group (per step, per week, per role...), never one per dossier.

Percentiles (median, 90th) interpolate linearly between the two nearest ranks, as PostgreSQL's
`percentile_cont` does, but from a histogram built by SQL (see `_spreads`): the same statement on SQLite,
which has no percentile aggregate, and on PostgreSQL, where `percentile_cont` would sort every value of the
period (seconds for a year of a million actions) for a precision nobody reads (times are shown in days).

Definitions (said once, shown on the pages):
- time spent at a step: from the action's creation to its end (done, validated, skipped, cancelled), for
  actions that ended in the period;
- an action is late when it ended after its due date, or is still open past it; counted over the actions
  whose due date falls in the period;
- a timer is late when it fired more than `TIMER_GRACE` after its date (its step was reached after the date,
  or no worker ran), or is still pending past that;
- open / overdue per week: the actions open (overdue) at the end of each week.
"""

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Index,
    Select,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy import Integer as SqlInteger
from sqlalchemy.orm import Session, aliased

from designer.models import Sequence, SequenceVersion
from kernel.accounts import User

from . import paths
from .assignments import Assignment
from .models import Action, ActionStatus, Dossier, Participant, Run, RunRole, RunStatus, Timer

# The indexes these figures read, declared here next to the queries that need them. Each one serves a period
# or a "now" as one index range, read without the table on PostgreSQL (the included columns):
# actions that ended in a period (time spent, outcomes, open/overdue per week),
ENDED_INDEX = Index(
    "ix_actions_completed_at",
    Action.completed_at,
    Action.element_id,
    postgresql_include=["created_at", "due_at", "run_id", "role", "outcome"],
)
# actions due in a period (lateness, legal delays),
DUE_INDEX = Index(
    "ix_actions_due_at",
    Action.due_at,
    Action.element_id,
    postgresql_include=["completed_at", "status", "run_id", "role", "dossier_id"],
)
# and the actions open now, per step (waiting, a step's dossiers, open actions per week).
OPEN_INDEX = Index(
    "ix_actions_open_element",
    Action.element_id,
    Action.run_id,
    postgresql_include=["created_at", "due_at", "role", "dossier_id"],
    postgresql_where=text("status = 'open'"),
    sqlite_where=text("status = 'open'"),
)
# On PostgreSQL, the actions that ended after their due date, latest first: the list of late steps reads
# them in this order and stops at the page's (or the export's) length.
LATENESS_INDEX = Index(
    "ix_actions_ended_late",
    (Action.completed_at - Action.due_at).desc(),
    Action.dossier_id,
    postgresql_include=["due_at", "completed_at", "run_id", "role", "element_id"],
    postgresql_where=text("completed_at > due_at"),
).ddl_if(dialect="postgresql")

# A worker fires a due timer within seconds; beyond this, the step was reached after its date.
TIMER_GRACE = timedelta(minutes=5)
# Lists shown on a page; exports go further, to this bound.
LISTED = 200
EXPORTED = 50_000


@dataclass(frozen=True)
class Scope:
    """What the figures are about. `since`/`until` bound the period (until excluded); `holder` is a user
    id: the actions of the roles that user holds in their runs."""

    sequence: str | None = None
    version: int | None = None  # a version number of `sequence`
    since: datetime | None = None
    until: datetime | None = None
    role: str | None = None
    holder: int | None = None
    version_ids: tuple[int, ...] = ()  # filled by `resolved`: the ids of the versions in view


def resolved(session: Session, scope: Scope) -> Scope:
    """The scope with its version ids read once, so that queries filter on a short list of ids. Every
    function of this module starts here, so the transaction is set for analytic reads here too."""
    _analytic_reads(session)
    if not scope.sequence or scope.version_ids:
        return scope
    return replace(scope, version_ids=tuple(_version_ids(session, scope)) or (-1,))


@dataclass
class Spread:
    count: int
    median: float | None  # seconds
    p90: float | None
    longest: float | None = None


# ---- dialect helpers


def _analytic_reads(session: Session) -> None:
    """On PostgreSQL, for the rest of the transaction (the request's, which only reads): no JIT compilation,
    which costs more than it saves on these aggregates (the planner asks for it on a scan of a year of
    actions, and compiling takes longer than evaluating a few hundred thousand rows). Set once per
    transaction."""
    if not _postgres(session):
        return
    transaction = session.connection().get_transaction()
    if session.info.get("pilotage_reads") is transaction:
        return
    session.execute(select(func.set_config("jit", "off", True)))
    session.info["pilotage_reads"] = transaction


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _seconds(session: Session, later, earlier):
    """Seconds between two timestamps, as a float: `date_part` (double precision), not `extract`, which
    returns a numeric on PostgreSQL 14+ and makes every bucket computation a numeric one (a third slower)."""
    if _postgres(session):
        return func.date_part(literal_column("'epoch'"), later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _week(session: Session, column):
    """The Monday that starts the week of a timestamp."""
    if _postgres(session):
        return func.date(func.date_trunc(literal_column("'week'"), column))
    return func.date(column, literal_column("'weekday 0'"), literal_column("'-6 days'"))


def _moment(value: datetime):
    """A moment as the columns store it (UTC, without offset): compared or subtracted row by row, an aware
    value would make PostgreSQL convert each row's timestamp to `timestamptz` (a third of a scan's time)."""
    return literal(value, Action.due_at.type)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# bucket → (smallest value, largest value, count); the bucket None counts the rows without a value
Buckets = dict[float | None, tuple[float, float, int]]


def _histograms(
    session: Session, keys: list, value, source: Select, counted: tuple = ()
) -> dict[tuple, Buckets]:
    """The values of `value` (seconds, never negative) per group of `keys`, over the rows of `source` (a
    select whose where clause and joins define the rows), as buckets a minute wide under an hour, an hour
    wide under a week, six hours beyond: one hash aggregation, whatever the number of rows.

    `counted`: conditions counted in the same pass, per group; their counts come under the key "counted"
    of the group's buckets, as a tuple (not a bucket: see `_counts`)."""
    flags = [case((condition, 1)).label(f"c{i}") for i, condition in enumerate(counted)]
    rows = source.with_only_columns(
        *[k.label(f"k{i}") for i, k in enumerate(keys)], value.label("v"), *flags
    ).subquery()
    v = rows.c.v
    width = case((v < 3600, 60), (v < 7 * 86400, 3600), else_=6 * 3600)
    steps = func.floor(v / width) if _postgres(session) else cast(v / width, SqlInteger)
    group = [rows.c[f"k{i}"] for i in range(len(keys))]
    flagged = [rows.c[f"c{i}"] for i in range(len(counted))]
    bucketed = select(*group, (steps * width).label("b"), v, *flagged).subquery()
    kept = [bucketed.c[f"k{i}"] for i in range(len(keys))]
    query = select(
        *kept,
        bucketed.c.b,
        func.count(),
        func.min(bucketed.c.v),
        func.max(bucketed.c.v),
        *[func.count(bucketed.c[f"c{i}"]) for i in range(len(counted))],
    ).group_by(*kept, bucketed.c.b)
    found: dict[tuple, Buckets] = {}
    for row in session.execute(query):
        key = tuple(row[: len(keys)])
        bucket, count, low, high = row[len(keys) : len(keys) + 4]
        per = found.setdefault(key, {})
        if counted:
            before = per.get("counted", (0,) * len(counted))
            per["counted"] = tuple(a + b for a, b in zip(before, row[len(keys) + 4 :], strict=True))
        if bucket is None:  # rows without a value (on time, for lateness): counted, not measured
            per[None] = (0.0, 0.0, count)
        else:
            per[float(bucket)] = (float(low), float(high), count)
    return found


def _counts(histogram: Buckets) -> tuple:
    """The conditions' counts `_histograms` read with a histogram (and takes out of it)."""
    return histogram.pop("counted", ())


def _merged(histograms: list[Buckets]) -> Buckets:
    """One histogram from several (the same step's actions, whatever their outcome)."""
    found: Buckets = {}
    for histogram in histograms:
        for bucket, (low, high, count) in histogram.items():
            if bucket in found:
                before = found[bucket]
                low, high, count = min(low, before[0]), max(high, before[1]), count + before[2]
            found[bucket] = (low, high, count)
    return found


def _spreads(session: Session, keys: list, value, source: Select) -> dict[tuple, Spread]:
    """Count, median, 90th percentile and longest of `value` per group of `keys` (see `_histograms`)."""
    return {key: _spread(buckets) for key, buckets in _histograms(session, keys, value, source).items()}


def _spread(histogram: Buckets) -> Spread:
    """Walks the buckets to the wanted ranks and interpolates between them as `percentile_cont` does: exact
    when the values of a bucket are equal or evenly spread, and always within the bucket's width."""
    buckets = [histogram[b] for b in sorted(histogram)]
    n = sum(count for _low, _high, count in buckets)

    def value_at(rank: int) -> float:
        seen = 0
        for low, high, count in buckets:
            if rank < seen + count:  # values taken as evenly spread between the bucket's extremes
                return low if count == 1 else low + (high - low) * (rank - seen) / (count - 1)
            seen += count
        return buckets[-1][1]

    def percentile(p: float) -> float:
        h = p * (n - 1)
        below = value_at(int(h))
        return below + (h - int(h)) * (value_at(int(h) + 1) - below) if h > int(h) else below

    return Spread(n, percentile(0.5), percentile(0.9), buckets[-1][1])


# ---- scope


def versions_of(session: Session, sequence: str) -> list[SequenceVersion]:
    return list(
        session.scalars(
            select(SequenceVersion)
            .join(Sequence)
            .where(Sequence.key == sequence)
            .order_by(SequenceVersion.number)
        )
    )


def _version_ids(session: Session, scope: Scope) -> list[int]:
    query = select(SequenceVersion.id).join(Sequence).where(Sequence.key == scope.sequence)
    if scope.version is not None:
        query = query.where(SequenceVersion.number == scope.version)
    return list(session.scalars(query))


def _action_scope(query: Select, scope: Scope, run_joined: bool = False) -> Select:
    """`run_joined`: the query joins the action's run, which then carries the version."""
    if scope.sequence:
        versions = scope.version_ids
        query = query.where(
            Run.version_id.in_(versions)
            if run_joined
            else Action.run_id.in_(select(Run.id).where(Run.version_id.in_(versions)))
        )
    if scope.role:
        query = query.where(Action.role == scope.role)
    if scope.holder is not None:
        query = query.where(
            exists()
            .where(RunRole.run_id == Action.run_id, RunRole.role == Action.role)
            .where(Participant.id == RunRole.participant_id, Participant.user_id == scope.holder)
        )
    return query


def _run_scope(query: Select, scope: Scope, run=Run) -> Select:
    if scope.sequence:
        query = query.where(run.version_id.in_(scope.version_ids))
    held = exists().where(RunRole.run_id == run.id, Participant.id == RunRole.participant_id)
    if scope.role:
        query = query.where(held.where(RunRole.role == scope.role))
    if scope.holder is not None:
        query = query.where(held.where(Participant.user_id == scope.holder))
    return query


def _period(column, scope: Scope):
    conditions = []
    if scope.since is not None:
        conditions.append(column >= scope.since)
    if scope.until is not None:
        conditions.append(column < scope.until)
    return and_(true(), *conditions)


# ---- the diagram: per step


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
    # One pass over the actions that ended or were due in the period: the time spent by the first ones (null
    # for the others), and, counted alongside, which were due in the period and which of those were late.
    ended = and_(Action.completed_at.is_not(None), _period(Action.completed_at, scope))
    due = and_(Action.due_at.is_not(None), _period(Action.due_at, scope))
    spent = case((ended, _seconds(session, Action.completed_at, Action.created_at)))
    source = _action_scope(select(Action.id).where(or_(ended, due)), scope)
    per_outcome = _histograms(
        session, [Action.element_id, Action.outcome], spent, source, (due, and_(due, _action_late(now)))
    )
    for (element_id, outcome), buckets in per_outcome.items():
        with_due, late = _counts(buckets)
        figures = at(element_id)
        figures.with_due, figures.late = figures.with_due + with_due, figures.late + late
        buckets.pop(None, None)  # due in the period, not ended in it
        if buckets and outcome is not None:
            figures.outcomes[outcome] = sum(count for _low, _high, count in buckets.values())
    for element_id in {e for e, _o in per_outcome}:
        measured = [b for (e, _o), b in per_outcome.items() if e == element_id and b]
        if measured:
            spread = _spread(_merged(measured))
            at(element_id).ended, at(element_id).median, at(element_id).p90 = (
                spread.count,
                spread.median,
                spread.p90,
            )
    return found


def _action_late(now: datetime):
    return or_(
        Action.completed_at > Action.due_at,
        and_(Action.status == ActionStatus.OPEN, Action.due_at < now),
    )


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


# ---- charts


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
    start (two index ranges) and groups them by the weeks of their events; Python adds up the weeks."""
    scope = resolved(session, scope)
    start = scope.since or session.scalar(_action_scope(select(func.min(Action.created_at)), scope))
    if start is None:
        return {}
    end = min(scope.until or now, now)
    first_week = _as_date(session.scalar(select(_week(session, literal(start)))))
    columns = [Action.created_at, Action.completed_at, Action.due_at]
    relevant = union_all(
        _action_scope(select(*columns).where(Action.status == ActionStatus.OPEN), scope),
        _action_scope(select(*columns).where(Action.completed_at >= start), scope),
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


# ---- legal delays


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
    still_open = _action_scope(
        select(*columns, _seconds(session, _moment(now), Action.due_at).label("late"))
        .where(in_period, Action.status == ActionStatus.OPEN, Action.due_at < now)
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


def legal_delays(session: Session, scope: Scope, now: datetime) -> list[Delay]:
    """Per due date (actions) and per timer of the scope: how many, how many late, by how much.

    One pass over the actions due in the period (and one over the timers): each row's lateness is null
    when it was on time, so one histogram per step gives both the counts and the spread of the late ones."""
    scope = resolved(session, scope)
    actions = _action_scope(
        select(Action.id).where(Action.due_at.is_not(None), _period(Action.due_at, scope)), scope
    )
    late = _seconds(session, func.coalesce(Action.completed_at, _moment(now)), Action.due_at)
    passes = [("action", _histograms(session, [Action.element_id], case((_action_late(now), late)), actions))]
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


def holders(session: Session) -> list[tuple[int, str]]:
    """Users who hold a role in some run: the choices of the holder filter."""
    query = (
        select(User.id, User.name)
        .where(
            User.id.in_(select(Participant.user_id).join(RunRole, RunRole.participant_id == Participant.id))
        )
        .order_by(User.name)
    )
    return [(i, name) for i, name in session.execute(query)]


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
