"""The queries behind the case managers' pages: dossier search, inboxes, counts per step.

Every list is one indexed query for the page plus one batched query per kind of detail (never one per
row), and pages are cut by keyset (dossiers) or a small offset (inboxes), so they stay fast at 100,000
dossiers and a million actions."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, String, and_, exists, func, literal_column, select, union
from sqlalchemy.orm import Session

from designer.models import Sequence, SequenceVersion

from .assignments import Assignment
from .journal import JournalEntry
from .models import (
    Action,
    ActionStatus,
    Dossier,
    Participant,
    ParticipantKind,
    Run,
    RunRole,
    RunStatus,
    Timer,
)

PAGE = 50


@dataclass
class DossierPage:
    dossiers: list[Dossier]
    next_after: int | None = None  # keyset cursors: ids, newest first
    prev_before: int | None = None


@dataclass
class Summary:
    runs: list[dict] = field(default_factory=list)
    participants: list[dict] = field(default_factory=list)
    open_actions: int = 0
    overdue: int = 0


def search_dossiers(
    session: Session,
    now: datetime,
    *,
    q: str | None = None,
    run_status: str | None = None,
    sequence: str | None = None,
    overdue: bool = False,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> DossierPage:
    query = select(Dossier)
    q = (q or "").strip()
    if q:
        query = query.where(_found_by(session, q))
    if run_status or sequence:
        run = exists().where(Run.dossier_id == Dossier.id)
        if run_status:
            run = run.where(Run.status == run_status)
        if sequence:
            run = run.where(
                Run.version_id.in_(select(SequenceVersion.id).join(Sequence).where(Sequence.key == sequence))
            )
        query = query.where(run)
    if overdue:
        query = query.where(
            exists().where(
                Action.dossier_id == Dossier.id, Action.status == ActionStatus.OPEN, Action.due_at < now
            )
        )
    if before is not None:
        found = list(session.scalars(query.where(Dossier.id > before).order_by(Dossier.id).limit(limit + 1)))
        more_newer = len(found) > limit
        found = list(reversed(found[:limit]))
        return DossierPage(
            found,
            next_after=found[-1].id if found else None,
            prev_before=found[0].id if found and more_newer else None,
        )
    if after is not None:
        query = query.where(Dossier.id < after)
    found = list(session.scalars(query.order_by(Dossier.id.desc()).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    return DossierPage(
        found,
        next_after=found[-1].id if found and more else None,
        prev_before=found[0].id if found and after is not None else None,
    )


# Dossier data fields a search looks in: the address of the rented home, which is how people outside name a
# dossier. Not every field: amounts and dates would match any number typed.
SEARCHED_FIELDS = ("address",)
# On PostgreSQL with pg_trgm, GIN trigram indexes answer the "contains" search (migration
# 20261206_604daa25eb85): name -> (table, indexed expression). They live outside the models, as SQLite cannot
# hold them.
TRIGRAM_INDEXES = {
    "ix_dossiers_reference_trgm": ("dossiers", "reference"),
    "ix_dossiers_title_trgm": ("dossiers", "title"),
    "ix_dossiers_address_trgm": ("dossiers", "(data ->> 'address')"),
    "ix_participants_name_trgm": ("participants", "name"),
}


def _field(session: Session, name: str):
    if session.get_bind().dialect.name == "postgresql":
        # The trigram index's own expression, key written out: a bound key would not match the index.
        return Dossier.data.op("->>", return_type=String)(literal_column(f"'{name}'"))
    return Dossier.data[name].as_string()


def _found_by(session: Session, q: str):
    return Dossier.id.in_(dossiers_found(session, q))


def dossiers_found(session: Session, q: str):
    """The ids of the dossiers a search term finds (a union to test ids against): dossiers whose reference
    ("0111" finds IMP-2026-0111), title or searched data fields hold it, or where a partner or contact has it
    in their name. Internal users' names are left out: a case manager takes part in every dossier of their
    portfolio, so their surname would find hundreds of dossiers, not the tenant's. Each column is searched
    apart and the ids joined, so that each part uses its own trigram index on PostgreSQL (given an OR, the
    planner reads every dossier); without them (SQLite, or no pg_trgm) each part reads its table."""
    columns = [Dossier.reference, Dossier.title, *(_field(session, name) for name in SEARCHED_FIELDS)]
    outside = select(Participant.dossier_id).where(
        Participant.kind != ParticipantKind.INTERNAL, Participant.name.icontains(q, autoescape=True)
    )
    inside = [select(Dossier.id).where(column.icontains(q, autoescape=True)) for column in columns]
    return union(*inside, outside)


def summaries(session: Session, dossier_ids: list[int], now: datetime) -> dict[int, Summary]:
    """Runs, participants and open/overdue counts of a page of dossiers: three queries in all."""
    found = {i: Summary() for i in dossier_ids}
    if not dossier_ids:
        return found
    runs = (
        select(Run.dossier_id, Run.id, Run.status, Sequence.key, Sequence.name, SequenceVersion.number)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence)
        .where(Run.dossier_id.in_(dossier_ids))
        .order_by(Run.id)
    )
    for dossier_id, run_id, status, key, name, number in session.execute(runs):
        found[dossier_id].runs.append(
            {"id": run_id, "status": status, "sequence": key, "name": name, "version": number}
        )
    people = (
        select(Participant.dossier_id, Participant.name, Participant.kind)
        .where(Participant.dossier_id.in_(dossier_ids))
        .order_by(Participant.id)
    )
    for dossier_id, name, kind in session.execute(people):
        found[dossier_id].participants.append({"name": name, "kind": kind})
    counts = (
        select(Action.dossier_id, func.count(), func.count().filter(Action.due_at < now))
        .where(Action.dossier_id.in_(dossier_ids), Action.status == ActionStatus.OPEN)
        .group_by(Action.dossier_id)
    )
    for dossier_id, total, late in session.execute(counts):
        found[dossier_id].open_actions, found[dossier_id].overdue = total, late
    return found


def _unassigned():
    return and_(
        Action.status == ActionStatus.OPEN,
        ~exists().where(RunRole.run_id == Action.run_id, RunRole.role == Action.role),
    )


def _listed(condition, now: datetime, overdue_only: bool, limit: int, offset: int) -> Select:
    query = (
        select(Action, Dossier.reference, Dossier.title)
        .join(Dossier, Dossier.id == Action.dossier_id)
        .where(condition)
    )
    if overdue_only:
        query = query.where(Action.due_at < now)
    # Oldest due date first: overdue actions come first, actions without a date last.
    return query.order_by(Action.due_at.asc().nulls_last(), Action.id).limit(limit).offset(offset)


def _counts(session: Session, condition, now: datetime) -> dict[str, int]:
    query = select(
        func.count(),
        func.count().filter(Action.due_at < now),
        func.count().filter(and_(Action.due_at >= now, Action.due_at < now + timedelta(days=7))),
    ).select_from(Action)
    total, late, soon = session.execute(query.where(condition)).one()
    return {"open": total, "overdue": late, "due_soon": soon}


def inbox(
    session: Session,
    user_id: int,
    now: datetime,
    *,
    overdue_only: bool = False,
    limit: int = PAGE,
    offset: int = 0,
) -> tuple[list, dict[str, int]]:
    """The open actions of the roles the user holds, across dossiers, overdue first, with counts.

    Both are read from the user's assignment rows (one index range), then the page's rows by id."""
    mine = Assignment.user_id == user_id
    late = Assignment.due_at < now
    soon = and_(Assignment.due_at >= now, Assignment.due_at < now + timedelta(days=7))
    total, overdue, due_soon = session.execute(
        select(func.count(), func.count().filter(late), func.count().filter(soon)).where(mine)
    ).one()
    counts = {"open": total, "overdue": overdue, "due_soon": due_soon}
    page = select(Assignment.action_id).where(mine)
    if overdue_only:
        page = page.where(late)
    page = (
        page.order_by(Assignment.due_at.asc().nulls_last(), Assignment.action_id).limit(limit).offset(offset)
    )
    ids = list(session.scalars(page))
    rows = {
        action.id: (action, reference, title)
        for action, reference, title in session.execute(
            select(Action, Dossier.reference, Dossier.title)
            .join(Dossier, Dossier.id == Action.dossier_id)
            .where(Action.id.in_(ids or [-1]), Action.status == ActionStatus.OPEN)
        )
    }
    return [rows[i] for i in ids if i in rows], counts


def unassigned(
    session: Session, now: datetime, *, overdue_only: bool = False, limit: int = PAGE, offset: int = 0
) -> tuple[list, dict[str, int]]:
    """Open actions whose role nobody holds in their run."""
    condition = _unassigned()
    rows = list(session.execute(_listed(condition, now, overdue_only, limit, offset)))
    return rows, _counts(session, condition, now)


def holders_of(session: Session, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], list[str]]:
    """Names of the holders of (run id, role) pairs, in one query."""
    if not pairs:
        return {}
    query = (
        select(RunRole.run_id, RunRole.role, Participant.name)
        .join(Participant, Participant.id == RunRole.participant_id)
        .where(RunRole.run_id.in_({run_id for run_id, _ in pairs}))
        .order_by(RunRole.id)
    )
    found: dict[tuple[int, str], list[str]] = {}
    for run_id, role, name in session.execute(query):
        if (run_id, role) in pairs:
            found.setdefault((run_id, role), []).append(name)
    return found


def running_counts(session: Session) -> dict[str, int]:
    """Sequence key → running runs (a run waiting on a task and its timer counts once)."""
    query = (
        select(Sequence.key, func.count(Run.id))
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence)
        .where(Run.status == RunStatus.RUNNING)
        .group_by(Sequence.key)
    )
    return {key: count for key, count in session.execute(query)}


def waiting_counts(session: Session) -> dict[str, dict[str, int]]:
    """Sequence key → element id → running runs waiting there (open actions and pending timers)."""
    found: dict[str, dict[str, int]] = {}
    actions = (
        select(Sequence.key, Action.element_id, func.count())
        .join(Run, Run.id == Action.run_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence)
        .where(Action.status == ActionStatus.OPEN, Run.status == RunStatus.RUNNING)
        .group_by(Sequence.key, Action.element_id)
    )
    timers = (
        select(Sequence.key, Timer.element_id, func.count())
        .join(Run, Run.id == Timer.run_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence)
        .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None), Run.status == RunStatus.RUNNING)
        .group_by(Sequence.key, Timer.element_id)
    )
    for query in (actions, timers):
        for key, element_id, count in session.execute(query):
            per = found.setdefault(key, {})
            per[element_id] = per.get(element_id, 0) + count
    return found


def outcome_counts(session: Session, since: datetime | None = None) -> dict[str, dict[str, dict[str, int]]]:
    """Sequence key → element id → outcome → completed actions (since a date, if given)."""
    query = (
        select(Sequence.key, Action.element_id, Action.outcome, func.count())
        .join(Run, Run.id == Action.run_id)
        .join(SequenceVersion, SequenceVersion.id == Run.version_id)
        .join(Sequence)
        .where(Action.outcome.is_not(None))
        .group_by(Sequence.key, Action.element_id, Action.outcome)
    )
    if since is not None:
        query = query.where(Action.completed_at >= since)
    found: dict[str, dict[str, dict[str, int]]] = {}
    for key, element_id, outcome, count in session.execute(query):
        found.setdefault(key, {}).setdefault(element_id, {})[outcome] = count
    return found


def history(
    session: Session,
    dossier_id: int,
    *,
    kinds: list[str] | None = None,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[JournalEntry]:
    query = select(JournalEntry).where(JournalEntry.dossier_id == dossier_id)
    if kinds:
        query = query.where(JournalEntry.kind.in_(kinds))
    query = query.order_by(JournalEntry.id.desc() if newest_first else JournalEntry.id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def published_sequences(session: Session) -> list[tuple[Sequence, SequenceVersion]]:
    """Each sequence with at least one published version, with its latest version (one query)."""
    latest = (
        select(SequenceVersion.sequence_id, func.max(SequenceVersion.number).label("number"))
        .group_by(SequenceVersion.sequence_id)
        .subquery()
    )
    query = (
        select(Sequence, SequenceVersion)
        .join(SequenceVersion, SequenceVersion.sequence_id == Sequence.id)
        .join(
            latest,
            and_(
                latest.c.sequence_id == SequenceVersion.sequence_id, latest.c.number == SequenceVersion.number
            ),
        )
        .order_by(Sequence.name)
    )
    return [(s, v) for s, v in session.execute(query)]


def completed_by(session: Session, user_id: int, limit: int) -> list[tuple[Action, str, str]]:
    """The actions the user completed last, each with its dossier's reference and title."""
    query = (
        select(Action, Dossier.reference, Dossier.title)
        .join(Dossier, Dossier.id == Action.dossier_id)
        .where(Action.completed_by_user_id == user_id)
        .order_by(Action.completed_at.desc(), Action.id.desc())
        .limit(limit)
    )
    return list(session.execute(query))
