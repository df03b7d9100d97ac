// The dictionary as the designer page carries it (config.seqDictionary, from designer.dictionary.load), and
// the small helpers the "Séquence" panel needs to speak its words: labels, outcome keys from labels, and the
// expressions the condition builder writes and reads back.

export const EMPTY = { roles: [], fields: [], outcomes: [], events: [] };

export function words(config) {
  return { ...EMPTY, ...(config || {}) };
}

export function byKey(list, key) {
  return (list || []).find(entry => entry.key === key);
}

/** "Paiement partiel" -> "paiement_partiel": the key an outcome typed as a label gets. */
export function slug(text) {
  return (text || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^(\d)/, '_$1');
}

/** The keys of outcomes typed as labels or keys, separated by commas: a known label gives its key. */
export function outcomeKeys(text, outcomes) {
  return (text || '').split(',').map(item => item.trim()).filter(Boolean).map(item => {
    const known = (outcomes || []).find(o => o.key === item ||
      o.label.toLowerCase() === item.toLowerCase());
    return known ? known.key : slug(item);
  });
}

/** "paid,partial" -> "Payé, Paiement partiel": what the analyst reads in the outcomes entry. */
export function outcomeLabels(keys, outcomes) {
  return (keys || '').split(',').map(k => k.trim()).filter(Boolean)
    .map(k => (byKey(outcomes, k) || { label: k }).label).join(', ');
}

// Conditions ////////////////////////////////////////////////////////////////////////////////////////////

const SIMPLE = /^\s*(outcome|dossier\.([a-z_][a-z0-9_]*))\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$/;

export const OPERATORS = {
  '==': 'est égal à', '!=': 'est différent de', '>': 'est supérieur à', '>=': 'est supérieur ou égal à',
  '<': 'est inférieur à', '<=': 'est inférieur ou égal à', filled: 'est renseigné', empty: "n'est pas renseigné"
};
const ORDERED = new Set([ 'amount', 'number', 'date' ]);

export function operatorsFor(type) {
  const base = [ '==', '!=' ];
  return [ ...base, ...(ORDERED.has(type) ? [ '>', '>=', '<', '<=' ] : []), 'filled', 'empty' ];
}

function literal(text) {
  const value = text.trim();
  if (value === 'None') return { value: null };
  if (value === 'True' || value === 'true') return { value: true };
  if (value === 'False' || value === 'false') return { value: false };
  const quoted = /^"((?:[^"\\]|\\.)*)"$|^'((?:[^'\\]|\\.)*)'$/.exec(value);
  if (quoted) return { value: (quoted[1] !== undefined ? quoted[1] : quoted[2]).replace(/\\(.)/g, '$1') };
  if (/^-?\d+(\.\d+)?$/.test(value)) return { value: Number(value) };
  return null;
}

/** {subject: "outcome" | field key, operator, value} of a simple condition, or null for anything else. */
export function readCondition(expression) {
  const found = SIMPLE.exec(expression || '');
  if (!found) return null;
  const subject = found[2] || 'outcome';
  const parsed = literal(found[4]);
  if (!parsed) return null;
  let operator = found[3];
  if (parsed.value === null && operator === '==') operator = 'empty';
  else if (parsed.value === null && operator === '!=') operator = 'filled';
  else if (parsed.value === null) return null;
  return { subject, operator, value: parsed.value };
}

/** A French number ("1 200,50", "1200.5 €") as a number, or null. */
export function frenchNumber(text) {
  let value = String(text).replace(/[\s\u00a0\u202f'€]/g, '');
  if (value.includes(',') && value.includes('.')) {
    value = value.lastIndexOf(',') > value.lastIndexOf('.') ? value.replace(/\./g, '').replace(',', '.')
      : value.replace(/,/g, '');
  } else {
    value = value.replace(',', '.');
  }
  return /^-?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : null;
}

/** "15/03/2027" or "2027-03-15" as "2027-03-15", or null. */
export function isoDate(text) {
  const value = String(text).trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(value);
  const french = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(value);
  const [ year, month, day ] = iso ? [ iso[1], iso[2], iso[3] ] : french ? [ french[3], french[2], french[1] ] : [];
  if (!year) return null;
  const date = new Date(Date.UTC(+year, +month - 1, +day));
  if (date.getUTCMonth() !== +month - 1) return null;
  return date.toISOString().slice(0, 10);
}

/** The value typed in the builder as an expression literal for a field of `type`, or null if unreadable. */
export function valueLiteral(type, value) {
  if (value === null || value === undefined) return null;
  if (value === '' && type !== 'text') return null;
  if (type === 'amount' || type === 'number') {
    const number = typeof value === 'number' ? value : frenchNumber(value);
    return number === null ? null : String(number);
  }
  if (type === 'boolean') return value === true || value === 'true' ? 'True' : 'False';
  if (type === 'date') {
    const day = isoDate(value);
    return day ? JSON.stringify(day) : null;
  }
  return JSON.stringify(String(value));
}

/** The expression of a simple condition (null while it cannot be written yet). */
export function writeCondition(subject, type, operator, value) {
  const left = subject === 'outcome' ? 'outcome' : `dossier.${subject}`;
  if (operator === 'filled') return `${left} != None`;
  if (operator === 'empty') return `${left} == None`;
  const right = valueLiteral(type, value);
  return right === null ? null : `${left} ${operator} ${right}`;
}

/** The value of a condition as the builder shows it: 1200.5 -> "1200,5", "2027-03-15" -> "15/03/2027". */
export function shownValue(type, value) {
  if (value === null || value === undefined) return '';
  if ((type === 'amount' || type === 'number') && typeof value === 'number') {
    return new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 }).format(value);
  }
  if (type === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [ y, m, d ] = value.split('-');
    return `${d}/${m}/${y}`;
  }
  if (type === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

/** Completions of the expression typed so far when it ends with `dossier.<start of a key>`. */
export function completions(text, fields) {
  const found = /(^|[^A-Za-z0-9_.])dossier\.([a-z0-9_]*)$/.exec(text || '');
  if (!found) return [];
  const before = text.slice(0, text.length - found[2].length);
  return (fields || []).filter(f => f.key.startsWith(found[2]))
    .map(f => ({ value: before + f.key, label: f.label }));
}
