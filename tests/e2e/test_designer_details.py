"""The designer's details an analyst trips on (issue: the modeler should feel finished), in Chromium on S2.

Each test names what it checks; screenshots of the timer panel, the problems panel, the simulation's end, the
visual diff and the publish confirmation go to test-artifacts/screenshots/ in French and English."""

import re

import pytest

from tests.e2e import test_designer as designer_tests
from tests.e2e.browser import serving
from tests.e2e.test_designer import (
    PASSWORD,
    ROOT,
    SHOTS,
    _now,
    _requirements,
    attr,
    big_diagram,
    click_element,
    context_pad,
    finish_direct_editing,
    ids_of,
    new_element,
    open_designer,
    panel_fill,
    problem_ids,
    settle,
)

pytestmark = pytest.mark.e2e
# Chromium and the signed-in analyst's page, on this module's server
browser = designer_tests.browser
page = designer_tests.page

S1 = ROOT / "web" / "demo_library" / "s1_relance_amiable.bpmn"
S2 = ROOT / "web" / "demo_library" / "s2_precontentieux.bpmn"
# What gives French away in a sentence meant to be English.
FRENCH = re.compile(r"[àâçéèêëîïôûùœ«»]|\b(ex|ou|une?|des|les|du|au|Ajouter|Attendre|Branches|séparés|Fin)\b")


DIFF_V1 = big_diagram(3).replace(b"big_200", b"diff_demo")
DIFF_V2 = (
    big_diagram(4)
    .replace(b"big_200", b"diff_demo")
    .replace(b'name="Action 2"', b'name="Action 2 : appeler le locataire"')
    .replace(
        b'<bpmn:userTask id="t0" name="Action 1"/>',
        b'<bpmn:userTask id="t0" name="Action 1" seq:due="P3W" seq:calendar="business"/>',
    )
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _requirements()
    from flask_migrate import upgrade
    from sqlalchemy import select

    from designer import services
    from kernel.accounts import User
    from runtime.actors import Actor, system
    from runtime.dossiers import add_participant, create_dossier
    from runtime.runs import launch_run
    from tests.factories import make_user
    from web import create_app
    from web.demo import ensure_templates
    from web.extensions import db

    path = tmp_path_factory.mktemp("e2e") / "details.db"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "EMBEDDED_WORKER": False,
            "SECRET_KEY": "e2e",
            "DESIGNER_AUTOSAVE_SECONDS": 1,
        }
    )
    with app.app_context():
        upgrade()
        make_user(db.session, name="analyst", role="analyst", password=PASSWORD)
        ensure_templates(db.session, system("test"), _now())
        services.save_draft(db.session, S2.read_bytes(), None, _now())
        services.save_draft(db.session, S1.read_bytes(), None, _now())
        db.session.commit()
        # a small sequence published, with two dossiers in progress on its version 1
        analyst = db.session.scalar(select(User).where(User.email == "analyst@example.test"))
        services.save_draft(db.session, big_diagram(3), analyst.id, _now())
        services.publish_version(db.session, "big_200", analyst.id, _now())
        actor = Actor(user_id=analyst.id)
        for reference in ("E2E-1", "E2E-2"):
            dossier = create_dossier(db.session, actor, reference, "Impayé", {}, _now())
            add_participant(
                db.session,
                dossier,
                actor,
                _now(),
                kind="internal",
                name="G",
                user_id=analyst.id,
                roles=["gestionnaire"],
            )
            launch_run(db.session, dossier.id, actor, _now(), sequence="big_200")
        db.session.commit()
        # two versions to compare: one more action, one renamed, a due date given
        services.save_draft(db.session, DIFF_V1, analyst.id, _now())
        services.publish_version(db.session, "diff_demo", analyst.id, _now())
        services.save_draft(db.session, DIFF_V2, analyst.id, _now(), replace=True)
        db.session.commit()
    with serving(app) as url:
        yield {"url": url, "app": app}


def shot(page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def open_s2(page, lang: str = "fr") -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    open_designer(page, f"/designer/sequences/precontentieux/edit?lang={lang}")


def show(page, element_id: str, dx: float | None = None) -> None:
    """Brings the element into view (S2 opens at a readable zoom, not all of it on screen) and selects it."""
    click_element(page, element_id, dx=dx)


def group_open(page, group_id: str) -> bool:
    header = page.locator(f"[data-group-id='group-{group_id}'] .bio-properties-panel-group-header")
    return "open" in (header.get_attribute("class") or "")


# --- 1. business days on a due date ----------------------------------------------------------------------


def test_business_days_typed_on_a_due_date_set_the_calendar(page):
    open_s2(page)
    show(page, "Rechercher_adresse")
    assert attr(page, "Rechercher_adresse", "seq:calendar") is None
    panel_fill(page, "seq-due", "10 jours ouvrés")
    settle(page)
    assert attr(page, "Rechercher_adresse", "seq:due") == "P10D"
    assert attr(page, "Rechercher_adresse", "seq:calendar") == "business"
    selected = page.eval_on_selector("#bio-properties-panel-seq-calendar", "s => s.value")
    assert selected == "business"
    assert "10 jours ouvrés" in page.inner_text("[data-entry-id='seq-due']")
    # in English too
    open_designer(page, "/designer/sequences/relance_amiable/edit?lang=en")
    show(page, "Suivre_relance")
    panel_fill(page, "seq-due", "10 working days")
    settle(page)
    assert attr(page, "Suivre_relance", "seq:due") == "P10D"
    assert attr(page, "Suivre_relance", "seq:calendar") == "business"
    assert "10 working days" in page.inner_text("[data-entry-id='seq-due']")


# --- 2. one editor for a timer, in the user's language ---------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_timer_has_one_editor_and_a_date_no_calendar(page, lang):
    open_designer(page, f"/designer/sequences/relance_amiable/edit?lang={lang}")
    show(page, "Relance_sans_reponse")
    page.wait_for_selector("[data-entry-id='seq-timer-value']")
    # the stock English "Timer" group (Type, Value) is gone: one field edits the delay, read in words
    assert page.locator("[data-group-id='group-timer']").count() == 0
    assert page.locator("#properties input[id$='timer-value']").count() == 1
    words = "3 semaines" if lang == "fr" else "3 weeks"
    assert words in page.inner_text("[data-entry-id='seq-timer-value']")
    assert page.locator("[data-entry-id='seq-timer-calendar']").count() == 1
    shot(page, f"timer-panel-{lang}")
    page.select_option("#bio-properties-panel-seq-timer-kind", "timeDate")
    page.wait_for_selector("[data-entry-id='seq-timer-calendar']", state="detached")
    # S2's six weeks are a date computed by an expression: no calendar is offered there either
    open_s2(page, lang)
    show(page, "Six_semaines")
    page.wait_for_selector("[data-entry-id='seq-timer-value']")
    assert page.locator("[data-group-id='group-timer']").count() == 0
    assert page.locator("[data-entry-id='seq-timer-calendar']").count() == 0


# --- 3. one problem count, one language, one list --------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_problems_are_counted_once_in_one_list(page, lang):
    open_s2(page, lang)
    show(page, "Rechercher_adresse")
    panel_fill(page, "seq-outcomes", "trouvee")
    show(page, "Lane_gestionnaire", dx=15)
    panel_fill(page, "seq-role", "")
    settle(page)
    page.wait_for_function("() => document.querySelectorAll('#problem-list li').length > 0")
    # no second counter (bpmnlint's "0 Errors, 1 Warnings" in English)
    assert page.locator(".bjsl-button").count() == 0
    assert page.locator(".bjsl-overlay").count() == 0
    listed = page.locator("#problem-list li").count()
    summary = page.inner_text("#problems-summary")
    expected = f"{listed} problème(s) à corriger" if lang == "fr" else f"{listed} problem(s) to fix"
    assert summary == expected, summary
    assert not re.search(r"\b(Errors?|Warnings?)\b", page.inner_text("#designer"))
    marked = page.locator(".djs-overlay .seq-issue").count()
    assert marked == len(set(problem_ids(page)))
    # each problem names its element as drawn; a click selects it
    assert page.inner_text("#problem-list li[data-element-id='Lane_gestionnaire'] button") == "Gestionnaire"
    shot(page, f"problems-panel-{lang}", full_page=True)


# --- 4. groups open, headers in the user's language ------------------------------------------------------


def test_properties_groups_start_open_with_french_headers(page):
    open_s2(page)
    show(page, "Mandater_commissaire")
    page.wait_for_selector("[data-group-id='group-sequence']")
    assert group_open(page, "sequence") and group_open(page, "general")
    assert page.is_visible("#bio-properties-panel-seq-due")
    header = page.inner_text(".bio-properties-panel-header-type").strip().lower()
    assert header == "action", header
    show(page, "Six_semaines")
    page.wait_for_selector("[data-entry-id='seq-timer-value']")
    header = page.inner_text(".bio-properties-panel-header-type").strip().lower()
    assert header == "attente d'un délai", header


# --- 5. a gateway appended from the context pad is named at once -----------------------------------------


def test_a_gateway_appended_from_the_context_pad_is_put_into_name_editing(page):
    open_s2(page)
    before = set(ids_of(page, "bpmn:ExclusiveGateway"))
    show(page, "Rechercher_adresse")
    context_pad(page, "append.gateway")
    page.wait_for_selector(".djs-direct-editing-parent", state="visible", timeout=5000)
    created = new_element(page, before, "bpmn:ExclusiveGateway")
    finish_direct_editing(page, "Adresse trouvée ?")
    settle(page)
    assert attr(page, created, "name") == "Adresse trouvée ?"


# --- 7. a readable zoom, the start in view, an overview control ------------------------------------------


def test_s2_opens_readable_with_its_start_in_view_and_an_overview(page):
    open_s2(page)
    zoom = page.evaluate("window.seqDesigner.modeler.get('canvas').zoom()")
    assert zoom >= 0.8, zoom
    canvas = page.locator("#canvas").bounding_box()
    start = page.locator(".djs-element[data-element-id='Debut']").bounding_box()
    assert canvas["x"] + 100 <= start["x"] and start["x"] + start["width"] <= canvas["x"] + canvas["width"]
    assert canvas["y"] <= start["y"] and start["y"] + start["height"] <= canvas["y"] + canvas["height"]
    shot(page, "s2-opened-fr")
    page.click("#btn-overview")
    whole = page.evaluate("window.seqDesigner.modeler.get('canvas').viewbox()")
    assert whole["scale"] < zoom
    inner, outer = whole["inner"], whole["outer"]
    assert inner["width"] * whole["scale"] <= outer["width"] + 1
    page.click("#btn-zoom-in")
    assert page.evaluate("window.seqDesigner.modeler.get('canvas').zoom()") > whole["scale"]


# --- 12. English mode is English -------------------------------------------------------------------------


def test_english_mode_has_no_french_in_palette_context_pad_and_hints(page):
    open_s2(page, "en")
    titles = page.eval_on_selector_all(".djs-palette .entry[aria-label]", "es => es.map(e => e.ariaLabel)")
    show(page, "Rechercher_adresse")
    titles += page.eval_on_selector_all(".djs-context-pad .entry[title]", "es => es.map(e => e.title)")
    hints = page.eval_on_selector_all(".bio-properties-panel-description", "es => es.map(e => e.textContent)")
    show(page, "Six_semaines")
    page.wait_for_selector("[data-entry-id='seq-timer-value']")
    hints += page.eval_on_selector_all(
        ".bio-properties-panel-description", "es => es.map(e => e.textContent)"
    )
    show(page, "Lane_gestionnaire", dx=15)
    page.wait_for_selector("[data-entry-id='seq-role']")
    hints += page.eval_on_selector_all(
        ".bio-properties-panel-description", "es => es.map(e => e.textContent)"
    )
    controls = page.eval_on_selector_all(".seq-view-controls button", "es => es.map(e => e.title)")
    controls.append(page.inner_text("header button[type=submit]"))  # the page around the editor too
    assert len(titles) > 15 and len(hints) > 4
    french = [t for t in titles + hints + controls if FRENCH.search(t)]
    assert not french, french


# --- 6. the simulation speaks in names and words ---------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_simulation_shows_names_and_words_not_ids_and_codes(page, lang):
    open_designer(page, f"/designer/sequences/relance_amiable/edit?lang={lang}")
    page.click("#btn-simulate")
    page.click(".sim-choices li[data-element-id='Relance_locataire'] .sim-complete")
    row = ".sim-choices li[data-element-id='Suivre_relance']"
    page.wait_for_selector(row)
    task, manager = ("Tâche", "Gestionnaire") if lang == "fr" else ("Task", "Gestionnaire")
    assert f"({task}, {manager})" in page.inner_text(f"{row} strong")
    statuses = page.eval_on_selector(
        f"{row} select[id^='sim-status']", "s => [...s.options].map(o => o.text)"
    )
    assert statuses == (["fait", "annulé", "sauté"] if lang == "fr" else ["done", "cancelled", "skipped"])
    timer = ".sim-choices li[data-element-id='Relance_sans_reponse']"
    # the timer's symbol is the diagram font's, not a character this machine may not have
    assert page.locator(f"{timer} .bpmn-icon-intermediate-event-catch-timer").count() == 1
    assert "⏱" not in page.inner_text(timer)
    page.click(f"{timer} .sim-fire")
    page.click(".sim-choices li[data-element-id='Mise_en_demeure'] .sim-complete")
    page.click(".sim-choices li[data-element-id='Mise_en_demeure_expiree'] .sim-fire")
    page.wait_for_selector(".sim-ended")
    ended = page.inner_text(".sim-ended")
    assert "Vers le précontentieux" in ended and "End_" not in ended
    history = page.inner_text(".sim-history")
    assert not re.search(r"\bP\d+[DWMY]\b|\b(done|task)\b" if lang == "fr" else r"\bP\d+[DWMY]\b", history)
    assert ("3 semaines" if lang == "fr" else "3 weeks") in history
    if lang == "en":
        assert "Sequence ended." in history
    page.locator("#simulation").scroll_into_view_if_needed()
    shot(page, f"simulation-end-{lang}")


# --- 11. a file that cannot be read is explained in the page's language, with its line -------------------

TRUNCATED = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D">
  <bpmn:process id="p" isExecutable="true">
</bpmn:definitions>"""


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_file_that_cannot_be_drawn_is_explained_with_its_line(page, tmp_path, lang):
    open_designer(page, f"/designer/sequences/relance_amiable/edit?lang={lang}")
    for name, data, line in (("tronque.bpmn", TRUNCATED, 4), ("notes.bpmn", b"Mes notes sur S2", 1)):
        path = tmp_path / name
        path.write_bytes(data)
        page.evaluate("document.querySelector('#designer-status').textContent = ''")
        page.set_input_files("#file-open", str(path))
        page.wait_for_function("() => document.querySelector('#designer-status').textContent !== ''")
        said = page.inner_text("#designer-status")
        assert (f"ligne {line}" if lang == "fr" else f"line {line}") in said, said
        assert not re.search(r"unparsable|detected|nested error|missing start tag|mismatch", said), said
        if lang == "en":
            assert not FRENCH.search(said), said
    # the analyst's diagram is still there
    assert "Suivre_relance" in ids_of(page, "bpmn:UserTask")


# --- 8. Ctrl+S, autosave kept in the history, the draft's state at the top -------------------------------


def drafts_count(page, key: str) -> int:
    return page.evaluate(
        """async key => (await (await fetch(`/api/v1/sequences/${key}/drafts`)).json()).length""", key
    )


def rename(page, element_id: str, name: str) -> None:
    show(page, element_id)
    panel_fill(page, "name", name)


def test_ctrl_s_saves_the_draft_autosave_keeps_it_in_history_and_the_top_says_its_state(page):
    open_designer(page, "/designer/sequences/relance_amiable/edit")
    top = page.inner_text("#draft-state")
    assert top.startswith("Brouillon modifié le ") and "jamais publiée" in top, top
    before = drafts_count(page, "relance_amiable")
    rename(page, "Suivre_relance", "Appeler le locataire (1)")
    assert "modifications non enregistrées" in page.inner_text("#draft-state")
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !window.seqDesigner.dirty()")
    assert page.inner_text("#designer-status") == "Brouillon enregistré."
    assert drafts_count(page, "relance_amiable") == before + 1
    # two changes saved by themselves, a second apart: one more entry in the history, not two
    for n in (2, 3):
        rename(page, "Suivre_relance", f"Appeler le locataire ({n})")
        page.wait_for_function(
            "() => !window.seqDesigner.dirty() && !window.seqDesigner.autosavePending()", timeout=15000
        )
        assert page.inner_text("#designer-status") == "Brouillon enregistré automatiquement."
    assert drafts_count(page, "relance_amiable") == before + 2
    top = page.inner_text("#draft-state")
    assert "modifications non enregistrées" not in top and "Brouillon modifié le" in top
    shot(page, "draft-state-fr")
    page.goto(page.base + "/designer/sequences/relance_amiable/drafts")
    assert page.locator("#drafts tr.current .autosaved").count() == 1
    open_designer(page, "/designer/sequences/relance_amiable/edit")
    assert attr(page, "Suivre_relance", "name") == "Appeler le locataire (3)"


# --- 9. publishing asks, with the impact and a release note ------------------------------------------


def test_publishing_asks_with_the_impact_and_keeps_the_release_note(page):
    open_designer(page, "/designer/sequences/big_200/edit")
    assert "version publiée : 1" in page.inner_text("#draft-state") or "identique" in page.inner_text(
        "#draft-state"
    )
    task = "t0"
    rename(page, task, "Vérifier l'échéance du mois")
    settle(page)
    assert problem_ids(page) == [], page.inner_text("#problem-list")
    page.click("#btn-publish")
    page.wait_for_selector("#publish-dialog[open]")
    assert page.inner_text("#publish-title") == "Publier la version 2 ?"
    impact = page.inner_text("#publish-impact")
    assert "2 dossier(s) en cours sur des versions antérieures (v1 : 2)" in impact, impact
    page.fill("#release-note", "Libellé de la vérification mensuelle précisé.")
    page.set_viewport_size({"width": 1440, "height": 900})
    shot(page, "publish-confirmation-fr")
    page.click("#publish-confirm")
    page.wait_for_function(
        "() => /publiée|refusée/.test(document.querySelector('#designer-status').textContent)"
    )
    # The dossiers still on version 1 can be moved from here: a link to that version's migration plan.
    assert page.inner_text("#designer-status") == "Version 2 publiée. Migrer les 2 dossier(s) de la version 1"
    link = page.get_attribute("#designer-status a.migrate-link", "href")
    assert link == "/designer/sequences/big_200/versions/1/migrate"
    assert page.inner_text("#draft-state") == "Brouillon identique à la version publiée 2"
    page.goto(page.base + "/designer/sequences/big_200/versions/2")
    assert "Libellé de la vérification mensuelle précisé." in page.inner_text("#release-note")
    # in English; cancelling publishes nothing
    open_designer(page, "/designer/sequences/big_200/edit?lang=en")
    rename(page, task, "Check the month's installment")
    settle(page)
    page.click("#btn-publish")
    page.wait_for_selector("#publish-dialog[open]")
    assert page.inner_text("#publish-title") == "Publish version 3?"
    assert "2 case(s) in progress on earlier versions (v1: 2)" in page.inner_text("#publish-impact")
    shot(page, "publish-confirmation-en")
    page.click("#publish-cancel")
    page.wait_for_function("() => /cancelled/.test(document.querySelector('#designer-status').textContent)")
    answer = page.evaluate(
        "async () => (await (await fetch('/api/v1/sequences/big_200')).json()).latest_version"
    )
    assert answer == 2
    open_designer(page, "/designer/sequences/big_200/edit?lang=fr")


# --- 10. the diff shows both diagrams coloured and the changes in words -----------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_diff_colours_both_diagrams_and_says_the_changes_in_words(page, lang):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(page.base + f"/designer/sequences/diff_demo/diff?from=1&to=draft&lang={lang}")
    page.wait_for_selector("#viewer-from[data-ready='1']")
    page.wait_for_selector("#viewer-to[data-ready='1']")
    said = {
        row["id"]: row["text"]
        for row in page.eval_on_selector_all(
            ".diff-list li", "ls => ls.map(l => ({id: l.dataset.elementId, text: l.textContent.trim()}))"
        )
    }
    if lang == "fr":
        assert said["t3"] == "Ajout : Action « Action 4 »"
        assert said["t0"] == "Action « Action 1 » : calendrier : jours ouvrés ; échéance : 3 semaines ouvrées"
        assert (
            said["t1"]
            == "Action « Action 2 : appeler le locataire » : nom : « Action 2 » → « Action 2 : appeler le "
            "locataire »"
        )
        assert said["f_t2_end"] == "Suppression : Flux « Action 3 » → « Fin »"
    else:
        assert said["t3"] == "Added: Action “Action 4”"
        assert said["t0"] == "Action “Action 1”: calendar: working days; due: 3 working weeks"
    assert not [t for t in said.values() if re.search(r"seq:|Definition|/|@|\bP\d+[DW]\b", t)], said
    # added and changed on the later diagram, removed and changed on the earlier one
    to, before = "#viewer-to .djs-element", "#viewer-from .djs-element"
    assert page.locator(f"{to}.seq-diff-added[data-element-id='t3']").count() == 1
    assert page.locator(f"{to}.seq-diff-changed[data-element-id='t1']").count() == 1
    assert page.locator(f"{before}.seq-diff-removed[data-element-id='f_t2_end']").count() == 1
    assert page.locator(f"{before}.seq-diff-changed[data-element-id='t1']").count() == 1
    assert page.locator(f"{before}.seq-diff-added").count() == 0
    shot(page, f"visual-diff-{lang}", full_page=True)
