// One run over several Web Workers on the CPU path (web/train/helpers.js, crate/src/train/shares.rs), in headless
// Chromium: the tiny model with dropout on (LoRA's raised to 0.3) trains with 1 worker and with 3, and every step's
// loss agrees within 1e-4; the page says how many workers the run uses; a helper that crashes mid-run ends the
// sharing, not the run (it finishes alone with the same losses); WebGPU uses one worker.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground (built with training) node tests/e2e/workers.mjs
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { KEYWORDS_CSV, runPageTests } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8188);
const BASE = `http://127.0.0.1:${PORT}/`;
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

// 80 keyword rows, batch 8 (64 training rows: 8 steps an epoch), 2 epochs.
const PLAN = { model: 'tiny', device: 'cpu', data: 'complaints', method: 'lora', r: 8, alpha: 16, dropout: 0.3, lr: 0.01, epochs: 2, batch: 8, maxlen: 16, seed: 3 };
const hashFor = (p) => '#' + Object.entries(p).map(([k, v]) => `${k}=${v}`).join('&');

// Opens the page on `plan` with the keyword data and runs it to the end: its losses and what it said of workers.
async function train(page, plan, beforeStart = async () => {}) {
  // `?hooks=1`: the trainer built with failures on demand (a helper's trap), which the shipped one lacks.
  await page.goto(`${BASE}train.html?hooks=1${hashFor(plan)}`);
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'));
  await page.waitForFunction((d) => document.querySelector('#device-note').dataset.state === d, plan.device);
  await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
  await page.waitForSelector('#data-count[data-examples="80"]');
  await beforeStart();
  await page.click('#start');
  await page.waitForFunction(() => /done|failed|not started/.test(document.querySelector('#train-text').textContent), null, { timeout: 300_000 });
  return page.evaluate(() => ({
    text: document.querySelector('#train-text').textContent,
    losses: window.lpTrain.runs.at(-1)?.losses ?? [],
    workers: Number(document.querySelector('#train-text').dataset.workers),
    note: document.querySelector('#workers-note').textContent,
  }));
}

const maxDiff = (a, b) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));

const tests = [
  ['3 workers give 1 worker\'s losses within 1e-4, and the page says how many share each batch', async (page) => {
    const one = await train(page, { ...PLAN, workers: 1 });
    assert.equal(one.losses.length, 16, one.text);
    assert.equal(one.workers, 1);
    const three = await train(page, { ...PLAN, workers: 3 });
    assert.equal(three.losses.length, 16, three.text);
    assert.equal(three.workers, 3, three.text);
    assert.match(three.note, /this run: 3 workers share each batch/, three.note);
    const d = maxDiff(one.losses, three.losses);
    assert.ok(d < 1e-4, `losses differ by ${d}: ${one.losses} vs ${three.losses}`);
    // Dropout is on: another seed is another run (so the agreement above is not that of two dropout-free runs).
    const other = await train(page, { ...PLAN, workers: 1, seed: 4 });
    assert.ok(maxDiff(one.losses, other.losses) > 1e-3);
  }],
  ['a helper that crashes mid-run ends the sharing, not the run: it finishes alone with the same losses', async (page) => {
    const one = await train(page, { ...PLAN, workers: 1 });
    // The run's helper worker traps at its 5th share (a Rust panic, as an out-of-memory would).
    const crashed = await train(page, { ...PLAN, workers: 2 }, () => page.evaluate(() => window.lpTrain.panicHelpersAt(5)));
    assert.equal(crashed.losses.length, 16, crashed.text);
    assert.equal(crashed.workers, 1, 'the run ended on one worker');
    assert.match(crashed.note, /this run: 1 worker \(a helper worker crashed/, crashed.note);
    const d = maxDiff(one.losses, crashed.losses);
    assert.ok(d < 1e-4, `losses differ by ${d}`);
  }],
  ['WebGPU uses one worker however many are asked for (it runs the whole batch at once)', async (page) => {
    const gpu = await train(page, { ...PLAN, device: 'webgpu', epochs: 1, workers: 3 });
    assert.equal(gpu.losses.length, 8, gpu.text);
    assert.equal(gpu.workers, 1);
    assert.match(gpu.note, /this run: 1 worker \(WebGPU runs the whole batch at once\)/, gpu.note);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'], contextOptions: { viewport: { width: 1280, height: 900 } },
  onFailure: (page, i) => page.screenshot({ path: join(ARTIFACTS, `workers-failed-${i}.png`), fullPage: true }),
});
