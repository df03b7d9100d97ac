"""Failed runs seen and repaired from the screens: the incidents page and its count, the inbox and overview
flags, the cause in words on the dossier page, retry / back to a step / ad hoc action, and flash messages
that never call a failure a success."""

import re

import pytest
from sqlalchemy import select

from runtime import incidents
from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.dossiers import add_participant, create_dossier
from runtime.models import Action, ActionStatus, Run, RunStatus
from runtime.runs import launch_run
from tests.conftest import START
from tests.integration.test_workspace_pages import FreshClient, login, open_action, text
from tests.workspace_data import publish


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


def fragile_dossier(session, users, reference="D-9", balance="beaucoup", holder="manager"):
    """A dossier whose `balance` the rt_fragile condition cannot compare (`dossier.balance > 100`), with
    `holder` as its gestionnaire; the run waits at « Vérifier le solde »."""
    actor = Actor(user_id=users["manager"].id)
    data = {} if balance is None else {"balance": balance}
    dossier = create_dossier(session, actor, reference, f"Martin {reference}", data, START)
    add_participant(
        session,
        dossier,
        actor,
        START,
        kind="internal",
        name=f"Camille ({holder})",
        user_id=users[holder].id,
        roles=["gestionnaire"],
    )
    run = launch_run(session, dossier.id, actor, START, sequence="rt_fragile")
    session.commit()
    return dossier, run


@pytest.fixture
def fragile(app, session, users):
    publish(session, users["analyst"].id, "rt_fragile")
    session.commit()
    return users


def fail(session, users, run, clock=None, minutes=0):
    """Completes the run's open check through the service: the run fails on the gateway."""
    check = open_action(session, run.id, "Check")
    at = START if clock is None else clock.advance(minutes=minutes) or clock.now()
    complete_action(session, check.id, Actor(user_id=users["manager"].id), "done", None, None, at)
    session.commit()
    assert session.get(Run, run.id).status == RunStatus.FAILED


def flashes(response) -> list[tuple[str, str]]:
    return re.findall(r'<p class="flash (\w+)" role="status">([^<]*)</p>', text(response))


def test_completing_the_action_that_fails_the_run_says_so_in_red(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    login(client, fragile["manager"])
    check = open_action(session, run.id, "Check")
    done = client.post(
        f"/dossiers/{dossier.id}/actions/{check.id}/complete", data={"choice": "done"}, follow_redirects=True
    )
    said = flashes(done)
    assert [category for category, _message in said] == ["error"], said
    assert "en échec" in said[0][1] and "« Balance »" in said[0][1] and "onglet Données" in said[0][1]
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.FAILED  # kept: nothing is lost
    assert session.get(Action, check.id).status == ActionStatus.DONE


def test_the_failed_run_panel_says_the_cause_in_words_and_offers_the_repairs(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    login(client, fragile["manager"])
    page = text(client.get(f"/dossiers/{dossier.id}"))
    panel = page.split('class="incident-panel"')[1].split("</section>\n</div>")[0]
    # The sentence names the field and its value, the rule in words (no dictionary here: the key made
    # readable); the engine's words wait behind « Détails ».
    assert (
        "La donnée du dossier « Balance » = « beaucoup » n’est pas un nombre : "
        "la règle « Balance &gt; 100 » attend un nombre." in panel
    )
    assert '<details class="technical"><summary>Détails</summary><pre>EngineError' in panel
    assert "EngineError" not in panel.split("<details")[0]
    assert f'href="/dossiers/{dossier.id}?tab=data&amp;field=balance"' in panel
    assert f'action="/dossiers/{dossier.id}/runs/{run.id}/retry"' in panel
    assert f'action="/dossiers/{dossier.id}/runs/{run.id}/back"' in panel
    assert f'action="/dossiers/{dossier.id}/runs/{run.id}/actions"' in panel
    # The step to go back to, by its label and date.
    assert re.search(r'<option value="1">Vérifier le solde — 02/03/2026 09:00</option>', panel)
    # The data tab opens on the field to fix.
    data_tab = text(client.get(f"/dossiers/{dossier.id}?tab=data&field=balance"))
    assert 'name="key" required maxlength="100" list="data-keys" value="balance"' in data_tab
    # An analyst reads the cause, without the repair forms.
    login(client, fragile["analyst"])
    read_only = text(client.get(f"/dossiers/{dossier.id}"))
    assert "n’est pas un nombre" in read_only and "/retry" not in read_only


def test_the_cause_names_the_field(app):
    """The stored error read back: a missing field, a text where a number or a date is expected, another
    refusal, an unexpected error; each said in a sentence that names the field."""
    from web.pages.workspace import cause_sentence

    with app.test_request_context("/"):
        _said_in_words(cause_sentence)


def _said_in_words(cause_sentence):
    cause = incidents.cause_of(
        "EngineError: Expression refusée : 'dossier.balance + 10 > 100' "
        "(Calcul impossible entre None et 10).",
        {"montant": 3},
    )
    assert cause.kind == "field_missing" and cause.fields == [("balance", None)]
    assert (
        cause.expression == "dossier.balance + 10 > 100"
        and cause.reason == "Calcul impossible entre None et 10"
    )
    assert cause_sentence(cause) == (
        "La donnée « Balance » manque au dossier : la règle « Balance + 10 > 100 » en a besoin."
    )
    other = incidents.cause_of("EngineError: Expression refusée : 'dossier[\"date début\"] < now()' (x)", {})
    assert other.fields == [("date début", None)]
    dated = incidents.cause_of(
        "EngineError: Expression refusée : 'date(dossier.audience) < now()' "
        "(date() attend une date ISO comme \"2026-01-31\", pas 'mardi'.)",
        {"audience": "mardi"},
    )
    assert cause_sentence(dated) == (
        "La donnée du dossier « Audience » = « mardi » n’est pas une date : "
        "la règle « Audience < aujourd'hui » attend une date."
    )
    odd = incidents.cause_of(
        "EngineError: Expression refusée : 'dossier.n in 3' (Comparaison impossible)", {"n": 1}
    )
    assert odd.kind == "field_value" and "ne peut pas utiliser la valeur" in cause_sentence(odd)
    unexpected = incidents.cause_of("KeyError: 'x'", {})
    assert unexpected.kind == "unexpected" and "inattendue" in cause_sentence(unexpected)


def test_fixing_the_data_brings_the_run_back(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    login(client, fragile["manager"])
    url = f"/dossiers/{dossier.id}"
    # Retried as it is, it fails again: said in red, still failed.
    again = client.post(f"{url}/runs/{run.id}/retry", follow_redirects=True)
    assert [c for c, _m in flashes(again)] == ["error"]
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.FAILED
    # Fixing the field the rule reads brings the run back by itself (issue #16: fixing the data used to
    # leave the run failed until someone retried it).
    client.post(f"{url}/data", data={"key": "balance", "value": "250"}, follow_redirects=True)
    session.expire_all()
    fixed = session.get(Run, run.id)
    assert fixed.status == RunStatus.COMPLETED and fixed.error is None
    assert "incident-panel" not in text(client.get(url))


def test_retry_brings_the_run_back_to_running(client, session, fragile, users):
    """Failed at launch (its first condition), fixed, retried: the run is running, at its first action."""
    publish(session, users["analyst"].id, "rt_fragile_start")
    dossier, _run = fragile_dossier(session, users, reference="D-S")
    session.commit()
    login(client, users["manager"])
    launched = client.post(f"/dossiers/{dossier.id}/runs", data={"sequence": "rt_fragile_start"})
    assert launched.status_code == 303 and "launch=" not in launched.location
    said = flashes(client.get(launched.location))
    assert [c for c, _m in said] == ["error"], said
    assert "Solde contrôlé au lancement (test)" in said[0][1] and "lancée" not in said[0][1]
    run = session.scalars(select(Run).where(Run.dossier_id == dossier.id).order_by(Run.id.desc())).first()
    assert run.status == RunStatus.FAILED
    # The page of a failed run shows no green message for it.
    page = text(client.get(f"/dossiers/{dossier.id}"))
    assert 'class="flash success"' not in page and "incident-panel" in page
    assert "au lancement" in text(client.get("/incidents/"))
    client.post(f"/dossiers/{dossier.id}/data", data={"key": "balance", "value": "250"})
    client.post(f"/dossiers/{dossier.id}/runs/{run.id}/retry")
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.RUNNING
    assert open_action(session, run.id, "Relaunch") is not None


def test_an_event_that_fails_the_run_is_an_error(client, session, fragile, users):
    publish(session, users["analyst"].id, "rt_fragile_event")
    dossier, _run = fragile_dossier(session, users, reference="D-E")
    run = launch_run(
        session, dossier.id, Actor(user_id=users["manager"].id), START, sequence="rt_fragile_event"
    )
    session.commit()
    login(client, users["manager"])
    posted = client.post(
        f"/dossiers/{dossier.id}/events", data={"name": "paiement_recu"}, follow_redirects=True
    )
    said = flashes(posted)
    assert [c for c, _m in said] == ["error"], said
    assert "Paiement à contrôler (test)" in said[0][1] and "attendait" not in said[0][1]
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.FAILED
    assert "à la réception d’un événement" in text(client.get("/incidents/"))


def test_back_to_a_step_reopens_it(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    login(client, fragile["manager"])
    url = f"/dossiers/{dossier.id}/runs/{run.id}/back"
    no_reason = client.post(url, data={"step": "1", "reason": ""}, follow_redirects=True)
    assert [c for c, _m in flashes(no_reason)] == ["error"]
    back = client.post(url, data={"step": "1", "reason": "solde à revérifier"}, follow_redirects=True)
    assert flashes(back) == [("success", "Déroulement revenu à l’étape choisie.")]
    session.expire_all()
    again = session.get(Run, run.id)
    assert again.status == RunStatus.RUNNING and again.error is None
    assert open_action(session, run.id, "Check") is not None  # the step's action is open again
    history = text(client.get(f"/dossiers/{dossier.id}?tab=history"))
    assert "Retour à une étape antérieure" in history and "solde à revérifier" in history


def test_an_ad_hoc_action_on_a_failed_run(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    login(client, fragile["manager"])
    url = f"/dossiers/{dossier.id}/runs/{run.id}/actions"
    bad_date = client.post(
        url, data={"name": "Appeler", "role": "gestionnaire", "due": "demain"}, follow_redirects=True
    )
    assert [c for c, _m in flashes(bad_date)] == ["error"] and "Échéance" in flashes(bad_date)[0][1]
    added = client.post(
        url,
        data={"name": "Demander le solde au bailleur", "role": "gestionnaire", "due": "2026-03-09"},
        follow_redirects=True,
    )
    # Added, but the run still waits for its repair: not a green message.
    assert flashes(added) == [
        (
            "warning",
            "Action « Demander le solde au bailleur » ajoutée. "
            "Le déroulement reste en échec : corrigez la cause puis relancez-le.",
        )
    ]
    action = session.scalar(select(Action).where(Action.run_id == run.id, Action.adhoc.is_(True)))
    assert action.status == ActionStatus.OPEN and action.role == "gestionnaire"
    assert action.due_at.date().isoformat() == "2026-03-09"
    assert "Demander le solde au bailleur" in text(client.get("/inbox/"))


def test_incidents_page_count_and_flags(client, session, fragile, clock, monkeypatch):
    users = fragile
    first, first_run = fragile_dossier(session, users, reference="D-1")
    second, second_run = fragile_dossier(session, users, reference="D-2", holder="admin")
    fine, _fine_run = fragile_dossier(session, users, reference="D-3", balance=5)
    fail(session, users, first_run)
    clock.advance(hours=2)
    fail(session, users, second_run, clock=clock)
    login(client, users["manager"])
    page = text(client.get("/incidents/"))
    rows = page.split('<tr class="incident"')[1:]
    # Newest first, each with its dossier, sequence, date, cause in words and gestionnaire.
    assert [r.split("<strong>")[1].split("</strong>")[0] for r in rows] == ["D-2", "D-1"]
    assert f'href="/dossiers/{second.id}#run-{second_run.id}"' in rows[0]
    assert "Martin D-2" in rows[0] and "Condition fragile (test)" in rows[0]
    assert "02/03/2026 11:00" in rows[0] and "après une action terminée" in rows[0]
    assert "« Balance » = « beaucoup »" in rows[0] and "Camille (admin)" in rows[0]
    assert "D-3" not in page
    monkeypatch.setattr("web.pages.incidents.SHOWN", 1)
    capped = text(client.get("/incidents/"))
    assert "Les 1 plus récents sur 2." in capped and capped.count('<tr class="incident"') == 1
    monkeypatch.undo()
    # The count in the navigation, on every page.
    for url in ("/incidents/", "/dossiers/", "/inbox/"):
        nav = text(client.get(url)).split("</nav>")[0]
        assert re.search(r'class="count-badge bad"[^>]*>2</span>', nav), url
    # « Mes actions »: only the failures on the user's own dossiers.
    inbox = text(client.get("/inbox/"))
    assert "1 déroulement en échec sur vos dossiers" in inbox and 'href="/incidents/?mine=1"' in inbox
    mine = text(client.get("/incidents/?mine=1"))
    assert "D-1" in mine and "D-2" not in mine
    overview = text(client.get("/overview/"))
    assert "2 déroulements en échec" in overview and "2 en échec" in overview
    # Repaired, the incident leaves the list and the count.
    client.post(f"/dossiers/{first.id}/data", data={"key": "balance", "value": "10"})
    client.post(f"/dossiers/{first.id}/runs/{first_run.id}/retry")
    assert incidents.count_open(session) == 1
    assert "déroulement en échec sur vos dossiers" not in text(client.get("/inbox/"))
    assert "D-1" not in text(client.get("/incidents/")).split("<tbody>")[1]


def test_the_count_is_one_query(session, fragile, app):
    from sqlalchemy import event

    from web.extensions import db

    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    statements = []

    def seen(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # SQLite's transaction start is no query
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert incidents.count_open(session) == 1
        assert incidents.count_for_user(session, fragile["manager"].id) == 1
        # Both at once, for the inbox's banner and the navigation; nobody else's dossier.
        assert incidents.count_failed(session, fragile["manager"].id) == (1, 1)
        assert incidents.count_failed(session, fragile["analyst"].id) == (1, 0)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 4 and all("dossiers" not in s.lower() for s in statements)


def test_who_may_see_and_repair(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    repairs = [
        (f"/dossiers/{dossier.id}/runs/{run.id}/retry", {}),
        (f"/dossiers/{dossier.id}/runs/{run.id}/back", {"step": "1", "reason": "x"}),
        (f"/dossiers/{dossier.id}/runs/{run.id}/actions", {"name": "x", "role": "gestionnaire"}),
    ]
    login(client, fragile["partner"])
    assert client.get("/incidents/").status_code == 404
    for url, form in repairs:
        assert client.post(url, data=form).status_code == 404, url
    login(client, fragile["analyst"])
    assert client.get("/incidents/").status_code == 403
    assert "count-badge" not in text(client.get("/dossiers/"))
    for url, form in repairs:
        assert client.post(url, data=form).status_code == 403, url
    login(client, fragile["admin"])
    assert "D-9" in text(client.get("/incidents/"))
    # Another dossier's id with this run: not found.
    other, _other_run = fragile_dossier(session, fragile, reference="D-10", balance=1)
    assert client.post(f"/dossiers/{other.id}/runs/{run.id}/retry").status_code == 404
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.FAILED


def test_repairs_need_a_csrf_token(app, client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    login(client, fragile["manager"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for what in ("retry", "back", "actions"):
            assert client.post(f"/dossiers/{dossier.id}/runs/{run.id}/{what}").status_code == 400, what
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    session.expire_all()
    assert session.get(Run, run.id).status == RunStatus.FAILED


def test_incidents_in_english(client, session, fragile):
    dossier, run = fragile_dossier(session, fragile)
    fail(session, fragile, run)
    login(client, fragile["manager"])
    page = text(client.get("/incidents/?lang=en"))
    assert "Since" in page and "Case manager" in page and "1 failed run" in page
    assert "The case field « Balance » = « beaucoup » is not a number" in page
    panel = text(client.get(f"/dossiers/{dossier.id}?lang=en"))
    assert (
        "Retry the run" in panel
        and "Go back to this step" in panel
        and "Fix the field in the Data tab" in panel
    )


def test_holders_of_a_failed_run_change_without_a_green_message(client, session, fragile, users):
    dossier, run = fragile_dossier(session, users)
    fail(session, users, run)
    colleague = add_participant(
        session,
        session.get(type(dossier), dossier.id),
        Actor(user_id=users["manager"].id),
        START,
        kind="internal",
        name="Alex Relève",
        user_id=users["admin"].id,
        roles=[],
    )
    session.commit()
    login(client, users["manager"])
    changed = client.post(
        f"/dossiers/{dossier.id}/runs/{run.id}/roles",
        data={"role": "gestionnaire", "participant_ids": str(colleague.id)},
        follow_redirects=True,
    )
    assert [c for c, _m in flashes(changed)] == ["warning"], flashes(changed)
    assert "Alex Relève" in text(client.get("/incidents/"))
