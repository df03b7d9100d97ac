"""A failed run, seen and repaired by a case manager in Chromium: the count in the navigation, the incidents
page, the cause in words on the dossier, the data fixed, the run retried and running again.

Screenshots (1440 px) of the incidents page and of the failed run's panel: test-artifacts/screenshots/."""

import re
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from runtime.actions import complete_action
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.models import Action
    from runtime.runs import launch_run
    from tests.conftest import START
    from tests.factories import make_user
    from tests.workspace_data import publish
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "incidents")
    with app.app_context():
        session = db.session
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        colleague = make_user(session, name="colleague", role="manager", password=PASSWORD)
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        publish(session, analyst.id, "rt_fragile", "rt_fragile_start")
        actor = Actor(user_id=manager.id)

        def dossier(reference, title, data, holder, name):
            found = create_dossier(session, actor, reference, title, data, START)
            add_participant(
                session,
                found,
                actor,
                START,
                kind="internal",
                name=name,
                user_id=holder.id,
                roles=["gestionnaire"],
            )
            return found

        # Ours: the balance was typed as words, the sequence's first rule cannot compare it.
        mine = dossier(
            "D-300", "Martin — loyers impayés", {"balance": "beaucoup"}, manager, "Camille Gestion"
        )
        run = launch_run(session, mine.id, actor, START, sequence="rt_fragile_start")
        # A colleague's, failed after an action a little earlier.
        theirs = dossier("D-301", "Durand — loyers impayés", {"balance": "n/a"}, colleague, "Alex Martin")
        other = launch_run(session, theirs.id, actor, START, sequence="rt_fragile")
        check = session.query(Action).filter_by(run_id=other.id, element_id="Check").one()
        complete_action(session, check.id, actor, "done", None, None, START)
        session.commit()
        ids = {"dossier": mine.id, "run": run.id}
    with serving(app) as url:
        yield {"url": url, **ids}


def test_a_manager_repairs_a_failed_run(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url, run_id = server["url"], server["run"]
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + "/login")
        page.fill("#email", "manager@example.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

        # The count in the navigation, then the incidents, newest first.
        page.goto(url + "/inbox/")
        assert page.inner_text(".nav-incidents .count-badge") == "2"
        assert "1 déroulement en échec sur vos dossiers" in page.inner_text(".incident-banner")
        page.click("nav >> text=Incidents")
        rows = page.locator("tr.incident")
        assert rows.count() == 2
        ours = rows.filter(has_text="D-300")
        assert "Camille Gestion" in ours.inner_text() and "au lancement" in ours.inner_text()
        assert "« Balance » = « beaucoup »" in ours.inner_text()
        page.screenshot(path=str(SHOTS / "incidents-list.png"), full_page=True)

        # The incident: the cause in words, the engine's words folded away.
        ours.locator("a").click()
        page.wait_for_url(re.compile(rf".*/dossiers/{server['dossier']}#run-{run_id}$"))
        panel = page.locator(f"#run-{run_id} .incident-panel")
        assert "La donnée du dossier « Balance » = « beaucoup » n’est pas un nombre" in panel.inner_text()
        assert not page.locator(f"#run-{run_id} .technical pre").is_visible()
        assert page.locator(".flash.success").count() == 0
        page.locator(f"#run-{run_id}").screenshot(path=str(SHOTS / "incident-run-panel.png"))

        # Fix the data, where the link leads: the run takes its step again by itself (issue #16; it used to
        # wait for « Relancer le déroulement »).
        panel.locator("text=Corriger les données du dossier").click()
        assert page.input_value("#data-key") == "balance"
        page.fill("#data-value", "250")
        page.click("button:has-text('Enregistrer')")
        assert "Données enregistrées" in page.inner_text(".flash.success")
        assert page.locator(".flash.error").count() == 0
        page.click("nav.tabs >> text=Déroulement")
        run = page.locator(f"#run-{run_id}")
        assert run.locator(".chip").inner_text() == "en cours"
        assert run.locator(".incident-panel").count() == 0
        assert "Relancer le locataire" in run.inner_text()
        assert page.inner_text(".nav-incidents .count-badge") == "1"
        context.close()
    assert not errors, errors
