// The static site (tools/build-site.sh) hosted as a course would host it: under a sub-path (/course/playground/),
// by a plain static file server that is not this project's (Python's http.server, serving a parent folder, no
// compression, no special headers). There the calculator shows the CLI's figures, the tiny model trains, and a
// reload with the network off still works (the offline copy's scope follows the sub-path).
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground SITE_DIR=path/to/parent/course/playground node tests/e2e/site.mjs
import { execFileSync } from 'node:child_process';
import { renameSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { runPageTests, trainerReady } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
const SITE = process.env.SITE_DIR;
if (!CLI || !SITE) throw new Error('set LORA_PLAYGROUND_CLI and SITE_DIR (a site built into PARENT/course/playground)');
const PARENT = join(SITE, '..', '..');
const PATH = `/${relative(PARENT, SITE)}/`;
const PORT = Number(process.env.E2E_PORT ?? 8188);
const BASE = `http://127.0.0.1:${PORT}${PATH}`;

const tests = [
  ['the calculator from a sub-path shows the CLI\u2019s figures', async (page) => {
    await page.goto(`${BASE}#model=bert-base-uncased&r=16&alpha=32`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
    const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-figure]')]
      .map((e) => [e.dataset.figure, Number(e.dataset.value)])));
    const cli = JSON.parse(execFileSync(CLI, ['count', '--json', '--model', 'bert-base-uncased', '--r', '16', '--alpha', '32'], { encoding: 'utf8' }));
    for (const k of ['trainable', 'all', 'lora_params', 'adapter_bytes']) assert.equal(shown[k], cli[k], k);
  }],
  ['the trainer from a sub-path trains the tiny model, and works again with the network off', async (page) => {
    const url = `${BASE}train.html#device=cpu&model=tiny&data=complaints&epochs=1&batch=32&maxlen=16&lr=0.01`;
    await page.goto(url);
    const ready = () => trainerReady(page, 60_000);
    await ready();
    await page.click('#start');
    await page.waitForFunction(() => window.lpTrain.runs.length === 1, null, { timeout: 120_000 });
    // The offline copy was registered with this sub-path as its scope.
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, BASE);
    await page.context().setOffline(true);
    await page.reload();
    await ready();
    await page.click('#start');
    await page.waitForFunction(() => window.lpTrain.runs.length === 1, null, { timeout: 120_000 });
    await page.context().setOffline(false);
  }],
  ['while the trainer is still being built the page says so, and starts by itself when it lands', async (page) => {
    const pkg = join(SITE, 'web', 'pkg-train');
    renameSync(pkg, `${pkg}.away`);
    try {
      await page.goto(`${BASE}train.html#device=cpu&model=tiny&data=complaints`);
      await page.waitForSelector('#building:not([hidden])');
      assert.match(await page.locator('#building').textContent(), /still being built .* starts by itself/);
      assert.equal(await page.locator('#model-note').textContent(), '', 'nothing starts without the trainer');
    } finally {
      renameSync(`${pkg}.away`, pkg);
    }
    await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 30_000 });
    assert.equal(await page.locator('#building').isHidden(), true);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'],
  server: ['python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', PARENT, String(PORT)]],
});
