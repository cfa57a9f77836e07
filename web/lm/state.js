// The language-model page's settings, ONE property table (web/hash-state.js walks it): the URL hash holds each
// that differs from its default, so a lesson links to a setup. Names follow PEFT and transformers.
import { defaultsOf, fillControl, parseHash, readControl, toHash } from '../hash-state.js';
import { $ } from '../dom.js';

export const PROPS = [
  { key: 'model', default: 'smollm2', control: 'model' },
  { key: 'device', default: 'cpu', control: 'device' },
  { key: 'data', default: 'builtin:lora-lesson', control: 'data' },
  { key: 'max_len', type: 'number', default: 128, control: 'max-len' },
  { key: 'val_fraction', type: 'number', default: 0.2, control: 'val-fraction' },
  { key: 'method', default: 'lora', control: 'method', plan: true },
  { key: 'base', default: 'float32', control: 'base', plan: true },
  { key: 'gradient_checkpointing', type: 'flag', kind: 'check', default: false, control: 'gradient-checkpointing', plan: true },
  { key: 'r', type: 'number', default: 8, control: 'r', plan: true },
  { key: 'lora_alpha', type: 'number', default: 16, control: 'lora-alpha', plan: true },
  { key: 'target_modules', default: 'all-linear', control: 'target-modules', plan: true },
  { key: 'learning_rate', type: 'number', default: 0.002, control: 'learning-rate', plan: true },
  { key: 'num_train_epochs', type: 'number', default: 3, control: 'epochs', plan: true },
  { key: 'per_device_train_batch_size', type: 'number', default: 4, control: 'batch-size', plan: true },
  { key: 'seed', type: 'number', default: 0, control: 'seed', plan: true },
  { key: 'max_new_tokens', type: 'number', default: 48, control: 'max-new-tokens' },
  { key: 'temperature', type: 'number', default: 0, control: 'temperature' },
];

const DEFAULTS = defaultsOf(PROPS);

export function readHash() {
  return parseHash(location.hash, PROPS, DEFAULTS, { trimHide: true });
}

export function fillControls(values) {
  for (const row of PROPS) fillControl(row, $(row.control), values[row.key]);
  for (const name of values.hide ?? []) document.querySelector(`[data-panel="${name}"], [data-control="${name}"]`)?.setAttribute('hidden', '');
}

export function readControls(hide = []) {
  const values = Object.fromEntries(PROPS.map((row) => [row.key, readControl(row, $(row.control))]));
  return { ...values, hide };
}

export function writeHash(values) {
  history.replaceState(null, '', toHash(values, PROPS, DEFAULTS));
}

// The run's settings as the trainer reads them (crate/src/train/causal/plan.rs).
export function planOf(values) {
  return Object.fromEntries(PROPS.filter((p) => p.plan).map((p) => [p.key, values[p.key]]));
}
