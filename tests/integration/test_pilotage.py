"""Pilotage figures against the hand-computed history of tests/pilotage_data.py (see its table)."""

from datetime import date, timedelta

import pytest

from runtime import pilotage
from runtime.pilotage import Scope
from tests.conftest import START
from tests.pilotage_data import DAY, T0, build_history

NOW = START  # T0 + 21 days
RELANCE = Scope(sequence="rt_relance")
W0, W1, W2, W3 = (date(2026, 2, 9) + timedelta(weeks=n) for n in range(4))


@pytest.fixture(params=["actions", "grouped"])
def history(request, app, session, users):
    """The history, its figures read from the actions alone, or with its closed weeks (T0's and the next,
    START's being the fourth) grouped first, as the pages do: the same hand-computed figures either way."""
    from tests.workspace_data import ensure_documents_table
    from web.extensions import db

    ensure_documents_table(db)
    built = build_history(session, users["manager"], users["partner"])
    if request.param == "grouped":
        assert pilotage.keep_up(session, NOW) == 3  # T0's week, the next and the one before START's
    return built


def test_steps_waiting_time_spent_and_lateness(session, history):
    steps = pilotage.step_figures(session, RELANCE, NOW)
    call = steps["Call"]
    assert call.waiting == 1  # R3
    # Ended: 1 day (R1), 7 days (R2), 1 day (R4, cancelled); the 90th percentile interpolates 1 d → 7 d.
    assert call.ended == 3
    assert call.median == pytest.approx(DAY.total_seconds())
    assert call.p90 == pytest.approx(5.8 * DAY.total_seconds())
    assert (call.with_due, call.late, call.late_share) == (4, 2, 0.5)  # R2 ended late, R3 open past due
    serve = steps["Serve"]
    assert (serve.waiting, serve.ended, serve.late) == (0, 1, 1)
    assert serve.median == serve.p90 == pytest.approx(9 * DAY.total_seconds())
    assert steps["Six_weeks"].waiting == 1  # R3's pending timer


def test_period_keeps_the_actions_that_ended_in_it(session, history):
    scope = Scope(sequence="rt_relance", since=T0 + 2 * DAY, until=T0 + 9 * DAY)
    call = pilotage.step_figures(session, scope, NOW)["Call"]
    assert (call.ended, call.median) == (1, pytest.approx(7 * DAY.total_seconds()))  # R2 only
    assert (call.with_due, call.late) == (2, 1)  # due dates in the period: R1 (T0+2d, met), R2 (T0+3d)


def test_holder_and_role_filters(session, history, users):
    by_partner = pilotage.step_figures(session, Scope(sequence="rt_relance", holder=users["partner"].id), NOW)
    assert set(by_partner) == {"Serve"}
    by_role = pilotage.step_figures(session, Scope(role="gestionnaire"), NOW)
    assert set(by_role) == {"Call"} and by_role["Call"].ended == 3


def test_outcome_shares(session, history):
    steps = pilotage.step_figures(session, RELANCE, NOW)
    assert steps["Call"].outcomes == {"paid": 1, "plan": 1}  # R4's cancelled call chose none
    assert steps["Serve"].outcomes == {}


def test_dossiers_waiting_at_a_step(session, history):
    (row,) = pilotage.waiting_at(session, RELANCE, "Call")
    assert (row["reference"], row["title"]) == ("D-3", "Locataire 3")
    assert [r["reference"] for r in pilotage.waiting_at(session, RELANCE, "Six_weeks")] == ["D-3"]


def test_runs_started_and_ended_per_week(session, history):
    assert pilotage.runs_per_week(session, RELANCE) == {
        W0: {"started": 2},
        W1: {"started": 1, "completed": 1, "switched:rt_plan": 1},
        W2: {"started": 1, "interrupted": 1},
    }
    every = pilotage.runs_per_week(session, Scope())
    assert every[W1]["started"] == 2  # R5 (rt_plan) too


def test_open_and_overdue_actions_at_each_week_end(session, history):
    expected = {W0: (2, 2), W1: (1, 1), W2: (1, 1), W3: (1, 1)}
    assert pilotage.actions_per_week(session, Scope(sequence="rt_relance", since=T0), NOW) == expected
    # Starting later: what was open before the period is carried in.
    later = Scope(sequence="rt_relance", since=T0 + 7 * DAY)
    assert pilotage.actions_per_week(session, later, NOW) == {W1: (1, 1), W2: (1, 1), W3: (1, 1)}


def test_workload_per_role_and_holder(session, history, users):
    per_role, per_holder = pilotage.workload(session, Scope(), NOW)
    assert [(r.key, r.open, r.overdue) for r in per_role] == [("gestionnaire", 1, 1)]
    assert [(h.name, h.open, h.overdue) for h in per_holder] == [(users["manager"].user.name, 1, 1)]


def test_time_from_launch_to_each_end(session, history):
    durations = pilotage.run_durations(session, Scope())
    assert {k: (v.count, v.median) for k, v in durations.items()} == {
        ("rt_relance", "completed"): (1, pytest.approx(10 * DAY.total_seconds())),
        ("rt_relance", "interrupted"): (1, pytest.approx(DAY.total_seconds())),
        ("rt_relance", "switched:rt_plan"): (1, pytest.approx(7 * DAY.total_seconds())),
    }


def test_legal_delays_and_late_dossiers(session, history):
    delays = {(d.element_id, d.kind): d for d in pilotage.legal_delays(session, RELANCE, NOW)}
    call = delays[("Call", "action")]
    # Late: R2 by 5 days (ended), R3 by 12 days (still open at NOW).
    assert (call.count, call.late) == (4, 2)
    assert call.median_late == pytest.approx(8.5 * DAY.total_seconds())
    assert call.max_late == pytest.approx(12 * DAY.total_seconds())
    timers = delays[("Six_weeks", "timer")]
    # R1 fired a day late, R3 is 9 days past its date; R2 fired within the grace; R4's was cancelled.
    assert (timers.count, timers.late) == (3, 2)
    assert timers.median_late == pytest.approx(5 * DAY.total_seconds())
    assert delays[("Serve", "action")].late == 1
    rows = pilotage.late_dossiers(session, RELANCE, NOW)
    assert [(r["reference"], r["element_id"], round(r["late"] / 86400, 3)) for r in rows] == [
        ("D-3", "Call", 12),
        ("D-3", "Six_weeks", 9),
        ("D-1", "Serve", 5),
        ("D-2", "Call", 5),
        ("D-1", "Six_weeks", 1),
    ]


# ---- pages


def _login(client, account):
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(account.id)
        cookie["_fresh"] = True


def _csv(response) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize("who", ["manager", "analyst"])
def test_pages_for_managers_and_analysts_never_partners(app, client, users, history, who):
    from tests.integration.test_workspace_pages import FreshClient

    app.test_client_class = FreshClient
    client = app.test_client()
    _login(client, users[who])
    for url in ("/pilotage/", "/pilotage/charts", "/pilotage/delays"):
        page = client.get(url + "?sequence=rt_relance&period=all")
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert "Relance (test)" in html and ">Pilotage</a>" in html
    _login(client, users["partner"])
    for url in (
        "/pilotage/",
        "/pilotage/charts",
        "/pilotage/delays",
        "/pilotage/charts?format=csv&table=runs",
    ):
        assert client.get(url).status_code == 404


def test_diagram_page_figures_overlays_and_step_list(app, client, users, history):
    _login(client, users["manager"])
    rows = _csv(client.get("/pilotage/?sequence=rt_relance&period=all&format=csv"))
    by_step = {r[0]: r for r in rows[1 : rows.index([])]}
    # Steps by their names, never their ids; time in days.
    assert by_step["Appeler le locataire"][1:] == ["1", "3", "1.00", "5.80", "4", "2"]
    assert ["Appeler le locataire", "paid", "1"] in rows
    page = client.get("/pilotage/?sequence=rt_relance&period=all&overlay=late").get_data(as_text=True)
    assert "50 % en retard" in page  # the badge of « Appeler le locataire »
    listed = client.get("/pilotage/?sequence=rt_relance&period=all&step=Call").get_data(as_text=True)
    assert "D-3</a> — Locataire 3" in listed
    assert _csv(client.get("/pilotage/?sequence=rt_relance&period=all&step=Call&format=csv"))[1][0] == "D-3"


def test_charts_page_draws_and_exports(app, client, users, history):
    _login(client, users["manager"])
    page = client.get("/pilotage/charts?period=all").get_data(as_text=True)
    assert page.count('<svg class="chart"') == 6
    runs = _csv(client.get("/pilotage/charts?period=all&sequence=rt_relance&format=csv&table=runs"))
    assert "vers « Plan (test) »" in runs[0]  # a switch names the sequence it led to
    assert runs[0][0] == "semaine du" and runs[1] == ["2026-02-09", "2", "0", "0", "0"]
    roles = _csv(client.get("/pilotage/charts?period=all&format=csv&table=roles"))
    assert roles[1] == ["Gestionnaire", "1", "1"]  # the lane's name, not the role key
    durations = _csv(client.get("/pilotage/charts?period=all&format=csv&table=durations"))
    assert ["Relance (test)", "terminées", "1", "10.00", "10.00"] in durations


def test_pages_in_english(app, client, users, history):
    _login(client, users["manager"])
    english = client.get("/pilotage/charts?period=all&lang=en").get_data(as_text=True)
    assert "Runs ended per week, by how they ended" in english and "to “Plan (test)”" in english


def test_delays_page_lists_and_exports_late_dossiers(app, client, users, history):
    _login(client, users["analyst"])
    rows = _csv(client.get("/pilotage/delays?sequence=rt_relance&period=all&format=csv"))
    assert [r[0] for r in rows[1:]] == ["D-3", "D-3", "D-1", "D-2", "D-1"]
    assert rows[1][2] == "Appeler le locataire" and rows[1][6] == "12.00"
    summary = _csv(client.get("/pilotage/delays?sequence=rt_relance&period=all&format=csv&table=delays"))
    assert ["Appeler le locataire", "échéance d’action", "4", "2", "8.50", "12.00"] in summary
    only = _csv(client.get("/pilotage/delays?sequence=rt_relance&period=all&format=csv&element=Serve"))
    assert [r[0] for r in only[1:]] == ["D-1"]
    page = client.get("/pilotage/delays?sequence=rt_relance&period=all").get_data(as_text=True)
    assert "12 j" in page


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5])
def test_late_list_cut_anywhere_keeps_the_latest(session, history, limit):
    """Each kind of late step (ended late, still open, timer) is read up to the list's length, then merged:
    a shorter list is the start of the full one, ties (5 days) in dossier order."""
    full = pilotage.late_dossiers(session, RELANCE, NOW)
    cut = pilotage.late_dossiers(session, RELANCE, NOW, limit=limit)
    assert [(r["dossier_id"], r["element_id"]) for r in cut] == [
        (r["dossier_id"], r["element_id"]) for r in full[:limit]
    ]
