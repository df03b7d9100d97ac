// bpmn-js speaks English and technically; an analyst gets a sentence in the page's language saying why a file
// cannot be drawn, and on which line (the parser's own English text is never shown).
const REASONS = [
  [ /missing start tag|non-whitespace before first tag/i,
    [ "le fichier ne commence pas par une balise XML : ce n'est pas un fichier BPMN (texte, PDF, archive… ?)",
      'the file does not start with an XML tag: it is not a BPMN file (text, PDF, archive…?)' ] ],
  [ /closing tag mismatch|missing end tag/i,
    [ 'une balise est fermée par une autre que celle qui est ouverte (balise mal fermée ou contenu tronqué)',
      'a tag is closed by another than the one opened (badly closed tag or truncated content)' ] ],
  [ /unparsable content|unclosed|unexpected end|text data outside of root/i,
    [ "le fichier n'est pas un XML bien formé (balise mal fermée ou contenu tronqué)",
      'the file is not well-formed XML (badly closed tag or truncated content)' ] ],
  [ /failed to parse document as <bpmn:Definitions>/i,
    [ "ce n'est pas un fichier BPMN 2.0 : l'élément racine doit être bpmn:definitions",
      'it is not a BPMN 2.0 file: the root element must be bpmn:definitions' ] ],
  [ /no process or collaboration to display/i,
    [ 'le fichier ne contient ni processus ni collaboration à dessiner (seulement des définitions annexes)',
      'the file holds no process nor collaboration to draw (only side definitions)' ] ],
  [ /no diagram to display/i,
    [ 'le fichier ne contient aucun diagramme dessinable (BPMNDiagram manquant ou vide)',
      'the file holds no diagram to draw (BPMNDiagram missing or empty)' ] ],
  [ /duplicate ID/i, [ 'deux éléments portent le même identifiant', 'two elements have the same id' ] ],
  [ /no namespace uri given for prefix/i,
    [ "un préfixe d'espace de noms est utilisé sans être déclaré (xmlns manquant)",
      'a namespace prefix is used without being declared (missing xmlns)' ] ],
  [ /unresolved reference/i,
    [ "le fichier fait référence à un élément qui n'existe pas", 'the file refers to an element that does not exist' ] ],
  [ /missing namespace|unknown type|unrecognized/i,
    [ 'le fichier utilise un élément ou un espace de noms inconnu', 'the file uses an unknown element or namespace' ] ]
];

const WORDS = {
  fr: { cannotDraw: 'Ce fichier ne peut pas être dessiné : {reason}{line}.', line: ' (ligne {n})',
    unknown: 'bpmn-js ne sait pas le lire', unexpected: 'erreur inattendue',
    cannotWrite: "Le diagramme n'a pas pu être converti en XML : {reason}. Votre travail reste affiché ; " +
      "corrigez l'élément en cause ou téléchargez une copie." },
  en: { cannotDraw: 'This file cannot be drawn: {reason}{line}.', line: ' (line {n})',
    unknown: 'bpmn-js cannot read it', unexpected: 'unexpected error',
    cannotWrite: 'The diagram could not be written as XML: {reason}. Your work stays on screen; fix the ' +
      'element at fault or download a copy.' }
};

function words(lang) {
  return WORDS[lang === 'en' ? 'en' : 'fr'];
}

function reasonOf(detail, lang, fallback) {
  const found = REASONS.find(([ pattern ]) => pattern.test(detail));
  return found ? found[1][lang === 'en' ? 1 : 0] : fallback;
}

/** The parser counts lines from 0 ("line: 3" is the fourth line). */
function lineOf(detail) {
  const found = /\bline: (\d+)/.exec(detail);
  return found ? Number(found[1]) + 1 : null;
}

export function explainImportError(error, lang = document.documentElement.lang) {
  const detail = String((error && error.message) || error || '');
  const w = words(lang);
  const line = lineOf(detail);
  return w.cannotDraw.replace('{reason}', reasonOf(detail, lang, w.unknown))
    .replace('{line}', line ? w.line.replace('{n}', line) : '');
}

export function explainSaveError(error, lang = document.documentElement.lang) {
  const detail = String((error && error.message) || error || '');
  const w = words(lang);
  return w.cannotWrite.replace('{reason}', reasonOf(detail, lang, w.unexpected));
}
