// What a flow leaving a gateway can test: the statuses and outcomes of the action(s) just before the gateway.
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

const STATUS_BY_ACTION = { task: 'done', reminder: 'done', validation: 'validated' };

/** The actions (user or send tasks, or catch events) reached walking back from `node` through gateways. */
export function actionsBefore(node, seen = new Set()) {
  const found = [];
  for (const flow of node.incoming || []) {
    const source = flow.sourceRef;
    if (!source || seen.has(source.id)) {
      continue;
    }
    seen.add(source.id);
    if (is(source, 'bpmn:Gateway')) {
      found.push(...actionsBefore(source, seen));
    } else {
      found.push(source);
    }
  }
  return found;
}

/** [{value, label}] of ready-made conditions for a sequence flow, e.g. outcome == "paid". */
export function conditionChoices(flow, translate) {
  const source = getBusinessObject(flow).sourceRef;
  if (!source) {
    return [];
  }
  const choices = [];
  const seen = new Set();
  const add = (value, label) => {
    if (!seen.has(value)) {
      seen.add(value);
      choices.push({ value, label });
    }
  };
  for (const action of actionsBefore(source)) {
    const name = action.name || action.id;
    if (is(action, 'bpmn:UserTask') || is(action, 'bpmn:SendTask')) {
      const outcomes = (action.get('seq:outcomes') || '').split(',').map(o => o.trim()).filter(Boolean);
      for (const outcome of outcomes) {
        add(`outcome == "${outcome}"`, translate('Résultat « {outcome} » ({name})', { outcome, name }));
      }
      const kind = is(action, 'bpmn:SendTask') ? 'task' : (action.get('seq:action') || 'task');
      for (const status of [ STATUS_BY_ACTION[kind] || 'done', 'cancelled', 'skipped' ]) {
        add(`status == "${status}"`, translate('Statut « {status} » ({name})', { status, name }));
      }
    }
  }
  return choices;
}
