"""The inbox of open actions a case manager works from: whose (mine, nobody's, anyone's, a colleague's),
searched by dossier, filtered by sequence, role and due date, sorted, 50 a page, with counts per filter.

One grouped query gives every count (per sequence and role, with the due-date buckets as filtered counts),
so the counts of each filter take the other filters into account without a query per option; then one
query for the page's ids (a user's inbox reads its assignment rows, one index range in due order) and one
for the page's rows."""

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


def _where(session: Session, filters: Filters, user_id: int) -> tuple[list, bool]:
    """The conditions of the holder and the search, and whether the assignment rows are joined."""
    conditions = [Action.status == ActionStatus.OPEN]
    holder = _holder_user(filters, user_id)
    if holder is not None:
        conditions.append(Assignment.user_id == holder)
    elif filters.holder == "none":
        conditions.append(~exists().where(RunRole.run_id == Action.run_id, RunRole.role == Action.role))
    if filters.q:
        conditions.append(Action.dossier_id.in_(dossiers_found(session, filters.q)))
    return conditions, holder is not None


def _from(query: Select, assigned: bool) -> Select:
    if assigned:
        return query.select_from(Assignment).join(Action, Action.id == Assignment.action_id)
    return query.select_from(Action)


def _due_bucket(filters: Filters, now: datetime):
    due = {
        "overdue": Action.due_at < now,
        "soon": and_(Action.due_at >= now, Action.due_at < now + SOON),
        "later": Action.due_at >= now + SOON,
        "none": Action.due_at.is_(None),
    }
    return due.get(filters.due)


def inbox_page(session: Session, user_id: int, now: datetime, filters: Filters) -> InboxPage:
    conditions, assigned = _where(session, filters, user_id)
    late, soon = Action.due_at < now, and_(Action.due_at >= now, Action.due_at < now + SOON)
    grouped = (
        _from(
            select(
                Sequence.key,
                Sequence.name,
                Action.role,
                func.count(),
                func.count().filter(late),
                func.count().filter(soon),
                func.count().filter(Action.due_at >= now + SOON),
                func.count().filter(Action.due_at.is_(None)),
            ),
            assigned,
        )
        .join(Run, Run.id == Action.run_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
        .where(*conditions)
        .group_by(Sequence.key, Sequence.name, Action.role)
    )
    groups = [
        (key, name, role, dict(zip(("", "overdue", "soon", "later", "none"), numbers, strict=True)))
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
    total = dues[due]
    ids = list(session.scalars(_page_ids(filters, conditions, assigned, now)))
    return InboxPage(
        rows=_rows(session, ids),
        total=total,
        counts=counts,
        sequences=sorted(((k, n, c) for (k, n), c in per_sequence.items()), key=lambda s: s[1]),
        roles=sorted(per_role.items()),
        dues=dues,
    )


def _narrowed(query: Select, filters: Filters, conditions: list, now: datetime) -> Select:
    query = query.where(*conditions)
    if filters.role:
        query = query.where(Action.role == filters.role)
    bucket = _due_bucket(filters, now)
    if bucket is not None:
        query = query.where(bucket)
    if filters.sequence or filters.sort == "sequence":
        query = query.join(Run, Run.id == Action.run_id)
    if filters.sequence:
        versions = select(SequenceVersion.id).join(Sequence).where(Sequence.key == filters.sequence)
        query = query.where(Run.version_id.in_(versions))
    return query


def _page_ids(filters: Filters, conditions: list, assigned: bool, now: datetime) -> Select:
    if assigned:  # the assignment row's own columns: its index gives the due order
        due, key = Assignment.due_at.asc().nulls_last(), Assignment.action_id
    else:
        due, key = Action.due_at.asc().nulls_last(), Action.id
    query = _narrowed(_from(select(key), assigned), filters, conditions, now)
    if filters.sort == "dossier":
        query = query.join(Dossier, Dossier.id == Action.dossier_id).order_by(Dossier.reference, due, key)
    elif filters.sort == "sequence":
        query = (
            query.join(SequenceVersion, SequenceVersion.id == Run.version_id)
            .join(Sequence, Sequence.id == SequenceVersion.sequence_id)
            .order_by(Sequence.name, due, key)
        )
    else:
        query = query.order_by(due, key)
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
    conditions, assigned = _where(session, filters, user_id)
    query = _page_ids(replace(filters, page=1), conditions, assigned, now).limit(limit + 1).offset(None)
    return list(session.scalars(query))


def colleagues(session: Session) -> list[User]:
    """The active accounts actions can be handed to, by name: internal users first, then partners."""
    query = select(User).where(User.active.is_(True)).order_by(User.kind, User.name, User.id)
    return list(session.scalars(query))
