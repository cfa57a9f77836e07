// The training page's own trainer in Node, without a browser: the same wasm (web/pkg-train), the same worker code
// (web/train/worker.js, imported as it is), asked the same requests the page's panels send, with WebGPU from Dawn
// (npm `webgpu`, the implementation inside Chrome) standing in for the browser's `navigator.gpu`. What the page's
// worker reads from its browser is given here (globals.mjs) and nothing else, so a run here is a run of the page's
// code, CPU helper workers included (on Node's worker threads). Issue 27: tested on lavapipe (Mesa 25,
// tests/e2e/webgpu_node.mjs), run on a GPU machine by tools/bench/gpu_bench.sh.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deliver, installWorkerGlobals } from './globals.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Dawn's flags: none by default. `LP_DAWN_FLAGS="enable-dawn-features=...,..."` passes more (comma-separated).
function dawnFlags() {
  return (process.env.LP_DAWN_FLAGS ?? '').split(';').map((f) => f.trim()).filter(Boolean);
}

let started = null;

// Starts the training page's worker in this process; returns {call(type, args), on(event, fn), adapter}.
export const startPageTrainer = () => startPageWorker('web/train/worker.js');
// The language-model page's worker (web/lm/worker.js: the trainer wasm's `LmLab`), the same way.
export const startLmWorker = () => startPageWorker('web/lm/worker.js');

// One page worker (a path under the repository) in this process, once.
async function startPageWorker(path) {
  if (started) return started;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  countGpuWork(globals);
  const gpu = create(dawnFlags());
  const workerUrl = pathToFileURL(join(ROOT, path));
  installWorkerGlobals({ workerUrl, post: (message) => receive(message), gpu });
  const pending = new Map();
  const listeners = new Map();
  let nextId = 0;
  // The worker answers {id, result} / {id, error} and sends run events {event, data}, as to the page's client.js.
  function receive(message) {
    if (message && 'id' in message && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if ('error' in message) reject(Object.assign(new Error(message.error.message), message.error));
      else resolve(message.result);
    } else if (message && 'event' in message) {
      for (const fn of listeners.get(message.event) ?? []) fn(message.data);
    }
  }
  await import(workerUrl.href);
  const call = (type, args = {}) => new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve, reject });
    deliver({ id, type, args });
  });
  const on = (event, fn) => {
    if (!listeners.has(event)) listeners.set(event, []);
    listeners.get(event).push(fn);
    return () => listeners.set(event, listeners.get(event).filter((f) => f !== fn));
  };
  const adapter = await gpu.requestAdapter();
  started = { call, on, adapter, gpu, counters: () => ({ ...counters }) };
  return started;
}

// What the trainer asked of the GPU so far: compute dispatches (kernel launches), queue submissions and compute
// pipelines created (each a kernel compiled by the driver): counted where the wasm calls them, on Dawn's own
// prototypes, so per step they are the page's figures (the native bench counts cubecl's launches the same way).
const counters = { dispatches: 0, submits: 0, pipelines: 0 };
function countGpuWork(g) {
  const wrap = (proto, name, key) => {
    const inner = proto[name];
    if (typeof inner !== 'function') return;
    proto[name] = function counted(...a) { counters[key] += 1; return inner.apply(this, a); };
  };
  wrap(g.GPUComputePassEncoder.prototype, 'dispatchWorkgroups', 'dispatches');
  wrap(g.GPUComputePassEncoder.prototype, 'dispatchWorkgroupsIndirect', 'dispatches');
  wrap(g.GPUQueue.prototype, 'submit', 'submits');
  wrap(g.GPUDevice.prototype, 'createComputePipeline', 'pipelines');
  wrap(g.GPUDevice.prototype, 'createComputePipelineAsync', 'pipelines');
}

// A model folder's three files, as the page's model panel sends them.
export function modelFiles(dir, name = dir.split('/').pop()) {
  return {
    name,
    config_json: readFileSync(join(dir, 'config.json'), 'utf8'),
    safetensors: readFileSync(join(dir, 'model.safetensors')),
    tokenizer_json: readFileSync(join(dir, 'tokenizer.json')),
  };
}

// Runs a plan as the page's Start does, until `steps` optimizer steps have ticked (or the run ends); returns each
// tick's loss, the time from Start to the first loss and the steady pace after it.
export async function runSteps(t, plan, steps, workers = 1) {
  const ticks = [];
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  const offs = [
    t.on('tick', (d) => {
      if (d.step) ticks.push({ loss: d.step.loss, at: performance.now(), gpu: t.counters?.() });
      if (ticks.length >= steps) t.call('stop').catch(() => {});
    }),
    t.on('stopped', () => resolveDone()),
    t.on('done', () => resolveDone()),
    t.on('failed', (e) => resolveDone(e)),
  ];
  const t0 = performance.now();
  const gpu0 = t.counters?.();
  let shared = 1;
  offs.push(t.on('workers', (d) => { if (!d.starting) shared = d.workers; }));
  const { info } = await t.call('start', { plan, workers });
  const failure = await done;
  offs.forEach((off) => off());
  if (failure) throw Object.assign(new Error(failure.message ?? 'the run failed'), failure);
  const first = ticks.length ? ticks[0].at - t0 : null;
  const pace = ticks.length > 2 ? (ticks[ticks.length - 1].at - ticks[1].at) / (ticks.length - 2) : null;
  // The GPU's work: the first step's (from Start: the run's set-up too) and a steady step's, as for the times.
  const diff = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - a[k]]));
  const gpu = gpu0 && ticks.length ? {
    first_step: diff(gpu0, ticks[0].gpu),
    per_step: ticks.length > 2 ? Object.fromEntries(Object.entries(diff(ticks[1].gpu, ticks.at(-1).gpu)).map(([k, v]) => [k, v / (ticks.length - 2)])) : null,
  } : null;
  return { losses: ticks.map((k) => k.loss), first_loss_ms: first, step_ms: pace, total_steps: info.total_steps, workers: shared, gpu };
}

// One plan run by run_plan.mjs in a process of its own (nothing shared with the caller or the runs before it: a
// fresh Dawn device, a fresh wasm instance); `args` are run_plan.mjs's options. Returns its JSON line.
// `stderr`: 'ignore' or 'inherit'; `timeout`: ms (none by default).
export function runPlanProcess(args, { env = process.env, stderr = 'ignore', timeout = undefined } = {}) {
  const out = execFileSync('node', [join(ROOT, 'tools/webgpu/run_plan.mjs'), ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', stderr], env, timeout });
  return JSON.parse(out.trim().split('\n').pop());
}
