// Times a LoRA step of each architecture in the training page (headless Chromium, the CPU path: WebAssembly) with
// the page's own *Time one step* button, for the per-architecture table in docs/MEASUREMENTS.md beside the native
// figures of tools/bench/arch_bench.sh (whose model folders it reuses: all-MiniLM-L6-v2 real, the others random in their real shapes).
// Batch 16, max length 64, LoRA r=8 on each architecture's query and value, on the built-in complaints (long texts,
// so nearly every row is cut at 64 tokens, as the native bench's rows are all 64).
// Usage: tools/bench/arch_bench.sh first (it writes runs/arch-bench), tools/serve.sh in another terminal (or LP_URL), then
//   node tools/bench/page_arch_bench.mjs [runs/arch-bench]     (LP_ONLY=NAME for one model)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../../tests/e2e/harness.mjs';

const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const dir = process.argv[2] ?? 'runs/arch-bench';
const MODELS = [
  ['all-MiniLM-L6-v2', 'models/all-MiniLM-L6-v2', 'query,value'],
  ['distilbert-base-uncased', join(dir, 'distilbert-base-uncased'), 'q_lin,v_lin'],
  ['bert-base-uncased', join(dir, 'bert-base-uncased'), 'query,value'],
  ['roberta-base', join(dir, 'roberta-base'), 'query,value'],
  ['gpt2', join(dir, 'gpt2'), 'c_attn'],
  ['ModernBERT-base', join(dir, 'ModernBERT-base'), 'Wqkv'],
].filter(([name]) => !process.env.LP_ONLY || name === process.env.LP_ONLY);

const browser = await launchChromium();
const rows = [];
for (const [name, folder, targets] of MODELS) {
  // A fresh page for each: a tab's 4 GiB hold one base-sized model at a time.
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${BASE}train.html#model=tiny&device=cpu&data=complaints&method=lora&r=8&alpha=16&targets=${targets}&batch=16&maxlen=64&seed=0`);
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers') &&
    document.querySelector('#device-note').dataset.state === 'cpu', null, { timeout: 600_000 });
  await page.selectOption('#model-choice', 'folder');
  await page.setInputFiles('#model-folder', ['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => join(folder, f)));
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('Read from your disk') ||
    document.querySelector('#err-model').textContent, null, { timeout: 600_000 });
  const refused = await page.locator('#err-model').textContent();
  if (refused) throw new Error(`${name}: ${refused}`);
  await page.click('#time-step');
  await page.waitForFunction(() => document.querySelector('#step-time').dataset.ms || document.querySelector('#err-plan').textContent ||
    document.querySelector('#err-targets').textContent, null, { timeout: 1_800_000 });
  const ms = Number(await page.locator('#step-time').getAttribute('data-ms'));
  const wasmBytes = Number(await page.locator('#step-time').getAttribute('data-wasm-bytes'));
  const shown = await page.locator('#step-time').textContent();
  const memory = await page.locator('[data-live=memory]').textContent();
  console.log(`${name}: ${shown || await page.locator('#err-plan').textContent()} | ${memory}`);
  rows.push({ name, targets, ms, wasm_bytes: wasmBytes, shown, memory });
  await page.context().close();
}
await browser.close();
writeFileSync(join(dir, 'page.json'), JSON.stringify(rows, null, 1));
