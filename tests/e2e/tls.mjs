// A classroom in a secure context: `serve --tls --host 0.0.0.0` reached at a non-localhost address
// (https://127.0.0.2:PORT/), its self-signed certificate accepted at the browser's warning as a student would: a
// secure context with a WebGPU adapter whose model comes from Cache Storage on a later visit; with the certificate
// trusted, the offline copy registers too and a reload with the network off trains from the cached model. The
// fingerprint the server printed is the certificate's. Over plain http at the same kind of address
// the page says what a student loses and why.
// Usage: LORA_PLAYGROUND_CLI=path/to/lora-playground node tests/e2e/tls.mjs
import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { launchChromium, runPageTests, serverOutput, trainerReady, trainOnce } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = process.env.LORA_PLAYGROUND_CLI;
if (!CLI) throw new Error('set LORA_PLAYGROUND_CLI to a lora-playground binary built with training');
const PORT = Number(process.env.E2E_PORT ?? 8192);
const HTTPS = `https://127.0.0.2:${PORT}/`;
// Every 127.x address is loopback, which browsers trust like localhost: plain http needs this machine's own
// network address to be what a classroom's is.
const LAN = Object.values(networkInterfaces()).flat().find((i) => i.family === 'IPv4' && !i.internal)?.address;
const HTTP = `http://${LAN}:${PORT + 1}/`;

// The tiny model as a folder the server holds, as a course's own model would be.
const TINY = join(ROOT, 'tests', 'artifacts', 'tiny-model');
execFileSync(CLI, ['tiny-model', '--out', TINY]);
const served = join(ROOT, 'models', 'tiny-e2e');
mkdirSync(served, { recursive: true });
for (const f of ['config.json', 'tokenizer.json', 'model.safetensors']) copyFileSync(join(TINY, f), join(served, f));
const RUN = '#model=tiny-e2e&device=cpu&data=complaints&epochs=1&batch=32&maxlen=16&lr=0.01';

const ready = (page) => trainerReady(page, 60_000);
const trains = trainOnce;

const tests = [
  ['https at a LAN-style address, the certificate accepted at the warning: secure context, WebGPU, the model cache', async (page) => {
    await page.goto(`${HTTPS}train.html${RUN}`);
    await ready(page);
    const state = await page.evaluate(async () => ({
      secure: window.isSecureContext,
      adapter: Boolean(await navigator.gpu?.requestAdapter()),
      insecureNote: !document.querySelector('#insecure').hidden,
    }));
    assert.deepEqual(state, { secure: true, adapter: true, insecureNote: false });
    assert.match(await page.locator('#model-note').textContent(), /Downloaded/);
    await trains(page);
    // A later visit takes the model from Cache Storage (a secure context's), not from the network.
    await page.reload();
    await ready(page);
    assert.match(await page.locator('#model-note').textContent(), /from the browser cache/);
    await trains(page);
  }],
  ['https with the certificate trusted: the offline copy registers, and a reload with the network off trains', async () => {
    // Chromium registers no service worker for an origin whose certificate it only let through at the warning:
    // the offline copy needs the certificate trusted (installed on the student's machine, or a school's own one
    // via --cert/--key). --ignore-certificate-errors stands in for a trusted certificate here.
    const browser = await launchChromium(['--ignore-certificate-errors']);
    try {
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
      await page.goto(`${HTTPS}train.html${RUN}`);
      await ready(page);
      assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.ready).scope), HTTPS);
      await page.context().setOffline(true);
      await page.reload();
      await ready(page);
      assert.match(await page.locator('#model-note').textContent(), /from the browser cache/);
      await trains(page);
    } finally {
      await browser.close();
    }
  }],
  ['the fingerprint the server printed is the certificate\u2019s, and it names this machine', async () => {
    const cert = new X509Certificate(readFileSync(join(ROOT, 'runs', 'tls', 'cert.pem')));
    const printed = serverOutput.find((l) => l.startsWith('certificate SHA-256: '));
    assert.ok(printed, serverOutput.join('\n'));
    assert.equal(printed.split(' ')[2], cert.fingerprint256);
    assert.match(cert.subjectAltName, /DNS:localhost/);
    assert.match(cert.subjectAltName, /IP Address:127\.0\.0\.1/);
  }],
  ['plain http at this machine\u2019s network address still works, and says what the student loses and why', async (page) => {
    assert.ok(LAN, 'this machine has a network address besides loopback');
    const plain = spawn(CLI, ['serve', '--root', ROOT, '--host', '0.0.0.0', '--port', String(PORT + 1)], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 500));
      await page.goto(`${HTTP}train.html${RUN}`);
      await ready(page);
      assert.equal(await page.evaluate(() => window.isSecureContext), false);
      assert.match(await page.locator('#insecure').textContent(), /only to https:\/\/ pages .* trains on the CPU and downloads the model again/s);
      await trains(page);
    } finally {
      plain.kill();
    }
  }],
];

runPageTests(tests.map(([name, fn]) => ({ name, fn })), {
  cli: CLI, root: ROOT, port: PORT, local: ['data:', 'blob:', HTTPS, HTTP],
  contextOptions: { ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } },
  server: [CLI, ['serve', '--tls', '--root', ROOT, '--host', '0.0.0.0', '--port', String(PORT)]],
});
