"""Typed dossier data and business events in Chromium: the Données tab edits each field by its type, the event
form offers the dictionary's events (awaited ones first) with typed inputs; a refusal keeps what was typed.

Screenshots (1440 px): test-artifacts/screenshots/dossier-data-*.png, dossier-event-*.png."""

from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from designer import dictionary_services
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.runs import launch_run
    from tests.conftest import START
    from tests.factories import make_user
    from tests.workspace_data import publish
    from web.demo_dictionary import ensure_dictionary
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "typed")
    with app.app_context():
        session = db.session
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        ensure_dictionary(session, analyst.id, START)
        event = {
            "key": "surendettement",
            "label": "Dépôt de surendettement",
            "label_en": "Over-indebtedness filing",
            "fields": [{"key": "depose_le", "label": "Déposé le", "type": "date"}],
        }
        dictionary_services.create_entry(session, "events", event, analyst.id, START)
        publish(session, analyst.id, "rt_loop")
        actor = Actor(user_id=manager.id)
        data = {
            "tenant": "Fatima Benali",
            "balance": 1248.6,
            "monthly_rent": 624.3,
            "landlord_kind": "personne_morale",
        }
        dossier = create_dossier(session, actor, "IMP-900", "Benali — impayés de loyer", data, START)
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
        launch_run(session, dossier.id, actor, START, sequence="rt_loop")
        session.commit()
        dossier_id = dossier.id
    with serving(app) as url:
        yield {"url": url, "dossier": dossier_id}


def test_a_manager_types_data_and_posts_an_event(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url, dossier = server["url"], server["dossier"]
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

        # Données: labels, values as read, inputs by type.
        page.goto(f"{url}/dossiers/{dossier}?tab=data")
        row = page.locator("tr[data-field=balance]")
        assert "Solde dû" in row.inner_text() and "1\u202f248,60 €" in row.inner_text()
        assert page.get_attribute("#field-hearing_date", "type") == "date"
        assert page.locator("#field-landlord_kind option:checked").inner_text().startswith("Personne morale")
        page.fill("#field-balance", "beaucoup")
        page.fill("#field-hearing_date", "2027-03-15")
        page.select_option("#field-caf_beneficiary", "oui")
        page.click("button:has-text('Enregistrer les données')")
        assert "« Solde dû » : « beaucoup » n'est pas un montant" in page.inner_text("#data-error")
        assert page.input_value("#field-balance") == "beaucoup"
        assert page.input_value("#field-hearing_date") == "2027-03-15"
        assert page.get_attribute("#field-balance", "aria-invalid") == "true"
        page.screenshot(path=str(SHOTS / "dossier-data-refused.png"), full_page=True)
        page.fill("#field-balance", "1 350,50")
        page.click("button:has-text('Enregistrer les données')")
        assert "Données enregistrées." in page.inner_text(".flash.success")
        assert "1\u202f350,50 €" in page.inner_text("tr[data-field=balance]")
        assert "15/03/2027" in page.inner_text("tr[data-field=hearing_date]")
        assert "Oui" in page.inner_text("tr[data-field=caf_beneficiary]")
        page.screenshot(path=str(SHOTS / "dossier-data-saved.png"), full_page=True)

        # The event form: the awaited event first, the chosen event's fields only.
        page.goto(f"{url}/dossiers/{dossier}")
        options = page.locator("#event-name option").all_inner_texts()
        assert options[0] == "Dépôt de surendettement" and "Paiement reçu" in options
        assert page.locator("fieldset[data-event=surendettement]").is_visible()
        assert not page.locator("fieldset[data-event=paiement_recu]").is_visible()
        page.select_option("#event-name", "paiement_recu")
        assert page.locator("#event-paiement_recu-montant").is_visible()
        page.fill("#event-paiement_recu-montant", "quatre cents")
        page.click("button:has-text('Enregistrer l’événement')")
        assert "« Montant reçu » : « quatre cents » n'est pas un montant" in page.inner_text("#event-error")
        assert page.input_value("#event-name") == "paiement_recu"
        assert page.input_value("#event-paiement_recu-montant") == "quatre cents"
        page.locator("#event-title").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "dossier-event-refused.png"), full_page=True)
        page.fill("#event-paiement_recu-montant", "400")
        page.click("button:has-text('Enregistrer l’événement')")
        assert "Événement « Paiement reçu » enregistré." in page.inner_text(".flash.success")
        page.select_option("#event-name", "surendettement")
        page.fill("#event-surendettement-depose_le", "2026-03-05")
        page.click("button:has-text('Enregistrer l’événement')")
        assert "Événement « Dépôt de surendettement » enregistré." in page.inner_text(".flash.success")
        page.screenshot(path=str(SHOTS / "dossier-event-delivered.png"), full_page=True)
    assert errors == []
