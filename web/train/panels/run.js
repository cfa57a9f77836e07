// 3. Train: the plan's controls checked live by the trainer (`check_plan`, the error beside the control its
// field names), what the plan costs for the loaded model (the calculator's engine, the same code as the
// calculator page), and the run: start, pause, stop, the progress bar and the loss and accuracy charts.
import initEngine, * as engine from '../../pkg/lora_playground.js';
import { bytes, clock, grouped } from '../../format.js';
import { accuracyChart, lossChart } from '../charts.js';
import { workersWanted } from '../helpers.js';
import { PROPS, keyForField, toPlan } from '../state.js';
import { startStepTime } from '../step-time.js';
import { setTargetBoxes, targetNames } from '../targets.js';
import { showError } from '../view.js';
import { $ } from '../../dom.js';

const METHOD_ROW = { lora: 'lora', full: 'full', head: 'head_only', bitfit: 'bitfit' };
// The plan's figures beside the controls (train.html's [data-live] cells the calculator fills).
const LIVE = ['trainable', 'all', 'optimizer', 'file', 'memory'];
const PLAN_KEYS = PROPS.filter((p) => p.field).map((p) => p.key);

// One plan error at a time, beside the control of the field it names (the general line when no control has it).
function showPlanError(e) {
  for (const key of PLAN_KEYS) {
    showError(`err-${key}`, null);
    document.querySelector(`[data-control="${key}"]`)?.classList.remove('invalid');
  }
  for (const el of document.querySelectorAll('#plan [aria-invalid]')) el.removeAttribute('aria-invalid');
  showError('err-plan', null);
  if (!e) return;
  const key = keyForField(e.field);
  if (!key) {
    showError('err-plan', e);
    return;
  }
  showError(`err-${key}`, e);
  const box = document.querySelector(`[data-control="${key}"]`);
  box.classList.add('invalid');
  for (const el of box.querySelectorAll('input, select')) el.setAttribute('aria-invalid', 'true');
}

export function startRunPanel({ store, client }) {
  const loss = lossChart($('loss-chart'));
  const acc = accuracyChart($('acc-chart'));
  const text = $('train-text');
  let engineReady = false; // the calculator's wasm, for the live figures
  let computeFailed = false; // the calculator refused the plan for this model: its message is showing
  let checks = 0; // check_plan calls made: only the latest one's answer counts
  let planKey = null;
  let run = null; // the run in progress: its plan, curves and figures
  let paused = false;
  let settle = null; // resolves the promise `start` returned, with the run's record

  // ---- the plan, checked live ----------------------------------------------------------------------------

  async function check() {
    const fields = toPlan(store.get().settings);
    const key = JSON.stringify(fields);
    if (key === planKey) return;
    planKey = key;
    // A plan checked for other settings describes nothing now: dropped at once, with the figures drawn from it, so
    // nothing (a reader, the Start button, a test) sees the old figures beside the new settings.
    if (store.get().plan) store.set({ plan: null });
    const n = ++checks;
    let plan = null;
    let error = null;
    try {
      plan = await client.call('check_plan', { plan: fields });
    } catch (e) {
      error = e;
    }
    if (n !== checks) return;
    showPlanError(error);
    store.set({ plan });
  }

  // What the calculator says a checked plan costs for the loaded model and dataset: {row, report}. Throws what
  // only the model can refuse (a layer it does not have).
  function figuresFor(plan) {
    const { model, data } = store.get();
    const all = plan.target_modules?.length === 1 && plan.target_modules[0] === 'all-linear';
    const report = engine.compute({
      config_json: model.config_json,
      num_labels: data.labels.length,
      // QLoRA's base: NF4 linear layers, float32 the rest and the arithmetic (the trainer's check counts the same).
      precision: plan.base === 'nf4' ? 'nf4-fp32' : 'fp32',
      batch: { batch_size: Number(plan.batch_size), seq_len: Number(plan.max_len) },
      lora: {
        r: plan.r, lora_alpha: plan.lora_alpha, use_rslora: plan.use_rslora, bias: plan.bias,
        layers_to_transform: plan.layers_to_transform, target_modules: all ? 'all-linear' : plan.target_modules,
      },
    });
    const row = report.methods.find((m) => m.method === METHOD_ROW[plan.method]);
    return {
      report,
      memory: row.memory,
      calc: { trainable: row.trainable, all: row.all, optimizer: row.memory.optimizer_state, file: row.checkpoint_bytes },
    };
  }

  // A started run's figures, kept in its record; null before the calculator loads or for what it refuses (the
  // refusal is shown beside the controls already).
  function runFigures(plan) {
    try { return engineReady ? figuresFor(plan).calc : null; } catch { return null; }
  }

  // The plan's figures beside the controls, and its learning rate where the control is blank (the method's usual).
  function updateFigures() {
    const { model, data, plan, settings } = store.get();
    $('plan').dataset.method = plan?.method ?? settings.method;
    if (plan) $('lr').placeholder = `${plan.lr} (usual for ${plan.method})`;
    if (!model || !data || !plan || !engineReady) {
      // Figures shown only for the plan they describe: until then none (a reader waits on data-value).
      for (const k of LIVE) {
        const td = document.querySelector(`[data-live=${k}]`);
        td.textContent = '\u2026';
        delete td.dataset.value;
      }
      return;
    }
    try {
      const { report, memory: m, calc: c } = figuresFor(plan);
      $('scaling').textContent = `${report.scaling} (lora_alpha / ${plan.use_rslora ? '\u221ar' : 'r'})`;
      const fileName = { lora: 'adapter_model.safetensors', full: 'model.safetensors' }[plan.method] ?? 'trained tensors';
      const cells = {
        trainable: [`${grouped(c.trainable)} (${((100 * c.trainable) / c.all).toFixed(3)}%)`, c.trainable],
        all: [grouped(c.all), c.all],
        optimizer: [bytes(c.optimizer), c.optimizer],
        file: [`${bytes(c.file)} (${fileName})`, c.file],
        // The calculator's training memory at this batch and length (what the trainer checks against the tab).
        memory: [`${bytes(m.total)} (weights ${bytes(m.frozen_weights + m.trainable_weights)}, gradients ${bytes(m.gradients)}, ` +
          `AdamW ${bytes(m.optimizer_state)}, activations ${bytes(m.activations)} for ${plan.batch_size} x ${plan.max_len} tokens)`, m.total],
      };
      for (const [k, [shown, value]] of Object.entries(cells)) {
        const td = document.querySelector(`[data-live=${k}]`);
        td.textContent = shown;
        td.dataset.value = value;
      }
      if (computeFailed) showPlanError(null);
      computeFailed = false;
    } catch (e) {
      // Something only the model can refuse (a layer it does not have): beside that control too.
      computeFailed = true;
      showPlanError(e);
    }
  }

  // ---- a step timed before the run (and on WebGPU, by the page itself: web/train/step-time.js) -------------

  startStepTime({ store, client, showPlanError });

  // ---- the run -------------------------------------------------------------------------------------------

  function setRunning(running) {
    $('start').disabled = running;
    $('pause').disabled = !running;
    $('stop').disabled = !running;
    $('time-step').disabled = running;
    $('pause').textContent = 'Pause';
    for (const el of document.querySelectorAll('#plan input, #plan select')) el.disabled = running;
    // all-linear stands for every target: the named boxes stay off while it is ticked.
    if (!running) for (const box of document.querySelectorAll('input[name=target]')) box.disabled = $('all-linear').checked;
    store.set({ running });
  }

  const valAt = (r) => r.steps.map((x) => { const i = r.valSteps.indexOf(x); return i < 0 ? null : r.valLosses[i]; });

  // Starts a run of `fields` (the controls' plan unless given; `tag` names an experiment's run, {experiment,
  // name}); resolves with its history record when it ends (null if it never started or ran no step).
  async function start(fields = toPlan(store.get().settings), tag = null) {
    showPlanError(null);
    const { model, data, device } = store.get();
    if (!model || !data) {
      showPlanError({ field: 'start', message: 'load a model and a dataset first' });
      return null;
    }
    paused = false;
    const ended = new Promise((resolve) => { settle = resolve; });
    run = {
      plan: null, info: null, calc: null, tag, device: device?.backend ?? '?', started: performance.now(), evaluation: null,
      steps: [], losses: [], valSteps: [], valLosses: [], epochs: [], accs: [], stepsPerS: null, wasmBytes: null,
    };
    loss.update([], [], []);
    acc.update([], []);
    text.textContent = 'preparing the model...';
    store.set({ job: false });
    setRunning(true);
    try {
      const workers = workersWanted(store.get().settings.workers);
      const { plan, info } = await client.call('start', { plan: fields, workers });
      Object.assign(run, { plan, info, calc: runFigures(plan) });
      $('train-bar').max = Math.max(info.total_steps, 1);
      $('train-bar').value = 0;
      text.textContent = `${info.train_examples} training / ${info.val_examples} validation examples; ` +
        `${grouped(info.trainable)} trainable of ${grouped(info.total)} parameters` +
        (info.truncated ? `; ${info.truncated} texts cut at max length` : '');
    } catch (e) {
      run = null;
      settle = null;
      setRunning(false);
      text.textContent = 'not started';
      showPlanError(e);
      return null;
    }
    return ended;
  }

  function progress(t) {
    const { step: s, steps_per_s: sps, examples_per_s: eps } = t;
    const r = run;
    r.steps.push(s.global_step);
    r.losses.push(s.loss);
    r.stepsPerS = sps;
    if (t.wasm_bytes) r.wasmBytes = Math.max(r.wasmBytes ?? 0, t.wasm_bytes);
    $('train-bar').max = s.total_steps;
    $('train-bar').value = s.global_step;
    const eta = (s.total_steps - s.global_step) / sps;
    text.dataset.step = s.global_step;
    if (t.wasm_bytes) text.dataset.wasmBytes = t.wasm_bytes;
    text.dataset.loss = s.loss;
    text.dataset.workers = t.workers ?? 1;
    text.textContent = `step ${s.global_step}/${s.total_steps} \u00b7 epoch ${s.epoch}/${r.plan.epochs} \u00b7 loss ${s.loss.toFixed(4)} \u00b7 ` +
      `${sps.toFixed(2)} steps/s \u00b7 ${eps.toFixed(1)} examples/s${t.workers > 1 ? ` on ${t.workers} workers` : ''} \u00b7 ETA ${clock(eta)}`;
    loss.update(r.steps, r.losses, valAt(r));
  }

  function evaluated(evaluation) {
    const r = run;
    r.valSteps.push(r.steps.at(-1));
    r.valLosses.push(evaluation.val_loss);
    r.epochs.push(evaluation.epoch);
    r.accs.push(evaluation.accuracy);
    r.evaluation = evaluation;
    acc.update(r.epochs, r.accs);
    loss.update(r.steps, r.losses, valAt(r));
  }

  function finish(finished) {
    const r = run;
    const done = settle;
    run = null;
    settle = null;
    paused = false;
    setRunning(false);
    if (!r || r.steps.length === 0) { // nothing ran: nothing to keep
      done?.(null);
      return;
    }
    const p = r.plan;
    const record = {
      ...(r.tag ?? {}), method: p.method, base: p.base, r: p.r, alpha: p.lora_alpha, targets: (p.target_modules ?? []).join(','), lr: p.lr,
      trainable: r.info.trainable, total: r.info.total, optimizer_bytes: r.calc?.optimizer ?? 0, file_bytes: r.calc?.file ?? 0,
      device: r.device, seconds: (performance.now() - r.started) / 1000, accuracy: r.evaluation?.accuracy ?? null,
      macro_f1: r.evaluation?.macro_f1 ?? null, finished, losses: r.losses, steps: r.steps, val_losses: r.valLosses,
      seconds_per_step: r.stepsPerS ? 1 / r.stepsPerS : null, wasm_bytes: r.wasmBytes,
    };
    store.set({ runs: [...store.get().runs, record], job: true });
    text.textContent += finished ? ' \u00b7 done' : ' \u00b7 stopped';
    done?.(record);
  }

  // A run carried on from a snapshot (web/train/recovery.js): `reply` is the worker's {plan, info, step}; the
  // curves so far (this run's, or a saved run's) are kept up to that step, since the steps after it are done again.
  function adopt({ plan, info, step }, curves = run) {
    const upTo = (xs, steps) => xs.slice(0, steps.filter((s) => s <= step).length);
    const c = curves ?? { steps: [], losses: [], valSteps: [], valLosses: [], epochs: [], accs: [] };
    run = {
      plan, info, calc: runFigures(plan), tag: c.tag ?? null, stepsPerS: null, wasmBytes: null,
      device: store.get().device?.backend ?? '?', started: performance.now(), evaluation: null,
      steps: upTo(c.steps, c.steps), losses: upTo(c.losses, c.steps), valSteps: upTo(c.valSteps, c.valSteps),
      valLosses: upTo(c.valLosses, c.valSteps), epochs: upTo(c.epochs, c.valSteps), accs: upTo(c.accs, c.valSteps),
    };
    paused = false;
    setRunning(true);
    $('train-bar').max = Math.max(info.total_steps, 1);
    $('train-bar').value = step;
    text.textContent = `carried on from step ${step}/${info.total_steps}`;
    loss.update(run.steps, run.losses, valAt(run));
    acc.update(run.epochs, run.accs);
  }

  client.on('tick', (t) => {
    if (!run) return;
    if (t.fallback) run.device = 'webgpu, then cpu';
    if (t.step) progress(t);
    if (t.evaluation) evaluated(t.evaluation);
  });
  client.on('paused', () => { if (run) text.textContent += ' \u00b7 paused'; });
  client.on('done', () => finish(true));
  client.on('stopped', () => finish(false));
  client.on('failed', (e) => {
    finish(false);
    showPlanError(e);
  });

  $('start').addEventListener('click', () => start());
  // Pausing is this panel's state; the button only shows it.
  $('pause').addEventListener('click', () => {
    paused = !paused;
    client.call(paused ? 'pause' : 'unpause');
    $('pause').textContent = paused ? 'Resume' : 'Pause';
  });
  $('stop').addEventListener('click', () => client.call('stop'));

  store.watch(['settings'], check);
  store.watch(['model', 'data', 'plan'], updateFigures);
  store.watch(['model'], ({ model }) => { if (model) $('max-len').max = model.max_position_embeddings; });
  // The target boxes name the loaded model's own layers (the calculator's list for its config.json).
  let targetsFor = null;
  function showTargets() {
    const { model } = store.get();
    if (!engineReady || !model || model.config_json === targetsFor) return;
    targetsFor = model.config_json;
    try {
      setTargetBoxes(targetNames(engine.describe({ config_json: model.config_json, num_labels: 2 }).target_choices));
      $('targets').dataset.model = model.name;
    } catch (e) {
      showPlanError(e);
    }
  }
  store.watch(['model'], showTargets);
  initEngine().then(() => { engineReady = true; showTargets(); updateFigures(); });
  check();
  return {
    lossChart: loss,
    accChart: acc,
    adopt,
    // Runs `fields` and resolves with its record when it ends (the Experiment panel's runs, one after another).
    start,
    stop: () => client.call('stop'),
    // The run in progress (plan, info and curves), or null.
    current: () => run,
  };
}
