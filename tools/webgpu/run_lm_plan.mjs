// One language-model run by the language-model page's own worker (web/lm/worker.js, the trainer wasm's LmLab) in
// Node (page_trainer.mjs): WebGPU from Dawn or the CPU path, a GGUF file or a model folder, the built-in lesson,
// the page's own plan defaults (web/lm/state.js) with any overrides, a few steps driven as the page drives them
// (one `step` call each). Prints JSON: the adapter, load time, the time from Start to the first loss, the step
// time, the losses and the held-out evaluation before the run.
// Usage: node tools/webgpu/run_lm_plan.mjs --device webgpu|cpu --model FILE.gguf|DIR [--steps 3] [--plan JSON] [--max-len 64]
//        [--data FILE.jsonl (default: the built-in lesson, which needs a chat template)]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLmWorker } from './page_trainer.mjs';

const { values: o } = parseArgs({
  options: {
    device: { type: 'string', default: 'webgpu' },
    model: { type: 'string' },
    steps: { type: 'string', default: '3' },
    plan: { type: 'string', default: '{}' },
    'max-len': { type: 'string', default: '64' },
    data: { type: 'string' },
  },
});
if (!o.model) {
  console.error('usage: node tools/webgpu/run_lm_plan.mjs --device webgpu|cpu --model FILE.gguf|DIR [--steps N] [--plan JSON] [--max-len N]');
  process.exit(2);
}
try {
  const t = await startLmWorker();
  // The page's own defaults and plan fields (its property table), so the run is the page's default run.
  const { PROPS, planOf } = await import('../../web/lm/state.js');
  const values = Object.fromEntries(PROPS.map((p) => [p.key, p.default]));
  const device = await t.call('set_device', { kind: o.device });
  const t0 = performance.now();
  const model = o.model.endsWith('.gguf')
    ? await t.call('load_gguf', { name: o.model.split('/').pop(), bytes: readFileSync(o.model) })
    : await t.call('load_folder', { name: 'a model folder', config: readFileSync(join(o.model, 'config.json'), 'utf8'), tokenizer: readFileSync(join(o.model, 'tokenizer.json')), weights: readFileSync(join(o.model, 'model.safetensors')) });
  const loadMs = performance.now() - t0;
  // A data file as the page's upload reads it (prompt/completion JSONL), or the built-in lesson (conversations).
  const text = o.data ? readFileSync(o.data, 'utf8') : await t.call('builtin', { name: 'lora-lesson' });
  await t.call('load_data', { name: o.data ? o.data.split('/').pop() : 'lora-lesson', bytes: new TextEncoder().encode(text), valFraction: values.val_fraction, seed: values.seed, maxLen: Number(o['max-len']) });
  const plan = { ...planOf(values), ...JSON.parse(o.plan) };
  const s0 = performance.now();
  const run = await t.call('start', { plan });
  const losses = [];
  const at = [];
  for (let i = 0; i < Math.min(Number(o.steps), run.total_steps); i++) {
    losses.push((await t.call('step')).loss);
    at.push(performance.now());
  }
  const pace = at.length > 2 ? (at[at.length - 1] - at[1]) / (at.length - 2) : null;
  console.log(JSON.stringify({ device: o.device, adapter: typeof device === 'string' ? device : device?.adapter ?? null, model: model?.name ?? o.model, load_ms: loadMs, plan,
    before: run.before, first_loss_ms: at[0] - s0, step_ms: pace, losses, total_steps: run.total_steps, wasm_bytes: await t.call('memory') }));
  process.exit(0);
} catch (e) {
  console.error(`error: ${e.field ? `${e.field}: ` : ''}${e.message}`);
  process.exit(1);
}
