// bpmn-js `translate` service: our French source strings to English when the page is in English, and the
// most visible bpmn-js strings to French otherwise.
import translateTemplate from 'diagram-js/lib/i18n/translate/translate';

import { DICTIONARY_ENGLISH } from '../seq-extension/dictionary/i18n.js';

const TO_FRENCH = {
  General: 'Général', Name: 'Nom', ID: 'Identifiant', Documentation: 'Documentation',
  'Element documentation': "Documentation de l'élément", Executable: 'Exécutable', 'Process ID': 'Identifiant du processus',
  'Process name': 'Nom du processus', Message: 'Message', 'Global message reference': 'Message (référence globale)',
  'Activate hand tool': 'Outil main (déplacer la vue)', 'Activate lasso tool': 'Outil lasso (sélection)',
  'Activate create/remove space tool': "Outil d'espacement", 'Activate global connect tool': 'Outil de connexion',
  'Create start event': 'Début', 'Create end event': 'Fin', 'Create gateway': 'Branchement exclusif (choix)',
  'Create expanded sub-process': 'Sous-processus', 'Create pool/participant': 'Bassin (participant)',
  'Append end event': 'Ajouter une fin', 'Append gateway': 'Ajouter un branchement', 'Delete': 'Supprimer',
  'Change element': "Changer le type", 'Connect to other element': 'Relier à un autre élément',
  'Add lane above': 'Ajouter un couloir au-dessus', 'Add lane below': 'Ajouter un couloir en dessous',
  'Divide into two lanes': 'Diviser en deux couloirs', 'Divide into three lanes': 'Diviser en trois couloirs',
  'Add text annotation': 'Ajouter une annotation'
};

const TO_ENGLISH = {
  'Séquence': 'Sequence', 'Rôle (clé)': 'Role (key)', 'Type de rôle': 'Role kind', Interne: 'Internal',
  Partenaire: 'Partner', 'Contact (communications seulement)': 'Contact (communications only)',
  "Type d'action": 'Action type', 'Tâche': 'Task', Relance: 'Reminder', Validation: 'Validation',
  'Résultats possibles': 'Possible outcomes', 'Échéance (délai)': 'Due (delay)', Calendrier: 'Calendar',
  'Jours calendaires': 'Calendar days', 'Jours ouvrés (France)': 'Working days (France)', Canal: 'Channel',
  'E-mail': 'Email', Courrier: 'Letter', SMS: 'SMS', 'Modèle de message': 'Message template',
  'Séquence suivante': 'Next sequence', 'Séquence appelée': 'Called sequence',
  "Condition d'après l'action précédente": 'Condition from the previous action',
  'Expression de la condition': 'Condition expression', 'Branche par défaut': 'Default branch',
  Minuterie: 'Timer', 'Après un délai': 'After a delay', 'À une date': 'At a date', 'Cycle répété': 'Repeating cycle',
  'Délai': 'Delay', 'Date (ISO ou expression)': 'Date (ISO or expression)', Cycle: 'Cycle',
  'Calendrier du délai': 'Delay calendar', '— choisir —': '— choose —',
  'Délai de procédure (CPC)': 'Procedural delay (CPC)',
  'Délai de procédure : le jour de départ ne compte pas ; un délai qui finit un samedi, un dimanche ou un jour férié va jusqu’au jour ouvrable suivant (art. 641-642 CPC).':
    'Procedural delay: the starting day does not count; a delay ending on a Saturday, a Sunday or a public holiday runs to the next working day (art. 641-642 CPC).',
  'Une date qui tombe dans cette période est reportée au jour qui la suit.':
    'A date that falls in this period is moved to the day after it.',
  'Pas pendant': 'Not during', '— aucune —': '— none —',
  'Trêve hivernale (1er novembre – 31 mars)': 'Winter truce (1 November – 31 March)'
};

export function translateModule(lang) {
  const table = lang === 'en' ? { ...TO_ENGLISH, ...DICTIONARY_ENGLISH } : TO_FRENCH;
  const translate = (template, replacements) => translateTemplate(table[template] || template, replacements);
  return { translate: [ 'value', translate ] };
}
