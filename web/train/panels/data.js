// 2. Data: a built-in dataset, a dropped or chosen file, or pasted rows, parsed by the trainer with the CLI's
// rules; the classes with the trainer's own stratified split for the plan's val_fraction and seed, the rows it
// skipped by line, and the tokenizer's view of a sentence at the plan's max length.
import { renderDataset, renderTokens, showError } from '../view.js';
import { $ } from '../../dom.js';

export function startDataPanel({ store, client }) {
  let summary = null; // the loaded dataset's summary
  let split = null; // {train, val} per class, for `splitKey`
  let splitKey = null;
  let loads = 0; // datasets loaded so far: a split belongs to one of them
  let typed = false; // the preview follows the data until someone types their own sentence
  let previews = 0;

  const render = () => renderDataset($('data-summary'), $('data-problems'), summary, split);

  async function load(name, data) {
    showError('err-data', null);
    try {
      // A copy stays here: a fresh worker after a trap gets the dataset again, and a saved run keeps it.
      const kept = data.slice();
      summary = await client.setup('data', 'load_dataset', async () => {
        const bytes = kept.slice().buffer;
        return { args: { name, bytes }, transfer: [bytes] };
      });
      store.set({ dataFile: { name, bytes: kept } });
    } catch (e) {
      showError('err-data', e);
      return null;
    }
    loads += 1;
    split = null;
    render();
    store.set({ data: summary, job: false });
    if (!typed && summary.sample.length) $('token-text').value = summary.sample[0][0];
    refreshSplit();
    preview();
    return summary;
  }

  async function useBuiltin() {
    const name = $('builtin').value;
    try {
      const text = await client.call('builtin_dataset', { name });
      if (text === null) throw { field: 'data', message: `there is no built-in dataset '${name}'` };
      await load(`${name}.jsonl`, new TextEncoder().encode(text));
    } catch (e) {
      showError('err-data', e);
    }
  }

  // The split the run will use, from the trainer (the last valid plan's val_fraction and seed).
  async function refreshSplit() {
    const { plan } = store.get();
    if (!summary || !plan) return;
    const key = `${loads}/${plan.val_fraction}/${plan.seed}`;
    if (key === splitKey) return;
    splitKey = key;
    try {
      const counts = await client.call('split_counts', { val_fraction: plan.val_fraction, seed: plan.seed });
      if (key !== splitKey) return;
      split = counts;
    } catch (e) {
      split = null;
      showError('err-data', e);
    }
    render();
  }

  async function preview() {
    const text = $('token-text').value;
    const maxLen = Number(store.get().settings.maxlen) || 64;
    if (!store.get().model || !text) return;
    const n = ++previews;
    try {
      const tokens = await client.call('preview_tokens', { text, max_len: maxLen });
      if (n === previews) renderTokens($('tokens'), tokens, maxLen);
    } catch (e) {
      if (n === previews) showError('err-data', e);
    }
  }

  const readFile = async (f) => { if (f) load(f.name, new Uint8Array(await f.arrayBuffer())); };
  $('builtin-load').addEventListener('click', useBuiltin);
  $('data-file').addEventListener('change', (e) => { readFile(e.target.files[0]); e.target.value = ''; });
  $('data-paste-use').addEventListener('click', () => {
    const text = $('data-paste').value;
    const name = text.trimStart().startsWith('{') ? 'pasted.jsonl' : text.split('\n')[0].includes('\t') ? 'pasted.tsv' : 'pasted.csv';
    load(name, new TextEncoder().encode(text));
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    readFile(e.dataTransfer.files[0]);
  });
  // The whole box opens the file picker (its "choose one" label already does, so clicks on that are left to it).
  drop.addEventListener('click', (e) => { if (!e.target.closest('label')) $('data-file').click(); });
  drop.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    $('data-file').click();
  });
  $('token-text').addEventListener('input', () => { typed = true; preview(); });

  let maxLen = store.get().settings.maxlen;
  store.watch(['model'], preview);
  store.watch(['settings'], ({ settings }) => {
    if (settings.maxlen === maxLen) return;
    maxLen = settings.maxlen;
    preview();
  });
  store.watch(['plan'], refreshSplit);
  store.watch(['running'], ({ running }) => { $('builtin-load').disabled = running; });
  // `load(name, bytes)`: a saved run's own dataset (web/train/recovery.js); resolves with its summary or null.
  return { load, ready: useBuiltin() };
}
