// The language-model page (lm.html) end to end on the tiny random Llama (crate/tests/fixtures/decoder/llama/,
// built by transformers), on the CPU path: the model folder picked as a student picks files, an uploaded lesson
// file with a bad row (named by line), the preview of what the loss sees, a LoRA run with its held-out loss per
// epoch, the base model's and the adapter's answers side by side (the base's equal to the CLI's `generate` for the
// same prompt), Stop, and the adapter downloaded as PEFT saves it (its files read back: CAUSAL_LM, every tensor).
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/lm.mjs
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { axeViolations, runPageTests } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8199);
const MODEL = join(ROOT, 'crate', 'tests', 'fixtures', 'decoder', 'llama');
const files = ['config.json', 'tokenizer.json', 'model.safetensors']
  .map((name) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(join(MODEL, name)) }));
const LESSON = readFileSync(join(ROOT, 'crate', 'tests', 'fixtures', 'decoder', 'lesson.jsonl'), 'utf8') + '{"prompt": "no completion"}\n';
const PROMPT = 'What is LoRA?';

// What the CLI's `generate` writes for the prompt with the base model, greedy, 8 new tokens.
function cliAnswer() {
  const dir = mkdtempSync(join(tmpdir(), 'lp-lm-'));
  writeFileSync(join(dir, 'q.txt'), `${PROMPT}\n`);
  const out = execFileSync(CLI, ['generate', '--model', MODEL, '--input', join(dir, 'q.txt'), '--max-new-tokens', '8']);
  return JSON.parse(String(out).trim()).text;
}

const tests = [
  ['a tiny decoder trains in the page (on a float32 and on an NF4 base) and answers before and after, side by side', async (page) => {
    await page.goto(`http://127.0.0.1:${PORT}/lm.html#model=file&data=file&max_new_tokens=8&r=4&lora_alpha=8&target_modules=all-linear&learning_rate=0.03&num_train_epochs=2&per_device_train_batch_size=2&val_fraction=0.25`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    assert.ok(await page.isVisible('#model-files') && await page.isVisible('#data-file'), 'a link that picks files shows the pickers');
    await page.setInputFiles('#model-files', files);
    await page.setInputFiles('#data-file', { name: 'lesson.jsonl', mimeType: 'application/json', buffer: Buffer.from(LESSON) });
    await page.click('#load-model');
    await page.waitForFunction(() => document.querySelector('#model-status').dataset.ready === 'true', null, { timeout: 60_000 });
    assert.match(await page.textContent('#model-status'), /llama, 2 layers, hidden 32/);
    await page.waitForFunction(() => document.querySelector('#data-status').dataset.ready === 'true');
    assert.match(await page.textContent('#data-status'), /8 rows: 6 to train on, 2 held out; 1 skipped/);
    assert.match(await page.textContent('#data-problems'), /line 9: a "prompt" without a "completion"/);
    const preview = await page.$$eval('#preview span', (s) => s.map((x) => x.className));
    assert.ok(preview.includes('learned') && preview[0] === '', `the prompt is not learned, the completion is: ${JSON.stringify(preview)}`);

    // Before any run: the base model answers as the CLI does; the adapter's side says to train first.
    await page.fill('#prompt', PROMPT);
    await page.click('#ask');
    await page.waitForFunction(() => document.querySelector('#answer-adapter').dataset.done === 'true');
    assert.equal(await page.textContent('#answer-base'), cliAnswer());
    assert.equal(await page.textContent('#answer-adapter'), '(train a run first)');
    assert.equal(await page.getAttribute('#answer-adapter', 'data-error'), 'true');
    const baseAnswer = await page.textContent('#answer-base');

    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#run-status').dataset.done === 'true', null, { timeout: 120_000 });
    assert.match(await page.textContent('#run-status'), /Step 6\/6.*Done\./);
    const evals = await page.$$eval('#evals tbody tr', (rows) => rows.map((r) => r.textContent));
    assert.equal(evals.length, 3, 'before, and after each of 2 epochs');
    assert.equal(await page.locator('#loss-chart polyline').count(), 1);

    // The first answer's `done` flags reset when the new answers begin: wait for the new adapter answer to end.
    await page.click('#ask');
    await page.waitForFunction(() => document.querySelector('#ask').disabled === false &&
      document.querySelector('#answer-adapter').dataset.done === 'true', null, { timeout: 60_000 });
    assert.equal(await page.getAttribute('#answer-adapter', 'data-error'), 'false', await page.textContent('#answer-adapter'));
    assert.equal(await page.textContent('#answer-base'), baseAnswer, 'the base model is untouched by the run');
    assert.notEqual(await page.textContent('#answer-adapter'), baseAnswer, 'the adapter answers differently');

    // The settings as a notebook need no run; after the run the adapter's download carries them too.
    await page.click('#export-notebook');
    await page.waitForFunction(() => document.querySelectorAll('#export-links a').length === 3);
    assert.deepEqual((await page.$$eval('#export-links a', (as) => as.map((a) => a.download))).slice(0, 2), ['run.ipynb', 'run.py']);
    await page.click('#export');
    await page.waitForFunction(() => document.querySelectorAll('#export-links a').length === 6);
    const links = await page.$$eval('#export-links a', (as) => as.map((a) => a.download));
    assert.deepEqual(links.slice(0, 5), ['adapter_config.json', 'adapter_model.safetensors', 'adapter.gguf', 'run.ipynb', 'run.py']);
    assert.equal(links.length, 6, 'and the data file');
    const [script] = await Promise.all([page.waitForEvent('download'), page.click('#export-links a >> nth=4')]);
    const text = readFileSync(await script.path(), 'utf8');
    assert.ok(text.includes('    r=4,\n') && text.includes('task_type="CAUSAL_LM"') && text.includes('BASE = "float32"'), text.slice(0, 3000));
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-links a >> nth=0')]);
    const config = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(config.task_type, 'CAUSAL_LM');
    assert.equal(config.r, 4);
    const [gguf] = await Promise.all([page.waitForEvent('download'), page.click('#export-links a >> nth=2')]);
    const head = readFileSync(await gguf.path());
    assert.equal(head.subarray(0, 4).toString(), 'GGUF', 'llama.cpp\'s adapter file');
    assert.ok(head.includes(Buffer.from('adapter.lora.alpha')) && head.includes(Buffer.from('blk.0.attn_q.weight.lora_a')));
    assert.deepEqual(await axeViolations(page), []);

    // QLoRA: the same run on the NF4 base, with gradient checkpointing as PEFT's QLoRA recipe has it; the predicted
    // memory and the measured one are shown at each step.
    await page.selectOption('#base', 'nf4');
    await page.check('#gradient-checkpointing');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelector('#run-status').dataset.done === 'true', null, { timeout: 120_000 });
    assert.match(await page.textContent('#run-status'), /Step 6\/6.*Done\./);
    assert.match(await page.textContent('#run-memory'), /Measured after step 6: [0-9.]+ GiB of WebAssembly memory \(predicted: /);
    assert.match(page.url(), /base=nf4/, 'the link keeps the 4-bit base');
    assert.match(page.url(), /gradient_checkpointing=1/, 'and the checkpointing');
    assert.match(await page.textContent('#run-status'), /activations [0-9.]+ [GM]iB with gradient checkpointing/);
    // Both answer on the 4-bit base: each new token's few rows multiplied straight from the NF4 codes.
    await page.click('#ask');
    await page.waitForFunction(() => document.querySelector('#ask').disabled === false &&
      document.querySelector('#answer-adapter').dataset.done === 'true' &&
      document.querySelector('#answer-base').dataset.done === 'true', null, { timeout: 60_000 });
    for (const side of ['#answer-base', '#answer-adapter']) {
      assert.equal(await page.getAttribute(side, 'data-error'), 'false', await page.textContent(side));
      assert.ok((await page.textContent(side)).length > 0, `${side} answered`);
    }
  }],
  ['SmolLM2 as stored in its GGUF file: the page keeps its blocks, answers as the CLI does, and trains LoRA on them', async (page) => {
    // The set-up's cached SmolLM2 (Q4_1 layers, Q8_0 embedding table tied to the head): nothing widened but norms.
    await page.goto(`http://127.0.0.1:${PORT}/lm.html#base=as-stored&max_len=48&per_device_train_batch_size=1&max_new_tokens=8&gradient_checkpointing=1`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    await page.click('#load-model');
    await page.waitForFunction(() => document.querySelector('#model-status').dataset.ready === 'true', null, { timeout: 300_000 });
    await page.waitForFunction(() => document.querySelector('#data-status').dataset.ready === 'true', null, { timeout: 120_000 });
    await page.fill('#prompt', PROMPT);
    await page.click('#ask');
    await page.waitForFunction(() => document.querySelector('#answer-adapter').dataset.done === 'true' &&
      document.querySelector('#answer-base').dataset.done === 'true', null, { timeout: 120_000 });
    assert.equal(await page.getAttribute('#answer-base', 'data-error'), 'false', await page.textContent('#answer-base'));
    const dir = mkdtempSync(join(tmpdir(), 'lp-lm-'));
    writeFileSync(join(dir, 'q.txt'), `${PROMPT}\n`);
    const cli = JSON.parse(String(execFileSync(CLI, ['generate', '--model', join(ROOT, 'models', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
      '--base', 'as-stored', '--chat', '--input', join(dir, 'q.txt'), '--max-new-tokens', '8'])).trim()).text;
    assert.equal(await page.textContent('#answer-base'), cli, 'the page answers as `generate --base as-stored --chat`');
    await page.click('#start');
    await page.waitForFunction(() => /^Step 2\//.test(document.querySelector('#run-status').textContent), null, { timeout: 300_000 });
    await page.click('#stop');
    await page.waitForFunction(() => document.querySelector('#run-status').dataset.done === 'true', null, { timeout: 120_000 });
    const status = await page.textContent('#run-status');
    assert.match(status, /whose blocks are the frozen weights/, status);
    assert.match(await page.textContent('#run-memory'), /Measured after step [0-9]+: [0-9.]+ GiB of WebAssembly memory/);
    const losses = await page.$$eval('#loss-chart polyline', (p) => p.length);
    assert.equal(losses, 1, 'the loss is charted');
  }],
  ['a bad model file is refused by name and the page stays usable', async (page) => {
    await page.goto(`http://127.0.0.1:${PORT}/lm.html#model=file`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true');
    await page.setInputFiles('#model-files', { name: 'broken.gguf', mimeType: 'application/octet-stream', buffer: Buffer.from('GGUF\x03\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff') });
    await page.click('#load-model');
    await page.waitForFunction(() => document.querySelector('#model-status').textContent.startsWith('Could not'));
    assert.match(await page.textContent('#model-status'), /broken\.gguf.*tensor count/);
    await page.setInputFiles('#model-files', files);
    await page.click('#load-model');
    await page.waitForFunction(() => document.querySelector('#model-status').dataset.ready === 'true', null, { timeout: 60_000 });
  }],
].map(([name, fn]) => ({ name, fn }));

await runPageTests(tests, { cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:'] });
