// The Experiment panel: an experiment set up by link (ranks 1 and 4, and head-only) runs in the page with the
// tiny model and gives, run for run, the figures of the CLI's `sweep` for the same seed (the same runs and
// learning rates, counts exact, losses within 1e-3, the same accuracy); its table is the run history's rows; the
// CSV, Markdown and PNG exports hold what the page shows; stopping stops the rest; a blank learning rate follows
// the method.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/experiment.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { KEYWORDS_CSV, axeViolations, runPageTests, trainerReady } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8199);
const ARTIFACTS = join(ROOT, 'tests', 'artifacts', 'experiment');
mkdirSync(ARTIFACTS, { recursive: true });

// The keyword task (80 rows, two classes, 64 training rows: 8 steps an epoch at batch 8).
const CSV = KEYWORDS_CSV;
const DATA = join(ARTIFACTS, 'keywords.csv');
writeFileSync(DATA, CSV);
const HASH = '#model=tiny&device=cpu&epochs=2&batch=8&maxlen=16&seed=0&xranks=1,4&xhead=1';
const NAMES = ['lora-r1-query+value', 'lora-r4-query+value', 'head'];

const sweep = JSON.parse(execFileSync(CLI, ['sweep', '--model', 'tiny', '--data', DATA, '--ranks', '1,4', '--methods', 'lora,head',
  '--epochs', '2', '--batch-size', '8', '--max-len', '16', '--seed', '0', '--quiet', '--json', '--out', join(ARTIFACTS, 'cli')],
{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));

async function ready(page) {
  await page.goto(`http://127.0.0.1:${PORT}/train.html${HASH}`);
  await trainerReady(page, 60_000);
  await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await page.waitForSelector('#data-count[data-examples="80"]');
  await page.waitForFunction(() => !document.querySelector('#x-run').disabled);
}

async function downloaded(page, button) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return readFileSync(await file.path());
}

const tests = [
  ['a linked experiment runs in the page with the CLI sweep\'s figures, and its table and exports hold them', async (page) => {
    await ready(page);
    const queue = await page.locator('#x-queue').textContent();
    assert.match(queue, /^3 runs: lora-r1-query\+value, lora-r4-query\+value, head/, queue);
    assert.match(queue, /lora 0\.003, head 0\.03 \(each method.s usual/, queue);
    await page.click('#x-run');
    await page.waitForFunction(() => document.querySelector('#x-text').textContent.startsWith('done'), null, { timeout: 300_000 });
    const runs = await page.evaluate(() => window.lpTrain.runs);
    assert.deepEqual(runs.map((r) => r.name), NAMES, 'every run once, in the sweep\'s order');
    for (const [i, want] of sweep.entries()) {
      const got = runs[i];
      assert.equal(got.name, want.run);
      assert.equal(got.trainable, want.trainable, `${want.run}: trainable`);
      assert.equal(got.total, want.total, `${want.run}: all parameters`);
      assert.equal(got.lr, want.lr, `${want.run}: learning rate`);
      assert.equal(got.optimizer_bytes, want.optimizer_bytes, `${want.run}: optimizer state`);
      assert.equal(got.file_bytes, want.saved_bytes, `${want.run}: the saved file's size`);
      want.epochs.forEach((e, k) => {
        const mean = got.losses.slice(8 * k, 8 * k + 8).reduce((a, b) => a + b, 0) / 8;
        assert.ok(Math.abs(e.train_loss - mean) < 1e-3, `${want.run} epoch ${k + 1}: CLI ${e.train_loss}, page ${mean}`);
        assert.ok(Math.abs(e.val_loss - got.val_losses[k]) < 1e-3, `${want.run} epoch ${k + 1}: val loss CLI ${e.val_loss}, page ${got.val_losses[k]}`);
      });
      assert.equal(got.accuracy, want.val_accuracy, `${want.run}: accuracy`);
      assert.ok(got.seconds_per_step > 0 && got.wasm_bytes > 0, `${want.run}: time per step and memory measured`);
    }
    // The table is the history's rows: one row per run, each cell what the record says.
    const table = await page.$$eval('#x-table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
    assert.equal(table.length, 3);
    assert.equal(await page.locator('#history tbody tr').count(), 3, 'each experiment run is a history row');
    const col = await page.$$eval('#x-table thead th', (ths) => ths.map((th) => th.textContent));
    table.forEach((row, i) => {
      assert.equal(row[col.indexOf('run')], NAMES[i]);
      assert.equal(row[col.indexOf('trainable')], runs[i].trainable.toLocaleString('en-US'));
      assert.equal(row[col.indexOf('val accuracy')], `${(100 * runs[i].accuracy).toFixed(1)}%`);
    });
    // Exports: the CSV's and the Markdown's cells are the table's.
    const csv = String(await downloaded(page, '#x-csv')).trim().split('\r\n');
    assert.equal(csv[0], col.join(','));
    csv.slice(1).forEach((line, i) => assert.equal(line, table[i].map((c) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')));
    const md = String(await downloaded(page, '#x-md')).trim().split('\n');
    assert.equal(md.length, 2 + 3);
    md.slice(2).forEach((line, i) => assert.equal(line, `| ${table[i].join(' | ')} |`));
    for (const button of ['#x-loss-png', '#x-pareto-png']) {
      const png = await downloaded(page, button);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${button}: a PNG`);
      writeFileSync(join(ARTIFACTS, `${button.slice(3)}.png`), png);
    }
    // The charts: one loss curve per run; one point per run against its trainable count.
    const series = await page.$$eval('#x-loss-chart .u-legend .u-series', (s) => s.length);
    assert.equal(series, 1 + 3, 'x and three runs');
    assert.deepEqual(await axeViolations(page), []);
    await page.screenshot({ path: join(ARTIFACTS, 'experiment.png'), fullPage: true });
  }],
  ['stopping an experiment stops its run and the runs after it; a blank learning rate follows the method', async (page) => {
    await ready(page);
    assert.equal(await page.inputValue('#lr'), '', 'the link sets no learning rate');
    assert.match(await page.getAttribute('#lr', 'placeholder'), /^0\.003 \(usual for lora\)/);
    await page.selectOption('#method', 'full');
    await page.waitForFunction(() => document.querySelector('#lr').placeholder.startsWith('0.0001 (usual for full)'));
    await page.selectOption('#method', 'lora');
    await page.click('#x-run');
    await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 2);
    await page.click('#x-stop');
    await page.waitForFunction(() => document.querySelector('#x-text').textContent.startsWith('stopped'));
    const runs = await page.evaluate(() => window.lpTrain.runs.map((r) => [r.name, r.finished]));
    assert.deepEqual(runs, [[NAMES[0], false]], 'the first run stopped, the others never started');
    assert.equal(await page.isDisabled('#x-run'), false, 'the experiment can be run again');
    // A typo in the ranks is named, and no run is queued.
    await page.fill('#x-ranks', '1,x');
    await page.waitForFunction(() => document.querySelector('#err-experiment').textContent.includes("'x' is not a positive whole number"));
    assert.equal(await page.isDisabled('#x-run'), true);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), { cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'] });
