// CPU workers on more cores: the page's own trainer in Node (page_trainer.mjs, its helpers on worker threads), one
// process per worker count, the same plan and steps: step time, speed-up against one worker, and whether the
// losses stay one worker's. For the 16-core GPU machine (tools/bench/gpu_bench.sh) and any laptop.
// Usage: node tools/webgpu/workers_bench.mjs --model DIR [--workers 1,2,4,8,16] [--steps 6] [--batch 32] [--maxlen 64]
// Prints a Markdown table, then the JSON of each run. Asserts nothing about speed.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { runPlanProcess } from './page_trainer.mjs';

const { values: o } = parseArgs({
  options: {
    model: { type: 'string' },
    workers: { type: 'string', default: [1, 2, 4, 8, 16].filter((n) => n <= cpus().length).join(',') },
    steps: { type: 'string', default: '6' },
    batch: { type: 'string', default: '32' },
    maxlen: { type: 'string', default: '64' },
  },
});
if (!o.model) {
  console.error('usage: node tools/webgpu/workers_bench.mjs --model DIR [--workers 1,2,4] [--steps 6] [--batch 32] [--maxlen 64]');
  process.exit(2);
}
const plan = JSON.stringify({ method: 'lora', epochs: 3, batch_size: Number(o.batch), max_len: Number(o.maxlen), seed: 0 });
const runs = [];
for (const n of o.workers.split(',').map(Number)) {
  runs.push({ asked: n, ...runPlanProcess(['--device', 'cpu', '--model', o.model, '--steps', o.steps, '--workers', String(n), '--plan', plan]) });
}
const one = runs[0];
console.log(`| workers asked | workers used | ms/step | speed-up | first loss ms | largest loss difference from ${one.asked} worker(s) |`);
console.log('|---:|---:|---:|---:|---:|---:|');
for (const r of runs) {
  const diff = Math.max(...r.losses.map((l, i) => Math.abs(l - one.losses[i])));
  console.log(`| ${r.asked} | ${r.workers} | ${r.step_ms.toFixed(0)} | ${(one.step_ms / r.step_ms).toFixed(2)}x | ${r.first_loss_ms.toFixed(0)} | ${diff.toExponential(1)} |`);
}
console.log(`\n${cpus().length} cores (${cpus()[0].model}); MiniLM-shaped plan: LoRA, batch ${o.batch} x ${o.maxlen}, ${o.steps} steps each`);
for (const r of runs) console.log(JSON.stringify(r));
