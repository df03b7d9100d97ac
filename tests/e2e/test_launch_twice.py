"""A case manager launches a sequence, then launches it again: the page asks first, and cancelling leaves one
run. In Chromium, against a real server (werkzeug in a thread, migrated SQLite, real CSRF tokens)."""

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
    from tests.factories import make_user
    from tests.workspace_data import publish, relance_dossier
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "launch")
    with app.app_context():
        manager = make_user(db.session, name="manager", role="manager", password=PASSWORD)
        analyst = make_user(db.session, name="analyst", role="analyst", password=PASSWORD)
        bailiff = make_user(db.session, name="bailiff", kind="partner", role=None, password=PASSWORD)
        publish(db.session, analyst.id, "rt_sub", "rt_plan", "rt_relance")
        dossier, _run = relance_dossier(db.session, manager, bailiff, reference="D-300", launch=False)
        db.session.commit()
        dossier_id = dossier.id
    with serving(app) as url:
        yield {"url": url, "app": app, "dossier": dossier_id}


def runs_of(server) -> list[str]:
    from sqlalchemy import select

    from runtime.models import Run
    from web.extensions import db

    with server["app"].app_context():
        return list(db.session.scalars(select(Run.status).where(Run.dossier_id == server["dossier"])))


def started_on(server) -> str:
    from sqlalchemy import select

    from runtime.models import Run
    from web.extensions import db

    with server["app"].app_context():
        started = db.session.scalar(select(Run.started_at).where(Run.dossier_id == server["dossier"]))
    return f"{started:%d/%m/%Y}"


def test_launching_again_asks_and_cancelling_keeps_one_run(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = server["url"]
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + "/login")
        page.fill("#email", "manager@example.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        dossier = f"{url}/dossiers/{server['dossier']}"
        page.goto(dossier)

        # A second click on « Lancer » while the server has not answered yet sends nothing more.
        page.select_option("#launch-seq", "rt_relance")
        page.click("button:has-text('Choisir les titulaires')")
        held = []

        def hold(route):  # the server "slow": requests are held here
            held.append(route)

        page.route(re.compile(r".*/runs$"), hold)
        box = page.locator("button:has-text('Lancer la séquence')").bounding_box()
        for _click in range(2):  # the mouse, as a person clicks: nothing waits for the page in between
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(500)  # time for a second request to reach the route, if one was sent
        assert len(held) == 1, [r.request.url for r in held]
        held[0].continue_()
        page.unroute(re.compile(r".*/runs$"), hold)
        page.wait_for_selector(".flash.success")
        assert "lancée" in page.inner_text(".flash.success")
        assert runs_of(server) == ["running"]

        # Launching it again: the launch form warns, and « Lancer » asks before a second run.
        page.select_option("#launch-seq", "rt_relance")
        page.click("button:has-text('Choisir les titulaires')")
        since = re.escape(f"déjà en cours sur ce dossier depuis le {started_on(server)}")
        assert re.search(since, page.inner_text(".launch .warning"))
        page.click("button:has-text('Lancer la séquence')")
        page.wait_for_selector(".confirm-launch")
        asked = page.inner_text(".confirm-launch [role=alert]")
        assert re.search(f"« Relance \\(test\\) » est {since}\\.", asked), asked
        assert "Lancer une seconde fois ?" in asked
        page.screenshot(path=str(SHOTS / "launch-already-running.png"), full_page=True)
        assert runs_of(server) == ["running"]

        page.click("a:has-text('Annuler')")
        page.wait_for_url(re.compile(rf".*/dossiers/{server['dossier']}$"))
        assert runs_of(server) == ["running"]
        context.close()
    assert not errors, errors
