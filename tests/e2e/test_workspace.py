"""A case manager's day and a partner's visit, in Chromium, against a real server.

A werkzeug server in a thread on a migrated temporary SQLite database, real CSRF tokens, the built bundle.
Screenshots of the dossier page, the inbox and the portal go to test-artifacts/screenshots/."""

import re
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "static" / "dist" / "run-viewer.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not BUNDLE.exists():
        pytest.skip("front-end bundle not built (npm ci && npm run build)")
    from runtime.actions import complete_action
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from tests.conftest import START
    from tests.factories import make_user
    from tests.workspace_data import publish, relance_dossier
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "workspace")
    with app.app_context():
        session = db.session
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        make_user(session, name="bailiff", kind="partner", role=None, password=PASSWORD)
        other = make_user(session, name="otherbailiff", kind="partner", role=None, password=PASSWORD)
        publish(session, analyst.id, "rt_sub", "rt_plan", "rt_relance")
        actor = Actor(user_id=manager.id)
        # The dossier of the day: a case manager and a tenant, no bailiff yet.
        dossier = create_dossier(session, actor, "D-100", "Martin — loyers impayés", {"montant": 1450}, START)
        add_participant(
            session,
            dossier,
            actor,
            START,
            kind="internal",
            name="Camille Gestion",
            user_id=manager.id,
            roles=["gestionnaire"],
        )
        add_participant(
            session, dossier, actor, START, kind="contact", name="Paul Martin"
        )
        # Someone else's dossier, where another bailiff has an open action.
        elsewhere, run = relance_dossier(session, manager, other, reference="D-200", title="Durand")
        from runtime.models import Action

        call = session.query(Action).filter_by(run_id=run.id, element_id="Call").one()
        complete_action(session, call.id, actor, "done", "no_answer", None, START)
        other_serve = session.query(Action).filter_by(run_id=run.id, element_id="Serve").one()
        # An overdue action in the manager's inbox.
        relance_dossier(session, manager, other, reference="D-050", title="Petit", now=START)
        session.commit()
        ids = {"dossier": dossier.id, "elsewhere": elsewhere.id, "other_serve": other_serve.id}
    with serving(app) as url:
        yield {"url": url, "app": app, **ids}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


def new_page(browser, errors):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page


def login(page, url, email, entry="/login"):
    page.goto(url + entry)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def diagram_ready(page):
    page.wait_for_selector("[data-run-viewer][data-ready='1']", timeout=30000)


def marked(page, element_id, marker):
    return page.locator(f".djs-element.{marker}[data-element-id='{element_id}']").count() > 0


def test_a_case_managers_day_and_a_partners_visit(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url = server["url"]
    errors: list[str] = []
    context, page = new_page(browser, errors)
    login(page, url, "manager@example.test")
    page.wait_for_url(re.compile(r".*/inbox/$"))  # where a case manager starts

    # Find the dossier.
    page.click("nav >> text=Dossiers")
    page.fill("#q", "D-100")
    page.click("button:has-text('Filtrer')")
    page.click("a:has-text('D-100')")
    page.wait_for_url(re.compile(rf".*/dossiers/{server['dossier']}$"))

    # Launch: the bailiff's role has no holder, so the page warns and refuses until told to go on.
    page.select_option("#launch-seq", "rt_relance")
    page.click("button:has-text('Choisir les titulaires')")
    assert "Rôles sans titulaire : Commissaire de justice" in page.inner_text(".launch .warning")
    page.click("button:has-text('Lancer la séquence')")
    assert "n'ont pas de titulaire" in page.inner_text(".flash.error")
    page.check("#allow-unassigned")
    page.click("button:has-text('Lancer la séquence')")
    assert "lancée" in page.inner_text(".flash.success")
    assert "Commissaire de justice" in page.inner_text("p.warning")
    diagram_ready(page)
    assert marked(page, "Call", "seq-active")
    # "What if I choose paid?": the path is drawn on the diagram.
    page.hover(".what-if li[data-outcome='paid']")
    assert page.locator(".djs-connection.seq-whatif[data-element-id='F_paid']").count() == 1
    assert page.locator(".djs-connection.seq-whatif[data-element-id='F_default']").count() == 0
    # The condition in words, never the expression (no dictionary here: the outcome's key made readable).
    assert page.locator(".seq-flow-label:has-text('Résultat : Paid')").count() == 1
    assert page.locator(".seq-flow-label:has-text('outcome')").count() == 0

    # Fix the role: a new partner participant, then the run's holder.
    page.click("nav.tabs >> text=Intervenants")
    page.click("summary:has-text('Ajouter un intervenant')")
    page.select_option("#p-kind", "partner")
    page.fill("#p-name", "Maître Huissier")
    page.fill("#p-account", "bailiff@example.test")
    page.check("#p-role-commissaire_justice")
    page.click("button:has-text('Ajouter')")
    assert "Intervenant ajouté" in page.inner_text(".flash.success")
    row = page.locator("tr.unassigned", has_text="Commissaire de justice")
    row.locator("label:has-text('Maître Huissier') input").check()
    page.click("button:has-text('Enregistrer les titulaires')")
    assert page.locator("tr.unassigned").count() == 0

    # Complete the call with an outcome: the diagram moves to the bailiff's step.
    page.click("nav.tabs >> text=Déroulement")
    page.fill("textarea[name=comment]", "Pas de réponse, message laissé.")
    page.click("button[name=choice][value='done:no_answer']")
    assert "terminée" in page.inner_text(".flash.success")
    diagram_ready(page)
    assert marked(page, "Serve", "seq-active") and marked(page, "Call", "seq-done")
    assert not marked(page, "Call", "seq-active")
    assert "à faire par Maître Huissier" in page.inner_text("article.action")
    page.screenshot(path=str(SHOTS / "workspace-dossier.png"), full_page=True)

    page.click("nav >> text=Mes actions")
    assert page.locator("table.inbox tbody tr").first.locator(".badge.late").count() == 1  # overdue first
    assert "D-050" in page.inner_text("table.inbox")
    page.screenshot(path=str(SHOTS / "workspace-inbox.png"), full_page=True)

    # The partner's visit: only their action, completed with a document; nothing else exists for them.
    partner_errors: list[str] = []
    partner_context, portal = new_page(browser, partner_errors)
    login(portal, url, "bailiff@example.test", entry="/portal/login")
    portal.wait_for_url(re.compile(r".*/portal/$"))
    rows = portal.locator("table.inbox tbody tr")
    assert rows.count() == 1 and "D-100" in rows.first.inner_text() and "D-200" not in portal.content()
    portal.screenshot(path=str(SHOTS / "workspace-portal.png"), full_page=True)
    rows.first.locator("a").click()
    portal.fill("#comment", "Commandement signifié à personne.")
    portal.set_input_files(
        "#files", files=[{"name": "acte.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    portal.click("button[name=choice][value='done:served']")
    assert "merci" in portal.inner_text(".flash.success")
    assert "Aucune action ne vous attend" in portal.content()
    for path in (
        f"/portal/actions/{server['other_serve']}",
        f"/dossiers/{server['elsewhere']}",
        f"/dossiers/{server['dossier']}",
        "/inbox/",
        "/overview/",
        "/designer/",
    ):
        response = portal.goto(url + path)
        assert response.status == 404, path
    partner_context.close()
    assert not partner_errors, partner_errors

    # Back to the dossier: the document is there and the run has ended.
    page.goto(f"{url}/dossiers/{server['dossier']}")
    assert page.locator("a:has-text('acte.pdf')").count() == 1
    assert "Aucune séquence en cours" in page.content()

    # A second run: the payment event ends it through the boundary event.
    page.select_option("#launch-seq", "rt_relance")
    page.click("button:has-text('Choisir les titulaires')")
    assert page.locator(".launch .warning").count() == 0
    page.click("button:has-text('Lancer la séquence')")
    page.click("button[name=choice][value='done:no_answer']")
    diagram_ready(page)
    assert marked(page, "Serve", "seq-active")
    page.select_option("#event-name", "paiement_recu")  # drawn in rt_relance, not in the dictionary yet
    page.click("button:has-text('Enregistrer l’événement')")
    assert "Paiement recu" in page.inner_text(".flash.success")
    assert "Aucune séquence en cours" in page.content()

    # A third run switched to the payment plan: the new diagram shows its first step.
    page.select_option("#launch-seq", "rt_relance")
    page.click("button:has-text('Choisir les titulaires')")
    page.click("button:has-text('Lancer la séquence')")
    page.click("summary:has-text('Changer de séquence')")
    page.select_option("select[name=sequence][id^=switch-seq]", "rt_plan")
    page.fill("input[id^=switch-reason]", "Plan d'apurement signé")
    page.click("form[action*='/switch'] button")
    assert "Plan (test)" in page.inner_text(".flash.success")
    diagram_ready(page)
    assert marked(page, "Agree", "seq-active")
    assert "Comptable" in page.inner_text("p.warning")  # the sub-sequence's role is flagged

    page.click("nav.tabs >> text=Historique")
    timeline = page.inner_text("ol.timeline")
    for words in (
        "Changement de séquence",
        "Événement métier",
        "Action terminée",
        "par Bailiff",
        "raison : Plan d'apurement signé",
        "Titulaires d'un rôle modifiés",
    ):
        assert words in timeline, words
    page.check("input[name=kind][value='event_received']")
    page.click("button:has-text('Filtrer')")
    assert page.locator("ol.timeline li").count() == 1
    with page.expect_download() as download:
        page.click("a:has-text('Exporter en CSV')")
    assert download.value.suggested_filename == "historique-D-100.csv"
    page.goto(f"{url}/dossiers/{server['dossier']}?lang=en")
    assert page.locator("nav.tabs a[aria-current]").inner_text() == "Progress"
    context.close()
    assert not errors, errors
