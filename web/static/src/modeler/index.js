// The designer page: draw (bpmn-js + "Séquence" panel), check (server validation), save (Ctrl+S, autosave),
// publish (after a confirmation),
// open/download .bpmn files and simulate on the real engine. Never loses work: failures keep the diagram.
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import '../shared/diagram.css';
import './designer.css';

import { seqDescriptor, SeqPropertiesModule, SeqPaletteModule, SeqDictionaryModule } from '../seq-extension/index.js';
import { explainImportError, explainSaveError } from '../shared/explain.js';
import { api, postJson, postXml } from './api.js';
import { blankDiagram } from './blank.js';
import { translateModule, translator } from './i18n.js';
import { GatewayNamingModule } from './naming.js';
import { addViewControls, showReadable } from './viewport.js';
import { createDraftState, wireDrafting } from './drafting.js';
import { Problems } from './problems.js';
import { createPublishing } from './publishing.js';
import { Simulation } from './simulation.js';

const VALIDATE_DELAY_MS = 600;

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

// What every part of the page shares: the modeler, the labels, the status line, the problem list, the key of
// the sequence open, and the count of unsaved changes.
function createPage() {
  const root = document.getElementById('designer');
  const L = readJson('designer-labels');
  const lang = document.documentElement.lang || 'fr';
  const catalogue = { sequences: [] };
  const statusBox = document.getElementById('designer-status');

  const modeler = new Modeler({
    container: '#canvas',
    propertiesPanel: { parent: '#properties' },
    moddleExtensions: { seq: seqDescriptor },
    seqCatalogue: catalogue,
    seqDictionary: { ...(readJson('designer-dictionary') || {}), create: (kind, body) => postJson(`/api/v1/dictionary/${kind}`, body) },
    // Problems come from one place, the server's validation (French, per element): no second counter.
    additionalModules: [ BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, SeqPropertiesModule,
      SeqPaletteModule, SeqDictionaryModule, GatewayNamingModule, translateModule(lang) ]
  });
  addViewControls(modeler, document.getElementById('canvas'), translator(lang));
  const problems = new Problems(modeler, document.getElementById('problem-list'),
    document.getElementById('problems-summary'), L);

  const page = {
    root, L, catalogue, statusBox, modeler, problems,
    key: root.dataset.key || '',
    // Unsaved changes: every command counts; a save only clears what it actually sent.
    changes: 0,
    savedAt: 0,
    dirty: () => page.changes !== page.savedAt,
    say(message, kind = 'info') {
      statusBox.textContent = message;
      statusBox.className = `designer-status ${kind}`;
    },
    async currentXml() {
      try {
        const { xml } = await modeler.saveXML({ format: true });
        return xml;
      } catch (error) {
        page.say(explainSaveError(error), 'error');
        return null;
      }
    }
  };
  return page;
}

// Server validation, debounced; late answers for an older diagram are dropped.
function createValidation(page) {
  const { root, L, problems } = page;
  let validateTimer = null;
  let validationRound = 0;
  let validating = 0;
  async function validateNow() {
    const round = ++validationRound;
    const xml = await page.currentXml();
    if (xml === null) return;
    root.dataset.validating = '1';
    validating += 1;
    let answer;
    try {
      answer = await postXml('/api/v1/sequences/validate', xml);
    } finally {
      validating -= 1;
    }
    if (round !== validationRound) return;
    delete root.dataset.validating;
    if (answer.ok) {
      problems.show(answer.body.issues);
      // A faulty layout (BPMN DI) does not stop publication: one line, and saving the draft repairs it.
      const warnings = answer.body.warnings || [];
      if (warnings.length) page.say(warnings.map(w => w.message).join(' '), 'warning');
    } else {
      problems.show((answer.body && answer.body.issues) || []);
      page.say(L.validationFailed.replace('{message}', (answer.body && answer.body.message) || answer.status),
        'error');
    }
    root.dataset.validated = String(round);
  }
  function scheduleValidation() {
    clearTimeout(validateTimer);
    validateTimer = setTimeout(() => {
      validateTimer = null;
      validateNow();
    }, VALIDATE_DELAY_MS);
  }
  // For tests and scripts: true when no validation is waiting or running.
  const idle = () => validateTimer === null && !validating;
  return { validateNow, scheduleValidation, idle };
}

// Every command marks the diagram unsaved and asks for a validation; leaving with unsaved changes asks first.
function trackChanges(page, { scheduleValidation }) {
  window.addEventListener('beforeunload', event => {
    if (page.dirty()) {
      event.preventDefault();
      event.returnValue = page.L.unsaved;
    }
  });
  page.modeler.on('commandStack.changed', () => {
    page.changes += 1;
    page.root.dataset.dirty = '1';
    scheduleValidation();
  });
}

// Drawing a diagram (the page's own, or an opened file) and downloading it.
function createFiles(page, { validateNow }) {
  const { root, L, modeler } = page;

  async function load(xml, { fromFile = false } = {}) {
    const previous = fromFile ? await page.currentXml() : null;
    try {
      const result = await modeler.importXML(xml);
      const warnings = result.warnings || [];
      if (warnings.length) {
        page.say(L.importWarnings.replace('{n}', warnings.length) + ' ' +
          warnings.slice(0, 3).map(w => w.message).join(' ; '), 'warning');
      }
      showReadable(modeler);
      return true;
    } catch (error) {
      page.say(explainImportError(error), 'error');
      if (previous) {
        // The file could not be drawn: the analyst's diagram comes back as it was.
        await modeler.importXML(previous).catch(() => {});
      }
      return false;
    }
  }

  async function openFile(file) {
    if (!file) return;
    if (page.dirty() && !window.confirm(L.replaceConfirm)) return;
    const text = await file.text();
    if (await load(text, { fromFile: true })) {
      page.changes += 1;
      root.dataset.dirty = '1';
      page.say(L.fileOpened.replace('{name}', file.name), 'ok');
      await validateNow();
    }
  }

  async function download() {
    const xml = await page.currentXml();
    if (xml === null) return;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([ xml ], { type: 'application/xml' }));
    link.download = `${page.key || 'sequence'}.bpmn`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  return { load, openFile, download };
}

// Saving the draft (by hand, Ctrl+S, or by itself: `autosave`).
function createSaving(page) {
  const { root, L, modeler, problems, statusBox } = page;

  async function save({ autosave = false } = {}) {
    const xml = await page.currentXml();
    if (xml === null) return false;
    const sent = page.changes;
    page.say(autosave ? L.autosaving : L.saving);
    // Only the sequence this page has open may be replaced: a new diagram, or one whose process id was
    // changed to another sequence's key, is refused by the server instead of overwriting that sequence.
    const replace = Boolean(page.key) && processIds().includes(page.key);
    const query = [ replace ? 'replace=true' : '', autosave ? 'autosave=true' : '' ].filter(Boolean).join('&');
    const answer = await postXml(`/api/v1/sequences${query ? '?' + query : ''}`, xml);
    if (answer.status === 409 && answer.body && answer.body.error === 'sequence_exists') {
      sayExists(answer.body);
      return false;
    }
    if (!answer.ok) {
      page.say(L.saveFailed.replace('{message}', (answer.body && answer.body.message) || `HTTP ${answer.status}`),
        'error');
      if (answer.body && answer.body.issues) problems.show(answer.body.issues);
      return false;
    }
    page.savedAt = sent;
    if (!page.dirty()) delete root.dataset.dirty;
    if (answer.body.key !== page.key) {
      page.key = answer.body.key;
      root.dataset.key = page.key;
      history.replaceState(null, '', root.dataset.editUrl.replace('__KEY__', encodeURIComponent(page.key)));
    }
    problems.show(answer.body.issues);
    page.draftState.saved(new Date().toISOString());
    const count = answer.body.issues.length;
    if (autosave) {
      page.say(L.autosaved, count ? 'warning' : 'ok');
    } else {
      page.say(count ? L.savedWithProblems.replace('{n}', count) : L.saved, count ? 'warning' : 'ok');
    }
    return true;
  }

  function processIds() {
    const definitions = modeler.getDefinitions();
    return ((definitions && definitions.rootElements) || [])
      .filter(element => element.$type === 'bpmn:Process').map(element => element.id);
  }

  // The refusal, with a link to the existing sequence; the diagram stays as drawn, still unsaved.
  function sayExists(body) {
    page.say(L.exists.replace('{name}', body.name).replace('{key}', body.key) + ' ', 'error');
    const link = document.createElement('a');
    link.href = root.dataset.editUrl.replace('__KEY__', encodeURIComponent(body.key));
    link.textContent = L.openExisting;
    link.id = 'open-existing';
    statusBox.append(link);
  }

  return { save };
}

function wireToolbar({ save, publish, download, openFile, simulation }) {
  document.getElementById('btn-save').addEventListener('click', save);
  document.getElementById('btn-publish').addEventListener('click', publish);
  document.getElementById('btn-download').addEventListener('click', download);
  document.getElementById('btn-simulate').addEventListener('click', () => simulation.start());
  document.getElementById('btn-simulate-stop').addEventListener('click', () => simulation.stop());
  document.getElementById('file-open').addEventListener('change', event => openFile(event.target.files[0]));
}

// The diagram the page carries (or a blank one for a new sequence), drawn and checked; the catalogue of
// sequences, for the switch targets of the "Séquence" panel, comes when it comes.
async function openDiagram(page, { load, validateNow }) {
  const { root, L } = page;
  const initial = readJson('diagram-xml') ||
    blankDiagram(root.dataset.newKey || 'nouvelle_sequence', root.dataset.newName || L.newName, L.laneName);
  const loaded = await load(initial);
  api('GET', '/api/v1/sequences').then(answer => {
    if (answer.ok) page.catalogue.sequences = answer.body;
  });
  if (loaded) await validateNow();
  if (root.dataset.mode === 'new') {
    page.changes += 1; // a new diagram is unsaved until the first save
  }
}

async function boot() {
  const page = createPage();
  const validation = createValidation(page);
  trackChanges(page, validation);
  const files = createFiles(page, validation);
  page.draftState = createDraftState(page);
  const { save } = createSaving(page);
  const { publish } = createPublishing(page, save);
  const drafting = wireDrafting(page, save);
  const simulation = new Simulation(page.modeler, document.getElementById('simulation'), page.currentXml, page.L);
  wireToolbar({ save: () => save(), publish, download: files.download, openFile: files.openFile, simulation });
  await openDiagram(page, { load: files.load, validateNow: validation.validateNow });
  page.draftState.render();
  page.root.dataset.ready = '1';
  performance.mark('designer-interactive');
  const { modeler, problems, dirty } = page;
  const { validateNow, idle } = validation;
  window.seqDesigner = { modeler, save, publish, validateNow, load: files.load, problems, simulation, dirty, idle,
    autosavePending: drafting.autosavePending };
}

boot().catch(error => {
  const box = document.getElementById('designer-status');
  if (box) {
    box.textContent = String(error && error.message || error);
    box.className = 'designer-status error';
  }
  throw error;
});
