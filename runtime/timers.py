"""Due timers, claimed in batches by any number of workers and fired a chunk of runs per transaction.

A worker claims a batch by writing its id and a lease (`claimed_until`) on the timers, in one short
transaction. Then it fires them a chunk at a time (`CHUNK_RUNS`): `runtime.events.take_timers` locks the
chunk's dossiers (in id order, so two workers never deadlock), marks fired the timers still pending, due and
of a running run, and reads their runs and open actions, in four statements; so a timer is never fired twice
even when two workers hold it. Each firing then runs in a savepoint of its own, and the chunk's history and
run rows are written together when it commits (a firing that writes nothing else sends no statement): a
timer whose firing raises is rolled back alone and put back, and the others commit together. A chunk that
runs past `CHUNK_SECONDS` commits what it fired and hands the rest to the next, smaller chunk, so a dossier
stays locked only that long. A worker killed mid-batch loses nothing: what it had not committed is rolled
back with its connection, its leases expire and another worker claims what it left. A timer whose firing
raises keeps its claim a little longer (its `attempts` grow), so it is retried later without holding up
the rest of the batch.

Between passes a worker sleeps until the next timer falls due, its interval at most; on PostgreSQL a timer
committed meanwhile by any process that falls due earlier wakes it (`Bell`: LISTEN/NOTIFY).
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, Select, or_, select, update
from sqlalchemy.orm import Session

from kernel.db import unit_of_work

from .clock import Clock
from .events import fire_taken, take_timers, untake
from .models import Timer
from .step import hold_run_writes

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# After a failed firing, the timer waits before another try: doubling, capped.
MAX_BACKOFF = timedelta(hours=1)
# A batch's firings are committed every CHUNK_RUNS firings or CHUNK_SECONDS, whichever comes first.
CHUNK_RUNS = 50
CHUNK_SECONDS = 0.2


@dataclass
class Pass:
    """What one call of run_once did."""

    claimed: int = 0
    fired: int = 0
    skipped: int = 0  # no longer pending when its turn came (cancelled, fired by another worker, run ended)
    failed: int = 0
    released: int = 0  # claims given back because the worker was asked to stop


def due_timers(now: datetime) -> Select:
    """The timers to fire at `now`: pending, due, and not under another worker's live lease.
    `fired_at IS NULL AND due_at <= now` is what the index ix_timers_pending_due serves."""
    return (
        select(Timer.id)
        .where(Timer.fired_at.is_(None), Timer.due_at <= now, Timer.cancelled_at.is_(None),
               or_(Timer.claimed_until.is_(None), Timer.claimed_until < now))
        .order_by(Timer.due_at, Timer.id)
    )


def seconds_to_next(session: Session, now: datetime, longest: float) -> float:
    """How long a worker may sleep before a timer falls due: until the earliest pending timer that no live
    lease holds, at most `longest` seconds (timers created meanwhile by another process, leases that
    expire), and 0 when one is due already. One index range read (ix_timers_pending_due)."""
    first = session.scalar(
        select(Timer.due_at)
        .where(Timer.fired_at.is_(None), Timer.cancelled_at.is_(None),
               or_(Timer.claimed_until.is_(None), Timer.claimed_until < now))
        .order_by(Timer.due_at)
        .limit(1)
    )
    session.rollback()  # a read: no transaction left open while the worker sleeps
    if first is None:
        return longest
    return min(max((first - now).total_seconds(), 0.0), longest)


CHANNEL = "sequences_timers"  # the migration c5d1f0a7e3b2's trigger announces timers on it
SLICE = 0.25  # the longest a sleeping worker goes without looking at its stop signal


class Bell:
    """Wakes a sleeping worker when another transaction, in any process, commits a timer due before the worker
    would wake: on PostgreSQL a connection of its own LISTENs on CHANNEL, where a trigger sends the earliest
    due time of the pending timers each statement wrote (NOTIFY is delivered at commit). It listens from
    `open()` on, before the worker's first look at the next due time, so that no timer committed in between
    goes unheard.

    Without it the worker waits its interval at most (polling): on SQLite, and behind a pooler in transaction
    mode (PgBouncer), where LISTEN does not hold (each transaction may run on another server connection). A
    listening connection that breaks falls back to polling and is opened again at the next sleep."""

    def __init__(self, engine, listen: bool = True) -> None:
        self._engine = engine if listen and engine.dialect.name == "postgresql" else None
        self._connection = None

    @property
    def listening(self) -> bool:
        return self._connection is not None

    def open(self) -> None:
        if self._engine is None or self._connection is not None:
            return
        import psycopg  # the driver of the PostgreSQL URLs (kernel.db)

        args, params = self._engine.dialect.create_connect_args(self._engine.url)
        params.pop("context", None)
        try:
            self._connection = psycopg.connect(*args, **params, autocommit=True)
            self._connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error:
            log.warning("timers: cannot listen on %s, polling instead", CHANNEL, exc_info=True)
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def sleep(self, seconds: float, stop: threading.Event, now: datetime) -> bool:
        """Sleeps `seconds` (from `now`) at most, less when `stop` is set; True when woken earlier by a timer
        announced due before the end of the sleep (one announced during the last pass counts too)."""
        until = time.monotonic() + seconds
        wake_at = now.timestamp() + seconds
        self.open()
        while not stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return False
            if self._connection is None:
                stop.wait(min(left, SLICE))
                continue
            try:
                for notice in self._connection.notifies(timeout=min(left, SLICE)):
                    if _announced(notice.payload) < wake_at:
                        return True
            except Exception:  # noqa: BLE001 — the listening connection is gone: poll until it is back
                log.warning("timers: listening on %s failed, polling instead", CHANNEL, exc_info=True)
                self.close()
        return False


def _announced(payload: str) -> float:
    try:
        return float(payload)
    except ValueError:
        return 0.0  # not ours to read: look at the timers anyway


def claim_batch(session: Session, worker_id: str, now: datetime, limit: int = 100,
                lease: timedelta = LEASE) -> list[int]:
    """Claims up to `limit` due timers for `worker_id` until `now + lease`, and commits.

    PostgreSQL: rows another worker is claiming at this moment are skipped, not waited for. SQLite: the
    transaction already holds the database's single write lock (BEGIN IMMEDIATE, kernel.db), so the
    select and the update cannot interleave with another worker's."""
    with unit_of_work(session, fresh=True):  # fresh: the claim must see what others committed
        query = due_timers(now).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(update(Timer).where(Timer.id.in_(ids))
                            .values(claimed_by=worker_id, claimed_until=now + lease)
                            .execution_options(synchronize_session=False))
    return ids


def release_claims(session: Session, worker_id: str, ids: list[int]) -> int:
    """Gives back the claims of timers not fired yet, so another worker takes them at once."""
    if not ids:
        return 0
    mine = update(Timer).where(Timer.id.in_(ids), Timer.claimed_by == worker_id, Timer.fired_at.is_(None))
    with unit_of_work(session, fresh=True):
        result = cast(CursorResult, session.execute(mine.values(claimed_by=None, claimed_until=None)
                                                    .execution_options(synchronize_session=False)))
    return result.rowcount or 0


def run_once(session: Session, worker_id: str, clock: Clock, batch: int = 100, lease: timedelta = LEASE,
             should_stop: Callable[[], bool] = lambda: False) -> Pass:
    """One pass of a worker: claims a batch of due timers, then fires them a chunk at a time: a chunk's
    timers are taken together (events.take_timers: their dossiers locked, their runs read, in a few
    statements), fired a savepoint each, and committed together.

    An error on one timer rolls back its savepoint only; it is logged and counted on it (`attempts`), and
    the others still fire. A chunk that runs past CHUNK_SECONDS commits what it fired and gives the rest back
    to the next chunk, which is smaller. When `should_stop()` turns true, what was fired is committed and the
    timers not reached yet are released for other workers."""
    done = Pass()
    queue = claim_batch(session, worker_id, clock.now(), batch, lease)
    done.claimed = len(queue)
    size = CHUNK_RUNS
    while queue:
        if should_stop():
            done.released = release_claims(session, worker_id, queue)
            break
        chunk = _Chunk()
        part, queue = queue[:size], queue[size:]
        now = clock.now()
        try:
            firings, chunk.skipped, later = take_timers(session, part, now, only_if_due=True)
        except Exception as error:  # noqa: BLE001 — the database failed: these timers wait for their lease
            session.rollback()
            for timer_id in part:
                _log_failure(timer_id, worker_id, error)
            done.failed += len(part)
            continue
        hold_run_writes(session)  # the chunk's runs are written together when it commits
        for position, firing in enumerate(firings):
            if position and (should_stop() or chunk.overdue()):
                chunk.unfired = [f.timer_id for f in firings[position:]]
                break
            try:
                with session.begin_nested():
                    fire_taken(session, firing, now)
            except Exception as error:  # noqa: BLE001 — one bad timer must not stop the batch (rolled back)
                _log_failure(firing.timer_id, worker_id, error)
                chunk.failed.append(firing.timer_id)
            else:
                chunk.fired.append(firing.timer_id)
        queue = chunk.unfired + later + queue
        # Cut short by time: the next chunk holds what this one managed (and grows back up to CHUNK_RUNS).
        size = max(1, len(chunk.fired) + len(chunk.failed)) if chunk.unfired else min(CHUNK_RUNS, size * 2)
        chunk.commit(session, worker_id, now, done)
    return done


class _Chunk:
    """The firings of a batch not committed yet."""

    def __init__(self) -> None:
        self.fired: list[int] = []
        self.skipped: list[int] = []
        self.failed: list[int] = []
        self.unfired: list[int] = []  # taken, then given back: the time was up, or the worker stops
        self.started = time.monotonic()

    def overdue(self) -> bool:
        return time.monotonic() - self.started >= CHUNK_SECONDS

    def commit(self, session: Session, worker_id: str, now: datetime, done: Pass) -> None:
        """Commits the chunk with its failures counted. Should the commit itself fail (the database), nothing
        of the chunk is kept: each of its timers counts a failed attempt and is retried later."""
        try:
            with unit_of_work(session):
                untake(session, self.unfired)
                for timer_id in self.failed:
                    _count_failure(session, worker_id, timer_id, now)
        except Exception as error:  # noqa: BLE001 — the database itself failed: the lease expires anyway
            lost = self.fired + self.skipped + self.failed
            for timer_id in lost:
                _log_failure(timer_id, worker_id, error)
                _count_failure_alone(session, worker_id, timer_id, now)
            done.failed += len(lost)
        else:
            done.fired += len(self.fired)
            done.skipped += len(self.skipped)
            done.failed += len(self.failed)


_seen_errors: set[str] = set()


def _log_failure(timer_id: int, worker_id: str, error: Exception) -> None:
    # The traceback once per distinct error: a database down would otherwise print one per timer.
    text = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    if text in _seen_errors:
        log.error("timer %s: firing failed (worker %s): %s", timer_id, worker_id, text)
        return
    if len(_seen_errors) < 1000:
        _seen_errors.add(text)
    log.exception("timer %s: firing failed (worker %s)", timer_id, worker_id)


def _count_failure(session: Session, worker_id: str, timer_id: int, now: datetime) -> None:
    """In the current transaction: the timer keeps its claim until its next try."""
    timer = session.get(Timer, timer_id, populate_existing=True)
    if timer is None:
        return
    timer.fired_at = None  # taken to be fired (events.take_timers), and not fired after all
    timer.attempts = (timer.attempts or 0) + 1
    timer.claimed_by = worker_id
    timer.claimed_until = now + retry_delay(timer.attempts)


def _count_failure_alone(session: Session, worker_id: str, timer_id: int, now: datetime) -> None:
    try:
        with unit_of_work(session, fresh=True):
            _count_failure(session, worker_id, timer_id, now)
    except Exception:  # noqa: BLE001 — the database itself may be what failed; the lease expires anyway
        log.exception("timer %s: could not record the failed attempt", timer_id)


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min... up to an hour."""
    return min(timedelta(seconds=30) * 2 ** min(max(attempts - 1, 0), 20), MAX_BACKOFF)
