"""The writes of one step that answer nothing: timers cancelled and scheduled, the checkpoint and the old ones
dropped, the run's row, and the history recorded since the last write.

From `hold` to `send` they are held: on PostgreSQL they then go out as one statement of data-modifying CTEs
(they touch different rows: none sees another's effect; the run's write comes last, as the statement's own, so
that its revision guard is checked), instead of a round trip each; elsewhere each goes out when written, in
order. Held only within one transaction or savepoint: a rollback drops them with what they belonged to.

Each write is a builder (a function of a parameter prefix and of hashable arguments, returning the statement
whose parameters carry that prefix) with its values: a statement is built once per sequence of writes a step
makes, a few in all, and its values are parameters."""

from collections.abc import Callable
from functools import cache

from sqlalchemy import bindparam, event, insert, literal_column, select, union_all, update
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
    """From now on in this transaction (or savepoint), `write` holds its writes until `send`."""
    if postgres(session):
        session.info[_HELD] = (journal.innermost(session), [])


def holding(session: Session) -> bool:
    held = session.info.get(_HELD)
    return held is not None and held[0] is journal.innermost(session)


def write(session: Session, build: Builder, params: dict, *args) -> None:
    """Writes `build("", *args)` with `params`, or holds it for `send`."""
    if holding(session):
        session.info[_HELD][1].append(((build, args), params))
    else:
        session.connection().execute(build("", *args), params)


def write_run(session: Session, run_id: int, revision: int, changes: dict) -> None:
    """Writes the run's changed columns, guarded by its revision (StaleDataError when another writer changed
    it), or holds the write for `send`, which checks the guard."""
    params = {**changes, "revision": revision + 1, "_id": run_id, "_revision": revision}
    columns = tuple(sorted(changes))
    if holding(session):
        session.info[_HELD][1].append(((_run_write, (columns,)), params))
        return
    done = session.connection().execute(_run_write("", columns), params)
    if done.rowcount != 1:
        raise StaleDataError(f"runs {run_id}: revision {revision} was changed by another writer")


def send(session: Session) -> None:
    """Sends what is held, with the history recorded and not yet written (outside a savepoint: the timer
    worker's savepoints keep theirs for the commit of their chunk), as one statement."""
    held = session.info.pop(_HELD, None)
    if held is None or held[0] is not journal.innermost(session) or not held[1]:
        return
    writes = [w for w in held[1] if w[0][0] is not _run_write]
    runs = [w for w in held[1] if w[0][0] is _run_write]
    if not held[0].nested:
        history = journal.take_pending(session)
        if history:
            columns = tuple(sorted(history[0]))
            values = {f"r{r}_{c}": row[c] for r, row in enumerate(history) for c in columns}
            writes.append(((_history, (len(history), columns)), values))
    writes += runs
    keys = tuple(key for key, _params in writes)
    params = {f"w{i}_{name}": value for i, (_key, p) in enumerate(writes) for name, value in p.items()}
    done = session.connection().execute(_together(keys), params)
    if runs and done.rowcount != 1:
        raise StaleDataError(f"runs {runs[0][1]['_id']}: changed by another writer")


@cache  # one statement per sequence of writes: a few in all, each built once
def _together(keys: tuple):
    """The writes `keys` as one statement of data-modifying CTEs, the values of the i-th named with the
    prefix `w<i>_`; the last is the statement's own."""
    *first, last = [build(f"w{i}_", *args) for i, (build, args) in enumerate(keys)]
    for position, statement in enumerate(first):
        last = last.add_cte(statement.cte(f"step_write_{position}"))
    return last


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


@event.listens_for(Session, "after_soft_rollback")
def _forget_held(session: Session, _rolled_back) -> None:
    session.info.pop(_HELD, None)
