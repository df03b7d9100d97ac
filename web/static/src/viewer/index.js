// A read-only diagram (published versions now, dossier pages later): pan/zoom, optional highlights.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import '../shared/diagram.css';

import { seqDescriptor } from '../seq-extension/index.js';
import { explainImportError } from '../shared/explain.js';

/**
 * Draws `xml` in `container`. options.active: element ids to highlight (a run's current step);
 * options.marks: { elementId: cssClass }. Returns { viewer, warnings } or throws an Error with a French message.
 */
export async function mountViewer(container, xml, options = {}) {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { seq: seqDescriptor } });
  let result;
  try {
    result = await viewer.importXML(xml);
  } catch (error) {
    throw new Error(explainImportError(error));
  }
  const canvas = viewer.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  for (const id of options.active || []) {
    if (viewer.get('elementRegistry').get(id)) canvas.addMarker(id, 'seq-active');
  }
  for (const [ id, cls ] of Object.entries(options.marks || {})) {
    if (viewer.get('elementRegistry').get(id)) canvas.addMarker(id, cls);
  }
  return { viewer, warnings: result.warnings || [] };
}

async function autoMount() {
  for (const container of document.querySelectorAll('[data-bpmn-viewer]')) {
    const source = document.getElementById(container.dataset.bpmnViewer);
    const status = container.parentElement.querySelector('.viewer-status');
    const active = (container.dataset.active || '').split(',').filter(Boolean);
    const marks = container.dataset.marks ? JSON.parse(container.dataset.marks) : {};
    try {
      await mountViewer(container, JSON.parse(source.textContent), { active, marks });
      container.dataset.ready = '1';
    } catch (error) {
      if (status) {
        status.textContent = error.message;
        status.classList.add('error');
      }
      container.dataset.ready = 'error';
    }
  }
}

if (typeof document !== 'undefined') {
  autoMount();
}
