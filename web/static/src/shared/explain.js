// bpmn-js speaks English and technically; an analyst gets a French sentence saying why a file cannot be drawn.
const REASONS = [
  [ /unparsable content|unclosed|unexpected end|non-whitespace before first tag|missing end tag|text data outside of root/i,
    "le fichier n'est pas un XML bien formé (balise mal fermée ou contenu tronqué)" ],
  [ /failed to parse document as <bpmn:Definitions>/i,
    "ce n'est pas un fichier BPMN 2.0 : l'élément racine doit être bpmn:definitions" ],
  [ /no process or collaboration to display/i,
    'le fichier ne contient ni processus ni collaboration à dessiner (seulement des définitions annexes)' ],
  [ /no diagram to display/i, 'le fichier ne contient aucun diagramme dessinable (BPMNDiagram manquant ou vide)' ],
  [ /duplicate ID/i, 'deux éléments portent le même identifiant' ],
  [ /no namespace uri given for prefix/i,
    "un préfixe d'espace de noms est utilisé sans être déclaré (xmlns manquant)" ],
  [ /unresolved reference/i, 'le fichier fait référence à un élément qui n\'existe pas' ],
  [ /missing namespace|unknown type|unrecognized/i, "le fichier utilise un élément ou un espace de noms inconnu" ]
];

export function explainImportError(error) {
  const detail = String((error && error.message) || error || '').split('\n')[0];
  const found = REASONS.find(([ pattern ]) => pattern.test(detail));
  const reason = found ? found[1] : 'bpmn-js ne sait pas le lire';
  return `Ce fichier ne peut pas être dessiné : ${reason}. (Détail technique : ${detail})`;
}

export function explainSaveError(error) {
  const detail = String((error && error.message) || error || '');
  const found = REASONS.find(([ pattern ]) => pattern.test(detail));
  const reason = found ? found[1] : 'erreur inattendue';
  return `Le diagramme n'a pas pu être converti en XML : ${reason}. Votre travail reste affiché ; ` +
    `corrigez l'élément en cause ou téléchargez une copie. (Détail technique : ${detail})`;
}
