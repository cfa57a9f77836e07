// Both pages in a lesson: a course page (another origin) embeds the calculator and the trainer in iframes with
// `hide=`; the hidden controls are absent, the shown ones work, and a setup goes from the calculator to the trainer
// ("Train this setup") and back ("Open this setup in the calculator") with its settings and figures intact.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/lesson.mjs
import { createServer } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { runPageTests } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8190);
const BASE = `http://127.0.0.1:${PORT}/`;

const CALC_HIDE = 'config,targets,layers,bias,task,precision,optimizer,batch,method-sizes,memory,methods';
const TRAIN_HIDE = 'device,model,data,method,alpha,targets,layers,bias,dropout,rslora,lr,epochs,batch,maxlen,seed,decay,warmup,clip,val,upload,tokens,history,adapters';
// The course's own page, as a teacher writes it.
const LESSON = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Lesson 3: LoRA's rank</title></head><body>
<h1>How many parameters does rank r train?</h1>
<iframe id="calc" title="LoRA calculator" width="1000" height="700"
  src="${BASE}#model=all-MiniLM-L6-v2&r=8&alpha=16&hide=${CALC_HIDE}"></iframe>
<h2>Now train it</h2>
<iframe id="train" title="Train with LoRA" width="1000" height="1200"
  src="${BASE}train.html#device=cpu&model=tiny&data=complaints&epochs=1&batch=32&maxlen=16&lr=0.01&r=4&hide=${TRAIN_HIDE}"></iframe>
</body></html>`;

// The course's site: another origin (another port), as a real course's web space is.
const COURSE_PORT = PORT + 1;
const COURSE = `http://localhost:${COURSE_PORT}/lesson.html`;
const course = createServer((req, res) => {
  res.writeHead(req.url === '/lesson.html' ? 200 : 404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(req.url === '/lesson.html' ? LESSON : '');
}).listen(COURSE_PORT, '127.0.0.1');

const frame = (page, id) => page.frameLocator(`#${id}`);
const shown = (loc) => loc.evaluate((e) => !e.closest('[hidden]'));

const tests = [
  ['embedded with hide=: the hidden controls are absent and the shown ones work, in both pages', async (page) => {
    await page.goto(COURSE);
    const calc = frame(page, 'calc');
    await calc.locator('body[data-ready="true"]').waitFor({ timeout: 30_000 });
    for (const name of CALC_HIDE.split(',')) {
      const el = calc.locator(`[data-control="${name}"], [data-panel="${name}"]`).first();
      if (await el.count()) assert.equal(await shown(el), false, `calculator: ${name} is hidden`);
    }
    assert.equal(await shown(calc.locator('[data-control="r"]')), true);
    const before = Number(await calc.locator('[data-figure="trainable"]').getAttribute('data-value'));
    await calc.locator('#r-num').fill('16');
    await calc.locator('#r-num').dispatchEvent('input');
    await calc.locator(`[data-figure="trainable"]:not([data-value="${before}"])`).waitFor();
    const after = Number(await calc.locator('[data-figure="trainable"]').getAttribute('data-value'));
    // LoRA's part is linear in r (the head is fixed): doubling r adds as many parameters as r = 8 had in LoRA.
    const lora8 = 8 * 2 * 6 * (384 + 384); // query and value in 6 layers, A [r, 384] and B [384, r] each
    assert.equal(after - before, lora8);

    const train = frame(page, 'train');
    await train.locator('#model-note').filter({ hasText: 'layers' }).waitFor({ timeout: 60_000 });
    for (const name of TRAIN_HIDE.split(',')) {
      const el = train.locator(`[data-control="${name}"], [data-panel="${name}"]`).first();
      if (await el.count()) assert.equal(await shown(el), false, `trainer: ${name} is hidden`);
    }
    assert.equal(await shown(train.locator('[data-control="r"]')), true);
    assert.equal(await train.locator('#r').inputValue(), '4');
    await train.locator('#start').click();
    await train.locator('#train-text').filter({ hasText: 'done' }).waitFor({ timeout: 120_000 });
  }],
  ['a setup goes to the trainer and back with its settings and figures', async (page) => {
    await page.goto(`${BASE}#model=all-MiniLM-L6-v2&r=12&alpha=24&bias=lora_only&layers=0,2&rslora=1`);
    await page.waitForSelector('body[data-ready="true"]');
    const figure = (k) => page.locator(`[data-figure="${k}"]`).getAttribute('data-value').then(Number);
    const trainable = await figure('trainable');
    const href = await page.locator('#train-this').getAttribute('href');
    assert.match(href, /^train\.html#model=all-MiniLM-L6-v2&r=12&alpha=24&rslora=1&bias=lora_only&layers=0,2$/, href);
    // The other presets the trainer takes go by their Hub ids (the trainer fetches them from the Hub or a course's
    // mirror), with their own target names; one it does not train (over 150M parameters) carries only the numbers.
    const hrefFor = (model, targets) => page.evaluate(async ([m, t]) => (await import('./web/links.js')).trainLink({ model: m, r: 4, alpha: 8, bias: 'none', targets: t }), [model, targets]);
    assert.deepEqual(await hrefFor('bert-base-uncased', ['query']), { href: 'train.html#model=hf:google-bert/bert-base-uncased&r=4&alpha=8&rslora=0&bias=none&targets=query', sameModel: true });
    assert.deepEqual(await hrefFor('gpt2', ['c_attn']), { href: 'train.html#model=hf:openai-community/gpt2&r=4&alpha=8&rslora=0&bias=none&targets=c_attn', sameModel: true });
    assert.deepEqual(await hrefFor('ModernBERT-base', ['attn.Wqkv']), { href: 'train.html#model=hf:answerdotai/ModernBERT-base&r=4&alpha=8&rslora=0&bias=none&targets=attn.Wqkv', sameModel: true });
    // A language model opens the language-model page, with PEFT's names for the settings there.
    assert.deepEqual(await hrefFor('gemma-3-270m', ['q_proj', 'v_proj']), { href: 'lm.html#model=gemma-3-270m&r=4&lora_alpha=8&target_modules=q_proj,v_proj', sameModel: true });
    assert.deepEqual(await hrefFor('Llama-2-7b', ['q_proj']), { href: 'train.html#r=4&alpha=8&rslora=0&bias=none', sameModel: false });
    // A 4-bit precision opens the trainer on its NF4 base (QLoRA).
    const fourBit = await page.evaluate(async () => (await import('./web/links.js')).trainLink({ model: 'all-MiniLM-L6-v2', r: 4, alpha: 8, bias: 'none', precision: 'nf4' }));
    assert.equal(fourBit.href, 'train.html#model=all-MiniLM-L6-v2&r=4&alpha=8&rslora=0&bias=none&base=nf4');
    await page.click('#train-this');
    await page.waitForFunction(() => document.querySelector('#r')?.value === '12');
    const controls = await page.evaluate(() => ['r', 'alpha', 'bias', 'layers', 'rslora'].map((id) => {
      const e = document.getElementById(id);
      return e.type === 'checkbox' ? e.checked : e.value;
    }));
    assert.deepEqual(controls, ['12', '24', 'lora_only', '0,2', true]);
    await page.waitForFunction(() => document.querySelector('#data-count') && document.querySelector('#model-note').textContent.includes('layers'));
    // The trainer's live count for the loaded model is the calculator's, and the way back gives the same figures.
    await page.waitForFunction(() => document.querySelector('[data-live=trainable]')?.dataset.value);
    const back = await page.locator('#open-calculator').getAttribute('href');
    await page.click('#open-calculator');
    await page.waitForSelector('body[data-ready="true"]');
    const now = new URLSearchParams(await page.evaluate(() => location.hash.slice(1)));
    const sent = new URLSearchParams(back.split('#')[1]);
    for (const k of ['r', 'alpha', 'rslora', 'targets', 'layers', 'bias', 'labels']) assert.equal(now.get(k), sent.get(k), k);
    assert.equal(await page.locator('#r-num').inputValue(), '12');
    assert.equal(await page.locator('#alpha').inputValue(), '24');
    // The same setup, counted for the trainer's dataset's classes (the built-in complaints have 5; the link said 2).
    const labels = Number(new URLSearchParams(back.split('#')[1]).get('labels'));
    assert.equal(labels, 5);
    const counted = await figure('trainable');
    const headPerClass = 384 + 1; // classifier.weight row and bias per class (MiniLM's hidden 384)
    assert.equal(counted - trainable, (labels - 2) * headPerClass, `${counted} against ${trainable}`);
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:', `http://localhost:${COURSE_PORT}/`],
  contextOptions: { viewport: { width: 1280, height: 900 } },
}).finally(() => course.close());
