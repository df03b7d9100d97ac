"""The case manager's inbox in Chromium: filter, sort and open an action; take an action nobody holds; change
a run's role holders in its one form; hand twelve actions over to a colleague after the preview.

The tests of this module share one server and run in this order (each works on its own dossiers, the
handover last). Screenshots go to test-artifacts/screenshots/inbox-*.png."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.runs import add_adhoc_action, launch_run

    # The server reads the wall clock: the dossiers start now, so that due dates are soon or later.
    START = datetime.now(UTC)  # noqa: N806
    from tests.factories import make_user
    from tests.workspace_data import publish, relance_dossier
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "inbox")
    with app.app_context():
        session = db.session
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        make_user(session, name="colleague", role="manager", password=PASSWORD, email="karim@example.test")
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        bailiff = make_user(session, name="bailiff", kind="partner", role=None, password=PASSWORD)
        publish(session, analyst.id, "rt_sub", "rt_plan", "rt_relance")
        actor = Actor(user_id=manager.id)
        tenants = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy"]
        for i, tenant in enumerate(tenants, start=1):
            _dossier, run = relance_dossier(
                session, manager, bailiff, reference=f"D-0{i}", title=f"{tenant} — loyers impayés", now=START
            )
            if i <= 3:
                add_adhoc_action(
                    session,
                    run.id,
                    actor,
                    START,
                    name=f"Rappeler M. {tenant}",
                    role="gestionnaire",
                    due_at=START + timedelta(days=2 + i),
                )
        plan = create_dossier(session, actor, "P-1", "Moreau — plan signé", {}, START)
        add_participant(
            session,
            plan,
            actor,
            START,
            kind="internal",
            name="Camille",
            user_id=manager.id,
            roles=["gestionnaire"],
        )
        launch_run(session, plan.id, actor, START, sequence="rt_plan", allow_unassigned=True)
        lonely = create_dossier(session, actor, "L-1", "Simon — sans gestionnaire", {}, START)
        add_participant(
            session,
            lonely,
            actor,
            START,
            kind="partner",
            name="Maître Huissier",
            user_id=bailiff.id,
            roles=["commissaire_justice"],
        )
        launch_run(session, lonely.id, actor, START, sequence="rt_relance", allow_unassigned=True)
        session.commit()
    with serving(app) as url:
        yield {"url": url}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, server):
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server["url"] + "/login")
    page.fill("#email", "manager@example.test")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox/$"))
    yield page
    context.close()
    assert not errors, errors


def labels(locator) -> list[str]:
    return [text.strip() for text in locator.locator("label.check").all_inner_texts()]


def references(page) -> list[str]:
    return page.eval_on_selector_all(
        "table.inbox tbody tr td:nth-child(4)", "cells => cells.map(c => c.innerText.split(' — ')[0])"
    )


def test_filter_sort_and_open_the_action(page, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert page.inner_text(".count-open") == "13" and len(references(page)) == 13
    page.select_option("#f-sequence", "rt_relance")
    page.select_option("#f-due", "later")
    page.select_option("#f-sort", "dossier")
    page.click("form.inbox-filters button:has-text('Filtrer')")
    page.wait_for_url(re.compile(r".*sequence=rt_relance.*due=later.*sort=dossier"))
    shown = references(page)
    assert shown == sorted(shown) and len(shown) == 9 and "P-1" not in shown
    assert page.inner_text("p.found") == "9 actions"
    # Counts per filter follow the other filters.
    assert "Plan (test) (0)" in page.inner_text("#f-sequence")
    assert "sous 7 jours (3)" in page.inner_text("#f-due")
    page.fill("#f-q", "Dubois")
    page.click("form.inbox-filters button:has-text('Filtrer')")
    assert references(page) == ["D-03"]
    page.screenshot(path=str(SHOTS / "inbox-filtered.png"), full_page=True)
    # The link is the filtered list: opened again, it shows the same.
    filtered = page.url
    page.goto(server["url"] + "/inbox/")
    page.goto(filtered)
    assert references(page) == ["D-03"] and page.input_value("#f-q") == "Dubois"
    page.click("table.inbox tbody tr a:has-text('Appeler le locataire')")
    page.wait_for_url(re.compile(r".*/dossiers/\d+#action-\d+$"))
    action_id = page.url.rsplit("#action-", 1)[1]
    targeted = page.locator("article.action:target")
    assert targeted.count() == 1 and targeted.get_attribute("data-action-id") == action_id
    assert targeted.locator("h4").inner_text() == "Appeler le locataire"
    page.screenshot(path=str(SHOTS / "inbox-opened-action.png"))


def test_take_an_unassigned_action(page, server):
    page.click("nav.tabs >> text=Sans titulaire")
    page.wait_for_url(re.compile(r".*/inbox/unassigned$"))
    assert references(page) == ["L-1"]
    page.screenshot(path=str(SHOTS / "inbox-unassigned.png"), full_page=True)
    page.click("table.inbox button:has-text('Prendre')")
    assert "Action prise" in page.inner_text(".flash.success")
    assert page.locator("table.inbox").count() == 0
    page.click("nav.tabs >> text=Mes actions")
    assert "L-1" in references(page) and page.inner_text(".count-open") == "14"


def test_change_holders_in_one_form(page, server):
    page.fill("#f-q", "D-01")
    page.click("form.inbox-filters button:has-text('Filtrer')")
    page.click("table.inbox tbody tr a >> nth=0")
    page.click("nav.tabs >> text=Intervenants")
    form = page.locator("form.holders-form")
    assert form.count() == 1
    gest = form.locator("tr[data-role='gestionnaire']")
    # Only who may hold the role: the case manager's account, not the tenant nor the bailiff.
    assert labels(gest) == ["Gestionnaire D-01 (rôle par défaut)"]
    bailiff_row = form.locator("tr[data-role='commissaire_justice']")
    assert labels(bailiff_row) == ["Maître Huissier (rôle par défaut)"]
    # A colleague added as a participant, with a default role picked from the library's roles.
    page.click("summary:has-text('Ajouter un intervenant')")
    page.select_option("#p-kind", "internal")
    page.fill("#p-name", "Karim")
    page.fill("#p-account", "karim@example.test")
    page.check("#p-role-gestionnaire")
    page.click("button:has-text('Ajouter')")
    assert "Intervenant ajouté" in page.inner_text(".flash.success")
    gest = page.locator("form.holders-form tr[data-role='gestionnaire']")
    assert labels(gest) == [
        "Gestionnaire D-01 (rôle par défaut)",
        "Karim (rôle par défaut)",
    ]
    gest.locator("label:has-text('Karim') input").check()
    gest.locator("label:has-text('Gestionnaire D-01') input").uncheck()
    page.click("button:has-text('Enregistrer les titulaires')")
    assert "Titulaires des rôles enregistrés" in page.inner_text(".flash.success")
    held = page.locator("form.holders-form tr[data-role='gestionnaire'] td.held")
    assert held.inner_text().strip() == "Karim"
    page.screenshot(path=str(SHOTS / "inbox-holders-form.png"), full_page=True)
    page.click("nav.tabs >> text=Historique")
    assert "Titulaires d'un rôle modifiés" in page.inner_text("ol.timeline")
    # Karim's role back to the manager, for the handover that follows.
    page.click("nav.tabs >> text=Intervenants")
    gest = page.locator("form.holders-form tr[data-role='gestionnaire']")
    gest.locator("label:has-text('Gestionnaire D-01') input").check()
    gest.locator("label:has-text('Karim') input").uncheck()
    page.click("button:has-text('Enregistrer les titulaires')")


def test_hand_twelve_actions_over_with_the_preview(page, server):
    page.fill("#f-q", "D-0")
    page.click("form.inbox-filters button:has-text('Filtrer')")
    boxes = page.locator("table.inbox tbody input[name=action_ids]")
    assert boxes.count() == 12
    for i in range(12):
        boxes.nth(i).check()
    page.select_option("#handover-user", label="Colleague")
    page.click("form#handover button:has-text('Prévisualiser')")
    assert page.inner_text(".preview-summary") == "12 actions, 9 dossiers"
    assert page.locator("table.handover-preview tbody tr").count() == 9
    page.screenshot(path=str(SHOTS / "inbox-handover-preview.png"), full_page=True)
    page.click("button:has-text('Confier ces 12 actions')")
    assert "12 actions confiées à Colleague (9 dossiers)." in page.inner_text(".flash.success")
    assert "q=D-0" in page.url and page.locator("table.inbox").count() == 0
    page.click("nav.tabs >> text=Toutes")
    page.select_option("#f-holder", label="Colleague")
    page.click("form.inbox-filters button:has-text('Filtrer')")
    assert len(references(page)) == 12
    page.screenshot(path=str(SHOTS / "inbox-team-view.png"), full_page=True)
    page.click("table.inbox tbody tr a >> nth=0")
    page.click("nav.tabs >> text=Historique")
    first = page.locator("ol.timeline li").first.inner_text()
    assert "Actions confiées" in first and "à Colleague" in first
