// 6. Adapters: keep trained models on the one loaded base and switch between them, download one as the folder
// PEFT loads, load a folder PEFT saved, and merge one into the weights with a check and a timing. The worker
// holds the adapters' tensors; this panel holds their list and which one classifies.
import { bytes } from '../../format.js';
import { renderAdapters, renderMemory, renderMergeCheck, renderPrediction, showError } from '../view.js';
import { $, h } from '../../dom.js';

export function startAdaptersPanel({ store, client }) {
  let adapters = []; // the worker's kept adapters, as it last listed them
  let chosen = -1; // the one that classifies
  let downloads = []; // object URLs of the download links shown, revoked when replaced

  // Keep and download act on the worker's last trained job, which a new model, dataset, device or run replaces.
  store.watch(['job', 'running'], ({ job, running }) => {
    $('keep-run').disabled = !job || running;
    $('download-run').disabled = !job || running;
  });
  // The notebook needs no run: the settings (checked), a model and data.
  store.watch(['plan', 'model', 'data', 'running'], ({ plan, model, data, running }) => {
    $('download-notebook').disabled = !plan || !model || !data || running;
  });

  // The worker forgot the adapters with a new base model: they belonged to the previous one.
  store.watch(['model'], () => {
    adapters = [];
    chosen = -1;
    draw();
    renderMemory($('adapter-memory'), { adapter_bytes: [] });
    $('adapter-prediction').replaceChildren();
  });

  function listed(summary) {
    const before = adapters.length;
    adapters = summary.adapters;
    // A new adapter becomes the chosen one; a removed one moves the choice to a neighbour.
    if (adapters.length > before) chosen = adapters.length - 1;
    chosen = Math.min(chosen, adapters.length - 1);
    draw();
    renderMemory($('adapter-memory'), summary.memory);
  }

  // Calls that change the list: their errors show under the buttons.
  async function change(type, args, transfer) {
    showError('err-adapters', null);
    try {
      listed(await client.call(type, args, transfer));
    } catch (e) {
      showError('err-adapters', e);
    }
  }

  function draw() {
    // The list and the choice, for the panel that looks inside an adapter.
    store.set({ kept: { adapters, chosen } });
    renderAdapters(document.querySelector('#adapters tbody'), adapters, chosen, (i) => {
      chosen = i;
      draw();
      // Switching is instant: classify the same text again with the newly chosen adapter.
      if ($('adapter-text').value.trim()) predict();
    }, (i) => change('remove_adapter', { index: i }));
  }

  function runName() {
    const { runs } = store.get();
    const r = runs.at(-1);
    if (!r) return 'trained model';
    return r.method === 'lora' ? `#${runs.length} lora r=${r.r} ${r.targets}` : `#${runs.length} ${r.method}`;
  }

  function showDownloads(files) {
    for (const url of downloads) URL.revokeObjectURL(url);
    downloads = files.map((f) => URL.createObjectURL(new Blob([f.bytes], { type: 'application/octet-stream' })));
    const links = files.map((f, i) =>
      h('a', { href: downloads[i], download: f.name, 'data-bytes': f.bytes.length }, `${f.name} (${bytes(f.bytes.length)})`));
    $('downloads').replaceChildren('Save these into one folder (run.ipynb and run.py: the same run as a Hugging Face PEFT notebook and script, with its data): ', ...links);
    links[0]?.focus();
  }

  // Files picked from a folder (webkitdirectory) or one by one: every file goes to the worker, which keeps the
  // ones it knows (adapter_config.json, adapter_model.safetensors, training.json, ...) by name.
  async function loadFiles(list) {
    const files = [...list];
    if (files.length === 0) return;
    // A folder's name when one was picked; files picked one by one carry no folder, so they are numbered.
    const name = files[0].webkitRelativePath?.split('/')[0] || `loaded adapter ${adapters.length + 1}`;
    const buffers = await Promise.all(files.map((f) => f.arrayBuffer()));
    await change('add_adapter', { name, names: files.map((f) => f.webkitRelativePath || f.name), buffers }, buffers);
  }

  async function predict() {
    showError('err-adapter-predict', null);
    if (chosen < 0) {
      showError('err-adapter-predict', { field: 'adapter', message: 'keep or load an adapter first' });
      return;
    }
    try {
      const { index, result, ms } = await client.call('predict_with_adapter', { index: chosen, text: $('adapter-text').value });
      renderPrediction($('adapter-prediction'), result);
      $('adapter-prediction').append(h('p', { class: 'hint', id: 'adapter-used', 'data-index': index },
        `with ${adapters[index]?.name ?? ''}, in ${ms.toFixed(0)} ms (the base model stays loaded; only the adapter changes)`));
    } catch (e) {
      showError('err-adapter-predict', e);
    }
  }

  async function mergeVerify() {
    showError('err-merge', null);
    if (chosen < 0) {
      showError('err-merge', { field: 'adapter', message: 'keep or load an adapter first' });
      return;
    }
    $('merge-verify').disabled = true;
    $('merge-result').textContent = 'merging, comparing and timing...';
    try {
      const result = await client.call('merge_verify', { index: chosen });
      renderMergeCheck($('merge-result'), adapters[result.index]?.name ?? '', result);
    } catch (e) {
      $('merge-result').textContent = '';
      showError('err-merge', e);
    } finally {
      $('merge-verify').disabled = false;
    }
  }

  $('keep-run').addEventListener('click', () => change('keep_job', { name: runName() }));
  $('download-run').addEventListener('click', async () => {
    showError('err-adapters', null);
    try {
      showDownloads(await client.call('export_job'));
    } catch (e) {
      showError('err-adapters', e);
    }
  });
  $('download-notebook').addEventListener('click', async () => {
    showError('err-adapters', null);
    try {
      showDownloads(await client.call('export_notebook', { plan: store.get().plan }));
    } catch (e) {
      showError('err-adapters', e);
    }
  });
  $('adapter-folder').addEventListener('change', (e) => { loadFiles(e.target.files); e.target.value = ''; });
  $('adapter-files').addEventListener('change', (e) => { loadFiles(e.target.files); e.target.value = ''; });
  $('adapter-predict').addEventListener('click', predict);
  $('adapter-text').addEventListener('keydown', (e) => { if (e.key === 'Enter') predict(); });
  $('merge-verify').addEventListener('click', mergeVerify);
}
