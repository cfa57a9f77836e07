// Wiring: controls -> state -> URL hash -> engine (wasm) -> view, once per animation frame.
import init, * as engine from './pkg/lora_playground.js';
import { DEFAULTS, PROPS, parseHash, toHash, toSetup } from './state.js';
import { applyHide, fillControl, readControl } from './hash-state.js';
import { $ } from './dom.js';
import { trainLink } from './links.js';
import {
  controlFor, formatEngineError, renderModelControls, renderPresets, renderRankTable, renderReport, showErrors,
} from './view.js';

// The table's rows that one plain control shows; the rest are wired by hand below.
const CONTROLLED = PROPS.filter((p) => p.control);
let state = parseHash(location.hash);
let lastReport = null;
let describedKey = null;
let frame = 0;

function modelKey(s) {
  return JSON.stringify([s.model, s.config, s.task, s.labels]);
}

// Puts state into the form (on load and when the hash changes by hand).
function fillControls() {
  $('model').value = state.config !== null ? 'custom' : state.model;
  $('config').value = state.config ?? engine.preset_config(state.model) ?? '';
  $('r').value = typeof state.r === 'number' ? Math.min(Math.max(state.r, 1), 256) : 8;
  for (const p of CONTROLLED) fillControl(p, $(p.control), state[p.key]);
  $('labels').disabled = state.task !== 'seq-cls';
  applyHide(state.hide);
}

function update() {
  cancelAnimationFrame(frame);
  frame = requestAnimationFrame(compute);
}

function compute() {
  history.replaceState(null, '', toHash(state));
  const train = trainLink(state);
  $('train-this').href = train.href;
  $('train-this').title = train.sameModel ? 'the same model and LoRA settings in the training page'
    : 'these LoRA settings in the training page, on its own model (it trains the presets of at most 150M parameters, and Gemma 3 270M in the language-model page)';
  const { setup, errors } = toSetup(state);
  if (setup) {
    const key = modelKey(state);
    if (key !== describedKey) {
      try {
        renderModelControls(engine.describe(setup), state);
        describedKey = key;
      } catch (e) {
        errors[controlFor(e.field)] = formatEngineError(e);
        describedKey = null;
      }
    } else {
      syncModelControls();
    }
    if (describedKey !== null && Object.keys(errors).length === 0) {
      try {
        lastReport = engine.compute(setup);
        renderReport(lastReport, state);
      } catch (e) {
        errors[controlFor(e.field)] = formatEngineError(e);
      }
    }
  }
  showErrors(errors);
}

// Keeps checkbox states in step with the state without rebuilding them (so focus stays put).
function syncModelControls() {
  const mode = state.targets === null ? 'default' : state.targets === 'all-linear' ? 'all-linear' : 'custom';
  for (const radio of document.querySelectorAll('input[name="target-mode"]')) radio.checked = radio.value === mode;
  for (const box of document.querySelectorAll('[data-target]')) {
    if (mode === 'custom') box.checked = state.targets.some((t) => box.value === t || box.value.endsWith(`.${t}`));
  }
  $('layers-all').checked = state.layers === null;
  for (const box of document.querySelectorAll('[data-layer]')) {
    box.checked = state.layers === null || state.layers.includes(Number(box.value));
  }
}

// What else changes with a table control, besides its setting: the slider follows r typed in range, and the number
// of labels only counts for sequence classification.
const ALSO = {
  r: () => { if (typeof state.r === 'number' && state.r >= 1 && state.r <= 256) $('r').value = state.r; },
  task: () => { $('labels').disabled = state.task !== 'seq-cls'; },
};

function wire() {
  $('model').addEventListener('change', (e) => {
    if (e.target.value === 'custom') {
      $('config-box').open = true;
      $('config').focus();
      return;
    }
    state.model = e.target.value;
    state.config = null;
    state.targets = null;
    state.layers = null;
    $('config').value = engine.preset_config(state.model) ?? '';
    update();
  });
  $('config-apply').addEventListener('click', () => {
    state.config = $('config').value;
    state.targets = null;
    state.layers = null;
    $('model').value = 'custom';
    update();
  });
  $('config-clear').addEventListener('click', () => {
    state.config = null;
    state.targets = null;
    state.layers = null;
    fillControls();
    update();
  });
  $('config-file').addEventListener('change', async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    if (file.size > 1 << 20) {
      showErrors({ config: `${file.name} is ${file.size} bytes; a config.json is a few KB` });
      return;
    }
    $('config').value = await file.text();
    $('config-apply').click();
  });
  $('r').addEventListener('input', (e) => {
    state.r = Number(e.target.value);
    $('r-num').value = state.r;
    update();
  });
  // Number fields count as they are typed; selects and checkboxes when they change.
  for (const p of CONTROLLED) {
    $(p.control).addEventListener(p.kind === 'number' ? 'input' : 'change', (e) => {
      state[p.key] = readControl(p, e.target);
      ALSO[p.key]?.();
      update();
    });
  }
  $('alpha-r').addEventListener('click', () => { state.alpha = state.r; $('alpha').value = state.alpha; update(); });
  $('alpha-2r').addEventListener('click', () => { state.alpha = 2 * state.r; $('alpha').value = state.alpha; update(); });
  for (const radio of document.querySelectorAll('input[name="target-mode"]')) {
    radio.addEventListener('change', (e) => {
      const mode = e.target.value;
      if (mode === 'default') state.targets = null;
      else if (mode === 'all-linear') state.targets = 'all-linear';
      else {
        // Start from what is ticked now, so switching to "choose" changes nothing until a box changes.
        state.targets = [...document.querySelectorAll('[data-target]:checked')].map((b) => b.value);
      }
      update();
    });
  }
  // Ticking a box in "PEFT default" or "all-linear" mode switches to "choose", starting from what was ticked.
  $('target-list').addEventListener('change', (e) => {
    if (!e.target.matches('[data-target]')) return;
    state.targets = [...document.querySelectorAll('[data-target]:checked')].map((b) => b.value);
    update();
  });
  $('layers-all').addEventListener('change', (e) => {
    state.layers = e.target.checked ? null : [...document.querySelectorAll('[data-layer]')].map((b) => Number(b.value));
    update();
  });
  $('layer-list').addEventListener('change', (e) => {
    if (!e.target.matches('[data-layer]')) return;
    state.layers = [...document.querySelectorAll('[data-layer]:checked')].map((b) => Number(b.value));
    update();
  });
  $('rank-module').addEventListener('change', () => lastReport && renderRankTable(lastReport));
  $('copy-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      $('copied').textContent = 'Link copied.';
    } catch {
      $('copied').textContent = `Copy this link: ${location.href}`;
    }
  });
  window.addEventListener('hashchange', () => {
    if (location.hash === toHash(state)) return;
    state = parseHash(location.hash);
    describedKey = null;
    fillControls();
    update();
  });
}

async function main() {
  try {
    await init();
  } catch (e) {
    $('status').textContent = `The calculator engine (WebAssembly) did not load: ${e}. Rebuild with tools/serve.sh (the README's first command).`;
    return;
  }
  renderPresets(engine.presets(), state.config !== null ? 'custom' : state.model);
  fillControls();
  wire();
  // The first figures are computed now, not in the next animation frame (`update`): a reader waiting on
  // data-ready (a lesson's script, a page test) must find them drawn.
  compute();
  document.body.dataset.ready = 'true';
}

main();
export { DEFAULTS };
