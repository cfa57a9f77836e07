// End-to-end tests of the page in headless Chromium (Debian's, driven by playwright-core): the figures the
// page shows must equal what the CLI computes for the same setup, live, with bad input handled in place.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/run.mjs   (tools/test.sh does this)
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { axeViolations, pageWidth, runPageTests } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to the lora-playground binary');
const PORT = Number(process.env.E2E_PORT ?? 8181);
const BASE = `http://127.0.0.1:${PORT}/`;

function cli(args) {
  return JSON.parse(execFileSync(CLI, ['count', '--json', ...args], { encoding: 'utf8' }));
}

// The page's hash keys and the CLI's flags for the same setting.
const FLAG = {
  model: '--model', r: '--r', alpha: '--alpha', targets: '--targets', bias: '--bias', layers: '--layers',
  task: '--task', labels: '--num-labels', precision: '--precision', optimizer: '--optimizer', batch: '--batch-size',
  seq: '--seq-len', adapter: '--adapter-dtype', bottleneck: '--bottleneck', vt: '--virtual-tokens',
};
function flagsFor(params) {
  const args = [];
  for (const [k, v] of Object.entries(params)) {
    if (k === 'rslora') { if (v) args.push('--rslora'); continue; }
    if (k === 'gradient_checkpointing') { if (v) args.push('--gradient-checkpointing'); continue; }
    args.push(FLAG[k], String(v));
  }
  if (!('model' in params)) args.push('--model', 'all-MiniLM-L6-v2');
  return args;
}
const hashFor = (params) => '#' + Object.entries(params).map(([k, v]) => `${k}=${v === true ? 1 : v}`).join('&');

async function figures(page) {
  return page.evaluate(() => {
    const out = {};
    for (const e of document.querySelectorAll('[data-figure]')) out[e.dataset.figure] = Number(e.dataset.value);
    const cells = (id) => [...document.querySelectorAll(`#${id} tbody tr`)].map((tr) =>
      [...tr.children].map((c) => (c.dataset.value !== undefined ? Number(c.dataset.value) : c.textContent)));
    out.memory = cells('memory-table');
    out.methods = cells('methods-table');
    out.modules = cells('module-table');
    out.hash = location.hash;
    return out;
  });
}

function assertMatchesCli(got, want, what) {
  for (const k of ['trainable', 'all', 'lora_params', 'adapter_bytes', 'full_model_bytes', 'merged_model_bytes']) {
    assert.equal(got[k], want[k], `${what}: ${k}`);
  }
  assert.ok(Math.abs(got.trainable_percent - want.trainable_percent) < 1e-9, `${what}: trainable_percent`);
  // Memory table: one row per method, columns trainable, frozen, weights, gradients, optimizer, activations, total.
  assert.equal(got.memory.length, want.methods.length, `${what}: memory rows`);
  want.methods.forEach((m, i) => {
    const row = got.memory[i];
    const expected = [m.trainable, m.memory.frozen_weights, m.memory.trainable_weights, m.memory.gradients,
      m.memory.optimizer_state, m.memory.activations, m.memory.total];
    assert.deepEqual(row.slice(1), expected, `${what}: memory row ${m.method}`);
  });
  assert.deepEqual(got.methods.map((r) => r[1]), want.peft_methods.map((m) => m.trainable), `${what}: PEFT methods`);
  assert.deepEqual(got.modules.map((r) => r[6]), want.module_groups.map((g) => g.lora_params_total), `${what}: modules`);
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function open(page, hash) {
  await page.goto(BASE + 'index.html' + hash);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30000 });
  await settle(page);
}
// One animation frame is all an update may take; wait two to be sure it has been painted.
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

const PRESET_SETUPS = [
  { model: 'all-MiniLM-L6-v2', r: 8, alpha: 16 },
  { model: 'bert-base-uncased', r: 16, alpha: 32, bias: 'all' },
  { model: 'distilbert-base-uncased', r: 4, alpha: 8, targets: 'q_lin,v_lin' },
  { model: 'roberta-base', r: 64, alpha: 16, task: 'base', targets: 'all-linear' },
  { model: 'ModernBERT-base', r: 8, alpha: 8, targets: 'Wqkv,Wo', labels: 5, precision: 'bf16' },
  { model: 'gpt2', r: 1, alpha: 2, bias: 'lora_only', optimizer: 'sgd_momentum' },
  // The trainers' QLoRA: NF4 linear layers, float32 the rest (what the training pages' memory line counts).
  { model: 'all-MiniLM-L6-v2', r: 8, alpha: 16, precision: 'nf4-fp32', labels: 5 },
  { model: 'gemma-3-270m', r: 32, alpha: 64, targets: 'all-linear', precision: 'nf4', layers: '0,1,2', rslora: true },
  { model: 'Llama-2-7b', r: 256, alpha: 512, precision: 'int8', batch: 4, seq: 512, adapter: 'bf16' },
  { model: 'gemma-3-270m', r: 8, alpha: 16, precision: 'nf4', batch: 4, seq: 128, gradient_checkpointing: true },
];

for (const params of PRESET_SETUPS) {
  test(`${params.model}: page figures equal the CLI's`, async (page) => {
    await open(page, hashFor(params));
    assertMatchesCli(await figures(page), cli(flagsFor(params)), params.model);
  });
}

test('the rank slider works from the keyboard and updates every figure and the hash', async (page) => {
  await open(page, '#r=8&alpha=16');
  await page.focus('#r');
  await page.keyboard.press('ArrowRight');
  await settle(page);
  const got = await figures(page);
  assert.match(got.hash, /(^#|&)r=9(&|$)/);
  assertMatchesCli(got, cli(['--model', 'all-MiniLM-L6-v2', '--r', '9', '--alpha', '16']), 'r=9');
  await page.click('#alpha-2r');
  await settle(page);
  assert.match((await figures(page)).hash, /alpha=18/);
  assert.equal(await page.textContent('#scaling'), '2.0000');
});

test('target checkboxes use the real module names and change the counts', async (page) => {
  await open(page, '#model=gpt2');
  const labels = await page.$$eval('[data-target]', (boxes) => boxes.map((b) => b.value));
  assert.ok(labels.includes('attn.c_attn') && labels.includes('mlp.c_fc'), labels.join(','));
  assert.match(await page.textContent('#target-list'), /fused query, key and value/);
  await page.check('input[name="target-mode"][value="custom"]');
  await page.check('[data-target="mlp.c_fc"]');
  await settle(page);
  const got = await figures(page);
  assert.match(got.hash, /targets=attn\.c_attn,mlp\.c_fc/);
  assertMatchesCli(got, cli(['--model', 'gpt2', '--targets', 'attn.c_attn,mlp.c_fc']), 'gpt2 c_attn+c_fc');
});

test('a model without PEFT defaults: ticking a module is enough', async (page) => {
  await open(page, '#model=ModernBERT-base');
  assert.match(await page.textContent('#err-targets'), /no default target_modules/);
  await page.check('[data-target="attn.Wqkv"]');
  await settle(page);
  assert.equal(await page.textContent('#err-targets'), '');
  assertMatchesCli(await figures(page), cli(['--model', 'ModernBERT-base', '--targets', 'attn.Wqkv']), 'ModernBERT Wqkv');
  // head.dense is outside modules_to_save, so PEFT can adapt it and the page offers it.
  assert.ok(await page.$('[data-target="head.dense"]'));
});

test('unticking one layer restricts layers_to_transform', async (page) => {
  await open(page, '#r=4');
  await page.uncheck('[data-layer="5"]');
  await settle(page);
  const got = await figures(page);
  assert.match(got.hash, /layers=0,1,2,3,4/);
  assertMatchesCli(got, cli(['--model', 'all-MiniLM-L6-v2', '--r', '4', '--layers', '0,1,2,3,4']), 'layers 0-4');
});

test('r = 0 shows a message beside r and the rest keeps working', async (page) => {
  await open(page, '#r=8');
  const before = await figures(page);
  await page.fill('#r-num', '0');
  await settle(page);
  assert.match(await page.textContent('#err-r'), /positive integer/);
  assert.equal((await figures(page)).trainable, before.trainable, 'last good figures stay');
  await page.fill('#r-num', '');
  await settle(page);
  assert.match(await page.textContent('#err-r'), /whole number/);
  await page.fill('#r-num', '2.5');
  await settle(page);
  assert.match(await page.textContent('#err-r'), /whole number, got "2.5"/);
  await page.fill('#r-num', '12');
  await settle(page);
  assert.equal(await page.textContent('#err-r'), '');
  assertMatchesCli(await figures(page), cli(['--model', 'all-MiniLM-L6-v2', '--r', '12']), 'after fixing r');
});

test('a target that matches nothing is reported with the names that exist', async (page) => {
  await open(page, '#targets=q_proj');
  const message = await page.textContent('#err-targets');
  assert.match(message, /not found in the base model/);
  assert.match(message, /attention\.self\.query/);
});

test('an invalid pasted config.json is reported with its line, and a valid one is used', async (page) => {
  await open(page, '');
  await page.click('#config-box summary');
  await page.fill('#config', '{\n  "model_type": "bert",\n  "hidden_size": 64,\n  oops\n}');
  await page.click('#config-apply');
  await settle(page);
  assert.match(await page.textContent('#err-config'), /line 4/);
  await page.fill('#config', JSON.stringify({ model_type: 'bert', hidden_size: 64, num_hidden_layers: 2,
    num_attention_heads: 4, intermediate_size: 128, vocab_size: 1000 }));
  await page.click('#config-apply');
  await settle(page);
  assert.equal(await page.textContent('#err-config'), '');
  const dir = mkdtempSync(join(tmpdir(), 'lp-e2e-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, await page.inputValue('#config'));
  assertMatchesCli(await figures(page), cli(['--model', file]), 'pasted config');
  await page.fill('#config', JSON.stringify({ model_type: 'bert', hidden_size: 65, num_attention_heads: 4 }));
  await page.click('#config-apply');
  await settle(page);
  assert.match(await page.textContent('#err-config'), /divisible/);
});

test('an uploaded config.json is used and lives in the link', async (page) => {
  await open(page, '');
  await page.click('#config-box summary');
  const text = readFileSync(join(ROOT, 'crate', 'presets', 'gpt2.json'), 'utf8');
  await page.setInputFiles('#config-file', { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(text) });
  await page.waitForFunction(() => location.hash.includes('config='));
  await settle(page);
  const got = await figures(page);
  assertMatchesCli(got, cli(['--model', 'gpt2']), 'uploaded gpt2 config');
  // The link alone reproduces the setup.
  const fresh = await page.context().newPage();
  await open(fresh, got.hash);
  assert.equal((await figures(fresh)).trainable, got.trainable);
  await fresh.close();
});

test('hide= hides the chosen controls and panels', async (page) => {
  await open(page, '#hide=config,precision,methods');
  for (const sel of ['[data-control="config"]', '[data-control="precision"]', '[data-panel="methods"]']) {
    assert.equal(await page.isVisible(sel), false, sel);
  }
  assert.equal(await page.isVisible('[data-control="r"]'), true);
});

test('an unknown preset in the link says which presets exist', async (page) => {
  await open(page, '#model=gpt5');
  assert.match(await page.textContent('#err-model'), /unknown preset 'gpt5'.*Llama-2-7b/);
});

test('the layout fits a phone without sideways scrolling', async (page) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await open(page, '#model=Llama-2-7b');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
});

test('axe finds no violations at desktop and phone widths, and the phone layout fits', async (page) => {
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width, height });
    for (const hash of ['', '#model=Llama-2-7b&precision=nf4&targets=all-linear']) {
      await open(page, hash);
      assert.deepEqual(await axeViolations(page), [], `${width}px, '${hash}'`);
      assert.ok(await pageWidth(page) <= width, `${width}px, '${hash}': the page is ${await pageWidth(page)}px wide`);
    }
  }
});

test('every input control has a visible label', async (page) => {
  await open(page, '');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('#controls input, #controls select, #controls textarea')]
    .filter((e) => e.type !== 'hidden' && !e.closest('[hidden]'))
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
    .map((e) => e.id || e.outerHTML));
  assert.deepEqual(unlabelled, []);
});

runPageTests(tests, { cli: CLI, root: ROOT, port: PORT });
