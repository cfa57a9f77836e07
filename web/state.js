// The page's state and its URL-hash form. Every setting lives in the hash, so a setup is a link;
// `hide=` lists controls or panels to hide in an embedded lesson.

export const DEFAULTS = Object.freeze({
  model: 'all-MiniLM-L6-v2',
  config: null,        // pasted config.json text, or null for the preset
  r: 8,
  alpha: 8,            // PEFT's LoraConfig default
  rslora: false,
  targets: null,       // null: PEFT's default; 'all-linear'; or an array of names
  layers: null,        // null: every layer; or an array of indices
  bias: 'none',
  task: 'seq-cls',
  labels: 2,
  precision: 'fp32',
  adapter: 'fp32',
  optimizer: 'adamw',
  batch: 16,
  seq: 128,
  bottleneck: 64,
  vt: 20,
  hide: [],
});

const NUMBERS = ['r', 'alpha', 'labels', 'batch', 'seq', 'bottleneck', 'vt'];

// Raw strings stay strings when they are not numbers, so the page can point at the bad field
// instead of silently replacing it.
function number(text) {
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : text;
}

function toBase64Url(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export function parseHash(hash) {
  const state = { ...DEFAULTS, hide: [] };
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  for (const [key, value] of params) {
    if (NUMBERS.includes(key)) state[key] = number(value);
    else if (key === 'rslora') state.rslora = value === '1' || value === 'true';
    else if (key === 'targets') state.targets = value === 'all-linear' ? 'all-linear' : value.split(',').filter(Boolean);
    else if (key === 'layers') state.layers = value.split(',').filter(Boolean).map(number);
    else if (key === 'hide') state.hide = value.split(',').filter(Boolean);
    else if (key === 'config') {
      try { state.config = fromBase64Url(value); } catch { state.config = value; }
    } else if (key in DEFAULTS) state[key] = value;
  }
  return state;
}

export function toHash(state) {
  const params = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    const value = state[key];
    const def = DEFAULTS[key];
    if (value === def || value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      if (value.length === 0 && key === 'hide') continue;
      params.set(key, value.join(','));
    } else if (key === 'config') params.set(key, toBase64Url(value));
    else if (typeof value === 'boolean') params.set(key, value ? '1' : '0');
    else params.set(key, String(value));
  }
  return '#' + params.toString().replace(/%2C/g, ',');
}

// Checks a whole-number field; returns [value, message].
export function wholeNumber(value, name, min, max) {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    return [null, `${name} must be a whole number, got "${value}"`];
  }
  if (value < min || value > max) return [null, `${name} must be between ${min} and ${max}, got ${value}`];
  return [value, null];
}

// The engine's `Setup` for a state, or the per-control errors that stop one being built.
export function toSetup(state) {
  const errors = {};
  const check = (control, value, name, min, max) => {
    const [v, e] = wholeNumber(value, name, min, max);
    if (e) errors[control] = e;
    return v;
  };
  // r = 0 is passed through so the engine (and PEFT's wording) explains it.
  const r = check('r', state.r, 'r', 0, 1 << 20);
  const labels = check('task', state.labels, 'num_labels', 0, 1 << 20);
  const batch = check('batch', state.batch, 'batch size', 1, 65536);
  const seq = check('batch', state.seq, 'sequence length', 1, 1 << 20);
  const bottleneck = check('methods', state.bottleneck, 'bottleneck size', 1, 65536);
  const vt = check('methods', state.vt, 'virtual tokens', 1, 65536);
  if (typeof state.alpha !== 'number' || !Number.isFinite(state.alpha)) {
    errors.alpha = `lora_alpha must be a number, got "${state.alpha}"`;
  }
  const layers = state.layers === null ? null : state.layers;
  if (layers && layers.some((l) => !Number.isInteger(l) || l < 0)) {
    errors.layers = 'layers must be whole numbers from 0';
  }
  if (Object.keys(errors).length) return { errors };
  const setup = {
    model: state.model,
    config_json: state.config,
    task: state.task,
    num_labels: labels,
    lora: {
      r,
      lora_alpha: state.alpha,
      use_rslora: state.rslora,
      target_modules: state.targets,
      layers_to_transform: layers,
      bias: state.bias,
    },
    precision: state.precision,
    adapter_dtype: state.adapter,
    optimizer: state.optimizer,
    batch: { batch_size: batch, seq_len: seq },
    bottleneck,
    num_virtual_tokens: vt,
  };
  return { setup, errors };
}
