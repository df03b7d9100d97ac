"""README's "Five minutes with the demo", step by step, in Chromium, against a real server.

A werkzeug server in a thread on a fresh temporary SQLite database, migrated and loaded with `sequences demo`
(the embedded worker off), real logins with the demo accounts, the built bundle. Each step asserts what the
user sees and leaves a screenshot in test-artifacts/screenshots/walkthrough-NN-<step>.png."""

import re
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, chromium, serving

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "demo-sequences"  # README: every demo account has this password
WAIT = 30000  # ms: generous, the machine may be busy
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
LIBRARY = {
    "relance_amiable": "S1 — Relance amiable",
    "precontentieux": "S2 — Précontentieux : commandement de payer",
    "contentieux": "S3 — Contentieux : assignation",
    "expulsion": "S4 — Expulsion",
    "plan_apurement": "S5 — Plan d'apurement",
}
MANDATER = "Mandater le commissaire de justice (décompte, bail, cautions)"
SUIVRE = "Suivre la mise en demeure (8 jours pour payer)"
RAPPROCHER = "Rapprocher le paiement reçu"
# Maître Garnier's open actions in the demo: serve payment orders, a guarantor, notify the préfet…
GARNIER = {
    ("Signifier le commandement de payer", "IMP-2026-0109"),
    ("Signifier le commandement de quitter les lieux et le notifier au préfet", "IMP-2026-0122"),
    ("Signifier l'assignation et la notifier au préfet", "IMP-2026-0119"),
    ("Dénoncer le commandement à la caution", "IMP-2026-0110"),
    ("Signaler le commandement à la CCAPEX", "IMP-2026-0112"),
    ("Tenter l'expulsion", "IMP-2026-0125"),
}

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    missing = [name for name in ("modeler.js", "run-viewer.js") if not (DIST / name).exists()]
    if missing:
        pytest.skip(f"front-end bundle not built, {', '.join(missing)} missing (npm ci && npm run build)")
    from flask_migrate import upgrade
    from sqlalchemy import select

    from runtime.models import Action, ActionStatus, Dossier
    from web import create_app
    from web.extensions import db

    path = tmp_path_factory.mktemp("walkthrough") / "demo.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "EMBEDDED_WORKER": False, "SECRET_KEY": "e2e"})
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Dossiers : 30 créé(s)" in result.output, result.output
    with app.app_context():
        # Addresses a partner must not reach: a dossier page, another partner's action, an internal action.
        ids = {
            "dossier_0103": db.session.scalar(select(Dossier.id).where(Dossier.reference == "IMP-2026-0103")),
            "avocat_action": db.session.scalar(
                select(Action.id).where(Action.status == ActionStatus.OPEN, Action.role == "avocat")
            ),
            "internal_action": db.session.scalar(
                select(Action.id).where(Action.status == ActionStatus.OPEN, Action.role == "gestionnaire")
            ),
        }
        assert all(ids.values()), ids
        db.session.remove()
    with serving(app) as url:
        yield {"url": url, **ids}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


# --- helpers ----------------------------------------------------------------------------------------------


class Shots:
    def __init__(self):
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("walkthrough-*.png"):
            old.unlink()
        self.n = 0

    def take(self, page, step: str, full_page: bool = True) -> None:
        self.n += 1
        page.screenshot(path=str(SHOTS / f"walkthrough-{self.n:02d}-{step}.png"), full_page=full_page)


def sign_in(browser, url: str, email: str, errors: list[str], entry: str = "/login"):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="fr-FR")
    context.set_default_timeout(WAIT)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{email}: {error}"))
    page.goto(url + entry)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    return context, page


def flash(page) -> str:
    return page.inner_text(".flash.success")


def diagrams_ready(page) -> None:
    page.wait_for_selector("[data-run-viewer]", timeout=WAIT)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-run-viewer]')].every(v => v.dataset.ready === '1')",
        timeout=WAIT,
    )


def active(page) -> list[str]:
    return page.eval_on_selector_all(".djs-element.seq-active", "es => es.map(e => e.dataset.elementId)")


def run_title(page) -> str:
    return " ".join(page.inner_text("section.run h2").split())


def run_text(page) -> str:
    return page.inner_text("section.run")


def role_holders(page) -> dict[str, list[str]]:
    """The Intervenants tab: each role of the running sequence and the names of its holders."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('table.roles tbody tr')]
        .map(tr => [tr.dataset.role,
                    [...tr.querySelectorAll('td.held .chip')].map(c => c.textContent.trim())]))""")


def timeline(page) -> list[str]:
    return [" ".join(item.split()) for item in page.locator("ol.timeline li").all_inner_texts()]


def timer_dates(page) -> list[str]:
    """The Historique's "Délai programmé" entries, newest first: the date each one is due."""
    entries = [item for item in timeline(page) if "Délai programmé" in item]
    return [re.search(r"échéance (\S+ \S+)", item).group(1) for item in entries]


def inbox_rows(page) -> list[dict]:
    return page.eval_on_selector_all(
        "table.inbox tbody tr",
        """rows => rows.map(r => ({late: !!r.querySelector('.badge.late'),
                                   cells: [...r.cells].filter(c => !c.querySelector('input[type=checkbox]'))
                                                      .map(c => c.innerText.trim())}))""",
    )


def select_shape(page, element_id: str) -> None:
    # S2 opens at a readable zoom, its start in view: an element further on is scrolled to first
    page.evaluate(
        """id => { const m = window.seqDesigner.modeler;
                   m.get('canvas').scrollToElement(m.get('elementRegistry').get(id), 150); }""",
        element_id,
    )
    shape = page.locator(f".djs-element[data-element-id='{element_id}']").first.bounding_box()
    assert shape, element_id
    page.mouse.click(shape["x"] + shape["width"] / 2, shape["y"] + shape["height"] / 2)
    page.wait_for_function(
        """id => { const m = window.seqDesigner.modeler;
                   return m.get('selection').isSelected(m.get('elementRegistry').get(id)); }""",
        arg=element_id,
        timeout=WAIT,
    )


def open_group(page, label: str) -> None:
    header = page.locator(".bio-properties-panel-group-header", has_text=label).first
    header.wait_for(timeout=WAIT)
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def settle(page) -> None:
    page.wait_for_timeout(450)  # the panel's debounced input
    page.wait_for_function("() => window.seqDesigner && window.seqDesigner.idle()", timeout=WAIT)


def selected_label(page, select: str) -> str:
    return page.eval_on_selector(select, "s => s.selectedOptions[0].textContent.trim()")


def wait_status(page, pattern: str) -> str:
    page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('#designer-status').textContent)",
        arg=pattern,
        timeout=WAIT,
    )
    return page.inner_text("#designer-status")


def waiting_table(page, key: str) -> dict[str, int]:
    return page.evaluate(
        """key => Object.fromEntries([...document.querySelector(`h2#seq-${key}`).closest('section')
            .querySelector('table').tBodies[0].rows].map(r => [r.cells[0].innerText.trim(),
                                                               Number(r.cells[1].innerText)]))""",
        key,
    )


# --- the walk-through ------------------------------------------------------------------------------------


def test_five_minutes_with_the_demo(server, browser):
    url = server["url"]
    shots = Shots()
    errors: list[str] = []

    # --- Analyst ---------------------------------------------------------------------------------------
    analyst_context, page = sign_in(browser, url, "analyste@sequences.test", errors)
    page.wait_for_url(re.compile(r".*/designer/$"))  # an analyst starts at the sequence library
    page.click("nav >> text=Séquences")
    page.wait_for_url(re.compile(r".*/designer/$"))
    rows = page.locator("table.library tbody tr")
    assert rows.count() == 5
    for key, name in LIBRARY.items():
        row = page.locator(f"table.library tr[data-key='{key}']")
        cells = [" ".join(c.split()) for c in row.locator("td").all_inner_texts()]
        # published in version 1, without problem
        assert cells[:5] == [name, key, "identique à la v1", "v1", "0"], cells
    shots.take(page, "analyst-library")

    page.locator("tr[data-key='precontentieux']").locator("a:has-text('Modifier')").click()
    page.wait_for_url(re.compile(r".*/designer/sequences/precontentieux/edit$"))
    page.wait_for_selector("#designer[data-ready='1']", timeout=WAIT)
    settle(page)
    assert LIBRARY["precontentieux"] in page.inner_text("h1")
    # lanes are roles: internal, partner, contact
    lanes = page.evaluate("""() => Object.fromEntries(window.seqDesigner.modeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:Lane').map(e => [e.businessObject.name,
            e.businessObject.get('seq:roleKind') || 'internal']))""")
    assert lanes == {
        "Gestionnaire": "internal",
        "Comptable": "internal",
        "Commissaire de justice": "partner",
        "CCAPEX": "contact",
    }, lanes
    for element_id in ("Six_semaines", "Mandater_commissaire"):
        assert page.locator(f".djs-element[data-element-id='{element_id}']").count() >= 1, element_id
    canvas = page.inner_text("#canvas")
    assert "6 semaines après la signification" in canvas and "Mandater le commissaire de justice" in canvas
    assert page.inner_text("#problems-summary") == "Aucun problème détecté."
    shots.take(page, "designer-s2", full_page=False)

    # the timer: its date is computed from the actual service date, as a délai de procédure
    select_shape(page, "Six_semaines")
    assert "6 semaines après la signification" in page.inner_text(".bio-properties-panel-header")
    open_group(page, "Séquence")
    assert selected_label(page, "#bio-properties-panel-seq-timer-kind") == "À une date"
    assert page.input_value("#bio-properties-panel-seq-timer-value") == (
        'add_duration(actions["Signifier_commandement"].completed_at, "P6W", "legal")'
    )
    shots.take(page, "designer-timer", full_page=False)

    # the task: due in 5 working days
    select_shape(page, "Mandater_commissaire")
    assert MANDATER in page.inner_text(".bio-properties-panel-header")
    open_group(page, "Séquence")
    assert page.input_value("#bio-properties-panel-seq-due") == "P5D"
    assert selected_label(page, "#bio-properties-panel-seq-calendar") == "Jours ouvrés (France)"
    shots.take(page, "designer-task", full_page=False)

    # change a label, save the draft, look at the problems, simulate, publish: version 2
    select_shape(page, "Rechercher_adresse")
    open_group(page, "Général")
    page.fill("#bio-properties-panel-name", "Rechercher la nouvelle adresse du locataire")
    page.press("#bio-properties-panel-name", "Tab")
    settle(page)
    page.click("#btn-save")
    assert wait_status(page, "enregistré") == "Brouillon enregistré."
    settle(page)
    assert page.inner_text("#problems-summary") == "Aucun problème détecté."
    assert page.locator("#problem-list li").count() == 0
    shots.take(page, "designer-saved", full_page=False)
    page.click("#btn-simulate")
    page.wait_for_selector(".sim-choices li[data-element-id='Mandater_commissaire']", timeout=WAIT)
    assert "Départ de la séquence." in page.inner_text("#simulation")
    assert "Mandater_commissaire" in active(page)
    shots.take(page, "designer-simulation")
    page.click("#btn-simulate-stop")
    page.click("#btn-publish")
    # the confirmation tells the dossiers that keep version 1; a release note is kept with version 2
    page.wait_for_selector("#publish-dialog[open]")
    page.fill("#release-note", "Libellé de la recherche d'adresse précisé.")
    page.click("#publish-confirm")
    # the dossiers running on version 1 stay there; a link offers to move them to version 2
    assert wait_status(page, "publiée|refusée").startswith("Version 2 publiée. Migrer les ")
    migrate = page.get_attribute("a.migrate-link", "href")
    assert migrate == "/designer/sequences/precontentieux/versions/1/migrate"
    shots.take(page, "designer-published", full_page=False)

    page.click("text=Retour à la bibliothèque")
    page.wait_for_url(re.compile(r".*/designer/$"))
    row = page.locator("table.library tr[data-key='precontentieux']")
    cells = [" ".join(c.split()) for c in row.locator("td").all_inner_texts()]
    assert cells[2:5] == ["identique à la v2", "v1, v2", "0"], cells
    row.locator("a:has-text('Comparer')").click()
    page.select_option("#diff-from", "1")
    page.select_option("#diff-to", "2")
    page.click("form button:has-text('Comparer')")
    page.wait_for_url(re.compile(r".*from=1&to=2"))
    assert "Modifiés (1)" in page.inner_text("main")
    change = page.locator(".diff-element[data-element-id='Rechercher_adresse']")
    assert change.inner_text() == (
        "Action « Rechercher la nouvelle adresse du locataire » : nom : "
        "« Rechercher l'adresse du locataire » → « Rechercher la nouvelle adresse du locataire »"
    )
    page.wait_for_selector("#viewer-to[data-ready='1']")
    coloured = "#viewer-to .djs-element.seq-diff-changed[data-element-id='Rechercher_adresse']"
    assert page.locator(coloured).count() == 1
    shots.take(page, "analyst-compare")
    analyst_context.close()

    # --- Case manager ----------------------------------------------------------------------------------
    context, page = sign_in(browser, url, "claire.martin@sequences.test", errors)
    page.wait_for_url(re.compile(r".*/inbox/$"))  # a case manager starts at « Mes actions »
    page.click("nav >> text=Mes actions")
    page.wait_for_url(re.compile(r".*/inbox/$"))
    rows = inbox_rows(page)
    assert int(page.inner_text(".count-open")) == len(rows) == 8
    overdue = [r["late"] for r in rows]
    assert int(page.inner_text(".count-overdue")) == sum(overdue) >= 1
    assert overdue == sorted(overdue, reverse=True), overdue  # overdue first
    assert all(r["cells"][5] == "Claire Martin" for r in rows), rows
    suivre = [r for r in rows if r["cells"][1] == SUIVRE]
    assert len(suivre) == 1 and suivre[0]["cells"][2].startswith("IMP-2026-0103 — Fatima Benali"), rows
    shots.take(page, "manager-my-actions")

    page.click("nav.tabs >> text=Sans titulaire")
    page.wait_for_url(re.compile(r".*/inbox/unassigned$"))
    rows = inbox_rows(page)
    assert page.inner_text("h1") == "Actions sans titulaire"
    assert len(rows) == 1 and int(page.inner_text(".count-open")) == 1
    cells = rows[0]["cells"]
    assert cells[1:] == [
        "Signifier le commandement de payer",
        "IMP-2026-0114 — Romain Gauthier — impayés de loyer",
        "S2 — Précontentieux : commandement de payer",
        "Commissaire de justice",
        "—",
    ], cells
    shots.take(page, "manager-unassigned")

    # Dossiers: search, filter by sequence or overdue
    page.click("nav >> text=Dossiers")
    page.wait_for_url(re.compile(r".*/dossiers/$"))
    references = page.locator("table.list tbody tr td:first-child")
    assert references.count() == 30
    page.select_option("#sequence", "precontentieux")
    page.click("button:has-text('Filtrer')")
    page.wait_for_url(re.compile(r".*sequence=precontentieux"))
    in_s2 = references.all_inner_texts()
    assert {"IMP-2026-0108", "IMP-2026-0111", "IMP-2026-0114"} <= set(in_s2) and len(in_s2) < 30, in_s2
    assert "IMP-2026-0103" not in in_s2
    page.check("#overdue")
    page.click("button:has-text('Filtrer')")
    page.wait_for_url(re.compile(r".*overdue=1"))
    late = page.locator("table.list tbody tr")
    assert 1 <= late.count() < len(in_s2)
    assert all("en retard" in text for text in late.all_inner_texts())
    shots.take(page, "manager-dossiers-filtered")
    page.click("text=Effacer")
    page.fill("#q", "IMP-2026-0103")
    page.click("button:has-text('Filtrer')")
    page.wait_for_url(re.compile(r".*q=IMP-2026-0103"))
    assert references.all_inner_texts() == ["IMP-2026-0103"]
    shots.take(page, "manager-dossiers-search")

    # IMP-2026-0103: S1 drawn with the current step, the open action and what each result leads to
    page.click("a:has-text('IMP-2026-0103')")
    page.wait_for_url(re.compile(r".*/dossiers/\d+$"))
    diagrams_ready(page)
    assert page.inner_text("h1") == "IMP-2026-0103 — Fatima Benali — impayés de loyer"
    assert page.inner_text("nav.tabs a[aria-current]") == "Déroulement"
    assert run_title(page) == "S1 — Relance amiable v1 en cours"
    assert "Suivre_mise_en_demeure" in active(page)
    action = page.locator("article.action")
    assert action.count() == 1 and action.locator("h4").inner_text() == SUIVRE
    assert "à faire par Claire Martin" in action.inner_text()
    what_if = page.inner_text("ul.what-if")
    plan = "Si « Plan d'apurement demandé » → fin « Vers le plan d'apurement » puis séquence S5"
    assert plan + " — Plan d'apurement" in what_if
    assert "Si « Payé » → fin « Dette soldée »" in what_if
    shots.take(page, "dossier-0103-s1")
    page.click("nav.tabs >> text=Intervenants")
    before = role_holders(page)
    assert before["gestionnaire"] == ["Claire Martin"] and before["comptable"] == ["Karim Benali"], before
    page.click("nav.tabs >> text=Déroulement")
    diagrams_ready(page)
    page.click("button[name=choice][value='done:plan']")
    assert flash(page) == f"Action « {SUIVRE} » terminée."
    diagrams_ready(page)
    # S1 ends and S5 starts
    assert run_title(page) == "S5 — Plan d'apurement v1 en cours"
    assert "Formaliser_plan" in active(page)
    assert page.inner_text("article.action h4") == "Formaliser le plan (montant et nombre d'échéances)"
    past = page.locator("table:has(th:text('Raison')) tbody tr").all_inner_texts()
    assert len(past) == 1 and "S1 — Relance amiable v1" in past[0] and "remplacée" in past[0], past
    shots.take(page, "dossier-0103-s5")
    # ... with the same role holders
    page.click("nav.tabs >> text=Intervenants")
    after = role_holders(page)
    assert set(after) == {"gestionnaire", "comptable", "locataire"}, after
    assert after == {role: before[role] for role in after}, (before, after)
    shots.take(page, "dossier-0103-holders")
    # Historique: who did what and when; the letters sent are PDF documents of the dossier
    page.click("nav.tabs >> text=Historique")
    history = timeline(page)
    assert history[0].endswith(
        "Changement de séquence par Système (séquence) séquence S5 — Plan d'apurement"
        " — raison : fin de séquence"
    ), history[:4]
    launched = "séquence S5 — Plan d'apurement v1"
    assert any("Séquence lancée" in item and launched in item for item in history[:4])
    assert any(
        f"Action terminée par Claire Martin « {SUIVRE} » — fait — résultat : Plan d'apurement demandé" in item
        for item in history[:4]
    ), history[:4]
    assert all(re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d ", item) for item in history)
    assert any("Communication envoyée" in item for item in history)
    shots.take(page, "dossier-0103-history")
    page.click("nav.tabs >> text=Déroulement")
    documents = page.locator("section:has(h2#docs-title) li a").all_inner_texts()
    assert {"relance_amiable", "mise_en_demeure"} <= {d.rsplit("-", 1)[0] for d in documents}, documents
    assert all(d.endswith(".pdf") for d in documents), documents

    # IMP-2026-0111: S2 (still version 1) waits for the end of the 6 weeks
    page.click("nav >> text=Dossiers")
    page.fill("#q", "IMP-2026-0111")
    page.click("button:has-text('Filtrer')")
    page.wait_for_url(re.compile(r".*q=IMP-2026-0111"))
    page.click("a:has-text('IMP-2026-0111')")
    page.wait_for_url(re.compile(r".*/dossiers/\d+$"))
    dossier_0111 = page.url
    diagrams_ready(page)
    assert page.inner_text("h1") == "IMP-2026-0111 — Sophie Marchand — impayés de loyer"
    assert run_title(page) == f"{LIBRARY['precontentieux']} v1 en cours"
    assert "attend l’événement : Paiement reçu, Plan d'apurement accepté" in run_text(page)
    assert "Aucune action ouverte : la séquence attend un délai ou un événement." in run_text(page)
    assert active(page) == ["Attente"]
    shots.take(page, "dossier-0111-waiting")
    page.click("nav.tabs >> text=Intervenants")
    holders = role_holders(page)
    assert holders["gestionnaire"] == ["Karim Benali"] and holders["comptable"] == ["Claire Martin"], holders
    page.click("nav.tabs >> text=Historique")
    legal_date = timer_dates(page)[0]
    page.click("nav.tabs >> text=Déroulement")
    diagrams_ready(page)
    # Événement métier: "Paiement reçu", its amount typed as a French user writes it
    page.select_option("#event-name", "paiement_recu")
    page.fill("#event-paiement_recu-montant", "400,00")
    page.click("button:has-text('Enregistrer l’événement')")
    assert flash(page) == "Événement « Paiement reçu » enregistré."
    diagrams_ready(page)
    assert active(page) == ["Rapprocher_paiement"]
    action = page.locator("article.action")
    assert action.locator("h4").inner_text() == RAPPROCHER
    assert "Rôle : Comptable · à faire par Claire Martin" in action.inner_text()
    shots.take(page, "dossier-0111-event")
    # Claire is the accountant on Karim's dossier: the reconciliation is in her actions
    page.click("nav >> text=Mes actions")
    page.wait_for_url(re.compile(r".*/inbox/$"))
    mine = [r["cells"] for r in inbox_rows(page) if r["cells"][1] == RAPPROCHER]
    assert len(mine) == 1, inbox_rows(page)
    assert mine[0][2:] == [
        "IMP-2026-0111 — Sophie Marchand — impayés de loyer",
        "S2 — Précontentieux : commandement de payer",
        "Comptable",
        "Claire Martin",
    ]
    shots.take(page, "manager-accountant-action")
    page.click(f"table.inbox a:has-text('{RAPPROCHER}')")
    page.wait_for_url(re.compile(re.escape(dossier_0111) + r"#action-\d+$"))
    diagrams_ready(page)
    page.click("button[name=choice][value='done:partial']")
    assert flash(page) == f"Action « {RAPPROCHER} » terminée."
    diagrams_ready(page)
    # S2 goes back to waiting for the same legal date
    assert active(page) == ["Attente"]
    assert "attend l’événement : Paiement reçu, Plan d'apurement accepté" in run_text(page)
    assert page.locator("article.action").count() == 0
    shots.take(page, "dossier-0111-partial")
    page.click("nav.tabs >> text=Historique")
    history = timeline(page)
    assert re.fullmatch(r"\S+ \S+ Délai programmé par Claire Martin échéance .*", history[0]), history[:3]
    partial = f"Action terminée par Claire Martin « {RAPPROCHER} » — fait — résultat : Paiement partiel"
    assert partial in history[1]
    assert any("Événement métier par Claire Martin « Paiement reçu »" in item for item in history[:4])
    assert timer_dates(page)[:2] == [legal_date, legal_date]
    shots.take(page, "dossier-0111-history")

    # Vue d'ensemble: how many dossiers wait at each step of each sequence
    page.click("nav >> text=Vue d’ensemble")
    page.wait_for_url(re.compile(r".*/overview/$"))
    diagrams_ready(page)
    assert page.inner_text("h1") == "Vue d’ensemble des séquences"
    titles = [" ".join(t.split()) for t in page.locator("section.overview-seq h2").all_inner_texts()]
    assert [t.split(" v")[0] for t in titles] == list(LIBRARY.values()), titles
    assert titles[1].startswith(f"{LIBRARY['precontentieux']} v2 — "), titles
    assert page.locator("[data-run-viewer][data-ready='1']").count() == 5
    assert waiting_table(page, "precontentieux")["6 semaines après la signification"] == 1
    assert waiting_table(page, "relance_amiable")[SUIVRE] == 1  # IMP-2026-0104; IMP-2026-0103 went on to S5
    assert waiting_table(page, "plan_apurement")["Formaliser le plan (montant et nombre d'échéances)"] == 3
    shots.take(page, "manager-overview")
    context.close()

    # --- Partner ---------------------------------------------------------------------------------------
    partner_context, portal = sign_in(
        browser, url, "elise.garnier@sequences.test", errors, entry="/portal/login"
    )
    portal.wait_for_url(re.compile(r".*/portal/$"))
    assert portal.inner_text("h1") == "Vos actions"
    rows = inbox_rows(portal)
    listed = {(r["cells"][1], r["cells"][2].split(" — ")[0]) for r in rows}
    assert listed == GARNIER and int(portal.inner_text(".count-open")) == len(rows) == 6, rows
    assert portal.locator("nav >> text=Dossiers").count() == 0
    shots.take(portal, "partner-portal")
    portal.click("table.inbox a:has-text('Dénoncer le commandement à la caution')")
    portal.wait_for_url(re.compile(r".*/portal/actions/\d+$"))
    assert portal.inner_text("h1") == "Dénoncer le commandement à la caution"
    details = portal.inner_text("dl.data")
    assert "IMP-2026-0110 — Mehdi Chaouch — impayés de loyer" in details
    assert "Commissaire de justice" in details  # the role's name, not its key
    portal.fill("#comment", "Commandement dénoncé à la caution.")
    portal.set_input_files(
        "#files",
        files=[
            {"name": "denonciation.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "note.txt", "mimeType": "text/plain", "buffer": "Dénoncé le jour même.".encode()},
        ],
    )
    shots.take(portal, "partner-action")
    portal.click("button[name=choice][value='done']")
    portal.wait_for_url(re.compile(r".*/portal/$"))
    assert "merci" in flash(portal)
    rows = inbox_rows(portal)
    assert len(rows) == 5 and int(portal.inner_text(".count-open")) == 5
    assert "IMP-2026-0110" not in " ".join(" ".join(r["cells"]) for r in rows)
    # (the list is ordered by action, not by completion date: the entry is there, not necessarily first)
    recent = portal.locator("h2:has-text('Récemment terminées par vous') + ul li").all_inner_texts()
    done = "Dénoncer le commandement à la caution — IMP-2026-0110 · fait"
    assert any(item.startswith(done) for item in recent), recent
    shots.take(portal, "partner-completed")
    # She never sees other dossiers or other roles' actions: any other address answers 404
    response = portal.goto(f"{url}/dossiers/{server['dossier_0103']}")
    assert response.status == 404 and portal.inner_text("h1") == "Page introuvable"
    shots.take(portal, "partner-404")
    for path in (
        f"/portal/actions/{server['avocat_action']}",
        f"/portal/actions/{server['internal_action']}",
        "/dossiers/",
        "/inbox/",
        "/overview/",
        "/designer/",
    ):
        response = portal.goto(url + path)
        assert response.status == 404, path
    partner_context.close()
    assert not errors, errors
