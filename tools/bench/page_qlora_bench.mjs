// QLoRA in the page (issue 26): lm.html on the CPU path (one worker), the same LoRA run on a float32 base and on
// an NF4 base, each in a fresh tab (so each tab's WebAssembly memory is its own run's): the time to load the model,
// from Start to the first loss point, the median of the next steps, and the tab's WebAssembly memory after them
// (its peak: it only grows), beside the memory the page predicted. The built-in lesson, batch 4, at most 128 tokens,
// LoRA r 8 / alpha 16 on every linear layer (the page's defaults). Stopped after STEPS steps.
// A model without a chat template (Gemma 3 270M's GGUF has none) gets the same lesson as prompt/completion rows
// ("Question: ... Answer:"), pasted.
// Usage: tools/serve.sh in another terminal (or LP_URL), then
//   node tools/bench/page_qlora_bench.mjs [smollm2|gemma-3-270m] [STEPS] [bases, default float32,nf4]
// A base followed by "+gc" runs with gradient checkpointing (float32+gc,nf4+gc); the ratios are printed for each
// pair of runs in order (the second over the first).
import { readFileSync } from 'node:fs';
import { launchChromium } from '../../tests/e2e/harness.mjs';

const PLAIN = readFileSync(new URL('../../crate/datasets/lora-lesson.jsonl', import.meta.url), 'utf8').trim().split('\n')
  .map((line) => JSON.parse(line).messages)
  .map((m) => JSON.stringify({ prompt: `Question: ${m.find((t) => t.role === 'user').content}\nAnswer:`,
    completion: ` ${m.find((t) => t.role === 'assistant').content}` })).join('\n');

const SITE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const [model = 'smollm2', steps = '4', bases = 'float32,nf4'] = process.argv.slice(2);
const browser = await launchChromium();
const rows = [];
for (const spec of bases.split(',')) {
  const [base, gc] = spec.split('+');
  const context = await browser.newContext();
  const page = await context.newPage();
  const plain = model.startsWith('gemma');
  await page.goto(`${SITE}lm.html#model=${model}&base=${base}${gc ? '&gradient_checkpointing=1' : ''}${plain ? '&data=paste' : ''}`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  if (plain) await page.fill('#data-paste', PLAIN);
  let t = performance.now();
  await page.click('#load-model');
  await page.waitForFunction(() => document.querySelector('#model-status').dataset.ready === 'true', null, { timeout: 900_000 });
  await page.waitForFunction(() => document.querySelector('#data-status').dataset.ready === 'true', null, { timeout: 900_000 });
  const load = (performance.now() - t) / 1000;
  const stamps = [];
  await page.exposeFunction('lpStep', (n) => stamps.push([n, performance.now()]));
  await page.evaluate(() => new MutationObserver(() => {
    const m = /^Step (\d+)\//.exec(document.querySelector('#run-status').textContent);
    if (m) window.lpStep(Number(m[1]));
  }).observe(document.querySelector('#run-status'), { childList: true, characterData: true, subtree: true }));
  t = performance.now();
  await page.click('#start');
  await page.waitForFunction((n) => new RegExp(`^Step ${n}/`).test(document.querySelector('#run-status').textContent) ||
    document.querySelector('#run-status').dataset.done === 'true', Number(steps), { timeout: 3_600_000 });
  // A run the page refused (it would not fit in the tab) is over already: its status says why.
  if (await page.isEnabled('#stop')) await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('#run-status').dataset.done === 'true', null, { timeout: 900_000 });
  const status = await page.textContent('#run-status');
  const memory = await page.textContent('#run-memory');
  const wasmMiB = (await page.evaluate(() => window.lpLm.client.call('memory'))) / 2 ** 20;
  const seen = [...new Map(stamps).entries()].sort((a, b) => a[0] - b[0]);
  const first = seen.length ? (seen[0][1] - t) / 1000 : null;
  const gaps = seen.slice(1).map(([, s], i) => (s - seen[i][1]) / 1000).sort((a, b) => a - b);
  rows.push({ model, base: spec, load_s: load, first_step_s: first, step_s: gaps.length ? gaps[Math.floor(gaps.length / 2)] : null,
    steps: seen.length, wasm_memory_mib: wasmMiB, predicted: memory, status: status.slice(0, 200) });
  await context.close();
}
console.log(JSON.stringify(rows, null, 1));
for (let i = 0; i + 1 < rows.length; i += 2) {
  const [a, b] = rows.slice(i, i + 2);
  console.log(`\n${model}: ${b.base} / ${a.base} tab memory ${(b.wasm_memory_mib / a.wasm_memory_mib).toFixed(2)}x, step ${(b.step_s / a.step_s).toFixed(2)}x`);
}
await browser.close();
