// Rendering for the training page. Text from datasets and models is only ever set as textContent, never parsed
// as HTML, so a row like `<img onerror=...>` shows as the characters it is.
import { $, h } from '../dom.js';
import { bytes, grouped } from '../format.js';

function table(head, rows, attrs = {}) {
  return h('table', attrs,
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))));
}

// A table that may be wider than a phone scrolls inside its own box, which the keyboard can reach and scroll.
export function scrollBox(label, child) {
  return h('div', { class: 'scroll', tabIndex: 0, role: 'region', 'aria-label': `${label} (scrolls sideways)` }, child);
}

// `split`: {train, val} examples per class from the trainer's own stratified split, or null while unknown.
export function renderDataset(el, problemsEl, summary, split) {
  const total = summary.counts.reduce((a, b) => a + b, 0);
  const classes = table(['label', 'examples', 'training', 'validation', 'share'], summary.labels.map((l, i) => [
    l, grouped(summary.counts[i]), split ? grouped(split.train[i]) : '', split ? grouped(split.val[i]) : '',
    `${((100 * summary.counts[i]) / total).toFixed(1)}%`,
  ]), { id: 'class-table' });
  const sample = table(['line', 'text', 'label'], summary.sample.map(([text, label, line]) => [line, text, label]), { id: 'sample-table' });
  el.replaceChildren(
    h('p', { id: 'data-count', 'data-examples': summary.examples },
      `${grouped(summary.examples)} examples in ${summary.labels.length} classes`),
    scrollBox('Examples per class', classes),
    h('details', {}, h('summary', {}, 'First rows'), scrollBox('First rows', sample)),
  );
  if (summary.problems.length === 0) {
    problemsEl.replaceChildren();
    return;
  }
  const shown = summary.problems.slice(0, 50);
  problemsEl.replaceChildren(
    h('p', { class: 'warn', id: 'problem-count' }, `${summary.problems.length} row(s) skipped:`),
    h('ul', { id: 'problem-list' }, ...shown.map((p) => h('li', {}, `line ${p.line}: ${p.reason}`))),
    summary.problems.length > shown.length ? h('p', {}, `... and ${summary.problems.length - shown.length} more`) : '',
  );
}

export function renderTokens(el, preview, maxLen) {
  const pieces = preview.tokens.map((t, i) => h('span', { class: i < preview.kept ? 'tok' : 'tok cut', title: `id ${preview.ids[i]}` }, t));
  if (preview.full_length > preview.kept) pieces.splice(preview.kept, 0, h('span', { class: 'cutmark', title: `max length ${maxLen}` }, '| cut'));
  el.replaceChildren(
    h('div', { class: 'pieces' }, ...pieces),
    h('p', { class: 'hint' }, `${preview.full_length} tokens; ${preview.kept} kept at max length ${maxLen}` +
      (preview.full_length > preview.kept ? ` (${preview.full_length - preview.kept} cut)` : '')),
    h('p', { class: 'ids' }, `ids: ${preview.ids.join(' ')}`),
  );
}

export function renderResults(el, evaluation) {
  const m = evaluation;
  const per = table(['label', 'precision', 'recall', 'F1', 'support'],
    m.per_class.map((c) => [c.label, c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), c.support]), { id: 'per-class' });
  const labels = m.per_class.map((c) => c.label);
  const max = Math.max(1, ...m.confusion.flat());
  const cm = h('table', { id: 'confusion', class: 'confusion' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'true \\ predicted'), ...labels.map((l) => h('th', { scope: 'col' }, l)))),
    h('tbody', {}, ...m.confusion.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, labels[i]),
      ...row.map((v, j) => {
        const td = h('td', { class: i === j ? 'diag' : '' }, v);
        td.style.setProperty('--heat', (v / max).toFixed(3));
        return td;
      })))));
  el.replaceChildren(
    h('p', { class: 'headline' },
      h('span', { id: 'result-accuracy', 'data-value': m.accuracy }, `accuracy ${(100 * m.accuracy).toFixed(1)}%`), ' \u00b7 ',
      h('span', { id: 'result-f1', 'data-value': m.macro_f1 }, `macro-F1 ${m.macro_f1.toFixed(3)}`), ' \u00b7 ',
      `validation loss ${m.val_loss.toFixed(4)}`),
    scrollBox('Results per class', per), h('h3', {}, 'Confusion matrix'), scrollBox('Confusion matrix', cm));
}

export function renderPrediction(el, result) {
  const order = result.labels.map((l, i) => [l, result.probs[i]]).sort((a, b) => b[1] - a[1]);
  el.replaceChildren(
    h('p', { id: 'predicted-label' }, 'predicted: ', h('strong', {}, result.label)),
    h('ul', { class: 'probs' }, ...order.map(([l, p]) => {
      const li = h('li', {}, h('span', { class: 'bar' }), `${l}: ${(100 * p).toFixed(1)}%`);
      li.style.setProperty('--p', p.toFixed(4));
      return li;
    })));
}

export function renderHistory(tbody, runs, selected, onToggle) {
  tbody.replaceChildren(...runs.map((r, i) => {
    const box = h('input', { type: 'checkbox', checked: selected.has(i), 'aria-label': `compare run ${i + 1}` });
    box.addEventListener('change', () => onToggle(i, box.checked));
    return h('tr', {},
      h('td', {}, box), h('td', {}, i + 1), h('td', {}, r.base === 'nf4' ? `${r.method} (NF4 base)` : r.method), h('td', {}, r.method === 'lora' ? r.r : '-'),
      h('td', {}, r.method === 'lora' ? r.alpha : '-'), h('td', {}, r.method === 'lora' ? r.targets : '-'),
      h('td', {}, grouped(r.trainable)), h('td', {}, bytes(r.optimizer_bytes)), h('td', {}, bytes(r.file_bytes)),
      h('td', {}, r.device), h('td', {}, `${r.seconds.toFixed(1)} s${r.finished ? '' : ' (stopped)'}`),
      h('td', {}, r.accuracy === null ? '-' : `${(100 * r.accuracy).toFixed(1)}%`),
      h('td', {}, r.macro_f1 === null ? '-' : r.macro_f1.toFixed(3)));
  }));
}

// The kept adapters, one radio button each to choose which one classifies.
export function renderAdapters(tbody, adapters, chosen, onChoose, onRemove) {
  tbody.replaceChildren(...adapters.map((a, i) => {
    const radio = h('input', { type: 'radio', name: 'adapter-choice', checked: i === chosen, 'aria-label': `use ${a.name}` });
    radio.addEventListener('change', () => onChoose(i));
    const remove = h('button', { type: 'button', class: 'remove' }, 'remove');
    remove.addEventListener('click', () => onRemove(i));
    const row = h('tr', { class: i === chosen ? 'chosen' : '' },
      h('td', {}, radio), h('td', {}, a.name), h('td', {}, a.method), h('td', {}, a.r ?? '-'),
      h('td', {}, a.labels.join(', ')), h('td', { 'data-params': a.params }, `${grouped(a.params)} params (${bytes(a.bytes)})`, frozenNote(a.frozen)),
      h('td', {}, remove));
    return row;
  }));
}

// The run's proof that it left the base as it was: the frozen tensors' SHA-256 in the checkpoint and after training
// (training.json's `frozen`; a folder from Python PEFT has none).
function frozenNote(f) {
  if (!f) return '';
  const sha = (s) => s.slice(0, 12);
  return h('span', { class: 'frozen', 'data-unchanged': String(f.unchanged),
    title: `SHA-256 of the ${f.tensors} frozen tensors (${grouped(f.values)} values): ${f.checkpoint_sha256} in the checkpoint, ${f.trained_sha256} after training` },
  f.unchanged ? ` \u00b7 base unchanged (SHA-256 ${sha(f.trained_sha256)}\u2026)` : ' \u00b7 base CHANGED');
}

// One base plus N adapters against N fine-tuned copies, from the tensors the worker holds.
export function renderMemory(el, memory) {
  const n = memory.adapter_bytes.length;
  if (n === 0) { el.textContent = ''; return; }
  el.replaceChildren(
    'On the device: the base model once (', h('strong', {}, bytes(memory.base_bytes)), `) + ${n} adapter${n > 1 ? 's' : ''} (`,
    h('strong', {}, bytes(memory.shared_bytes - memory.base_bytes)), ') = ',
    h('strong', { id: 'memory-shared', 'data-value': memory.shared_bytes }, bytes(memory.shared_bytes)),
    `. ${n} fine-tuned cop${n > 1 ? 'ies' : 'y'} would take `,
    h('strong', { id: 'memory-copies', 'data-value': memory.copies_bytes }, bytes(memory.copies_bytes)),
    ` (${(memory.copies_bytes / memory.shared_bytes).toFixed(1)}x). Parameters in float32; activations not counted.`);
}

// Merged against unmerged: the largest logit difference, the labels that agree, and one pass's time each way.
export function renderMergeCheck(el, name, { check, adapter_ms: a, merged_ms: m }) {
  el.replaceChildren(
    `${name} merged: largest logit difference `,
    h('strong', { id: 'merge-diff', 'data-value': check.max_abs_logit_diff }, check.max_abs_logit_diff.toExponential(1)),
    ` over ${check.texts} validation texts, `,
    h('strong', { id: 'merge-same', 'data-value': check.same_prediction }, `${check.same_prediction} / ${check.texts}`),
    ' the same label. One pass over them: ',
    h('strong', { id: 'merge-adapter-ms', 'data-value': a }, `${a.toFixed(0)} ms`), ' with the adapter beside the weights, ',
    h('strong', { id: 'merge-merged-ms', 'data-value': m }, `${m.toFixed(0)} ms`), ` merged (${(m / a).toFixed(2)}x): a merged `,
    'adapter costs what the base model costs.');
}

// An error `{field, message, line}` in the element `id` (null clears it); the field stays on it as data-field.
export function showError(id, e) {
  const el = $(id);
  if (!e) {
    el.textContent = '';
    delete el.dataset.field;
    return;
  }
  const where = e.line ? ` (line ${e.line})` : '';
  el.textContent = `${e.field ?? ''}${where}: ${e.message ?? e}`;
  if (e.field) el.dataset.field = e.field;
}
