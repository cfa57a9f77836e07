// The first step on WebGPU, with and without the page's warm-up (web/train/step-time.js: two steps timed on a throwaway
// model once the model and data are in), each run by the page's own worker in Node on Dawn (run_plan.mjs),
// alternating, the same plan: the warm-up's own time, Start to the first loss, a steady step, the pipelines (kernels
// compiled by the driver) and dispatches of the first step and of a steady one, the losses side by side. One
// process per run; the driver's own disk cache of compiled kernels (Mesa's, NVIDIA's) is shared between them, so
// the first round may differ from the rest: `MESA_SHADER_CACHE_DISABLE=true` measures lavapipe without it.
// Usage: node tools/webgpu/warmup_bench.mjs --model DIR [--steps 4] [--rounds 2] [--batch 16] [--maxlen 64]
import { parseArgs } from 'node:util';
import { runPlanProcess } from './page_trainer.mjs';

const { values: o } = parseArgs({
  options: {
    model: { type: 'string' },
    steps: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    batch: { type: 'string', default: '16' },
    maxlen: { type: 'string', default: '64' },
  },
});
if (!o.model) {
  console.error('usage: node tools/webgpu/warmup_bench.mjs --model DIR [--steps 4] [--rounds 2] [--batch 16] [--maxlen 64]');
  process.exit(2);
}
const plan = JSON.stringify({ method: 'lora', epochs: 3, batch_size: Number(o.batch), max_len: Number(o.maxlen), seed: 0 });
const modes = ['without', 'with'];
const runs = { without: [], with: [] };
for (let round = 0; round < Number(o.rounds); round++) {
  for (const mode of round % 2 ? [...modes].reverse() : modes) {
    const args = ['--device', 'webgpu', '--model', o.model, '--steps', o.steps, '--plan', plan];
    if (mode === 'with') args.push('--warm-up');
    runs[mode].push(runPlanProcess(args));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const s = (ms) => (ms / 1000).toFixed(1);
console.log('| warm-up | its time, s | Start to first loss, s | a step, s | pipelines created: warm-up / first step / a step | dispatches a step | losses |');
console.log('|---|---:|---:|---:|---|---:|---|');
for (const mode of modes) {
  const r = runs[mode];
  const w = r[0].warm_up;
  console.log(`| ${mode} | ${w ? s(median(r.map((x) => x.warm_up.wall_ms))) : ''} | ${s(median(r.map((x) => x.first_loss_ms)))} `
    + `| ${(median(r.map((x) => x.step_ms)) / 1000).toFixed(2)} | ${w ? w.pipelines : '-'} / ${r[0].gpu.first_step.pipelines} / ${r[0].gpu.per_step.pipelines} `
    + `| ${r[0].gpu.per_step.dispatches} | ${r[0].losses.map((l) => l.toFixed(6)).join(' ')} |`);
}
const diff = Math.max(...runs.without[0].losses.map((l, i) => Math.abs(l - runs.with[0].losses[i])));
console.log(`\nadapter: ${runs.without[0].adapter}; LoRA, batch ${o.batch} x ${o.maxlen}, ${o.steps} steps, ${o.rounds} rounds alternating; `
  + `each run's Start-to-first-loss: without ${runs.without.map((x) => s(x.first_loss_ms)).join(', ')} s, with ${runs.with.map((x) => s(x.first_loss_ms)).join(', ')} s; largest loss difference ${diff.toExponential(1)}`);
