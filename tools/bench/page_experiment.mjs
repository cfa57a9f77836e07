// Runs an experiment in the training page (headless Chromium, the CPU path) and keeps what the page exports: the
// table as Markdown and CSV and both charts as PNG, for the rank sweep in docs/MEASUREMENTS.md. Prints the Markdown
// table.
// Usage: tools/serve.sh in another terminal (or LP_URL), then
//   node tools/bench/page_experiment.mjs 'model=all-MiniLM-L6-v2&data=complaints&xranks=1,4,16,64&xhead=1' OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '../../tests/e2e/harness.mjs';

const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const [hash, out] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const browser = await launchChromium();
const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
await page.goto(`${BASE}train.html#device=cpu&${hash}`);
await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers') &&
  document.querySelector('#device-note').dataset.state === 'cpu' && !document.querySelector('#x-run').disabled, null, { timeout: 600_000 });
console.log(await page.locator('#x-queue').textContent());
const t0 = performance.now();
await page.click('#x-run');
await page.waitForFunction(() => document.querySelector('#x-text').textContent.startsWith('done'), null, { timeout: 3_600_000 });
console.log(`${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
for (const [button, name] of [['#x-md', 'experiment.md'], ['#x-csv', 'experiment.csv'], ['#x-loss-png', 'experiment-loss.png'], ['#x-pareto-png', 'experiment-accuracy-vs-params.png']]) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  await file.saveAs(join(out, name));
}
await page.locator('#experiment-panel').screenshot({ path: join(out, 'experiment-panel.png') });
const runs = await page.evaluate(() => window.lpTrain.runs.map((r) => ({ name: r.name, lr: r.lr, seconds: r.seconds, accuracy: r.accuracy, losses: r.losses })));
writeFileSync(join(out, 'experiment-runs.json'), JSON.stringify(runs, null, 1));
await browser.close();
