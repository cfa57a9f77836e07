// Inside the adapter, in the page: the committed inspect fixtures (r=4 and r=8 adapters trained on the tiny model,
// crate/tests/fixtures/inspect/) loaded as a student loads a folder, and the heatmap, the spectrum and the subspace
// similarity the page draws, and the full fine-tuning run's spectrum, equal numpy's figures for the same files
// (expected.json, from tests/reference/inspect_reference.py) within 1e-4.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/inside.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { axeViolations, runPageTests, trainerReady } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8198);
const FIXTURES = join(ROOT, 'crate', 'tests', 'fixtures', 'inspect');
const want = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8'));
const files = (run) => readdirSync(join(FIXTURES, run))
  .map((name) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(join(FIXTURES, run, name)) }));
const near = (got, expected, what) => assert.ok(Math.abs(got - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `${what}: ${got} against numpy's ${expected}`);

const tests = [
  ['the heatmap, a module\'s singular values and the similarity of two adapters equal numpy\'s', async (page) => {
    await page.goto(`http://127.0.0.1:${PORT}/train.html#model=tiny&device=cpu&data=sentiment`);
    await trainerReady(page, 60_000);
    for (const run of ['r4', 'r8']) {
      const before = await page.locator('#adapters tbody tr').count();
      await page.setInputFiles('#adapter-files', files(run));
      await page.waitForFunction((n) => document.querySelectorAll('#adapters tbody tr').length === n + 1, before);
    }
    await page.locator('#adapters tbody tr').first().locator('input[type=radio]').check();
    await page.selectOption('#inside-compare', { index: 1 });
    await page.click('#inside-look');
    await page.waitForSelector('#inside-heatmap');
    const cells = await page.$$eval('#inside-heatmap button.cell', (bs) => bs.map((b) => [b.dataset.module, Number(b.dataset.value)]));
    assert.equal(cells.length, want.modules.length, 'one cell per adapted module');
    for (const m of want.modules) {
      const cell = cells.find(([name]) => name === m.module);
      assert.ok(cell, `${m.module} has a cell`);
      near(cell[1], m.update_norm / m.weight_norm, m.module);
    }
    // Pick each module in turn: its spectrum and its similarity table.
    for (const [k, m] of want.modules.entries()) {
      await page.click(`#inside-heatmap button.cell[data-module="${m.module}"]`);
      const rank = Number(await page.locator('#inside-spectrum strong').first().getAttribute('data-value'));
      assert.equal(rank, m.rank, `${m.module} rank`);
      assert.ok(rank <= 4, 'at most r');
      const values = await page.$$eval('#inside-spectrum li', (li) => li.map((l) => Number(l.dataset.value)));
      values.forEach((v, i) => near(v, m.singular_values[i], `${m.module} sigma ${i + 1}`));
      const phi = await page.$$eval('#inside-similarity tbody tr', (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => Number(td.dataset.value))));
      assert.deepEqual([phi.length, phi[0].length], [4, 8], 'r_a x r_b');
      phi.forEach((row, i) => row.forEach((p, j) => near(p, want.compare[k].phi[i][j], `${m.module} phi(${i + 1},${j + 1})`)));
    }
    assert.deepEqual(await axeViolations(page), []);
    // Against the full fine-tuning run of the same data: each module's spectrum and top-r energy are numpy's.
    await page.setInputFiles('#adapter-files', files('full'));
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 3);
    await page.locator('#adapters tbody tr').first().locator('input[type=radio]').check();
    await page.selectOption('#inside-compare', await page.$eval('#inside-compare', (s) => [...s.options].find((o) => o.text.includes('full fine-tuning')).value));
    await page.click('#inside-look');
    for (const f of want.full) {
      await page.click(`#inside-heatmap button.cell[data-module="${f.module}"]`);
      near(Number(await page.locator('#inside-full strong').getAttribute('data-value')), f.energy_in_top_r, `${f.module} top-r energy`);
      const values = await page.$$eval('#inside-full li', (li) => li.map((l) => Number(l.dataset.value)));
      values.forEach((v, i) => near(v, f.singular_values[i], `${f.module} full sigma ${i + 1}`));
    }
    assert.deepEqual(await axeViolations(page), []);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), { cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'] });
