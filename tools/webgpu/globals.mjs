// What the page's worker reads from its browser, given to Node: `self` with postMessage/onmessage and
// addEventListener('error' | 'unhandledrejection') (how it sees a wasm trap), `location` (its own URL), `navigator`
// (cores, memory, and `gpu` where there is one), `fetch` of the wasm beside its JS (Node's fetch has no file: URLs),
// `Worker` (its CPU helpers) on Node's worker threads, and another build of the trainer in place of the shipped one
// (`LP_TRAINER_PKG`). Used by the runner's main thread (page_trainer.mjs) and by each helper thread (helper_thread.mjs).
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';

const messageListeners = [];

// A message to the worker, as a browser delivers it: to `self.onmessage` and to every 'message' listener.
export function deliver(data) {
  globalThis.onmessage?.({ data });
  for (const fn of messageListeners) fn({ data });
}

export function installWorkerGlobals({ workerUrl, post, gpu = undefined }) {
  swapTrainerBuild();
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, hardwareConcurrency: cpus().length, deviceMemory: Math.round(totalmem() / 2 ** 30), userAgent: `node ${process.version}` },
    configurable: true,
  });
  // wgpu's web backend takes `navigator.gpu` from a Window or a WorkerGlobalScope (it checks that the global has one
  // of those constructors): a page's worker is the latter.
  globalThis.WorkerGlobalScope ??= class WorkerGlobalScope {};
  globalThis.location = new URL(workerUrl);
  globalThis.self = globalThis;
  globalThis.postMessage = post;
  globalThis.addEventListener = (type, fn) => {
    if (type === 'message') {
      messageListeners.push(fn);
      return;
    }
    const [nodeEvent, wrap] = type === 'error' ? ['uncaughtException', (error) => ({ error })]
      : type === 'unhandledrejection' ? ['unhandledRejection', (reason) => ({ reason })] : [null];
    if (!nodeEvent) return;
    // An event the worker does not take (not a trap) ends the process as it would have.
    process.on(nodeEvent, (value) => {
      let taken = false;
      fn({ ...wrap(value), preventDefault: () => { taken = true; } });
      if (!taken) {
        console.error(value);
        process.exit(1);
      }
    });
  };
  const netFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), workerUrl);
    if (url.protocol !== 'file:') return netFetch(input, init);
    const type = url.pathname.endsWith('.wasm') ? 'application/wasm' : 'application/octet-stream';
    return new Response(readFileSync(fileURLToPath(url)), { headers: { 'Content-Type': type } });
  };
  globalThis.Worker = NodeWorker;
}

// A Web Worker (the page's CPU helpers: `new Worker(url, {type: 'module'})`) as a Node worker thread running the
// same module with these globals installed.
class NodeWorker {
  constructor(url) {
    this.listeners = { message: [], error: [] };
    this.thread = new Thread(new URL('./helper_thread.mjs', import.meta.url), { workerData: { url: String(url) } });
    this.thread.on('message', (data) => this.listeners.message.forEach((fn) => fn({ data })));
    this.thread.on('error', (error) => this.listeners.error.forEach((fn) => fn({ error, message: error.message, preventDefault() {} })));
  }

  addEventListener(type, fn) {
    (this.listeners[type] ??= []).push(fn);
  }

  postMessage(message, transfer) {
    this.thread.postMessage(message, (transfer ?? []).filter((t) => t instanceof ArrayBuffer));
  }

  terminate() {
    this.thread.terminate();
  }
}

let swapped = false;

// `LP_TRAINER_PKG=pkg-train-fusion`: another build of the trainer's wasm in web/ (burn's fusion, measured against
// the shipped one) in place of web/pkg-train, for the worker's import and so for the wasm beside it.
function swapTrainerBuild() {
  const pkg = process.env.LP_TRAINER_PKG;
  if (swapped || !pkg || pkg === 'pkg-train') return;
  swapped = true;
  const hook = `export async function resolve(specifier, context, next) {
    const r = await next(specifier, context);
    return r.url.endsWith('/web/pkg-train/lora_playground.js') ? { ...r, url: r.url.replace('/web/pkg-train/', ${JSON.stringify(`/web/${pkg}/`)}) } : r;
  }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
