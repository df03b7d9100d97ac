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
  if (/\b(ouvrés?|ouvres?|ouvrables?)\b/.test(phrase)) {
    business = true;
    phrase = phrase.replace(/\b(ouvrés?|ouvres?|ouvrables?)\b/g, ' ');
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

/** A French reading of an ISO duration, for hints: P6W -> "6 semaines". */
export function describeDuration(iso) {
  const match = ISO_DURATION.exec(iso || '');
  if (!match) {
    return '';
  }
  const labels = [ [ 1, 'an', 'ans' ], [ 2, 'mois', 'mois' ], [ 3, 'semaine', 'semaines' ], [ 4, 'jour', 'jours' ],
    [ 6, 'heure', 'heures' ], [ 7, 'minute', 'minutes' ], [ 8, 'seconde', 'secondes' ] ];
  const out = [];
  for (const [ index, one, many ] of labels) {
    if (match[index]) {
      const n = parseFloat(match[index]);
      out.push(`${n} ${n > 1 ? many : one}`);
    }
  }
  return out.join(' ');
}
