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
  'Add text annotation': 'Ajouter une annotation',
  'Append intermediate/boundary event': 'Ajouter un événement intermédiaire',
  'Append task': 'Ajouter une tâche', 'Connect using association': 'Relier par une association',
  'Open minimap': 'Ouvrir la vue d\'ensemble', 'Close minimap': 'Fermer la vue d\'ensemble',
  'Search in diagram': 'Rechercher dans le diagramme',
  // Headers of the properties panel (element types, as bpmn-js-properties-panel spells them).
  Process: 'Processus', Participant: 'Bassin', Lane: 'Couloir (rôle)', 'Sequence Flow': 'Flux',
  'Conditional Flow': 'Branche conditionnelle', 'Default Flow': 'Branche par défaut', Task: 'Tâche',
  'User Task': 'Action', 'Send Task': 'Communication', 'Call Activity': 'Appel d\'une autre séquence',
  'Script Task': 'Tâche de script', 'Service Task': 'Tâche de service',
  'Expanded Sub Process': 'Sous-processus', 'Collapsed Sub Process': 'Sous-processus replié',
  'Start Event': 'Début', 'End Event': 'Fin', 'Terminate End Event': 'Fin immédiate',
  'Timer Start Event': 'Début à une date', 'Message Start Event': 'Début sur événement',
  'Timer Boundary Event': 'Délai de bordure', 'Timer Boundary Event (Non Interrupting)':
    'Délai de bordure (sans interrompre)', 'Message Boundary Event': 'Événement de bordure',
  'Message Boundary Event (Non Interrupting)': 'Événement de bordure (sans interrompre)',
  'Timer Intermediate Catch Event': 'Attente d\'un délai', 'Message Intermediate Catch Event':
    'Attente d\'un événement métier', 'Intermediate Throw Event': 'Événement intermédiaire',
  'Exclusive Gateway': 'Branchement exclusif', 'Parallel Gateway': 'Branches en parallèle',
  'Inclusive Gateway': 'Branches inclusives', 'Event Based Gateway': 'Attente du premier événement',
  'Text Annotation': 'Annotation', Group: 'Groupe',
  // Groups of the properties panel.
  Timer: 'Délai', 'Execution listeners': 'Écouteurs d\'exécution',
  'Extension properties': 'Propriétés d\'extension', Type: 'Type', Value: 'Valeur'
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
  'Trêve hivernale (1er novembre – 31 mars)': 'Winter truce (1 November – 31 March)',
  // The panel's hints and refusals.
  'ex. commissaire_justice': 'e.g. commissaire_justice',
  'Minuscules, chiffres et « _ » seulement, ex. commissaire_justice':
    'Lower-case letters, digits and "_" only, e.g. commissaire_justice',
  'séparés par des virgules, ex. paid,partial,no_answer': 'separated by commas, e.g. paid,partial,no_answer',
  'Résultat invalide : {bad} (minuscules, chiffres, « _ »)': 'Invalid outcome: {bad} (lower-case letters, digits, "_")',
  'ex. P8D, « 8 jours », « 6 semaines »': 'e.g. P8D, "8 days", "10 working days", "6 weeks"',
  'Durée non reconnue : écrivez P15D, « 15 jours », « 6 semaines » ou « 2 mois »':
    'Duration not understood: write P15D, "15 days", "6 weeks" or "2 months"',
  'ex. mise_en_demeure': 'e.g. mise_en_demeure',
  'P15D, ou en toutes lettres : « 15 jours », « 6 semaines », « 2 mois »':
    'P15D, or in words: "15 days", "6 weeks", "2 months"',
  'ex. 2026-06-30T09:00:00Z ou add_duration(dossier.hearing_date, "-P6W")':
    'e.g. 2026-06-30T09:00:00Z or add_duration(dossier.hearing_date, "-P6W")',
  'ex. R3/P7D : trois fois, tous les 7 jours': 'e.g. R3/P7D: three times, every 7 days',
  'Cycle non reconnu : écrivez R3/P7D (3 fois, tous les 7 jours)':
    'Cycle not understood: write R3/P7D (3 times, every 7 days)',
  'Expression libre : {current}': 'Free expression: {current}',
  'Résultat « {outcome} » ({name})': 'Outcome "{outcome}" ({name})',
  'Statut « {status} » ({name})': 'Status "{status}" ({name})',
  'ex. outcome == "paid" ou dossier.montant > 1000': 'e.g. outcome == "paid" or dossier.montant > 1000',
  // The palette and the context pad (palette.js).
  'Fin immédiate (annule les actions ouvertes)': 'Immediate end (cancels the open actions)',
  'Attendre un délai (déposez-le sur une action pour un délai de bordure)':
    'Wait for a delay (drop it on an action for a boundary delay)',
  'Attendre un événement métier': 'Wait for a business event', 'Branches en parallèle': 'Parallel branches',
  'Branches inclusives': 'Inclusive branches', 'Attendre le premier événement': 'Wait for the first event',
  'Action (tâche, relance, validation)': 'Action (task, reminder, validation)', Communication: 'Communication',
  'Appeler une autre séquence': 'Call another sequence', 'Ajouter une action': 'Append an action',
  'Vue d\'ensemble': 'Overview', 'Zoom avant': 'Zoom in', 'Zoom arrière': 'Zoom out',
  // Headers of the properties panel, in the words the palette uses.
  'User Task': 'Action', 'Send Task': 'Communication', 'Call Activity': 'Call of another sequence',
  Lane: 'Lane (role)', 'Timer Intermediate Catch Event': 'Wait for a delay',
  'Message Intermediate Catch Event': 'Wait for a business event', 'Timer Boundary Event': 'Boundary delay',
  'Timer Boundary Event (Non Interrupting)': 'Boundary delay (not interrupting)',
  'Terminate End Event': 'Immediate end', 'Exclusive Gateway': 'Gateway (choice)'
};

export function translateModule(lang) {
  const table = lang === 'en' ? { ...TO_ENGLISH, ...DICTIONARY_ENGLISH } : TO_FRENCH;
  const translate = (template, replacements) => translateTemplate(table[template] || template, replacements);
  translate.lang = lang === 'en' ? 'en' : 'fr'; // for what is written in words (durations.js)
  return { translate: [ 'value', translate ] };
}

/** The page's own words (palette-free controls built by the page), through the same tables. */
export function translator(lang) {
  const table = lang === 'en' ? TO_ENGLISH : TO_FRENCH;
  return (template, replacements) => translateTemplate(table[template] || template, replacements);
}
