// 1. Model: the tiny random BERT, a model the server has under models/ or one by Hub id (downloaded once with a
// progress bar, then from the browser cache), or a folder picked from disk; sent to the worker, which checks that
// its files fit together and keeps it.
import { bytes, grouped } from '../../format.js';
import { loadModelFiles, modelSource, readPickedFolder } from '../model-files.js';
import { showError } from '../view.js';
import { $ } from '../../dom.js';

export function startModelPanel({ store, client }) {
  const note = $('model-note');
  let source = ''; // where the loaded files came from, for the note

  function ready(summary) {
    store.set({ model: summary, job: false });
    note.textContent = `${summary.name}: ${summary.num_hidden_layers} layers, hidden ${summary.hidden_size}, ` +
      `${summary.num_attention_heads} heads, vocabulary ${grouped(summary.vocab_size)}. ${source}`;
  }

  // `files` now; `again()` gives them once more for a fresh worker after a trap (the cache, or the picked files).
  async function send(name, files, again) {
    let first = files;
    ready(await client.setup('model', 'load_model', async () => {
      const f = first ?? await again();
      first = null;
      const safetensors = f.safetensors.buffer;
      const tokenizer = f.tokenizer_json.buffer;
      return { args: { name, config_json: f.config_json, safetensors, tokenizer_json: tokenizer }, transfer: [safetensors, tokenizer] };
    }));
  }

  // "A model from the Hub...": the typed id becomes the select's choice, so the link carries `model=hf:ORG/NAME`.
  function typedHubId() {
    const typed = $('hub-id').value.trim();
    if (!typed) throw { field: 'model', message: 'type a Hub id (ORG/NAME, for example google-bert/bert-base-uncased), then Load' };
    const name = modelSource(/^(hf:|https:)/.test(typed) ? typed : `hf:${typed}`, $('hub').value).name;
    const select = $('model-choice');
    if (![...select.options].some((o) => o.value === name)) select.append(new Option(`${name} (Hugging Face Hub)`, name));
    select.value = name;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    return name;
  }

  function showHubRow() {
    const choice = $('model-choice').value;
    $('hub-row').hidden = !(choice === 'hub' || choice.startsWith('hf:')) || store.get().settings?.hide?.includes('hub');
    $('hub-id').closest('label').hidden = choice !== 'hub';
  }

  async function load() {
    showError('err-model', null);
    let choice = $('model-choice').value;
    if (choice === 'folder') {
      $('model-folder').click();
      return;
    }
    try {
      if (choice === 'hub') choice = typedHubId();
      if (choice === 'tiny') {
        note.textContent = 'loading the tiny model...';
        source = 'Random weights (std 0.2), made in the page: no download.';
        ready(await client.setup('model', 'load_tiny', async () => ({ args: { seed: 0 } })));
        return;
      }
      const from = modelSource(choice, $('hub').value, $('weights').value);
      const bar = $('download-bar');
      $('download').hidden = false;
      const files = await loadModelFiles(from, ({ file, loaded, total, cached }) => {
        bar.max = total || 1;
        bar.value = loaded;
        $('download-text').textContent = `${cached ? 'from the browser cache' : 'downloading'} ${file}: ` +
          `${bytes(loaded)} of ${bytes(total)} (${total ? ((100 * loaded) / total).toFixed(0) : 0}%)`;
      }, (config_json, weights) => client.call('check_model', { config_json, file_bytes: weights }));
      source = (from.hub ? `From ${from.hub}. ` : '') +
        (files.fromCache ? 'Loaded from the browser cache (no network needed).' : 'Downloaded, and cached for next time.') +
        weightsNote(files.float16, from);
      await send(from.repo ?? choice, files, () => loadModelFiles(from, () => {}));
      $('weights').dataset.loaded = files.float16 ? 'float16' : 'float32';
    } catch (e) {
      showError('err-model', e);
    }
  }

  $('model-load').addEventListener('click', load);
  // Another weights file is another download: load it at once (a served model only; the rest have one file).
  $('weights').addEventListener('change', () => { if (!['tiny', 'folder', 'hub'].includes($('model-choice').value)) load(); });
  $('model-choice').addEventListener('change', showHubRow);
  $('hub-id').addEventListener('keydown', (e) => { if (e.key === 'Enter') load(); });
  showHubRow();
  $('model-folder').addEventListener('change', async (e) => {
    showError('err-model', null);
    try {
      const picked = [...e.target.files];
      const files = await readPickedFolder(picked);
      await client.call('check_model', { config_json: files.config_json, file_bytes: files.safetensors.length });
      source = 'Read from your disk.';
      await send('local folder', files, () => readPickedFolder(picked));
    } catch (err) {
      showError('err-model', err);
    }
  });
  client.on('worker-error', (e) => showError('err-model', e));
  store.watch(['running'], ({ running }) => { $('model-load').disabled = running; });
  store.watch(['settings'], showHubRow); // a hash edited by hand re-applies hide=, which shows every row
  load();
}

// What the weights are: the float16 copy (its bytes, and the largest change rounding made, from its report), or
// float32, the reference.
function weightsNote(float16, from) {
  if (float16) {
    return ` Weights: the float16 copy, ${bytes(float16.bytes)} instead of ${bytes(float16.source_bytes)}, widened to ` +
      `float32 here; rounding changed no weight by more than ${float16.max_abs_change.toExponential(1)} ` +
      `(${grouped(float16.flushed_to_zero)} of ${grouped(float16.values)} tiny weights became 0). Float32 is the reference.`;
  }
  return from.float16 ? ' Weights: float32 (this server has no float16 copy).' : ' Weights: float32.';
}
