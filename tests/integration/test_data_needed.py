"""A run that needs a dossier value it cannot use does not fail: it waits, an action asks its gestionnaire
for the value with a typed field, and the run takes its step again once the value is given (the action's
form, the Données tab or the API), including a run that failed for that reason before."""

from datetime import date

import pytest
from sqlalchemy import select

from bpmn.durations import start_of
from designer.dictionary import DictionaryEntry
from runtime import incidents
from runtime.journal import JournalEntry
from runtime.models import Action, ActionStatus, Dossier, Run, RunStatus, Timer
from tests.conftest import START
from tests.integration.pilot import Pilot
from tests.integration.test_workspace_pages import FreshClient, login, text


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


@pytest.fixture
def pilot(client, users, session):
    pilot = Pilot(client, users)
    pilot.publish("rt_hearing")
    session.add(
        DictionaryEntry(
            kind="fields", key="hearing_date", label="Date d'audience", type="date", updated_at=START
        )
    )
    session.commit()
    return pilot


def started(pilot, data=None, reference="D-1", stored=None):
    """A dossier on rt_hearing whose « Reporter la date d'audience » is done: the timer 6 weeks before the
    hearing is computed from the dossier's hearing date. `stored`: data written as it is, as a dossier of
    before typed data kept it."""
    dossier = pilot.dossier(reference, data)
    if stored:
        from web.extensions import db

        db.session.get(Dossier, dossier["id"]).data = stored
        db.session.commit()
    pilot.participant(dossier["id"], "internal", "Claire", ["gestionnaire"], user="manager")
    pilot.participant(dossier["id"], "partner", "Me Huissier", ["commissaire_justice"], user="partner")
    run = pilot.launch(dossier["id"], "rt_hearing")
    postpone = pilot.only_action(run["id"], "Postpone")
    answer = pilot.complete(postpone["id"])
    return dossier, run, answer


def asking(session, run_id) -> list[Action]:
    session.expire_all()
    query = select(Action).where(
        Action.run_id == run_id,
        Action.status == ActionStatus.OPEN,
        Action.element_id.startswith("data_needed:"),
    )
    return list(session.scalars(query))


def pending_timers(session, run_id) -> list[Timer]:
    query = select(Timer).where(
        Timer.run_id == run_id, Timer.fired_at.is_(None), Timer.cancelled_at.is_(None)
    )
    return list(session.scalars(query))


def test_a_timer_computed_from_an_empty_date_asks_for_it_instead_of_failing(pilot, session):
    dossier, run, answer = started(pilot)
    assert answer["run"]["status"] == "waiting_data", answer["run"].get("error")
    [action] = asking(session, run["id"])
    assert action.name == "Renseigner la date d'audience"
    assert action.role == "gestionnaire" and action.element_id == "data_needed:hearing_date"
    # Not an incident: nobody has to repair anything, the gestionnaire has an action.
    assert incidents.count_open(session) == 0
    mine = pilot.call("GET", "/actions?mine=true&status=open", expect=200)
    assert [a["name"] for a in mine] == ["Renseigner la date d'audience"]
    kinds = [e.kind for e in session.scalars(select(JournalEntry).order_by(JournalEntry.id))]
    assert "run_waiting_data" in kinds and "run_failed" not in kinds


def test_completing_it_with_a_french_date_stores_the_date_and_the_run_moves_on(pilot, session):
    dossier, run, _answer = started(pilot)
    [action] = asking(session, run["id"])
    done = pilot.complete_with(action.id, {"hearing_date": "15/03/2027"})
    assert done["action"]["status"] == "done"
    session.expire_all()
    assert session.get(Dossier, dossier["id"]).data["hearing_date"] == "2027-03-15"
    assert session.get(Run, run["id"]).status == RunStatus.RUNNING
    [timer] = pending_timers(session, run["id"])
    assert timer.element_id == "Before_hearing" and timer.due_at == start_of(date(2027, 2, 1))
    assert asking(session, run["id"]) == []


@pytest.mark.parametrize("typed", ["abc", "", "31/02/2027"])
def test_an_unreadable_value_is_refused_naming_the_field_and_nothing_changes(pilot, session, typed):
    dossier, run, _answer = started(pilot)
    [action] = asking(session, run["id"])
    refused = pilot.call(
        "POST",
        f"/actions/{action.id}/complete",
        json={"status": "done", "data": {"hearing_date": typed}},
        expect=422,
    )
    assert refused["field"] == "hearing_date" and "Date d'audience" in refused["message"]
    session.expire_all()
    assert "hearing_date" not in session.get(Dossier, dossier["id"]).data
    assert session.get(Action, action.id).status == ActionStatus.OPEN
    assert session.get(Run, run["id"]).status == RunStatus.WAITING_DATA


def test_a_date_typed_the_french_way_in_the_data_waits_then_the_data_tab_brings_the_run_back(
    pilot, client, session, users
):
    # Stored as typed (text) before dossier data was typed, the date is not one the timer can count from.
    dossier, run, answer = started(pilot, stored={"hearing_date": "15/03/2027"})
    assert answer["run"]["status"] == "waiting_data"
    [action] = asking(session, run["id"])
    assert action.name == "Renseigner la date d'audience"
    login(client, users["manager"])
    page = text(client.get(f"/dossiers/{dossier['id']}"))
    assert "attend une donnée du dossier" in page and 'name="field:hearing_date"' in page
    assert "Date d&#39;audience" in page
    fixed = client.post(
        f"/dossiers/{dossier['id']}/data", data={"key": "hearing_date", "value": "2027-03-15"}
    )
    assert fixed.status_code == 303
    session.expire_all()
    assert session.get(Dossier, dossier["id"]).data["hearing_date"] == "2027-03-15"
    assert session.get(Run, run["id"]).status == RunStatus.RUNNING
    assert session.get(Action, action.id).status == ActionStatus.CANCELLED
    assert [t.element_id for t in pending_timers(session, run["id"])] == ["Before_hearing"]


def test_the_form_on_the_dossier_page_completes_it(pilot, client, session, users):
    dossier, run, _answer = started(pilot)
    [action] = asking(session, run["id"])
    login(client, users["manager"])
    done = client.post(
        f"/dossiers/{dossier['id']}/actions/{action.id}/complete",
        data={"choice": "done", "field:hearing_date": "15/03/2027"},
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Dossier, dossier["id"]).data["hearing_date"] == "2027-03-15"
    assert session.get(Run, run["id"]).status == RunStatus.RUNNING
    history = text(client.get(f"/dossiers/{dossier['id']}?tab=history"))
    assert "Date d&#39;audience : — → 15/03/2027" in history


def test_a_run_that_failed_for_that_reason_before_comes_back_when_the_field_is_fixed(pilot, session):
    dossier, run, _answer = started(pilot)
    # As a run of before: failed on the hearing date, with no action asking for it.
    for action in asking(session, run["id"]):
        action.status = ActionStatus.CANCELLED
    session.get(Run, run["id"]).status = RunStatus.FAILED
    session.commit()
    assert incidents.count_open(session) == 1
    pilot.call(
        "PATCH", f"/dossiers/{dossier['id']}", json={"data": {"hearing_date": "2027-03-15"}}, expect=200
    )
    session.expire_all()
    assert session.get(Run, run["id"]).status == RunStatus.RUNNING
    assert incidents.count_open(session) == 0
    assert [t.element_id for t in pending_timers(session, run["id"])] == ["Before_hearing"]


def test_a_value_that_would_not_serve_is_refused_and_the_run_still_waits(pilot, session):
    dossier, run, _answer = started(pilot)
    refused = pilot.call(
        "PATCH", f"/dossiers/{dossier['id']}", json={"data": {"hearing_date": "bientôt"}}, expect=422
    )
    assert refused["field"] == "hearing_date"
    session.expire_all()
    assert session.get(Run, run["id"]).status == RunStatus.WAITING_DATA
    [action] = asking(session, run["id"])
    assert action.name == "Renseigner la date d'audience"
