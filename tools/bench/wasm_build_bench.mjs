// Trainer wasm builds side by side (issue 15's size target: "no training step more than 5% slower than today's
// build"): for each folder holding a wasm-bindgen output (lora_playground.js + lora_playground_bg.wasm), its bytes
// raw, gzip -9 and brotli 11 (16 MiB window, as tools/compress.mjs serves them), and MiniLM LoRA r=8 (query,
// value) training steps at batch 16 x 64 on the CPU path, in Node (the page's worker runs the same wasm). Steps
// alternate between the builds so that a slower minute of the machine falls on all of them; each build must give
// the same losses (the builds differ in how they are compiled, not in what they compute).
//   node tools/bench/wasm_build_bench.mjs [--steps N] LABEL=DIR ...   (needs models/all-MiniLM-L6-v2: tools/fetch_model.sh)
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { brotli, gzip } from '../compress.mjs';
import { trainerClass, withMiniLM } from '../minilm_trainer.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--steps');
const steps = at >= 0 ? Number(args.splice(at, 2)[1]) : 8;
const builds = args.map((a) => {
  const [label, dir] = a.includes('=') ? a.split('=') : [a, a];
  return { label, dir: resolve(dir) };
});
if (!builds.length) throw new Error('usage: node tools/bench/wasm_build_bench.mjs [--steps N] LABEL=DIR ...');

function sizes(wasm) {
  const data = readFileSync(wasm);
  const kept = (ext, make) => (existsSync(wasm + ext) ? readFileSync(wasm + ext).length : make().length);
  return {
    raw: data.length,
    gzip: kept('.gz', () => gzip(data)),
    brotli: kept('.br', () => brotli(data)),
  };
}

async function trainer(dir) {
  const Trainer = await trainerClass(dir);
  const t = await withMiniLM(Trainer);
  t.load_dataset('complaints.jsonl', new TextEncoder().encode(Trainer.builtin_dataset('complaints')));
  t.prepare(Trainer.check_plan({ max_len: 64, batch_size: 16, epochs: 1, seed: 0 }));
  return t;
}

for (const b of builds) {
  b.sizes = sizes(`${b.dir}/lora_playground_bg.wasm`);
  b.trainer = await trainer(b.dir);
  b.ms = [];
  b.losses = [];
}
// One warm-up step each (first-touch allocations), then the timed ones, alternating.
for (let i = 0; i <= steps; i++) {
  for (const b of builds) {
    const t0 = performance.now();
    const tick = await b.trainer.advance();
    if (i > 0) b.ms.push(performance.now() - t0);
    b.losses.push(tick.step.loss);
  }
}
const median = (xs) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
const mib = (n) => (n / 2 ** 20).toFixed(2);
const base = median(builds[0].ms);
console.log(`| build | wasm MiB | gzip MiB | brotli MiB | ms/step (median of ${steps}) | vs ${builds[0].label} | same losses |`);
console.log('|---|---|---|---|---|---|---|');
for (const b of builds) {
  const same = b.losses.every((l, i) => Math.abs(l - builds[0].losses[i]) <= 1e-4);
  console.log(`| ${b.label} | ${mib(b.sizes.raw)} | ${mib(b.sizes.gzip)} | ${mib(b.sizes.brotli)} | ${median(b.ms).toFixed(0)} | ` +
    `${(median(b.ms) / base).toFixed(3)}x | ${same ? 'yes' : `no (${b.losses.map((l) => l.toFixed(5)).join(' ')})`} |`);
}
