// The entries of the "Séquence" group. JSX runs on the Preact bundled inside @bpmn-io/properties-panel.
import { SelectEntry, TextFieldEntry, CheckboxEntry } from '@bpmn-io/properties-panel';
import { useService } from 'bpmn-js-properties-panel';
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

import { parseDuration, describeDuration, isIsoCycle } from '../durations.js';
import { conditionChoices } from './conditions.js';

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;

function useCommon() {
  return {
    modeling: useService('modeling'),
    translate: useService('translate'),
    debounce: useService('debounceInput')
  };
}

/** A text or select entry bound to one seq: attribute of the element's business object. */
function attrEntry(kind, attr, label, options = {}) {
  return function Entry(props) {
    const { element, id } = props;
    const { modeling, translate, debounce } = useCommon();
    const bo = getBusinessObject(element);
    const getValue = () => bo.get(attr) || options.defaultValue || '';
    const setValue = (value, error) => {
      if (error) {
        return;
      }
      const cleaned = options.clean ? options.clean(value) : value;
      // Some values carry a second one: "10 jours ouvrés" is a delay and a calendar.
      const extra = options.extra ? options.extra(value) : {};
      modeling.updateProperties(element, { [attr]: cleaned || undefined, ...extra });
    };
    const common = { element, id, label: translate(label), getValue, setValue };
    if (kind === 'select') {
      const catalogue = options.catalogue ? useService('config.seqCatalogue') : null;
      const getOptions = () => {
        let choices = options.choices(translate, catalogue);
        const current = bo.get(attr);
        if (current && !choices.some(c => c.value === current)) {
          choices = [ ...choices, { value: current, label: current } ];
        }
        return choices;
      };
      const hint = options.description ? translate(options.description) : undefined;
      return <SelectEntry { ...common } getOptions={ getOptions } description={ hint } />;
    }
    const validate = options.validate ? value => options.validate(value, translate) : undefined;
    const reading = options.reading ? options.reading(bo, translate) : '';
    const description = options.description ? translate(options.description) + reading : undefined;
    return <TextFieldEntry { ...common } debounce={ debounce } validate={ validate }
      description={ description } />;
  };
}

const blank = { value: '', label: '—' };

export const RoleEntry = attrEntry('text', 'seq:role', 'Rôle (clé)', {
  description: 'ex. commissaire_justice',
  validate: (value, t) => (!value || IDENTIFIER.test(value)) ? null :
    t('Minuscules, chiffres et « _ » seulement, ex. commissaire_justice')
});

export const RoleKindEntry = attrEntry('select', 'seq:roleKind', 'Type de rôle', {
  choices: t => [
    { value: 'internal', label: t('Interne') },
    { value: 'partner', label: t('Partenaire') },
    { value: 'contact', label: t('Contact (communications seulement)') }
  ],
  defaultValue: 'internal'
});

export const ActionTypeEntry = attrEntry('select', 'seq:action', "Type d'action", {
  choices: t => [
    { value: 'task', label: t('Tâche') },
    { value: 'reminder', label: t('Relance') },
    { value: 'validation', label: t('Validation') }
  ],
  defaultValue: 'task'
});

export const OutcomesEntry = attrEntry('text', 'seq:outcomes', 'Résultats possibles', {
  description: 'séparés par des virgules, ex. paid,partial,no_answer',
  clean: value => value.split(',').map(v => v.trim()).filter(Boolean).join(','),
  validate: (value, t) => {
    const bad = (value || '').split(',').map(v => v.trim()).filter(v => v && !IDENTIFIER.test(v));
    return bad.length ? t('Résultat invalide : {bad} (minuscules, chiffres, « _ »)', { bad: bad.join(', ') }) : null;
  }
});

function durationValidate(value, t) {
  if (!value || parseDuration(value)) {
    return null;
  }
  return t('Durée non reconnue : écrivez P15D, « 15 jours », « 6 semaines » ou « 2 mois »');
}

// The delay in words, in the page's language, as the runtime will count it: " — 10 jours ouvrés".
function durationReading(iso, calendar, translate) {
  const words = describeDuration(iso, { calendar, lang: translate.lang });
  return words ? ` — ${words}` : '';
}

export const DueEntry = attrEntry('text', 'seq:due', 'Échéance (délai)', {
  description: 'ex. P8D, « 8 jours », « 6 semaines »',
  clean: value => (parseDuration(value) || { iso: '' }).iso,
  // "10 jours ouvrés" is counted in working days: the calendar follows, as it does on timers.
  extra: value => ((parseDuration(value) || {}).business ? { 'seq:calendar': 'business' } : {}),
  reading: (bo, translate) => durationReading(bo.get('seq:due'), bo.get('seq:calendar'), translate),
  validate: durationValidate
});

const calendarChoices = t => [
  { value: 'calendar', label: t('Jours calendaires') },
  { value: 'business', label: t('Jours ouvrés (France)') },
  // art. 641-642 CPC: the starting day not counted, an end on a weekend or a public holiday extended
  { value: 'legal', label: t('Délai de procédure (CPC)') }
];

// Named periods of the legal calendar a due date or a timer is kept out of (bpmn/durations.py PERIODS).
const periodChoices = t => [
  { value: '', label: t('— aucune —') },
  { value: 'treve_hivernale', label: t('Trêve hivernale (1er novembre – 31 mars)') }
];

export const NotDuringEntry = attrEntry('select', 'seq:notDuring', 'Pas pendant', {
  choices: periodChoices, description: 'Une date qui tombe dans cette période est reportée au jour qui la suit.'
});

const LEGAL_HINT = "Délai de procédure : le jour de départ ne compte pas ; un délai qui finit un samedi, un " +
  'dimanche ou un jour férié va jusqu’au jour ouvrable suivant (art. 641-642 CPC).';

export const CalendarEntry = attrEntry('select', 'seq:calendar', 'Calendrier', {
  choices: calendarChoices, defaultValue: 'calendar', description: LEGAL_HINT
});

export const ChannelEntry = attrEntry('select', 'seq:channel', 'Canal', {
  choices: t => [
    blank, { value: 'email', label: t('E-mail') }, { value: 'letter', label: t('Courrier') },
    { value: 'sms', label: t('SMS') }
  ]
});

export const TemplateEntry = attrEntry('text', 'seq:template', 'Modèle de message', {
  description: 'ex. mise_en_demeure'
});

function catalogueChoices(t, catalogue) {
  return [ blank, ...((catalogue && catalogue.sequences) || []).map(s => ({
    value: s.key, label: s.name && s.name !== s.key ? `${s.name} (${s.key})` : s.key
  })) ];
}

export const NextEntry = attrEntry('select', 'seq:next', 'Séquence suivante', {
  choices: catalogueChoices, catalogue: true
});

export const CalledElementEntry = attrEntry('select', 'calledElement', 'Séquence appelée', {
  choices: catalogueChoices, catalogue: true
});

// Conditions on flows ///////////////////////////////////////////////////////////////////////////////

export function useCondition(element) {
  const bpmnFactory = useService('bpmnFactory');
  const { modeling } = useCommon();
  const bo = getBusinessObject(element);
  const get = () => (bo.conditionExpression && bo.conditionExpression.body) || '';
  const set = text => {
    const body = (text || '').trim();
    const expression = body ? bpmnFactory.create('bpmn:FormalExpression', { body }) : undefined;
    modeling.updateProperties(element, { conditionExpression: expression });
  };
  return { get, set };
}

export function ConditionChoiceEntry(props) {
  const { element, id } = props;
  const { translate } = useCommon();
  const { get, set } = useCondition(element);
  const getOptions = () => {
    const choices = conditionChoices(element, translate);
    const current = get();
    const options = [ { value: '', label: translate('— choisir —') }, ...choices ];
    if (current && !choices.some(c => c.value === current)) {
      options.push({ value: current, label: translate('Expression libre : {current}', { current }) });
    }
    return options;
  };
  return <SelectEntry element={ element } id={ id } label={ translate("Condition d'après l'action précédente") }
    getValue={ get } setValue={ set } getOptions={ getOptions } />;
}

export function ConditionExpressionEntry(props) {
  const { element, id } = props;
  const { translate, debounce } = useCommon();
  const { get, set } = useCondition(element);
  return <TextFieldEntry element={ element } id={ id } label={ translate('Expression de la condition') }
    description={ translate('ex. outcome == "paid" ou dossier.montant > 1000') }
    getValue={ get } setValue={ set } debounce={ debounce } />;
}

export function DefaultFlowEntry(props) {
  const { element, id } = props;
  const { modeling, translate } = useCommon();
  const elementRegistry = useService('elementRegistry');
  const bo = getBusinessObject(element);
  const source = element.source;
  const getValue = () => !!(source && getBusinessObject(source).default === bo);
  const setValue = checked => {
    if (!source) {
      return;
    }
    const gateway = elementRegistry.get(source.id);
    if (checked) {
      modeling.updateProperties(element, { conditionExpression: undefined });
      modeling.updateProperties(gateway, { default: bo });
    } else {
      modeling.updateProperties(gateway, { default: undefined });
    }
  };
  return <CheckboxEntry element={ element } id={ id } label={ translate('Branche par défaut') }
    getValue={ getValue } setValue={ setValue } />;
}

// Timers ////////////////////////////////////////////////////////////////////////////////////////////

export function timerDefinition(element) {
  const bo = getBusinessObject(element);
  return (bo.eventDefinitions || []).find(d => is(d, 'bpmn:TimerEventDefinition'));
}

export function timerKind(definition) {
  if (definition.timeDate) return 'timeDate';
  if (definition.timeCycle) return 'timeCycle';
  return 'timeDuration';
}

export function TimerKindEntry(props) {
  const { element, id } = props;
  const { modeling, translate } = useCommon();
  const bpmnFactory = useService('bpmnFactory');
  const definition = timerDefinition(element);
  const setValue = kind => {
    const old = timerKind(definition);
    const body = definition[old] ? definition[old].body : '';
    modeling.updateModdleProperties(element, definition, {
      timeDuration: undefined, timeDate: undefined, timeCycle: undefined,
      [kind]: bpmnFactory.create('bpmn:FormalExpression', { body })
    });
    if (kind === 'timeDate' && getBusinessObject(element).get('seq:calendar')) {
      modeling.updateProperties(element, { 'seq:calendar': undefined }); // no calendar counts a date
    }
  };
  const getOptions = () => [
    { value: 'timeDuration', label: translate('Après un délai') },
    { value: 'timeDate', label: translate('À une date') },
    { value: 'timeCycle', label: translate('Cycle répété') }
  ];
  return <SelectEntry element={ element } id={ id } label={ translate('Minuterie') }
    getValue={ () => timerKind(definition) } setValue={ setValue } getOptions={ getOptions } />;
}

export function TimerValueEntry(props) {
  const { element, id } = props;
  const { modeling, translate, debounce } = useCommon();
  const bpmnFactory = useService('bpmnFactory');
  const definition = timerDefinition(element);
  const kind = timerKind(definition);
  const getValue = () => (definition[kind] && definition[kind].body) || '';
  const validate = value => {
    if (!value) return null;
    if (kind === 'timeDuration') return durationValidate(value, translate);
    if (kind === 'timeCycle' && !isIsoCycle(value.trim().toUpperCase())) {
      return translate('Cycle non reconnu : écrivez R3/P7D (3 fois, tous les 7 jours)');
    }
    return null;
  };
  const setValue = (value, error) => {
    if (error) return;
    let body = (value || '').trim();
    if (kind === 'timeDuration' && body) {
      const parsed = parseDuration(body);
      body = parsed.iso;
      if (parsed.business) {
        modeling.updateProperties(element, { 'seq:calendar': 'business' });
      }
    } else if (kind === 'timeCycle') {
      body = body.toUpperCase();
    }
    modeling.updateModdleProperties(element, definition, {
      [kind]: bpmnFactory.create('bpmn:FormalExpression', { body })
    });
  };
  const labels = {
    timeDuration: 'Délai', timeDate: 'Date (ISO ou expression)', timeCycle: 'Cycle'
  };
  const hints = {
    timeDuration: 'P15D, ou en toutes lettres : « 15 jours », « 6 semaines », « 2 mois »',
    timeDate: 'ex. 2026-06-30T09:00:00Z ou add_duration(dossier.hearing_date, "-P6W")',
    timeCycle: 'ex. R3/P7D : trois fois, tous les 7 jours'
  };
  const current = getValue();
  const reading = kind === 'timeDuration' && current ?
    durationReading(current, getBusinessObject(element).get('seq:calendar'), translate) : '';
  return <TextFieldEntry element={ element } id={ id } label={ translate(labels[kind]) }
    description={ translate(hints[kind]) + reading } getValue={ getValue } setValue={ setValue }
    validate={ validate } debounce={ debounce } />;
}

export const TimerCalendarEntry = attrEntry('select', 'seq:calendar', 'Calendrier du délai', {
  choices: calendarChoices, defaultValue: 'calendar', description: LEGAL_HINT
});
