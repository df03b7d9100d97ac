"""The inbox of open actions a case manager works from: whose (mine, nobody's, anyone's, a colleague's),
searched by dossier, filtered by sequence, role and due date, sorted, 50 a page, with counts per filter.

One grouped query gives every count (per sequence and role, with the due-date buckets as filtered counts),
so the counts of each filter take the other filters into account without a query per option; then one
query for the page's ids and one for the page's rows. A user's inbox reads its assignment rows alone (one
index range in due order, which keeps each action's role, dossier and run version); the other inboxes read
the open actions."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from designer.models import Sequence, SequenceVersion
from kernel.accounts import User

from .assignments import Assignment
from .models import Action, ActionStatus, Dossier, Run, RunRole
from .workspace import dossiers_found

PAGE = 50
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
    total: int  # actions matching every filter
    counts: dict[str, int]  # open / overdue / due_soon under the holder, search, sequence and role
    sequences: list[tuple[str, str, int]] = field(default_factory=list)  # (key, name, count)
    roles: list[tuple[str, int]] = field(default_factory=list)
    dues: dict[str, int] = field(default_factory=dict)  # "" (all), overdue, soon, later, none

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))


def _holder_user(filters: Filters, user_id: int) -> int | None:
    if filters.holder == "me":
        return user_id
    return int(filters.holder) if filters.holder.isdigit() else None


@dataclass(frozen=True)
class _Scope:
    """Whose open actions and which dossiers: the conditions every query of a page shares. A user's
    inbox reads their assignment rows (kept only for open actions, with the due date, role, dossier and
    run version), so that every query of its page is one index range of that table."""

    conditions: tuple
    assigned: bool

    @property
    def due(self):
        return Assignment.due_at if self.assigned else Action.due_at

    @property
    def key(self):
        return Assignment.action_id if self.assigned else Action.id

    @property
    def role(self):
        return Assignment.role if self.assigned else Action.role

    @property
    def version(self):
        return Assignment.version_id if self.assigned else Run.version_id

    @property
    def dossier(self):
        return Assignment.dossier_id if self.assigned else Action.dossier_id


def _scope(session: Session, filters: Filters, user_id: int) -> _Scope:
    holder = _holder_user(filters, user_id)
    if holder is not None:
        conditions = [Assignment.user_id == holder]
    else:
        conditions = [Action.status == ActionStatus.OPEN]
        if filters.holder == "none":
            conditions.append(~exists().where(RunRole.run_id == Action.run_id, RunRole.role == Action.role))
    dossier = Assignment.dossier_id if holder is not None else Action.dossier_id
    if filters.q:
        conditions.append(dossier.in_(dossiers_found(session, filters.q)))
    return _Scope(tuple(conditions), holder is not None)


def _from(query: Select, scope: _Scope, with_run: bool = False) -> Select:
    """From the user's assignment rows, or from the open actions (with their run when its version counts)."""
    if scope.assigned:
        return query.select_from(Assignment)
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
    buckets = _buckets(scope.due, now)
    # Counted per run version and role first, then named by sequence: the small tables joined last.
    per_version = (
        _from(
            select(
                scope.version.label("version_id"),
                scope.role.label("role"),
                func.count().label("n"),
                *(func.count().filter(buckets[name]).label(f"n_{name}") for name in DUES),
            ),
            scope,
            with_run=True,
        )
        .where(*scope.conditions)
        .group_by(scope.version, scope.role)
        .subquery()
    )
    numbered = [per_version.c.n, *(per_version.c[f"n_{name}"] for name in DUES)]
    grouped = (
        select(Sequence.key, Sequence.name, per_version.c.role, *(func.sum(n) for n in numbered))
        .select_from(per_version)
        .join(SequenceVersion, SequenceVersion.id == per_version.c.version_id)
        .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
        .group_by(Sequence.key, Sequence.name, per_version.c.role)
    )
    groups = [
        (key, name, role, dict(zip(("", *DUES), map(int, numbers), strict=True)))
        for key, name, role, *numbers in session.execute(grouped)
    ]
    due = filters.due

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
    counts = {"open": dues[""], "overdue": dues["overdue"], "due_soon": dues["soon"]}
    ids = list(session.scalars(_page_ids(filters, scope, now)))
    return InboxPage(
        rows=_rows(session, ids),
        total=dues[due],
        counts=counts,
        sequences=sorted(((k, n, c) for (k, n), c in per_sequence.items()), key=lambda s: s[1]),
        roles=sorted(per_role.items()),
        dues=dues,
    )


def _page_ids(filters: Filters, scope: _Scope, now: datetime) -> Select:
    """The ids of the page's actions, in order. A user's inbox reads the assignment rows alone (with the
    dossiers' references or the sequences' names when sorted by them)."""
    by_sequence = bool(filters.sequence or filters.sort == "sequence")
    query = _from(select(scope.key), scope, with_run=by_sequence).where(*scope.conditions)
    if filters.role:
        query = query.where(scope.role == filters.role)
    if filters.due:
        query = query.where(_buckets(scope.due, now)[filters.due])
    if filters.sequence:
        versions = select(SequenceVersion.id).join(Sequence).where(Sequence.key == filters.sequence)
        query = query.where(scope.version.in_(versions))
    due = scope.due.asc().nulls_last()
    if filters.sort == "dossier":
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
    return query.limit(PAGE).offset((filters.page - 1) * PAGE)


def _rows(session: Session, ids: list[int]) -> list:
    if not ids:
        return []
    query = (
        select(Action, Dossier.reference, Dossier.title, SequenceVersion.name)
        .join(Dossier, Dossier.id == Action.dossier_id)
        .join(Run, Run.id == Action.run_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .where(Action.id.in_(ids))
    )
    found = {row[0].id: tuple(row) for row in session.execute(query)}
    return [found[i] for i in ids if i in found]


def matching_ids(session: Session, user_id: int, now: datetime, filters: Filters, limit: int) -> list[int]:
    """The ids of the open actions matching `filters` (every page), in their order, at most `limit` + 1 (so
    that the caller knows there are more)."""
    scope = _scope(session, filters, user_id)
    query = _page_ids(replace(filters, page=1), scope, now).limit(limit + 1).offset(None)
    return list(session.scalars(query))


def colleagues(session: Session) -> list[User]:
    """The active accounts actions can be handed to, by name: internal users first, then partners."""
    query = select(User).where(User.active.is_(True)).order_by(User.kind, User.name, User.id)
    return list(session.scalars(query))
