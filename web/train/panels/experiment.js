// 7. Experiment: the lesson's experiments in one click. What varies (ranks, methods, target sets) over the plan
// in the Train panel, everything else fixed; the trainer lists the runs (`experiment_runs`, the CLI's `sweep`
// lists the same) and they train one after another in the worker through the Train panel, so each is also a row
// of the run history. Shown: one bar for the whole experiment (the Train panel's bar is the current run's), the
// table tutorials print, the loss curves overlaid and accuracy against trainable parameters (log x) with its
// Pareto front; exports: CSV, Markdown, a PNG of each chart, and the link that sets the experiment up again.
import { chartPng, overlayChart, paretoChart } from '../charts.js';
import { COLUMNS, cells, pareto, toCsv, toMarkdown } from '../experiment-table.js';
import { toPlan } from '../state.js';
import { showError } from '../view.js';
import { $, h } from '../../dom.js';

const METHODS = ['lora', 'full', 'head', 'bitfit'];

// The settings' experiment rows as the trainer's grid: {methods, ranks, target_sets, fixed_alpha}.
export function gridOf(settings) {
  const methods = METHODS.filter((m) => settings[`x${m}`] === '1').join(',');
  return { methods, ranks: settings.xranks, target_sets: settings.xtargets, fixed_alpha: settings.xalpha === '1' };
}

function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function startExperimentPanel({ store, client, run }) {
  let queued = []; // [{name, plan}] for the settings as they are
  let current = null; // the experiment shown: {id, total, stopped}
  let listing = 0; // experiment_runs calls made: only the latest answer counts
  const charts = { loss: null, pareto: null };

  // The runs these settings make, with each one's learning rate (the method's usual unless the plan sets one).
  async function list() {
    const { settings } = store.get();
    const n = ++listing;
    let runs = [];
    let error = null;
    try {
      runs = await client.call('experiment_runs', { plan: toPlan(settings), grid: gridOf(settings) });
    } catch (e) {
      error = e;
    }
    if (n !== listing) return;
    queued = runs;
    showError('err-experiment', error);
    const lrs = [...new Map(runs.map((r) => [r.plan.method, r.plan.lr])).entries()].map(([m, lr]) => `${m} ${lr}`);
    $('x-queue').textContent = error ? '' : `${runs.length} run${runs.length === 1 ? '' : 's'}: ${runs.map((r) => r.name).join(', ')}` +
      ` \u00b7 learning rate ${lrs.join(', ')}${settings.lr ? ' (the plan\u2019s, for every run)' : ' (each method\u2019s usual: a fair comparison)'}`;
    setButtons();
  }

  function setButtons() {
    const { running, model, data } = store.get();
    $('x-run').disabled = running || !queued.length || !model || !data;
    $('x-stop').disabled = !(current && !current.done);
    for (const el of document.querySelectorAll('#experiment-form input')) el.disabled = Boolean(current && !current.done);
  }

  async function runAll() {
    const runs = queued;
    current = { id: Date.now(), total: runs.length, done: false, stopped: false };
    $('x-bar').max = runs.length;
    $('x-bar').value = 0;
    setButtons();
    for (const [i, { name, plan }] of runs.entries()) {
      if (current.stopped) break;
      $('x-text').textContent = `run ${i + 1} of ${runs.length}: ${name}`;
      const record = await run.start(plan, { experiment: current.id, name });
      $('x-bar').value = i + 1;
      if (!record || !record.finished) current.stopped = true;
    }
    const n = rows().length;
    $('x-text').textContent = current.stopped ? `stopped after ${n} of ${runs.length} runs` : `done: ${n} runs`;
    current.done = true;
    setButtons();
  }

  const rows = () => (current ? store.get().runs.filter((r) => r.experiment === current.id) : []);

  function draw() {
    const records = rows();
    $('x-results').hidden = records.length === 0;
    if (!records.length) return;
    const head = h('tr', {}, ...COLUMNS.map(([name]) => h('th', { scope: 'col' }, name)));
    const body = records.map((r) => h('tr', { 'data-run': r.name }, ...cells(r).map((c, i) => h('td', { 'data-col': COLUMNS[i][0] }, c))));
    $('x-table').replaceChildren(h('thead', {}, head), h('tbody', {}, ...body));
    charts.loss = overlayChart($('x-loss-chart'), records.map((r) => ({ label: r.name, losses: r.losses })));
    const points = records.map((r) => ({ label: r.name, method: r.method, params: r.trainable, accuracy: r.accuracy }));
    charts.pareto = paretoChart($('x-pareto-chart'), points, pareto(points));
  }

  $('x-run').addEventListener('click', runAll);
  $('x-stop').addEventListener('click', () => {
    if (!current) return;
    current.stopped = true;
    run.stop();
  });
  $('x-csv').addEventListener('click', () => download('experiment.csv', new Blob([toCsv(rows())], { type: 'text/csv' })));
  $('x-md').addEventListener('click', () => download('experiment.md', new Blob([toMarkdown(rows())], { type: 'text/markdown' })));
  $('x-loss-png').addEventListener('click', async () => download('experiment-loss.png', await chartPng(charts.loss, 'Training loss per run')));
  $('x-pareto-png').addEventListener('click', async () => download('experiment-accuracy-vs-params.png', await chartPng(charts.pareto, 'Validation accuracy against trainable parameters')));
  // The page's link holds the whole setup, the experiment's settings included (they are rows of state.js's table).
  $('x-link').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      $('x-link-note').textContent = 'link copied';
    } catch {
      $('x-link-note').textContent = location.href;
    }
  });

  store.watch(['settings'], list);
  store.watch(['running', 'model', 'data'], setButtons);
  store.watch(['runs'], draw);
  list();
}
