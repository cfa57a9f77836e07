// The training page's wiring: controls -> worker messages; worker replies -> state -> view. The model, the data
// and the training loop live in the worker (web/train/worker.js); the live cost figures come from the same
// calculator engine as the calculator page, for the model actually loaded.
import initEngine, * as engine from '../pkg/lora_playground.js';
import { bytes, grouped } from '../format.js';
import { accuracyChart, compareChart, lossChart } from './charts.js';
import { loadModelFiles, readPickedFolder } from './model-files.js';
import {
  renderAdapters, renderDataset, renderHistory, renderMemory, renderMergeCheck, renderPrediction, renderResults, renderTokens, showError,
} from './view.js';

const $ = (id) => document.getElementById(id);

// Settings a link can carry: #model=tiny&device=cpu&data=sentiment&method=lora&r=4&epochs=2 ...
const params = new URLSearchParams(location.hash.slice(1));
const CONTROLS = {
  method: 'method', r: 'r', alpha: 'alpha', lr: 'lr', epochs: 'epochs', batch: 'batch', maxlen: 'max-len', seed: 'seed',
  layers: 'layers', bias: 'bias', dropout: 'lora-dropout',
};
for (const [key, id] of Object.entries(CONTROLS)) if (params.has(key)) $(id).value = params.get(key);
if (params.get('rslora') === '1') $('rslora').checked = true;
if (params.has('targets')) {
  const want = params.get('targets').split(',');
  $('all-linear').checked = want.includes('all-linear');
  for (const box of document.querySelectorAll('input[name=target]')) box.checked = want.includes(box.value);
}
if (params.has('model')) {
  // Any folder the server has under models/ can be named in the link (a course's own model).
  const name = params.get('model');
  if (![...$('model-choice').options].some((o) => o.value === name) && /^[\w.-]+$/.test(name)) {
    $('model-choice').append(new Option(`${name} (from this server)`, name));
  }
  $('model-choice').value = name;
}
if (params.has('device')) $('device').value = params.get('device');
if (params.has('data')) $('builtin').value = params.get('data');

const state = {
  device: null, // {backend, adapter}
  model: null, // summary from the worker, with config_json
  data: null, // dataset summary
  run: null, // the run in progress: its curves and figures
  runs: [], // history
  compare: new Set(),
  calc: null, // the calculator's figures for the current plan
  adapters: [], // kept adapters (the worker holds their tensors over the one base model)
  chosen: -1, // the adapter that classifies
  downloads: [], // object URLs of the last download links, revoked when replaced
};
let engineReady = false; // the calculator's wasm, for the live figures

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (type, body = {}, transfer = []) => worker.postMessage({ type, ...body }, transfer);

const loss = lossChart($('loss-chart'));
const acc = accuracyChart($('acc-chart'));
// Read-only handles for the end-to-end tests (tests/e2e/train.mjs) and for the curious in the console.
window.lpTrain = { runs: state.runs, lossChart: loss, accChart: acc, simulateDeviceLoss: () => send('simulate-device-loss') };

// ---- device ----------------------------------------------------------------------------------------------

async function webgpuAvailable() {
  try {
    return Boolean(navigator.gpu && await navigator.gpu.requestAdapter());
  } catch {
    return false;
  }
}

let deviceWanted = 'cpu';
async function chooseDevice() {
  const choice = $('device').value;
  const hasGpu = await webgpuAvailable();
  deviceWanted = choice === 'auto' ? (hasGpu ? 'webgpu' : 'cpu') : choice;
  if (choice === 'auto' && !hasGpu) $('device-note').dataset.fallback = 'no-webgpu';
  $('device-note').textContent = 'starting...';
  send('device', { kind: deviceWanted });
}

function deviceReady(info) {
  state.device = info;
  const note = $('device-note');
  note.dataset.state = info.backend;
  note.textContent = info.backend === 'webgpu'
    ? `WebGPU on ${info.adapter}`
    : `CPU: ${info.adapter}${note.dataset.fallback === 'no-webgpu' ? ' (this browser offers no WebGPU, so the CPU runs the model)' : ''}`;
}

// ---- model -----------------------------------------------------------------------------------------------

async function loadModel() {
  showError('err-model', null);
  const choice = $('model-choice').value;
  if (choice === 'tiny') {
    $('model-note').textContent = 'loading the tiny model...';
    modelSource = 'Random weights (std 0.2), made in the page: no download.';
    send('model', { source: 'tiny', seed: 0 });
    return;
  }
  if (choice === 'folder') {
    $('model-folder').click();
    return;
  }
  const bar = $('download-bar');
  $('download').hidden = false;
  try {
    const files = await loadModelFiles(choice, ({ file, loaded, total, cached }) => {
      bar.max = total || 1;
      bar.value = loaded;
      $('download-text').textContent = `${cached ? 'from the browser cache' : 'downloading'} ${file}: ` +
        `${bytes(loaded)} of ${bytes(total)} (${total ? ((100 * loaded) / total).toFixed(0) : 0}%)`;
    });
    modelSource = files.fromCache ? 'Loaded from the browser cache (no network needed).' : 'Downloaded, and cached for next time.';
    sendModel(choice, files);
  } catch (e) {
    showError('err-model', e);
  }
}

function sendModel(name, files) {
  const safetensors = files.safetensors.buffer;
  const tokenizer = files.tokenizer_json.buffer;
  send('model', { source: 'files', name, config_json: files.config_json, safetensors, tokenizer_json: tokenizer }, [safetensors, tokenizer]);
}

$('model-folder').addEventListener('change', async (e) => {
  try {
    const files = await readPickedFolder(e.target.files);
    modelSource = 'Read from your disk.';
    sendModel('local folder', files);
  } catch (err) {
    showError('err-model', err);
  }
});

let modelSource = '';
// Keep and download act on the worker's last trained job, which a new model or dataset replaces.
function exportable(on) {
  $('keep-run').disabled = !on;
  $('download-run').disabled = !on;
}

function modelReady(summary) {
  state.model = summary;
  exportable(false);
  // The worker forgot the adapters: they belonged to the previous base model.
  state.adapters = [];
  state.chosen = -1;
  drawAdapters();
  renderMemory($('adapter-memory'), { adapter_bytes: [] });
  $('adapter-prediction').replaceChildren();
  $('model-note').textContent = `${summary.name}: ${summary.num_hidden_layers} layers, hidden ${summary.hidden_size}, ` +
    `${summary.num_attention_heads} heads, vocabulary ${grouped(summary.vocab_size)}. ${modelSource}`;
  $('max-len').max = summary.max_position_embeddings;
  previewTokens();
  updateFigures();
}

// ---- data ------------------------------------------------------------------------------------------------

function sendData(name, bytesArr) {
  showError('err-data', null);
  send('data', { name, bytes: bytesArr.buffer }, [bytesArr.buffer]);
}

$('builtin-load').addEventListener('click', () => send('builtin', { name: $('builtin').value }));
$('data-file').addEventListener('change', async (e) => {
  const f = e.target.files[0];
  if (f) sendData(f.name, new Uint8Array(await f.arrayBuffer()));
});
$('data-paste-use').addEventListener('click', () => {
  const text = $('data-paste').value;
  const name = text.trimStart().startsWith('{') ? 'pasted.jsonl' : text.split('\n')[0].includes('\t') ? 'pasted.tsv' : 'pasted.csv';
  sendData(name, new TextEncoder().encode(text));
});
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) sendData(f.name, new Uint8Array(await f.arrayBuffer()));
});
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') $('data-file').click(); });

function dataReady(summary) {
  state.data = summary;
  exportable(false);
  // The stratified split keeps round(20%) of each class (at least one) for validation: shown per class.
  const split = summary.counts.map((n) => Math.min(Math.max(Math.round(n * 0.2), n > 1 ? 1 : 0), Math.max(n - 1, 0)));
  renderDataset($('data-summary'), $('data-problems'), summary, split);
  // The preview follows the data until someone types their own sentence.
  if (!tokenTextTyped && summary.sample.length) $('token-text').value = summary.sample[0][0];
  previewTokens();
  updateFigures();
}

function previewTokens() {
  const text = $('token-text').value;
  if (state.model && text) send('tokens', { text, max_len: Number($('max-len').value) || 64 });
}
let tokenTextTyped = false;
$('token-text').addEventListener('input', () => { tokenTextTyped = true; previewTokens(); });
$('max-len').addEventListener('input', previewTokens);

// ---- plan and live figures -------------------------------------------------------------------------------

function targets() {
  if ($('all-linear').checked) return ['all-linear'];
  return [...document.querySelectorAll('input[name=target]:checked')].map((b) => b.value);
}

// "0, 2" -> [0, 2]; empty -> null (every layer); anything else is reported by the engine as it is.
function layers() {
  const text = $('layers').value.trim();
  if (!text) return null;
  return text.split(',').map((t) => (/^\s*\d+\s*$/.test(t) ? Number(t) : t.trim()));
}

function plan() {
  return {
    method: $('method').value,
    r: Number($('r').value),
    lora_alpha: Number($('alpha').value),
    target_modules: targets(),
    layers_to_transform: layers(),
    bias: $('bias').value,
    lora_dropout: Number($('lora-dropout').value),
    use_rslora: $('rslora').checked,
    lr: Number($('lr').value),
    epochs: Number($('epochs').value),
    batch_size: Number($('batch').value),
    max_len: Number($('max-len').value),
    seed: Number($('seed').value),
  };
}

const METHOD_ROW = { lora: 'lora', full: 'full', head: 'head_only', bitfit: 'bitfit' };

// What the calculator says this plan costs, for the loaded model: the same code as the calculator page.
function updateFigures() {
  const p = plan();
  document.body.dataset.method = p.method;
  showError('err-plan', null);
  state.calc = null;
  if (!state.model || !state.data || !engineReady) return;
  try {
    const report = engine.compute({
      config_json: state.model.config_json,
      num_labels: state.data.labels.length,
      lora: {
        r: p.r, lora_alpha: p.lora_alpha, use_rslora: p.use_rslora, bias: p.bias, layers_to_transform: p.layers_to_transform,
        target_modules: p.target_modules.length === 1 && p.target_modules[0] === 'all-linear' ? 'all-linear' : p.target_modules,
      },
    });
    $('scaling').textContent = `${report.scaling} (lora_alpha / ${p.use_rslora ? '\u221ar' : 'r'})`;
    const row = report.methods.find((m) => m.method === METHOD_ROW[p.method]);
    state.calc = { trainable: row.trainable, all: row.all, optimizer: row.memory.optimizer_state, file: row.checkpoint_bytes };
    const cells = { trainable: `${grouped(row.trainable)} (${((100 * row.trainable) / row.all).toFixed(3)}%)`, all: grouped(row.all),
      optimizer: bytes(row.memory.optimizer_state), file: `${bytes(row.checkpoint_bytes)} (${p.method === 'lora' ? 'adapter_model.safetensors' : p.method === 'full' ? 'model.safetensors' : 'trained tensors'})` };
    for (const [k, v] of Object.entries(cells)) {
      const td = document.querySelector(`[data-live=${k}]`);
      td.textContent = v;
      td.dataset.value = k === 'trainable' ? row.trainable : k === 'all' ? row.all : k === 'optimizer' ? row.memory.optimizer_state : row.checkpoint_bytes;
    }
  } catch (e) {
    showError('err-plan', e);
  }
}
$('plan').addEventListener('input', updateFigures);
$('all-linear').addEventListener('change', () => {
  for (const box of document.querySelectorAll('input[name=target]')) box.disabled = $('all-linear').checked;
});

// ---- training --------------------------------------------------------------------------------------------

function setRunning(running) {
  if (running) exportable(false);
  $('start').disabled = running;
  $('pause').disabled = !running;
  $('stop').disabled = !running;
  $('pause').textContent = 'Pause';
  for (const el of document.querySelectorAll('#plan input, #plan select, #device, #model-load, #builtin-load')) el.disabled = running;
}

$('start').addEventListener('click', () => {
  showError('err-plan', null);
  if (!state.model || !state.data) {
    showError('err-plan', { field: 'start', message: 'load a model and a dataset first' });
    return;
  }
  const p = plan();
  state.run = {
    plan: p, device: state.device?.backend ?? '?', steps: [], losses: [], valSteps: [], valLosses: [], epochs: [], accs: [],
    started: performance.now(), evaluation: null, finished: false,
  };
  loss.update([], [], []);
  acc.update([], []);
  $('train-text').textContent = 'preparing the model...';
  setRunning(true);
  send('start', { plan: p });
});

$('pause').addEventListener('click', () => {
  const pausing = $('pause').textContent === 'Pause';
  send(pausing ? 'pause' : 'resume');
  $('pause').textContent = pausing ? 'Resume' : 'Pause';
});
$('stop').addEventListener('click', () => send('stop'));

function fmtTime(s) {
  if (!Number.isFinite(s)) return '-';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

function progress({ step: s, steps_per_s: sps, examples_per_s: eps }) {
  const r = state.run;
  r.steps.push(s.global_step);
  r.losses.push(s.loss);
  $('train-bar').max = s.total_steps;
  $('train-bar').value = s.global_step;
  const eta = (s.total_steps - s.global_step) / sps;
  const text = $('train-text');
  text.dataset.step = s.global_step;
  text.dataset.loss = s.loss;
  text.textContent = `step ${s.global_step}/${s.total_steps} \u00b7 epoch ${s.epoch}/${r.plan.epochs} \u00b7 loss ${s.loss.toFixed(4)} \u00b7 ` +
    `${sps.toFixed(2)} steps/s \u00b7 ${eps.toFixed(1)} examples/s \u00b7 ETA ${fmtTime(eta)}`;
  loss.update(r.steps, r.losses, r.steps.map((x) => { const i = r.valSteps.indexOf(x); return i < 0 ? null : r.valLosses[i]; }));
}

function metricsReady({ epoch, evaluation }) {
  const r = state.run;
  r.valSteps.push(r.steps[r.steps.length - 1]);
  r.valLosses.push(evaluation.val_loss);
  r.epochs.push(epoch);
  r.accs.push(evaluation.accuracy);
  r.evaluation = evaluation;
  acc.update(r.epochs, r.accs);
  loss.update(r.steps, r.losses, r.steps.map((x) => { const i = r.valSteps.indexOf(x); return i < 0 ? null : r.valLosses[i]; }));
  renderResults($('results'), evaluation);
}

function finishRun(finished) {
  const r = state.run;
  state.run = null;
  setRunning(false);
  if (!r || r.steps.length === 0) return; // nothing ran (the plan was refused): nothing to keep
  exportable(true);
  r.finished = finished;
  const p = r.plan;
  state.runs.push({
    method: p.method, r: p.r, alpha: p.lora_alpha, targets: p.target_modules.join(','), trainable: r.info?.trainable ?? 0,
    optimizer_bytes: state.calc?.optimizer ?? 0, file_bytes: state.calc?.file ?? 0, device: r.device,
    seconds: (performance.now() - r.started) / 1000, accuracy: r.evaluation?.accuracy ?? null, macro_f1: r.evaluation?.macro_f1 ?? null,
    finished, losses: r.losses, steps: r.steps,
  });
  drawHistory();
  $('train-text').textContent += finished ? ' \u00b7 done' : ' \u00b7 stopped';
}

function drawHistory() {
  renderHistory(document.querySelector('#history tbody'), state.runs, state.compare, (i, on) => {
    if (on) state.compare.add(i); else state.compare.delete(i);
    while (state.compare.size > 2) state.compare.delete(state.compare.values().next().value);
    drawHistory();
  });
  const [a, b] = [...state.compare].map((i) => ({ ...state.runs[i], label: `#${i + 1} ${state.runs[i].method}${state.runs[i].method === 'lora' ? ` r=${state.runs[i].r}` : ''}` }));
  if (a && b) compareChart($('compare-chart'), a, b); else $('compare-chart').replaceChildren();
}

// ---- predict ---------------------------------------------------------------------------------------------

function predict() {
  showError('err-predict', null);
  const text = $('predict-text').value;
  send('predict', { text });
}
$('predict').addEventListener('click', predict);
$('predict-text').addEventListener('keydown', (e) => { if (e.key === 'Enter') predict(); });

// ---- adapters: keep, download, load, switch ---------------------------------------------------------------

function runName() {
  const r = state.runs.at(-1);
  if (!r) return 'trained model';
  const i = state.runs.length;
  return r.method === 'lora' ? `#${i} lora r=${r.r} ${r.targets}` : `#${i} ${r.method}`;
}

$('keep-run').addEventListener('click', () => {
  showError('err-adapters', null);
  send('keep', { name: runName() });
});
$('download-run').addEventListener('click', () => {
  showError('err-adapters', null);
  send('export');
});

// Files picked from a folder (webkitdirectory) or one by one: every file goes to the worker, which keeps the
// ones it knows (adapter_config.json, adapter_model.safetensors, training.json, ...) by name.
async function loadAdapterFiles(list) {
  showError('err-adapters', null);
  const files = [...list];
  if (files.length === 0) return;
  // A folder's name when one was picked; files picked one by one carry no folder, so they are numbered.
  const folder = files[0].webkitRelativePath?.split('/')[0] || `loaded adapter ${state.adapters.length + 1}`;
  const buffers = await Promise.all(files.map((f) => f.arrayBuffer()));
  send('add-adapter', { name: folder, names: files.map((f) => f.webkitRelativePath || f.name), buffers }, buffers);
}
$('adapter-folder').addEventListener('change', (e) => { loadAdapterFiles(e.target.files); e.target.value = ''; });
$('adapter-files').addEventListener('change', (e) => { loadAdapterFiles(e.target.files); e.target.value = ''; });

function showDownloads(files) {
  for (const url of state.downloads) URL.revokeObjectURL(url);
  state.downloads = files.map((f) => URL.createObjectURL(new Blob([f.bytes], { type: 'application/octet-stream' })));
  const links = files.map((f, i) => {
    const a = document.createElement('a');
    a.href = state.downloads[i];
    a.download = f.name;
    a.dataset.bytes = f.bytes.length;
    a.textContent = `${f.name} (${bytes(f.bytes.length)})`;
    return a;
  });
  $('downloads').replaceChildren('Save these into one folder: ', ...links);
  links[0]?.focus();
}

function adaptersReady(summary) {
  const before = state.adapters.length;
  state.adapters = summary.adapters;
  // A new adapter becomes the chosen one; a removed one moves the choice to a neighbour.
  if (state.adapters.length > before) state.chosen = state.adapters.length - 1;
  state.chosen = Math.min(state.chosen, state.adapters.length - 1);
  drawAdapters();
  renderMemory($('adapter-memory'), summary.memory);
}

function drawAdapters() {
  renderAdapters(document.querySelector('#adapters tbody'), state.adapters, state.chosen, (i) => {
    state.chosen = i;
    drawAdapters();
    // Switching is instant: classify the same text again with the newly chosen adapter.
    if ($('adapter-text').value.trim()) adapterPredict();
  }, (i) => send('remove-adapter', { index: i }));
}

function adapterPredict() {
  showError('err-adapter-predict', null);
  if (state.chosen < 0) {
    showError('err-adapter-predict', { field: 'adapter', message: 'keep or load an adapter first' });
    return;
  }
  send('adapter-predict', { index: state.chosen, text: $('adapter-text').value });
}
$('adapter-predict').addEventListener('click', adapterPredict);
$('merge-verify').addEventListener('click', () => {
  showError('err-merge', null);
  if (state.chosen < 0) {
    showError('err-merge', { field: 'adapter', message: 'keep or load an adapter first' });
    return;
  }
  $('merge-verify').disabled = true;
  $('merge-result').textContent = 'merging, comparing and timing...';
  send('merge-verify', { index: state.chosen });
});
$('adapter-text').addEventListener('keydown', (e) => { if (e.key === 'Enter') adapterPredict(); });

// ---- worker replies --------------------------------------------------------------------------------------

worker.onmessage = ({ data: m }) => {
  switch (m.type) {
    case 'device': deviceReady(m); break;
    case 'model': modelReady(m.summary); break;
    case 'builtin': if (m.text !== null) sendData(`${m.name}.jsonl`, new TextEncoder().encode(m.text)); break;
    case 'data': dataReady(m.summary); break;
    case 'tokens': renderTokens($('tokens'), m.preview, Number($('max-len').value)); break;
    case 'prepared':
      if (!state.run) break;
      state.run.info = m.info;
      $('train-text').textContent = `${m.info.train_examples} training / ${m.info.val_examples} validation examples; ` +
        `${grouped(m.info.trainable)} trainable of ${grouped(m.info.total)} parameters` +
        (m.info.truncated ? `; ${m.info.truncated} texts cut at max length` : '');
      break;
    case 'progress': if (state.run) progress(m); break;
    case 'metrics': if (state.run) metricsReady(m); break;
    case 'fallback': {
      state.device = { backend: m.backend, adapter: m.adapter };
      if (state.run) state.run.device = 'webgpu, then cpu';
      const note = $('device-note');
      note.dataset.state = 'cpu';
      note.dataset.fallback = 'device-lost';
      note.textContent = `WebGPU failed (${m.reason}); the run carried on from step ${m.resumed_at} on the CPU: ${m.adapter}. ` +
        'AdamW restarted its moment estimates there.';
      $('device').value = 'cpu';
      break;
    }
    case 'paused': $('train-text').textContent += ' \u00b7 paused'; break;
    case 'done': finishRun(true); break;
    case 'stopped': finishRun(false); break;
    case 'prediction': renderPrediction($('prediction'), m.result); break;
    case 'exported': showDownloads(m.files); break;
    case 'adapters': adaptersReady(m.summary); break;
    case 'merge-verified': {
      $('merge-verify').disabled = false;
      renderMergeCheck($('merge-result'), state.adapters[m.index]?.name ?? '', m);
      break;
    }
    case 'adapter-prediction': {
      const name = state.adapters[m.index]?.name ?? '';
      renderPrediction($('adapter-prediction'), m.result);
      const note = document.createElement('p');
      note.className = 'hint';
      note.id = 'adapter-used';
      note.dataset.index = m.index;
      note.textContent = `with ${name}, in ${m.ms.toFixed(0)} ms (the base model stays loaded; only the adapter changes)`;
      $('adapter-prediction').append(note);
      break;
    }
    case 'error': onError(m); break;
    default: break;
  }
};
worker.onerror = (e) => showError('err-model', { field: 'worker', message: e.message || 'the training worker failed to start' });

function onError(m) {
  const where = {
    device: 'err-model', model: 'err-model', data: 'err-data', builtin: 'err-data', tokens: 'err-data', predict: 'err-predict',
    export: 'err-adapters', keep: 'err-adapters', 'add-adapter': 'err-adapters', 'remove-adapter': 'err-adapters',
    'adapter-predict': 'err-adapter-predict', 'merge-verify': 'err-merge',
  }[m.where] ?? 'err-plan';
  if (m.where === 'device' && deviceWanted === 'webgpu') {
    // WebGPU refused (no adapter, or it failed to start): the CPU backend always works.
    $('device-note').dataset.fallback = 'no-webgpu';
    deviceWanted = 'cpu';
    send('device', { kind: 'cpu' });
    return;
  }
  if (m.where === 'merge-verify') {
    $('merge-verify').disabled = false;
    $('merge-result').textContent = '';
  }
  if (m.where === 'start' || m.where === 'step') {
    setRunning(false);
    if (state.run) finishRun(false);
  }
  showError(where, m);
}

// ---- boot ------------------------------------------------------------------------------------------------

// Keep an offline copy of the app (sw.js); browsers allow it on https and on localhost.
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register(new URL('../../sw.js', import.meta.url), { scope: new URL('../../', import.meta.url).pathname }).catch(() => {});
}

$('device').addEventListener('change', chooseDevice);
$('model-load').addEventListener('click', loadModel);
initEngine().then(() => { engineReady = true; updateFigures(); });
await chooseDevice();
loadModel();
send('builtin', { name: $('builtin').value });
