// The calculator's settings, from ONE property table (the training page's idiom, web/train/state.js): each row is
// a setting, its hash key, type and default (web/hash-state.js reads and writes the hash from it), the control that
// shows it when one plain control does (app.js fills and reads those from the table; the model, the pasted config,
// the target and layer checkboxes and the rank slider are wired by hand there), and the checks the engine's Setup
// needs. Every setting lives in the hash, so a setup is a link; `hide=` lists controls or panels to hide in an
// embedded lesson.
import * as hashState from './hash-state.js';

export { wholeNumber } from './hash-state.js';

// `targets=` is PEFT's `all-linear` or a list of names.
const targetsOf = (text) => (text === 'all-linear' ? text : hashState.TYPES.list.parse(text));

// whole: [min, max] the whole numbers it takes, finite: any number; `name` is PEFT's name in the message, `error`
// the control whose message box shows it (the key's when left out).
export const PROPS = Object.freeze([
  { key: 'model', default: 'all-MiniLM-L6-v2' },
  // Pasted config.json text, or null for the preset.
  { key: 'config', type: 'base64', default: null },
  // r = 0 is passed through so the engine (and PEFT's wording) explains it.
  { key: 'r', type: 'number', default: 8, control: 'r-num', kind: 'number', whole: [0, 1 << 20], name: 'r' },
  // PEFT's LoraConfig default.
  { key: 'alpha', type: 'number', default: 8, control: 'alpha', kind: 'number', finite: true, name: 'lora_alpha' },
  { key: 'rslora', type: 'flag', default: false, control: 'rslora', kind: 'check' },
  // null: PEFT's default; 'all-linear'; or an array of names.
  { key: 'targets', type: 'list', default: null, parse: targetsOf },
  // null: every layer; or an array of indices.
  { key: 'layers', type: 'numbers', default: null },
  { key: 'bias', default: 'none', control: 'bias', kind: 'select' },
  { key: 'task', default: 'seq-cls', control: 'task', kind: 'select' },
  { key: 'labels', type: 'number', default: 2, control: 'labels', kind: 'number',
    whole: [0, 1 << 20], name: 'num_labels', error: 'task' },
  { key: 'precision', default: 'fp32', control: 'precision', kind: 'select' },
  { key: 'adapter', default: 'fp32', control: 'adapter', kind: 'select' },
  { key: 'optimizer', default: 'adamw', control: 'optimizer', kind: 'select' },
  { key: 'batch', type: 'number', default: 16, control: 'batch', kind: 'number', whole: [1, 65536], name: 'batch size' },
  { key: 'seq', type: 'number', default: 128, control: 'seq', kind: 'number',
    whole: [1, 1 << 20], name: 'sequence length', error: 'batch' },
  { key: 'gradient_checkpointing', type: 'flag', default: false, control: 'gradient-checkpointing', kind: 'check' },
  { key: 'bottleneck', type: 'number', default: 64, control: 'bottleneck', kind: 'number',
    whole: [1, 65536], name: 'bottleneck size', error: 'methods' },
  { key: 'vt', type: 'number', default: 20, control: 'vt', kind: 'number', whole: [1, 65536], name: 'virtual tokens', error: 'methods' },
]);

export const DEFAULTS = Object.freeze({ ...hashState.defaultsOf(PROPS), hide: [] });

export function parseHash(hash) {
  return hashState.parseHash(hash, PROPS, DEFAULTS);
}

// Only commas are left as typed in the calculator's hash (its links have always been written so).
export function toHash(state) {
  return hashState.toHash(state, PROPS, DEFAULTS, { literal: ',' });
}

// The engine's `Setup` for a state, or the per-control errors that stop one being built.
export function toSetup(state) {
  const errors = hashState.checkValues(PROPS, state);
  const layers = state.layers === null ? null : state.layers;
  if (layers && layers.some((l) => !Number.isInteger(l) || l < 0)) {
    errors.layers = 'layers must be whole numbers from 0';
  }
  if (Object.keys(errors).length) return { errors };
  const setup = {
    model: state.model,
    config_json: state.config,
    task: state.task,
    num_labels: state.labels,
    lora: {
      r: state.r,
      lora_alpha: state.alpha,
      use_rslora: state.rslora,
      target_modules: state.targets,
      layers_to_transform: layers,
      bias: state.bias,
    },
    precision: state.precision,
    adapter_dtype: state.adapter,
    optimizer: state.optimizer,
    batch: { batch_size: state.batch, seq_len: state.seq, gradient_checkpointing: state.gradient_checkpointing },
    bottleneck: state.bottleneck,
    num_virtual_tokens: state.vt,
  };
  return { setup, errors };
}
