// The page's WebGPU path timed in headless Chromium (issue 15's GPU benchmark; tools/bench/gpu_bench.sh runs it beside
// the native and PyTorch figures): MiniLM LoRA r=8 (query, value) on the complaints dataset, the first step apart
// (it compiles every WGSL kernel for the driver), then steps/s over STEPS steps. Prints one JSON object, with the
// adapter Chromium's WebGPU ran on: a figure from SwiftShader (Chromium's CPU fallback) is not a GPU's.
// Usage: a server on LP_URL (default http://127.0.0.1:8080/, tools/serve.sh or `lora-playground serve`), then
//   node tools/bench/page_gpu_bench.mjs [--model all-MiniLM-L6-v2|tiny] [--steps 20] [--batch 16] [--maxlen 64]
//   CHROMIUM_FLAGS: extra flags for the GPU (default: Vulkan, as Linux needs for a real GPU headless).
// Asserts nothing about speed; fails if the page did not run on WebGPU.
import { launchChromium } from '../../tests/e2e/harness.mjs';

const BASE = process.env.LP_URL ?? 'http://127.0.0.1:8080/';
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const MODEL = opt('--model', 'all-MiniLM-L6-v2');
const STEPS = Number(opt('--steps', 20));
const BATCH = Number(opt('--batch', 16));
const MAXLEN = Number(opt('--maxlen', 64));
const FLAGS = (process.env.CHROMIUM_FLAGS ?? '--enable-features=Vulkan --use-vulkan=native --use-angle=vulkan --ignore-gpu-blocklist')
  .split(' ').filter(Boolean);

const browser = await launchChromium(FLAGS);
const page = await browser.newPage();
const timeout = 3_600_000;
try {
  // Float32 weights: the figure is the training step's, not the download's.
  const hash = `#model=${MODEL}&weights=float32&device=webgpu&data=complaints&method=lora&r=8&alpha=16&targets=query,value` +
    `&lr=0.001&epochs=100&batch=${BATCH}&maxlen=${MAXLEN}&seed=0`;
  await page.goto(`${BASE}train.html${hash}`);
  await page.waitForFunction(() => document.querySelector('#model-note').textContent.includes('layers'), null, { timeout });
  await page.waitForFunction(() => !['idle', undefined].includes(document.querySelector('#device-note').dataset.state), null, { timeout });
  await page.waitForSelector('#data-count', { timeout });
  const note = await page.locator('#device-note').textContent();
  if (!note.startsWith('WebGPU on ')) throw new Error(`the page is not on WebGPU: "${note}" (CHROMIUM_FLAGS?)`);
  const t0 = performance.now();
  await page.click('#start');
  const stepAt = (n) => page.waitForFunction((k) => Number(document.querySelector('#train-text').dataset.step) >= k, n, { timeout });
  await stepAt(1);
  const t1 = performance.now();
  await stepAt(1 + STEPS);
  const t2 = performance.now();
  const loss = await page.evaluate(() => Number(document.querySelector('#train-text').dataset.loss));
  await page.click('#stop');
  console.log(JSON.stringify({
    page: 'webgpu', model: MODEL, adapter: note.slice('WebGPU on '.length), batch_size: BATCH, seq_len: MAXLEN, steps: STEPS,
    first_step_ms: t1 - t0, ms_per_step: (t2 - t1) / STEPS, steps_per_s: (STEPS * 1000) / (t2 - t1), loss,
  }));
} finally {
  await browser.close();
}
