"""The designer in Chromium: draw, check, fix, publish, reopen, import third-party files, measure.

A real server (werkzeug, in a thread) on a migrated temporary SQLite database, real CSRF, the built bundle."""

import json
import re
import time
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM, chromium, serving

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "static" / "dist" / "modeler.js"
ARTIFACTS = ROOT / "test-artifacts"
SHOTS = ARTIFACTS / "screenshots"
CORPUS = ROOT.parent / "shared" / "corpus"
PASSWORD = "correct horse"

pytestmark = pytest.mark.e2e


def _requirements() -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed")
    if not BUNDLE.exists():
        pytest.skip("front-end bundle not built (npm run build)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _requirements()
    from flask_migrate import upgrade

    from tests.factories import make_user
    from web import create_app
    from web.extensions import db

    path = tmp_path_factory.mktemp("e2e") / "kernel.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "EMBEDDED_WORKER": False, "SECRET_KEY": "e2e"})
    with app.app_context():
        upgrade()
        make_user(db.session, name="analyst", role="analyst", password=PASSWORD)
        db.session.commit()
    with serving(app) as url:
        yield {"url": url, "app": app}


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1500, "height": 950}, locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(server["url"] + "/login")
    page.fill("#email", "analyst@example.test")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/designer/$"))  # where an analyst starts
    page.base = server["url"]
    yield page
    context.close()
    assert not errors, errors


# --- helpers ----------------------------------------------------------------------------------------------


def open_designer(page, path: str) -> None:
    page.goto(page.base + path)
    page.wait_for_selector("#designer[data-ready='1']", timeout=30000)
    settle(page)


def settle(page) -> None:
    """Waits for the panel's debounced input and the debounced server validation to finish."""
    page.wait_for_timeout(450)
    page.wait_for_function("() => window.seqDesigner && window.seqDesigner.idle()", timeout=30000)


def ids_of(page, bpmn_type: str) -> list[str]:
    return page.evaluate(
        """t => window.seqDesigner.modeler.get('elementRegistry')
        .filter(e => e.type === t && !e.labelTarget).map(e => e.id)""",
        bpmn_type,
    )


def attr(page, element_id: str, name: str):
    return page.evaluate(
        """([id, name]) => {
        const e = window.seqDesigner.modeler.get('elementRegistry').get(id);
        return e ? (e.businessObject.get(name) ?? null) : null; }""",
        [element_id, name],
    )


def box(page, element_id: str) -> dict:
    found = page.locator(f".djs-element[data-element-id='{element_id}']").first.bounding_box()
    assert found, element_id
    return found


SELECTED = (
    "id => window.seqDesigner.modeler.get('selection').isSelected("
    "window.seqDesigner.modeler.get('elementRegistry').get(id))"
)


# Brings an element into view when it is not (a long diagram opens at a readable zoom, not all on screen).
IN_VIEW = """id => { const m = window.seqDesigner.modeler; const canvas = m.get('canvas');
    const e = m.get('elementRegistry').get(id); const v = canvas.viewbox();
    const inside = e.x >= v.x && e.y >= v.y && e.x + (e.width || 0) <= v.x + v.width - 40
      && e.y + (e.height || 0) <= v.y + v.height - 40;
    if (!inside) canvas.scrollToElement(e, { top: 150, bottom: 150, left: 250, right: 250 }); }"""


def click_element(page, element_id: str, dx: float | None = None, dy: float | None = None) -> None:
    if page.evaluate(SELECTED, element_id):
        return  # a second click on a selected shape would start other gestures
    page.evaluate(IN_VIEW, element_id)
    b = box(page, element_id)
    x = b["x"] + (dx if dx is not None else b["width"] / 2)
    page.mouse.click(x, b["y"] + (dy if dy is not None else b["height"] / 2))
    try:
        page.wait_for_function(SELECTED, arg=element_id, timeout=5000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"failure-select-{element_id}.png"))
        raise


def context_pad(page, action: str) -> None:
    page.click(f".djs-context-pad [data-action='{action}']")


def new_element(page, before: set[str], bpmn_type: str) -> str:
    created = [i for i in ids_of(page, bpmn_type) if i not in before]
    assert len(created) == 1, (bpmn_type, created)
    return created[0]


def finish_direct_editing(page, text: str | None = None) -> None:
    editor = page.locator(".djs-direct-editing-parent")
    if editor.is_visible():
        if text:
            page.keyboard.type(text)
        # A click on the empty canvas ends label editing (Escape would cancel it).
        canvas = page.locator("#canvas").bounding_box()
        page.mouse.click(canvas["x"] + 300, canvas["y"] + 30)


def deselect(page) -> None:
    page.keyboard.press("Escape")
    canvas = page.locator("#canvas").bounding_box()
    page.mouse.click(canvas["x"] + 300, canvas["y"] + 30)


def open_group(page, label: str = "Séquence") -> None:
    header = page.locator(".bio-properties-panel-group-header", has_text=label).first
    try:
        header.wait_for(timeout=5000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "failure-open-group.png"))
        raise
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def panel_fill(page, entry: str, value: str) -> None:
    """Types into a panel field and leaves it, as a person does (leaving commits at once)."""
    field = f"#bio-properties-panel-{entry}"
    page.fill(field, value)
    page.press(field, "Tab")


def problem_ids(page) -> list[str]:
    return page.eval_on_selector_all("#problem-list li", "items => items.map(i => i.dataset.elementId)")


def problems_text(page) -> str:
    return page.inner_text("#problem-list")


def wait_status(page, pattern: str) -> None:
    page.wait_for_function(
        "p => new RegExp(p).test(document.querySelector('#designer-status').textContent)", arg=pattern
    )


def confirm_publish(page) -> None:
    """Publishing asks first (the impact, a release note): the analyst confirms."""
    page.wait_for_selector("#publish-dialog[open]")
    page.click("#publish-confirm")


def status(page) -> str:
    return page.inner_text("#designer-status")


# --- tests ------------------------------------------------------------------------------------------------


def test_draw_check_fix_publish_and_reopen(page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    open_designer(page, "/designer/new?key=e2e_relance&name=Relance+e2e")
    assert page.evaluate("window.seqDesigner.dirty()")
    start = ids_of(page, "bpmn:StartEvent")[0]
    lane = ids_of(page, "bpmn:Lane")[0]
    assert attr(page, lane, "seq:role") == "gestionnaire"

    # start → action (context pad), named by typing, outcomes in the "Séquence" panel group
    click_element(page, start)
    before = set(ids_of(page, "bpmn:UserTask"))
    context_pad(page, "append.append-task")
    task = new_element(page, before, "bpmn:UserTask")
    finish_direct_editing(page, "Appeler le locataire")
    click_element(page, task)
    open_group(page)
    page.select_option("#bio-properties-panel-seq-action", "reminder")
    panel_fill(page, "seq-outcomes", "paid, no_answer")
    panel_fill(page, "seq-due", "8 jours")
    settle(page)
    assert attr(page, task, "seq:outcomes") == "paid,no_answer"
    assert attr(page, task, "seq:due") == "P8D"

    # action → exclusive gateway → end "Payé"
    before = set(ids_of(page, "bpmn:ExclusiveGateway"))
    context_pad(page, "append.gateway")
    gateway = new_element(page, before, "bpmn:ExclusiveGateway")
    finish_direct_editing(page)
    click_element(page, gateway)
    before = set(ids_of(page, "bpmn:EndEvent"))
    context_pad(page, "append.end-event")
    paid_end = new_element(page, before, "bpmn:EndEvent")
    finish_direct_editing(page)

    # a timer from the palette, below the gateway, connected with the connect tool
    g = box(page, gateway)
    before = set(ids_of(page, "bpmn:IntermediateCatchEvent"))
    page.click(".djs-palette [data-action='create.timer-catch']")
    page.mouse.move(g["x"] + 140, g["y"] + 90)
    page.mouse.click(g["x"] + 140, g["y"] + 90)
    timer = new_element(page, before, "bpmn:IntermediateCatchEvent")
    finish_direct_editing(page)
    click_element(page, gateway)
    context_pad(page, "connect")
    t = box(page, timer)
    # Ends on the timer's left half: the new flow's context pad appears on its right half.
    page.mouse.move(t["x"] + 14, t["y"] + t["height"] / 2)
    page.mouse.click(t["x"] + 14, t["y"] + t["height"] / 2)
    deselect(page)
    click_element(page, timer, dy=11)  # its top: the new flow ends on its left, its context pad on its right
    before = set(ids_of(page, "bpmn:EndEvent"))
    context_pad(page, "append.end-event")
    late_end = new_element(page, before, "bpmn:EndEvent")
    finish_direct_editing(page)

    # a second lane, for the bailiff
    participant = ids_of(page, "bpmn:Participant")[0]
    click_element(page, participant, dx=12)
    before = set(ids_of(page, "bpmn:Lane"))
    context_pad(page, "lane-insert-below")
    bailiff = new_element(page, before, "bpmn:Lane")
    finish_direct_editing(page, "Commissaire de justice")
    click_element(page, bailiff, dx=12)
    open_group(page)
    panel_fill(page, "seq-role", "commissaire_justice")
    page.select_option("#bio-properties-panel-seq-roleKind", "partner")
    settle(page)
    assert attr(page, bailiff, "seq:roleKind") == "partner"

    # the server's problems: branches without condition, a timer without delay
    flows = page.evaluate(
        """g => window.seqDesigner.modeler.get('elementRegistry').get(g)
        .outgoing.map(f => [f.id, f.target.id])""",
        gateway,
    )
    to_paid = next(f for f, target in flows if target == paid_end)
    to_timer = next(f for f, target in flows if target == timer)
    listed = problem_ids(page)
    assert timer in listed, problems_text(page)
    assert page.locator(f".djs-element.seq-problem[data-element-id='{timer}']").count() == 1
    page.locator(f".djs-overlay .seq-issue[data-element-id='{timer}']").hover()
    page.screenshot(path=str(SHOTS / "diagram-with-problems.png"))

    # fixes through the panel, reaching each element from the problem list or the diagram
    click_element(page, timer)
    open_group(page)
    panel_fill(page, "seq-timer-value", "15 jours")
    settle(page)
    assert (
        page.evaluate(
            """id => window.seqDesigner.modeler.get('elementRegistry').get(id).businessObject
        .eventDefinitions[0].timeDuration.body""",
            timer,
        )
        == "P15D"
    )
    for flow, condition in ((to_paid, 'outcome == "paid"'), (to_timer, 'outcome == "no_answer"')):
        page.evaluate(
            """id => { const m = window.seqDesigner.modeler;
            const e = m.get('elementRegistry').get(id); m.get('selection').select(e); }""",
            flow,
        )
        open_group(page)
        page.select_option("#bio-properties-panel-seq-condition-choice", condition)
        settle(page)
        assert (
            page.evaluate(
                """id => window.seqDesigner.modeler.get('elementRegistry').get(id)
            .businessObject.conditionExpression.body""",
                flow,
            )
            == condition
        )
    assert timer not in problem_ids(page), problems_text(page)
    assert late_end  # drawn: the path after the timer ends
    page.screenshot(path=str(SHOTS / "modeler.png"))

    # save, publish (the list must be empty by now), reopen
    page.click("#btn-save")
    wait_status(page, "enregistré")
    assert "/designer/sequences/e2e_relance/edit" in page.url
    page.click("#btn-publish")
    confirm_publish(page)
    wait_status(page, "publiée|refusée")
    assert "Version 1 publiée" in status(page), problems_text(page)
    assert not page.evaluate("window.seqDesigner.dirty()")

    open_designer(page, "/designer/sequences/e2e_relance/edit")
    assert attr(page, task, "seq:outcomes") == "paid,no_answer"
    assert attr(page, bailiff, "seq:role") == "commissaire_justice"
    assert page.inner_text("#problems-summary") == "Aucun problème détecté."

    page.goto(page.base + "/designer/sequences/e2e_relance/versions/1")
    page.wait_for_selector("#viewer[data-ready='1']")
    assert page.locator(f"#viewer .djs-element[data-element-id='{task}']").count() == 1


def test_publish_is_refused_with_the_problems_listed(page):
    open_designer(page, "/designer/new?key=e2e_refused&name=Refus")
    start = ids_of(page, "bpmn:StartEvent")[0]
    click_element(page, start)
    context_pad(page, "append.append-task")
    finish_direct_editing(page, "Sans rôle")
    lane = ids_of(page, "bpmn:Lane")[0]
    click_element(page, lane, dx=12)
    open_group(page)
    panel_fill(page, "seq-role", "")
    settle(page)
    page.click("#btn-publish")
    wait_status(page, "publiée|refusée")
    assert "Publication refusée" in status(page)
    assert page.locator("#problem-list li").count() >= 1
    # the diagram is still there, with its work
    assert len(ids_of(page, "bpmn:UserTask")) == 1


def test_a_diagram_that_cannot_be_written_is_kept_and_explained(page):
    open_designer(page, "/designer/new?key=e2e_broken&name=Cassé")
    start = ids_of(page, "bpmn:StartEvent")[0]
    # What some Signavio exports carry: an extension element whose prefix has no namespace declaration.
    error = page.evaluate(
        """async id => {
        const m = window.seqDesigner.modeler; const moddle = m.get('moddle');
        const meta = moddle.createAny('signavio:signavioMetaData', undefined, { metaKey: 'bgcolor' });
        m.get('elementRegistry').get(id).businessObject.extensionElements =
            moddle.create('bpmn:ExtensionElements', { values: [meta] });
        try { await m.saveXML(); return null; } catch (e) { return e.message; } }""",
        start,
    )
    assert error and "no namespace uri given for prefix" in error
    page.click("#btn-save")
    wait_status(page, "pas pu être converti")
    assert "préfixe d'espace de noms" in status(page)
    assert ids_of(page, "bpmn:StartEvent") == [start]
    assert page.evaluate("window.seqDesigner.dirty()")


def test_import_camunda_modeler_file_fix_and_publish(page):
    source = CORPUS / "camunda" / "bpm-examples" / "usertask_task-form-embedded__loanApproval.bpmn"
    if not source.exists():
        pytest.skip("third-party corpus (../shared/corpus) not present")
    open_designer(page, "/designer/new?key=placeholder&name=Import")
    page.set_input_files("#file-open", str(source))
    wait_status(page, "ouvert|dessiné")
    settle(page)
    task = "UserTask_1"
    assert task in problem_ids(page), problems_text(page)

    # the action must sit in a lane: wrap the process in a pool, split it in lanes, give them roles
    t = box(page, task)
    page.click(".djs-palette [data-action='create.participant-expanded']")
    page.mouse.move(t["x"] + 40, t["y"] + 40)
    page.mouse.click(t["x"] + 40, t["y"] + 40)
    finish_direct_editing(page, "Prêts")
    participant = ids_of(page, "bpmn:Participant")[0]
    click_element(page, participant, dx=12)
    context_pad(page, "lane-divide-two")
    settle(page)
    lanes = ids_of(page, "bpmn:Lane")
    assert len(lanes) == 2
    for lane, role in zip(lanes, ("gestionnaire", "analyste_credit"), strict=True):
        click_element(page, lane, dx=12)
        open_group(page)
        panel_fill(page, "seq-role", role)
        settle(page)
    # the process itself must stay executable (it was in the Camunda file)
    assert page.evaluate("""() => window.seqDesigner.modeler.get('elementRegistry')
        .filter(e => e.type === 'bpmn:Participant')[0].businessObject.processRef.isExecutable""")
    assert problem_ids(page) == [], problems_text(page)
    page.click("#btn-publish")
    confirm_publish(page)
    wait_status(page, "publiée|refusée")
    assert "Version 1 publiée" in status(page), problems_text(page)


SAVE_FAILS = """async () => {
    try { await window.seqDesigner.modeler.saveXML(); return false; } catch (error) { return true; } }"""


def test_every_corpus_file_is_drawn_or_explained(page):
    if not CORPUS.exists():
        pytest.skip("third-party corpus (../shared/corpus) not present")
    files = sorted(p for p in CORPUS.rglob("*.bpmn"))
    open_designer(page, "/designer/new?key=corpus&name=Corpus")
    drawn, explained, unsaveable = [], {}, []
    for path in files:
        page.evaluate("document.querySelector('#designer-status').textContent = ''")
        page.set_input_files("#file-open", str(path))
        page.wait_for_function("() => document.querySelector('#designer-status').textContent !== ''")
        text = status(page)
        if "ne peut pas être dessiné" in text:
            explained[path.name] = text
        else:
            assert "ouvert" in text or "avertissement" in text, (path, text)
            drawn.append(path.name)
            if page.evaluate(SAVE_FAILS):
                # Saving must say why and keep the diagram on screen (never lose work).
                shown = len(ids_of(page, "bpmn:SequenceFlow"))
                page.click("#btn-save")
                wait_status(page, "pas pu être converti")
                assert len(ids_of(page, "bpmn:SequenceFlow")) == shown
                unsaveable.append(path.name)
    print(f"\ncorpus: {len(drawn)} drawn, {len(explained)} explained; saving explained for {unsaveable}")
    for name, text in explained.items():
        print(f"  {name}: {text[:160]}")
    assert len(drawn) > len(explained)
    assert all(CORPUS.name not in t for t in explained.values())


def test_simulation_walks_the_paths_on_the_engine(page, server):
    from designer import services
    from web.extensions import db

    with server["app"].app_context():
        data = (ROOT / "tests" / "data" / "bpmn" / "valid" / "relance.bpmn").read_bytes()
        services.save_draft(db.session, data, None, _now())
        db.session.commit()
    open_designer(page, "/designer/sequences/relance_amiable/edit")
    page.click("#btn-simulate")
    page.wait_for_selector(".sim-choices li[data-element-id='Task_relancer']")
    assert page.locator(".djs-element.seq-active[data-element-id='Task_relancer']").count() == 1
    # the 15-day timer on the reminder fires: the formal notice is due
    page.click(".sim-choices li[data-element-id='Timer_sans_reponse'] .sim-fire")
    page.wait_for_selector(".sim-choices li[data-element-id='Send_mise_en_demeure']")
    assert page.locator(".djs-element.seq-active[data-element-id='Task_relancer']").count() == 0
    page.screenshot(path=str(SHOTS / "simulation.png"))
    page.click(".sim-choices li[data-element-id='Send_mise_en_demeure'] .sim-complete")
    page.wait_for_selector(".sim-ended")
    assert "Mise en demeure envoyée" in page.inner_text(".sim-ended")  # the end's name, not its id
    # one step back, another path: the reminder answered "paid"
    page.click("#simulation button:has-text('Annuler la dernière étape')")
    page.wait_for_selector(".sim-choices li[data-element-id='Send_mise_en_demeure']")
    page.click("#simulation button:has-text('Annuler la dernière étape')")
    page.wait_for_selector(".sim-choices li[data-element-id='Task_relancer']")
    page.select_option(".sim-choices li[data-element-id='Task_relancer'] select[id^='sim-outcome']", "paid")
    page.click(".sim-choices li[data-element-id='Task_relancer'] .sim-complete")
    page.wait_for_selector(".sim-ended")
    assert "Payé" in page.inner_text(".sim-ended")


def test_time_to_interactive_with_200_elements(page, server):
    from designer import services
    from web.extensions import db

    with server["app"].app_context():
        services.save_draft(db.session, big_diagram(99), None, _now())
        db.session.commit()
    started = time.perf_counter()
    open_designer(page, "/designer/sequences/big_200/edit")
    wall = time.perf_counter() - started
    count = page.evaluate(
        "window.seqDesigner.modeler.get('elementRegistry').filter(e => !e.labelTarget).length"
    )
    interactive = page.evaluate("performance.getEntriesByName('designer-interactive')[0].startTime")
    metrics = {
        "designer_time_to_interactive_ms": round(interactive),
        "elements": count,
        "wall_clock_until_validated_s": round(wall, 2),
    }
    print(f"\ntime to interactive for {count} elements: {interactive:.0f} ms ({metrics})")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "metrics.json"
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing.update(metrics)
    path.write_text(json.dumps(existing, indent=2))
    assert count >= 200


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def big_diagram(tasks: int) -> bytes:
    """start → `tasks` user tasks → end in one lane, laid out in rows of ten: 2·tasks + 5 elements."""
    nodes = (
        [("start", "startEvent", 36, 36)]
        + [(f"t{i}", "userTask", 100, 80) for i in range(tasks)]
        + [("end", "endEvent", 36, 36)]
    )
    process, shapes, edges = [], [], []
    place = {}
    for index, (node_id, tag, w, h) in enumerate(nodes):
        x, y = 200 + (index % 10) * 160, 100 + (index // 10) * 140
        place[node_id] = (x, y, w, h)
        name = f' name="Action {index}"' if tag == "userTask" else ""
        process.append(f'<bpmn:{tag} id="{node_id}"{name}/>')
        shapes.append(
            f'<bpmndi:BPMNShape id="{node_id}_di" bpmnElement="{node_id}">'
            f'<dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}"/></bpmndi:BPMNShape>'
        )
    for (a, *_), (b, *_) in zip(nodes, nodes[1:], strict=False):
        ax, ay, aw, ah = place[a]
        bx, by, bw, bh = place[b]
        process.append(f'<bpmn:sequenceFlow id="f_{a}_{b}" sourceRef="{a}" targetRef="{b}"/>')
        edges.append(
            f'<bpmndi:BPMNEdge id="f_{a}_{b}_di" bpmnElement="f_{a}_{b}">'
            f'<di:waypoint x="{ax + aw}" y="{ay + ah // 2}"/>'
            f'<di:waypoint x="{bx}" y="{by + bh // 2}"/>'
            f"</bpmndi:BPMNEdge>"
        )
    refs = "".join(f"<bpmn:flowNodeRef>{n[0]}</bpmn:flowNodeRef>" for n in nodes)
    height = 140 * (len(nodes) // 10 + 1) + 60
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
 xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
 xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:seq="urn:sequences:bpmn:1"
 id="Defs" targetNamespace="urn:x">
 <bpmn:collaboration id="Collab">
  <bpmn:participant id="Pool" name="Grande" processRef="big_200"/></bpmn:collaboration>
 <bpmn:process id="big_200" name="Grande séquence" isExecutable="true">
  <bpmn:laneSet id="LS">
   <bpmn:lane id="Lane_1" name="Gestionnaire" seq:role="gestionnaire">{refs}</bpmn:lane></bpmn:laneSet>
  {"".join(process)}
 </bpmn:process>
 <bpmndi:BPMNDiagram id="Di"><bpmndi:BPMNPlane id="Plane" bpmnElement="Collab">
  <bpmndi:BPMNShape id="Pool_di" bpmnElement="Pool" isHorizontal="true">
   <dc:Bounds x="100" y="60" width="1760" height="{height}"/></bpmndi:BPMNShape>
  <bpmndi:BPMNShape id="Lane_1_di" bpmnElement="Lane_1" isHorizontal="true">
   <dc:Bounds x="130" y="60" width="1730" height="{height}"/></bpmndi:BPMNShape>
  {"".join(shapes)}{"".join(edges)}
 </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</bpmn:definitions>""".encode()


def test_panel_offers_the_legal_calendar_and_the_truce_in_french_and_english(page, server):
    from designer import services
    from runtime.actors import system
    from web.demo import ensure_templates
    from web.extensions import db

    with server["app"].app_context():
        # The letters S4's send tasks name: without them the problems panel would list them.
        ensure_templates(db.session, system("test"), _now())
        data = (ROOT / "web" / "demo_library" / "s4_expulsion.bpmn").read_bytes()
        services.save_draft(db.session, data, None, _now())
        db.session.commit()
    options = "s => [...s.options].map(o => o.textContent.trim())"
    for lang, legal, truce in (
        ("fr", "Délai de procédure (CPC)", "Trêve hivernale (1er novembre – 31 mars)"),
        ("en", "Procedural delay (CPC)", "Winter truce (1 November – 31 March)"),
    ):
        open_designer(page, f"/designer/sequences/expulsion/edit?lang={lang}")
        click_element(page, "Requerir_concours")
        open_group(page, "Séquence" if lang == "fr" else "Sequence")
        assert legal in page.eval_on_selector("#bio-properties-panel-seq-calendar", options)
        assert truce in page.eval_on_selector("#bio-properties-panel-seq-notDuring", options)
        assert "art. 641-642 CPC" in page.inner_text("[data-entry-id='seq-calendar']")
    # back in French, the analyst picks the legal calendar and keeps the due date out of the truce
    open_designer(page, "/designer/sequences/expulsion/edit?lang=fr")
    click_element(page, "Requerir_concours")
    open_group(page)
    page.select_option("#bio-properties-panel-seq-calendar", "legal")
    page.select_option("#bio-properties-panel-seq-notDuring", "treve_hivernale")
    settle(page)
    assert attr(page, "Requerir_concours", "seq:calendar") == "legal"
    assert attr(page, "Requerir_concours", "seq:notDuring") == "treve_hivernale"
    assert problem_ids(page) == []
    page.set_viewport_size({"width": 1440, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "panel-legal-calendar.png"))
    # the library's two months to leave are already a délai de procédure
    click_element(page, "Deux_mois")
    open_group(page)
    selected = page.eval_on_selector("#bio-properties-panel-seq-timer-calendar",
                                     "s => s.selectedOptions[0].textContent.trim()")
    assert selected == "Délai de procédure (CPC)"
