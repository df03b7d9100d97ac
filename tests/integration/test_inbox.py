"""The inbox a case manager works from: search, filters, sort, pages and counts in the URL; handing actions
over with a preview; taking an action nobody holds. And the dossier page's role holders and default roles."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from runtime.actions import complete_action
from runtime.actors import Actor
from runtime.assignments import Assignment, Unheld
from runtime.check import check_assignments
from runtime.dossiers import add_participant, create_dossier
from runtime.journal import JournalEntry
from runtime.models import Action, ActionStatus, Dossier, Participant, RunRole
from runtime.runs import add_adhoc_action, launch_run, replace_holders
from tests.conftest import START
from tests.factories import make_user
from tests.integration.test_workspace_pages import FreshClient, login, text
from tests.workspace_data import ensure_documents_table, publish, relance_dossier


@pytest.fixture
def client(app):
    app.test_client_class = FreshClient
    return app.test_client()


@pytest.fixture
def desk(app, session, users):
    """Nine relance dossiers of the manager (one action each, three with an added action: twelve), a plan
    dossier (one more), and a dossier whose case manager is missing (its action nobody holds)."""
    from web.extensions import db

    ensure_documents_table(db)
    publish(session, users["analyst"].id, "rt_sub", "rt_plan", "rt_relance")
    manager = users["manager"]
    actor = Actor(user_id=manager.id)
    colleague = make_user(session, name="colleague", role="manager")
    runs = {}
    for i in range(1, 10):
        dossier, run = relance_dossier(
            session, manager, users["partner"], reference=f"D-0{i}", title=f"Locataire {i}"
        )
        runs[dossier.reference] = run
        if i <= 3:
            due = None if i == 3 else START + timedelta(days=2 + i)
            add_adhoc_action(
                session, run.id, actor, START, name=f"Rappeler {i}", role="gestionnaire", due_at=due
            )
    plan = create_dossier(session, actor, "P-1", "Plan signé", {}, START)
    add_participant(
        session, plan, actor, START, kind="internal", name="Moi", user_id=manager.id, roles=["gestionnaire"]
    )
    launch_run(session, plan.id, actor, START, sequence="rt_plan", allow_unassigned=True)
    lonely = create_dossier(session, actor, "L-1", "Sans gestionnaire", {}, START)
    add_participant(
        session,
        lonely,
        actor,
        START,
        kind="partner",
        name="Huissier",
        user_id=users["partner"].id,
        roles=["commissaire_justice"],
    )
    lonely_run = launch_run(session, lonely.id, actor, START, sequence="rt_relance", allow_unassigned=True)
    session.commit()
    return {
        "manager": manager,
        "colleague": colleague,
        "runs": runs,
        "lonely": lonely,
        "lonely_run": lonely_run,
    }


def rows(body: str) -> list[str]:
    """The dossier references of the inbox's rows, in order."""
    table = body.split('<table class="list inbox">')[1].split("</table>")[0] if "list inbox" in body else ""
    return re.findall(r"<td>([A-Z]-\d+) — ", table)


def test_search_filters_sort_and_counts_are_in_the_url(client, session, desk):
    login(client, desk["manager"])
    everything = text(client.get("/inbox/"))
    assert len(rows(everything)) == 13 and '<strong class="count-open">13</strong>' in everything
    # Counts per filter, next to each option.
    assert ">Plan (test) (1)</option>" in everything and ">Relance (test) (12)</option>" in everything
    assert ">Gestionnaire (13)</option>" in everything and ">sans échéance (2)</option>" in everything
    # The oldest due date first, actions without one last.
    assert rows(everything)[:2] == ["D-01", "D-02"] and rows(everything)[-2:] == ["D-03", "P-1"]
    assert rows(text(client.get("/inbox/?q=D-05"))) == ["D-05"]
    assert rows(text(client.get("/inbox/?q=locataire 7"))) == ["D-07"]
    assert rows(text(client.get("/inbox/?sequence=rt_plan"))) == ["P-1"]
    assert rows(text(client.get("/inbox/?due=none"))) == ["D-03", "P-1"]
    assert rows(text(client.get("/inbox/?role=commissaire_justice"))) == []
    # Combined: the counts of each filter follow the others.
    combined = text(client.get("/inbox/?sequence=rt_relance&due=soon"))
    assert rows(combined) == ["D-01", "D-02"] and ">Plan (test) (0)</option>" in combined
    assert ">Relance (test) (2)</option>" in combined and ">sans échéance (1)</option>" in combined
    assert "2 actions" in combined
    by_dossier = rows(text(client.get("/inbox/?sort=dossier")))
    assert by_dossier == sorted(by_dossier) and by_dossier[0] == "D-01" and by_dossier[-1] == "P-1"
    by_sequence = rows(text(client.get("/inbox/?sort=sequence")))
    assert by_sequence[0] == "P-1"  # « Plan (test) » before « Relance (test) »
    # Each row opens its action on the dossier page.
    call = session.scalar(
        select(Action).where(Action.run_id == desk["runs"]["D-05"].id, Action.status == ActionStatus.OPEN)
    )
    assert f'href="/dossiers/{call.dossier_id}#action-{call.id}"' in text(client.get("/inbox/?q=D-05"))
    page = text(client.get(f"/dossiers/{call.dossier_id}"))
    assert f'id="action-{call.id}"' in page


def test_pages_keep_the_filters(client, desk, monkeypatch):
    import runtime.inbox

    monkeypatch.setattr(runtime.inbox, "PAGE", 5)
    login(client, desk["manager"])
    first = text(client.get("/inbox/?sequence=rt_relance&sort=dossier"))
    assert rows(first) == ["D-01", "D-01", "D-02", "D-02", "D-03"] and "page 1 sur 3" in first
    assert 'href="/inbox/?sequence=rt_relance&amp;sort=dossier&amp;page=2"' in first
    third = text(client.get("/inbox/?sequence=rt_relance&sort=dossier&page=3"))
    assert rows(third) == ["D-08", "D-09"] and 'rel="next"' not in third
    assert 'href="/inbox/?sequence=rt_relance&amp;sort=dossier&amp;page=2"' in third
    assert rows(text(client.get("/inbox/?page=abc&due=bogus&sort=nope"))) != []  # nonsense is ignored


def test_the_filtered_inbox_costs_the_same_few_statements_whatever_it_lists(client, desk, app):
    from web.extensions import db

    login(client, desk["manager"])
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    def count(url: str) -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return len(statements)

    client.get("/inbox/")  # the library's roles are read once per process
    one = count("/inbox/?q=D-05&sequence=rt_relance&role=gestionnaire&due=later&sort=sequence")
    many = count("/inbox/?sort=dossier")
    unassigned = count("/inbox/unassigned?sort=sequence")
    everyone = count(f"/inbox/all?holder={desk['manager'].id}&q=D&due=soon&sort=dossier")
    # The user, the counts per filter, the page's ids, its rows, their holders, the failed runs (the
    # navigation's and the banner's count in one statement), the dictionary and the lanes' names for labels,
    # the colleagues one may hand actions to, the new actions (navigation): as many for one row as for 13.
    # "Mes actions" notes the visit instead of counting new actions (one statement, which writes only when
    # something came since the last visit, and otherwise says that nothing is new); a page with rows nobody
    # holds reads the roles of the dictionary and of the library's versions, for « Prendre ».
    counts = (one, many, unassigned, everyone)
    assert counts == (10, 10, 12, 10), (counts, statements)
    # An empty page reads neither rows nor holders (nor labels).
    assert count(f"/inbox/all?holder={desk['colleague'].id}") == 6


def test_hand_twelve_actions_over_with_a_preview(client, session, desk):
    manager, colleague = desk["manager"], desk["colleague"]
    login(client, manager)
    mine = list(session.scalars(select(Assignment.action_id).where(Assignment.user_id == manager.id)))
    plan_action = session.scalar(
        select(Action.id).join(Dossier).where(Dossier.reference == "P-1", Action.status == ActionStatus.OPEN)
    )
    chosen = sorted(set(mine) - {plan_action})
    assert len(chosen) == 12
    form = {
        "action_ids": [str(i) for i in chosen],
        "user_id": str(colleague.id),
        "next": "/inbox/?sort=dossier",
    }
    preview = client.post("/inbox/handover", data=form)
    body = text(preview)
    assert preview.status_code == 200 and "12 actions, 9 dossiers" in body
    assert "Colleague sera ajouté aux intervenants du dossier" in body
    assert (
        session.scalar(select(func.count()).select_from(Assignment).where(Assignment.user_id == colleague.id))
        == 0
    )
    done = client.post("/inbox/handover", data={**form, "confirm": "1"})
    assert done.status_code == 303 and done.location == "/inbox/?sort=dossier"
    assert "12 actions confiées à Colleague (9 dossiers)." in text(client.get(done.location))
    session.expire_all()
    theirs = set(session.scalars(select(Assignment.action_id).where(Assignment.user_id == colleague.id)))
    assert theirs == set(chosen)
    assert list(session.scalars(select(Assignment.action_id).where(Assignment.user_id == manager.id))) == [
        plan_action
    ]
    entries = list(session.scalars(select(JournalEntry).where(JournalEntry.kind == "holders_reassigned")))
    assert len(entries) == 9 and len({e.dossier_id for e in entries}) == 9
    assert sum(len(e.data["actions"]) for e in entries) == 12 and all(
        e.data["participant_added"] for e in entries
    )
    history = text(client.get(f"/dossiers/{entries[0].dossier_id}?tab=history"))
    assert "Actions confiées" in history and "à Colleague" in history
    assert text(client.get("/inbox/")).count('data-action-id="') == 1


def test_all_matching_the_filter_and_refusals(client, session, desk, users):
    login(client, desk["manager"])
    form = {"all_matching": "1", "which": "mine", "sequence": "rt_plan", "user_id": str(desk["colleague"].id)}
    assert "1 action, 1 dossier" in text(client.post("/inbox/handover", data=form))
    # A partner cannot hold the case manager's role: the preview says so and nothing is handed over.
    refused = text(client.post("/inbox/handover", data={**form, "user_id": str(users["partner"].id)}))
    assert "revient à un intervenant interne" in refused and "Confier ces" not in refused
    forced = client.post(
        "/inbox/handover", data={**form, "user_id": str(users["partner"].id), "confirm": "1"}
    )
    assert forced.status_code == 303
    assert "Rien n&#39;a été confié" in text(client.get(forced.location))
    session.expire_all()
    assert (
        session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "holders_reassigned")
        )
        == 0
    )
    nobody = client.post("/inbox/handover", data={**form, "user_id": ""}, follow_redirects=True)
    assert "Choisissez la personne" in text(nobody)
    login(client, users["analyst"])
    assert client.post("/inbox/handover", data=form).status_code == 403


def test_take_an_action_nobody_holds(client, session, desk, users):
    login(client, desk["manager"])
    lonely = text(client.get("/inbox/unassigned"))
    assert rows(lonely) == ["L-1"] and "Prendre" in lonely
    action = session.scalar(select(Action).where(Action.run_id == desk["lonely_run"].id))
    taken = client.post(f"/inbox/actions/{action.id}/take", data={"next": "/inbox/unassigned"})
    assert taken.status_code == 303 and taken.location == "/inbox/unassigned"
    after = text(client.get(taken.location))
    assert "Action prise" in after and rows(after) == []
    assert "L-1" in rows(text(client.get("/inbox/")))
    session.expire_all()
    holders = list(session.scalars(select(RunRole).where(RunRole.run_id == desk["lonely_run"].id)))
    assert {(h.role, h.participant.name) for h in holders} >= {("gestionnaire", "Manager")}
    again = client.post(f"/inbox/actions/{action.id}/take", follow_redirects=True)
    assert "déjà un titulaire" in text(again)
    assert client.post("/inbox/actions/999999/take").status_code == 404
    entries = session.scalars(
        select(JournalEntry).where(
            JournalEntry.dossier_id == desk["lonely"].id, JournalEntry.kind == "holders_reassigned"
        )
    )
    assert len(list(entries)) == 1
    # « Sans titulaire » reads rows of its own: kept exact as holders change.
    assert check_assignments(session) == []


def test_the_actions_nobody_holds_follow_their_holders(session, desk):
    """« Sans titulaire » reads rows of its own, rewritten when the role's holders change and when the
    action ends."""
    manager = desk["manager"]
    actor = Actor(user_id=manager.id)
    run = desk["lonely_run"]
    [action] = session.scalars(select(Action).where(Action.run_id == run.id))

    def listed() -> bool:
        session.flush()
        return session.get(Unheld, action.id) is not None and check_assignments(session) == []

    assert listed()
    me = add_participant(
        session, desk["lonely"], actor, START, kind="internal", name="Moi", user_id=manager.id
    )
    replace_holders(session, run, "gestionnaire", [me.id])
    assert not listed() and check_assignments(session) == []
    replace_holders(session, run, "gestionnaire", [])
    assert listed()
    complete_action(session, action.id, actor, "done", "paid", None, START)
    assert not listed() and check_assignments(session) == []


def test_everyone_s_actions_by_holder(client, desk):
    login(client, desk["manager"])
    everyone = text(client.get("/inbox/all"))
    assert len(rows(everyone)) == 14  # 13 of the manager, the one nobody holds
    assert rows(text(client.get(f"/inbox/all?holder={desk['colleague'].id}"))) == []
    assert len(rows(text(client.get(f"/inbox/all?holder={desk['manager'].id}")))) == 13


def test_everyone_s_actions_are_counted_up_to_a_bound(client, desk, monkeypatch):
    """Past COUNTED actions, « Toutes » and « Sans titulaire » say « N+ », give no count per sequence or
    role, and page with a next link; a user's own inbox is still counted exactly."""
    monkeypatch.setattr("runtime.inbox.COUNTED", 5)
    monkeypatch.setattr("web.pages.inbox.COUNTED", 5)
    monkeypatch.setattr("runtime.inbox.PAGE", 4)
    login(client, desk["manager"])
    everyone = text(client.get("/inbox/all?sort=dossier"))
    assert re.search(r'class="count-open">5\+<', everyone), everyone
    assert "5+ actions · page 1" in everyone and "toutes celles de ce filtre (5+)" in everyone
    assert ">Relance (test)</option>" in everyone and ">Plan" in everyone
    assert len(rows(everyone)) == 4 and 'rel="next" href="/inbox/all?sort=dossier&amp;page=2"' in everyone
    last = text(client.get("/inbox/all?sort=dossier&page=4"))
    assert rows(last) == ["L-1", "P-1"] and 'rel="next"' not in last
    assert "page 4" in last and 'rel="prev"' in last
    # Filtered down to fewer than the bound, the counts are exact again, per option too.
    plan = text(client.get("/inbox/all?sequence=rt_plan"))
    assert "1 action" in plan and "(1)" in plan and rows(plan) == ["P-1"]
    mine = text(client.get("/inbox/"))
    assert re.search(r'class="count-open">13<', mine) and "13 actions · page 1 sur 4" in mine


def test_role_holders_in_one_form_with_eligible_participants_only(client, session, desk, users):
    login(client, desk["manager"])
    run = desk["runs"]["D-01"]
    dossier_id = run.dossier_id
    page = text(client.get(f"/dossiers/{dossier_id}?tab=people"))
    form = page.split(f'id="holders-form-{run.id}"')[1].split("</form>")[0]
    # The tenant (a contact) is offered for no role of this run; the bailiff only for his.
    assert "Jean Dupont" not in form
    gest = form.split('data-role="gestionnaire"')[1].split("</tr>")[0]
    assert "Gestionnaire D-01" in gest and "(rôle par défaut)" in gest and "Maître Huissier" not in gest
    add_participant(
        session,
        session.get(type(run.dossier), dossier_id),
        Actor(user_id=desk["manager"].id),
        START,
        kind="partner",
        name="Étude Deux",
        user_id=users["partner2"].id,
    )
    session.commit()
    session.expire_all()
    people = {
        p.name: p.id for p in session.scalars(select(Participant).where(Participant.dossier_id == dossier_id))
    }
    saved = client.post(
        f"/dossiers/{dossier_id}/runs/{run.id}/holders",
        data={
            "roles": ["gestionnaire", "commissaire_justice"],
            "holders:gestionnaire": [str(people["Gestionnaire D-01"])],
            "holders:commissaire_justice": [str(people["Maître Huissier"]), str(people["Étude Deux"])],
        },
    )
    assert saved.status_code == 303
    assert "Titulaires des rôles enregistrés" in text(client.get(saved.location))
    session.expire_all()
    changed = list(
        session.scalars(
            select(JournalEntry).where(
                JournalEntry.dossier_id == dossier_id, JournalEntry.kind == "role_changed"
            )
        )
    )
    assert [e.data["role"] for e in changed] == ["commissaire_justice"]  # the unchanged role writes nothing
    # A contact cannot hold the case manager's role: refused, nothing changed.
    refused = client.post(
        f"/dossiers/{dossier_id}/runs/{run.id}/holders",
        data={
            "roles": ["gestionnaire", "commissaire_justice"],
            "holders:gestionnaire": [str(people["Jean Dupont"])],
        },
        follow_redirects=True,
    )
    assert "Jean Dupont est un intervenant contact" in text(refused)
    session.expire_all()
    assert len(list(session.scalars(select(RunRole).where(RunRole.run_id == run.id)))) == 3


def test_default_roles_are_picked_from_the_library(client, session, desk):
    login(client, desk["manager"])
    dossier_id = desk["runs"]["D-02"].dossier_id
    page = text(client.get(f"/dossiers/{dossier_id}?tab=people"))
    assert 'type="checkbox" name="roles" value="commissaire_justice"' in page
    assert 'type="checkbox" name="roles" value="comptable"' in page
    added = client.post(
        f"/dossiers/{dossier_id}/participants",
        data={"kind": "contact", "name": "Caution", "roles": ["Locataire principal!!", "gestionnaire"]},
    )
    assert added.status_code == 422 and "Locataire principal!!" in text(added)
    ok = client.post(
        f"/dossiers/{dossier_id}/participants",
        data={
            "kind": "internal",
            "name": "Compta",
            "user_email": "colleague@example.test",
            "roles": ["comptable", "gestionnaire"],
        },
    )
    assert ok.status_code == 303
    session.expire_all()
    compta = session.scalar(select(Participant).where(Participant.name == "Compta"))
    assert compta.role_keys == ["comptable", "gestionnaire"]
    client.post(f"/dossiers/{dossier_id}/participants/{compta.id}/roles", data={"roles": ["comptable"]})
    session.expire_all()
    assert session.get(Participant, compta.id).role_keys == ["comptable"]


def test_the_api_hands_over_and_takes_through_the_same_service(client, session, desk, users):
    manager = users["manager"]
    mine = sorted(session.scalars(select(Assignment.action_id).where(Assignment.user_id == manager.id)))
    body = {"action_ids": mine[:3], "user_id": desk["colleague"].id, "dry_run": True}
    preview = client.post("/api/v1/actions/handover", json=body, headers=manager.headers)
    assert preview.status_code == 200 and preview.json["actions"] == 3 and preview.json["problems"] == []
    assert (
        session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == "holders_reassigned")
        )
        == 0
    )
    refused = client.post(
        "/api/v1/actions/handover",
        json={**body, "dry_run": False, "user_id": users["partner"].id},
        headers=manager.headers,
    )
    assert refused.status_code == 422 and refused.json["error"] == "handover_refused"
    done = client.post("/api/v1/actions/handover", json={**body, "dry_run": False}, headers=manager.headers)
    assert done.status_code == 200 and done.json["actions"] == 3
    session.expire_all()
    assert set(
        session.scalars(select(Assignment.action_id).where(Assignment.user_id == desk["colleague"].id))
    ) >= set(mine[:3])
    lonely = session.scalar(select(Action.id).where(Action.run_id == desk["lonely_run"].id))
    taken = client.post(f"/api/v1/actions/{lonely}/take", headers=manager.headers)
    assert taken.status_code == 200 and taken.json["actions"] == 1
    assert client.post(f"/api/v1/actions/{lonely}/take", headers=manager.headers).status_code == 409
    assert client.post(f"/api/v1/actions/{lonely}/take", headers=users["analyst"].headers).status_code == 403


def test_english_labels(client, desk):
    login(client, desk["manager"])
    body = text(client.get("/inbox/?lang=en"))
    for words in ("Sort by", "Hand the checked actions over to", "Preview", "no due date", "13 actions"):
        assert words in body, words
    assert "Take" in text(client.get("/inbox/unassigned?lang=en"))
