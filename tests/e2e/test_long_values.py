"""Values of any length, in Chromium: a 50,000-character data value, comment and title stay inside the
dossier page, its history, the inbox and the portal (folded behind « afficher tout »); an inbox row opens
its action on the dossier page. Screenshots go to test-artifacts/screenshots/."""

import re
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "static" / "dist" / "run-viewer.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"
HUGE = "Lorem" + "x" * 49_995  # one word: nothing to break a line at
TITLE = "T" * 300  # the longest title the dossier holds

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not BUNDLE.exists():
        pytest.skip("front-end bundle not built (npm ci && npm run build)")
    from runtime.actions import complete_action
    from runtime.actors import Actor
    from runtime.dossiers import update_dossier
    from runtime.models import Action
    from runtime.runs import add_adhoc_action
    from tests.conftest import START
    from tests.factories import make_user
    from tests.workspace_data import publish, relance_dossier
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "long")
    with app.app_context():
        session = db.session
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        partner = make_user(session, name="bailiff", kind="partner", role=None, password=PASSWORD)
        publish(session, manager.id, "rt_sub", "rt_plan", "rt_relance")
        actor = Actor(user_id=manager.id)
        # A few dossiers ahead in the inbox, so that the chosen action is not at the top of its page.
        for number in range(1, 4):
            relance_dossier(session, manager, partner, reference=f"D-00{number}", title="Petit")
        dossier, run = relance_dossier(session, manager, partner, reference="D-LONG", title=TITLE)
        update_dossier(session, dossier, actor, START, data={"observations": HUGE})
        note = add_adhoc_action(
            session, run.id, actor, START, name="Relire les observations", role="gestionnaire"
        )
        complete_action(session, note.id, actor, "done", None, HUGE[:10_000], START)
        call = session.query(Action).filter_by(run_id=run.id, element_id="Call").one()
        complete_action(session, call.id, actor, "done", "no_answer", None, START)  # the bailiff's turn
        serve = session.query(Action).filter_by(run_id=run.id, element_id="Serve").one()
        extra = add_adhoc_action(session, run.id, actor, START, name="Vérifier le bail", role="gestionnaire")
        session.commit()
        ids = {"dossier": dossier.id, "extra": extra.id, "serve": serve.id}
    with serving(app) as url:
        yield {"url": url, **ids}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


def sign_in(browser, url, email, width, entry="/login"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(url + entry)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return context, page


def fits(page) -> bool:
    """Nothing sticks out sideways: the page scrolls only down."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_long_values_stay_on_the_page_and_an_inbox_row_opens_its_action(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = server["url"]
    context, page = sign_in(browser, url, "manager@example.test", 1440)
    page.wait_for_url(re.compile(r".*/inbox/$"))
    assert fits(page)
    page.screenshot(path=str(SHOTS / "long-inbox.png"), full_page=True)

    # The row opens the dossier on its action, scrolled to and marked.
    page.click("table.inbox a:has-text('Vérifier le bail')")
    page.wait_for_url(re.compile(rf".*/dossiers/{server['dossier']}#action-{server['extra']}$"))
    panel = page.locator(f"#action-{server['extra']}")
    assert panel.evaluate("e => e.matches(':target')")
    box = panel.bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    assert fits(page)
    page.screenshot(path=str(SHOTS / "long-dossier-action.png"))

    page.goto(f"{url}/dossiers/{server['dossier']}?tab=data")
    assert fits(page)
    folded = page.locator(".data details.long")
    assert folded.count() == 1 and "afficher tout (50000 caractères)" in folded.inner_text()
    assert folded.locator(".whole").is_hidden()
    page.screenshot(path=str(SHOTS / "long-dossier-data.png"), full_page=True)
    folded.locator("summary").click()
    assert folded.locator(".whole").is_visible() and fits(page)
    assert folded.locator(".whole").evaluate("e => e.textContent.length") == len(HUGE)

    page.goto(f"{url}/dossiers/{server['dossier']}?tab=history")
    assert fits(page) and page.locator(".timeline details.long").count() >= 1
    page.screenshot(path=str(SHOTS / "long-dossier-history.png"), full_page=True)
    context.close()

    context, portal = sign_in(browser, url, "bailiff@example.test", 390, entry="/portal/login")
    portal.wait_for_url(re.compile(r".*/portal/$"))
    assert fits(portal)
    portal.screenshot(path=str(SHOTS / "long-portal-home.png"), full_page=True)
    portal.goto(f"{url}/portal/actions/{server['serve']}")
    assert fits(portal)
    portal.screenshot(path=str(SHOTS / "long-portal-action.png"), full_page=True)
    context.close()
