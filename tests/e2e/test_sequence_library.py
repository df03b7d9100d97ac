"""The sequence library in Chromium: a slip (a new sequence with the key of an existing one) loses nothing.

A real server (werkzeug, in a thread) on a migrated temporary SQLite database with the demo library published,
real CSRF, the built bundle; screenshots at 1440 px in test-artifacts/screenshots/."""

import re

import pytest

from tests.e2e.browser import chromium, serving
from tests.e2e.test_designer import PASSWORD, SHOTS, _now, _requirements, open_designer

pytestmark = pytest.mark.e2e

ROOT_KEY = "precontentieux"
# What the modeler draws of a process: shapes and flows, not their labels nor the diagram's root.
DRAWN = """() => window.seqDesigner.modeler.get('elementRegistry')
    .filter(e => !e.labelTarget && e.parent).length"""


BLANK = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs" targetNamespace="urn:t">
  <bpmn:process id="KEY" name="Mon nouveau" isExecutable="true"><bpmn:startEvent id="Start"/></bpmn:process>
</bpmn:definitions>"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _requirements()
    from flask_migrate import upgrade

    from designer import services
    from runtime.actors import Actor
    from tests.factories import make_user
    from web import create_app
    from web.demo import LIBRARY, ensure_templates
    from web.extensions import db

    path = tmp_path_factory.mktemp("e2e") / "library.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "EMBEDDED_WORKER": False, "SECRET_KEY": "e2e"})
    with app.app_context():
        upgrade()
        analyst = make_user(db.session, name="analyst", role="analyst", password=PASSWORD)
        # The letters the library's send tasks name: a sequence is published only once they exist.
        ensure_templates(db.session, Actor(user_id=analyst.id), _now())
        keys = [
            services.save_draft(db.session, file.read_bytes(), analyst.id, _now())[0].key
            for file in sorted(LIBRARY.glob("*.bpmn"))
        ]
        services.publish_versions(db.session, keys, analyst.id, _now())
        db.session.commit()
    with serving(app) as url:
        yield {"url": url, "app": app}


def stored(app, key: str):
    """(draft bytes, title, elements counted in the draft, number of kept drafts) as the database has them."""
    from designer import drafts, services
    from web.extensions import db

    with app.app_context():
        sequence = services.get_sequence(db.session, key)
        kept = drafts.list_drafts(db.session, sequence, _now())
        result = (sequence.draft_xml, sequence.name, drafts.count_elements(sequence.draft_xml), len(kept))
        db.session.remove()
        return result


def test_a_new_sequence_with_an_existing_key_is_refused_and_the_existing_one_is_intact(server):
    app, base = server["app"], server["url"]
    before = stored(app, ROOT_KEY)
    assert before[2] >= 40, before[2]  # the whole S2 diagram
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(base + "/login")
        page.fill("#email", "analyst@example.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        page.base = base

        # In the library: the key of S2, a new title, Dessiner.
        page.goto(base + "/designer/")
        page.fill("#new-key", ROOT_KEY)
        page.fill("#new-name", "Mon nouveau")
        page.click("text=Dessiner")
        refusal = page.locator("#key-taken")
        refusal.wait_for()
        assert "rien n’a été créé ni remplacé" in refusal.inner_text()
        assert before[1] in refusal.inner_text()
        assert page.input_value("#new-key") == ROOT_KEY and page.input_value("#new-name") == "Mon nouveau"
        assert page.locator("#designer").count() == 0  # no blank diagram to save over S2
        page.screenshot(path=str(SHOTS / "library-key-taken.png"), full_page=True)

        # Importing a file whose process is S2 asks first; cancelling keeps S2 as it was.
        changed = before[0].replace(before[1].encode(), b"S2 import\xc3\xa9 par erreur")
        page.set_input_files(
            "#upload-file", files=[{"name": "s2.bpmn", "mimeType": "application/xml", "buffer": changed}]
        )
        page.click("form[action$='/designer/upload'] button[type=submit]")
        question = page.locator("#replace-confirm")
        question.wait_for()
        assert f"Remplacer le brouillon de « {before[1]} » ?" in question.inner_text()
        page.screenshot(path=str(SHOTS / "library-import-confirm.png"))
        question.locator("text=Annuler l’import").click()
        page.wait_for_selector("#new-key")
        assert stored(app, ROOT_KEY) == before
        page.goto(base + "/designer/")
        page.fill("#new-key", ROOT_KEY)
        page.fill("#new-name", "Mon nouveau")
        page.click("text=Dessiner")
        refusal.wait_for()

        # The offer opens the existing sequence, whole.
        refusal.locator("a").click()
        page.wait_for_selector("#designer[data-ready='1']", timeout=30000)
        assert f"/designer/sequences/{ROOT_KEY}/edit" in page.url
        drawn = page.evaluate(DRAWN)
        assert drawn >= before[2], (drawn, before[2])

        # In the modeler, a new diagram whose key another analyst took meanwhile: refused, with the offer.
        open_designer(page, "/designer/new?key=relance_bailleur&name=Relance+du+bailleur")
        from designer import services
        from tests.factories import bpmn
        from web.extensions import db

        with app.app_context():
            theirs = bpmn("runtime/rt_relance.bpmn").replace(b'"rt_relance"', b'"relance_bailleur"')
            services.save_draft(db.session, theirs, None, _now())
            db.session.commit()
            db.session.remove()
        page.click("#btn-save")
        page.wait_for_selector("#open-existing", timeout=10000)
        status = page.inner_text("#designer-status")
        assert "rien n'a été remplacé" in status and "Relance (test)" in status
        assert page.evaluate("window.seqDesigner.dirty()")  # the drawing stays, unsaved
        page.screenshot(path=str(SHOTS / "modeler-key-exists.png"))
        assert stored(app, "relance_bailleur")[0] == theirs

        # The earlier drafts of S2: one, the current.
        page.goto(base + f"/designer/sequences/{ROOT_KEY}/drafts")
        assert page.locator("tr[data-draft]").count() == 1
        assert page.inner_text("tr[data-draft] .element-count") == str(before[2])
        page.screenshot(path=str(SHOTS / "drafts.png"))
        context.close()
    assert not errors, errors
    after = stored(app, ROOT_KEY)
    assert after == before  # same bytes, same title, same element count, no new draft


def test_an_earlier_draft_is_restored_and_an_archived_sequence_waits_in_its_own_section(server):
    from designer import services
    from web.extensions import db

    app, base = server["app"], server["url"]
    key = "expulsion"
    original = stored(app, key)
    with app.app_context():  # a slip: the draft saved over with a nearly empty diagram
        blank = BLANK.replace(b"KEY", key.encode())
        services.save_draft(db.session, blank, None, _now(), replace=True)
        db.session.commit()
        db.session.remove()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="fr-FR")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base + "/login")
        page.fill("#email", "analyst@example.test")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))

        page.goto(base + "/designer/")
        page.locator(f"tr[data-key='{key}'] >> text=Brouillons précédents").click()
        rows = page.locator("tr[data-draft]")
        assert rows.count() == 2
        assert rows.nth(0).locator(".element-count").inner_text() == "1"
        assert rows.nth(1).locator(".element-count").inner_text() == str(original[2])
        rows.nth(1).locator("button:has-text('Restaurer')").click()
        page.wait_for_selector(".flash.success")
        assert page.locator("tr[data-draft]").count() == 3
        page.screenshot(path=str(SHOTS / "drafts-restored.png"))
        assert stored(app, key)[:3] == original[:3]

        page.goto(base + "/designer/")
        page.locator(f"tr[data-key='{key}'] button:has-text('Archiver')").click()
        page.wait_for_selector(".flash.success")
        archived = page.locator("details#archived")
        assert archived.get_attribute("open") is None  # collapsed
        assert page.locator(f"details#archived tr[data-key='{key}']").count() == 1
        archived.locator("summary").click()
        page.screenshot(path=str(SHOTS / "library-archived.png"), full_page=True)
        archived.locator(f"tr[data-key='{key}'] button:has-text('Désarchiver')").click()
        page.wait_for_selector(".flash.success")
        assert page.locator("details#archived").count() == 0
        context.close()
    assert not errors, errors
