// 1. Device: WebGPU or burn's CPU backend, chosen by the `device` setting ('auto' takes WebGPU when the browser
// has it), with a note of what actually runs and why (no WebGPU here; the GPU was lost mid-run).
import { showError } from '../view.js';
import { autoWorkers, workersWanted } from '../helpers.js';
import { $ } from '../../dom.js';

async function webgpuAvailable() {
  try {
    return Boolean(navigator.gpu && await navigator.gpu.requestAdapter());
  } catch {
    return false;
  }
}

export function startDevicePanel({ store, client }) {
  const select = $('device');
  const note = $('device-note');
  let chosen = null; // the setting last acted on
  let why = null; // why the CPU runs although a GPU was asked for: 'no-webgpu' | 'device-lost' | null

  function show(info) {
    note.dataset.state = info.backend;
    if (why) note.dataset.fallback = why; else delete note.dataset.fallback;
    note.textContent = info.backend === 'webgpu'
      ? `WebGPU on ${info.adapter}`
      : `CPU: ${info.adapter}${why === 'no-webgpu' ? ' (this browser offers no WebGPU, so the CPU runs the model)' : ''}`;
  }

  async function choose(choice) {
    chosen = choice;
    showError('err-device', null);
    note.dataset.state = 'idle';
    note.textContent = 'starting...';
    const hasGpu = choice !== 'cpu' && await webgpuAvailable();
    const kind = choice === 'auto' ? (hasGpu ? 'webgpu' : 'cpu') : choice;
    why = choice !== 'cpu' && kind === 'cpu' ? 'no-webgpu' : null;
    let info;
    try {
      info = await client.setup('device', 'set_device', async () => ({ args: { kind } }));
    } catch (e) {
      if (kind !== 'webgpu') {
        note.textContent = '';
        showError('err-device', e);
        return;
      }
      // WebGPU refused (no adapter, or it failed to start): the CPU backend always works.
      why = 'no-webgpu';
      try {
        info = await client.setup('device', 'set_device', async () => ({ args: { kind: 'cpu' } }));
      } catch (err) {
        showError('err-device', err);
        return;
      }
    }
    if (choice !== chosen) return; // a newer choice is on its way
    // A new device drops the trained job (its tensors lived on the old one).
    store.set({ device: info, job: false });
    show(info);
  }

  // The GPU was lost mid-run and the trainer carried the run on on the CPU: say so, and the link says cpu now.
  client.on('tick', ({ fallback: f }) => {
    if (!f) return;
    chosen = 'cpu';
    why = 'device-lost';
    select.value = 'cpu';
    store.set({ device: { backend: f.backend, adapter: f.adapter }, settings: { ...store.get().settings, device: 'cpu' } });
    note.dataset.state = f.backend;
    note.dataset.fallback = why;
    note.textContent = `WebGPU failed (${f.reason}); the run carried on from step ${f.resumed_at} on the CPU: ${f.adapter}, ` +
      'with its trained tensors and AdamW\'s moments from the last snapshot.';
  });

  store.watch(['settings'], ({ settings }) => { if (settings.device !== chosen) choose(settings.device); });
  store.watch(['running'], ({ running }) => { select.disabled = running; $('workers').disabled = running; });
  startWorkersNote({ store, client });
  return { ready: choose(store.get().settings.device) };
}

// CPU workers: what the setting means here, and what the running run uses (the worker says: `workers` events).
function startWorkersNote({ store, client }) {
  const note = $('workers-note');
  const plan = () => {
    const n = workersWanted(store.get().settings.workers);
    note.dataset.workers = '';
    note.textContent = `${n} on the CPU path (this browser reports ${navigator.hardwareConcurrency || 1} cores; automatic ` +
      `takes ${autoWorkers()}): each computes the gradients of its share of a batch and only the trainable ` +
      'tensors\u2019 gradients are summed, which is cheap because PEFT trains few parameters. WebGPU, and runs ' +
      'that train over 2M parameters (full fine-tuning of a real model), use one; each worker holds the model, so ' +
      'a run uses no more than fit in half the memory this device reports.';
  };
  client.on('workers', ({ workers, starting, reason }) => {
    note.dataset.workers = workers;
    note.textContent = starting
      ? `starting ${workers - 1} helper worker${workers > 2 ? 's' : ''} (each loads the model)...`
      : `this run: ${workers} worker${workers > 1 ? 's share each batch' : ''}${reason ? ` (${reason})` : ''}`;
  });
  // What the last run used stays shown until the setting changes.
  let shown = null;
  store.watch(['settings'], ({ settings }) => { if (settings.workers !== shown) { shown = settings.workers; plan(); } });
  shown = store.get().settings.workers;
  plan();
}
