// Where a two-worker step's time goes (issue 15's workers, docs/MEASUREMENTS.md "Speed and bytes"): the owner and
// one helper in one Node process, each part of a shared step timed one after another (begin, the owner's share,
// the helper's share, finish), beside a whole step on one worker. MiniLM LoRA r=8 (query, value), batch 16 x 64, the
// complaints data, the trainer's wasm as the page loads it. Run alone on an idle machine: it measures, it asserts
// nothing.   node tools/bench/share_overhead.mjs [--steps 5]   (needs models/all-MiniLM-L6-v2 and web/pkg-train)
import { trainerClass, withMiniLM } from '../minilm_trainer.mjs';

const at = process.argv.indexOf('--steps');
const STEPS = at > 0 ? Number(process.argv[at + 1]) : 5;
const Trainer = await trainerClass();
const owner = await withMiniLM(Trainer);
owner.load_dataset('complaints.jsonl', new TextEncoder().encode(Trainer.builtin_dataset('complaints')));
const plan = Trainer.check_plan({ max_len: 64, batch_size: 16, epochs: 1, seed: 0 });
const info = owner.prepare(plan);
const helper = await withMiniLM(Trainer);
helper.start_replica(plan, info.labels.length);

const ms = {};
const timed = async (part, work) => {
  const t0 = performance.now();
  const out = await work();
  ms[part] = (ms[part] ?? 0) + performance.now() - t0;
  return out;
};
// One untimed round first (first-touch allocations), then STEPS timed ones.
for (let i = 0; i <= STEPS; i++) {
  if (i === 1) for (const k of Object.keys(ms)) ms[k] = 0;
  const request = await timed('begin (cut the batch, read the weights)', () => owner.begin_shared_step(2));
  await timed("the owner's share", () => owner.compute_own_share());
  const answer = await timed("the helper's share (set weights, gradients)", () => helper.replica_gradients(request.weights, request.shares[0]));
  await timed('finish (sum, AdamW, snapshot)', () => owner.finish_shared_step([answer]));
  await timed('a whole step on one worker', () => owner.advance());
}
for (const [part, total] of Object.entries(ms)) console.log(`${part.padEnd(46)} ${(total / STEPS).toFixed(0)} ms`);
