// QLoRA on a classifier in the page (issue 26): train.html on the CPU path (one worker), all-MiniLM-L6-v2 on the
// built-in complaints, each run in a fresh tab (so each tab's WebAssembly memory is its own run's). For each
// METHOD:BASE (lora:float32, lora:nf4, full:float32, ...): the memory the page predicts (its memory line: the
// calculator's figure for the plan, weights, gradients, AdamW and activations at this batch and length), then
// STEPS steps of the run itself: the median step and the trainer's WebAssembly memory after them (its peak: it only
// grows). Batch 16, 64 tokens, LoRA r 8 / alpha 16 on query and value (the page's defaults).
// Usage: tools/serve.sh in another terminal (or LP_URL), then
//   node tools/bench/page_encoder_qlora_bench.mjs [STEPS] [runs, default lora:float32,lora:nf4]
// The ratios are printed for each pair of runs in order (the second over the first).
import { launchChromium } from '../../tests/e2e/harness.mjs';

const SITE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const [steps = '6', runs = 'lora:float32,lora:nf4'] = process.argv.slice(2);
const browser = await launchChromium();
const rows = [];
for (const spec of runs.split(',')) {
  const [method, base] = spec.split(':');
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${SITE}train.html#model=all-MiniLM-L6-v2&device=cpu&workers=1&data=complaints&method=${method}` +
    `&base=${base}&epochs=1&batch=16&maxlen=64`);
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 900_000 });
  await page.waitForFunction(() => window.lpTrain.store.get().plan && document.querySelector('[data-live=memory]').dataset.value,
    null, { timeout: 120_000 });
  const predicted = Number(await page.getAttribute('[data-live=memory]', 'data-value'));
  const stamps = [];
  await page.exposeFunction('lpStep', (n) => stamps.push([n, performance.now()]));
  await page.evaluate(() => new MutationObserver(() => {
    const n = Number(document.querySelector('#train-text').dataset.step);
    if (n) window.lpStep(n);
  }).observe(document.querySelector('#train-text'), { attributes: true, childList: true, characterData: true, subtree: true }));
  await page.click('#start');
  await page.waitForFunction((n) => Number(document.querySelector('#train-text').dataset.step) >= n, Number(steps), { timeout: 3_600_000 });
  await page.click('#stop');
  await page.waitForFunction(() => /stopped|done/.test(document.querySelector('#train-text').textContent), null, { timeout: 900_000 });
  const run = await page.evaluate(() => window.lpTrain.runs.at(-1));
  const seen = [...new Map(stamps).entries()].sort((a, b) => a[0] - b[0]);
  const gaps = seen.slice(1).map(([, s], i) => (s - seen[i][1]) / 1000).sort((a, b) => a - b);
  rows.push({ method, base, predicted_mib: predicted / 2 ** 20, wasm_memory_mib: run.wasm_bytes / 2 ** 20,
    step_s: gaps.length ? gaps[Math.floor(gaps.length / 2)] : null, steps: seen.length, trainable: run.trainable,
    total: run.total, first_losses: run.losses.slice(0, 3) });
  await context.close();
}
console.log(JSON.stringify(rows, null, 1));
for (let i = 0; i + 1 < rows.length; i += 2) {
  const [a, b] = rows.slice(i, i + 2);
  console.log(`${b.method}:${b.base} / ${a.method}:${a.base}: tab memory ${(b.wasm_memory_mib / a.wasm_memory_mib).toFixed(2)}x, ` +
    `predicted ${(b.predicted_mib / a.predicted_mib).toFixed(2)}x, step ${(b.step_s / a.step_s).toFixed(2)}x`);
}
await browser.close();
