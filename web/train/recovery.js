// Runs that survive. After each step that took a snapshot the worker sends the snapshot file; it is kept here and
// in IndexedDB (web/train/saved-run.js). When the trainer traps (a Rust panic, an out-of-memory), a fresh worker
// gets the device, the model (from the browser's cache) and the dataset again and carries the run on from the last
// snapshot, with a note saying so. When the page is reopened with a run unfinished, it offers to carry it on.
// Carrying on is exact: the snapshot holds AdamW's moments and each step's dropout seed is its number's, so the
// losses are the uninterrupted run's (crate/tests/snapshot.rs; tests/e2e/recovery.mjs).
import { workersWanted } from './helpers.js';
import { discardSaved, readSaved, writeSaved } from './saved-run.js';
import { showError } from './view.js';
import { $ } from '../dom.js';

export function startRecovery({ store, client, run, data }) {
  const note = $('run-note');
  let last = null; // the latest snapshot {step, file} of the run in progress
  let writing = null; // an IndexedDB write in flight; `next` is the newest record waiting for it
  let next = null;

  async function persist(record) {
    next = record;
    if (writing) return;
    while (next) {
      const r = next;
      next = null;
      writing = writeSaved(r).catch((e) => { note.textContent = `This run cannot be kept across a reload: ${e?.message ?? e}`; });
      await writing;
      writing = null;
    }
  }

  client.on('snapshot', (s) => {
    const r = run.current();
    if (!r) return;
    last = s;
    const { model, dataFile } = store.get();
    persist({
      saved: Date.now(), step: s.step, total: r.info.total_steps, file: s.file, plan: r.plan,
      model: model?.name ?? '?', data: dataFile,
      curves: { steps: r.steps, losses: r.losses, valSteps: r.valSteps, valLosses: r.valLosses, epochs: r.epochs, accs: r.accs },
    });
  });
  const forget = () => { last = null; next = null; discardSaved(); };
  client.on('done', forget);
  client.on('stopped', forget);
  client.on('failed', forget);

  client.on('trapped', async (e) => {
    const r = run.current();
    const crashedAt = (r?.steps.at(-1) ?? 0) + 1;
    note.textContent = `The trainer crashed (${e.message}); starting a fresh one...`;
    try {
      await client.respawn();
      if (!r) {
        note.textContent = `The trainer crashed (${e.message}) and was restarted with the model and data loaded.`;
        return;
      }
      const reply = last
        ? await client.call('resume_run', { file: last.file, workers: workersWanted(store.get().settings.workers) })
        : { ...(await client.call('start', { plan: r.plan, workers: workersWanted(store.get().settings.workers) })), step: 0 };
      run.adopt(reply);
      note.textContent = `The trainer crashed during step ${crashedAt} (${e.message}). A fresh one reloaded the model ` +
        `and the dataset and carried the run on from step ${reply.step}` +
        (last ? ', its last snapshot (trained tensors and AdamW\u2019s moments).' : ' (no snapshot yet: from the start).');
      note.dataset.resumedAt = reply.step;
    } catch (err) {
      note.textContent = '';
      showError('err-plan', err);
    }
  });

  // A run left unfinished by a reload or a closed tab: offer it once the page has its model and device.
  async function offer() {
    const saved = await readSaved();
    if (!saved) return;
    const when = new Date(saved.saved).toLocaleString();
    const p = saved.plan;
    $('saved-run-text').textContent = `A run stopped at step ${saved.step} of ${saved.total} when the page closed ` +
      `(${when}): ${p.method}${p.method === 'lora' ? ` r=${p.r}` : ''}, lr ${p.lr}, model ${saved.model}, ` +
      `dataset ${saved.data?.name ?? '?'}.`;
    $('saved-run').hidden = false;
    $('saved-discard').onclick = () => { $('saved-run').hidden = true; discardSaved(); };
    $('saved-resume').onclick = async () => {
      showError('err-plan', null);
      if (!store.get().model || !store.get().device) {
        showError('err-plan', { field: 'run', message: `load the model the run was trained on (${saved.model}) first` });
        return;
      }
      if (!saved.data || !(await data.load(saved.data.name, saved.data.bytes))) return;
      try {
        last = { step: saved.step, file: saved.file };
        run.adopt(await client.call('resume_run', { file: saved.file, workers: workersWanted(store.get().settings.workers) }), saved.curves);
        $('saved-run').hidden = true;
        note.textContent = `Carried on from step ${saved.step}, where the page closed.`;
        note.dataset.resumedAt = saved.step;
      } catch (err) {
        showError('err-plan', err);
      }
    };
  }
  offer();
  return { panicAtStep: (step) => client.call('panic_at_step', { step }) };
}
