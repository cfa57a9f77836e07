// The trainer's wasm in Node with all-MiniLM-L6-v2 loaded on the CPU path, as the page's worker holds it: what
// tools/bench/wasm_build_bench.mjs and tools/bench/share_overhead.mjs start from (needs models/all-MiniLM-L6-v2).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
const MODEL = `${ROOT}/models/all-MiniLM-L6-v2/`;

// The wasm-bindgen output in `pkg` (default web/pkg-train), initialised: its `Trainer` class.
export async function trainerClass(pkg = `${ROOT}/web/pkg-train`) {
  const m = await import(`${pkg}/lora_playground.js`);
  await m.default({ module_or_path: readFileSync(`${pkg}/lora_playground_bg.wasm`) });
  return m.Trainer;
}

// A new trainer of class `Trainer` on the CPU with MiniLM loaded.
export async function withMiniLM(Trainer) {
  const t = new Trainer();
  await t.set_device('cpu');
  t.load_model('all-MiniLM-L6-v2', readFileSync(`${MODEL}config.json`, 'utf8'), readFileSync(`${MODEL}model.safetensors`),
    readFileSync(`${MODEL}tokenizer.json`));
  return t;
}
