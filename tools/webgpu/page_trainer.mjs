// The training page's own trainer in Node, without a browser: the same wasm (web/pkg-train), the same worker code
// (web/train/worker.js, imported as it is), asked the same requests the page's panels send, with WebGPU from Dawn
// (npm `webgpu`, the implementation inside Chrome) standing in for the browser's `navigator.gpu`. What the page's
// worker reads from its browser (a global `self` with postMessage/onmessage, `location`, `navigator`, a `fetch`
// of the wasm beside its JS) is given here and nothing else, so a run here is a run of the page's code.
// Issue 27: tested on lavapipe (Mesa 25, tests/webgpu/runner.mjs) and run on a GPU machine (tools/webgpu/gpu_bench.sh).
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Dawn's flags: none by default. `LP_DAWN_FLAGS="enable-dawn-features=...,..."` passes more (comma-separated).
function dawnFlags() {
  return (process.env.LP_DAWN_FLAGS ?? '').split(';').map((f) => f.trim()).filter(Boolean);
}

let started = null;

// Starts the page's worker in this process once; returns {call(type, args), on(event, fn), adapter}.
export async function startPageTrainer() {
  if (started) return started;
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(dawnFlags());
  // wgpu's web backend takes `navigator.gpu` from a Window or a WorkerGlobalScope (it checks that the global has
  // one of those constructors): a page's worker is the latter.
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, hardwareConcurrency: cpus().length, deviceMemory: Math.round(totalmem() / 2 ** 30), userAgent: `node ${process.version}` },
    configurable: true,
  });
  globalThis.WorkerGlobalScope ??= class WorkerGlobalScope {};
  const workerUrl = pathToFileURL(join(ROOT, 'web', 'train', 'worker.js'));
  globalThis.location = new URL(workerUrl);
  globalThis.self = globalThis;
  // The worker's 'error' and 'unhandledrejection' listeners (how it sees a wasm trap) on Node's process events; an
  // event the worker does not take (not a trap) ends the process as it would have.
  globalThis.addEventListener = (type, fn) => {
    const [nodeEvent, wrap] = type === 'error' ? ['uncaughtException', (error) => ({ error })]
      : type === 'unhandledrejection' ? ['unhandledRejection', (reason) => ({ reason })] : [null];
    if (!nodeEvent) return;
    process.on(nodeEvent, (value) => {
      let taken = false;
      fn({ ...wrap(value), preventDefault: () => { taken = true; } });
      if (!taken) {
        console.error(value);
        process.exit(1);
      }
    });
  };
  // wasm-bindgen's loader fetches the wasm next to its JS; Node's fetch has no file: URLs.
  const netFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), workerUrl);
    if (url.protocol !== 'file:') return netFetch(input, init);
    const bytes = readFileSync(fileURLToPath(url));
    const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    return new Response(bytes, { headers: { 'Content-Type': type } });
  };
  const pending = new Map();
  const listeners = new Map();
  let nextId = 0;
  // The worker answers {id, result} / {id, error} and sends run events {event, data}, as to the page's client.js.
  globalThis.postMessage = (message) => {
    if (message && 'id' in message && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if ('error' in message) reject(Object.assign(new Error(message.error.message), message.error));
      else resolve(message.result);
    } else if (message && 'event' in message) {
      for (const fn of listeners.get(message.event) ?? []) fn(message.data);
    }
  };
  await import(workerUrl.href);
  const call = (type, args = {}) => new Promise((resolve, reject) => {
    const id = ++nextId;
    pending.set(id, { resolve, reject });
    globalThis.onmessage({ data: { id, type, args } });
  });
  const on = (event, fn) => {
    if (!listeners.has(event)) listeners.set(event, []);
    listeners.get(event).push(fn);
    return () => listeners.set(event, listeners.get(event).filter((f) => f !== fn));
  };
  const adapter = await gpu.requestAdapter();
  started = { call, on, adapter, gpu };
  return started;
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
export async function runSteps(t, plan, steps) {
  const ticks = [];
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  const offs = [
    t.on('tick', (d) => {
      if (d.step) ticks.push({ loss: d.step.loss, at: performance.now() });
      if (ticks.length >= steps) t.call('stop').catch(() => {});
    }),
    t.on('stopped', () => resolveDone()),
    t.on('done', () => resolveDone()),
    t.on('failed', (e) => resolveDone(e)),
  ];
  const t0 = performance.now();
  const { info } = await t.call('start', { plan, workers: 1 });
  const failure = await done;
  offs.forEach((off) => off());
  if (failure) throw Object.assign(new Error(failure.message ?? 'the run failed'), failure);
  const first = ticks.length ? ticks[0].at - t0 : null;
  const pace = ticks.length > 2 ? (ticks[ticks.length - 1].at - ticks[1].at) / (ticks.length - 2) : null;
  return { losses: ticks.map((k) => k.loss), first_loss_ms: first, step_ms: pace, total_steps: info.total_steps };
}
