"""A manager moves the demo's S2 dossiers to a version 2 in Chromium: the link on the version page, the plan
with the two diagrams side by side (the removed step mapped by clicking it, then its counterpart), the preview
and the execution report.

Screenshots (1440 px): test-artifacts/screenshots/migration-*.png."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
V2 = ROOT / "tests" / "data" / "bpmn" / "s2_precontentieux_v2.bpmn"
KEY = "precontentieux"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from sqlalchemy import select

    from designer.services import publish_version, save_draft
    from kernel.accounts import User
    from kernel.db import unit_of_work
    from web.demo import demo_command
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "migrations")
    assert app.test_cli_runner().invoke(demo_command, []).exit_code == 0
    with app.app_context():
        session = db.session
        analyst = session.scalar(select(User).where(User.email == "analyste@sequences.test"))
        now = datetime.now(UTC)
        with unit_of_work(session):
            save_draft(session, V2.read_bytes(), analyst.id, now, replace=True)
            publish_version(session, KEY, analyst.id, now)
    with serving(app) as url:
        yield url


def test_plan_preview_and_migrate_in_the_browser(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.goto(f"{server}/login")
        page.fill("input[name=email]", "claire.martin@sequences.test")
        page.fill("input[name=password]", "demo-sequences")
        page.click("button[type=submit]")
        page.goto(f"{server}/designer/sequences/{KEY}/versions/1")
        page.click("a.migrate-link")
        page.wait_for_selector("#source-viewer[data-ready='1']")
        page.wait_for_selector("#target-viewer[data-ready='1']")
        assert page.locator("select[name='map:Attente']").input_value() == "Attente"
        page.screenshot(path=str(SHOTS / "migration-plan.png"), full_page=True)
        # A step of version 1 clicked, then its counterpart in version 2: the form follows.
        page.click("#source-viewer [data-element-id='Rechercher_adresse']")
        page.click("#target-viewer [data-element-id='Enqueter_adresse']")
        assert page.locator("select[name='map:Rechercher_adresse']").input_value() == "Enqueter_adresse"
        page.screenshot(path=str(SHOTS / "migration-plan-mapped.png"), full_page=True)
        page.click("button[value=preview]")
        page.wait_for_selector("table.migration-report")
        rows = page.locator("tr.report")
        assert rows.count() > 0
        assert page.locator("tr.report.would_migrate").count() == rows.count() - page.locator(
            "tr.report.left_out").count()
        page.screenshot(path=str(SHOTS / "migration-preview.png"), full_page=True)
        page.click("button[value=execute]")
        page.wait_for_selector("text=Migration effectuée")
        assert page.locator("tr.report.migrated").count() > 0
        page.screenshot(path=str(SHOTS / "migration-report.png"), full_page=True)
        # A migrated dossier's history says so.
        page.locator("tr.report.migrated a").first.click()
        page.click("text=Historique")
        page.wait_for_selector("li.kind-run_migrated")
        assert "de la version 1 vers la version 2" in page.inner_text("li.kind-run_migrated")
        page.screenshot(path=str(SHOTS / "migration-dossier.png"), full_page=True)
