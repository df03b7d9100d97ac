"""What every pilotage page shares: the indexes the figures read, the scope (sequence, version, period,
role, holder) as SQL filters, the dialect helpers, and the histograms that give counts and percentiles in
one grouped statement."""

from dataclasses import dataclass, replace
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
    select,
    text,
    true,
    union_all,
)
from sqlalchemy import Integer as SqlInteger
from sqlalchemy.orm import Session

from designer.models import Sequence, SequenceVersion
from kernel.accounts import User

from ..models import Action, Participant, Run, RunRole

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
    text("(completed_at - due_at) DESC"),
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


def _histogram_query(session: Session, keys: list, value, sources: Select | list):
    """The statement of `_histograms`: per group of `keys` and bucket, the count, smallest and largest value.
    `sources`: one select, or several over disjoint rows (read as one), each a select or a pair (select,
    its rows' value, when it has a simpler expression than `value` there)."""
    parts = []
    for source in sources if isinstance(sources, list) else [sources]:
        rows_of, value_of = source if isinstance(source, tuple) else (source, value)
        parts.append(
            rows_of.with_only_columns(*[k.label(f"k{i}") for i, k in enumerate(keys)], value_of.label("v"))
        )
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    v = rows.c.v

    def start(width: int):  # of the bucket `width` seconds wide holding v
        return (func.floor(v / width) if _postgres(session) else cast(v / width, SqlInteger)) * width

    # PostgreSQL inlines v (an expression over the row) wherever it is named: a CASE naming it three
    # times rather than five is that much less work per row.
    bucket = case((v < 3600, start(60)), (v < 7 * 86400, start(3600)), else_=start(6 * 3600))
    group = [rows.c[f"k{i}"] for i in range(len(keys))]
    bucketed = select(*group, bucket.label("b"), v).subquery()
    kept = [bucketed.c[f"k{i}"] for i in range(len(keys))]
    measured = [bucketed.c.b, func.count(), func.min(bucketed.c.v), func.max(bucketed.c.v)]
    return select(*kept, *measured).group_by(*kept, bucketed.c.b)


def _histograms(session: Session, keys: list, value, sources: Select | list) -> dict[tuple, Buckets]:
    """The values of `value` (seconds, never negative) per group of `keys`, over the rows of `sources` (a
    select whose where clause and joins define the rows, or several over disjoint rows), as buckets a
    minute wide under an hour, an hour wide under a week, six hours beyond: one hash aggregation, whatever
    the number of rows. A row without a value (on time, for lateness) counts in the bucket None."""
    return _read_buckets(session.execute(_histogram_query(session, keys, value, sources)), len(keys))


def _read_buckets(rows, width: int, found: dict | None = None) -> dict[tuple, Buckets]:
    """Rows of (keys..., bucket, count, smallest, largest) as histograms per key, added to `found` when
    given (the same groups read from several places)."""
    found = {} if found is None else found
    for row in rows:
        bucket, count, low, high = row[width : width + 4]
        per = found.setdefault(tuple(row[:width]), {})
        if bucket is None:  # rows without a value: counted, not measured
            low = high = 0.0
        bucket = None if bucket is None else float(bucket)
        if bucket in per:
            before = per[bucket]
            per[bucket] = (min(before[0], float(low)), max(before[1], float(high)), before[2] + count)
        else:
            per[bucket] = (float(low), float(high), count)
    return found


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
