// One plan run by the training page's own trainer in Node (page_trainer.mjs): the device the page would pick
// (`webgpu` from Dawn, or `cpu`), a model folder, a built-in dataset, a few optimizer steps; prints what the
// page's progress line shows, as JSON: the adapter, the time from Start to the first loss, the steady step time,
// each loss, the wasm memory. Used by tests/e2e/webgpu_node.mjs and tools/webgpu/gpu_bench.sh.
// `--warm-up`: before Start, the two timed steps the page takes by itself on WebGPU once the model and data are in
// (web/train/step-time.js: the worker's `time_step`), reported as `warm_up` {first_ms, step_ms, wall_ms, pipelines}.
// `gpu`: the compute dispatches, queue submissions and pipelines created, in the first step and a steady one.
// Usage: node tools/webgpu/run_plan.mjs --device webgpu|cpu --model DIR [--steps 5] [--data complaints]
//        [--plan '{"method":"lora","batch_size":16,"max_len":64}'] [--workers N (CPU: N workers share each batch)]
//        [--warm-up]
import { parseArgs } from 'node:util';
import { modelFiles, runSteps, startPageTrainer } from './page_trainer.mjs';

const { values: o } = parseArgs({
  options: {
    device: { type: 'string', default: 'webgpu' },
    model: { type: 'string' },
    steps: { type: 'string', default: '5' },
    data: { type: 'string', default: 'complaints' },
    plan: { type: 'string', default: '{}' },
    workers: { type: 'string', default: '1' },
    'warm-up': { type: 'boolean', default: false },
  },
});
if (!o.model) {
  console.error('usage: node tools/webgpu/run_plan.mjs --device webgpu|cpu --model DIR [--steps N] [--data NAME] [--plan JSON]');
  process.exit(2);
}
try {
  const t = await startPageTrainer();
  const device = await t.call('set_device', { kind: o.device });
  if (device.backend !== o.device) throw new Error(`asked for ${o.device}, the trainer took ${device.backend}`);
  const loadStart = performance.now();
  const model = await t.call('load_model', modelFiles(o.model));
  const loadMs = performance.now() - loadStart;
  const text = await t.call('builtin_dataset', { name: o.data });
  if (text === null) throw new Error(`no built-in dataset '${o.data}'`);
  await t.call('load_dataset', { name: o.data, bytes: new TextEncoder().encode(text) });
  const plan = { ...(await t.call('default_plan')), ...JSON.parse(o.plan) };
  let warmUp = null;
  if (o['warm-up']) {
    const w0 = performance.now();
    const c0 = t.counters();
    const timed = await t.call('time_step', { plan });
    const c1 = t.counters();
    warmUp = { first_ms: timed.first_ms, step_ms: timed.step_ms, wall_ms: performance.now() - w0, pipelines: c1.pipelines - c0.pipelines };
  }
  const run = await runSteps(t, plan, Number(o.steps), Number(o.workers));
  const limits = t.adapter?.limits;
  console.log(JSON.stringify({
    device: device.backend, adapter: device.adapter ?? null, model: model.name, load_ms: loadMs, plan, warm_up: warmUp, ...run,
    adapter_limits: limits ? { max_storage_buffer_binding_size: limits.maxStorageBufferBindingSize, max_buffer_size: limits.maxBufferSize } : null,
  }));
  process.exit(0);
} catch (e) {
  console.error(`error: ${e.field ? `${e.field}: ` : ''}${e.message}`);
  process.exit(1);
}
