// The training page: starts the worker (web/train/worker.js, the trainer wasm) and the panels, and wires them to
// one small store. The settings come from the URL hash over the trainer's defaults (web/train/state.js); each
// panel (web/train/panels/) owns its part of the page and talks to the worker through the client.
import { connect } from './client.js';
import { workerUrl } from './helpers.js';
import { createStore } from './store.js';
import { applyHide, bindSettings, defaultSettings, fillControls, parseHash, readControls } from './state.js';
import { showError } from './view.js';
import { startDevicePanel } from './panels/device.js';
import { startModelPanel } from './panels/model.js';
import { startDataPanel } from './panels/data.js';
import { startRunPanel } from './panels/run.js';
import { startResultsPanel } from './panels/results.js';
import { startHistoryPanel } from './panels/history.js';
import { startAdaptersPanel } from './panels/adapters.js';
import { startInsidePanel } from './panels/inside.js';
import { startExperimentPanel } from './panels/experiment.js';
import { startRecovery } from './recovery.js';
import { untilTrainerBuilt } from './building.js';
import { calculatorLink } from '../links.js';

// Keep an offline copy of the app (sw.js); browsers allow it on https and on localhost.
if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register(new URL('../../sw.js', import.meta.url), { scope: new URL('../../', import.meta.url).pathname }).catch(() => {});
}

// Plain http from another machine: say what the student loses there, and why.
document.getElementById('insecure').hidden = window.isSecureContext;

// On a machine still building the trainer (tools/serve.sh serves the calculator first: burn takes 30-45 minutes to
// compile the first time), say so and start by ourselves once it lands.
await untilTrainerBuilt(document.getElementById('building'));
const client = connect(() => new Worker(workerUrl(), { type: 'module' }));

// The plan's defaults are the trainer's (the CLI's too); a link only says what differs from them.
let planDefaults = null;
try {
  planDefaults = await client.call('default_plan');
} catch (e) {
  showError('err-model', e);
}
const defaults = defaultSettings(planDefaults, readControls());
const fromLink = parseHash(location.hash, defaults);
fillControls(fromLink);
applyHide(fromLink.hide);

const store = createStore({
  settings: { ...readControls(), hide: fromLink.hide }, // the table's values, as the hash writes them
  plan: null, // the settings checked by the trainer, with its defaults filled in; null while they are invalid
  device: null, // {backend, adapter}
  model: null, // the loaded model's summary (with its config_json)
  data: null, // the loaded dataset's summary
  running: false,
  job: false, // the worker holds a trained job to keep or download
  dataFile: null, // the loaded dataset's {name, bytes}: a saved run keeps it
  runs: [], // finished runs, oldest first
  kept: { adapters: [], chosen: -1 }, // the worker's kept adapters and the one chosen
});
bindSettings(store, defaults);
// "Open this setup in the calculator": the same LoRA settings, model and number of classes.
const linkBack = ({ settings, model, data }) => {
  document.getElementById('open-calculator').href = calculatorLink(settings, model, data);
};
store.watch(['settings', 'model', 'data'], linkBack);
linkBack(store.get());

const panels = { store, client };
startDevicePanel(panels);
startModelPanel(panels);
const data = startDataPanel(panels);
const run = startRunPanel(panels);
startResultsPanel(panels);
startHistoryPanel(panels);
startAdaptersPanel(panels);
startInsidePanel(panels);
startExperimentPanel({ ...panels, run });
const recovery = startRecovery({ ...panels, run, data });

// Read-only handles for the end-to-end tests (tests/e2e/train.mjs) and for the curious in the console.
window.lpTrain = {
  get runs() { return store.get().runs; },
  lossChart: run.lossChart,
  accChart: run.accChart,
  simulateDeviceLoss: () => client.call('simulate_device_loss'),
  // A trap at that step, for the recovery tests (tests/e2e/recovery.mjs).
  panicAtStep: recovery.panicAtStep,
  // A trap in the helper workers at their n-th share (tests/e2e/workers.mjs).
  panicHelpersAt: (share) => client.call('panic_helpers_at', { share }),
  store,
};
