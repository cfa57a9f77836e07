// Bad input in the page: a subset of the native corpus (crate/tests/bad_input/) run through the training page as
// a student meets it: broken datasets uploaded, damaged adapter folders loaded, bad settings in a shared link.
// Each gets a message naming the file, line or setting, shown where the student looks; none freezes the page or
// loses what was loaded before; and after all of them the page still trains.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/bad_input.mjs
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { runPageTests, trainerReady, trainOnce } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8186);
const BASE = `http://127.0.0.1:${PORT}/`;
const PLAN = { device: 'cpu', model: 'tiny', data: 'complaints', lr: 0.01, epochs: 1, batch: 32, maxlen: 16 };
const link = (extra = {}) => `${BASE}train.html#${Object.entries({ ...PLAN, ...extra }).map(([k, v]) => `${k}=${v}`).join('&')}`;

const good = Array.from({ length: 6 }, (_, i) => `text number ${i},${i % 2 ? 'b' : 'a'}\n`).join('');
const csv = (body) => Buffer.from(`text,label\n${body}`);
const utf16le = (s) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
const jsonl = (n) => Array.from({ length: n }, (_, i) => JSON.stringify({ text: `row ${i}`, label: i % 2 ? 'b' : 'a' })).join('\n') + '\n';
let seed = 7;
const random = (n) => Buffer.from(Array.from({ length: n }, () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % 256; }));

// [what, file name, bytes, expected]: 'refused' (the file is named, the last good dataset stays) or the line
// number of a skipped row (the good rows load, the row is listed by its line).
const DATASETS = [
  ['an empty file', 'd.csv', Buffer.alloc(0), 'refused'],
  ['a header only', 'd.csv', csv(''), 'refused'],
  ['one class', 'd.csv', csv('a,x\nb,x\nc,x\n'), 'refused'],
  ['no label column', 'd.csv', Buffer.from(`text,category\n${good}`), 'refused'],
  ['a label column twice', 'd.csv', Buffer.from('text,label,Label\nx,a,a\ny,b,b\nz,a,a\nw,b,b\n'), 'refused'],
  ['UTF-16 (Excel\u2019s Unicode text)', 'd.csv', utf16le(`text,label\n${good}`), 'refused'],
  ['random binary', 'd.csv', random(4096), 'refused'],
  ['a PNG renamed .csv', 'd.csv', Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), random(512)]), 'refused'],
  ['a NUL byte in a row', 'd.csv', csv('fine,a\nnul\0here,b\nx,a\ny,b\n'), 'refused'],
  ['1,000 classes', 'd.csv', csv(Array.from({ length: 2000 }, (_, i) => `t${i},c${i % 1000}\n`).join('')), 'refused'],
  ['JSON Lines: every line broken', 'd.jsonl', Buffer.from('{\n{\n{\n'), 'refused'],
  ['a .jsonl file that holds CSV', 'd.jsonl', csv(good), 'refused'],
  ['one row not UTF-8', 'd.csv', Buffer.concat([csv('fine,a\n'), Buffer.from([0x62, 0x61, 0x64, 0xff, 0x2c, 0x62, 0x0a]), Buffer.from(good)]), 3],
  ['an unclosed quote at the end', 'd.csv', csv(`${good}"never closed,a\n`), 8],
  ['JSON Lines: nesting 10,000 deep', 'd.jsonl', Buffer.from(`${'['.repeat(10000)}${']'.repeat(10000)}\n${jsonl(6)}`), 1],
  ['JSON Lines: a truncated last line', 'd.jsonl', Buffer.from(`${jsonl(6)}{"text": "cut`), 7],
];

const FIXTURE = join(ROOT, 'crate', 'tests', 'fixtures', 'peft_tiny');
const config = readFileSync(join(FIXTURE, 'adapter_config.json'));
const weights = readFileSync(join(FIXTURE, 'adapter_model.safetensors'));
const file = (name, buffer) => ({ name, mimeType: 'application/octet-stream', buffer });
const withConfig = (change) => file('adapter_config.json', Buffer.from(JSON.stringify(change(JSON.parse(config)))));
// [what, files, a pattern the message must match]
const ADAPTERS = [
  ['no adapter_config.json', [file('adapter_model.safetensors', weights)], /adapter_config\.json/],
  ['no weights', [file('adapter_config.json', config)], /adapter_model\.safetensors/],
  ['adapter_config.json is not JSON', [file('adapter_config.json', Buffer.from('{"r": 4,')), file('adapter_model.safetensors', weights)], /adapter_config\.json/],
  ['r is negative', [withConfig((c) => ({ ...c, r: -3 })), file('adapter_model.safetensors', weights)], /\br\b/],
  ['the weights cut short', [file('adapter_config.json', config), file('adapter_model.safetensors', weights.subarray(0, 500))], /adapter_model\.safetensors/],
  ['a header length past the end', [file('adapter_config.json', config), file('adapter_model.safetensors', Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), weights.subarray(8)]))], /adapter_model\.safetensors/],
  ['for another base model (r in the weights differs)', [withConfig((c) => ({ ...c, r: 16, lora_alpha: 32 })), file('adapter_model.safetensors', weights)], /shape|\br\b/],
];

// [link setting, the control whose message shows it, a pattern]
const LINKS = [
  [{ r: -1 }, 'r', /r/],
  [{ r: 'abc' }, 'r', /r/],
  [{ alpha: '1e309' }, 'alpha', /alpha/],
  [{ lr: 'NaN' }, 'lr', /lr|learning rate/],
  [{ epochs: '1e9' }, 'epochs', /epochs/],
  [{ batch: 0 }, 'batch', /batch/],
  [{ maxlen: 100000 }, 'maxlen', /max_len/],
  [{ dropout: 2 }, 'dropout', /dropout/],
  [{ val: 1.5 }, 'val', /val/],
];

const loaded = (page) => trainerReady(page);
const examples = (page) => page.locator('#data-count').getAttribute('data-examples').then(Number);

// The page still trains: a short run finishes.
const trains = trainOnce;

const tests = [
  [`${DATASETS.length} broken datasets: each named by file or line, the last good dataset kept, then a run`, async (page) => {
    await page.goto(link());
    await loaded(page);
    const builtin = await examples(page);
    for (const [what, name, buffer, expect] of DATASETS) {
      await page.evaluate(() => { document.querySelector('#err-data').textContent = ''; });
      await page.setInputFiles('#data-file', { name, mimeType: 'text/plain', buffer });
      if (expect === 'refused') {
        await page.waitForFunction(() => document.querySelector('#err-data').textContent.length > 0, null, { timeout: 60_000 });
        assert.equal(await page.locator('#err-data').getAttribute('data-field'), name, what);
        assert.equal(await examples(page), builtin, `${what}: the loaded dataset stays`);
      } else {
        await page.waitForFunction(() => document.querySelector('#problem-list'), null, { timeout: 60_000 });
        const problems = await page.locator('#problem-list li').allTextContents();
        assert.ok(problems.some((p) => p.startsWith(`line ${expect}:`)), `${what}: ${problems.join(' | ')}`);
        // Back to the built-in set for the next case (its rows are what "stays" means).
        await page.click('#builtin-load');
        await page.waitForFunction((n) => Number(document.querySelector('#data-count').dataset.examples) === n, builtin);
      }
    }
    const utf16 = DATASETS.findIndex(([w]) => w.startsWith('UTF-16'));
    await page.setInputFiles('#data-file', { name: 'excel.csv', mimeType: 'text/plain', buffer: DATASETS[utf16][2] });
    await page.waitForFunction(() => /UTF-16/.test(document.querySelector('#err-data').textContent));
    assert.match(await page.locator('#err-data').textContent(), /UTF-8/, 'says how to save it');
    await trains(page);
  }],
  [`${ADAPTERS.length} damaged adapter folders: each refused by name, the kept list unchanged`, async (page) => {
    await page.goto(link());
    await loaded(page);
    await page.setInputFiles('#adapter-files', [file('adapter_config.json', config), file('adapter_model.safetensors', weights)]);
    await page.waitForFunction(() => document.querySelectorAll('#adapters tbody tr').length === 1);
    for (const [what, files, pattern] of ADAPTERS) {
      await page.evaluate(() => { document.querySelector('#err-adapters').textContent = ''; });
      await page.setInputFiles('#adapter-files', files);
      await page.waitForFunction(() => document.querySelector('#err-adapters').textContent.length > 0, null, { timeout: 30_000 });
      const message = await page.locator('#err-adapters').textContent();
      assert.match(message, pattern, `${what}: ${message}`);
      assert.equal(await page.locator('#adapters tbody tr').count(), 1, `${what}: the kept adapter stays, nothing added`);
    }
    await trains(page);
  }],
  [`${LINKS.length} bad settings in a link: each named beside its control, and fixing it trains`, async (page) => {
    for (const [setting, key, pattern] of LINKS) {
      await page.goto('about:blank'); // a new page load each time, not a hash change
      await page.goto(link(setting));
      await loaded(page);
      await page.waitForFunction((k) => document.querySelector(`#err-${k}`).textContent.length > 0, key, { timeout: 30_000 });
      const message = await page.locator(`#err-${key}`).textContent();
      assert.match(message, pattern, `${JSON.stringify(setting)}: ${message}`);
      // Start refuses rather than running something else.
      await page.click('#start');
      await page.waitForTimeout(300);
      const state = await page.evaluate(() => [window.lpTrain.store.get().running, document.querySelector('#train-text').textContent]);
      assert.deepEqual(state, [false, 'not started'], `${JSON.stringify(setting)} must not run`);
    }
    await page.goto('about:blank');
    await page.goto(link());
    await loaded(page);
    await trains(page);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'], contextOptions: { viewport: { width: 1280, height: 900 } },
});
