// The migration plan: the source and target versions side by side. Click a waiting step of the source, then
// its counterpart in the target: the form's select for that step follows (the form works without this).
import { mountViewer } from '../viewer/index.js';

function selectFor(sourceId) {
  return document.querySelector(`select[data-source="${CSS.escape(sourceId)}"]`);
}

function mark(viewer, ids, cls) {
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  registry.forEach((element) => canvas.removeMarker(element.id, cls));
  for (const id of ids) if (registry.get(id)) canvas.addMarker(id, cls);
}

async function mount(container) {
  const status = container.parentElement.querySelector('.viewer-status');
  try {
    const { viewer } = await mountViewer(container, JSON.parse(document.getElementById(container.dataset.migrationViewer).textContent));
    container.dataset.ready = '1';
    return viewer;
  } catch (error) {
    if (status) { status.textContent = error.message; status.classList.add('error'); }
    container.dataset.ready = 'error';
    return null;
  }
}

async function start() {
  const [ sourceBox, targetBox ] = [ 'source-viewer', 'target-viewer' ].map((id) => document.getElementById(id));
  if (!sourceBox || !targetBox) return;
  const [ source, target ] = await Promise.all([ mount(sourceBox), mount(targetBox) ]);
  if (!source || !target) return;
  let chosen = null;
  const refresh = () => {
    const selects = [ ...document.querySelectorAll('select[data-source]') ];
    mark(source, selects.filter((s) => !s.value && s.closest('tr').classList.contains('unmapped')).map((s) => s.dataset.source), 'seq-unmapped');
    mark(source, chosen ? [ chosen ] : [], 'seq-active');
    mark(target, chosen && selectFor(chosen)?.value ? [ selectFor(chosen).value ] : [], 'seq-active');
  };
  source.on('element.click', ({ element }) => {
    if (!selectFor(element.id)) return;  // not a waiting step
    chosen = element.id;
    refresh();
  });
  target.on('element.click', ({ element }) => {
    const select = chosen && selectFor(chosen);
    if (!select || ![ ...select.options ].some((o) => o.value === element.id)) return;
    select.value = element.id;
    select.closest('tr').classList.remove('unmapped');
    refresh();
  });
  for (const select of document.querySelectorAll('select[data-source]')) {
    select.addEventListener('change', () => { chosen = select.dataset.source; refresh(); });
  }
  refresh();
}

start();
