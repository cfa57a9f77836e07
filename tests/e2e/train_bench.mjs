// Measures the training page in headless Chromium (prints figures; asserts nothing about speed):
//   - page load to the first figure (the dataset summary, computed by the trainer wasm), and that wasm's size;
//   - all-MiniLM-L6-v2's download (a fresh browser profile) and its load from Cache Storage (a reload);
//   - training steps/s for MiniLM LoRA r=8 (query, value) at batch 16, max length 64 on the CPU path
//     (burn's CPU backend in wasm), and on WebGPU with --webgpu (only meaningful on a machine with a GPU: headless
//     Chromium here has SwiftShader, a CPU emulation of a GPU).
//   - with --adapters DIR,DIR (MiniLM adapter folders, e.g. from tools/lp.sh train): each loaded into the adapter
//     panel, the time to classify a text after switching to it, and the first one's merge and verify.
// Usage: tools/serve.sh in another terminal, then:
//   node tests/e2e/train_bench.mjs [--steps 6] [--webgpu] [--adapters runs/complaints-lora,runs/topics-lora]
import { launchChromium } from './harness.mjs';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const args = process.argv.slice(2);
const STEPS = Number(args[args.indexOf('--steps') + 1] || 6);
const DEVICE = args.includes('--webgpu') ? 'webgpu' : 'cpu';
const ADAPTERS = args.includes('--adapters') ? args[args.indexOf('--adapters') + 1].split(',') : [];

const browser = await launchChromium();
const context = await browser.newContext();
const page = await context.newPage();
const hash = `#model=all-MiniLM-L6-v2&device=${DEVICE}&data=complaints&method=lora&r=8&alpha=16&lr=0.001&epochs=1&batch=16&maxlen=64`;

let t0 = performance.now();
await page.goto(`${BASE}train.html${hash}`);
// The trainer wasm is up once the built-in dataset's summary shows (it is parsed in the worker).
await page.waitForSelector('#data-count', { timeout: 600_000 });
const firstFigure = performance.now() - t0;
const download = await page.evaluate(() => document.querySelector('#download-text').textContent);
await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 600_000 });
const firstLoad = performance.now() - t0;

t0 = performance.now();
await page.reload();
await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 600_000 });
const cachedLoad = performance.now() - t0;
const cachedNote = await page.evaluate(() => document.querySelector('#model-note').textContent);

await page.click('#start');
await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 1, null, { timeout: 1_200_000 });
const t1 = performance.now();
await page.waitForFunction((n) => Number(document.querySelector('#train-text').dataset.step) >= n, STEPS + 1, { timeout: 3_600_000 });
const stepsPerS = STEPS / ((performance.now() - t1) / 1000);
const device = await page.evaluate(() => document.querySelector('#device-note').textContent);
await page.click('#stop');
await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('stopped'), null, { timeout: 600_000 });

const adapterLines = [];
for (const [i, dir] of ADAPTERS.entries()) {
  await page.setInputFiles('#adapter-files', readdirSync(dir).map((f) => join(dir, f)));
  await page.waitForFunction((n) => document.querySelectorAll('#adapters tbody tr').length === n, i + 1, { timeout: 600_000 });
}
if (ADAPTERS.length) {
  await page.fill('#adapter-text', 'I was charged a late fee on my student loan payment');
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < ADAPTERS.length; i++) {
      await page.locator('#adapters tbody input[type=radio]').nth(i).check();
      await page.waitForSelector(`#adapter-used[data-index="${i}"]`, { timeout: 600_000 });
      // The worker's own time for switch + classify (the second round: warm).
      if (round === 1) adapterLines.push(`${ADAPTERS[i]}: ${await page.locator('#adapter-used').textContent()}`);
      await page.evaluate(() => document.querySelector('#adapter-used').remove());
    }
  }
  adapterLines.push(await page.locator('#adapter-memory').textContent());
  await page.locator('#adapters tbody input[type=radio]').nth(0).check();
  await page.click('#merge-verify');
  await page.waitForSelector('#merge-diff', { timeout: 1_200_000 });
  adapterLines.push(await page.locator('#merge-result').textContent());
}
await browser.close();

const wasm = statSync(join(ROOT, 'web/pkg-train/lora_playground_bg.wasm')).size;
console.log(`trainer wasm: ${(wasm / 2 ** 20).toFixed(1)} MiB`);
console.log(`page load to the first figure (dataset summary, from the trainer wasm in its worker): ${(firstFigure / 1000).toFixed(2)} s (model download then: ${download})`);
console.log(`first visit, model downloaded and loaded: ${(firstLoad / 1000).toFixed(2)} s`);
console.log(`reload, model from the browser cache: ${(cachedLoad / 1000).toFixed(2)} s (${cachedNote})`);
console.log(`${device}: MiniLM LoRA r=8 query,value, batch 16, max length 64: ${stepsPerS.toFixed(3)} steps/s ` +
  `(${(16 * stepsPerS).toFixed(1)} examples/s) over ${STEPS} steps after the first`);
for (const line of adapterLines) console.log(line);
