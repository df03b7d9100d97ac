"""A form on an action, from the dictionary to the dossier, in Chromium against a real server.

An analyst adds the field "Montant du plan" (amount) on the dictionary page, puts it as required on the form
of "Formaliser le plan" in the designer's panel, builds the condition `dossier.montant_plan > 1000` with the
condition builder and publishes; a case manager completes the action: `abc` is refused with a message naming
the field and nothing changes; `1 200,50` is stored as 1200.5, the history shows the change and the run takes
the branch of plans over 1 000 €, where the commissaire de justice fills the date of service in the portal.
Screenshots: the designer's form group, the form on the manager's page, in the portal at 1440 and 390 px."""

import re
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving
from tests.e2e.test_designer import confirm_publish
from tests.factories import DATA

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "static" / "dist" / "modeler.js"
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"

pytestmark = pytest.mark.e2e


def draft_without_the_plan_amount() -> bytes:
    """rt_form as version 1 had it: no plan amount on the form, the branch taken on the balance."""
    text = (DATA / "bpmn" / "runtime" / "rt_form.bpmn").read_text()
    text = text.replace('seq:fill="montant_plan!,', 'seq:fill="').replace(
        '"montant_plan,nb_echeances"', '"nb_echeances"'
    )
    return text.replace("dossier.montant_plan &gt; 1000", "dossier.balance &gt; 5000").encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not BUNDLE.exists():
        pytest.skip("front-end bundle not built (npm ci && npm run build)")
    from designer.services import publish_version, save_draft
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from tests.conftest import START
    from tests.factories import FORM_WORDS, add_words, make_user
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "forms")
    with app.app_context():
        session = db.session
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        bailiff = make_user(session, name="bailiff", kind="partner", role=None, password=PASSWORD)
        fields = [f for f in FORM_WORDS["fields"] if f["key"] != "montant_plan"]  # the analyst adds it
        add_words(session, {**FORM_WORDS, "fields": fields})
        save_draft(session, draft_without_the_plan_amount(), analyst.id, START)
        publish_version(session, "rt_form", analyst.id, START)
        actor = Actor(user_id=manager.id)
        data = {"balance": 1800, "monthly_rent": 600}
        dossier = create_dossier(session, actor, "D-300", "Bernard — plan d'apurement", data, START)
        add_participant(session, dossier, actor, START, kind="internal", name="Camille Gestion",
                        user_id=manager.id, roles=["gestionnaire"])  # fmt: skip
        add_participant(session, dossier, actor, START, kind="partner", name="Maître Garnier",
                        user_id=bailiff.id, roles=["commissaire_justice"])  # fmt: skip
        session.commit()
        dossier_id = dossier.id
    with serving(app) as url:
        yield {"url": url, "app": app, "dossier": dossier_id}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


def new_page(browser, errors, width=1440, height=1000):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def login(page, url, email, entry="/login"):
    page.goto(url + entry)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def settle(page) -> None:
    page.wait_for_timeout(450)
    page.wait_for_function("() => window.seqDesigner && window.seqDesigner.idle()", timeout=30000)


def select_element(page, element_id: str) -> None:
    """Selects the element and waits for the panel to show it (its header names it). The field being typed in
    is left first, as a click on the canvas does: the panel does not change under a focused input."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.evaluate(
        """id => { const m = window.seqDesigner.modeler;
        m.get('selection').select(m.get('elementRegistry').get(id)); }""",
        element_id,
    )
    page.wait_for_function(
        """id => { const e = window.seqDesigner.modeler.get('elementRegistry').get(id);
        const header = document.querySelector('.bio-properties-panel-header-label');
        return header && header.textContent.trim() === (e.businessObject.name || '').trim(); }""",
        arg=element_id,
        timeout=5000,
    )


def open_group(page, label: str) -> None:
    header = page.locator(".bio-properties-panel-group-header", has_text=label).first
    header.wait_for(timeout=5000)
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def attr(page, element_id: str, name: str):
    return page.evaluate(
        """([id, name]) => { const e = window.seqDesigner.modeler.get('elementRegistry').get(id);
        return e ? (e.businessObject.get(name) ?? null) : null; }""",
        [element_id, name],
    )


def condition(page, flow_id: str):
    return page.evaluate(
        """id => { const bo = window.seqDesigner.modeler.get('elementRegistry').get(id).businessObject;
        return bo.conditionExpression ? bo.conditionExpression.body : null; }""",
        flow_id,
    )


def test_a_required_amount_from_the_dictionary_to_the_dossier(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url, dossier = server["url"], server["dossier"]
    errors: list[str] = []

    # The analyst adds the field to the dictionary.
    context, page = new_page(browser, errors)
    login(page, url, "analyst@example.test")
    page.goto(url + "/dictionary/?tab=fields")
    page.fill("#entry-label", "Montant du plan")
    page.fill("#entry-key", "montant_plan")
    page.select_option("#entry-type", "amount")
    page.click("form.entry-form button[type=submit]")
    page.wait_for_selector("tr[data-key='montant_plan']")

    # ... puts it as required on the task's form, builds the condition, publishes version 2.
    page.goto(url + "/designer/sequences/rt_form/edit")
    page.wait_for_selector("#designer[data-ready='1']", timeout=30000)
    settle(page)
    select_element(page, "Formaliser")
    open_group(page, "Formulaire de l’action")
    page.select_option("#bio-properties-panel-seq-form-add", "montant_plan")
    page.wait_for_selector("#bio-properties-panel-seq-form-montant_plan")
    page.select_option("#bio-properties-panel-seq-form-montant_plan", "required")
    assert (
        attr(page, "Formaliser", "seq:fill")
        == "nb_echeances,premiere_echeance,caution_informee,frequence,montant_plan!"
    )
    page.locator("[data-group-id='group-seq-form']").screenshot(path=str(SHOTS / "designer-form-group.png"))
    select_element(page, "Signifier")  # the commissaire de justice sees the amount
    open_group(page, "Formulaire de l’action")
    page.select_option("#bio-properties-panel-seq-form-add", "montant_plan")
    page.wait_for_selector("#bio-properties-panel-seq-form-montant_plan")
    page.select_option("#bio-properties-panel-seq-form-montant_plan", "show")
    assert attr(page, "Signifier", "seq:show") == "nb_echeances,montant_plan"

    select_element(page, "F_important")
    open_group(page, "Séquence")
    page.select_option("#bio-properties-panel-seq-condition-subject", "montant_plan")
    page.select_option("#bio-properties-panel-seq-condition-operator", ">")
    page.fill("#bio-properties-panel-seq-condition-value", "1 000")
    page.press("#bio-properties-panel-seq-condition-value", "Tab")
    page.wait_for_function("() => true")
    settle(page)
    assert condition(page, "F_important") == "dossier.montant_plan > 1000"
    assert page.input_value("#bio-properties-panel-seq-condition-expression") == "dossier.montant_plan > 1000"
    page.screenshot(path=str(SHOTS / "designer-condition-builder.png"))
    page.click("#btn-save")
    page.wait_for_function("() => /enregistré/.test(document.querySelector('#designer-status').textContent)")
    page.click("#btn-publish")
    confirm_publish(page)
    page.wait_for_function(
        "() => /publiée|refusée/.test(document.querySelector('#designer-status').textContent)"
    )
    assert "Version 2 publiée" in page.inner_text("#designer-status"), page.inner_text("#problem-list")
    context.close()

    # The manager launches the sequence and opens the action.
    context, page = new_page(browser, errors)
    login(page, url, "manager@example.test")
    page.goto(f"{url}/dossiers/{dossier}?launch=rt_form")
    page.click("button:has-text('Lancer la séquence')")
    page.wait_for_selector("article.action h4:has-text('Formaliser le plan')")
    action = page.locator("article.action", has_text="Formaliser le plan")
    amount = action.locator("input[name='field:montant_plan']")
    assert action.locator("input[type=date][name='field:premiere_echeance']").count() == 1
    assert action.locator("select[name='field:frequence'] option").all_inner_texts() == [
        "—",
        "Mensuelle",
        "Trimestrielle",
    ]
    assert "1\u202f800,00 €" in action.inner_text()  # the balance, shown read-only

    # "abc" is refused: a message naming the field, what was typed kept, nothing changed.
    amount.fill("abc")
    action.locator("input[name='field:nb_echeances']").fill("12")
    action.locator("button:has-text('Fait')").first.click()
    page.wait_for_selector(".action-form .field.invalid")
    action = page.locator("article.action", has_text="Formaliser le plan")
    assert "Montant du plan" in action.locator(".field.invalid").inner_text()
    assert "n'est pas un montant" in action.locator(".field.invalid .error").inner_text()
    assert action.locator("input[name='field:montant_plan']").input_value() == "abc"
    assert action.locator("input[name='field:nb_echeances']").input_value() == "12"
    page.screenshot(path=str(SHOTS / "action-form-refused.png"), full_page=True)
    with server["app"].app_context():
        from runtime.models import Dossier
        from web.extensions import db

        assert db.session.get(Dossier, dossier).data == {"balance": 1800, "monthly_rent": 600}
        db.session.remove()

    # "1 200,50" is stored as 1200.5, the history says so, the run takes the branch of plans over 1 000 €.
    page.goto(f"{url}/dossiers/{dossier}")
    action = page.locator("article.action", has_text="Formaliser le plan")
    action.locator("input[name='field:montant_plan']").fill("1 200,50")
    action.locator("input[name='field:premiere_echeance']").fill("2027-03-15")
    action.locator("select[name='field:caution_informee']").select_option("oui")
    action.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "action-form-manager.png"), full_page=True)
    action.locator("button:has-text('Fait')").first.click()
    page.wait_for_selector("article.action h4:has-text('Signifier le plan')")
    with server["app"].app_context():
        from runtime.models import Dossier
        from web.extensions import db

        data = db.session.get(Dossier, dossier).data
        db.session.remove()
    assert data["montant_plan"] == 1200.5 and data["premiere_echeance"] == "2027-03-15"
    assert data["caution_informee"] is True
    page.goto(f"{url}/dossiers/{dossier}?tab=history")
    history = page.inner_text(".timeline")
    assert "Montant du plan : — → 1\u202f200,50 €" in history
    assert "Première échéance : — → 15/03/2027" in history
    context.close()

    # The commissaire de justice fills the date of service in the portal, on a laptop and on a phone.
    for width, height, name in (
        (1440, 1000, "action-form-portal.png"),
        (390, 844, "action-form-portal-390.png"),
    ):
        context, page = new_page(browser, errors, width, height)
        login(page, url, "bailiff@example.test", entry="/portal/login")
        page.wait_for_url(re.compile(r".*/portal/$"))
        page.click("a:has-text('Signifier le plan')")
        form = page.locator(".action-form")
        assert "1\u202f200,50 €" in form.inner_text() and "Date de signification" in form.inner_text()
        page.screenshot(path=str(SHOTS / name), full_page=True)
        if width == 390:
            form.locator("input[name='field:date_signification']").fill("2027-04-02")
            page.click("button:has-text('Fait')")
            page.wait_for_url(re.compile(r".*/portal/$"))
        context.close()
    with server["app"].app_context():
        from runtime.models import Dossier
        from web.extensions import db

        assert db.session.get(Dossier, dossier).data["date_signification"] == "2027-04-02"
        db.session.remove()
    assert not errors, errors


def test_lanes_outcomes_and_expressions_speak_the_dictionary(server, browser):
    url = server["url"]
    errors: list[str] = []
    context, page = new_page(browser, errors)
    login(page, url, "analyst@example.test")
    page.goto(url + "/designer/sequences/rt_form/edit")
    page.wait_for_selector("#designer[data-ready='1']", timeout=30000)
    settle(page)

    # A lane picks its role from the dictionary, or adds the one it names.
    select_element(page, "Lane_cj")
    open_group(page, "Séquence")
    pick = "#bio-properties-panel-seq-role-pick"
    assert page.input_value(pick) == "commissaire_justice"
    assert "Gestionnaire (interne)" in page.locator(f"{pick} option").all_inner_texts()
    page.fill("#bio-properties-panel-seq-role", "huissier_audiencier")
    page.press("#bio-properties-panel-seq-role", "Tab")
    page.click("button:has-text('Ajouter « Commissaire de justice » au dictionnaire')")
    page.wait_for_selector("text=Rôle « Commissaire de justice » ajouté au dictionnaire.")
    added = page.evaluate("() => fetch('/api/v1/dictionary/roles/huissier_audiencier').then(r => r.json())")
    assert (added["key"], added["label"], added["kind"]) == (
        "huissier_audiencier", "Commissaire de justice", "partner"
    )  # fmt: skip
    page.select_option(pick, "gestionnaire")
    assert (attr(page, "Lane_cj", "seq:role"), attr(page, "Lane_cj", "seq:roleKind")) == (
        "gestionnaire",
        None,
    )

    # Outcomes are typed as labels; their keys follow.
    select_element(page, "Formaliser")
    open_group(page, "Séquence")
    page.fill("#bio-properties-panel-seq-outcomes", "Accord signé, Refus du locataire")
    page.press("#bio-properties-panel-seq-outcomes", "Tab")
    page.wait_for_function(
        "() => window.seqDesigner.modeler.get('elementRegistry').get('Formaliser')"
        ".businessObject.get('seq:outcomes') === 'accord_signe,refus_du_locataire'"
    )
    page.wait_for_function(  # the labels went to the dictionary, the entry reads them back
        "() => document.querySelector('#bio-properties-panel-seq-outcomes').value"
        " === 'Accord signé, Refus du locataire'"
    )
    outcome = page.evaluate("() => fetch('/api/v1/dictionary/outcomes/accord_signe').then(r => r.json())")
    assert outcome["label"] == "Accord signé"

    # The raw expression proposes the dossier's fields after `dossier.`.
    select_element(page, "F_important")
    open_group(page, "Séquence")
    field = "#bio-properties-panel-seq-condition-expression"
    page.fill(field, "dossier.balance > 0 and dossier.mo")
    options = page.eval_on_selector_all(f"{field}-fields option", "os => os.map(o => o.value)")
    assert sorted(options) == [
        "dossier.balance > 0 and dossier.montant_plan",
        "dossier.balance > 0 and dossier.monthly_rent",
    ]
    page.locator("[data-group-id='group-sequence']").screenshot(
        path=str(SHOTS / "designer-expression-completion.png")
    )
    context.close()
    assert not errors, errors
