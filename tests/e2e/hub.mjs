// Models by Hub id (`train.html#model=hf:ORG/NAME&hub=...`, `--model hf:ORG/NAME --hub ...`), against a local
// server with the Hub's URL layout (hub-mimic.mjs) and against `lora-playground serve` acting as a mirror for a
// page on another origin. Loads, trains, comes back from Cache Storage, and every failure a student can meet
// (404, gated 401/403, an architecture we cannot train, an HTML page, a truncated file, the connection dropped
// mid-download, files of two models) gets a message saying what to do, in the page and in the CLI alike.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/hub.mjs
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { runPageTests, trainerReady, trainOnce } from './harness.mjs';
import { startMimic } from './hub-mimic.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8194);
const BASE = `http://127.0.0.1:${PORT}/`;
const MIRROR_PORT = PORT + 2; // `serve` as a mirror, for a page on another origin
const NOBODY = `http://127.0.0.1:${PORT + 3}`; // nothing listens there

const work = mkdtempSync(join(tmpdir(), 'lp-hub-'));
const made = spawnSync(CLI, ['tiny-model', '--out', join(work, 'models', 'tiny-bert')]);
assert.equal(made.status, 0, String(made.stderr));
const mimic = await startMimic(PORT + 1, join(work, 'models', 'tiny-bert'));
const HUB = mimic.url;
const PLAN = { device: 'cpu', data: 'complaints', lr: 0.01, epochs: 1, batch: 32, maxlen: 16 };
const link = (extra) => `${BASE}train.html#${Object.entries({ ...PLAN, ...extra }).map(([k, v]) => `${k}=${v}`).join('&')}`;
const got = (path) => mimic.requests.filter((r) => r === `GET ${path}`).length;
const err = (page) => page.locator('#err-model').textContent();
const failed = (page) => page.waitForFunction(() => document.querySelector('#err-model').textContent.length > 0, null, { timeout: 60_000 });

// The CLI with its own download folder; [status, stderr]. Not spawnSync: the mimic answers from this process.
const cache = join(work, 'cli-cache');
function cli(args) {
  const child = spawn(CLI, args, { env: { ...process.env, LP_HUB_CACHE: cache, LP_HUB: HUB }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => child.on('close', (status) => resolve([status, stderr])));
}
const train = (id, out = join(work, 'out')) => cli(['train', '--model', `hf:${id}`, '--data', 'builtin:sentiment', '--out', out, '--epochs', '1', '--quiet']);

// [id, what the page and the CLI must say]
const FAILURES = [
  ['org/missing', /(not found|no such model) \(404\)/],
  ['org/gated', /gated or private/],
  ['org/private', /\(403\)/],
  ['org/t5', /model_type.*t5|t5.*model_type/],
  ['org/html', /web page/],
  ['org/short', /truncated/],
  ['org/mixed', /tokenizer\.json/],
];

const tests = [
  ['CLI: --model hf:ORG/NAME fetches once, trains, and records the id as the adapter\'s base model', async () => {
    const [status, stderr] = await train('org/tiny-bert');
    assert.equal(status, 0, stderr);
    const config = JSON.parse(readFileSync(join(work, 'out', 'adapter_config.json'), 'utf8'));
    assert.equal(config.base_model_name_or_path, 'org/tiny-bert');
    const before = got('/org/tiny-bert/resolve/main/model.safetensors');
    assert.equal((await cli(['count', '--model', 'hf:org/tiny-bert', '--json']))[0], 0);
    assert.equal((await train('org/tiny-bert', join(work, 'out2')))[0], 0);
    assert.equal(got('/org/tiny-bert/resolve/main/model.safetensors'), before, 'the second run used the kept files');
  }],
  [`CLI: ${FAILURES.length + 2} failures, each exit 1 with a message saying what to do`, async () => {
    for (const [id, pattern] of FAILURES) {
      const [status, stderr] = await train(id);
      assert.equal(status, 1, `${id}: ${stderr}`);
      assert.match(stderr, pattern, id);
    }
    assert.equal(got('/org/t5/resolve/main/model.safetensors'), 0, 'the weights of a model we cannot train are never fetched');
    const [status, stderr] = await train('org/flaky');
    assert.equal(status, 1);
    assert.match(stderr, /broke off after \d+ of \d+ bytes/);
    const kept = join(cache, '127.0.0.1_' + (PORT + 1), 'org', 'flaky', 'main');
    assert.ok(!existsSync(join(kept, 'model.safetensors')) && !existsSync(join(kept, 'model.safetensors.part')), 'nothing partial is kept');
    mimic.heal(true);
    assert.equal((await train('org/flaky'))[0], 0, 'the next try succeeds');
    mimic.heal(false);
    const [s2, e2] = await cli(['count', '--model', 'hf:org/tiny-bert', '--hub', NOBODY]);
    assert.equal(s2, 2);
    assert.match(e2, /cannot reach the hub/);
  }],
  ['page: model=hf:ORG/NAME&hub=... downloads with progress, trains, and comes back from the browser cache', async (page) => {
    await page.goto(link({ model: 'hf:org/tiny-bert', hub: HUB }));
    await trainerReady(page, 60_000);
    assert.match(await page.locator('#model-note').textContent(), new RegExp(`From ${HUB}\\. Downloaded`));
    assert.match(await page.locator('#download-text').textContent(), /model\.safetensors: .* \(100%\)/);
    await trainOnce(page);
    const fetched = got('/org/tiny-bert/resolve/main/model.safetensors');
    await page.reload();
    await trainerReady(page, 60_000);
    assert.match(await page.locator('#model-note').textContent(), /browser cache/);
    assert.equal(got('/org/tiny-bert/resolve/main/model.safetensors'), fetched, 'no second download');
  }],
  ['page: an id typed into "a model from the Hub..." loads and becomes the link', async (page) => {
    await page.goto(link({ model: 'tiny' }));
    await trainerReady(page, 60_000);
    await page.selectOption('#model-choice', 'hub');
    await page.fill('#hub', HUB);
    await page.fill('#hub-id', 'org/tiny-bert');
    await page.click('#model-load');
    await page.waitForFunction(() => document.querySelector('#model-note').textContent.startsWith('org/tiny-bert'), null, { timeout: 60_000 });
    const hash = decodeURIComponent(await page.evaluate(() => location.hash));
    assert.match(hash, /model=hf:org\/tiny-bert/);
    assert.match(hash, new RegExp(`hub=${HUB}`));
  }],
  [`page: ${FAILURES.length + 2} failures, each named under the model with what to do; a retry after a dropped download works`, async (page) => {
    for (const [id, pattern] of FAILURES) {
      await page.goto('about:blank');
      await page.goto(link({ model: `hf:${id}`, hub: HUB }));
      await failed(page);
      assert.match(await err(page), pattern, `${id}: ${await err(page)}`);
    }
    await page.goto('about:blank');
    await page.goto(link({ model: 'hf:org/tiny-bert', hub: NOBODY }));
    await failed(page);
    assert.match(await err(page), /cannot reach/);
    await page.goto('about:blank');
    await page.goto(link({ model: 'hf:org/flaky', hub: HUB }));
    await failed(page);
    assert.match(await err(page), /broke off after .* of .*press Load to try again/);
    mimic.heal(true);
    await page.click('#model-load');
    await trainerReady(page, 60_000);
    assert.equal(await err(page), '');
    mimic.heal(false);
  }],
  ['serve as a Hub mirror: a page on another origin loads hf:ANY-ORG/NAME from its models/ folder and trains', async (page) => {
    writeFileSync(join(work, 'index.html'), '<!doctype html><title>a course mirror</title>\n'); // serve wants a site root
    const mirror = spawn(CLI, ['serve', '--root', work, '--port', String(MIRROR_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve, reject) => {
        mirror.stdout.once('data', resolve);
        mirror.once('exit', (code) => reject(new Error(`the mirror exited with ${code}`)));
      });
      await page.goto(link({ model: 'hf:a-course/tiny-bert', hub: `http://127.0.0.1:${MIRROR_PORT}` }));
      await trainerReady(page, 60_000);
      await trainOnce(page);
    } finally {
      mirror.kill();
    }
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:', `${HUB}/`, `http://127.0.0.1:${MIRROR_PORT}/`, `${NOBODY}/`],
});
