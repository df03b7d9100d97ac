"""Labels in Chromium, on the demo (its dictionary loaded by `sequences demo`) with two small dossiers of
the test library next to it: the dossier page shows roles, outcomes and fields by their labels, the manager's
diagram says each condition without a name in words (« Résultat : Payé »), and a run that needs the hearing
date asks for it with a form, then moves on once it is given.

Screenshots (1440 px) in test-artifacts/screenshots/: labels-dossier.png (the page), labels-diagram.png (the
manager's diagram), labels-demo-dossier.png (a demo dossier), labels-data-needed.png (the action asking for
the hearing date) and labels-data-given.png (the run moving on)."""

from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, chromium, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DIST = ROOT / "web" / "static" / "dist"
PASSWORD = "demo-sequences"
WAIT = 30_000

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    if not (DIST / "run-viewer.js").exists():
        pytest.skip("front-end bundle not built (npm ci && npm run build)")
    from flask_migrate import upgrade
    from sqlalchemy import select

    from kernel.accounts import User
    from runtime.actions import complete_action
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.models import Action, ActionStatus, Dossier
    from runtime.runs import launch_run
    from tests.workspace_data import ensure_documents_table, publish, relance_dossier
    from web import create_app
    from web.extensions import db

    path = tmp_path_factory.mktemp("labels") / "demo.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "EMBEDDED_WORKER": False, "SECRET_KEY": "e2e"})
    with app.app_context():
        upgrade()
        ensure_documents_table(db)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, (result.output, result.exception)
    with app.app_context():
        session = db.session
        user = {u.email.split("@")[0]: u for u in session.scalars(select(User))}
        claire, elise, nadia = user["claire.martin"], user["elise.garnier"], user["analyste"]
        publish(session, nadia.id, "rt_sub", "rt_plan", "rt_relance", "rt_hearing")
        # Conditions without a name on their flows (outcome == "paid"...), outcomes of the demo's dictionary.
        relance, _run = relance_dossier(session, claire, elise, reference="LAB-1", title="Lefèvre — loyers")
        # The hearing date is not known when « Reporter la date d'audience » is done.
        actor = Actor(user_id=claire.id)
        hearing = create_dossier(session, actor, "LAB-2", "Moreau — audience", {}, relance.created_at)
        add_participant(
            session, hearing, actor, hearing.created_at, kind="internal", name="Claire Martin",
            user_id=claire.id, roles=["gestionnaire"],
        )  # fmt: skip
        add_participant(
            session, hearing, actor, hearing.created_at, kind="partner", name="Maître Garnier",
            user_id=elise.id, roles=["commissaire_justice"],
        )  # fmt: skip
        run = launch_run(session, hearing.id, actor, hearing.created_at, sequence="rt_hearing")
        postpone = session.scalar(
            select(Action).where(Action.run_id == run.id, Action.status == ActionStatus.OPEN)
        )
        complete_action(session, postpone.id, actor, "done", None, None, hearing.created_at)
        session.commit()
        ids = {
            "relance": relance.id,
            "hearing": hearing.id,
            "demo": session.scalar(select(Dossier.id).where(Dossier.reference == "IMP-2026-0103")),
        }
        session.remove()
    with serving(app) as url:
        yield {"url": url, **ids}


def diagrams_ready(page) -> None:
    page.wait_for_selector("[data-run-viewer]", timeout=WAIT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-run-viewer]')].every(v => v.dataset.ready === '1')",
        timeout=WAIT,
    )


def flow_labels(page) -> list[str]:
    return page.eval_on_selector_all(".seq-flow-label", "es => es.map(e => e.textContent)")


def test_the_dossier_page_and_the_diagram_speak_the_dictionary(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = server["url"]
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="fr-FR")
        context.set_default_timeout(WAIT)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url + "/login")
        page.fill("#email", "claire.martin@sequences.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()

        # A run whose gateway flows have no name: their conditions in words, never the expression.
        page.goto(f"{url}/dossiers/{server['relance']}")
        diagrams_ready(page)
        labels = flow_labels(page)
        assert "Résultat : Payé" in labels, labels
        assert not [t for t in labels if "==" in t or "outcome" in t or "dossier." in t], labels
        buttons = page.eval_on_selector_all("form.complete button", "es => es.map(e => e.textContent.trim())")
        assert "Fait : Payé" in buttons and not [b for b in buttons if b.endswith((": paid", ": no_answer"))]
        meta = page.inner_text("article.action .meta")
        assert "Gestionnaire" in meta and "gestionnaire" not in meta
        page.screenshot(path=str(SHOTS / "labels-dossier.png"), full_page=True)
        page.locator(".viewer-wrap").first.screenshot(path=str(SHOTS / "labels-diagram.png"))

        # A demo dossier: flows drawn with the analyst's names, no raw condition over them.
        page.goto(f"{url}/dossiers/{server['demo']}")
        diagrams_ready(page)
        labels = flow_labels(page)
        assert not [t for t in labels if "==" in t or "dossier." in t], labels
        body = page.inner_text("main")
        assert "Fait : paid" not in body and "commissaire_justice" not in body
        assert "puis séquence S2 — Précontentieux" in body and "puis séquence precontentieux" not in body
        page.screenshot(path=str(SHOTS / "labels-demo-dossier.png"), full_page=True)

        # The run waiting for the hearing date: the action asks for it, typed as a date.
        page.goto(f"{url}/dossiers/{server['hearing']}")
        assert "attend une donnée du dossier" in page.inner_text(".waiting-data")
        action = page.locator("article.action", has_text="Renseigner la date d'audience")
        assert action.count() == 1
        field = action.locator("input[name='field:hearing_date']")
        assert field.get_attribute("type") == "date"
        assert "Date d'audience" in action.inner_text()
        page.locator("section.run").first.screenshot(path=str(SHOTS / "labels-data-needed.png"))
        field.fill("2027-03-15")
        action.locator("button[value=done]").click()
        page.wait_for_load_state()
        assert page.locator(".waiting-data").count() == 0
        assert "Délai « 6 semaines avant l'audience » : le 01/02/2027" in page.inner_text("section.run")
        page.screenshot(path=str(SHOTS / "labels-data-given.png"), full_page=True)
        history = page.goto(f"{url}/dossiers/{server['hearing']}?tab=history")
        assert history.ok and "15/03/2027" in page.inner_text(".timeline")
    assert errors == []
