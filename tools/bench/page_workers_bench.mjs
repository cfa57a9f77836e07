// The page's CPU path over 1, 2, ... Web Workers (web/train/helpers.js), side by side in one browser: MiniLM LoRA
// r=8 (query, value), batch 16, max length 64, on the complaints dataset; steps/s over STEPS steps after the first
// (the helpers start, and load the model, before the first step), each worker count in turn and then 1 again (the
// machine's drift). Prints a table; asserts nothing about speed.
// Usage: a server on :8080 (tools/serve.sh), then  node tools/bench/page_workers_bench.mjs [--steps 6] [--workers 1,2,4]
//   [--before URL]: also an earlier build of the page served at URL (a checkout of it, served on another port),
//   measured first with one worker: the "before" of the table in docs/MEASUREMENTS.md, in the same run.
import { launchChromium } from '../../tests/e2e/harness.mjs';

const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const STEPS = Number(opt('--steps', 6));
const COUNTS = opt('--workers', '1,2,4').split(',').map(Number);
const BEFORE = opt('--before', null);

const browser = await launchChromium();
// One context for all (the model downloads once, then comes from Cache Storage), a fresh page for each count.
const context = await browser.newContext();
let page = await context.newPage();
const cores = await page.evaluate(() => navigator.hardwareConcurrency);

async function measure(workers, base = BASE) {
  console.error(`measuring ${workers} worker(s)...`);
  await page.close();
  page = await context.newPage();
  const hash = `#model=all-MiniLM-L6-v2&weights=float32&device=cpu&workers=${workers}&data=complaints&method=lora&r=8&alpha=16&targets=query,value` +
    '&lr=0.001&epochs=1&batch=16&maxlen=64&seed=0';
  await page.goto(`${base}train.html${hash}`);
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 600_000 });
  await page.waitForFunction(() => document.querySelector('#device-note').dataset.state === 'cpu', null, { timeout: 600_000 });
  await page.waitForSelector('#data-count', { timeout: 600_000 });
  await page.click('#start');
  await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 1, null, { timeout: 1_200_000 });
  const t1 = performance.now();
  await page.waitForFunction((n) => Number(document.querySelector('#train-text').dataset.step) >= n, STEPS + 1, { timeout: 3_600_000 });
  const seconds = (performance.now() - t1) / 1000;
  const used = await page.evaluate(() => Number(document.querySelector('#train-text').dataset.workers));
  const losses = await page.evaluate(() => document.querySelector('#train-text').dataset.loss);
  await page.click('#stop');
  await page.waitForFunction(() => /stopped|done/.test(document.querySelector('#train-text').textContent), null, { timeout: 600_000 });
  return { workers, used: used || 1, stepsPerS: STEPS / seconds, lastLoss: Number(losses), build: base === BASE ? 'this' : 'before' };
}

const rows = [];
if (BEFORE) rows.push(await measure(1, BEFORE));
for (const n of [...COUNTS, COUNTS[0]]) rows.push(await measure(n));
await browser.close();

const base = rows[0].stepsPerS;
console.log(`page CPU path, MiniLM LoRA r=8 query,value, batch 16, length 64, ${STEPS} steps after the first; ${cores} cores reported`);
console.log(`| build | workers asked | workers used | steps/s | x ${BEFORE ? 'before' : 'one worker'} | loss at step ${STEPS + 1} |`);
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.build} | ${r.workers} | ${r.used} | ${r.stepsPerS.toFixed(3)} | ${(r.stepsPerS / base).toFixed(2)} | ${r.lastLoss.toFixed(6)} |`);
}
