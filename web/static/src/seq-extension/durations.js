// ISO 8601 durations as the runtime reads them (the seq: dialect, README "Writing sequences"), and the French phrases analysts type instead.
// Never quoted: the value is written as is (P15D), not as a Python string literal ("P15D").

const ISO_DURATION = /^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const ISO_CYCLE = /^R\d*\/-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

const WORD_NUMBERS = {
  un: 1, une: 1, deux: 2, trois: 3, quatre: 4, cinq: 5, six: 6, sept: 7, huit: 8, neuf: 9, dix: 10,
  onze: 11, douze: 12, quinze: 15, vingt: 20, trente: 30, quarante: 40, soixante: 60
};

// unit word -> [ISO designator, is it a time part (after T)?]
const UNITS = [
  [ /^(ans?|années?|annees?|years?|y)$/, 'Y', false ],
  [ /^(mois|months?)$/, 'M', false ],
  [ /^(semaines?|sem|weeks?|w)$/, 'W', false ],
  [ /^(jours?|j|days?|d)$/, 'D', false ],
  [ /^(heures?|h|hours?)$/, 'H', true ],
  [ /^(minutes?|min|mn)$/, 'M', true ],
  [ /^(secondes?|s|sec|seconds?)$/, 'S', true ]
];

const ORDER = [ 'Y', 'M', 'W', 'D', 'TH', 'TM', 'TS' ];

export function isIsoDuration(text) {
  return ISO_DURATION.test(text || '');
}

export function isIsoCycle(text) {
  return ISO_CYCLE.test(text || '');
}

/**
 * Reads "15 jours", "6 semaines", "2 mois", "1 mois et 15 jours", "quinze jours ouvrés", "P15D", "p15d".
 * Returns { iso, business } or null when the text is neither ISO nor a phrase we understand.
 */
export function parseDuration(text) {
  const raw = (text || '').trim();
  if (!raw) {
    return null;
  }
  if (isIsoDuration(raw.toUpperCase())) {
    return { iso: raw.toUpperCase(), business: false };
  }
  let phrase = raw.toLowerCase().normalize('NFC').replace(/,/g, ' ');
  let business = false;
  // "10 jours ouvrés", "10 working days", "10 business days": counted in working days
  const WORKING = /(^|\s)(ouvrés?|ouvres?|ouvrables?|working|business)(?=\s|$)/g;
  if (WORKING.test(phrase)) {
    business = true;
    phrase = phrase.replace(WORKING, ' ');
  }
  phrase = phrase.replace(/(\d)([a-zé])/g, '$1 $2');
  const words = phrase.split(/\s+|\bet\b/).filter(w => w && w !== 'et');
  const parts = {};
  let i = 0;
  if (!words.length) {
    return null;
  }
  while (i < words.length) {
    const number = /^\d+$/.test(words[i]) ? parseInt(words[i], 10) : WORD_NUMBERS[words[i]];
    if (number === undefined || i + 1 >= words.length) {
      return null;
    }
    const unit = UNITS.find(([ pattern ]) => pattern.test(words[i + 1]));
    if (!unit) {
      return null;
    }
    const key = (unit[2] ? 'T' : '') + unit[1];
    parts[key] = (parts[key] || 0) + number;
    i += 2;
  }
  let iso = 'P';
  let timeStarted = false;
  for (const key of ORDER) {
    if (!parts[key]) {
      continue;
    }
    if (key.startsWith('T') && !timeStarted) {
      iso += 'T';
      timeStarted = true;
    }
    iso += parts[key] + key.slice(-1);
  }
  return iso === 'P' ? null : { iso, business };
}

// Words of a duration, as bpmn/durations.py describe_duration writes them (French and English).
const UNIT_WORDS = {
  fr: [ [ 'an', 'ans' ], [ 'mois', 'mois' ], [ 'semaine', 'semaines' ], [ 'jour', 'jours' ], [ 'heure', 'heures' ],
    [ 'minute', 'minutes' ], [ 'seconde', 'secondes' ] ],
  en: [ [ 'year', 'years' ], [ 'month', 'months' ], [ 'week', 'weeks' ], [ 'day', 'days' ], [ 'hour', 'hours' ],
    [ 'minute', 'minutes' ], [ 'second', 'seconds' ] ]
};

/**
 * A reading of an ISO duration, for hints: P6W -> "6 semaines", P10D in working days -> "10 jours ouvrés"
 * ("10 working days" in English). Empty for what is not a duration.
 */
export function describeDuration(iso, { calendar = 'calendar', lang = 'fr' } = {}) {
  const match = ISO_DURATION.exec((iso || '').trim().toUpperCase());
  if (!match) {
    return '';
  }
  const english = lang === 'en';
  const groups = [ 1, 2, 3, 4, 6, 7, 8 ];
  const parts = [];
  groups.forEach((group, n) => {
    if (!match[group]) return;
    const value = parseFloat(match[group]);
    const [ one, many ] = UNIT_WORDS[english ? 'en' : 'fr'][n];
    let word = value === 1 ? one : many;
    if (calendar === 'business' && (n === 2 || n === 3)) {
      word = english ? `working ${word}` : `${word} ${n === 2 ? 'ouvrée' : 'ouvré'}${value === 1 ? '' : 's'}`;
    }
    parts.push(`${value} ${word}`);
  });
  if (!parts.length) return '';
  const joiner = english ? ' and ' : ' et ';
  return parts.length > 1 ? parts.slice(0, -1).join(', ') + joiner + parts[parts.length - 1] : parts[0];
}
