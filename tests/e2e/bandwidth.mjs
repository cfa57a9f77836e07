// What a student downloads, measured on the wire: a counting TCP relay sits between headless Chromium and
// `lora-playground serve`, so every byte the server sends is counted (headers, compression and TLS included, the
// page's, the worker's and the offline copy's requests alike). For each way a classroom can serve the app, a first
// visit to the training page with the default model loaded, then a later visit (a reload in the same browser).
// A measurement, not a test: prints a Markdown table for the README.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/bandwidth.mjs
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI');
const LAN = Object.values(networkInterfaces()).flat().find((i) => i.family === 'IPv4' && !i.internal)?.address;

// A relay on `port` to the server on `target`, counting what flows back to the browser.
function relay(port, target) {
  const counter = { bytes: 0 };
  const server = createServer((client) => {
    const upstream = connect(target, '127.0.0.1');
    client.pipe(upstream);
    upstream.on('data', (d) => { counter.bytes += d.length; });
    upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end);
    upstream.on('error', end);
  }).listen(port, '0.0.0.0');
  return { counter, close: () => server.close() };
}

async function serve(args, port) {
  const p = spawn(CLI, ['serve', '--root', ROOT, '--host', '127.0.0.1', '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => p.stdout.once('data', r));
  return p;
}

// First and later visit of `url` in one fresh browser profile: bytes sent by the server for each.
async function visits(url, { tls = false } = {}) {
  const browser = await launchChromium();
  const page = await (await browser.newContext({ ignoreHTTPSErrors: tls })).newPage();
  const loaded = () => page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout: 300_000 });
  const out = [];
  for (const visit of ['first', 'later']) {
    const before = counter.bytes;
    if (visit === 'first') await page.goto(url); else await page.reload();
    await loaded();
    await page.waitForTimeout(1500); // the offline copy's own fetches after the page is up
    out.push({ visit, bytes: counter.bytes - before, secure: await page.evaluate(() => window.isSecureContext) });
  }
  await browser.close();
  return out;
}

let counter;
const rows = [];
const mib = (b) => (b / 2 ** 20).toFixed(1);
for (const [name, args, host, scheme, extra] of [
  // The float32 weights: what every first visit downloaded before the float16 copy (issue 15's "before").
  ['localhost, float32 weights (weights=float32)', [], '127.0.0.1', 'http', '&weights=float32'],
  ['localhost (http://127.0.0.1)', [], '127.0.0.1', 'http', ''],
  ['a classroom over plain http (this machine\u2019s LAN address)', [], LAN, 'http', ''],
  ['a classroom over https (serve --tls, certificate accepted)', ['--tls'], LAN, 'https', ''],
]) {
  const server = await serve(args, 8301);
  const r = relay(8302, 8301);
  counter = r.counter;
  const url = `${scheme}://${host}:8302/train.html#device=cpu${extra}`;
  for (const v of await visits(url, { tls: scheme === 'https' })) rows.push([name, v.visit, v.secure, v.bytes]);
  r.close();
  server.kill();
}
console.log('| served as | visit | secure context | bytes from the server |');
console.log('|---|---|---|---:|');
for (const [name, visit, secure, bytes] of rows) console.log(`| ${name} | ${visit} | ${secure ? 'yes' : 'no'} | ${mib(bytes)} MiB |`);
process.exit(0);
