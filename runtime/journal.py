"""The dossier history: append-only, one entry per state change, written in the change's transaction.

Each entry carries a hash chained to the previous entry of its dossier, so that an entry changed or removed
afterwards shows as a break (`sequences check`)."""

import hashlib
import json
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache

from sqlalchemy import JSON, ForeignKey, Index, String, bindparam, event, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column, scoped_session

from kernel.db import Base


class Kind(StrEnum):
    DOSSIER_CREATED = "dossier_created"
    DOSSIER_UPDATED = "dossier_updated"
    PARTICIPANT_ADDED = "participant_added"
    PARTICIPANT_UPDATED = "participant_updated"
    RUN_LAUNCHED = "run_launched"
    RUN_COMPLETED = "run_completed"
    RUN_INTERRUPTED = "run_interrupted"
    RUN_SWITCHED = "run_switched"
    RUN_FAILED = "run_failed"
    RUN_WAITING_DATA = "run_waiting_data"
    RUN_RETRIED = "run_retried"
    RUN_MOVED_BACK = "run_moved_back"
    RUN_MIGRATED = "run_migrated"
    TIMER_RESCHEDULED = "timer_rescheduled"
    ACTION_CREATED = "action_created"
    ACTION_COMPLETED = "action_completed"
    ACTION_CANCELLED = "action_cancelled"
    ACTION_ADDED = "action_added"
    ROLE_CHANGED = "role_changed"
    HOLDERS_REASSIGNED = "holders_reassigned"  # actions handed over from an inbox: one entry per dossier
    EVENT_RECEIVED = "event_received"
    TIMER_SCHEDULED = "timer_scheduled"
    TIMER_FIRED = "timer_fired"
    COMMUNICATION_QUEUED = "communication_queued"
    COMMUNICATION_SENT = "communication_sent"
    COMMUNICATION_KEPT = "communication_kept"
    COMMUNICATION_FAILED = "communication_failed"
    COMMENT_ADDED = "comment_added"
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_SHARED = "document_shared"
    DOCUMENT_UNSHARED = "document_unshared"


class JournalEntry(Base):
    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_dossier_id", "dossier_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def digest(self) -> str:
        """The entry's hash, from its content and the previous entry's hash."""
        fields = (self.dossier_id, self.run_id, self.action_id, self.at, self.actor, self.kind, self.data)
        return _digest(self.prev_hash, *fields)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "run_id": self.run_id,
            "action_id": self.action_id,
            "data": self.data,
        }


def _digest(prev_hash, dossier_id, run_id, action_id, at: datetime, actor, kind, data) -> str:
    content = {
        "prev": prev_hash,
        "dossier_id": dossier_id,
        "run_id": run_id,
        "action_id": action_id,
        "at": at.astimezone(UTC).isoformat(),
        "actor": actor,
        "kind": kind,
        "data": data,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def record(
    session: Session,
    dossier_id: int,
    actor: str,
    what: Kind,
    at: datetime,
    *,
    run_id: int | None = None,
    action_id: int | None = None,
    **data,
) -> None:
    """Appends an entry to the transaction. What it refers to (dossier, run, action) is already stored: they
    have ids. The entries of a transaction are written together, in order, before anything reads the
    history and at the latest when the transaction commits."""
    # Round-tripped through JSON now, so the hash is computed on what the database will give back.
    data = json.loads(json.dumps(data, default=str))
    prev_hash = _head(session, dossier_id)
    digest = _digest(prev_hash, dossier_id, run_id, action_id, at, actor, what.value, data)
    session.info.setdefault(_PENDING, []).append(
        (
            innermost(session),
            {
                "dossier_id": dossier_id,
                "run_id": run_id,
                "action_id": action_id,
                "at": at,
                "actor": actor,
                "kind": what.value,
                "data": data,
                "prev_hash": prev_hash,
                "hash": digest,
            },
        )
    )
    session.info.setdefault(_HEADS, {})[dossier_id] = digest


def write_pending(session: Session) -> None:
    """Writes the entries recorded since the last write, in one statement."""
    pending = take_pending(session)
    if pending:
        session.connection().execute(_INSERT, pending)


def take_pending(session: Session) -> list[dict]:
    """The entries recorded since the last write, in order, as rows of the history's table: the caller writes
    them now (with other writes, in one statement)."""
    return [row for _transaction, row in session.info.pop(_PENDING, ())]


_INSERT = insert(JournalEntry.__table__)
_HEADS = "journal_heads"
_LOCKED = "journal_locked"
_PENDING = "journal_pending"


def lock_dossier(session: Session, dossier_id: int) -> None:
    """Locks a dossier for the rest of the transaction: its history can be chained, and its runs changed
    (every writer of a run takes this lock before reading the run). SQLite's transactions already hold the
    database's single write lock."""
    lock_with(session, _lock_by_id(), {"dossier_id": dossier_id})


def lock_with(session: Session, statement, params: dict) -> None:
    """Locks the dossier that `statement` selects FOR UPDATE (a prebuilt statement, e.g. the dossier of a
    run or of an action, with its `params`)."""
    if session.get_bind().dialect.name == "sqlite":
        return
    locked = session.connection().scalar(statement, params)
    if locked is not None:
        session.info.setdefault(_LOCKED, set()).add(locked)


def lock_all(session: Session, statement, params: dict) -> list[int]:
    """Locks every dossier that `statement` selects FOR UPDATE, ordered by id: two transactions locking
    several dossiers at once take them in the same order, and wait for each other rather than deadlock.
    Returns the dossiers locked (none on SQLite, whose transactions hold the single write lock)."""
    if session.get_bind().dialect.name == "sqlite":
        return []
    locked = list(session.connection().scalars(statement, params))
    session.info.setdefault(_LOCKED, set()).update(locked)
    return locked


def lock_statement(dossier_id):
    """Selects the dossier `dossier_id` FOR UPDATE (a parameter, or a subquery: the dossier of a run)."""
    from .models import Dossier  # here: the dossiers' model imports this module

    return select(Dossier.id).where(Dossier.id == dossier_id).with_for_update()


@cache  # built once, on first use
def _lock_by_id():
    return lock_statement(bindparam("dossier_id"))


def head_of(dossier_id):
    """The hash of the last entry of the dossier `dossier_id` (a parameter, or a column to correlate with)."""
    return (
        select(JournalEntry.hash)
        .where(JournalEntry.dossier_id == dossier_id)
        .order_by(JournalEntry.id.desc())
        .limit(1)
    )


_HEAD = head_of(bindparam("dossier_id"))


def known_head(session: Session, dossier_id: int, head: str | None) -> None:
    """The dossier's last hash, read by the caller in a statement run after the dossier was locked (e.g. with
    the run it locked): the first entry recorded next chains onto it without reading it again."""
    session.info.setdefault(_HEADS, {}).setdefault(dossier_id, head)


def _head(session: Session, dossier_id: int) -> str | None:
    """The hash of the dossier's last entry, read once the dossier is locked, so that two writers cannot both
    chain onto the same entry."""
    heads = session.info.setdefault(_HEADS, {})
    if dossier_id not in heads:
        if dossier_id not in session.info.get(_LOCKED, ()):
            lock_dossier(session, dossier_id)
        heads[dossier_id] = session.connection().scalar(_HEAD, {"dossier_id": dossier_id})
    return heads[dossier_id]


@event.listens_for(Session, "do_orm_execute")
def _before_reading(orm_execute_state) -> None:
    # What this transaction recorded is in the history it reads.
    write_pending(orm_execute_state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # Also called when a savepoint is released: its entries then wait for the transaction's commit (the timer
    # worker's savepoints, one per firing, write their history in one statement), and a rollback of the
    # transaction still drops them (_forget_rolled_back: they were recorded within it).
    if session.in_nested_transaction():
        return
    write_pending(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, rolled_back) -> None:
    # What was recorded within the transaction or savepoint rolled back is gone, what came before stays.
    session.info.pop(_HEADS, None)
    session.info.pop(_LOCKED, None)
    kept = [(t, row) for t, row in session.info.pop(_PENDING, ()) if not within(t, rolled_back)]
    if kept:
        session.info[_PENDING] = kept
        session.info[_HEADS] = {row["dossier_id"]: row["hash"] for _t, row in kept}


@event.listens_for(Session, "after_transaction_end")
def _forget_all(session: Session, transaction) -> None:
    # Committed, rolled back or closed: heads and locks are valid only while the transaction holds the
    # dossier's lock, and what it recorded and did not write is not history.
    if transaction.parent is None:
        for key in (_PENDING, _HEADS, _LOCKED):
            session.info.pop(key, None)


def innermost(session: Session):
    """The savepoint or transaction `session` is in now (a scoped session: its current session's)."""
    real = session() if isinstance(session, scoped_session) else session
    return real.get_nested_transaction() or real.get_transaction()


def within(transaction, outer) -> bool:
    """Whether `transaction` is `outer` or was begun inside it (a savepoint of it)."""
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
