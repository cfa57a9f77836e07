// Runs that survive, in headless Chromium: a trap injected at a chosen step (a Rust panic in the trainer's wasm)
// is caught, a fresh worker carries the run on from the last snapshot with a note saying so, and a reload mid-run
// offers the run back from IndexedDB; both give the uninterrupted run's losses within 1e-4 (dropout on, CPU path,
// tiny model). The page keeps working after each: it predicts, and a new run starts.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/recovery.mjs
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { runPageTests } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8184);
const BASE = `http://127.0.0.1:${PORT}/`;
// Dropout on, so the test sees whether a carried-on run draws the masks the uninterrupted one draws.
const PLAN = { device: 'cpu', model: 'tiny', data: 'complaints', method: 'lora', r: 4, alpha: 8, dropout: 0.1, lr: 0.01,
  epochs: 1, batch: 16, maxlen: 16, seed: 3 };
const URL_ = `${BASE}train.html#${Object.entries(PLAN).map(([k, v]) => `${k}=${v}`).join('&')}`;

async function open(page) {
  await page.goto(URL_);
  await loaded(page);
}

const loaded = (page) => page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers') &&
  document.querySelector('#data-count') && document.querySelector('#device-note').dataset.state === 'cpu');

// Starts a run and waits for it to finish: its record (losses by step).
async function trained(page, before = 0) {
  await page.waitForFunction((n) => window.lpTrain.runs.length > n, before, { timeout: 120_000 });
  return page.evaluate(() => window.lpTrain.runs.at(-1));
}

function assertSameLosses(got, want) {
  assert.deepEqual(got.steps, want.steps, 'every step once, in order');
  for (const [i, x] of got.losses.entries()) {
    assert.ok(Math.abs(x - want.losses[i]) <= 1e-4, `step ${got.steps[i]}: ${x} against ${want.losses[i]}`);
  }
}

// The page still works after a recovery: it predicts with the trained model and starts another run.
async function stillWorks(page) {
  await page.fill('#predict-text', 'my card was charged twice');
  await page.click('#predict');
  await page.waitForFunction(() => document.querySelector('#prediction').textContent.length > 0);
}

let uninterrupted = null;
const tests = [
  ['the uninterrupted run (the reference)', async (page) => {
    await open(page);
    await page.click('#start');
    uninterrupted = await trained(page);
    assert.ok(uninterrupted.finished && uninterrupted.steps.length >= 6, JSON.stringify(uninterrupted.steps));
  }],
  ['a trap at step 5: a fresh worker carries the run on from step 4 with the same losses', async (page) => {
    await open(page);
    await page.evaluate(() => window.lpTrain.panicAtStep(5));
    await page.click('#start');
    const run = await trained(page);
    const note = await page.locator('#run-note').textContent();
    assert.match(note, /crashed during step 5 .*unreachable.*carried the run on from step 4, its last snapshot/, note);
    assert.equal(await page.locator('#run-note').getAttribute('data-resumed-at'), '4');
    assert.ok(run.finished);
    assertSameLosses(run, uninterrupted);
    await stillWorks(page);
    await page.click('#start');
    assertSameLosses(await trained(page, 1), uninterrupted);
  }],
  ['a reload mid-run offers the run back from IndexedDB, and resuming gives the same losses', async (page) => {
    await open(page);
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 3);
    await page.reload();
    await loaded(page);
    await page.waitForSelector('#saved-run:not([hidden])');
    const offer = await page.locator('#saved-run-text').textContent();
    assert.match(offer, /A run stopped at step \d+ of \d+ .*lora r=4.*dataset complaints/, offer);
    await page.click('#saved-resume');
    const run = await trained(page);
    const at = Number(await page.locator('#run-note').getAttribute('data-resumed-at'));
    assert.ok(at >= 3, `resumed at ${at}`);
    assertSameLosses(run, uninterrupted);
    // Finished: nothing is offered on the next visit.
    await page.reload();
    await loaded(page);
    await page.waitForTimeout(500);
    assert.equal(await page.locator('#saved-run').isHidden(), true);
    await page.click('#start');
    assertSameLosses(await trained(page), uninterrupted);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'], contextOptions: { viewport: { width: 1280, height: 900 } },
});
