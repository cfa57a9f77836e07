// End-to-end tests of the training page in headless Chromium (Debian's, driven by playwright-core, WebGPU through
// --enable-unsafe-webgpu, i.e. SwiftShader on a CPU): the tiny model trains at least 20 steps on WebGPU and 20 on
// the CPU backend, the loss falls, the progress bar and charts move, predict answers, the CPU run's losses and
// accuracy equal the native CLI's for the same seed, bad data gets line-numbered messages, shown as text, the
// settings live in the link and a bad one is named beside its control, and axe-core finds nothing at desktop and
// phone widths. Screenshots go to tests/artifacts/.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground (built with training) node tests/e2e/train.mjs
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { KEYWORDS_CSV, axeViolations, pageWidth, runPageTests } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8182);
const BASE = `http://127.0.0.1:${PORT}/`;
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

// A random tiny encoder learns nothing of real text in a few dozen steps, so the training tests upload a
// keyword task it can learn: 80 rows, two classes, each text four words from its class's list. 20% held out:
// 64 training rows at batch 8 = 8 steps an epoch, 24 in 3 epochs. The two word lists share no word, so three
// epochs at lr 0.01 separate them: every one of the 16 validation texts is classified right (the CLI agrees).
const KEYWORDS_ACCURACY = 1;
const KEYWORDS_FILE = join(ARTIFACTS, 'keywords.csv');
writeFileSync(KEYWORDS_FILE, KEYWORDS_CSV);
// The tiny model's files, as a folder (the CLI writes it).
const TINY_DIR = join(ARTIFACTS, 'tiny-model');
execFileSync(CLI, ['tiny-model', '--out', TINY_DIR]);
const PLAN = { model: 'tiny', data: 'complaints', method: 'lora', r: 8, alpha: 16, lr: 0.01, epochs: 3, batch: 8, maxlen: 16, seed: 0 };
const hashFor = (p) => '#' + Object.entries(p).map(([k, v]) => `${k}=${v}`).join('&');

// `hooks`: the trainer built with failures on demand (`?hooks=1`: a lost GPU), which the shipped one lacks.
async function openTrained(page, device, hooks = false) {
  await page.goto(`${BASE}train.html${hooks ? '?hooks=1' : ''}${hashFor({ ...PLAN, device })}`);
  return loaded(page);
}

async function loaded(page) {
  await page.waitForFunction(() => document.querySelector('#data-count') && document.querySelector('#model-note').textContent.includes('layers'));
  await page.waitForFunction(() => document.querySelector('#device-note').dataset.state !== 'idle');
  return page.evaluate(() => document.querySelector('#device-note').textContent);
}

// A plan figure beside the controls, once it describes the settings now in the store: the page drops its figures
// (and the checked plan) the moment the settings change and draws them again for the newly checked plan, so a
// value present while the check is settled is the current one (reading it any earlier raced the check).
async function liveFigure(page, key) {
  const handle = await page.waitForFunction((k) => {
    const td = document.querySelector(`[data-live=${k}]`);
    return window.lpTrain.store.get().plan && td.dataset.value;
  }, key);
  return Number(await handle.jsonValue());
}

async function trainAndCheck(page, device) {
  const note = await openTrained(page, device);
  assert.match(note, device === 'webgpu' ? /^WebGPU on / : /^CPU/, note);
  await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
  await page.waitForSelector('#data-count[data-examples="80"]');
  // The live figures come from the calculator for the loaded model.
  const trainable = await liveFigure(page, 'trainable');
  assert.ok(Number(trainable) > 0, `live trainable ${trainable}`);
  if (device === 'webgpu') {
    // On WebGPU the page times two steps by itself once the model and data are in (web/train/step-time.js), so the
    // kernels are compiled before Start; the run after it is the same run (its accuracy is checked below).
    await page.waitForFunction(() => document.querySelector('#step-time').dataset.firstMs, null, { timeout: 300_000 });
    assert.match(await page.locator('#step-time').textContent(), /s a step .*the run\u2019s GPU kernels are compiled already\)$/);
  }
  await page.click('#start');
  if (device === 'webgpu') {
    // Pause holds the run between steps; resume carries on from there.
    await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 3, null, { timeout: 300_000 });
    await page.click('#pause');
    await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('paused'), null, { timeout: 60_000 });
    const held = await page.evaluate(() => Number(document.querySelector('#train-text').dataset.step));
    await page.waitForTimeout(1500);
    assert.equal(await page.evaluate(() => Number(document.querySelector('#train-text').dataset.step)), held, 'no step while paused');
    assert.equal(await page.locator('#pause').textContent(), 'Resume');
    await page.click('#pause');
  }
  await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 10, null, { timeout: 300_000 });
  await page.screenshot({ path: join(ARTIFACTS, `train-${device}-running.png`), fullPage: true });
  await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('done'), null, { timeout: 600_000 });
  const run = await page.evaluate(() => ({
    losses: window.lpTrain.runs.at(-1).losses,
    steps: Number(document.querySelector('#train-text').dataset.step),
    bar: [document.querySelector('#train-bar').value, document.querySelector('#train-bar').max],
    accuracy: Number(document.querySelector('#result-accuracy')?.dataset.value),
    lossPoints: window.lpTrain.lossChart.plot.data[1].length,
    accPoints: window.lpTrain.accChart.plot.data[1].length,
    history: document.querySelectorAll('#history tbody tr').length,
    trainable: window.lpTrain.runs.at(-1).trainable,
  }));
  assert.equal(run.steps, 24, 'three epochs of 8 steps');
  assert.deepEqual(run.bar, [run.steps, run.steps]);
  assert.equal(run.lossPoints, run.steps, 'the loss chart has a point per step');
  assert.equal(run.accPoints, 3, 'the accuracy chart has a point per epoch');
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const first = mean(run.losses.slice(0, 5));
  const last = mean(run.losses.slice(-5));
  assert.ok(last < first, `${device}: loss did not fall: ${run.losses.map((l) => l.toFixed(3)).join(' ')}`);
  assert.equal(run.accuracy, KEYWORDS_ACCURACY, `${device}: validation accuracy on the keyword task`);
  assert.equal(run.trainable, Number(trainable), 'the live model has the trainable count the calculator showed');
  await page.fill('#predict-text', 'student loan interest rate');
  await page.click('#predict');
  await page.waitForSelector('#predicted-label');
  const probs = await page.locator('.probs li').count();
  assert.equal(probs, 2, 'a probability for each class');
  assert.match(await page.locator('#predicted-label').textContent(), /school/);
  await page.screenshot({ path: join(ARTIFACTS, `train-${device}-done.png`), fullPage: true });
  return run;
}

// A fixture folder (tests/reference/arch_fixtures.py: transformers' small random model of `name`, a 3-label head
// that the 2-label keyword task replaces with a fresh one, as the CLI does) picked from disk and trained with LoRA on
// `targets` (`pick` sets them in the page): the trainable count the calculator showed, and the native CLI's losses.
async function folderRun(page, name, targets, pick = async () => {}) {
  const dir = join(ROOT, 'crate', 'tests', 'fixtures', 'arch', name);
  await page.goto(`${BASE}train.html${hashFor({ ...PLAN, device: 'cpu' })}`);
  await loaded(page);
  await page.selectOption('#model-choice', 'folder');
  await page.setInputFiles('#model-folder', ['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => join(dir, f)));
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('Read from your disk') ||
    document.querySelector('#err-model').textContent);
  assert.equal(await page.locator('#err-model').textContent(), '', `${name}: the folder is refused`);
  // The target boxes are the folder's model's (the calculator's list for its config.json) once this is set.
  await page.waitForSelector('#targets[data-model="local folder"]');
  await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
  await page.waitForSelector('#data-count[data-examples="80"]');
  await pick();
  await page.waitForFunction((t) => window.lpTrain.store.get().settings.targets === t && window.lpTrain.store.get().plan, targets.join(','));
  const shown = await liveFigure(page, 'trainable');
  await page.click('#start');
  await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('done'), null, { timeout: 600_000 });
  const run = await page.evaluate(() => window.lpTrain.runs.at(-1));
  assert.equal(run.losses.length, 24);
  assert.equal(run.trainable, shown, `the live ${name} has the trainable count the calculator showed`);
  const out = execFileSync(CLI, ['train', '--model', dir, '--data', KEYWORDS_FILE, '--method', 'lora', '--r', '8',
    '--alpha', '16', '--targets', targets.join(','), '--lr', '0.01', '--epochs', '3', '--batch-size', '8', '--max-len', '16',
    '--seed', '0', '--quiet', '--out', join(ARTIFACTS, `cli-${name}-run`)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const epochs = out.trim().split('\n').map((l) => JSON.parse(l));
  epochs.forEach((e, i) => {
    const mean = run.losses.slice(8 * i, 8 * i + 8).reduce((a, b) => a + b, 0) / 8;
    assert.ok(Math.abs(e.train_loss - mean) < 1e-3, `${name} epoch ${i + 1}: CLI ${e.train_loss}, page ${mean}`);
  });
  // And it learns the keyword task: the last epoch's loss is under the first's.
  assert.ok(epochs.at(-1).train_loss < epochs[0].train_loss, `${name}: ${epochs.map((e) => e.train_loss)}`);
}

const tests = [
  ['trains 24 steps on WebGPU: loss falls, bar and charts move, predict answers', async (page) => {
    await trainAndCheck(page, 'webgpu');
  }],
  ["the failures on demand are in the page tests' trainer and absent from the shipped one", async () => {
    const exports = async (dir) => WebAssembly.Module.exports(await WebAssembly.compile(readFileSync(join(ROOT, 'web', dir, 'lora_playground_bg.wasm'))))
      .map((e) => e.name);
    const hooks = ['trainer_panic_at_step', 'trainer_simulate_device_loss'];
    const shipped = await exports('pkg-train');
    const tests = await exports('pkg-train-hooks');
    assert.ok(shipped.includes('trainer_advance'), 'the shipped trainer exports its calls under these names');
    assert.deepEqual(hooks.filter((h) => tests.includes(h)), hooks, 'the page tests\' build has every hook');
    assert.deepEqual(hooks.filter((h) => shipped.includes(h)), [], 'the shipped build has none');
  }],
  ['a GPU lost mid-run: the run carries on on the CPU from the last completed step', async (page) => {
    await openTrained(page, 'webgpu', true);
    await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
    await page.waitForSelector('#data-count[data-examples="80"]');
    await page.click('#start');
    await page.waitForFunction(() => Number(document.querySelector('#train-text').dataset.step) >= 10, null, { timeout: 300_000 });
    const lostAfter = await page.evaluate(() => { window.lpTrain.simulateDeviceLoss(); return Number(document.querySelector('#train-text').dataset.step); });
    await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('done'), null, { timeout: 600_000 });
    const note = await page.locator('#device-note').textContent();
    const m = note.match(/carried on from step (\d+) on the CPU/);
    assert.ok(m, note);
    // Snapshots are taken after every LoRA step: nothing learned is lost, at most the step in flight.
    assert.ok(Number(m[1]) >= lostAfter, `resumed at ${m[1]}, lost after ${lostAfter}`);
    const run = await page.evaluate(() => window.lpTrain.runs.at(-1));
    assert.deepEqual(run.steps, Array.from({ length: 24 }, (_, i) => i + 1), 'every step once, none repeated or skipped');
    assert.equal(run.device, 'webgpu, then cpu');
    const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    assert.ok(mean(run.losses.slice(-5)) < mean(run.losses.slice(0, 5)), run.losses.join(' '));
    await page.screenshot({ path: join(ARTIFACTS, 'train-device-lost.png'), fullPage: true });
  }],
  ['trains 24 steps on the CPU backend with the losses of the native CLI for the same seed', async (page) => {
    const run = await trainAndCheck(page, 'cpu');
    const out = execFileSync(CLI, ['train', '--model', 'tiny', '--data', KEYWORDS_FILE, '--method', 'lora', '--r', '8',
      '--alpha', '16', '--targets', 'query,value', '--lr', '0.01', '--epochs', '3', '--batch-size', '8', '--max-len', '16',
      '--seed', '0', '--quiet', '--out', join(ARTIFACTS, 'cli-tiny-run')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const epochs = out.trim().split('\n').map((l) => JSON.parse(l));
    // Each epoch's train_loss is the mean of its 8 step losses (all batches full): the page's must match.
    epochs.forEach((e, i) => {
      const mean = run.losses.slice(8 * i, 8 * i + 8).reduce((a, b) => a + b, 0) / 8;
      assert.ok(Math.abs(e.train_loss - mean) < 1e-3, `epoch ${i + 1}: CLI ${e.train_loss}, page ${mean}`);
    });
    assert.equal(run.accuracy, epochs.at(-1).val_accuracy, 'the last epoch\'s accuracy is the CLI\'s');
    // With results, per-class tables and a history row on the page, axe still finds nothing, at both widths.
    for (const [width, height] of [[1280, 800], [390, 844]]) {
      await page.setViewportSize({ width, height });
      assert.deepEqual(await axeViolations(page), [], `${width}px after a run`);
      assert.ok(await pageWidth(page) <= width, `${width}px after a run: the page is ${await pageWidth(page)}px wide`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    // A second run, LoRA on layer 1 only with bias="lora_only" and rsLoRA at r=4: the live model again has
    // exactly the trainable count the calculator shows for it.
    await page.fill('#r', '4');
    await page.fill('#layers', '1');
    await page.selectOption('#bias', 'lora_only');
    await page.check('#rslora');
    await page.waitForFunction(() => document.querySelector('#scaling').textContent.startsWith('8 '));
    const shown = await liveFigure(page, 'trainable');
    assert.ok(shown < run.trainable, `${shown} should be below ${run.trainable}`);
    await page.click('#start');
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 2, null, { timeout: 300_000 });
    assert.equal(await page.evaluate(() => window.lpTrain.runs[1].trainable), shown);
    // Ticking both runs overlays their loss curves.
    await page.locator('#history tbody input[type=checkbox]').nth(0).check();
    await page.locator('#history tbody input[type=checkbox]').nth(1).check();
    await page.waitForSelector('#compare-chart .uplot');
    const legend = await page.locator('#compare-chart .u-legend').textContent();
    assert.ok(legend.includes('#1 lora r=8') && legend.includes('#2 lora r=4'), legend);
    await page.screenshot({ path: join(ARTIFACTS, 'train-history-overlay.png'), fullPage: true });
  }],
  ['adapters: two runs and a folder PEFT saved, kept on one base, switched, downloaded at the predicted size', async (page) => {
    await openTrained(page, 'cpu');
    await page.fill('#epochs', '1');
    await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
    await page.waitForSelector('#data-count[data-examples="80"]');
    const predicted = await liveFigure(page, 'file');
    // Before any run, the settings as a PEFT notebook and script, with the data.
    await page.waitForFunction(() => !document.querySelector('#download-notebook').disabled);
    await page.click('#download-notebook');
    await page.waitForFunction(() => [...document.querySelectorAll('#downloads a')].map((a) => a.download).join() === 'run.ipynb,run.py,keywords.csv');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('done'), null, { timeout: 300_000 });
    // The download is PEFT's adapter folder, its weights file the size the calculator showed, to the byte.
    await page.click('#download-run');
    // The notebook's links are still there until the run's replace them: wait for the run's.
    await page.waitForFunction(() => [...document.querySelectorAll('#downloads a')].some((a) => a.download === 'adapter_config.json'));
    const links = await page.$$eval('#downloads a', (as) => as.map((a) => ({ name: a.download, bytes: Number(a.dataset.bytes), href: a.href })));
    assert.deepEqual(links.map((l) => l.name).sort(),
      ['adapter_config.json', 'adapter_model.safetensors', 'keywords.csv', 'run.ipynb', 'run.py', 'training.json']);
    // The same run as a PEFT notebook and script, with the data it trained on (issue 29; every value is checked
    // against the plan natively, crate/tests/train/export_run.rs): here, that the page hands over this run's.
    const fetched = async (name) => page.evaluate(async (href) => (await fetch(href)).text(), links.find((l) => l.name === name).href);
    const notebook = JSON.parse(await fetched('run.ipynb'));
    assert.equal(notebook.nbformat, 4);
    const script = await fetched('run.py');
    assert.ok(script.includes('    r=8,\n') && script.includes('DATA_FILE = "keywords.csv"') && script.includes('num_train_epochs=1,'), script.slice(0, 3000));
    assert.equal(await fetched('keywords.csv'), KEYWORDS_CSV);
    assert.equal(links.find((l) => l.name === 'adapter_model.safetensors').bytes, predicted, 'adapter size = calculator');
    const config = await page.evaluate(async (href) => (await fetch(href)).json(), links.find((l) => l.name === 'adapter_config.json').href);
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.r, 8);
    assert.equal(config.task_type, 'SEQ_CLS');
    // Keep it, train a second adapter (r=4) and keep that too.
    await page.click('#keep-run');
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 1);
    // The run proved the base untouched: the same SHA-256 of every frozen tensor before and after.
    assert.equal(await page.locator('#adapters tbody tr .frozen').getAttribute('data-unchanged'), 'true');
    assert.match(await page.locator('#adapters tbody tr .frozen').textContent(), /base unchanged \(SHA-256 [0-9a-f]{12}/);
    await page.fill('#r', '4');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelectorAll('#history tbody tr').length === 2, null, { timeout: 300_000 });
    await page.click('#keep-run');
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 2);
    // A folder Python PEFT saved for this tiny base (crate/tests/fixtures/peft_tiny), picked from disk.
    const fixture = join(ROOT, 'crate', 'tests', 'fixtures', 'peft_tiny');
    await page.setInputFiles('#adapter-files', ['adapter_config.json', 'adapter_model.safetensors'].map((f) => join(fixture, f)));
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 3);
    assert.equal(await page.locator('#adapters tbody tr').nth(2).locator('.frozen').count(), 0, 'a PEFT folder carries no proof');
    // Its prediction is PEFT's: softmax of the logits PEFT computed.
    const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8'));
    await page.fill('#adapter-text', expected.texts[0]);
    await page.click('#adapter-predict');
    await page.waitForSelector('#adapter-used[data-index="2"]');
    const shown = await page.$$eval('#adapter-prediction .probs li', (lis) => lis.map((li) => li.textContent));
    const z = expected.logits[0];
    const e = z.map((v) => Math.exp(v - Math.max(...z)));
    const want = e.map((v) => v / e.reduce((a, b) => a + b, 0));
    want.forEach((p, i) => assert.ok(shown.includes(`LABEL_${i}: ${(100 * p).toFixed(1)}%`), `${shown} vs LABEL_${i} ${p}`));
    // Switching re-classifies the same text with the other adapter at once.
    await page.locator('#adapters tbody input[type=radio]').nth(0).check();
    await page.waitForSelector('#adapter-used[data-index="0"]');
    assert.match(await page.locator('#adapter-used').textContent(), /^with #1 lora r=8/);
    assert.equal(await page.locator('#adapter-prediction .probs li').count(), 2);
    // Merge and verify the chosen (first) adapter on the validation texts: the same logits, and both timed.
    await page.click('#merge-verify');
    await page.waitForSelector('#merge-diff');
    const merge = await page.evaluate(() => ['merge-diff', 'merge-same', 'merge-adapter-ms', 'merge-merged-ms']
      .map((id) => Number(document.getElementById(id).dataset.value)));
    assert.ok(merge[0] < 1e-4, `merged differs by ${merge[0]}`);
    assert.equal(merge[1], 16, 'every one of the 16 validation texts gets the same label');
    assert.ok(merge[2] > 0 && merge[3] > 0, `${merge}`);
    // Memory: the base once plus each adapter's own tensors, against three whole copies.
    const held = await page.$$eval('#adapters td[data-params]', (tds) => tds.map((td) => Number(td.dataset.params)));
    const runs = await page.evaluate(() => window.lpTrain.runs.map((r) => r.trainable));
    assert.deepEqual(held.slice(0, 2), runs, 'each kept adapter holds what trained');
    const shared = Number(await page.locator('#memory-shared').getAttribute('data-value'));
    const copies = Number(await page.locator('#memory-copies').getAttribute('data-value'));
    assert.ok(shared < copies, `${shared} < ${copies}`);
    // A damaged folder is refused with a message, and the list stays as it was.
    await page.setInputFiles('#adapter-files', [
      { name: 'adapter_config.json', mimeType: 'application/json', buffer: readFileSync(join(fixture, 'adapter_config.json')) },
      { name: 'adapter_model.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(join(fixture, 'adapter_model.safetensors')).subarray(0, 500) },
    ]);
    await page.waitForFunction(() => document.querySelector('#err-adapters').textContent.length > 0);
    assert.match(await page.locator('#err-adapters').textContent(), /adapter_model\.safetensors/);
    assert.equal(await page.locator('#adapters tbody tr').count(), 3);
    await page.screenshot({ path: join(ARTIFACTS, 'train-adapters.png'), fullPage: true });
    // Removing one leaves the others.
    await page.locator('#adapters tbody button.remove').nth(1).click();
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 2);
  }],
  ['the offline copy (sw.js) lists every file of the app', async () => {
    // The first visit's own requests come before the service worker runs, so a file missing from its list is
    // missing offline: the page would not start.
    const source = readFileSync(join(ROOT, 'sw.js'), 'utf8');
    const listed = new Set(eval(source.slice(source.indexOf('const APP = [') + 'const APP = '.length, source.indexOf('];', source.indexOf('const APP = [')) + 1)));
    const files = (dir) => readdirSync(join(ROOT, dir), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? files(`${dir}/${e.name}`) : [`${dir}/${e.name}`]));
    const app = ['web', 'web/train', 'web/train/panels', 'web/lm'].flatMap((d) => readdirSync(join(ROOT, d)).filter((f) => /\.(js|css)$/.test(f)).map((f) => `${d}/${f}`));
    assert.deepEqual(app.filter((f) => !listed.has(f)), [], 'files the offline copy lacks');
    assert.ok(files('web/train').length > 0);
  }],
  ['a served model downloads its float16 copy with a progress bar, then loads from the cache, also with the network off', async (page) => {
    // The tiny model as a folder on the server, as a course would put its own model, with its float16 copy and
    // that copy's gzip, made as the set-up step makes them.
    const dir = join(ROOT, 'models', 'tiny-e2e');
    mkdirSync(dir, { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) copyFileSync(join(TINY_DIR, f), join(dir, f));
    execFileSync(CLI, ['float16', dir]);
    execFileSync('node', [join(ROOT, 'tools', 'compress.mjs'), '--gzip-only', join(dir, 'model.f16.safetensors')]);
    const report = JSON.parse(readFileSync(join(dir, 'model.f16.json'), 'utf8'));
    await page.goto(`${BASE}train.html#model=tiny-e2e&device=cpu`);
    await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers') ||
      document.querySelector('#err-model').textContent);
    assert.equal(await page.locator('#err-model').textContent(), '');
    const bar = await page.evaluate(() => [document.querySelector('#download-bar').value, document.querySelector('#download-bar').max,
      document.querySelector('#download-text').textContent, document.querySelector('#model-note').textContent]);
    assert.ok(bar[0] === bar[1], `bar ${bar}`);
    assert.match(bar[2], /\(100%\)/);
    assert.match(bar[3], /Downloaded/);
    // The float16 copy by default: its size (not the float32 file's) in the bar, what rounding did in the note.
    const config = readFileSync(join(dir, 'config.json')).length + readFileSync(join(dir, 'tokenizer.json')).length;
    assert.equal(bar[1], config + report.bytes, 'the bar counts the float16 file, decoded');
    assert.match(bar[3], new RegExp(`float16 copy, .* widened to float32 here; rounding changed no weight by more than ${report.max_abs_change.toExponential(1)}`));
    assert.equal(await page.locator('#weights').getAttribute('data-loaded'), 'float16');
    // The served copies decompress to the files themselves (fetch decodes what the server encoded).
    for (const [path, coding] of [['models/tiny-e2e/model.f16.safetensors', 'gzip'], ['web/pkg-train/lora_playground_bg.wasm', 'gzip'],
      ['web/pkg-train/lora_playground_bg.wasm', 'br']]) {
      const r = await fetch(`${BASE}${path}`, { headers: { 'accept-encoding': coding } });
      assert.equal(r.headers.get('content-encoding'), coding, path);
      assert.ok(Buffer.from(await r.arrayBuffer()).equals(readFileSync(join(ROOT, path))), `${path} as ${coding}`);
    }
    // The service worker has kept the app once it is active.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.context().setOffline(true);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'));
    assert.match(await page.locator('#model-note').textContent(), /from the browser cache.*float16 copy/);
    await page.waitForSelector('#data-count');
    await page.context().setOffline(false);
    // Float32, the reference, on request: the other file, downloaded.
    await page.selectOption('#weights', 'float32');
    await page.waitForFunction(() => document.querySelector('#weights').dataset.loaded === 'float32');
    assert.match(await page.locator('#model-note').textContent(), /Downloaded.*Weights: float32\./);
    // The same folder picked from disk.
    await page.selectOption('#model-choice', 'folder');
    await page.setInputFiles('#model-folder', ['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => join(TINY_DIR, f)));
    await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('Read from your disk'));
  }],
  ['a RoBERTa folder picked from disk: its own head, the calculator\'s count, the native CLI\'s losses for the same seed', async (page) => {
    // transformers' small random RobertaForSequenceClassification (tests/reference/arch_fixtures.py): a 3-label
    // head, replaced by a fresh 2-label one for the keyword task, as the CLI does.
    await folderRun(page, 'roberta', ['query', 'value']);
  }],
  ['a DistilBERT folder: the target boxes become its own layers, and it trains with the CLI\'s losses', async (page) => {
    await folderRun(page, 'distilbert', ['q_lin', 'v_lin'], async () => {
      // The boxes are the calculator's module list for DistilBERT; the link's query,value keep boxes of their own,
      // and the plan says they match nothing here, beside the targets.
      const boxes = await page.$$eval('input[name=target]', (b) => b.map((x) => x.value));
      assert.deepEqual(boxes, ['q_lin', 'k_lin', 'v_lin', 'out_lin', 'lin1', 'lin2', 'query', 'value']);
      await page.waitForFunction(() => document.querySelector('#err-targets').textContent.length > 0);
      assert.match(await page.locator('#err-targets').textContent(), /query/);
      for (const name of ['query', 'value']) await page.uncheck(`input[name=target][value="${name}"]`);
      for (const name of ['q_lin', 'v_lin']) await page.check(`input[name=target][value="${name}"]`);
      await page.waitForFunction(() => document.querySelector('#err-targets').textContent === '');
    });
  }],
  ['a GPT-2 folder: its Conv1D layers as target boxes, LoRA on the fused c_attn, the CLI\'s losses', async (page) => {
    await folderRun(page, 'gpt2', ['c_attn'], async () => {
      const boxes = await page.$$eval('input[name=target]', (b) => b.map((x) => x.value));
      // `c_proj` alone would take both the attention's and the MLP's, so each box keeps its block's name.
      assert.deepEqual(boxes, ['c_attn', 'attn.c_proj', 'c_fc', 'mlp.c_proj', 'query', 'value']);
      for (const name of ['query', 'value']) await page.uncheck(`input[name=target][value="${name}"]`);
      await page.check('input[name=target][value="c_attn"]');
      await page.waitForFunction(() => document.querySelector('#err-targets').textContent === '');
    });
  }],
  ['a ModernBERT folder: Wqkv, Wi and the prediction head\'s dense layer as target boxes, the CLI\'s losses', async (page) => {
    await folderRun(page, 'modernbert-mean', ['Wqkv', 'Wi'], async () => {
      const boxes = await page.$$eval('input[name=target]', (b) => b.map((x) => x.value));
      // The prediction head's dense layer is outside modules_to_save (only `classifier` is): a target like any other,
      // and the only `dense`, so its box says just that.
      assert.deepEqual(boxes, ['Wqkv', 'attn.Wo', 'Wi', 'mlp.Wo', 'dense', 'query', 'value']);
      for (const name of ['query', 'value']) await page.uncheck(`input[name=target][value="${name}"]`);
      for (const name of ['Wqkv', 'Wi']) await page.check(`input[name=target][value="${name}"]`);
      await page.waitForFunction(() => document.querySelector('#err-targets').textContent === '');
    });
  }],
  ['a calculator link\'s block-relative target (attn.Wqkv) becomes the model\'s own box (Wqkv), in the link too', async (page) => {
    const dir = join(ROOT, 'crate', 'tests', 'fixtures', 'arch', 'modernbert-cls');
    await page.goto(`${BASE}train.html${hashFor({ ...PLAN, device: 'cpu', targets: 'attn.Wqkv,mlp.Wi' })}`);
    await loaded(page);
    await page.selectOption('#model-choice', 'folder');
    await page.setInputFiles('#model-folder', ['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => join(dir, f)));
    await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('Read from your disk'));
    await page.waitForSelector('#targets[data-model="local folder"]');
    await page.waitForFunction(() => window.lpTrain.store.get().settings.targets === 'Wqkv,Wi');
    const ticked = await page.$$eval('input[name=target]:checked', (b) => b.map((x) => x.value));
    assert.deepEqual(ticked, ['Wqkv', 'Wi']);
    assert.equal(await page.locator('input[name=target][value="attn.Wqkv"]').count(), 0);
    assert.match(decodeURIComponent(await page.evaluate(() => location.hash)), /targets=Wqkv,Wi/);
    await page.waitForFunction(() => document.querySelector('[data-live=trainable]').dataset.value && !document.querySelector('#err-targets').textContent);
  }],
  ['QLoRA on the tiny model: the NF4 base from the link, the calculator\'s 4-bit memory, the native CLI\'s losses; full fine-tuning refused by name', async (page) => {
    await page.goto(`${BASE}train.html${hashFor({ ...PLAN, device: 'cpu', base: 'nf4' })}`);
    await loaded(page);
    assert.equal(await page.locator('#base').inputValue(), 'nf4');
    await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
    await page.waitForSelector('#data-count[data-examples="80"]');
    // The calculator's memory for this plan with the frozen linear layers in NF4 (float32 the rest), 2 labels.
    const count = (precision) => JSON.parse(execFileSync(CLI, ['count', '--model', join(TINY_DIR, 'config.json'), '--r', '8',
      '--alpha', '16', '--targets', 'query,value', '--num-labels', '2', '--batch-size', '8', '--seq-len', '16',
      '--precision', precision, '--json'], { encoding: 'utf8' })).methods.find((m) => m.method === 'lora').memory;
    const [nf4, fp32] = [count('nf4-fp32'), count('fp32')];
    assert.ok(nf4.frozen_weights < fp32.frozen_weights, `NF4 ${nf4.frozen_weights} >= float32 ${fp32.frozen_weights}`);
    await page.waitForFunction((v) => document.querySelector('[data-live=memory]').dataset.value === String(v), nf4.total, { timeout: 60_000 })
      .catch(async () => assert.fail(`memory shown ${await page.locator('[data-live=memory]').getAttribute('data-value')}, the calculator's NF4 ` +
        `${nf4.total}; messages: ${(await page.locator('.err').allTextContents()).filter(Boolean).join(' | ')}`));
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('done'), null, { timeout: 600_000 });
    const run = await page.evaluate(() => window.lpTrain.runs.at(-1));
    assert.equal(run.losses.length, 24);
    const out = execFileSync(CLI, ['train', '--model', 'tiny', '--base', 'nf4', '--data', KEYWORDS_FILE, '--method', 'lora', '--r', '8',
      '--alpha', '16', '--targets', 'query,value', '--lr', '0.01', '--epochs', '3', '--batch-size', '8', '--max-len', '16',
      '--seed', '0', '--quiet', '--out', join(ARTIFACTS, 'cli-tiny-nf4-run')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const epochs = out.trim().split('\n').map((l) => JSON.parse(l));
    epochs.forEach((e, i) => {
      const mean = run.losses.slice(8 * i, 8 * i + 8).reduce((a, b) => a + b, 0) / 8;
      assert.ok(Math.abs(e.train_loss - mean) < 1e-3, `NF4 epoch ${i + 1}: CLI ${e.train_loss}, page ${mean}`);
    });
    // The calculator opens on the same 4-bit setup: its nf4-fp32 precision is this base.
    assert.match(await page.getAttribute('#open-calculator', 'href'), /[#&]precision=nf4-fp32(&|$)/);
    // Full fine-tuning has no weights to train on a 4-bit base: said beside Method.
    await page.selectOption('#method', 'full');
    await page.waitForFunction(() => /4-bit base/.test(document.querySelector('#err-method').textContent));
  }],
  ['before a run: the training memory for this batch and length, and a step timed on a trial model that leaves a trained run alone', async (page) => {
    await openTrained(page, 'cpu');
    // The calculator's figure for the plan (tiny model, 5 labels, LoRA r=8 alpha 16 on query,value, 8 x 16 tokens).
    const cli = JSON.parse(execFileSync(CLI, ['count', '--model', join(TINY_DIR, 'config.json'), '--r', '8', '--alpha', '16',
      '--targets', 'query,value', '--num-labels', '5', '--batch-size', '8', '--seq-len', '16', '--json'], { encoding: 'utf8' }));
    const lora = cli.methods.find((m) => m.method === 'lora');
    assert.equal(await liveFigure(page, 'memory'), lora.memory.total);
    assert.match(await page.locator('[data-live=memory]').textContent(), /activations .* for 8 x 16 tokens/);
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#train-text').textContent.includes('done'), null, { timeout: 600_000 });
    await page.click('#time-step');
    await page.waitForFunction(() => document.querySelector('#step-time').dataset.ms, null, { timeout: 120_000 });
    const shown = await page.locator('#step-time').textContent();
    const steps = await page.evaluate(() => window.lpTrain.runs.at(-1).losses.length);
    assert.match(shown, new RegExp(`^[\\d.]+ s a step \\(the first, setting up: [\\d.]+ s\\), so the run's ${steps} steps about \\d+:\\d\\d without its evaluations; the trainer's memory at its peak so far: [\\d.]+ MiB$`), shown);
    assert.ok(Number(await page.locator('#step-time').getAttribute('data-ms')) > 0);
    // The trained run is still there to keep: the trial built a model of its own and dropped it.
    await page.click('#keep-run');
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 1);
    // Another plan makes the timing stale.
    await page.fill('#r', '4');
    await page.waitForFunction(() => document.querySelector('#step-time').textContent === '');
  }],
  ['axe finds no violations at desktop and phone widths, and the page fits a phone', async (page) => {
    await openTrained(page, 'cpu');
    for (const [width, height] of [[1280, 800], [390, 844]]) {
      await page.setViewportSize({ width, height });
      await page.reload();
      await loaded(page);
      // The tokenizer preview and the class table are drawn once the trainer has answered.
      await page.waitForSelector('#tokens .pieces');
      await page.waitForSelector('#class-table');
      assert.deepEqual(await axeViolations(page), [], `${width}px`);
      assert.ok(await pageWidth(page) <= width, `${width}px: the page is ${await pageWidth(page)}px wide`);
      await page.screenshot({ path: join(ARTIFACTS, `train-${width}px.png`), fullPage: true });
    }
  }],
  ['the model picker\'s Hub presets show the parameter counts the calculator gives for their backbones', async (page) => {
    await openTrained(page, 'cpu');
    const options = await page.$$eval('#model-choice option[value^="hf:"]', (os) => os.map((o) => o.textContent));
    assert.equal(options.length, 5, options.join('; '));
    const counts = await page.evaluate(async (labels) => {
      const engine = await import('./web/pkg/lora_playground.js');
      await engine.default();
      return labels.map((l) => engine.describe({ model: l.split(' ')[0], task: 'base', lora: { target_modules: 'all-linear' } }).model.params);
    }, options);
    options.forEach((label, i) => assert.ok(label.endsWith(`(${(counts[i] / 1e6).toFixed(1)}M parameters)`), `${label}: ${counts[i]}`));
  }],
  ['settings: a link sets every control, a change is written back into it, a bad value is named beside its control', async (page) => {
    // docs/TRAINER.md's example link.
    await page.goto(`${BASE}train.html#model=tiny&device=cpu&data=sentiment&method=lora&r=4&alpha=8&targets=query,value&layers=0,1` +
      '&bias=none&dropout=0.1&rslora=1&lr=0.001&epochs=2&batch=16&maxlen=64&seed=0');
    await page.waitForFunction(() => document.querySelector('#data-count') && document.querySelector('#model-note').textContent.includes('layers'));
    const controls = await page.evaluate(() => ({
      ...Object.fromEntries(['device', 'model-choice', 'builtin', 'method', 'r', 'alpha', 'layers', 'bias', 'lora-dropout', 'lr', 'epochs',
        'batch', 'max-len', 'seed'].map((id) => [id, document.getElementById(id).value])),
      rslora: document.getElementById('rslora').checked,
      targets: [...document.querySelectorAll('input[name=target]:checked')].map((b) => b.value),
    }));
    assert.deepEqual(controls, {
      device: 'cpu', 'model-choice': 'tiny', builtin: 'sentiment', method: 'lora', r: '4', alpha: '8', layers: '0,1', bias: 'none',
      'lora-dropout': '0.1', lr: '0.001', epochs: '2', batch: '16', 'max-len': '64', seed: '0', rslora: true, targets: ['query', 'value'],
    });
    assert.match(await page.locator('#data-summary').textContent(), /negative/);
    // A change goes into the link at once (replaceState: no new history entry).
    const entries = await page.evaluate(() => history.length);
    await page.selectOption('#bias', 'all');
    await page.fill('#r', '6');
    await page.waitForFunction(() => /(^#|&)bias=all(&|$)/.test(location.hash) && /(^#|&)r=6(&|$)/.test(location.hash));
    assert.equal(await page.evaluate(() => history.length), entries);
    // The trainer checks the plan as it is typed; its message shows beside the control of the field it names.
    await page.fill('#r', '0');
    await page.waitForFunction(() => document.querySelector('#err-r').textContent.length > 0);
    assert.equal(await page.locator('#err-r').getAttribute('data-field'), 'r');
    assert.match(await page.locator('#err-r').textContent(), /^r: /);
    assert.equal(await page.locator('#r').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#err-plan').textContent(), '');
    await page.fill('#r', '6');
    await page.waitForFunction(() => document.querySelector('#err-r').textContent === '');
    await page.fill('#lr', '0');
    await page.waitForFunction(() => document.querySelector('#err-lr').textContent.length > 0);
    assert.equal(await page.locator('#err-lr').getAttribute('data-field'), 'lr');
    assert.match(await page.locator('#err-lr').textContent(), /^lr: must be a number above 0/);
    await page.fill('#lr', '0.001');
    await page.waitForFunction(() => document.querySelector('#err-lr').textContent === '');
    // The class table shows the trainer's own stratified split: 40 rows a class, 20% then 25% held out.
    await page.setInputFiles('#data-file', { name: 'keywords.csv', mimeType: 'text/csv', buffer: Buffer.from(KEYWORDS_CSV) });
    await page.waitForSelector('#data-count[data-examples="80"]');
    const split = () => page.$$eval('#class-table tbody tr', (trs) => trs.map((tr) => [...tr.children].slice(1, 4).map((td) => td.textContent).join('/')));
    await page.waitForFunction(() => document.querySelector('#class-table tbody td:nth-child(4)').textContent !== '');
    assert.deepEqual(await split(), ['40/32/8', '40/32/8']);
    await page.fill('#val-fraction', '0.25');
    await page.waitForFunction(() => document.querySelector('#class-table tbody td:nth-child(4)').textContent === '10');
    assert.deepEqual(await split(), ['40/30/10', '40/30/10']);
    assert.match(await page.evaluate(() => location.hash), /(^#|&)val=0\.25(&|$)/);
    // The link alone reproduces the setup, and hide= hides controls and panels for a lesson.
    const link = await page.evaluate(() => location.href);
    const fresh = await page.context().newPage();
    await fresh.goto(`${link}&hide=r,alpha,history,charts`);
    await fresh.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'));
    assert.deepEqual(await fresh.evaluate(() => ['r', 'bias', 'val-fraction', 'lr'].map((id) => document.getElementById(id).value)), ['6', 'all', '0.25', '0.001']);
    for (const sel of ['[data-control=r]', '[data-control=alpha]', '#history-panel', '[data-control=charts]']) assert.equal(await fresh.isVisible(sel), false, sel);
    assert.equal(await fresh.isVisible('[data-control=bias]'), true);
    await fresh.close();
  }],
  ['bad data: messages by line, good rows kept, text never parsed as HTML', async (page) => {
    await openTrained(page, 'cpu');
    const csv = 'text,label\n' +
      '"<img src=x onerror=""window.pwned=1"">card fee",bank\n' +
      ',bank\n' +
      'student loan,\n' +
      'mortgage rate,home\nhome loan,home\nbank card,bank\nescrow,home\n' +
      '"never closed,bank\n';
    await page.setInputFiles('#data-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForSelector('#problem-list');
    const problems = await page.locator('#problem-list li').allTextContents();
    assert.ok(problems.some((p) => p.startsWith('line 3:') && p.includes('empty text')), problems.join(' | '));
    assert.ok(problems.some((p) => p.startsWith('line 4:')), problems.join(' | '));
    assert.ok(problems.some((p) => p.startsWith('line 9:') && p.includes('quote')), problems.join(' | '));
    const kept = await page.locator('#data-count').getAttribute('data-examples');
    assert.equal(Number(kept), 5, 'the good rows stay');
    const shown = await page.evaluate(() => [...document.querySelectorAll('#sample-table td')].map((td) => td.textContent).join(' '));
    assert.ok(shown.includes('<img src=x'), 'the markup shows as text');
    assert.equal(await page.evaluate(() => window.pwned), undefined, 'nothing in the data ran');
    // One row of one class cannot train: refused, named by its file, with the row's own problem.
    await page.setInputFiles('#data-file', { name: 'one.csv', mimeType: 'text/csv', buffer: Buffer.from('text,label\nonly,one\n') });
    await page.waitForFunction(() => document.querySelector('#err-data').textContent.length > 0);
    assert.equal(await page.locator('#err-data').getAttribute('data-field'), 'one.csv');
    const refused = await page.locator('#err-data').textContent();
    assert.match(refused, /^one\.csv: needs at least 2 classes with 2\+ examples each; usable classes: none/, refused);
    assert.match(refused, /line 2: label 'one' is seen only once/, refused);
    assert.equal(Number(await page.locator('#data-count').getAttribute('data-examples')), 5, 'the last good dataset stays');
    // Pasted JSON Lines take the same path.
    await page.click('#paste-box summary');
    await page.fill('#data-paste', Array.from({ length: 6 }, (_, i) => JSON.stringify({ text: `pasted ${i}`, label: i % 2 ? 'b' : 'a' })).join('\n'));
    await page.click('#data-paste-use');
    await page.waitForSelector('#data-count[data-examples="6"]');
    await page.screenshot({ path: join(ARTIFACTS, 'train-bad-data.png'), fullPage: true });
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'], contextOptions: { viewport: { width: 1280, height: 900 } },
  onFailure: (page, i) => page.screenshot({ path: join(ARTIFACTS, `failed-${i}.png`), fullPage: true }),
});
