// The language-model lesson measured in the page (issue 25): lm.html on the CPU path (one worker) with the served
// SmolLM2-135M-Instruct, the built-in lesson (48 conversations, 20% held out, batch 4, at most 128 tokens), LoRA
// r 8 / alpha 16 on q_proj and v_proj at 1e-3 for EPOCHS epochs. Prints the time to load the model, from Start to
// the last step, the held-out loss before and after, the answers of the base model and the adapter to the lesson's
// question with their tokens per second, and the wasm memory the tab's worker holds (its peak: it only grows).
// Usage: tools/serve.sh in another terminal (or LP_URL), then
//   node tools/bench/page_lm_bench.mjs [EPOCHS] [target_modules]
import { launchChromium } from '../../tests/e2e/harness.mjs';

const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const [epochs = '4', targets = 'q_proj,v_proj'] = process.argv.slice(2);
const browser = await launchChromium();
const page = await (await browser.newContext()).newPage();
await page.goto(`${BASE}lm.html#num_train_epochs=${epochs}&target_modules=${targets}&max_new_tokens=48`);
await page.waitForFunction(() => document.body.dataset.ready === 'true');
let t = performance.now();
await page.click('#load-model');
await page.waitForFunction(() => document.querySelector('#model-status').dataset.ready === 'true', null, { timeout: 600_000 });
await page.waitForFunction(() => document.querySelector('#data-status').dataset.ready === 'true', null, { timeout: 600_000 });
const load = (performance.now() - t) / 1000;
const ask = async () => {
  await page.click('#ask');
  await page.waitForFunction(() => !document.querySelector('#ask').disabled && document.querySelector('#answer-adapter').dataset.done === 'true', null, { timeout: 600_000 });
  return page.evaluate(() => ['base', 'adapter'].map((k) => {
    const e = document.querySelector(`#answer-${k}`);
    return { text: e.textContent, tokens: Number(e.dataset.tokens), seconds: Number(e.dataset.seconds) };
  }));
};
t = performance.now();
await page.click('#start');
await page.waitForFunction(() => document.querySelector('#run-status').dataset.done === 'true', null, { timeout: 3_600_000 });
const train = (performance.now() - t) / 1000;
const status = await page.textContent('#run-status');
const evals = await page.$$eval('#evals tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
const [base, adapter] = await ask();
const wasmMiB = (await page.evaluate(() => window.lpLm.client.call('memory'))) / 2 ** 20;
console.log(JSON.stringify({ epochs, targets, load_s: load, train_s: train, status, evals, base, adapter, wasm_memory_mib: wasmMiB }, null, 1));
await browser.close();
