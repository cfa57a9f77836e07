// Helper workers: one run on the CPU over several cores (crate/src/train/shares.rs). WebAssembly threads need a
// toolchain this project cannot use, so the parallelism is data parallelism over Web Workers: the worker that owns
// the run cuts each step's batch into shares, each helper (this same worker.js, holding a `Replica`) computes the
// gradients of its share at the run's current trainable tensors, and the owner sums them and takes the step. For
// LoRA what crosses is a few hundred KB a step; the model itself crosses once, when a helper starts.
//
// A helper that fails or traps ends the sharing, not the run: `step` rejects, the owner drops its helpers and takes
// the step alone (the step begun is cut again, unchanged).

import { connect } from './client.js';

// `train.html?hooks=1`, and every worker such a page starts (`worker.js?hooks=1`: a worker's location is its own
// URL): the page tests' build of the trainer, with failures on demand (web/pkg-train-hooks, never deployed).
export const HOOKS = new URLSearchParams(location.search).get('hooks') === '1';
// The training worker's module, in this page's build of the trainer.
export const workerUrl = () => new URL(`./worker.js${HOOKS ? '?hooks=1' : ''}`, import.meta.url);

// How many workers `auto` means here: every core the browser reports, at most 4 (past that a share of a batch of
// 16 is small and each helper holds a whole model).
export function autoWorkers() {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

// The number of workers a `workers` setting ('auto' or a count) asks for.
export function workersWanted(setting) {
  return setting === 'auto' || !setting ? autoWorkers() : Math.max(1, Math.floor(Number(setting)) || 1);
}

// One helper worker, spoken to as the page speaks to the owner (client.js's protocol). A helper that traps or
// fails answers nothing more, so its death rejects whatever is still waiting on it.
function spawn() {
  let worker = null;
  const client = connect(() => {
    worker = new Worker(workerUrl(), { type: 'module' });
    // Not the owner's error: it is reported as the helper's below, and must not reach the page as the trainer's.
    worker.addEventListener('error', (e) => e.preventDefault());
    return worker;
  });
  let die;
  const dead = new Promise((_, reject) => { die = reject; });
  dead.catch(() => {});
  client.on('trapped', (e) => die({ field: 'helper', message: `a helper worker crashed (${e.message})` }));
  client.on('worker-error', (e) => die({ field: 'helper', message: `a helper worker failed (${e.message})` }));
  const call = (type, args = {}) => Promise.race([
    client.call(type, args).catch((e) => { throw { ...e, message: `a helper worker: ${e.message}` }; }),
    dead,
  ]);
  return { call, terminate: () => { die({ field: 'helper', message: 'stopped' }); worker.terminate(); } };
}

// `n` helpers, each on the CPU with the owner's model (`model`: the load call {type, args} the owner made) and a
// replica of the run of `plan` with `numLabels` labels. Resolves once every helper is ready. `panicAt`: for tests,
// each helper traps at that share.
export async function startHelpers(n, model, plan, numLabels, panicAt = null) {
  const helpers = Array.from({ length: n }, spawn);
  try {
    await Promise.all(helpers.map(async (h) => {
      await h.call('set_device', { kind: 'cpu' });
      await h.call(model.type, model.args);
      await h.call('start_replica', { plan, num_labels: numLabels });
      if (panicAt) await h.call('panic_at_step', { step: panicAt });
    }));
  } catch (e) {
    helpers.forEach((h) => h.terminate());
    throw e;
  }
  return {
    size: n,
    // The helpers' answers for one step, in share order.
    gradients: (request) => Promise.all(request.shares.map((share, i) => helpers[i].call('replica_gradients', { weights: request.weights, share }))),
    terminate: () => helpers.forEach((h) => h.terminate()),
  };
}
