// What every page test run shares: the app served by the CLI on loopback, Debian's chromium with WebGPU, one
// fresh context per test, and a test failing on any page error, CSP violation or request that leaves localhost.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

// axe-core (npm), evaluated in the page as it is; its rules (WCAG 2 A/AA and best practices) run on the page as
// it stands, and every violation is returned as one line: rule, impact, the elements it found. Evaluated through
// the DevTools protocol rather than added as a <script>: the server's Content-Security-Policy rightly refuses
// inline scripts, and the test must not loosen it.
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export async function axeViolations(page) {
  if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await window.axe.run()).violations);
  return violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// The training page ready on the CPU path: a model loaded, a dataset, the CPU chosen. `timeout` in ms (Playwright's
// default when left out).
export const trainerReady = (page, timeout = undefined) => page.waitForFunction(() =>
  document.querySelector('#model-note').textContent.includes('layers') && document.querySelector('#data-count') &&
  document.querySelector('#device-note').dataset.state === 'cpu', null, { timeout });

// Start, and wait until the run has finished (a new record in the page's history).
export async function trainOnce(page) {
  const before = await page.evaluate(() => window.lpTrain.runs.length);
  await page.click('#start');
  await page.waitForFunction((n) => window.lpTrain.runs.length > n, before, { timeout: 120_000 });
}

// The page's width and the viewport's: a layout that fits has no sideways scrolling.
export const pageWidth = (page) => page.evaluate(() => document.documentElement.scrollWidth);

// --enable-unsafe-webgpu gives headless Chromium WebGPU (SwiftShader); the rest keep it off the network.
export function launchChromium(extra = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--no-first-run',
      '--disable-component-update', '--disable-sync', ...extra],
  });
}

// Runs `tests` ([{name, fn(page)}]) against `lora-playground serve` and exits with their outcome.
// `local`: URL prefixes besides the server's that a page may request (data:, blob:).
// `onFailure(page, index)`: e.g. a screenshot, before the context closes.
// E2E_ONLY=text runs only the tests whose name contains it (while working on one; CI runs them all).
// What the server printed on its standard output (its addresses, a certificate's fingerprint).
export const serverOutput = [];

// `server`: [command, args] to serve with instead (a static file server that is not this project's own).
export async function runPageTests(all, { cli, root, port, local = ['data:'], contextOptions = {}, onFailure, server: other }) {
  const tests = all.filter((t) => !process.env.E2E_ONLY || t.name.includes(process.env.E2E_ONLY));
  const base = `http://127.0.0.1:${port}/`;
  const [command, args] = other ?? [cli, ['serve', '--root', root, '--port', String(port)]];
  // Another server's request log is noise here; ours logs only what matters.
  const server = spawn(command, args, { stdio: ['ignore', 'pipe', other ? 'ignore' : 'inherit'] });
  server.stdout.on('data', (d) => serverOutput.push(...String(d).split('\n').filter(Boolean)));
  await new Promise((resolve, reject) => {
    server.stdout.once('data', resolve);
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  const browser = await launchChromium();
  let failed = 0;
  try {
    for (const [i, { name, fn }] of tests.entries()) {
      const context = await browser.newContext(contextOptions);
      const page = await context.newPage();
      // A wait without its own limit gets 90 s, not Playwright's 30: the page's worker answers after what it is
      // busy with (a model loading, WebGPU on SwiftShader), and a loaded 2-core machine once took longer than 30 s
      // to parse the training page's data file. A real hang still fails, later.
      page.setDefaultTimeout(90_000);
      const problems = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      // The server's Content-Security-Policy (crate/src/cli/serve/policy.rs) must let the app do all it does.
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
      });
      page.on('request', (r) => {
        if (![base, ...local].some((p) => r.url().startsWith(p))) problems.push(`request outside localhost: ${r.url()}`);
      });
      try {
        await fn(page);
        assert.deepEqual(problems, []);
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        if (onFailure) await onFailure(page, i).catch(() => {});
        console.log(`FAIL ${name}\n     ${String(e.stack ?? e).split('\n').slice(0, 8).join('\n     ')}`);
      }
      await context.close();
    }
  } finally {
    await browser.close();
    server.kill();
  }
  console.log(`\n${tests.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

// A keyword task a random tiny encoder can learn in a few dozen steps: 80 rows, two classes, each text four words
// from its class's list (the lists share no word). 20% held out: 64 training rows, 8 steps an epoch at batch 8.
const WORDS = [['card', 'fee', 'bank', 'money', 'charged', 'account', 'refund', 'payment'],
  ['school', 'student', 'loan', 'interest', 'rate', 'month', 'late', 'letter']];
export const KEYWORDS_CSV = 'text,label\n' + Array.from({ length: 80 }, (_, i) => {
  const w = WORDS[i % 2];
  return `${[0, 1, 2, 3].map((j) => w[(i * 3 + j * 5) % 8]).join(' ')},${i % 2 ? 'school' : 'bank'}`;
}).join('\n') + '\n';
