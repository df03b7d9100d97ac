"""The writes of one step that answer nothing: the ended action and who had to act on it, timers cancelled
and scheduled, the checkpoint and the old ones dropped, the run's row, and the history recorded since the last
write.

From `hold` to `send` they are held: on PostgreSQL they then go out as one statement of data-modifying CTEs
(they touch different rows: none sees another's effect) instead of a round trip each; the guarded ones (the
action still open, the run's revision) return their rows and the statement answers how many each changed.
Elsewhere each goes out when written, in order. What is held is sent before any ORM read (which would not see
it) and at the latest at commit; held within one transaction or savepoint only, and a rollback drops it with
what it belonged to.

Each write is a builder (a function of a parameter prefix and of hashable arguments, returning the statement
whose parameters carry that prefix) with its values: a statement is built once per sequence of writes a step
makes, a few in all, and its values are parameters."""

from collections.abc import Callable
from functools import cache

from sqlalchemy import bindparam, event, func, insert, literal_column, select, union_all, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import journal
from .journal import JournalEntry
from .models import Run

_HELD = "step_writes_held"

Builder = Callable[..., object]


def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def hold(session: Session) -> None:
    """From now on in this transaction (or savepoint), `write` holds its writes until `send`. What is held
    already in it stays held; within a savepoint of a transaction that holds, writes go out at once."""
    if postgres(session) and _HELD not in session.info:
        if journal.innermost(session) is None:
            session.connection()  # the transaction begins: what is held belongs to it
        session.info[_HELD] = (journal.innermost(session), [])


def holding(session: Session) -> bool:
    held = session.info.get(_HELD)
    return held is not None and held[0] is journal.innermost(session)


def write(session: Session, build: Builder, params: dict, *args, guard: Exception | None = None) -> None:
    """Writes `build("", *args)` with `params`, or holds it for `send`. `guard`: what to raise when the write
    changes no row (its WHERE guards it: a revision, a status), checked when it is sent."""
    if holding(session):
        session.info[_HELD][1].append(((build, args, guard is not None), params, guard))
        return
    done = session.connection().execute(build("", *args), params)
    if guard is not None and done.rowcount != 1:
        raise guard


def write_run(session: Session, run_id: int, revision: int, changes: dict) -> None:
    """Writes the run's changed columns, guarded by its revision (StaleDataError when another writer changed
    it), or holds the write for `send`."""
    params = {**changes, "revision": revision + 1, "_id": run_id, "_revision": revision}
    stale = StaleDataError(f"runs {run_id}: revision {revision} was changed by another writer")
    write(session, _run_write, params, tuple(sorted(changes)), guard=stale)


def send(session: Session) -> None:
    """Sends what is held, with the history recorded and not yet written (outside a savepoint: the timer
    worker's savepoints keep theirs for the commit of their chunk), as one statement; then raises the error of
    the first guarded write that changed nothing."""
    if not holding(session):
        return
    transaction, writes = session.info.pop(_HELD)
    if not transaction.nested:
        history = journal.take_pending(session)
        if history:
            columns = tuple(sorted(history[0]))
            values = {f"r{r}_{c}": row[c] for r, row in enumerate(history) for c in columns}
            writes.append(((_history, (len(history), columns), False), values, None))
    if not writes:
        return
    keys = tuple(key for key, _params, _guard in writes)
    params = {f"w{i}_{name}": value for i, (_key, p, _g) in enumerate(writes) for name, value in p.items()}
    done = session.connection().execute(_together(keys), params)
    guards = [guard for _key, _params, guard in writes if guard is not None]
    if guards:
        for guard, changed in zip(guards, done.one(), strict=True):
            if changed != 1:
                raise guard


@cache  # one statement per sequence of writes: a few in all, each built once
def _together(keys: tuple):
    """The writes `keys` as one statement of data-modifying CTEs, the values of the i-th named with the
    prefix `w<i>_`. Without guarded writes the last is the statement's own; with them, the statement counts
    the rows each guarded write changed (a data-modifying CTE runs whether or not it is read)."""
    statements = [build(f"w{i}_", *args) for i, (build, args, _guarded) in enumerate(keys)]
    guarded = [i for i, (_build, _args, is_guarded) in enumerate(keys) if is_guarded]
    if not guarded:
        *first, last = statements
        for position, statement in enumerate(first):
            last = last.add_cte(statement.cte(f"step_write_{position}"))
        return last
    ctes = [
        (statement.returning(literal_column("1")) if i in guarded else statement).cte(f"step_write_{i}")
        for i, statement in enumerate(statements)
    ]
    counts = select(*[select(func.count()).select_from(ctes[i]).scalar_subquery() for i in guarded])
    return counts.add_cte(*ctes)


@cache
def _run_write(prefix: str, columns: tuple[str, ...]):
    runs = Run.__table__.c
    return (
        update(Run.__table__)
        .where(runs.id == bindparam(f"{prefix}_id"), runs.revision == bindparam(f"{prefix}_revision"))
        .values({c: bindparam(f"{prefix}{c}", type_=runs[c].type) for c in (*columns, "revision")})
    )


@cache
def _history(prefix: str, rows: int, columns: tuple[str, ...]):
    """The history's entries, inserted in the order they were recorded (their ids follow it: the hash chain
    is read in that order). INSERT ... SELECT rather than a multi-row VALUES, which SQLAlchemy does not
    cache."""
    entries = JournalEntry.__table__.c
    each = [
        select(
            literal_column(str(r)).label("position"),
            *[bindparam(f"{prefix}r{r}_{c}", type_=entries[c].type).label(c) for c in columns],
        )
        for r in range(rows)
    ]
    values = (union_all(*each) if rows > 1 else each[0]).subquery("recorded")
    in_order = select(*[values.c[c] for c in columns]).order_by(values.c.position)
    return insert(JournalEntry.__table__).from_select(list(columns), in_order)


@event.listens_for(Session, "do_orm_execute")
def _before_reading(orm_execute_state) -> None:
    # What is held is written before anything reads (a read would not see it).
    send(orm_execute_state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    send(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_held(session: Session, rolled_back) -> None:
    held = session.info.get(_HELD)
    if held is not None and journal.within(held[0], rolled_back):
        session.info.pop(_HELD, None)


@event.listens_for(Session, "after_transaction_end")
def _stop_holding(session: Session, transaction) -> None:
    held = session.info.get(_HELD)
    if held is not None and held[0] is transaction:
        session.info.pop(_HELD, None)
