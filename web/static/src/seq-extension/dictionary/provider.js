// Puts the dictionary's words into the "Séquence" panel, after the provider of seq: attributes has built its
// group (registered with a lower priority, so it runs after it): lanes pick their role from the dictionary,
// outcomes are typed as labels, user tasks get a "Formulaire" group, flows leaving a gateway get the condition
// builder and a raw expression that completes `dossier.` names.
import { isSelectEntryEdited, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import * as D from './entries.jsx';

const select = isSelectEntryEdited;
const text = isTextFieldEntryEdited;

function replace(entries, id, component) {
  const found = entries.find(entry => entry.id === id);
  if (found) found.component = component;
}

function insertAfter(entries, id, added) {
  const at = entries.findIndex(entry => entry.id === id);
  entries.splice(at < 0 ? entries.length : at + 1, 0, ...added);
}

function conditionBuilder(element, entries) {
  const at = entries.findIndex(entry => entry.id === 'seq-condition-choice');
  if (at < 0) return;
  const entry = (id, component, isEdited) => ({ id, element, component, isEdited });
  entries.splice(at + 1, 0, entry('seq-condition-subject', D.BuilderSubjectEntry, select),
    entry('seq-condition-operator', D.BuilderOperatorEntry, select),
    entry('seq-condition-value', D.BuilderValueEntry, text));
  replace(entries, 'seq-condition-expression', D.ExpressionEntry);
}

export default function SeqDictionaryProvider(propertiesPanel, translate) {
  this.getGroups = function(element) {
    return function(groups) {
      const group = groups.find(g => g.id === 'sequence');
      if (!group) return groups;
      const entries = group.entries;
      const entry = (id, component, isEdited, extra = {}) => ({ id, element, component, isEdited, ...extra });
      if (is(element, 'bpmn:Lane')) {
        entries.unshift(entry('seq-role-pick', D.RolePickEntry, select));
        insertAfter(entries, 'seq-role', [ entry('seq-role-add', D.RoleCreateEntry, () => false) ]);
      } else if (is(element, 'bpmn:UserTask')) {
        replace(entries, 'seq-outcomes', D.OutcomeLabelsEntry);
        const form = D.formFieldEntries(element).map(({ id, key }) => (key ?
          entry(id, D.FormFieldEntry, select, { fieldKey: key }) : entry(id, D.FormAddEntry, () => false)));
        const at = groups.indexOf(group);
        const bo = getBusinessObject(element);
        groups.splice(at + 1, 0, {
          id: 'seq-form', label: translate('Formulaire de l’action'), entries: form,
          shouldOpen: !!(bo.get('seq:show') || bo.get('seq:fill'))
        });
      } else if (is(element, 'bpmn:SequenceFlow')) {
        conditionBuilder(element, entries);
      }
      return groups;
    };
  };

  propertiesPanel.registerProvider(400, this);
}

SeqDictionaryProvider.$inject = [ 'propertiesPanel', 'translate' ];
