"""Pilotage with the demo data, in Chromium at 1440 px: the diagram and its three overlays, a click on a step
listing its dossiers, each chart, the legal delays. Screenshots: test-artifacts/screenshots/pilotage-*.png."""

from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, chromium, serving

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"
SHOTS = ROOT / "test-artifacts" / "screenshots"
WAIT = 30000  # ms: generous, the machine may be busy
CHARTS = ["runs", "ends", "actions", "roles", "holders", "durations"]

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    if not (DIST / "run-viewer.js").exists():
        pytest.skip("front-end bundle not built (npm ci && npm run build)")
    from flask_migrate import upgrade

    from web import create_app

    path = tmp_path_factory.mktemp("pilotage") / "demo.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "EMBEDDED_WORKER": False, "SECRET_KEY": "e2e"})
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, (result.output, result.exception)
    with serving(app) as url:
        yield url


def test_a_manager_reads_the_pilotage_pages(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
        context.set_default_timeout(WAIT)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server + "/login")
        page.fill("#email", "claire.martin@sequences.test")
        page.fill("#password", "demo-sequences")
        page.click("button[type=submit]")
        page.click("nav >> text=Pilotage")
        page.select_option("#f-sequence", label="S2 — Précontentieux : commandement de payer")
        page.select_option("#f-period", "all")
        page.click("text=Afficher")
        for overlay in ("Dossiers en attente", "Temps passé", "Retards"):
            page.click(f".overlay-switch >> text={overlay}")
            page.wait_for_function("() => document.querySelector('[data-run-viewer]').dataset.ready === '1'")
            assert page.locator(".seq-count-badge").count() > 0, overlay
            if overlay == "Retards":  # « 0 % en retard » in grey, a late share in red
                assert page.locator(".seq-count-badge.seq-count-none").count() > 0
                assert page.locator(".seq-count-badge:not(.seq-count-none)").count() > 0
            name = {"Dossiers en attente": "count", "Temps passé": "time", "Retards": "late"}[overlay]
            page.screenshot(path=str(SHOTS / f"pilotage-diagram-{name}.png"), full_page=True)
        # A click on a step with a figure lists its dossiers.
        page.click(".overlay-switch >> text=Dossiers en attente")
        page.wait_for_function("() => document.querySelector('[data-run-viewer]').dataset.ready === '1'")
        page.locator(".djs-element.seq-clickable").first.click()
        page.wait_for_selector("#step-dossiers")
        assert page.locator("#step-dossiers tbody a").count() > 0
        page.screenshot(path=str(SHOTS / "pilotage-step-dossiers.png"), full_page=True)

        page.click(".tabs >> text=Graphiques")
        page.select_option("#f-sequence", "")
        page.select_option("#f-period", "90")
        page.click("text=Afficher")
        for key in CHARTS:
            block = page.locator(f"#chart-{key}")
            assert block.locator("svg.chart").count() == 1, key
            assert block.locator("svg.chart rect, svg.chart circle").count() > 0, key
        assert "Gestionnaire" in page.inner_text("#chart-roles")  # the role's name, not its key
        page.screenshot(path=str(SHOTS / "pilotage-charts.png"), full_page=True)

        page.click(".tabs >> text=Délais légaux")
        page.select_option("#f-sequence", label="S2 — Précontentieux : commandement de payer")
        page.click("text=Afficher")
        page.wait_for_selector("#delays-title")
        page.screenshot(path=str(SHOTS / "pilotage-delays.png"), full_page=True)
        context.close()
    assert errors == []
