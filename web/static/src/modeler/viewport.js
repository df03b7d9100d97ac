// Where the diagram opens and how to find one's way in it: a readable zoom with the start in view (a long
// sequence fitted to the screen has unreadable labels), and an overview control (whole diagram, zoom in/out).

const PALETTE_WIDTH = 120;
// Below this scale, labels of 11 px become smaller than 8 px: the diagram opens at READABLE instead.
const MIN_READABLE = 0.8;
const READABLE = 1;

function firstStart(modeler) {
  const registry = modeler.get('elementRegistry');
  const starts = registry.filter(e => e.type === 'bpmn:StartEvent' && !e.labelTarget);
  starts.sort((a, b) => a.x - b.x || a.y - b.y);
  return starts[0];
}

/** Fits the whole diagram, its left edge clear of the palette. */
export function showWholeDiagram(modeler) {
  const canvas = modeler.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  const box = canvas.viewbox();
  const left = (box.inner.x - box.x) * box.scale;
  if (box.inner.width && left < PALETTE_WIDTH) {
    canvas.zoom(box.scale * 0.9, 'auto');
    const after = canvas.viewbox();
    canvas.scroll({ dx: PALETTE_WIDTH - (after.inner.x - after.x) * after.scale, dy: 0 });
  }
}

/** The whole diagram when it is readable so; otherwise a readable zoom, the start event near the left. */
export function showReadable(modeler) {
  showWholeDiagram(modeler);
  const canvas = modeler.get('canvas');
  const start = firstStart(modeler);
  if (canvas.viewbox().scale >= MIN_READABLE || !start) {
    return;
  }
  canvas.zoom(READABLE);
  const box = canvas.viewbox();
  // the start at the palette's right, a little above the middle of the view
  const x = start.x - (PALETTE_WIDTH + 40) / READABLE;
  const y = start.y + start.height / 2 - box.outer.height / READABLE / 2.5;
  canvas.viewbox({ x, y, width: box.outer.width / READABLE, height: box.outer.height / READABLE });
}

/** The overview control in the canvas' corner: whole diagram, zoom in, zoom out. */
export function addViewControls(modeler, container, t) {
  const canvas = modeler.get('canvas');
  const bar = document.createElement('div');
  bar.className = 'seq-view-controls';
  bar.setAttribute('role', 'group');
  bar.setAttribute('aria-label', t('Vue d\'ensemble'));
  const make = (id, text, title, action) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.id = id;
    button.textContent = text;
    button.title = title;
    button.setAttribute('aria-label', title);
    button.addEventListener('click', action);
    bar.append(button);
  };
  make('btn-overview', t('Vue d\'ensemble'), t('Vue d\'ensemble'), () => showWholeDiagram(modeler));
  make('btn-zoom-in', '+', t('Zoom avant'), () => canvas.zoom(canvas.zoom() * 1.25, 'auto'));
  make('btn-zoom-out', '−', t('Zoom arrière'), () => canvas.zoom(canvas.zoom() / 1.25, 'auto'));
  container.append(bar);
}
