// Shows the server's validation issues on the diagram (marker + overlay with the French message) and as a
// list whose items select the element they are about.
const MARKER = 'seq-problem';

export class Problems {
  constructor(modeler, list, summary, labels) {
    this.modeler = modeler;
    this.list = list;
    this.summary = summary;
    this.labels = labels;
    this.marked = [];
    this.issues = [];
  }

  clear() {
    const canvas = this.modeler.get('canvas');
    const overlays = this.modeler.get('overlays');
    for (const id of this.marked) {
      try {
        canvas.removeMarker(id, MARKER);
      } catch (error) { /* element removed since */ }
    }
    overlays.remove({ type: MARKER });
    this.marked = [];
  }

  show(issues) {
    this.clear();
    this.issues = issues || [];
    const registry = this.modeler.get('elementRegistry');
    const canvas = this.modeler.get('canvas');
    const overlays = this.modeler.get('overlays');
    const byElement = new Map();
    for (const issue of this.issues) {
      if (issue.element_id && registry.get(issue.element_id)) {
        if (!byElement.has(issue.element_id)) byElement.set(issue.element_id, []);
        byElement.get(issue.element_id).push(issue);
      }
    }
    for (const [ id, found ] of byElement) {
      const element = registry.get(id);
      canvas.addMarker(id, MARKER);
      this.marked.push(id);
      const box = document.createElement('div');
      box.className = 'seq-issue';
      box.dataset.elementId = id;
      const badge = document.createElement('span');
      badge.className = 'seq-issue-badge';
      badge.textContent = String(found.length);
      const text = document.createElement('span');
      text.className = 'seq-issue-text';
      text.textContent = found.map(i => i.message).join(' • ');
      box.title = text.textContent;
      box.append(badge, text);
      const position = element.waypoints ? { top: -10, left: 0 } : { top: -12, right: 12 };
      overlays.add(id, MARKER, { position, html: box });
    }
    this.renderList(registry);
  }

  renderList(registry) {
    this.list.replaceChildren();
    const count = this.issues.length;
    this.summary.textContent = count ? this.labels.problems.replace('{n}', count) : this.labels.noProblem;
    this.summary.className = count ? 'problems-summary bad' : 'problems-summary ok';
    for (const issue of this.issues) {
      const item = document.createElement('li');
      item.dataset.code = issue.code;
      item.dataset.elementId = issue.element_id || '';
      const element = issue.element_id && registry.get(issue.element_id);
      const name = element && element.businessObject && element.businessObject.name;
      // the element by its name (its id only when it has none): a click selects it on the diagram
      const where = issue.element_id ? (name || issue.element_id) : this.labels.wholeFile;
      if (element) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'link';
        button.textContent = where;
        button.title = issue.element_id;
        button.addEventListener('click', () => {
          this.modeler.get('selection').select(element);
          this.modeler.get('canvas').scrollToElement(element);
        });
        item.append(button);
      } else {
        const span = document.createElement('strong');
        span.textContent = where;
        item.append(span);
      }
      item.append(document.createTextNode(' : ' + issue.message));
      this.list.append(item);
    }
  }
}
