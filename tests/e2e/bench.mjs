// Benchmark: how long the page's engine takes to recompute every figure, per preset, in headless Chromium.
// Usage: node tests/e2e/bench.mjs   (after tools/serve.sh or tools/test.sh has built web/pkg and the CLI)
// Prints the median and worst of 50 `compute` calls per preset (wasm, one call = every figure on the page).
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI ?? join(process.env.CARGO_TARGET_DIR ?? `${process.env.HOME}/.cache/lp/target`, 'release', 'lora-playground');
const PORT = 8182;
const server = spawn(CLI, ['serve', '--root', ROOT, '--port', String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => server.stdout.once('data', r));
process.on('exit', () => server.kill());
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'] });
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${PORT}/index.html`);
await page.waitForSelector('body[data-ready="true"]');
const rows = await page.evaluate(async () => {
  const engine = await import('./web/pkg/lora_playground.js');
  const out = [];
  for (const model of engine.presets()) {
    // Base models: PEFT refuses DistilBERT's classifier with all-linear (see the reference table).
    const setup = { model, task: 'base', lora: { r: 16, lora_alpha: 32, target_modules: 'all-linear' } };
    const times = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      engine.compute(setup);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out.push({ model, median_ms: times[25], worst_ms: times[49] });
  }
  return out;
});
console.log('page engine: every figure for the base model, r=16, all-linear (ms per compute, headless Chromium, wasm)');
for (const r of rows) console.log(`${r.model.padEnd(26)} median ${r.median_ms.toFixed(2).padStart(7)}  worst ${r.worst_ms.toFixed(2).padStart(7)}`);
await browser.close();
server.kill();
