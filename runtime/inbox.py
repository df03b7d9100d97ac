"""The inbox of open actions a case manager works from: whose (mine, nobody's, anyone's, a colleague's),
searched by dossier, filtered by sequence, role and due date, sorted, 50 a page, with counts per filter.

One grouped query gives every count (per sequence and role, with the due-date buckets as filtered counts),
so the counts of each filter take the other filters into account without a query per option; then one
query for the page's ids and one for the page's rows. A user's inbox reads its assignment rows alone, and
« Sans titulaire » the rows of the actions nobody holds (one index range in due order, or in the dossiers'
order, which keeps each action's role, dossier and run version); anyone's inbox reads the open actions.

Those two lists may hold every open action of the library: their counts stop at COUNTED (« 1 000+ »),
each read from at most that many rows. Past it, the counts per sequence and role are not given (their
options are the library's), and the pages say whether there is a next one rather than how many there are.
"""

from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, literal, select
from sqlalchemy.orm import Session

from designer.models import Sequence, SequenceVersion
from kernel.accounts import User

from .assignments import Assignment, Unheld
from .models import Action, ActionStatus, Dossier, Run
from .roles import known_roles
from .workspace import dossiers_found

PAGE = 50
COUNTED = 1000  # « Sans titulaire » and anyone's inbox count this many actions at most
SOON = timedelta(days=7)
HOLDERS = ("me", "none", "any")  # or a user id, written as digits
DUES = ("overdue", "soon", "later", "none")
SORTS = ("due", "dossier", "sequence")


@dataclass(frozen=True)
class Filters:
    holder: str = "me"
    q: str = ""
    sequence: str = ""
    role: str = ""
    due: str = ""
    sort: str = "due"
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping, holder: str = "me") -> "Filters":
        """The filters of a query string; a value that means nothing is left out, never an error (a link
        kept from an older page still opens)."""
        wanted = (args.get("holder") or holder).strip()
        page = args.get("page", "1")
        return cls(
            holder=wanted if wanted in HOLDERS or wanted.isdigit() else holder,
            q=(args.get("q") or "").strip()[:200],
            sequence=(args.get("sequence") or "").strip()[:100],
            role=(args.get("role") or "").strip()[:100],
            due=args.get("due")
            if args.get("due") in DUES
            else ("overdue" if args.get("overdue") == "1" else ""),
            sort=args.get("sort") if args.get("sort") in SORTS else "due",
            page=max(1, min(int(page), 10_000)) if page.isdigit() else 1,
        )

    def args(self, **changes) -> dict[str, str]:
        """The query string of these filters (with `changes`), defaults left out: what links keep."""
        chosen = replace(self, **changes)
        defaults = Filters(holder=chosen.holder)
        return {
            name: str(getattr(chosen, name))
            for name in ("q", "sequence", "role", "due", "sort", "page")
            if getattr(chosen, name) != getattr(defaults, name)
        }

    @property
    def narrowed(self) -> bool:
        return bool(self.q or self.sequence or self.role or self.due)


@dataclass
class InboxPage:
    rows: list  # (action, dossier reference, dossier title, sequence name)
    total: int  # actions matching every filter (COUNTED + 1: more than COUNTED)
    counts: dict[str, int]  # open / overdue / due_soon under the holder, search, sequence and role
    sequences: list[tuple[str, str, int | None]] = field(default_factory=list)  # (key, name, count)
    roles: list[tuple[str, int | None]] = field(default_factory=list)  # None: not counted
    dues: dict[str, int] = field(default_factory=dict)  # "" (all), overdue, soon, later, none
    has_next: bool = False
    bounded: bool = False  # counts stop at COUNTED (COUNTED + 1: more), none per sequence or role

    @property
    def pages(self) -> int | None:
        """How many pages, None when the actions were not all counted."""
        return None if self.bounded and self.total > COUNTED else max(1, -(-self.total // PAGE))


def _holder_user(filters: Filters, user_id: int) -> int | None:
    if filters.holder == "me":
        return user_id
    return int(filters.holder) if filters.holder.isdigit() else None


@dataclass(frozen=True)
class _Scope:
    """Whose open actions and which dossiers: the conditions every query of a page shares. A user's inbox
    reads their assignment rows and « Sans titulaire » the rows of the actions nobody holds (both kept only
    for open actions, with the due date, role, dossier, its reference and the run version), so that every
    query of their pages is one index range of that table; anyone's inbox reads the open actions."""

    conditions: tuple
    table: type | None  # Assignment, Unheld, or None: the open actions
    bounded: bool  # counted up to COUNTED only

    def _column(self, name: str, of_action):
        return getattr(self.table, name) if self.table is not None else of_action

    @property
    def due(self):
        return self._column("due_at", Action.due_at)

    @property
    def key(self):
        return self._column("action_id", Action.id)

    @property
    def role(self):
        return self._column("role", Action.role)

    @property
    def version(self):
        return self._column("version_id", Run.version_id)

    @property
    def dossier(self):
        return self._column("dossier_id", Action.dossier_id)


def _scope(session: Session, filters: Filters, user_id: int) -> _Scope:
    holder = _holder_user(filters, user_id)
    if holder is not None:
        scope = _Scope((Assignment.user_id == holder,), Assignment, bounded=False)
    elif filters.holder == "none":
        scope = _Scope((), Unheld, bounded=True)
    else:
        scope = _Scope((Action.status == ActionStatus.OPEN,), None, bounded=True)
    if filters.q:
        found = scope.dossier.in_(dossiers_found(session, filters.q))
        scope = replace(scope, conditions=(*scope.conditions, found))
    return scope


def _from(query: Select, scope: _Scope, with_run: bool = False) -> Select:
    """From the scope's rows, or from the open actions (with their run when its version counts)."""
    if scope.table is not None:
        return query.select_from(scope.table)
    query = query.select_from(Action)
    return query.join(Run, Run.id == Action.run_id) if with_run else query


def _buckets(due, now: datetime) -> dict:
    return {
        "overdue": due < now,
        "soon": and_(due >= now, due < now + SOON),
        "later": due >= now + SOON,
        "none": due.is_(None),
    }


def inbox_page(session: Session, user_id: int, now: datetime, filters: Filters) -> InboxPage:
    scope = _scope(session, filters, user_id)
    groups, names = _groups(session, scope, now)
    due = filters.due
    ids = list(session.scalars(_page_ids(filters, scope, now, None if scope.bounded else names)))
    page = dict(rows=_rows(session, ids[:PAGE]), has_next=len(ids) > PAGE)
    if scope.bounded and sum(numbers[""] for *_key, numbers in groups) > COUNTED:
        return _past_counted(session, scope, filters, now, groups, page)

    def kept(key: str, role: str, skip: str) -> bool:
        return (skip == "sequence" or not filters.sequence or key == filters.sequence) and (
            skip == "role" or not filters.role or role == filters.role
        )

    per_sequence: dict[tuple[str, str], int] = {}
    per_role: dict[str, int] = {}
    dues = dict.fromkeys(("", *DUES), 0)
    for key, name, role, numbers in groups:
        if kept(key, role, "sequence"):
            per_sequence[(key, name)] = per_sequence.get((key, name), 0) + numbers[due]
        if kept(key, role, "role"):
            per_role[role] = per_role.get(role, 0) + numbers[due]
        if kept(key, role, ""):
            for bucket in dues:
                dues[bucket] += numbers[bucket]
    return InboxPage(
        total=dues[due],
        counts={"open": dues[""], "overdue": dues["overdue"], "due_soon": dues["soon"]},
        sequences=sorted(((k, n, c) for (k, n), c in per_sequence.items()), key=lambda s: s[1]),
        roles=sorted(per_role.items()),
        dues=dues,
        **page,
    )


def _groups(session: Session, scope: _Scope, now: datetime) -> tuple[list, dict[int, str]]:
    """(sequence key, sequence name, role, {due bucket: count}) of the scope's actions: all of them, or at
    most COUNTED + 1 of them when the scope is bounded; and the name of the sequence of each run version
    counted (every version of the scope's actions when it is not bounded)."""
    rows = _from(
        select(scope.version.label("version_id"), scope.role.label("role"), scope.due.label("due_at")),
        scope,
        with_run=True,
    ).where(*scope.conditions)
    if scope.bounded:
        rows = rows.limit(COUNTED + 1)
    rows = rows.subquery()
    buckets = _buckets(rows.c.due_at, now)
    # Counted per run version and role first, then named by sequence: the small tables joined last.
    per_version = (
        select(
            rows.c.version_id,
            rows.c.role,
            func.count().label("n"),
            *(func.count().filter(buckets[name]).label(f"n_{name}") for name in DUES),
        )
        .group_by(rows.c.version_id, rows.c.role)
        .subquery()
    )
    named = (
        select(per_version, Sequence.key, Sequence.name)
        .join(SequenceVersion, SequenceVersion.id == per_version.c.version_id)
        .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
    )
    groups: dict[tuple, dict[str, int]] = {}
    names: dict[int, str] = {}
    for version_id, role, *numbers, key, name in session.execute(named):
        names[version_id] = name
        summed = groups.setdefault((key, name, role), dict.fromkeys(("", *DUES), 0))
        for bucket, number in zip(("", *DUES), numbers, strict=True):
            summed[bucket] += int(number)
    return [(key, name, role, numbers) for (key, name, role), numbers in groups.items()], names


def _past_counted(
    session: Session, scope: _Scope, filters: Filters, now: datetime, groups: list, page: dict
) -> InboxPage:
    """More actions than COUNTED: each due-date count up to COUNTED + 1 (one query), the library's
    sequences and roles as options, without counts."""
    matching = _filtered(_from(select(literal(1)), scope, with_run=bool(filters.sequence)), filters, scope)
    buckets = {"": None, **_buckets(scope.due, now)}
    bounded = [
        select(func.count())
        .select_from((matching if cond is None else matching.where(cond)).limit(COUNTED + 1).subquery())
        .scalar_subquery()
        .label(f"n_{name}")
        for name, cond in buckets.items()
    ]
    dues = dict(zip(buckets, session.execute(select(*bounded)).one(), strict=True))
    sequences = select(Sequence.key, Sequence.name).where(
        Sequence.id.in_(select(SequenceVersion.sequence_id))
    )
    roles = {role for *_key, role, _numbers in groups} | set(known_roles(session))
    return InboxPage(
        total=dues[filters.due],
        counts={"open": dues[""], "overdue": dues["overdue"], "due_soon": dues["soon"]},
        sequences=sorted(((k, n, None) for k, n in session.execute(sequences)), key=lambda s: s[1]),
        roles=sorted((role, None) for role in roles),
        dues=dues,
        bounded=True,
        **page,
    )


def _filtered(query: Select, filters: Filters, scope: _Scope, now: datetime | None = None) -> Select:
    """`query` of the scope's actions under the sequence and role filters (and due date's, given `now`)."""
    query = query.where(*scope.conditions)
    if filters.role:
        query = query.where(scope.role == filters.role)
    if filters.due and now is not None:
        query = query.where(_buckets(scope.due, now)[filters.due])
    if filters.sequence:
        versions = select(SequenceVersion.id).join(Sequence).where(Sequence.key == filters.sequence)
        query = query.where(scope.version.in_(versions))
    return query


def _page_ids(
    filters: Filters, scope: _Scope, now: datetime, names: Mapping[int, str] | None = None
) -> Select:
    """The ids of the page's actions, in order, and the next one's first if any. The scope's rows are read
    alone (with the sequences' names when sorted by them, unless `names` gives the sequence name of each run
    version the rows hold); the open actions with their dossiers' references when sorted by dossier."""
    if filters.sort == "sequence" and names is not None:
        query = _filtered(_from(select(scope.key), scope), filters, scope, now)
        return _by_sequence_name(query, scope, names, filters.page)
    by_sequence = bool(filters.sequence or filters.sort == "sequence")
    query = _filtered(_from(select(scope.key), scope, with_run=by_sequence), filters, scope, now)
    due = scope.due.asc().nulls_last()
    if filters.sort == "dossier" and scope.table is not None:
        query = query.order_by(scope.table.reference, due, scope.key)
    elif filters.sort == "dossier":
        query = query.join(Dossier, Dossier.id == scope.dossier)
        query = query.order_by(Dossier.reference, due, scope.key)
    elif filters.sort == "sequence":
        query = (
            query.join(SequenceVersion, SequenceVersion.id == scope.version)
            .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
            .order_by(Sequence.name, due, scope.key)
        )
    else:
        query = query.order_by(due, scope.key)
    return query.limit(PAGE + 1).offset((filters.page - 1) * PAGE)


def _by_sequence_name(query: Select, scope: _Scope, names: Mapping[int, str], page: int) -> Select:
    """`query` in the order of its sequences' names, then by due date, without reading the sequences: each
    run version's rank among the names, known beforehand. The rows of one sequence (its usual case: one
    user's actions) are one index range in due order; otherwise their ranks are sorted, not joined."""
    ranks = {name: rank for rank, name in enumerate(sorted(set(names.values())))}
    due = scope.due.asc().nulls_last()
    if len(ranks) > 1:
        rank = case({v: ranks[name] for v, name in names.items()}, value=scope.version, else_=len(ranks))
        query = query.order_by(rank)
    return query.order_by(due, scope.key).limit(PAGE + 1).offset((page - 1) * PAGE)


_SHOWN = ("id", "run_id", "dossier_id", "name", "role", "due_at", "due_note")
_Shown = namedtuple("_Shown", _SHOWN)  # an action as its inbox row shows it


def _rows(session: Session, ids: list[int]) -> list:
    if not ids:
        return []
    # What a row shows of its action, as plain tuples: 50 whole actions (their forms, results…) loaded as
    # entities cost the page a few milliseconds more.
    action = select(*(getattr(Action, c) for c in _SHOWN)).where(Action.id.in_(ids)).subquery("action")
    query = (
        select(action, Dossier.reference, Dossier.title, SequenceVersion.name)
        .select_from(action)
        .join(Dossier, Dossier.id == action.c.dossier_id)
        .join(Run, Run.id == action.c.run_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
    )
    found = {}
    for row in session.execute(query):
        shown = _Shown(*row[: len(_SHOWN)])
        found[shown.id] = (shown, *row[len(_SHOWN) :])
    return [found[i] for i in ids if i in found]


def matching_ids(session: Session, user_id: int, now: datetime, filters: Filters, limit: int) -> list[int]:
    """The ids of the open actions matching `filters` (every page), in their order, at most `limit` + 1 (so
    that the caller knows there are more)."""
    scope = _scope(session, filters, user_id)
    query = _page_ids(replace(filters, page=1), scope, now).limit(limit + 1).offset(None)
    return list(session.scalars(query))


def colleagues(session: Session) -> list:
    """The active accounts actions can be handed to, by name: internal users first, then partners; as rows of
    what the lists show (id, name, kind), which cost less to read than whole users."""
    query = select(User.id, User.name, User.kind).where(User.active.is_(True))
    return list(session.execute(query.order_by(User.kind, User.name, User.id)))
