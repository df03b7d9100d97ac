// Entries of the "Séquence" panel that speak the dictionary's words: a lane's role picked from it (or added to
// it), a task's outcomes typed as labels, a task's form (fields shown, filled, required), and, on flows, a
// condition builder (field or outcome, operator, value) next to the raw expression, which completes
// `dossier.` names. JSX runs on the Preact bundled inside @bpmn-io/properties-panel.
import { SelectEntry, TextFieldEntry } from '@bpmn-io/properties-panel';
import { useState } from '@bpmn-io/properties-panel/preact/hooks';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject } from 'bpmn-js/lib/util/ModelUtil';

import { actionsBefore } from '../properties/conditions.js';
import { useCondition } from '../properties/entries.jsx';
import {
  OPERATORS, byKey, completions, isoDate, frenchNumber, operatorsFor, outcomeKeys, outcomeLabels,
  readCondition, shownValue, words, writeCondition
} from './words.js';

function useWords() {
  return words(useService('config.seqDictionary'));
}

function useCommon() {
  return {
    modeling: useService('modeling'),
    translate: useService('translate'),
    debounce: useService('debounceInput')
  };
}

const split = text => (text || '').split(',').map(v => v.trim()).filter(Boolean);

// Lanes ///////////////////////////////////////////////////////////////////////////////////////////////

const KINDS = { internal: 'interne', partner: 'partenaire', contact: 'contact' };

export function RolePickEntry(props) {
  const { element, id } = props;
  const { modeling, translate } = useCommon();
  const dictionary = useWords();
  const bo = getBusinessObject(element);
  const getOptions = () => {
    const options = [ { value: '', label: translate('— choisir un rôle —') },
      ...dictionary.roles.map(r => ({ value: r.key, label: `${r.label} (${translate(KINDS[r.kind] || r.kind)})` })) ];
    const current = bo.get('seq:role');
    if (current && !byKey(dictionary.roles, current)) {
      options.push({ value: current, label: translate('{key} — absent du dictionnaire', { key: current }) });
    }
    return options;
  };
  const setValue = key => {
    const role = byKey(dictionary.roles, key);
    const changes = { 'seq:role': key || undefined };
    if (role) {
      changes['seq:roleKind'] = role.kind === 'internal' ? undefined : role.kind;
      if (!bo.name) changes.name = role.label;
    }
    modeling.updateProperties(element, changes);
  };
  return <SelectEntry element={ element } id={ id } label={ translate('Rôle (dictionnaire)') }
    getValue={ () => bo.get('seq:role') || '' } setValue={ setValue } getOptions={ getOptions }
    description={ translate('Le rôle qui agit dans ce couloir ; sa nature vient du dictionnaire.') } />;
}

/** A role key typed in the lane that the dictionary lacks: added to it from here, labelled by the lane. */
export function RoleCreateEntry(props) {
  const { element, id } = props;
  const { translate } = useCommon();
  const config = useService('config.seqDictionary');
  const dictionary = useWords();
  const [ said, say ] = useState('');
  const bo = getBusinessObject(element);
  const key = bo.get('seq:role');
  if (!key || byKey(dictionary.roles, key)) {
    return said ? <p class="bio-properties-panel-description" role="status" data-entry-id={ id }>{ said }</p> : null;
  }
  const add = async () => {
    const body = { key, label: bo.name || key, kind: bo.get('seq:roleKind') || 'internal' };
    const answer = config && config.create ? await config.create('roles', body) : { ok: false, body: {} };
    if (answer.ok) {
      config.roles = [ ...(config.roles || []), body ];
      say(translate('Rôle « {label} » ajouté au dictionnaire.', { label: body.label }));
    } else {
      say((answer.body && answer.body.message) || translate("Le rôle n'a pas pu être ajouté au dictionnaire."));
    }
  };
  return <div class="bio-properties-panel-entry seq-dictionary-add" data-entry-id={ id }>
    <p class="bio-properties-panel-description">
      { translate('« {key} » n’est pas dans le dictionnaire.', { key }) }
    </p>
    <button type="button" class="seq-dictionary-button" onClick={ add }>
      { translate('Ajouter « {label} » au dictionnaire', { label: bo.name || key }) }
    </button>
    { said && <p class="bio-properties-panel-description" role="status">{ said }</p> }
  </div>;
}

// Outcomes ////////////////////////////////////////////////////////////////////////////////////////////

export function OutcomeLabelsEntry(props) {
  const { element, id } = props;
  const { modeling, translate, debounce } = useCommon();
  const dictionary = useWords();
  const bo = getBusinessObject(element);
  const getValue = () => outcomeLabels(bo.get('seq:outcomes'), dictionary.outcomes);
  const config = useService('config.seqDictionary');
  const [ , refresh ] = useState(0);
  const setValue = text => {
    const keys = outcomeKeys(text, dictionary.outcomes);
    modeling.updateProperties(element, { 'seq:outcomes': keys.length ? keys.join(',') : undefined });
    // An outcome the dictionary lacks is added to it with the label typed: every screen then shows it.
    const typed = (text || '').split(',').map(v => v.trim()).filter(Boolean);
    typed.forEach(async (label, index) => {
      const key = keys[index];
      if (!config || !config.create || byKey(config.outcomes, key) || label === key) return;
      const answer = await config.create('outcomes', { key, label });
      if (answer.ok) {
        config.outcomes = [ ...(config.outcomes || []), { key, label } ];
        refresh(n => n + 1);
      }
    });
  };
  const keys = split(bo.get('seq:outcomes'));
  const unknown = keys.filter(k => !byKey(dictionary.outcomes, k));
  const known = dictionary.outcomes.map(o => o.label).join(', ');
  const description = [
    keys.length ? translate('Clés : {keys}', { keys: keys.join(', ') }) : '',
    unknown.length && dictionary.outcomes.length ?
      translate('absents du dictionnaire : {keys}', { keys: unknown.join(', ') }) : '',
    known ? translate('Du dictionnaire : {labels}', { labels: known }) : ''
  ].filter(Boolean).join(' · ');
  return <TextFieldEntry element={ element } id={ id } label={ translate('Résultats possibles (libellés)') }
    description={ description || translate('séparés par des virgules, ex. Payé, Paiement partiel') }
    getValue={ getValue } setValue={ setValue } debounce={ debounce } />;
}

// Forms ///////////////////////////////////////////////////////////////////////////////////////////////

// How a field is on the form: absent, shown (read-only fact), filled, filled and required.
function formOf(bo) {
  const show = split(bo.get('seq:show'));
  const fill = split(bo.get('seq:fill'));
  const order = [ ...show.map(k => k.replace(/!$/, '')), ...fill.map(k => k.replace(/!$/, '')) ];
  const mode = {};
  show.forEach(k => { mode[k.replace(/!$/, '')] = 'show'; });
  fill.forEach(k => { mode[k.replace(/!$/, '')] = k.endsWith('!') ? 'required' : 'fill'; });
  return { order: [ ...new Set(order) ], mode };
}

function writeForm(modeling, element, order, mode) {
  const show = order.filter(k => mode[k] === 'show');
  const fill = order.filter(k => mode[k] === 'fill' || mode[k] === 'required')
    .map(k => (mode[k] === 'required' ? `${k}!` : k));
  modeling.updateProperties(element, {
    'seq:show': show.length ? show.join(',') : undefined,
    'seq:fill': fill.length ? fill.join(',') : undefined
  });
}

export function formFieldEntries(element, translate) {
  const { order } = formOf(getBusinessObject(element));
  return [
    ...order.map(key => ({ id: `seq-form-${key}`, key })),
    { id: 'seq-form-add', key: null }
  ];
}

export function FormFieldEntry(props) {
  const { element, id, fieldKey } = props;
  const { modeling, translate } = useCommon();
  const dictionary = useWords();
  const bo = getBusinessObject(element);
  const field = byKey(dictionary.fields, fieldKey);
  const getOptions = () => [
    { value: 'show', label: translate('Afficher (lecture seule)') },
    { value: 'fill', label: translate('À remplir') },
    { value: 'required', label: translate('À remplir, obligatoire') },
    { value: '', label: translate('Retirer du formulaire') }
  ];
  const setValue = value => {
    const { order, mode } = formOf(bo);
    if (value) mode[fieldKey] = value;
    else delete mode[fieldKey];
    writeForm(modeling, element, order.filter(k => mode[k]), mode);
  };
  const label = field ? field.label : translate('{key} — absent du dictionnaire', { key: fieldKey });
  return <SelectEntry element={ element } id={ id } label={ label }
    getValue={ () => formOf(bo).mode[fieldKey] || '' } setValue={ setValue } getOptions={ getOptions }
    description={ field ? `dossier.${fieldKey} · ${translate(TYPES[field.type] || field.type)}` : undefined } />;
}

const TYPES = {
  date: 'date', amount: 'montant', number: 'nombre', text: 'texte', choice: 'choix', boolean: 'oui/non'
};

export function FormAddEntry(props) {
  const { element, id } = props;
  const { modeling, translate } = useCommon();
  const dictionary = useWords();
  const bo = getBusinessObject(element);
  const getOptions = () => {
    const { mode } = formOf(bo);
    return [ { value: '', label: translate('— ajouter un champ du dictionnaire —') },
      ...dictionary.fields.filter(f => !mode[f.key])
        .map(f => ({ value: f.key, label: `${f.label} (${translate(TYPES[f.type] || f.type)})` })) ];
  };
  const setValue = key => {
    if (!key) return;
    const { order, mode } = formOf(bo);
    mode[key] = 'fill';
    writeForm(modeling, element, [ ...order, key ], mode);
  };
  const description = dictionary.fields.length ? translate(
    'Les champs à remplir apparaissent dans l’action du gestionnaire et du portail ; les valeurs vont au dossier.'
  ) : translate('Le dictionnaire n’a encore aucun champ : ajoutez-en dans la page Dictionnaire.');
  return <SelectEntry element={ element } id={ id } label={ translate('Ajouter au formulaire') }
    getValue={ () => '' } setValue={ setValue } getOptions={ getOptions } description={ description } />;
}

// Conditions ///////////////////////////////////////////////////////////////////////////////////////////

/** The outcomes the actions before the flow's gateway offer, with their labels. */
function outcomesBefore(element, dictionary) {
  const source = getBusinessObject(element).sourceRef;
  const keys = new Set();
  for (const node of source ? actionsBefore(source) : []) {
    split(node.get && node.get('seq:outcomes')).forEach(k => keys.add(k));
  }
  return [ ...keys ].map(k => ({ key: k, label: (byKey(dictionary.outcomes, k) || { label: k }).label }));
}

function subjectType(subject, dictionary) {
  if (subject === 'outcome') return 'outcome';
  const field = byKey(dictionary.fields, subject);
  return field ? field.type : 'text';
}

export function BuilderSubjectEntry(props) {
  const { element, id } = props;
  const { translate } = useCommon();
  const dictionary = useWords();
  const { get, set } = useCondition(element);
  const current = readCondition(get());
  const getOptions = () => [
    { value: '', label: current || !get() ? translate('— choisir —') : translate('(expression libre)') },
    { value: 'outcome', label: translate("Résultat de l'action précédente") },
    ...dictionary.fields.map(f => ({ value: f.key, label: `${f.label} (dossier.${f.key})` }))
  ];
  const setValue = subject => {
    if (!subject) return;
    const type = subjectType(subject, dictionary);
    const outcomes = outcomesBefore(element, dictionary);
    if (type === 'outcome' && outcomes.length) {
      set(writeCondition('outcome', 'text', '==', outcomes[0].key));
    } else if (type === 'choice') {
      const field = byKey(dictionary.fields, subject);
      set(field.choices.length ? writeCondition(subject, type, '==', field.choices[0].key)
        : writeCondition(subject, type, 'filled'));
    } else if (type === 'boolean') {
      set(writeCondition(subject, type, '==', true));
    } else {
      set(writeCondition(subject, type, 'filled'));
    }
  };
  return <SelectEntry element={ element } id={ id } label={ translate('Condition : si') }
    getValue={ () => (current ? current.subject : '') } setValue={ setValue } getOptions={ getOptions } />;
}

function startValue(type, subject, element, dictionary) {
  if (type === 'boolean') return true;
  if (type === 'amount' || type === 'number') return 0;
  if (type === 'date') return new Date().toISOString().slice(0, 10);
  if (type === 'outcome') return (outcomesBefore(element, dictionary)[0] || { key: '' }).key;
  if (type === 'choice') return ((byKey(dictionary.fields, subject) || { choices: [] }).choices[0] || { key: '' }).key;
  return '';
}

export function BuilderOperatorEntry(props) {
  const { element, id } = props;
  const { translate } = useCommon();
  const dictionary = useWords();
  const { get, set } = useCondition(element);
  const current = readCondition(get());
  if (!current) return null;
  const type = subjectType(current.subject, dictionary);
  const getOptions = () => operatorsFor(type === 'outcome' ? 'choice' : type)
    .map(op => ({ value: op, label: translate(OPERATORS[op]) }));
  const setValue = operator => {
    // Leaving "est renseigné" for a comparison: a value to start from, which the analyst then types.
    const value = current.value !== null ? current.value : startValue(type, current.subject, element, dictionary);
    const written = writeCondition(current.subject, type === 'outcome' ? 'text' : type, operator, value);
    set(written || writeCondition(current.subject, type, 'filled'));
  };
  return <SelectEntry element={ element } id={ id } label={ translate('Opérateur') }
    getValue={ () => current.operator } setValue={ setValue } getOptions={ getOptions } />;
}

export function BuilderValueEntry(props) {
  const { element, id } = props;
  const { translate, debounce } = useCommon();
  const dictionary = useWords();
  const { get, set } = useCondition(element);
  const current = readCondition(get());
  if (!current || current.operator === 'filled' || current.operator === 'empty') return null;
  const type = subjectType(current.subject, dictionary);
  const write = value => set(writeCondition(current.subject, type === 'outcome' ? 'text' : type,
    current.operator, value));
  const common = { element, id, label: translate('Valeur') };
  if (type === 'outcome' || type === 'choice' || type === 'boolean') {
    const options = type === 'outcome' ? outcomesBefore(element, dictionary).map(o => ({ value: o.key, label: o.label }))
      : type === 'choice' ? byKey(dictionary.fields, current.subject).choices.map(c => ({ value: c.key, label: c.label }))
        : [ { value: 'true', label: translate('Oui') }, { value: 'false', label: translate('Non') } ];
    const value = shownValue(type, current.value);
    if (value && !options.some(o => o.value === value)) options.push({ value, label: value });
    return <SelectEntry { ...common } getValue={ () => value } getOptions={ () => options }
      setValue={ v => write(type === 'boolean' ? v === 'true' : v) } />;
  }
  const validate = text => {
    if (!text) return translate('Indiquez une valeur.');
    if ((type === 'amount' || type === 'number') && frenchNumber(text) === null) {
      return translate('Un nombre, par exemple 1 200,50');
    }
    if (type === 'date' && !isoDate(text)) return translate('Une date, par exemple 15/03/2027');
    return null;
  };
  return <TextFieldEntry { ...common } debounce={ debounce } validate={ validate }
    getValue={ () => shownValue(type, current.value) } setValue={ (text, error) => { if (!error) write(text); } }
    description={ type === 'amount' ? translate('en euros, ex. 1 000') : undefined } />;
}

/** The raw expression, always available; typing `dossier.` proposes the dictionary's fields. */
export function ExpressionEntry(props) {
  const { element, id } = props;
  const { translate } = useCommon();
  const dictionary = useWords();
  const { get, set } = useCondition(element);
  const [ typed, setTyped ] = useState(null);
  const text = typed === null ? get() : typed;
  const listId = `bio-properties-panel-${id}-fields`;
  const suggestions = completions(text, dictionary.fields);
  const commit = () => {
    if (typed !== null && typed !== get()) set(typed);
    setTyped(null);
  };
  return <div class="bio-properties-panel-entry" data-entry-id={ id }>
    <label for={ `bio-properties-panel-${id}` } class="bio-properties-panel-label">
      { translate('Expression de la condition') }
    </label>
    <input id={ `bio-properties-panel-${id}` } class="bio-properties-panel-input" type="text" spellcheck={ false }
      autocomplete="off" list={ listId } value={ text }
      onInput={ event => setTyped(event.target.value) } onChange={ commit } onBlur={ commit } />
    <datalist id={ listId }>
      { suggestions.map(s => <option value={ s.value } label={ s.label } />) }
    </datalist>
    <div class="bio-properties-panel-description">
      { translate('ex. outcome == "paid" ou dossier.montant_plan > 1000 ; tapez « dossier. » pour la liste des champs') }
    </div>
  </div>;
}
