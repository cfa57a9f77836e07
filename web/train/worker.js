// The training worker: owns the trainer wasm (burn + tokenizers) so the page never freezes. It forwards each
// request {id, type, args} to the trainer and answers {id, result} or {id, error: {kind, field, message, line}}
// (web/train/client.js is the other side). The run policy (epochs, evaluation, snapshots, carrying on on the CPU
// when the GPU is lost) is the trainer's `advance()`; what stays here is what wasm cannot do: a clock (steps/s,
// merge timings), yielding between steps so pause, stop and predict get through, and one call at a time.
// Run events {event, data}, after `start` has answered: 'tick', 'snapshot' (the run's snapshot file after a step
// that took one), 'paused', 'unpaused', 'stopped', 'done', 'failed', and 'trapped': the wasm instance trapped (a
// Rust panic, an out-of-memory) and is dead; the page starts a fresh worker and carries the run on from the last
// snapshot (web/train/recovery.js).
import { HOOKS, startHelpers } from './helpers.js';

// The trainer's wasm: the shipped build, or (`HOOKS`) the page tests' build with failures on demand (`test-hooks`).
let Trainer = null;
let trainer = null;
let memory = null; // the wasm instance's memory: its size goes with each tick (it only ever grows)
const ready = import(HOOKS ? '../pkg-train-hooks/lora_playground.js' : '../pkg-train/lora_playground.js')
  .then(async (pkg) => {
    const wasm = await pkg.default();
    memory = wasm.memory;
    Trainer = pkg.Trainer;
    trainer = new Trainer();
  });

// One trainer call at a time: the model lives in one place, and a predict typed mid-run waits for the step.
let queue = Promise.resolve();
function serial(fn) {
  const next = queue.then(fn, fn);
  queue = next.catch(() => {});
  return next;
}

const emit = (event, data = {}) => self.postMessage({ event, data });

// A trap leaves the wasm instance unusable: every later call would fail or lie, so the worker says so and
// answers nothing more.
let trapped = null;
const isTrap = (e) => e instanceof WebAssembly.RuntimeError;
function trap(e) {
  trapped ??= { kind: 'internal', field: 'trap', message: `the trainer crashed (${e.message})`, line: null };
  emit('trapped', trapped);
}

// An async trainer call runs in wasm-bindgen-futures' task queue, so its trap surfaces here, uncaught, and its
// Promise never settles: this is where most traps are seen.
self.addEventListener('error', (e) => {
  if (!isTrap(e.error)) return;
  e.preventDefault();
  trap(e.error);
});
self.addEventListener('unhandledrejection', (e) => {
  if (!isTrap(e.reason)) return;
  e.preventDefault();
  trap(e.reason);
});

// Errors from Rust are {kind, field, message, line, column} (crate/src/error.rs); anything else (a JS exception,
// a wasm trap) becomes one, of kind `internal`.
function asError(e, field) {
  const err = e && typeof e === 'object' && 'message' in e ? e : { message: String(e) };
  return { kind: err.kind ?? 'internal', field: err.field ?? field, message: err.message, line: err.line ?? null };
}

// Browsers often hide the adapter's description (wgpu then reports no name); its vendor and architecture
// (e.g. "google swiftshader") are still given.
async function adapterName(fromWgpu) {
  if (fromWgpu && fromWgpu !== 'a WebGPU adapter') return fromWgpu;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    const i = adapter?.info ?? {};
    return [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || fromWgpu;
  } catch {
    return fromWgpu;
  }
}

// ---- the run loop ----------------------------------------------------------------------------------------

const run = { active: false, paused: false, stop: false, wake: null, workers: 1 };
const yieldToMessages = () => new Promise((r) => setTimeout(r, 0));

// The last model load this worker made ({type, args}): helper workers load the same.
let modelCall = null;
// For tests: the helpers' share that traps.
let helperPanicAt = null;

// This machine's memory where the browser says (Chromium's `navigator.deviceMemory`, GiB, rounded down, at most
// 8), else null: the workers together stay within half of it.
const machineBytes = () => (navigator.deviceMemory ? navigator.deviceMemory * 2 ** 30 : null);

// Helper workers for this run (web/train/helpers.js): `run.workers` asked for, as many as the run can use (one on
// a GPU, one for full fine-tuning, as many as memory holds: `share_workers`). `helpers` is null when the run
// trains alone; `limitedBy` says why it uses fewer workers than asked.
async function helpersFor(info) {
  const { workers: n, limited_by: limitedBy } = trainer.share_workers(run.workers, machineBytes());
  if (n <= 1 || !modelCall) return { helpers: null, limitedBy };
  emit('workers', { workers: n, starting: true });
  return { helpers: await startHelpers(n - 1, modelCall, run.plan, info.labels.length, helperPanicAt), limitedBy };
}

// One step over the owner and its helpers: the helpers' shares go out first, the owner computes its own while
// they compute theirs, then the summed gradients make the step.
async function sharedStep(helpers) {
  const request = await serial(() => trainer.begin_shared_step(helpers.size + 1));
  const answers = helpers.gradients(request);
  answers.catch(() => {}); // awaited below; a failure during the owner's share is not an unhandled rejection
  await serial(() => trainer.compute_own_share());
  const others = await answers;
  return serial(() => trainer.finish_shared_step(others));
}

// `prepare`, then `advance()` until done, each tick posted with the speed so far: time in `advance` only, and not
// in the ticks that also evaluated an epoch or took a snapshot (those do more than a step; the speed is the steps').
async function loop(info) {
  const started = performance.now();
  const all = { ms: 0, steps: 0, examples: 0 };
  const plain = { ms: 0, steps: 0, examples: 0 };
  let done = info.total_steps === 0;
  let helpers = null;
  let workers = 1;
  try {
    let limitedBy = null;
    try {
      ({ helpers, limitedBy } = await helpersFor(info));
    } catch (e) {
      emit('workers', { workers: 1, reason: asError(e, 'helper').message });
    }
    workers = helpers ? helpers.size + 1 : 1;
    if (helpers || limitedBy) emit('workers', { workers, reason: limitedBy });
    while (!done) {
      if (run.stop) {
        emit('stopped', { seconds: (performance.now() - started) / 1000 });
        return;
      }
      if (run.paused) {
        emit('paused');
        await new Promise((r) => { run.wake = r; });
        run.wake = null;
        if (!run.stop) emit('unpaused');
        continue;
      }
      const t0 = performance.now();
      let tick;
      if (helpers) {
        try {
          tick = await sharedStep(helpers);
        } catch (e) {
          if (isTrap(e)) throw e;
          // The helpers are dropped, not the run: the step begun is taken again by this worker alone.
          helpers.terminate();
          helpers = null;
          workers = 1;
          emit('workers', { workers, reason: asError(e, 'helper').message });
        }
      }
      tick ??= await serial(() => trainer.advance());
      if (tick.step) {
        const add = (a) => { a.ms += performance.now() - t0; a.steps += 1; a.examples += tick.step.batch_size; };
        add(all);
        if (!tick.evaluation && !tick.snapshot) add(plain);
      }
      // A run whose every step ends an epoch has no plain step: its speed then counts everything.
      const s = plain.steps > 0 ? plain : all;
      const seconds = s.ms / 1000;
      emit('tick', { ...tick, steps_per_s: s.steps / seconds, examples_per_s: s.examples / seconds, wasm_bytes: memory.buffer.byteLength, workers });
      if (tick.snapshot) {
        const file = await serial(() => trainer.snapshot_file());
        if (file) self.postMessage({ event: 'snapshot', data: { step: tick.step.global_step, file: file.buffer } }, [file.buffer]);
      }
      done = tick.done;
      await yieldToMessages();
    }
    emit('done', { seconds: (performance.now() - started) / 1000 });
  } catch (e) {
    if (isTrap(e)) trap(e);
    else emit('failed', asError(e, 'run'));
  } finally {
    helpers?.terminate();
    run.active = false;
  }
}

// Times the plan before a run: a trial model takes two steps (the first, on a GPU, also compiles kernels; the second
// is the run's pace), each ending in its loss read back, and is dropped. Not during a run: the two would share
// the tab's memory and the timing would be the run's, not the plan's.
async function timeStep({ plan }) {
  if (run.active) throw { kind: 'busy', field: 'run', message: 'a run is in progress: its own speed is in the progress line' };
  const checked = Trainer.check_plan(plan);
  return serial(async () => {
    try {
      const info = trainer.start_trial(checked);
      const t0 = performance.now();
      await trainer.trial_step();
      const t1 = performance.now();
      await trainer.trial_step();
      const t2 = performance.now();
      // WebAssembly memory only grows: its size now is the most this worker has held, trial included.
      return { first_ms: t1 - t0, step_ms: t2 - t1, total_steps: info.total_steps, wasm_bytes: memory.buffer.byteLength };
    } finally {
      trainer.end_trial();
    }
  });
}

// `workers`: how many CPU workers the page asks for (the run may use fewer: `helpersFor`).
function begin(info, plan, workers) {
  Object.assign(run, { active: true, paused: false, stop: false, plan, workers: Math.max(1, Number(workers) || 1) });
  setTimeout(() => loop(info), 0); // after this reply is posted, so the page hears of the run before its ticks
}

async function start({ plan, workers }) {
  if (run.active) throw { kind: 'busy', field: 'run', message: 'a run is already in progress: stop it first' };
  const checked = Trainer.check_plan(plan);
  const info = await serial(() => trainer.prepare(checked));
  begin(info, checked, workers);
  return { plan: checked, info };
}

// Carries on the run a snapshot file was taken from (after a trap, or in a reopened tab): {plan, info, step}.
async function resumeRun({ file, workers }) {
  if (run.active) throw { kind: 'busy', field: 'run', message: 'a run is already in progress: stop it first' };
  const { job, plan, step } = await serial(() => trainer.resume_run(new Uint8Array(file)));
  begin(job, plan, workers);
  return { plan, info: job, step };
}

// ---- merge check, timed here (wasm has no clock) -----------------------------------------------------------

// PEFT's merge_and_unload, checked: the merged model's logits against the adapter's on validation texts, then
// the time of one pass over them each way (alternating, median of 3).
async function mergeVerify({ index }) {
  const texts = await serial(() => trainer.merge_texts(16));
  const check = await serial(() => trainer.verify_merge(index, texts));
  const time = async (merged) => {
    const t0 = performance.now();
    await serial(() => trainer.run_adapter(index, merged, texts));
    return performance.now() - t0;
  };
  const adapter = [];
  const merged = [];
  for (let i = 0; i < 3; i++) {
    adapter.push(await time(false));
    merged.push(await time(true));
  }
  const median = (a) => [...a].sort((x, y) => x - y)[1];
  return { index, check, adapter_ms: median(adapter), merged_ms: median(merged) };
}

// ---- requests: type -> handler(args) -> result -----------------------------------------------------------

// Most requests are the trainer's method of the same name (crate/src/wasm.rs, which calls the Workbench's method of
// that name): their argument names in order, each passed as it came unless the trainer takes another type
// (`bytes`: a Uint8Array; `seed`: a BigInt for a u64). Methods on the Trainer class itself are marked `static`.
const BYTES = new Set(['bytes', 'safetensors', 'tokenizer_json']);
const FORWARD = {
  default_plan: { static: true, args: [] },
  check_plan: { static: true, args: ['plan'] },
  experiment_runs: { static: true, args: ['plan', 'grid'] },
  check_model: { args: ['config_json', 'file_bytes'] },
  load_dataset: { args: ['name', 'bytes'] },
  split_counts: { args: ['val_fraction', 'seed'] },
  preview_tokens: { args: ['text', 'max_len'] },
  predict: { args: ['text'] },
  keep_job: { args: ['name'] },
  remove_adapter: { args: ['index'] },
  inspect_adapter: { args: ['index', 'compare'] },
  start_replica: { args: ['plan', 'num_labels'] },
  replica_gradients: { args: ['weights', 'share'] },
  // Failures on demand, in the page tests' build only (`HOOKS`): the shipped trainer has no such method.
  panic_at_step: { args: ['step'] },
  simulate_device_loss: { args: [] },
};
function argument(name, value) {
  if (BYTES.has(name)) return new Uint8Array(value);
  if (name === 'seed') return BigInt(value ?? 0);
  return value ?? undefined;
}
function forward(type, args) {
  const { static: onClass, args: names } = FORWARD[type];
  const values = names.map((n) => argument(n, args[n]));
  if (onClass) return Trainer[type](...values);
  if (typeof trainer[type] !== 'function') throw { kind: 'bad_input', field: 'message', message: `'${type}' is not in this build of the trainer` };
  return serial(() => trainer[type](...values));
}

// The requests that need more than a call: a clock, the run loop, a load remembered for helpers, a conversion.
const HANDLERS = {
  time_step: timeStep,
  builtin_dataset: ({ name }) => Trainer.builtin_dataset(name) ?? null,
  set_device: async ({ kind }) => {
    const info = await serial(() => trainer.set_device(kind));
    if (info.backend === 'webgpu') info.adapter = await adapterName(info.adapter);
    return info;
  },
  load_tiny: async (args) => {
    const summary = await serial(() => trainer.load_tiny(argument('seed', args.seed)));
    modelCall = { type: 'load_tiny', args };
    return summary;
  },
  load_model: async (args) => {
    const { name, config_json, safetensors, tokenizer_json } = args;
    const summary = await serial(() => trainer.load_model(name, config_json, new Uint8Array(safetensors), new Uint8Array(tokenizer_json)));
    modelCall = { type: 'load_model', args }; // kept (its buffers too) for helper workers
    return summary;
  },
  start,
  resume_run: resumeRun,
  // For the workers tests: each helper worker of the next run traps at its `share`-th share (`panic_at_step`).
  panic_helpers_at: ({ share }) => { helperPanicAt = share; },
  pause: () => { run.paused = true; },
  unpause: () => { run.paused = false; run.wake?.(); },
  stop: () => { run.stop = true; run.paused = false; run.wake?.(); },
  // What `train` would save, read back from the device: PEFT's adapter folder for LoRA.
  export_job: async () => (await serial(() => trainer.export_job())).map(([name, bytes]) => ({ name, bytes })),
  // The page's settings as a PEFT notebook and script, before or after a run.
  export_notebook: async ({ plan }) => (await serial(() => trainer.export_notebook(Trainer.check_plan(plan)))).map(([name, bytes]) => ({ name, bytes })),
  add_adapter: ({ name, names, buffers }) => serial(() => trainer.add_adapter(name, names, buffers.map((b) => new Uint8Array(b)))),
  predict_with_adapter: async ({ index, text }) => {
    const t0 = performance.now();
    const result = await serial(() => trainer.predict_with_adapter(index, text));
    return { index, result, ms: performance.now() - t0 };
  },
  merge_verify: mergeVerify,
};

self.onmessage = async ({ data: { id, type, args } }) => {
  try {
    await ready;
    if (trapped) throw trapped;
    const handler = HANDLERS[type] ?? (FORWARD[type] && ((a) => forward(type, a)));
    if (!handler) throw { kind: 'bad_input', field: 'message', message: `unknown request '${type}'` };
    self.postMessage({ id, result: await handler(args ?? {}) });
  } catch (e) {
    if (isTrap(e)) trap(e);
    self.postMessage({ id, error: isTrap(e) ? trapped : asError(e, type) });
  }
};
