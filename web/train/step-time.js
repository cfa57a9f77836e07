// "How long will a step take here?", answered before the run by taking two (the run panel's *Time one step*; the
// worker's `time_step` builds the plan's model beside whatever the page holds, steps it and drops it): the second
// step is the run's pace, the first also sets up and, on a GPU, compiles the kernels the run will use. A new plan,
// model or device makes the figure stale.
//
// On WebGPU the page takes this timing by itself as soon as the device, the model and a dataset are in: the first
// step's kernel compilation (the driver's, cubecl's WGSL generation and autotuning) then happens while the student
// reads the plan instead of between Start and the first loss (docs/MEASUREMENTS.md, "The first step on WebGPU").
// The CPU path compiles nothing at run time, so there the page times nothing unasked: it would only spend the CPU.
import { bytes, clock, grouped } from '../format.js';
import { toPlan } from './state.js';
import { $ } from '../dom.js';

export function startStepTime({ store, client, showPlanError }) {
  const out = $('step-time');

  function clear(text = '') {
    out.textContent = text;
    for (const k of ['ms', 'firstMs', 'wasmBytes', 'plan']) delete out.dataset[k];
  }

  // `auto`: the page's own timing on WebGPU (below); a plan it refuses is left for Start to say.
  async function timeStep(auto = false) {
    const fields = toPlan(store.get().settings);
    clear(auto ? 'timing two steps, which also compiles the GPU\u2019s kernels before Start...' : 'timing two steps...');
    $('time-step').disabled = true;
    try {
      const t = await client.call('time_step', { plan: fields });
      const seconds = t.step_ms * t.total_steps / 1000;
      out.textContent = `${(t.step_ms / 1000).toFixed(2)} s a step (the first, setting up: ${(t.first_ms / 1000).toFixed(2)} s), ` +
        `so the run's ${grouped(t.total_steps)} steps about ${clock(seconds)} without its evaluations; ` +
        `the trainer's memory at its peak so far: ${bytes(t.wasm_bytes)}`;
      if (auto) out.textContent += ' (timed as the model and data came in: the run\u2019s GPU kernels are compiled already)';
      out.dataset.ms = String(t.step_ms);
      out.dataset.firstMs = String(t.first_ms);
      out.dataset.wasmBytes = String(t.wasm_bytes);
      out.dataset.plan = JSON.stringify(fields);
    } catch (e) {
      clear();
      if (!auto) showPlanError(e);
    } finally {
      $('time-step').disabled = store.get().running;
    }
  }

  // A timing belongs to the plan, the model and the device it was taken with.
  store.watch(['settings', 'model', 'device'], (state, changed) => {
    const { plan } = out.dataset;
    if (plan && (plan !== JSON.stringify(toPlan(state.settings)) || changed.includes('model') || changed.includes('device'))) clear();
  });
  $('time-step').addEventListener('click', () => timeStep());

  // The WebGPU warm-up: once per device and model (a new dataset changes the texts, not the kernels, but for the
  // small head's label count), after the plan is checked, never during a run.
  let warmed = null;
  store.watch(['device', 'model', 'data', 'plan'], ({ device, model, data, running, plan }) => {
    if (device?.backend !== 'webgpu' || !model || !data || running || !plan) return;
    if (warmed && warmed.device === device && warmed.model === model) return;
    warmed = { device, model };
    timeStep(true);
  });
}
