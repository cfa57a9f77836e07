// The first step on a GPU compiles the run's kernels (WGSL to the driver's code, pipelines, cubecl's autotuning):
// seconds that used to fall between Start and the first loss. On WebGPU the page takes them earlier: as soon as
// the device, the model and a dataset are in, it times two steps of the plan on a throwaway model (the run panel's
// "Time one step", which builds and drops its own model), so the kernels are compiled while the student reads the
// plan, and the step time is shown unasked. The CPU path compiles nothing at run time and is left alone: there a
// timing would only spend the student's CPU. Measured: docs/MEASUREMENTS.md, "The first step on WebGPU".
export function startWarmUp({ store, run }) {
  // The {device, model} last warmed: a new one of either warms again. Not a new dataset: the kernels are the
  // plan's shapes, not the texts' (a new label count changes only the small head).
  let warmed = null;

  async function maybeWarm({ device, model, data, running, plan }) {
    if (device?.backend !== 'webgpu' || !model || !data || running || !plan) return;
    if (warmed && warmed.device === device && warmed.model === model) return;
    warmed = { device, model };
    await run.timeStep(true);
  }

  store.watch(['device', 'model', 'data', 'plan'], (s) => { maybeWarm(s).catch(() => {}); });
  maybeWarm(store.get()).catch(() => {});
}
