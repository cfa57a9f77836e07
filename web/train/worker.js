// The training worker: owns the trainer wasm (burn + tokenizers) so the page never freezes. It speaks small
// messages: requests {type, ...} from the page; replies 'device', 'model', 'data', 'tokens', 'prepared',
// 'progress', 'metrics', 'fallback', 'paused', 'resumed', 'stopped', 'done', 'prediction', 'exported', 'adapters',
// 'adapter-prediction', 'merge-verified' and 'error' {where, field, message}.
import init, { Trainer } from '../pkg-train/lora_playground.js';

let trainer = null;
const ready = init().then(() => { trainer = new Trainer(); });

// One trainer call at a time: the model lives in one place, and a predict typed mid-run waits for the step.
let queue = Promise.resolve();
function serial(fn) {
  const next = queue.then(fn, fn);
  queue = next.catch(() => {});
  return next;
}

const run = { active: false, paused: false, stop: false, wake: null };
let backend = null; // 'webgpu' or 'cpu', as the trainer last reported

function post(type, body = {}) { self.postMessage({ type, ...body }); }

// Errors from Rust are {field, message}; anything else (a JS exception, a wasm trap) becomes one.
function fail(where, e) {
  const err = e && typeof e === 'object' && 'message' in e ? e : { message: String(e) };
  post('error', { where, field: err.field ?? where, message: err.message, line: err.line ?? null });
}

// Browsers often hide the adapter's description (wgpu then reports no name); its vendor and architecture
// (e.g. "google swiftshader") are still given.
async function adapterName(fromWgpu) {
  if (fromWgpu && fromWgpu !== 'a WebGPU adapter') return fromWgpu;
  try {
    const adapter = await navigator.gpu.requestAdapter();
    const i = adapter?.info ?? {};
    const name = [i.vendor, i.architecture, i.description].filter(Boolean).join(' ');
    return name || fromWgpu;
  } catch {
    return fromWgpu;
  }
}

const yieldToMessages = () => new Promise((r) => setTimeout(r, 0));

async function train(plan) {
  const info = await serial(() => trainer.prepare(plan));
  post('prepared', { info });
  Object.assign(run, { active: true, paused: false, stop: false });
  const started = performance.now();
  let busyMs = 0;
  let examples = 0;
  let done = info.total_steps === 0;
  while (!done) {
    if (run.stop) { post('stopped'); break; }
    if (run.paused) {
      post('paused');
      await new Promise((r) => { run.wake = r; });
      run.wake = null;
      if (!run.stop) post('resumed');
      continue;
    }
    const t0 = performance.now();
    let s;
    try {
      s = await serial(() => trainer.step());
    } catch (e) {
      // A lost GPU (a driver reset, a laptop's GPU switched off) must not lose the run: carry on on the CPU from
      // the last step whose weights were read back.
      if (backend !== 'webgpu' || e?.field !== 'device') throw e;
      const r = await serial(() => trainer.fallback_to_cpu());
      backend = 'cpu';
      post('fallback', { reason: e.message, resumed_at: r.resumed_at, backend: r.backend, adapter: r.adapter });
      continue;
    }
    busyMs += performance.now() - t0;
    examples += s.batch_size;
    post('progress', {
      step: s, elapsed_s: (performance.now() - started) / 1000, steps_per_s: s.global_step / (busyMs / 1000),
      examples_per_s: examples / (busyMs / 1000),
    });
    if (s.epoch_done) {
      const evaluation = await serial(() => trainer.evaluate());
      post('metrics', { epoch: s.epoch, train_loss: s.epoch_train_loss, evaluation });
    }
    done = s.global_step >= s.total_steps;
    await yieldToMessages();
  }
  if (done) post('done', { seconds: (performance.now() - started) / 1000 });
  run.active = false;
}

self.onmessage = async ({ data: msg }) => {
  try {
    await ready;
  } catch (e) {
    fail('wasm', e);
    return;
  }
  try {
    switch (msg.type) {
      case 'device': {
        const info = await serial(() => trainer.use_device(msg.kind));
        if (info.backend === 'webgpu') info.adapter = await adapterName(info.adapter);
        backend = info.backend;
        post('device', info);
        break;
      }
      case 'model':
        post('model', {
          summary: await serial(() => (msg.source === 'tiny'
            ? trainer.load_tiny(BigInt(msg.seed ?? 0))
            : trainer.load_model(msg.name, msg.config_json, new Uint8Array(msg.safetensors), new Uint8Array(msg.tokenizer_json)))),
        });
        break;
      case 'builtin':
        post('builtin', { name: msg.name, text: Trainer.builtin_dataset(msg.name) ?? null });
        break;
      case 'data':
        post('data', { summary: await serial(() => trainer.load_dataset(msg.name, new Uint8Array(msg.bytes))) });
        break;
      case 'tokens':
        post('tokens', { preview: await serial(() => trainer.preview_tokens(msg.text, msg.max_len)) });
        break;
      case 'start':
        if (run.active) throw { field: 'run', message: 'a run is already in progress: stop it first' };
        await train(msg.plan);
        break;
      case 'pause':
        run.paused = true;
        break;
      case 'resume':
        run.paused = false;
        run.wake?.();
        break;
      case 'stop':
        run.stop = true;
        run.paused = false;
        run.wake?.();
        break;
      case 'simulate-device-loss':
        trainer.simulate_device_loss();
        break;
      case 'predict':
        post('prediction', { text: msg.text, result: await serial(() => trainer.predict(msg.text)) });
        break;
      case 'export': {
        // What `train` would save, read back from the device: PEFT's adapter folder for LoRA.
        const files = await serial(() => trainer.export_job());
        post('exported', { files: files.map(([name, bytes]) => ({ name, bytes })) });
        break;
      }
      case 'keep': {
        // Kept through its saved files, so what the list holds is exactly what a download would give.
        const files = await serial(() => trainer.export_job());
        const summary = await serial(() => trainer.add_adapter(msg.name, files.map((f) => f[0]), files.map((f) => f[1])));
        post('adapters', { summary });
        break;
      }
      case 'add-adapter':
        post('adapters', { summary: await serial(() => trainer.add_adapter(msg.name, msg.names, msg.buffers.map((b) => new Uint8Array(b)))) });
        break;
      case 'remove-adapter':
        post('adapters', { summary: await serial(() => trainer.remove_adapter(msg.index)) });
        break;
      case 'merge-verify': {
        // PEFT's merge_and_unload, checked: the merged model's logits against the adapter's on the dataset's
        // validation texts, then the time of one pass over them each way (alternating, median of 3).
        const texts = trainer.sample_texts(16);
        const check = await serial(() => trainer.verify_merge(msg.index, texts));
        const time = async (merged) => {
          const t0 = performance.now();
          await serial(() => trainer.run_adapter(msg.index, merged, texts));
          return performance.now() - t0;
        };
        const adapter = [];
        const merged = [];
        for (let i = 0; i < 3; i++) {
          adapter.push(await time(false));
          merged.push(await time(true));
        }
        const median = (a) => [...a].sort((x, y) => x - y)[1];
        post('merge-verified', { index: msg.index, check, adapter_ms: median(adapter), merged_ms: median(merged) });
        break;
      }
      case 'adapter-predict': {
        const t0 = performance.now();
        const result = await serial(() => trainer.predict_with_adapter(msg.index, msg.text));
        post('adapter-prediction', { index: msg.index, result, ms: performance.now() - t0 });
        break;
      }
      default:
        throw { field: 'message', message: `unknown request '${msg.type}'` };
    }
  } catch (e) {
    run.active = false;
    fail(msg.type, e);
  }
};
