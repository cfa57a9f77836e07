// A student's first run, measured in the page (prints figures; asserts nothing about speed or accuracy): the
// training page with its defaults (all-MiniLM-L6-v2, the CPU path, 3 epochs, batch 16, max length 64, each
// method's usual learning rate), a CSV uploaded, Start, and the time to the last epoch's held-out accuracy.
// Usage: tools/serve.sh in another terminal (or LP_URL), then
//   node tests/e2e/first_run.mjs DATA.csv [lora,head,bitfit,full]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { launchChromium } from './harness.mjs';

const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const [file, methods = 'lora,head,bitfit,full'] = process.argv.slice(2);
const browser = await launchChromium();
const page = await (await browser.newContext()).newPage();
console.log('| data | method | lr (the usual) | held-out accuracy per epoch | seconds from Start to the last epoch |');
console.log('|---|---|---|---|---|');
for (const method of methods.split(',')) {
  await page.goto('about:blank');
  await page.goto(`${BASE}train.html#model=all-MiniLM-L6-v2&device=cpu&method=${method}`);
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers') &&
    document.querySelector('#device-note').dataset.state === 'cpu', null, { timeout: 600_000 });
  await page.waitForSelector('#data-count');
  const builtin = await page.getAttribute('#data-count', 'data-examples');
  await page.setInputFiles('#data-file', { name: basename(file), mimeType: 'text/csv', buffer: readFileSync(file) });
  await page.waitForFunction((n) => document.querySelector('#data-count').dataset.examples !== n, builtin, { timeout: 60_000 });
  await page.waitForTimeout(500);
  const lr = await page.getAttribute('#lr', 'placeholder');
  const before = await page.evaluate(() => window.lpTrain.runs.length);
  const t0 = performance.now();
  await page.click('#start');
  await page.waitForFunction((n) => window.lpTrain.runs.length > n, before, { timeout: 3_600_000 });
  const seconds = (performance.now() - t0) / 1000;
  const accs = await page.evaluate(() => window.lpTrain.accChart.plot.data[1].map((a) => (100 * a).toFixed(1)).join(' / '));
  console.log(`| ${basename(file)} | ${method} | ${lr} | ${accs} | ${seconds.toFixed(0)} |`);
}
await browser.close();
