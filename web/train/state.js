// The training page's settings and their URL-hash form, from ONE table: each row ties a hash key to the control
// that shows it and to the Plan field (PEFT's name) the trainer reads. Parsing the hash, filling the controls,
// reading them back, building the plan and writing the hash all walk this table (the hash and the plain controls
// through web/hash-state.js, the calculator's machinery too), so a setting added here is a control, a link
// parameter and a plan field at once. Any setup is a link:
//   train.html#model=tiny&device=cpu&data=sentiment&method=lora&r=4&alpha=8&targets=query,value&layers=0,1
// and `hide=` lists controls (the hash keys below, plus EXTRA_CONTROLS) or panels (PANELS) to hide for a lesson.
// Values are kept as the text the hash carries; the trainer's `check_plan` parses and checks them (it accepts
// "1e-3" where a number goes), so a bad value reaches it as typed and its message can name it.

// kind: 'select', 'number' and 'text' hold el.value; 'check' el.checked (1/0 in the hash); 'targets' is the
// target_modules checkboxes with `all-linear`. Every row's type is hash-state's 'text' (left out): the values stay
// as typed. `default` is the default of a setting outside the plan; the plan's defaults come from
// `Trainer.default_plan()`, the one source of them (the CLI's too).
import { $, h } from '../dom.js';
import * as hashState from '../hash-state.js';
import { applyHide } from '../hash-state.js';
import { DEFAULT_HUB, parseHubId } from './model-files.js';

export { applyHide };

const isHubId = (value) => {
  try {
    return Boolean(parseHubId(value));
  } catch {
    return false;
  }
};

export const PROPS = [
  // What to load: the page's own settings.
  { key: 'device', control: 'device', kind: 'select', default: 'auto' },
  // How many Web Workers share a CPU run's batch (web/train/helpers.js).
  { key: 'workers', control: 'workers', kind: 'select', default: 'auto' },
  { key: 'model', control: 'model-choice', kind: 'select', default: 'all-MiniLM-L6-v2' },
  // A served model's weights: its float16 copy (half the download) or float32 (the reference).
  { key: 'weights', control: 'weights', kind: 'select', default: 'float16' },
  // Where `model=hf:ORG/NAME` is fetched from: the Hub, or a course's mirror of it.
  { key: 'hub', control: 'hub', kind: 'text', default: DEFAULT_HUB },
  { key: 'data', control: 'builtin', kind: 'select', default: 'complaints' },
  // The plan.
  { key: 'method', control: 'method', kind: 'select', field: 'method' },
  // QLoRA: the frozen linear layers held in NF4 blocks (float32 the rest), as bitsandbytes quantizes them.
  { key: 'base', control: 'base', kind: 'select', field: 'base' },
  { key: 'r', control: 'r', kind: 'number', field: 'r' },
  { key: 'alpha', control: 'alpha', kind: 'number', field: 'lora_alpha' },
  { key: 'targets', control: 'all-linear', kind: 'targets', field: 'target_modules' },
  { key: 'layers', control: 'layers', kind: 'text', field: 'layers_to_transform' },
  { key: 'bias', control: 'bias', kind: 'select', field: 'bias' },
  { key: 'dropout', control: 'lora-dropout', kind: 'number', field: 'lora_dropout' },
  { key: 'rslora', control: 'rslora', kind: 'check', field: 'use_rslora' },
  // Text, not a number input: blank means the method's usual rate, and a bad value stays as typed so its message names it.
  { key: 'lr', control: 'lr', kind: 'text', field: 'lr' },
  { key: 'epochs', control: 'epochs', kind: 'number', field: 'epochs' },
  { key: 'batch', control: 'batch', kind: 'number', field: 'batch_size' },
  { key: 'maxlen', control: 'max-len', kind: 'number', field: 'max_len' },
  { key: 'seed', control: 'seed', kind: 'number', field: 'seed' },
  { key: 'decay', control: 'weight-decay', kind: 'number', field: 'weight_decay' },
  { key: 'warmup', control: 'warmup', kind: 'number', field: 'warmup_ratio' },
  { key: 'clip', control: 'max-grad-norm', kind: 'number', field: 'max_grad_norm' },
  { key: 'val', control: 'val-fraction', kind: 'number', field: 'val_fraction' },
  // The Experiment panel: what varies over the plan (train::experiment's grid).
  { key: 'xlora', control: 'x-lora', kind: 'check', default: '1' },
  { key: 'xfull', control: 'x-full', kind: 'check', default: '0' },
  { key: 'xhead', control: 'x-head', kind: 'check', default: '0' },
  { key: 'xbitfit', control: 'x-bitfit', kind: 'check', default: '0' },
  { key: 'xranks', control: 'x-ranks', kind: 'text', default: '1,4,16,64' },
  { key: 'xtargets', control: 'x-targets', kind: 'text', default: '' },
  { key: 'xalpha', control: 'x-fixed-alpha', kind: 'check', default: '0' },
];

// Names `hide=` takes besides the hash keys: parts of panels, and the panels (train.html's data-panel).
export const EXTRA_CONTROLS = ['xmethods', 'upload', 'tokens', 'figures', 'charts', 'predict', 'merge', 'inside', 'open-calculator'];
export const PANELS = ['runtime', 'dataset', 'train', 'results', 'history', 'adapters', 'experiment'];

const byField = new Map(PROPS.filter((p) => p.field).map((p) => [p.field, p]));
const targetBoxes = () => [...document.querySelectorAll('input[name=target]')];

// The hash key whose control a plan field (an error's `field`) belongs to, or null.
export function keyForField(field) {
  return byField.get(field)?.key ?? null;
}

// Settings' defaults: the plan's from `Trainer.default_plan()` (may be null when the trainer did not load: then
// the controls' own values stand), the rest from the table.
export function defaultSettings(plan, controls = null) {
  const out = {};
  for (const p of PROPS) {
    if (!p.field) out[p.key] = p.default;
    // A plan value as the text the hash and the controls hold.
    else if (plan && p.field in plan) out[p.key] = hashState.textOf(plan[p.field]);
    else out[p.key] = controls?.[p.key] ?? '';
  }
  return out;
}

// `#r=4&targets=query,value&hide=history` over the defaults. Unknown keys are ignored.
export function parseHash(hash, defaults) {
  return hashState.parseHash(hash, PROPS, defaults, { trimHide: true });
}

// Only what differs from the defaults, so a link says what a lesson changed. Commas, colons and slashes as typed,
// so `model=hf:org/name` reads as written.
export function toHash(settings, defaults) {
  return hashState.toHash(settings, PROPS, defaults, { literal: ',:/' });
}

export function writeHash(settings, defaults) {
  const hash = toHash(settings, defaults);
  if (hash !== (location.hash || '#')) history.replaceState(null, '', hash === '#' ? location.pathname + location.search : hash);
}

// Puts settings into the controls.
export function fillControls(settings) {
  for (const p of PROPS) {
    const value = settings[p.key];
    if (p.kind === 'targets') {
      fillTargets(value);
      continue;
    }
    const el = $(p.control);
    if (p.kind === 'select') fillSelect(p, el, value);
    else hashState.fillControl(p, el, value);
  }
}

function fillSelect(p, el, value) {
  if (![...el.options].some((o) => o.value === value)) {
    // Any folder the server has under models/ can be named in a link (a course's own model), and any Hub id.
    if (p.key === 'model' && /^[\w.-]+$/.test(value)) el.append(new Option(`${value} (from this server)`, value));
    else if (p.key === 'model' && isHubId(value)) el.append(new Option(`${value} (Hugging Face Hub)`, value));
    else return; // a value the control does not offer keeps the control's choice
  }
  el.value = value;
}

function fillTargets(value) {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const all = names.length === 1 && names[0] === 'all-linear';
  $('all-linear').checked = all;
  // A module the list does not offer (a link made for another model) gets its own box, so nothing is lost.
  for (const name of names) {
    if (all || targetBoxes().some((b) => b.value === name) || !/^[\w.-]+$/.test(name)) continue;
    $('all-linear').closest('label').before(h('label', {}, h('input', { type: 'checkbox', name: 'target', value: name }), ` ${name}`));
  }
  for (const box of targetBoxes()) {
    box.checked = !all && names.includes(box.value);
    box.disabled = all;
  }
}

// The settings the controls hold now.
export function readControls() {
  const out = {};
  for (const p of PROPS) {
    if (p.kind === 'targets') {
      out[p.key] = $('all-linear').checked ? 'all-linear' : targetBoxes().filter((b) => b.checked).map((b) => b.value).join(',');
    } else out[p.key] = hashState.readControl(p, $(p.control));
  }
  return out;
}

// The plan fields for `check_plan` / `prepare`, as typed: numbers as text (the trainer parses them and names
// the field it cannot), target_modules as a list, use_rslora as a boolean, layers_to_transform as "0,1" or null.
export function toPlan(settings) {
  const plan = {};
  for (const p of PROPS) {
    if (!p.field) continue;
    const text = settings[p.key];
    if (p.kind === 'check') plan[p.field] = text === '1' || text === 'true';
    else if (p.kind === 'targets') plan[p.field] = text.split(',').map((s) => s.trim()).filter(Boolean);
    else if (p.field === 'layers_to_transform') plan[p.field] = text.trim() === '' ? null : text;
    else plan[p.field] = text;
  }
  return plan;
}

// Is this element one of the table's controls (for one listener on the whole page)?
export function isSettingControl(el) {
  return el.name === 'target' || PROPS.some((p) => p.control === el.id);
}

// Binds controls, store and hash: a control the student changes updates `settings` in the store, and every
// change of `settings` (from a control or a panel) is written into the hash; a hash edited by hand fills the
// controls. `defaults` are what the hash leaves out.
export function bindSettings(store, defaults) {
  store.watch(['settings'], ({ settings }) => writeHash(settings, defaults));
  const changed = () => {
    const settings = { ...readControls(), hide: store.get().settings.hide };
    if (JSON.stringify(settings) !== JSON.stringify(store.get().settings)) store.set({ settings });
  };
  document.addEventListener('input', (e) => { if (isSettingControl(e.target)) changed(); });
  document.addEventListener('change', (e) => {
    if (e.target.id === 'all-linear') for (const box of targetBoxes()) box.disabled = e.target.checked;
    if (isSettingControl(e.target)) changed();
  });
  window.addEventListener('hashchange', () => {
    if ((location.hash || '#') === toHash(store.get().settings, defaults)) return;
    const settings = parseHash(location.hash, defaults);
    fillControls(settings);
    applyHide(settings.hide);
    store.set({ settings: { ...readControls(), hide: settings.hide } });
  });
}
