// The palette, replace menu and context pad limited to what the runtime supports.
import { assign } from 'min-dash';

const REFUSED_REPLACEMENTS = /script|service|business-rule|manual|receive|complex|signal|escalation|compensat|conditional|link|error|transaction|ad-hoc|data-|replace-with-task$|intermediate-throw|message-end|message-start|signal-start/;

export default function SeqPaletteProvider(palette, create, elementFactory, translate, popupMenu, contextPad,
    autoPlace) {
  function createAction(type, group, className, title, options) {
    const start = event => create.start(event, elementFactory.createShape(assign({ type }, options)));
    return { group, className, title: translate(title), action: { dragstart: start, click: start } };
  }

  const added = {
    'create.end-event': null,
    'create.terminate-end-event': createAction('bpmn:EndEvent', 'event', 'bpmn-icon-end-event-terminate',
      'Fin immédiate (annule les actions ouvertes)', { eventDefinitionType: 'bpmn:TerminateEventDefinition' }),
    'create.timer-catch': createAction('bpmn:IntermediateCatchEvent', 'event', 'bpmn-icon-intermediate-event-catch-timer',
      'Attendre un délai (déposez-le sur une action pour un délai de bordure)',
      { eventDefinitionType: 'bpmn:TimerEventDefinition' }),
    'create.message-catch': createAction('bpmn:IntermediateCatchEvent', 'event',
      'bpmn-icon-intermediate-event-catch-message', 'Attendre un événement métier',
      { eventDefinitionType: 'bpmn:MessageEventDefinition' }),
    'create.exclusive-gateway': null,
    'create.parallel-gateway': createAction('bpmn:ParallelGateway', 'gateway', 'bpmn-icon-gateway-parallel',
      'Branches en parallèle'),
    'create.inclusive-gateway': createAction('bpmn:InclusiveGateway', 'gateway', 'bpmn-icon-gateway-or',
      'Branches inclusives'),
    'create.event-based-gateway': createAction('bpmn:EventBasedGateway', 'gateway', 'bpmn-icon-gateway-eventbased',
      'Attendre le premier événement'),
    'create.user-task': createAction('bpmn:UserTask', 'activity', 'bpmn-icon-user-task', 'Action (tâche, relance, validation)'),
    'create.send-task': createAction('bpmn:SendTask', 'activity', 'bpmn-icon-send-task', 'Communication'),
    'create.call-activity': createAction('bpmn:CallActivity', 'activity', 'bpmn-icon-call-activity',
      'Appeler une autre séquence')
  };
  const KEEP = [ 'hand-tool', 'lasso-tool', 'space-tool', 'global-connect-tool', 'tool-separator',
    'create.start-event' ];
  const KEEP_AFTER = [ 'create.subprocess-expanded', 'create.participant-expanded' ];

  palette.registerProvider(500, {
    getPaletteEntries() {
      return function(entries) {
        const result = {};
        for (const id of KEEP) {
          if (entries[id]) result[id] = entries[id];
        }
        for (const [ id, entry ] of Object.entries(added)) {
          const chosen = entry || entries[id];
          if (chosen) result[id] = chosen;
        }
        for (const id of KEEP_AFTER) {
          if (entries[id]) result[id] = entries[id];
        }
        return result;
      };
    }
  });

  popupMenu.registerProvider('bpmn-replace', 500, {
    getPopupMenuEntries() {
      return function(entries) {
        const result = {};
        for (const [ id, entry ] of Object.entries(entries)) {
          if (!REFUSED_REPLACEMENTS.test(id)) result[id] = entry;
        }
        return result;
      };
    },
    getPopupMenuHeaderEntries() {
      return entries => entries;
    }
  });

  // "Append task" appends an action (user task) rather than an untyped task the runtime refuses.
  contextPad.registerProvider(500, {
    getContextPadEntries(element) {
      return function(entries) {
        if (entries['append.append-task'] && autoPlace) {
          const append = (event, el) => autoPlace.append(el, elementFactory.createShape({ type: 'bpmn:UserTask' }));
          entries['append.append-task'] = assign({}, entries['append.append-task'], {
            className: 'bpmn-icon-user-task', title: translate('Ajouter une action'),
            action: { click: append, dragstart: append }
          });
        }
        delete entries['append.intermediate-event'];
        return entries;
      };
    }
  });
}

SeqPaletteProvider.$inject = [ 'palette', 'create', 'elementFactory', 'translate', 'popupMenu', 'contextPad',
  'autoPlace' ];
