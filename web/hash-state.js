// A page's settings and their URL-hash form, from ONE property table: each row is a setting,
//   { key, type, default, control, kind, ... }
// `key` is its name in the hash, `type` how its value is read from and written to the hash (TYPES below; 'text'
// when left out), `default` what the hash leaves out, `control` the id of the element that shows it and `kind`
// what that element is ('check' a checkbox, anything else an element with a value). A page may add its own
// columns (the trainer's plan field, the calculator's checks). Both pages (web/state.js, web/train/state.js) keep
// their table and walk it with the functions here, so the two hashes are read and written by one piece of code.
// Every setting is in the hash, so a setup is a link; `hide=` lists controls or panels to hide in a lesson.

// Raw strings stay strings when they are not numbers, so the page can point at the bad field instead of silently
// replacing it.
export function number(text) {
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : text;
}

// A value as the hash (and a control) writes it: booleans as 1/0, lists joined by commas, nothing as ''.
export function textOf(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

// config.json text travels as URL-safe base64 without padding, so a whole file fits in a link unharmed.
export function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text) {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

const list = (text) => text.split(',').filter(Boolean);

// How each type reads the hash's text; all write with `textOf` except base64.
export const TYPES = {
  text: { parse: (text) => text },
  number: { parse: number },
  flag: { parse: (text) => text === '1' || text === 'true' },
  list: { parse: list },
  numbers: { parse: (text) => list(text).map(number) },
  // Text that is not base64 is kept as it came, so a hand-edited link still shows what it carried.
  base64: {
    parse: (text) => {
      try {
        return fromBase64Url(text);
      } catch {
        return text;
      }
    },
    write: toBase64Url,
  },
};

// A row may override its type's reading with its own `parse` (the calculator's targets: `all-linear` or a list).
const parseOf = (row) => row.parse ?? TYPES[row.type ?? 'text'].parse;
const writeOf = (row) => TYPES[row.type ?? 'text'].write ?? textOf;

// The table's defaults by key.
export function defaultsOf(props) {
  return Object.fromEntries(props.map((p) => [p.key, p.default]));
}

// `#r=4&targets=query,value&hide=history` over the defaults, each value read by its row's type. Keys the table
// lacks are ignored. `trimHide`: whether the names in `hide=` lose surrounding spaces (the trainer's do, the
// calculator's never did, and its hash is written back as read).
export function parseHash(hash, props, defaults = defaultsOf(props), { trimHide = false } = {}) {
  const byKey = new Map(props.map((p) => [p.key, p]));
  const values = { ...defaults, hide: [] };
  for (const [key, text] of new URLSearchParams(hash.replace(/^#/, ''))) {
    if (key === 'hide') values.hide = (trimHide ? text.split(',').map((s) => s.trim()) : text.split(',')).filter(Boolean);
    else if (byKey.has(key)) values[key] = parseOf(byKey.get(key))(text);
  }
  return values;
}

// Only what differs from the defaults, in the table's order, then `hide=`; so a link says what a lesson changed.
// `literal`: the characters left as typed rather than percent-encoded (all are fine in a fragment). Each page keeps
// the set it always wrote, so links already shared read back to the same hash.
export function toHash(values, props, defaults = defaultsOf(props), { literal = ',' } = {}) {
  const params = new URLSearchParams();
  for (const p of props) {
    const value = values[p.key];
    if (value === defaults[p.key] || value === null || value === undefined) continue;
    params.set(p.key, writeOf(p)(value));
  }
  if (values.hide?.length) params.set('hide', values.hide.join(','));
  const text = hashText(params, literal);
  return text ? `#${text}` : '#';
}

// URLSearchParams' text with the `literal` characters put back as typed.
export function hashText(params, literal = ',') {
  let text = params.toString();
  for (const c of literal) text = text.replaceAll(encodeURIComponent(c), c);
  return text;
}

// A row's control: the value it shows (the value itself, not its hash encoding), and the value read back from it
// by the row's type (a checkbox as 1/0, anything else its text, trimmed).
export function fillControl(row, el, value) {
  const text = textOf(value);
  if (row.kind === 'check') el.checked = text === '1' || text === 'true';
  else el.value = text;
}

export function readControl(row, el) {
  return parseOf(row)(row.kind === 'check' ? (el.checked ? '1' : '0') : el.value.trim());
}

// Checks a whole-number field; returns [value, message].
export function wholeNumber(value, name, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return [null, `${name} must be a whole number, got "${value}"`];
  }
  if (value < min || value > max) return [null, `${name} must be between ${min} and ${max}, got ${value}`];
  return [value, null];
}

// The rows' own checks, as messages by the control that shows them (`error`, else the key): `whole: [min, max]`
// a whole number in that range, `finite` any number. `name` is the setting's name in the messages (PEFT's).
export function checkValues(props, values) {
  const errors = {};
  for (const p of props) {
    const value = values[p.key];
    let message = null;
    if (p.whole) message = wholeNumber(value, p.name ?? p.key, ...p.whole)[1];
    else if (p.finite && (typeof value !== 'number' || !Number.isFinite(value))) {
      message = `${p.name ?? p.key} must be a number, got "${value}"`;
    }
    if (message) errors[p.error ?? p.key] = message;
  }
  return errors;
}

// hide=r,alpha,history: controls and panels by name (data-control, data-panel).
export function applyHide(hide) {
  for (const el of document.querySelectorAll('[data-control], [data-panel]')) {
    el.hidden = hide.includes(el.dataset.control ?? el.dataset.panel);
  }
}
