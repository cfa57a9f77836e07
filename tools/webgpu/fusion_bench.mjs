// burn's kernel fusion in the page's trainer, measured: the shipped wasm (web/pkg-train) against the same build
// with `--features fusion` (web/pkg-train-fusion, tools/webgpu/build_fusion_wasm.sh), each run by the page's own
// worker in Node on Dawn's WebGPU (run_plan.mjs), alternating, the same plan: wasm size, the time from Start to the
// first loss, the step time, and the losses side by side. One process per run (nothing shared between them).
// Usage: node tools/webgpu/fusion_bench.mjs --model DIR [--steps 5] [--rounds 2] [--batch 16] [--maxlen 64]
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runPlanProcess } from './page_trainer.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const WEB = join(HERE, '..', '..', 'web');
const { values: o } = parseArgs({
  options: {
    model: { type: 'string' },
    steps: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    batch: { type: 'string', default: '16' },
    maxlen: { type: 'string', default: '64' },
  },
});
if (!o.model) {
  console.error('usage: node tools/webgpu/fusion_bench.mjs --model DIR [--steps 5] [--rounds 2] [--batch 16] [--maxlen 64]');
  process.exit(2);
}
const plan = JSON.stringify({ method: 'lora', epochs: 3, batch_size: Number(o.batch), max_len: Number(o.maxlen), seed: 0 });
const builds = ['pkg-train', 'pkg-train-fusion'];
const runs = Object.fromEntries(builds.map((b) => [b, []]));
for (let round = 0; round < Number(o.rounds); round++) {
  for (const pkg of round % 2 ? [...builds].reverse() : builds) {
    runs[pkg].push(runPlanProcess(['--device', 'webgpu', '--model', o.model, '--steps', o.steps, '--plan', plan],
      { env: { ...process.env, LP_TRAINER_PKG: pkg } }));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
console.log('| build | wasm bytes | Start to first loss, ms (median) | ms/step (median) | losses |');
console.log('|---|---:|---:|---:|---|');
for (const b of builds) {
  const r = runs[b];
  console.log(`| ${b === 'pkg-train' ? 'shipped (no fusion)' : 'with fusion'} | ${statSync(join(WEB, b, 'lora_playground_bg.wasm')).size.toLocaleString('en-US')} `
    + `| ${median(r.map((x) => x.first_loss_ms)).toFixed(0)} | ${median(r.map((x) => x.step_ms)).toFixed(0)} | ${r[0].losses.map((l) => l.toFixed(6)).join(' ')} |`);
}
const diff = Math.max(...runs['pkg-train'][0].losses.map((l, i) => Math.abs(l - runs['pkg-train-fusion'][0].losses[i])));
console.log(`\nadapter: ${runs['pkg-train'][0].adapter}; LoRA, batch ${o.batch} x ${o.maxlen}, ${o.steps} steps, ${o.rounds} rounds alternating; largest loss difference ${diff.toExponential(1)}`);
