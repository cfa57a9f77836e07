// The language-model page: load a model (a served GGUF file, or files from the student's disk), pick rows, train
// a LoRA run step by step with its loss and held-out perplexity, then ask (web/lm/ask.js). The model lives in the
// worker (web/lm/worker.js); this module owns the controls, the hash (web/lm/state.js) and what is shown.
import { $, h } from '../dom.js';
import { connect } from '../train/client.js';
import { fillControls, planOf, readControls, readHash, writeHash } from './state.js';
import { wireAsk } from './ask.js';

const client = connect(() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
const say = (id, text) => { $(id).textContent = text; };
const message = (e) => `${e.field ? `${e.field}: ` : ''}${e.message ?? e}${e.line ? ` (line ${e.line})` : ''}`;
let values = readHash();
fillControls(values);
const sync = () => { values = readControls(values.hide); writeHash(values); };
for (const el of document.querySelectorAll('main input, main select')) el.addEventListener('change', sync);

// Served models: one GGUF file each in the server's models/ folder (tools/fetch_gguf.sh puts them there).
const SERVED = { smollm2: 'SmolLM2-135M-Instruct.Q4_1.gguf', 'gemma-3-270m': 'gemma-3-270m-q4_k_m.gguf' };

// The file pickers and the paste box show for the choices that need them (a link's choice too, on arrival).
function showSources() {
  $('model-files').hidden = $('model').value !== 'file';
  $('data-file').hidden = $('data').value !== 'file';
  $('data-paste').hidden = $('data').value !== 'paste';
}
$('model').addEventListener('change', showSources);
$('data').addEventListener('change', showSources);
showSources();

async function readFiles(list) {
  const files = [...list];
  const gguf = files.find((f) => f.name.endsWith('.gguf'));
  if (gguf) return { type: 'load_gguf', args: { name: gguf.name, bytes: await gguf.arrayBuffer() } };
  const get = (n) => files.find((f) => f.name === n);
  for (const need of ['config.json', 'tokenizer.json', 'model.safetensors']) {
    if (!get(need)) throw { field: 'model', message: `pick a .gguf file, or a folder's config.json, tokenizer.json and model.safetensors (no ${need})` };
  }
  const text = async (n) => (get(n) ? get(n).text() : null);
  return {
    type: 'load_folder',
    args: {
      name: 'a model folder', config: await get('config.json').text(), tokenizer: await get('tokenizer.json').arrayBuffer(),
      weights: await get('model.safetensors').arrayBuffer(), tokenizerConfig: await text('tokenizer_config.json'), chatTemplate: await text('chat_template.jinja'),
    },
  };
}

async function loadModel() {
  $('model-status').dataset.ready = 'false';
  say('model-status', 'Loading the model...');
  try {
    await client.call('set_device', { kind: values.device });
    await client.call('set_base', { base: values.base });
    let request;
    if (values.model === 'file') {
      request = await readFiles($('model-files').files);
    } else {
      const file = SERVED[values.model];
      if (!file) throw { field: 'model', message: `unknown model '${values.model}'` };
      const response = await fetch(`models/${file}`);
      if (!response.ok) throw { field: 'model', message: `models/${file}: the server answered ${response.status} (tools/fetch_gguf.sh ${values.model} fetches it)` };
      request = { type: 'load_gguf', args: { name: file, bytes: await response.arrayBuffer() } };
    }
    const info = await client.call(request.type, request.args, [request.args.bytes ?? request.args.weights].filter(Boolean));
    say('model-status', `${info.name}: ${info.model_type}, ${info.layers} layers, hidden ${info.hidden_size}, ` +
      `${info.parameters.toLocaleString('en-US')} parameters, vocabulary ${info.vocab_size.toLocaleString('en-US')}` +
      `${info.chat_template ? ', with a chat template' : ', no chat template'}.`);
    $('model-status').dataset.ready = 'true';
    await loadData();
  } catch (e) {
    say('model-status', `Could not load the model: ${message(e)}`);
  }
}

async function dataBytes() {
  if (values.data.startsWith('builtin:')) {
    const text = await client.call('builtin', { name: values.data.slice(8) });
    if (text == null) throw { field: 'data', message: `no built-in set '${values.data}'` };
    return { name: `${values.data.slice(8)}.jsonl`, bytes: new TextEncoder().encode(text).buffer };
  }
  if (values.data === 'paste') return { name: 'pasted.jsonl', bytes: new TextEncoder().encode($('data-paste').value).buffer };
  const file = $('data-file').files[0];
  if (!file) throw { field: 'data', message: 'pick a file' };
  return { name: file.name, bytes: await file.arrayBuffer() };
}

// Everything about the rows is asked first and drawn together, then `data-ready` says so: a reader waiting on it
// never sees the count of new rows beside the old preview.
async function loadData() {
  $('data-status').dataset.ready = 'false';
  $('data-problems').replaceChildren();
  try {
    const { name, bytes } = await dataBytes();
    const info = await client.call('load_data', { name, bytes, valFraction: values.val_fraction, seed: values.seed, maxLen: values.max_len }, [bytes]);
    const tokens = await client.call('preview');
    const prompts = await client.call('held_out_prompts');
    say('data-status', `${info.rows} rows: ${info.train} to train on, ${info.val} held out` +
      `${info.truncated ? `; ${info.truncated} cut at ${values.max_len} tokens` : ''}` +
      `${info.problems.length ? `; ${info.problems.length} skipped` : ''}.`);
    $('data-problems').replaceChildren(...info.problems.slice(0, 20).map((p) => h('li', {}, `line ${p.line}: ${p.reason}`)));
    $('preview').replaceChildren(...tokens.map((t) => h('span', { class: t.learned ? 'learned' : '', title: `id ${t.id}` }, t.text)));
    $('held-out').replaceChildren(...prompts.map((p) => h('option', { value: p })));
    $('export-notebook').disabled = false;
  } catch (e) {
    say('data-status', `Could not use these rows: ${message(e)}`);
    $('preview').replaceChildren();
    $('export-notebook').disabled = true;
  } finally {
    $('data-status').dataset.ready = 'true';
  }
}

// The loss curve: one point per step, drawn as an SVG polyline (no chart library for a line).
const losses = [];
function drawLoss() {
  const max = Math.max(...losses, 1e-9);
  const pts = losses.map((l, i) => `${(i / Math.max(1, losses.length - 1)) * 400},${120 - (l / max) * 110}`).join(' ');
  $('loss-chart').replaceChildren(document.createElementNS('http://www.w3.org/2000/svg', 'polyline'));
  $('loss-chart').firstChild.setAttribute('points', pts);
}

let stopRun = false;
async function train() {
  stopRun = false;
  $('start').disabled = true;
  $('stop').disabled = false;
  $('run-status').dataset.done = 'false';
  losses.length = 0;
  $('evals').tBodies[0].replaceChildren();
  const row = (epoch, e) => $('evals').tBodies[0].append(h('tr', {}, h('td', {}, epoch), h('td', {}, e.loss.toFixed(4)), h('td', {}, e.perplexity.toFixed(2))));
  try {
    const run = await client.call('start', { plan: planOf(values) });
    row('before', run.before);
    const gib = (b) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    const m = run.need.memory;
    const need = `predicted: about ${gib(run.need.total_bytes)} of the tab's memory (the calculator's ${gib(m.total)} for the run: ` +
      `weights ${gib(m.frozen_weights + m.trainable_weights)}, gradients ${gib(m.gradients)}, optimizer ${gib(m.optimizer_state)}, ` +
      `activations ${gib(m.activations)}${values.gradient_checkpointing ? ' with gradient checkpointing' : ''}; ` +
      (values.base === 'as-stored'
        ? 'plus the model file, whose blocks are the frozen weights of both the trained model and the answers\' base model)'
        : 'plus the model file and the base model kept for the answers)');
    say('run-status', `Starting: ${run.total_steps} steps, ${need}.`);
    const started = performance.now();
    for (let i = 0; i < run.total_steps && !stopRun; i += 1) {
      const s = await client.call('step');
      losses.push(s.loss);
      drawLoss();
      const secs = (performance.now() - started) / 1000;
      // The time left, from the steps so far (the first step includes the held-out evaluation of the run's start).
      const left = (secs / s.global_step) * (s.total_steps - s.global_step);
      say('run-status', `Step ${s.global_step}/${s.total_steps}, loss ${s.loss.toFixed(4)}, ${secs.toFixed(0)} s ` +
        `(about ${left.toFixed(0)} s left; ${run.trainable.toLocaleString('en-US')} of ${run.total.toLocaleString('en-US')} parameters train; ${need}).`);
      if (s.eval) row(s.epoch, s.eval);
      // Measured: the worker's WebAssembly memory, which only grows, so it is the peak so far.
      const used = await client.call('memory');
      $('run-memory').textContent = `Measured after step ${s.global_step}: ${gib(used)} of WebAssembly memory (${need}).`;
    }
    say('run-status', `${$('run-status').textContent} ${stopRun ? 'Stopped.' : 'Done.'}`);
    $('export').disabled = values.method !== 'lora';
  } catch (e) {
    say('run-status', `The run failed: ${message(e)}`);
  } finally {
    $('run-status').dataset.done = 'true';
    $('start').disabled = false;
    $('stop').disabled = true;
  }
}

$('load-model').addEventListener('click', () => { sync(); loadModel(); });
$('load-data').addEventListener('click', () => { sync(); loadData(); });
$('start').addEventListener('click', () => { sync(); train(); });
$('stop').addEventListener('click', () => { stopRun = true; });
// The settings as a PEFT notebook and script with the data: no run needed (the counts come with a run).
$('export-notebook').addEventListener('click', async () => {
  sync();
  try {
    const files = await client.call('export_notebook', { plan: planOf(values) });
    $('export-links').replaceChildren(...files.map(([name, bytes]) => h('a', {
      href: URL.createObjectURL(new Blob([bytes])), download: name, class: 'download',
    }, `${name} (${bytes.length.toLocaleString('en-US')} bytes) `)));
    say('ask-status', 'run.ipynb and run.py: these settings as a Hugging Face PEFT notebook and script; save the data file beside them.');
  } catch (e) {
    say('ask-status', `Could not export: ${message(e)}`);
  }
});
wireAsk(client, () => values, message);
// For the page's own measurements (tools/bench/page_lm_bench.mjs): the worker's wasm memory, asked by `memory`.
window.lpLm = { client };
document.body.dataset.ready = 'true';
