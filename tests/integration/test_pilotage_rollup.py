"""The closed weeks' groups (runtime/pilotage/rollup.py) give the figures read from the actions alone: on a
random history around the hand-computed one, for every kind of scope, at a clock on a Monday morning and at
one in the middle of a week; and after a run moved to another version."""

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from runtime import pilotage
from runtime.actors import system
from runtime.models import Action, Run
from runtime.pilotage import Scope
from runtime.pilotage.rollup import GROUPS, GroupedWeek, closed_until, forget_run
from runtime.run_versions import record_change
from tests.conftest import START
from tests.pilotage_data import DAY, T0, build_history

MIDWEEK = START + timedelta(days=3, hours=6, minutes=37)  # a Thursday afternoon


@pytest.fixture
def history(app, session, users):
    from tests.workspace_data import ensure_documents_table
    from web.extensions import db

    ensure_documents_table(db)
    built = build_history(session, users["manager"], users["partner"])
    runs = [session.get(Run, i) for i in built["runs"]]
    draw = random.Random(20)
    for _ in range(400):
        run = draw.choice(runs)
        seconds = int((MIDWEEK - T0 + 30 * DAY).total_seconds())
        created = T0 - 30 * DAY + timedelta(seconds=draw.randrange(seconds))
        ended = created + timedelta(seconds=draw.choice([0, 59, 3600, 5000, 86400, 200_000, 900_000, 2e6]))
        ended += timedelta(seconds=draw.randrange(40_000))
        open_ = ended > MIDWEEK or draw.random() < 0.15
        due = None if draw.random() < 0.2 else created + timedelta(seconds=draw.randrange(14 * 86400))
        session.add(
            Action(
                run_id=run.id,
                dossier_id=run.dossier_id,
                element_id=draw.choice(["Call", "Serve", "Letter"]),
                name="x",
                type="task",
                role=draw.choice(["gestionnaire", "commissaire_justice"]),
                outcomes=[],
                status="open" if open_ else draw.choice(["done", "cancelled", "skipped"]),
                outcome=None if open_ else draw.choice([None, "paid", "plan"]),
                due_at=due,
                created_at=created,
                completed_at=None if open_ else ended,
            )
        )
    # On the edges: ended, due or opened at the very start of a week (the groups' bounds).
    monday = T0.replace(hour=0)
    for week in range(-4, 5):
        edge = monday + timedelta(weeks=week)
        edges = ((edge - DAY, edge - DAY, edge), (edge, edge, edge + DAY), (edge, edge, None))
        for created, due, ended in edges:
            session.add(
                Action(
                    run_id=runs[week % 4].id,
                    dossier_id=runs[week % 4].dossier_id,
                    element_id="Edge",
                    name="x",
                    type="task",
                    role="gestionnaire",
                    outcomes=[],
                    status="open" if ended is None or ended > MIDWEEK else "done",
                    due_at=due,
                    created_at=created,
                    completed_at=None if ended is None or ended > MIDWEEK else ended,
                )
            )
    session.commit()
    return built


def _figures(session, scope, now):
    return (
        pilotage.step_figures(session, scope, now),
        pilotage.legal_delays(session, scope, now),
        pilotage.actions_per_week(session, scope, now),
    )


def _forget_all(session):
    session.execute(delete(GroupedWeek))


def _scopes(now):
    yield Scope()
    yield Scope(sequence="rt_relance")
    yield Scope(sequence="rt_relance", version=1)
    yield Scope(sequence="rt_plan")
    yield Scope(role="commissaire_justice")
    yield Scope(sequence="rt_relance", role="gestionnaire")
    for days in (7, 30, 45, 90, 365):
        yield Scope(since=now - timedelta(days=days))
        yield Scope(sequence="rt_relance", since=now - timedelta(days=days), role="gestionnaire")
    yield Scope(since=T0 - 20 * DAY, until=T0 + 10 * DAY + timedelta(hours=5))
    yield Scope(until=T0 + 14 * DAY)


@pytest.mark.parametrize("now", [START, MIDWEEK], ids=["monday", "midweek"])
def test_grouped_weeks_give_the_figures_read_from_the_actions(session, history, now):
    scopes = list(_scopes(now))
    expected = [_figures(session, scope, now) for scope in scopes]
    weeks = pilotage.keep_up(session, now)
    first = session.scalar(select(func.min(Action.completed_at)))
    assert weeks == (closed_until(now) - pilotage.rollup.monday(first)).days // 7 > 3
    assert all(session.scalar(select(func.count()).select_from(t)) for t in GROUPS)
    assert pilotage.keep_up(session, now) == 0  # nothing left to group
    for scope, figures in zip(scopes, expected, strict=True):
        assert _figures(session, scope, now) == figures, scope


def test_a_run_moved_to_another_version_is_grouped_again(session, history):
    relance, plan = Scope(sequence="rt_relance"), Scope(sequence="rt_plan")
    pilotage.keep_up(session, START)
    r1 = session.get(Run, history["runs"][0])
    target = session.get(Run, history["runs"][4]).version
    before = _figures(session, relance, START)
    record_change(session, r1, target, {}, system("test"), START)
    session.flush()
    forgotten = pilotage.keep_up(session, START)
    assert forgotten >= 1  # the weeks r1's actions ended in
    moved = [_figures(session, scope, START) for scope in (relance, plan)]
    assert moved[0] != before
    _forget_all(session)
    assert [_figures(session, scope, START) for scope in (relance, plan)] == moved


def test_forgetting_a_run_forgets_only_the_weeks_its_actions_ended_in(session, history):
    pilotage.keep_up(session, START)
    grouped = set(session.scalars(select(GroupedWeek.week)))
    run_id = history["runs"][1]
    ended = session.scalars(select(Action.completed_at).where(Action.run_id == run_id)).all()
    weeks = {pilotage.rollup.monday(e).date() for e in ended if e is not None}
    assert weeks & grouped and grouped - weeks  # some grouped, some not theirs
    forget_run(session, run_id)
    assert set(session.scalars(select(GroupedWeek.week))) == grouped - weeks


def test_weeks_not_grouped_yet_are_read_from_the_actions(session, history):
    """A service called without `keep_up` (or with a week forgotten in the middle) reads what is not grouped
    from the actions: the figures never miss a week."""
    scope = Scope(sequence="rt_relance")
    expected = _figures(session, scope, MIDWEEK)
    pilotage.keep_up(session, MIDWEEK)
    middle = session.scalars(select(GroupedWeek.week).order_by(GroupedWeek.week)).all()[2]
    session.execute(delete(GroupedWeek).where(GroupedWeek.week == middle))
    assert _figures(session, scope, MIDWEEK) == expected
    assert pilotage.keep_up(session, MIDWEEK) == 1
    assert _figures(session, scope, MIDWEEK) == expected


def _statements(session, call) -> int:
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    bind = session.connection().engine
    event.listen(bind, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(bind, "before_cursor_execute", count)
    return len(seen)


def test_a_page_reads_a_fixed_number_of_statements_whatever_its_period(session, history):
    """A month or a year: the same statements (no loop over weeks or dossiers), within the
    budget; and once the closed weeks are grouped, keeping up reads two small statements and writes none."""
    pilotage.keep_up(session, MIDWEEK)

    def read(figures, days):
        scope = Scope(since=MIDWEEK - timedelta(days=days))
        return _statements(session, lambda: figures(session, scope, MIDWEEK))

    pages = (pilotage.step_figures, pilotage.legal_delays, pilotage.actions_per_week)
    counts = {days: [read(f, days) for f in pages] for days in (3, 30, 365)}
    assert counts[30] == counts[365], counts
    assert all(a <= b for a, b in zip(counts[3], counts[30], strict=True))  # under a week: no group read
    assert counts[365] <= [8, 5, 5], counts  # steps, legal delays, open and overdue weeks
    assert _statements(session, lambda: pilotage.keep_up(session, MIDWEEK)) == 2
