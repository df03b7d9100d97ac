// English of the dictionary entries of the "Séquence" panel (dictionary/entries.jsx), merged into the
// designer's translate table (modeler/i18n.js).
export const DICTIONARY_ENGLISH = {
  'Rôle (dictionnaire)': 'Role (dictionary)', '— choisir un rôle —': '— choose a role —',
  interne: 'internal', partenaire: 'partner', contact: 'contact',
  '{key} — absent du dictionnaire': '{key} — not in the dictionary',
  'Le rôle qui agit dans ce couloir ; sa nature vient du dictionnaire.':
    'The role acting in this lane; its kind comes from the dictionary.',
  '« {key} » n’est pas dans le dictionnaire.': '“{key}” is not in the dictionary.',
  'Ajouter « {label} » au dictionnaire': 'Add “{label}” to the dictionary',
  'Rôle « {label} » ajouté au dictionnaire.': 'Role “{label}” added to the dictionary.',
  "Le rôle n'a pas pu être ajouté au dictionnaire.": 'The role could not be added to the dictionary.',
  'Résultats possibles (libellés)': 'Possible outcomes (labels)', 'Clés : {keys}': 'Keys: {keys}',
  'absents du dictionnaire : {keys}': 'not in the dictionary: {keys}',
  'Du dictionnaire : {labels}': 'From the dictionary: {labels}',
  'séparés par des virgules, ex. Payé, Paiement partiel': 'comma-separated, e.g. Paid, Partial payment',
  'Formulaire de l’action': 'Action form', 'Afficher (lecture seule)': 'Show (read-only)',
  'À remplir': 'To fill', 'À remplir, obligatoire': 'To fill, required', 'Retirer du formulaire': 'Remove from the form',
  'Ajouter au formulaire': 'Add to the form', '— ajouter un champ du dictionnaire —': '— add a dictionary field —',
  'Les champs à remplir apparaissent dans l’action du gestionnaire et du portail ; les valeurs vont au dossier.':
    'Fields to fill appear in the action, for case managers and in the portal; the values go to the dossier.',
  'Le dictionnaire n’a encore aucun champ : ajoutez-en dans la page Dictionnaire.':
    'The dictionary has no field yet: add some on the Dictionary page.',
  date: 'date', montant: 'amount', nombre: 'number', texte: 'text', choix: 'choice', 'oui/non': 'yes/no',
  'Condition : si': 'Condition: if', '(expression libre)': '(free expression)',
  "Résultat de l'action précédente": 'Outcome of the previous action', 'Opérateur': 'Operator', Valeur: 'Value',
  'est égal à': 'equals', 'est différent de': 'differs from', 'est supérieur à': 'is greater than',
  'est supérieur ou égal à': 'is at least', 'est inférieur à': 'is less than', 'est inférieur ou égal à': 'is at most',
  'est renseigné': 'is filled in', "n'est pas renseigné": 'is empty', Oui: 'Yes', Non: 'No',
  'Indiquez une valeur.': 'Enter a value.', 'Un nombre, par exemple 1 200,50': 'A number, e.g. 1,200.50',
  'Une date, par exemple 15/03/2027': 'A date, e.g. 15/03/2027', 'en euros, ex. 1 000': 'in euros, e.g. 1 000',
  'ex. outcome == "paid" ou dossier.montant_plan > 1000 ; tapez « dossier. » pour la liste des champs':
    'e.g. outcome == "paid" or dossier.montant_plan > 1000; type “dossier.” for the list of fields'
};
