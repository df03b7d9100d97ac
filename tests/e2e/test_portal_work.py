"""A bailiff works from the portal, in Chromium, against a real server: the manager shares a document and
writes on the action; the bailiff reads the instructions, the dossier's facts and the document on a phone
(390 px), adds a photo without completing, later completes; another partner gets 404 on every one of these
addresses. Screenshots at 390 px and 1440 px go to test-artifacts/screenshots/."""

import re
import struct
import zlib
from pathlib import Path

import pytest

from tests.e2e.browser import chromium, migrated_app, serving

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "correct horse"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

pytestmark = pytest.mark.e2e


def png(width: int = 64, height: int = 40) -> bytes:
    """A small valid PNG (a blue rectangle): what a phone's photo is to the server."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x1f\x5f\xbf" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from runtime.actors import Actor
    from runtime.dossiers import add_participant, create_dossier
    from runtime.models import Action
    from runtime.runs import launch_run
    from tests.conftest import START
    from tests.factories import make_user
    from tests.workspace_data import publish
    from web.extensions import db

    app = migrated_app(tmp_path_factory, "portal_work")
    with app.app_context():
        session = db.session
        manager = make_user(session, name="manager", role="manager", password=PASSWORD)
        analyst = make_user(session, name="analyst", role="analyst", password=PASSWORD)
        bailiff = make_user(session, name="bailiff", kind="partner", role=None, password=PASSWORD)
        other = make_user(session, name="otherbailiff", kind="partner", role=None, password=PASSWORD)
        publish(session, analyst.id, "rt_notify", "rt_fragile")  # rt_fragile: the gestionnaire role
        # The analyst's dictionary names the dossier's fields (the portal shows their labels and formats).
        from designer.dictionary_services import create_entry, find_entry

        for field in (
            {"key": "tenant", "label": "Locataire", "type": "text"},
            {"key": "address", "label": "Adresse", "type": "text"},
            {"key": "balance", "label": "Montant dû", "type": "amount"},
            {"key": "hearing_date", "label": "Date d'audience", "type": "date"},
        ):
            if find_entry(session, "fields", field["key"]) is None:
                create_entry(session, "fields", field, analyst.id, START)
        actor = Actor(user_id=manager.id)
        ids = {}
        for reference, who, data in (
            (
                "IMP-300",
                bailiff,
                {
                    "tenant": "Mehdi Chaouch",
                    "address": "12 rue des Lilas, 69003 Lyon",
                    "balance": 2450.5,
                    "hearing_date": "2027-02-15",
                },
            ),
            ("IMP-400", other, {"tenant": "Paul Durand"}),
        ):
            dossier = create_dossier(
                session, actor, reference, f"{data['tenant']} — impayés de loyer", data, START
            )
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
                session,
                dossier,
                actor,
                START,
                kind="partner",
                name=f"Maître {who.user.name}",
                user_id=who.id,
                roles=["commissaire_justice"],
            )
            run = launch_run(session, dossier.id, actor, START, sequence="rt_notify")
            ids[reference] = (dossier.id, session.query(Action).filter_by(run_id=run.id).one().id)
        session.commit()
    with serving(app) as url:
        yield {
            "url": url,
            "app": app,
            "dossier": ids["IMP-300"][0],
            "action": ids["IMP-300"][1],
            "other_action": ids["IMP-400"][1],
        }


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


def new_page(browser, errors, viewport):
    context = browser.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page


def login(page, url, email, entry="/login"):
    page.goto(url + entry)
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def header_on_one_line(page) -> bool:
    """Every item of the top bar sits on the same line."""
    return page.evaluate(
        """() => {
            const bar = document.querySelector('header.topbar');
            const middles = [...bar.children].filter(e => e.offsetParent !== null)
                .map(e => { const box = e.getBoundingClientRect(); return box.top + box.height / 2; });
            const spread = Math.max(...middles) - Math.min(...middles);
            return bar.getBoundingClientRect().height < 64 && spread < 12;
        }"""
    )


def test_a_bailiff_works_from_the_portal_on_a_phone(server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    url, dossier, action = server["url"], server["dossier"], server["action"]
    errors: list[str] = []

    # The manager shares the lease, keeps an internal note to themselves, and writes on the bailiff's action.
    context, page = new_page(browser, errors, DESKTOP)
    login(page, url, "manager@example.test")
    page.wait_for_url(re.compile(r".*/inbox/$"))
    page.goto(f"{url}/dossiers/{dossier}")
    page.click("nav.tabs >> text=Documents et échanges")
    assert page.inner_text(".file-button") == "Choisir des fichiers"
    page.set_input_files(
        "#dossier-files", files=[{"name": "bail.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    assert "bail.pdf" in page.inner_text(".upload-form .file-names")
    page.check("#upload-shared")
    page.click(".upload-form button[type=submit]")
    assert "1 document(s) ajouté(s)" in page.inner_text(".flash.success")
    # A file the server refuses is explained, and what was ticked is kept.
    page.set_input_files(
        "#dossier-files",
        files=[{"name": "virus.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ\x90\x00"}],
    )
    page.check("#upload-shared")
    page.click(".upload-form button[type=submit]")
    assert "Type de fichier refusé pour « virus.exe »" in page.inner_text(".upload-form .field-error")
    assert page.is_checked("#upload-shared")
    page.uncheck("#upload-shared")
    page.set_input_files(
        "#dossier-files",
        files=[{"name": "note-interne.txt", "mimeType": "text/plain", "buffer": b"Ne pas transmettre."}],
    )
    page.click(".upload-form button[type=submit]")
    assert page.locator(".badge.shared").count() == 1
    page.select_option("#comment-about", label="Signifier le commandement de payer (à faire)")
    page.fill("#comment-body", "Le bail est joint. Merci de signifier avant vendredi.")
    page.click(".comment-form button[type=submit]")
    assert "Commentaire ajouté" in page.inner_text(".flash.success")
    assert "Le bail est joint" in page.inner_text("ol.thread")
    # The lease shows in the page, in the PDF viewer (painted black when headless: left closed here).
    preview = page.get_attribute("details.preview iframe", "src")
    answer = page.request.get(url + preview)
    assert answer.status == 200 and answer.headers["content-disposition"].startswith("inline")
    page.screenshot(path=str(SHOTS / "portal-work-dossier-documents-1440.png"), full_page=True)
    context.close()

    # The bailiff, on a phone: one line of header, cards, no sideways scrolling.
    bailiff_context, phone = new_page(browser, errors, PHONE)
    login(phone, url, "bailiff@example.test", entry="/portal/login")
    phone.wait_for_url(re.compile(r".*/portal/$"))
    assert header_on_one_line(phone) and no_horizontal_scroll(phone)
    card = phone.locator("table.inbox tbody tr").first
    assert card.evaluate("r => getComputedStyle(r).display") == "block"  # a card, not a table row
    assert "IMP-300" in card.inner_text() and "IMP-400" not in phone.content()
    phone.screenshot(path=str(SHOTS / "portal-work-home-390.png"), full_page=True)
    card.locator("a").click()
    phone.wait_for_url(re.compile(rf".*/portal/actions/{action}$"))
    assert "Signifiez le commandement de payer au locataire" in phone.inner_text(".instructions")
    facts = phone.inner_text(".facts")
    assert (
        "Locataire" in facts
        and "Mehdi Chaouch" in facts
        and "2\u202f450,50 €" in facts
        and "15/02/2027" in facts
    )
    assert "Commissaire de justice" in phone.inner_text("dl.action-summary")
    shared = phone.inner_text(".shared-documents")
    assert "bail.pdf" in shared and "note-interne.txt" not in phone.content()
    assert "Merci de signifier avant vendredi" in phone.inner_text(".thread-block")
    assert header_on_one_line(phone) and no_horizontal_scroll(phone)
    phone.screenshot(path=str(SHOTS / "portal-work-action-390.png"), full_page=True)

    # A photo and a message, without completing: the action stays to do, the photo shows in the page.
    phone.fill("#note", "Personne sur place, avis de passage déposé (photo).")
    phone.set_input_files(
        "#note-files", files=[{"name": "boite.png", "mimeType": "image/png", "buffer": png()}]
    )
    phone.click(".note-form button[type=submit]")
    assert "Elle reste à faire" in phone.inner_text(".flash.success")
    assert "boite.png" in phone.inner_text(".action-documents")
    phone.click(".action-documents details.preview >> summary")
    image = phone.locator(".action-documents details.preview img")
    image.wait_for()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") == 64
    assert "avis de passage" in phone.inner_text(".thread-block")
    assert phone.locator("form.complete").count() == 1 and no_horizontal_scroll(phone)
    phone.screenshot(path=str(SHOTS / "portal-work-note-390.png"), full_page=True)
    documents = [
        int(href.rsplit("/", 1)[1].split("?")[0])
        for href in phone.eval_on_selector_all(
            ".documents a[href*='/portal/documents/']", "links => links.map(a => a.getAttribute('href'))"
        )
    ]
    assert len(set(documents)) == 2

    # Later, it is done; the action stays readable from the list of what they completed.
    phone.fill("#comment", "Commandement signifié à étude.")
    phone.click("button[name=choice][value='done']")
    phone.wait_for_url(re.compile(r".*/portal/$"))
    assert "merci" in phone.inner_text(".flash.success")
    phone.click(".done-list a:has-text('Signifier le commandement de payer')")
    assert "Commandement signifié à étude." in phone.inner_text("dl.action-summary")
    assert phone.locator("form.complete").count() == 0 and "boite.png" in phone.content()
    phone.screenshot(path=str(SHOTS / "portal-work-done-390.png"), full_page=True)
    # Their notifications: a daily digest at 7 h.
    phone.click("header >> text=Notifications")
    phone.check("input[name=frequency][value=daily]")
    phone.select_option("#hour", "7")
    phone.click(".profile-form button[type=submit]")
    assert "enregistrées" in phone.inner_text(".flash.success")
    assert phone.is_checked("input[name=frequency][value=daily]") and no_horizontal_scroll(phone)
    phone.screenshot(path=str(SHOTS / "portal-work-profile-390.png"), full_page=True)
    bailiff_context.close()

    # The same page on a desktop screen.
    desk_context, desk = new_page(browser, errors, DESKTOP)
    login(desk, url, "bailiff@example.test", entry="/portal/login")
    desk.wait_for_url(re.compile(r".*/portal/$"))
    desk.goto(f"{url}/portal/actions/{action}")
    desk.screenshot(path=str(SHOTS / "portal-work-action-1440.png"), full_page=True)
    desk_context.close()

    # Another partner: every one of these addresses answers 404, as if it did not exist.
    other_context, other = new_page(browser, errors, PHONE)
    login(other, url, "otherbailiff@example.test", entry="/portal/login")
    other.wait_for_url(re.compile(r".*/portal/$"))
    token = other.get_attribute("meta[name=csrf-token]", "content")
    for path in (
        f"/portal/actions/{action}",
        *(f"/portal/documents/{d}" for d in documents),
        *(f"/portal/documents/{d}?preview=1" for d in documents),
        f"/dossiers/{dossier}",
    ):
        assert other.goto(url + path).status == 404, path
    for path, form in (
        (f"/portal/actions/{action}/notes", {"note": "intrusion"}),
        (f"/portal/actions/{action}/complete", {"choice": "done"}),
    ):
        answer = other.request.post(url + path, form={"csrf_token": token, **form})
        assert answer.status == 404, path
    other_context.close()
    assert not errors, errors
