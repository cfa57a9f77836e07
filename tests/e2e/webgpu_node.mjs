// The training page's trainer run without a browser (tools/webgpu/page_trainer.mjs): the shipped wasm and the
// page's worker code in Node, WebGPU from Dawn (npm `webgpu`) on Mesa 25's lavapipe (tools/lib.sh installs it from
// bookworm-backports). all-MiniLM-L6-v2, LoRA on the built-in complaints, 3 steps on Dawn's WebGPU (after the
// page's warm-up, which must compile the run's kernels) and 3 on the CPU path: the same losses (1e-4), a first loss
// and a step time, the adapter named; and 2 CPU workers (the page's helpers on Node's worker threads) give one
// worker's losses. This is the runner the GPU benchmark
// (tools/bench/gpu_bench.sh) uses on a real GPU. Then the language-model page's worker: a tiny Llama, the same check.
// Usage: node tests/e2e/webgpu_node.mjs MODEL_DIR
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { runPlanProcess } from '../../tools/webgpu/page_trainer.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODEL = process.argv[2] ?? join(ROOT, 'models', 'all-MiniLM-L6-v2');
const PLAN = JSON.stringify({ method: 'lora', epochs: 1, batch_size: 16, max_len: 32, seed: 0 });

function run(device, workers = 1, extra = []) {
  return runPlanProcess(['--device', device, '--model', MODEL, '--steps', '3', '--plan', PLAN, '--workers', String(workers), ...extra],
    { stderr: 'inherit', timeout: 600_000 });
}

// On WebGPU the page times two steps on a throwaway model as soon as the model and data are in (its warm-up,
// web/train/step-time.js): the run after it must be the same run.
const gpu = run('webgpu', 1, ['--warm-up']);
console.log(`webgpu (${gpu.adapter}): warm-up ${(gpu.warm_up.wall_ms / 1000).toFixed(1)} s (first step ${(gpu.warm_up.first_ms / 1000).toFixed(1)} s), then first loss ${(gpu.first_loss_ms / 1000).toFixed(1)} s after Start, then ${(gpu.step_ms / 1000).toFixed(2)} s a step; losses ${gpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
const cpu = run('cpu');
console.log(`cpu: first loss ${(cpu.first_loss_ms / 1000).toFixed(1)} s, then ${(cpu.step_ms / 1000).toFixed(2)} s a step; losses ${cpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
assert.match(gpu.adapter, /llvmpipe|Mesa|NVIDIA|AMD|Intel|Apple/i, 'a real adapter, named');
assert.equal(gpu.losses.length, 3);
assert.equal(cpu.losses.length, 3);
gpu.losses.forEach((l, i) => assert.ok(Math.abs(l - cpu.losses[i]) < 1e-4, `step ${i + 1}: webgpu ${l}, cpu ${cpu.losses[i]}`));
assert.ok(gpu.first_loss_ms > 0 && gpu.step_ms > 0);
assert.ok(gpu.warm_up.first_ms > 0 && gpu.warm_up.step_ms > 0, 'the warm-up timed its two steps');
// What the warm-up is for: the driver compiles the run's kernels then (pipelines created, counted on Dawn's own
// prototypes), so the run's first step creates few or none.
console.log(`webgpu: pipelines created by the warm-up ${gpu.warm_up.pipelines}, by the run's first step ${gpu.gpu.first_step.pipelines}; ${gpu.gpu.per_step.dispatches} dispatches a step`);
assert.ok(gpu.gpu.per_step.dispatches > 0, 'the steps ran on the GPU');
assert.ok(gpu.gpu.first_step.pipelines * 10 < gpu.warm_up.pipelines, 'the warm-up compiled the run\u2019s kernels');
assert.ok(gpu.adapter_limits.max_storage_buffer_binding_size >= 128 * 2 ** 20, 'the adapter offers WebGPU\u2019s default storage binding at least');
console.log('ok   the page\u2019s trainer in Node on Dawn: MiniLM LoRA losses equal the CPU path\u2019s');
// The page's CPU helpers on Node's worker threads (how tools/webgpu/workers_bench.mjs measures 1-16 workers).
const shared = run('cpu', 2);
console.log(`cpu, 2 workers: ${(shared.step_ms / 1000).toFixed(2)} s a step; losses ${shared.losses.map((l) => l.toFixed(5)).join(' ')}`);
assert.equal(shared.workers, 2, 'two workers shared each batch');
shared.losses.forEach((l, i) => assert.ok(Math.abs(l - cpu.losses[i]) < 1e-4, `step ${i + 1}: 2 workers ${l}, 1 worker ${cpu.losses[i]}`));
console.log('ok   two CPU workers on Node\u2019s threads give one worker\u2019s losses');

// The language-model page's worker (web/lm/worker.js) the same way: the tiny random Llama the page tests use,
// LoRA on a prompt/completion file, 3 steps on Dawn's WebGPU and on the CPU path.
function runLm(device) {
  const out = execFileSync('node', [join(ROOT, 'tools/webgpu/run_lm_plan.mjs'), '--device', device, '--model', join(ROOT, 'crate/tests/fixtures/decoder/llama'),
    '--data', join(ROOT, 'crate/tests/fixtures/decoder/lesson.jsonl'), '--steps', '3', '--plan', JSON.stringify({ r: 4, lora_alpha: 8, learning_rate: 0.03, per_device_train_batch_size: 2 })],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
  return JSON.parse(out.trim().split('\n').pop());
}
const lmGpu = runLm('webgpu');
const lmCpu = runLm('cpu');
console.log(`language model, webgpu: held-out loss before ${lmGpu.before.loss.toFixed(5)}, losses ${lmGpu.losses.map((l) => l.toFixed(5)).join(' ')}; cpu: ${lmCpu.before.loss.toFixed(5)}, ${lmCpu.losses.map((l) => l.toFixed(5)).join(' ')}`);
assert.ok(Math.abs(lmGpu.before.loss - lmCpu.before.loss) < 1e-4);
assert.equal(lmGpu.losses.length, 3);
lmGpu.losses.forEach((l, i) => assert.ok(Math.abs(l - lmCpu.losses[i]) < 1e-4, `LM step ${i + 1}: webgpu ${l}, cpu ${lmCpu.losses[i]}`));
console.log('ok   the language-model page\u2019s worker in Node on Dawn: a tiny Llama\u2019s LoRA losses equal the CPU path\u2019s');
