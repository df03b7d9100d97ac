// Simulation on the real engine: the server replays the draft with the steps chosen so far and answers what
// is open, waiting and active; the diagram highlights the active elements.
import { postJson } from './api.js';

const MARKER = 'seq-active';

export class Simulation {
  constructor(modeler, panel, getXml, labels) {
    this.modeler = modeler;
    this.panel = panel;
    this.getXml = getXml;
    this.labels = labels;
    this.steps = [];
    this.marked = [];
  }

  async start() {
    this.steps = [];
    this.panel.hidden = false;
    await this.refresh();
  }

  stop() {
    this.unmark();
    this.panel.hidden = true;
    this.steps = [];
  }

  async add(step) {
    this.steps.push(step);
    await this.refresh();
  }

  async undo() {
    this.steps.pop();
    await this.refresh();
  }

  nameOf(id) {
    const element = this.modeler.get('elementRegistry').get(id);
    return (element && element.businessObject.name) || id;
  }

  /** The name of the lane whose role is `key` ("Commissaire de justice" for commissaire_justice). */
  roleName(key) {
    if (!key) return '';
    const lane = this.modeler.get('elementRegistry')
      .find(e => e.type === 'bpmn:Lane' && e.businessObject.get('seq:role') === key);
    return (lane && lane.businessObject.name) || key;
  }

  unmark() {
    const canvas = this.modeler.get('canvas');
    for (const id of this.marked) {
      try {
        canvas.removeMarker(id, MARKER);
      } catch (error) { /* gone */ }
    }
    this.marked = [];
  }

  async refresh() {
    const xml = await this.getXml();
    if (xml === null) {
      return;
    }
    const body = this.panel.querySelector('.simulation-body');
    body.textContent = this.labels.simulating;
    const answer = await postJson('/api/v1/simulation', { xml, steps: this.steps });
    this.unmark();
    body.replaceChildren();
    if (!answer.ok) {
      const message = (answer.body && answer.body.message) || `HTTP ${answer.status}`;
      body.append(paragraph(message, 'error'));
      for (const issue of (answer.body && answer.body.issues) || []) {
        body.append(paragraph(`${issue.element_id || ''} : ${issue.message}`, 'error'));
      }
      return;
    }
    this.render(body, answer.body);
  }

  render(body, state) {
    const registry = this.modeler.get('elementRegistry');
    const canvas = this.modeler.get('canvas');
    for (const id of state.active_elements || []) {
      if (registry.get(id)) {
        canvas.addMarker(id, MARKER);
        this.marked.push(id);
      }
    }
    const L = this.labels;
    const english = document.documentElement.lang === 'en';
    if (state.ended) {
      // the ends by their names, as drawn (their ids mean nothing to an analyst)
      const ends = (state.ends || []).map(end => end.name || this.nameOf(end.element_id));
      body.append(paragraph(ends.length ? L.ended.replace('{ends}', ends.join(', ')) : L.endedPlain,
        'ok sim-ended'));
    }
    const list = document.createElement('ul');
    list.className = 'sim-choices';
    for (const action of state.open_actions || []) {
      const item = document.createElement('li');
      item.dataset.elementId = action.element_id;
      const title = document.createElement('strong');
      // "Signifier le commandement (Tâche, Commissaire de justice)": the type and the role in words
      const kind = (L.types && L.types[action.type]) || action.type;
      const role = action.role_label || action.role_name || this.roleName(action.role);
      title.textContent = `${action.name || action.element_id} (${kind}${role ? ', ' + role : ''})`;
      const status = select(`sim-status-${action.element_id}`, L.status,
        action.statuses.map(s => [ s, (L.statuses && L.statuses[s]) || s ]));
      const outcome = action.outcomes.length ?
        select(`sim-outcome-${action.element_id}`, L.outcome, [ [ '', '—' ], ...action.outcomes.map(o => [ o, (action.outcome_labels || {})[o] || o ]) ]) : null;
      const go = button(L.complete, () => this.add({
        kind: 'complete', element_id: action.element_id, status: status.querySelector('select').value,
        outcome: outcome ? outcome.querySelector('select').value || null : null
      }));
      go.className = 'sim-complete';
      item.append(title, status);
      if (outcome) item.append(outcome);
      item.append(go);
      list.append(item);
    }
    for (const timer of state.timers || []) {
      const item = document.createElement('li');
      item.dataset.elementId = timer.element_id;
      // How the delay is counted, in the page's language (the value itself when the server gives no note).
      const note = timer.note ? timer.note[english ? 'en' : 'fr'] : '';
      item.title = note;
      // the timer's own symbol from the diagram's font (a "⏱" character is an empty box on some systems)
      const icon = document.createElement('span');
      icon.className = 'sim-timer-icon bpmn-icon-intermediate-event-catch-timer';
      icon.setAttribute('aria-hidden', 'true');
      item.append(icon, document.createTextNode(` ${timer.name || timer.element_id}${note ? ` (${note})` : ''} `));
      const fire = button(L.fire, () => this.add({ kind: 'timer', element_id: timer.element_id }));
      fire.className = 'sim-fire';
      item.append(fire);
      list.append(item);
    }
    for (const name of state.messages || []) {
      const item = document.createElement('li');
      const send = button(L.send.replace('{name}', name), () => this.add({ kind: 'message', name }));
      send.className = 'sim-send';
      item.append(send);
      list.append(item);
    }
    body.append(list);
    const history = document.createElement('ol');
    history.className = 'sim-history';
    for (const line of (english && state.log_en) || state.log || []) {
      const item = document.createElement('li');
      item.textContent = line;
      history.append(item);
    }
    body.append(history);
    if (this.steps.length) {
      body.append(button(L.undo, () => this.undo()));
    }
  }
}

function paragraph(text, cls) {
  const p = document.createElement('p');
  p.className = cls || '';
  p.textContent = text;
  return p;
}

function button(text, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

let counter = 0;
function select(id, label, options) {
  const wrapper = document.createElement('span');
  const uid = `${id}-${++counter}`;
  const l = document.createElement('label');
  l.htmlFor = uid;
  l.textContent = label + ' ';
  const s = document.createElement('select');
  s.id = uid;
  for (const [ value, text ] of options) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    s.append(o);
  }
  wrapper.append(l, s);
  return wrapper;
}
