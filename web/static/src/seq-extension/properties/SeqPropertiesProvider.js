// Adds the "Séquence" group to the properties panel: the seq: attributes of our dialect (README "Writing sequences"), per element type.
import { isTextFieldEntryEdited, isSelectEntryEdited, isCheckboxEntryEdited } from '@bpmn-io/properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import * as E from './entries.jsx';

const text = isTextFieldEntryEdited;
const select = isSelectEntryEdited;

function entriesFor(element) {
  const bo = getBusinessObject(element);
  const entry = (id, component, isEdited) => ({ id, element, component, isEdited });
  if (is(element, 'bpmn:Lane')) {
    return [ entry('seq-role', E.RoleEntry, text), entry('seq-roleKind', E.RoleKindEntry, select) ];
  }
  if (is(element, 'bpmn:UserTask')) {
    return [
      entry('seq-action', E.ActionTypeEntry, select), entry('seq-outcomes', E.OutcomesEntry, text),
      entry('seq-due', E.DueEntry, text), entry('seq-calendar', E.CalendarEntry, select),
      entry('seq-notDuring', E.NotDuringEntry, select)
    ];
  }
  if (is(element, 'bpmn:SendTask')) {
    return [ entry('seq-channel', E.ChannelEntry, select), entry('seq-template', E.TemplateEntry, text) ];
  }
  if (is(element, 'bpmn:CallActivity')) {
    return [ entry('seq-calledElement', E.CalledElementEntry, select) ];
  }
  if (is(element, 'bpmn:EndEvent') && !(bo.eventDefinitions || []).length) {
    return [ entry('seq-next', E.NextEntry, select) ];
  }
  if (is(element, 'bpmn:SequenceFlow')) {
    const source = bo.sourceRef;
    const fromGateway = source && (is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'));
    if (!fromGateway && !bo.conditionExpression) {
      return [];
    }
    const found = [
      entry('seq-condition-choice', E.ConditionChoiceEntry, select),
      entry('seq-condition-expression', E.ConditionExpressionEntry, text)
    ];
    if (fromGateway) {
      found.push(entry('seq-default-flow', E.DefaultFlowEntry, isCheckboxEntryEdited));
    }
    return found;
  }
  if ((is(element, 'bpmn:BoundaryEvent') || is(element, 'bpmn:IntermediateCatchEvent') ||
       is(element, 'bpmn:StartEvent')) && E.timerDefinition(element)) {
    const found = [ entry('seq-timer-kind', E.TimerKindEntry, select), entry('seq-timer-value', E.TimerValueEntry, text) ];
    if (!is(element, 'bpmn:StartEvent')) {
      // A date is a date: no calendar counts it (a delay or a cycle is counted in one).
      if (E.timerKind(E.timerDefinition(element)) !== 'timeDate') {
        found.push(entry('seq-timer-calendar', E.TimerCalendarEntry, select));
      }
      found.push(entry('seq-timer-notDuring', E.NotDuringEntry, select));
    }
    return found;
  }
  return [];
}

export default function SeqPropertiesProvider(propertiesPanel, translate) {
  this.getGroups = function(element) {
    return function(groups) {
      const entries = entriesFor(element);
      if (entries.length) {
        // Right after "General": the group an analyst needs most.
        const at = Math.min(1, groups.length);
        groups.splice(at, 0, { id: 'sequence', label: translate('Séquence'), entries });
      }
      return groups;
    };
  };

  propertiesPanel.registerProvider(500, this);
}

SeqPropertiesProvider.$inject = [ 'propertiesPanel', 'translate' ];
