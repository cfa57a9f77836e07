// The round trip in the page itself (issue 29): train.html trains a LoRA run (all-MiniLM-L6-v2 on the built-in
// complaints by default, the page's defaults, the CPU path), its download (adapter, run.ipynb, run.py, the data) is
// saved to a folder, the exported script runs there with PyTorch + transformers + PEFT ($LP_PYTHON), and the
// adapter the script saved is loaded back into the same page, which classifies the validation texts with it: its
// labels and probabilities against PEFT's. Prints one JSON object; exits 1 if the counts or the labels disagree.
// Not in the test command (it needs torch, transformers and peft, and minutes of training).
// Where the Hub is unreachable, LP_MODEL_DIR names the model's local folder: the script's `MODEL = ...` line is
// edited to it, as a student without the Hub would edit it.
// Usage: tools/serve.sh in another terminal (or LP_URL), then
//   LP_PYTHON=.../python [LP_MODEL_DIR=models/all-MiniLM-L6-v2] node tools/check/page_notebook_roundtrip.mjs \
//     [link settings, default model=all-MiniLM-L6-v2&data=complaints]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium } from '../../tests/e2e/harness.mjs';

const SITE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const PY = process.env.LP_PYTHON ?? 'python3';
const settings = process.argv[2] ?? 'model=all-MiniLM-L6-v2&data=complaints';
const dir = mkdtempSync(join(tmpdir(), 'lp-page-notebook-'));
const browser = await launchChromium();
const page = await browser.newPage();
await page.goto(`${SITE}train.html#${settings}&device=cpu`);
await page.waitForFunction(() => document.querySelector('#data-count') && document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 600_000 });
await page.waitForFunction(() => !document.querySelector('#start').disabled, null, { timeout: 600_000 });
await page.click('#start');
await page.waitForFunction(() => window.lpTrain.runs.length === 1, null, { timeout: 3_600_000 });
const run = await page.evaluate(() => window.lpTrain.runs[0]);

// The run's download, every file written to the folder as the browser would save it.
await page.click('#download-run');
await page.waitForFunction(() => [...document.querySelectorAll('#downloads a')].some((a) => a.download === 'adapter_config.json'));
const files = await page.$$eval('#downloads a', (as) => as.map((a) => ({ name: a.download, href: a.href })));
for (const { name, href } of files) {
  const base64 = await page.evaluate(async (h) => {
    const bytes = new Uint8Array(await (await fetch(h)).arrayBuffer());
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }, href);
  writeFileSync(join(dir, name), Buffer.from(base64, 'base64'));
}

// The exported script, unchanged but for its model's place when LP_MODEL_DIR says where it is.
if (process.env.LP_MODEL_DIR) {
  const path = join(dir, 'run.py');
  const edited = readFileSync(path, 'utf8').replace(/^MODEL = .*$/m, `MODEL = ${JSON.stringify(resolve(process.env.LP_MODEL_DIR))}`);
  writeFileSync(path, edited);
}
const t0 = Date.now();
const script = spawnSync(PY, ['run.py'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28 });
if (script.status !== 0) {
  console.error(script.stdout.slice(-3000), script.stderr.slice(-3000));
  process.exit(1);
}
const scriptSeconds = (Date.now() - t0) / 1000;
const counts = [...script.stdout.matchAll(/trainable params: ([\d,]+) \|\| all params: ([\d,]+)/g)].map((m) => [m[1], m[2]].join(' / '));
const out = join(dir, 'lora-run');
const record = JSON.parse(readFileSync(join(out, 'training.json'), 'utf8'));
const history = record.epochs;
const scriptEval = history.filter((h) => 'eval_accuracy' in h).at(-1);
const theirs = readFileSync(join(out, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

// The script's adapter, back in the page: the validation texts classified with it.
await page.setInputFiles('#adapter-files', ['adapter_config.json', 'adapter_model.safetensors', 'training.json'].map((f) => join(out, f)));
await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 1);
let sameLabel = 0;
let largestGap = 0;
for (const t of theirs) {
  await page.evaluate(() => document.querySelector('#adapter-prediction').replaceChildren());
  await page.fill('#adapter-text', t.text);
  await page.click('#adapter-predict');
  await page.waitForSelector('#adapter-used');
  const label = await page.textContent('#predicted-label strong');
  const shown = await page.$$eval('#adapter-prediction .probs li', (lis) => lis.map((li) => li.textContent));
  if (label === t.label) sameLabel += 1;
  const e = t.logits.map((v) => Math.exp(v - Math.max(...t.logits)));
  const sum = e.reduce((a, b) => a + b, 0);
  for (const line of shown) {
    const [name, percent] = line.split(': ');
    const i = record.labels.indexOf(name);
    if (i >= 0) largestGap = Math.max(largestGap, Math.abs(parseFloat(percent) - (100 * e[i]) / sum));
  }
}
const summary = {
  settings, folder: dir, model_dir: process.env.LP_MODEL_DIR ?? null,
  page: { val_accuracy: run.accuracy, trainable: run.trainable, seconds: run.seconds },
  script: { val_accuracy: scriptEval.eval_accuracy, val_macro_f1: scriptEval.eval_macro_f1, seconds: scriptSeconds },
  peft_counts: counts[0], page_counts: counts[1],
  adapter_back_in_page: { texts: theirs.length, same_label: sameLabel, largest_probability_gap_percent: largestGap },
  downloaded: files.map((f) => f.name),
};
console.log(JSON.stringify(summary, null, 1));
await browser.close();
process.exit(counts[0] === counts[1] && sameLabel === theirs.length ? 0 : 1);
