// Runs drawn on dossier and overview pages: the read-only viewer of ../viewer plus the run's state
// (current step, done steps), labels on the flows leaving gateways, "what if I choose…" paths and, on the
// overview, the number of dossiers waiting at each step as a heat map (on the pilotage page, any figure:
// `badges` then say it, and `stepLink` opens the list of a step's dossiers on a click). All data comes from a
// JSON script tag rendered by the server: { xml, active, done, labels, whatif, counts, flowCounts, badges,
// heatMax (the figure of the darkest heat, when it is not the largest count: 100 for shares), stepLink }.
import { mountViewer } from '../viewer/index.js';
import './run-viewer.css';

function badge(text, className) {
  const element = document.createElement('div');
  element.className = className;
  element.textContent = text;
  return element;
}

function firstSegmentMiddle(connection) {
  const points = connection.waypoints || [];
  if (points.length < 2) return null;
  const minX = Math.min(...points.map((p) => p.x));
  const minY = Math.min(...points.map((p) => p.y));
  return { left: (points[0].x + points[1].x) / 2 - minX, top: (points[0].y + points[1].y) / 2 - minY };
}

function addLabels(viewer, labels) {
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  for (const [ id, text ] of Object.entries(labels || {})) {
    const connection = registry.get(id);
    const where = connection && firstSegmentMiddle(connection);
    if (!where) continue;
    overlays.add(id, 'seq-label', { position: { left: where.left + 4, top: where.top - 18 },
      html: badge(text, 'seq-flow-label') });
  }
}

function addCounts(viewer, counts, flowCounts, badges, heatMax) {
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  const canvas = viewer.get('canvas');
  const max = heatMax || Math.max(1, ...Object.values(counts || {}));
  for (const [ id, count ] of Object.entries(counts || {})) {
    if (!registry.get(id)) continue;
    if (count) canvas.addMarker(id, `seq-heat-${Math.max(1, Math.ceil((5 * count) / max))}`);
    const text = badges && badges[id] !== undefined ? badges[id] : count && String(count);
    // A figure of nothing (no one late) is said calmly: red is for what needs looking at.
    const style = count ? 'seq-count-badge' : 'seq-count-badge seq-count-none';
    if (text) overlays.add(id, 'seq-count', { position: { top: -14, right: 14 }, html: badge(text, style) });
  }
  for (const [ id, count ] of Object.entries(flowCounts || {})) {
    if (registry.get(id) && count) canvas.addMarker(id, 'seq-flow-used');
  }
}

function wireSteps(viewer, stepLink, counts, badges) {
  if (!stepLink) return;
  const canvas = viewer.get('canvas');
  const shown = new Set([ ...Object.keys(counts || {}), ...Object.keys(badges || {}) ]);
  for (const id of shown) {
    if (viewer.get('elementRegistry').get(id)) canvas.addMarker(id, 'seq-clickable');
  }
  viewer.get('eventBus').on('element.click', ({ element }) => {
    if (shown.has(element.id)) window.location.assign(stepLink + encodeURIComponent(element.id) + '#step-dossiers');
  });
}

function wireWhatIf(viewer, section, whatif) {
  if (!section || !whatif) return;
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  let shown = [];
  const clear = () => {
    for (const id of shown) canvas.removeMarker(id, 'seq-whatif');
    shown = [];
    section.querySelectorAll('.what-if li.on').forEach((item) => item.classList.remove('on'));
  };
  const show = (item) => {
    clear();
    const answers = whatif[item.dataset.action] || [];
    const answer = answers.find((a) => (a.outcome || '') === item.dataset.outcome);
    if (!answer) return;
    for (const id of [ ...answer.flows, ...answer.reaches ]) {
      if (registry.get(id)) {
        canvas.addMarker(id, 'seq-whatif');
        shown.push(id);
      }
    }
    item.classList.add('on');
  };
  for (const item of section.querySelectorAll('.what-if li[data-action]')) {
    item.addEventListener('mouseenter', () => show(item));
    item.addEventListener('focus', () => show(item));
    item.addEventListener('mouseleave', clear);
    item.addEventListener('blur', clear);
  }
}

async function mountRun(container) {
  const source = document.getElementById(container.dataset.runViewer);
  const status = container.parentElement.querySelector('.viewer-status');
  const data = JSON.parse(source.textContent);
  const marks = {};
  for (const id of data.done || []) marks[id] = 'seq-done';
  try {
    const { viewer } = await mountViewer(container, data.xml, { active: data.active || [], marks });
    addLabels(viewer, data.labels);
    addCounts(viewer, data.counts, data.flowCounts, data.badges, data.heatMax);
    wireSteps(viewer, data.stepLink, data.counts, data.badges);
    wireWhatIf(viewer, container.closest('section'), data.whatif);
    container.dataset.ready = '1';
  } catch (error) {
    if (status) {
      status.textContent = error.message;
      status.classList.add('error');
    }
    container.dataset.ready = 'error';
  }
}

if (typeof document !== 'undefined') {
  for (const container of document.querySelectorAll('[data-run-viewer]')) mountRun(container);
}
