"""The dictionary page in Chromium: an analyst adds a choice field and an event with its fields, a refused
key keeps what was typed, the history says what changed.

Screenshots (1440 px): test-artifacts/screenshots/dictionary-*.png."""

from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from designer import dictionary_services as service
    from tests.conftest import START
    from tests.factories import make_user
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "dictionary")
    with app.app_context():
        session = db.session
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        for kind, data in [
            (
                "fields",
                {
                    "key": "hearing_date",
                    "label": "Date d'audience",
                    "label_en": "Hearing date",
                    "type": "date",
                },
            ),
            (
                "fields",
                {
                    "key": "balance",
                    "label": "Solde dû",
                    "label_en": "Balance due",
                    "type": "amount",
                    "help": "Montant restant dû à ce jour.",
                },
            ),
            ("fields", {"key": "caf_beneficiary", "label": "Allocataire CAF", "type": "boolean"}),
        ]:
            service.create_entry(session, kind, data, analyst.id, START)
        session.commit()
    with serving(app) as url:
        yield url


def test_an_analyst_edits_the_dictionary(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server + "/login")
        page.fill("#email", "analyst@example.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        page.click("nav >> text=Dictionnaire")
        page.click(".tabs >> text=Champs du dossier")

        # A key with a space: refused, the typed text stays.
        page.fill("#entry-label", "Type de bailleur")
        page.fill("#entry-key", "type bailleur")
        page.select_option("#entry-type", "choice")
        page.fill("#entry-choices", "social = Bailleur social\nprive = Bailleur privé")
        page.evaluate("document.querySelector('#entry-key').removeAttribute('pattern')")  # the server decides
        page.click("#entry-form button[type=submit]")
        assert "Clé « type bailleur » refusée" in page.inner_text("#entry-error")
        assert page.input_value("#entry-label") == "Type de bailleur"
        assert page.input_value("#entry-choices") == "social = Bailleur social\nprive = Bailleur privé"
        page.screenshot(path=str(SHOTS / "dictionary-refused.png"), full_page=True)
        page.fill("#entry-key", "landlord_kind")
        page.click("#entry-form button[type=submit]")
        assert "« Type de bailleur » est enregistré." in page.inner_text(".flash.success")
        row = page.locator("tr[data-key=landlord_kind]")
        assert "Bailleur social, Bailleur privé" in row.inner_text()

        # Relabel the balance: the history says what changed.
        page.click("tr[data-key=balance] >> text=Modifier")
        page.fill("#entry-label", "Solde restant dû")
        page.click("#entry-form button[type=submit]")
        assert "Libellé : Solde dû → Solde restant dû" in page.inner_text(".timeline")

        # An event with its typed fields.
        page.click(".tabs >> text=Événements métier")
        page.fill("#entry-label", "Paiement reçu")
        page.fill("#entry-key", "paiement_recu")
        page.fill("#entry-fields", "montant = Montant reçu (montant)\nrecu_le = Reçu le (date)")
        page.click("#entry-form button[type=submit]")
        assert "Montant reçu (Montant (€)), Reçu le (Date)" in page.inner_text("tr[data-key=paiement_recu]")
        page.click(".tabs >> text=Champs du dossier")
        page.screenshot(path=str(SHOTS / "dictionary-fields.png"), full_page=True)
        page.goto(server + "/dictionary/?tab=events&lang=en")
        assert "Business events" in page.inner_text("h1 + p + nav")
        page.screenshot(path=str(SHOTS / "dictionary-events-en.png"), full_page=True)
    assert errors == []
