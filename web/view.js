// Rendering: controls from the model's description, figures from a report. No computing here: every number
// comes from the engine.
import { bytes, grouped, percent, ranges } from './format.js';
import { drawRankChart } from './chart.js';
import { $ } from './dom.js';

function cell(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  e.textContent = text;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function table(id, head, rows) {
  const t = $(id);
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const h of head) tr.append(cell('th', h, { scope: 'col' }));
  thead.append(tr);
  const tbody = document.createElement('tbody');
  for (const row of rows) {
    const r = document.createElement('tr');
    row.forEach((c, i) => {
      const td = cell(i === 0 ? 'th' : 'td', c.text ?? c, i === 0 ? { scope: 'row' } : {});
      if (c.value !== undefined) td.dataset.value = c.value;
      if (c.title) td.title = c.title;
      if (c.name) td.dataset.name = c.name;
      r.append(td);
    });
    tbody.append(r);
  }
  t.replaceChildren(thead, tbody);
}

function figure(name, text, value, title) {
  for (const e of document.querySelectorAll(`[data-figure="${name}"]`)) {
    e.textContent = text;
    e.dataset.value = String(value);
    if (title) e.title = title;
  }
}

export function kindLabel(kind) {
  return { linear: 'Linear', conv1_d: 'Conv1D', embedding: 'Embedding', layer_norm: 'LayerNorm', rms_norm: 'RMSNorm' }[kind] ?? kind;
}

function b(n) {
  return { text: bytes(n), value: n, title: `${grouped(n)} bytes` };
}

export function renderPresets(presets, selected) {
  const select = $('model');
  select.replaceChildren(...presets.map((id) => cell('option', id, { value: id })));
  const custom = cell('option', 'custom config.json', { value: 'custom' });
  select.append(custom);
  select.value = selected;
}

// Target checkboxes and layer checkboxes for the current model.
export function renderModelControls(description, state) {
  const list = $('target-list');
  const defaults = description.default_targets;
  const mode = state.targets === null ? 'default' : state.targets === 'all-linear' ? 'all-linear' : 'custom';
  for (const radio of document.querySelectorAll('input[name="target-mode"]')) {
    radio.checked = radio.value === mode;
    if (radio.value === 'default') {
      radio.parentElement.lastChild.textContent = defaults
        ? ` PEFT default (${defaults.join(', ')})`
        : ` PEFT default (none for ${description.model.model_type})`;
    }
  }
  const chosen = mode === 'custom' ? state.targets : mode === 'default' ? (defaults ?? []) : [];
  // PEFT matches a target as the full name or a dotted suffix, so `query` ticks `attention.self.query`.
  const ticked = (name) => chosen.some((t) => name === t || name.endsWith(`.${t}`));
  list.replaceChildren(...description.target_choices.map((c) => {
    const label = document.createElement('label');
    const box = cell('input', '', { type: 'checkbox', value: c.name, 'data-target': c.name });
    box.checked = mode === 'all-linear' ? c.kind !== 'embedding' : ticked(c.name);
    const kind = kindLabel(c.kind);
    const extra = [];
    if (c.note) extra.push(c.note);
    if (c.also_matches.length) extra.push(`also matches ${c.also_matches.join(', ')} (PEFT matches name suffixes)`);
    label.append(box, ` ${c.name} `, cell('span', `${kind} ${c.in_features}→${c.out_features} ×${c.count}`, { class: 'shape' }));
    if (extra.length) label.append(cell('small', extra.join('; ')));
    return label;
  }));
  const layers = $('layer-list');
  const n = description.model.num_layers;
  $('layers-all').checked = state.layers === null;
  layers.replaceChildren(...Array.from({ length: n }, (_, i) => {
    const label = document.createElement('label');
    const box = cell('input', '', { type: 'checkbox', value: String(i), 'data-layer': String(i) });
    box.checked = state.layers === null || state.layers.includes(i);
    label.append(box, ` ${i}`);
    return label;
  }));
}

export function renderReport(report, state) {
  const pct = report.trainable_percent;
  figure('trainable', grouped(report.trainable), report.trainable);
  figure('all', grouped(report.all), report.all);
  figure('trainable_percent', percent(pct), pct);
  figure('lora_params', grouped(report.lora_params), report.lora_params);
  $('peft-line').textContent =
    `trainable params: ${grouped(report.trainable)} || all params: ${grouped(report.all)} || trainable%: ${pct.toFixed(4)}`;
  $('scaling').textContent = report.scaling.toFixed(4);

  const parts = [`${grouped(report.lora_params)} LoRA parameters (r·(in + out) per adapted module)`];
  if (report.head_copy_params) {
    parts.push(`${grouped(report.head_copy_params)} in the trainable copy of ${report.modules_to_save.join(', ')}`);
  }
  if (report.trainable_bias_params) parts.push(`${grouped(report.trainable_bias_params)} bias terms (bias="${state.bias}")`);
  let text = `PEFT's trainable = ${parts.join(' + ')}. Papers quote the LoRA-only figure.`;
  if (report.head_copy_params) {
    text += ` PEFT's all counts the base model, the LoRA matrices and the head twice: the frozen original and its trainable copy (modules_to_save).`;
  }
  $('explain-counts').textContent = text;

  table('module-table', ['module', 'kind', 'in → out', 'modules', 'layers', 'LoRA params each', 'LoRA params'],
    report.module_groups.map((g) => [
      { text: g.name, name: g.name }, kindLabel(g.kind), `${g.in_features} → ${g.out_features}`, { text: String(g.count), value: g.count },
      g.layers.length ? ranges(g.layers) : '—', { text: grouped(g.lora_params_each), value: g.lora_params_each },
      { text: grouped(g.lora_params_total), value: g.lora_params_total },
    ]));

  drawRankChart($('rank-chart'), report.rank_curve, state.r);
  const select = $('rank-module');
  const previous = select.value;
  select.replaceChildren(...report.rank_tables.map((t, i) =>
    cell('option', `${t.module} (${t.in_features} → ${t.out_features})`, { value: String(i) })));
  if (previous && Number(previous) < report.rank_tables.length) select.value = previous;
  renderRankTable(report);

  const names = { lora: 'LoRA', full: 'full fine-tuning', head_only: 'head only', bitfit: 'BitFit' };
  table('memory-table',
    ['method', 'trainable params', 'frozen weights', 'trainable weights', 'gradients', 'optimizer state', 'activations (est.)', 'total'],
    report.methods.map((m) => [
      { text: names[m.method], name: m.method }, { text: grouped(m.trainable), value: m.trainable },
      b(m.memory.frozen_weights), b(m.memory.trainable_weights), b(m.memory.gradients),
      b(m.memory.optimizer_state), b(m.memory.activations), b(m.memory.total),
    ]));
  const notes = report.methods.filter((m) => m.note).map((m) => `${names[m.method]}: ${m.note}.`);
  $('explain-memory').textContent =
    'Weights, gradients and optimizer state are exact for what PyTorch allocates (AdamW: two moments per trainable ' +
    'parameter plus a 4-byte step per tensor). Activations are an estimate: s·b·h·(34 + 5·a·s/h) bytes per layer ' +
    '(Korthikanti et al. 2022) at 16-bit, doubled for fp32, without FlashAttention' +
    (state.gradient_checkpointing
      ? '; with gradient checkpointing each layer keeps only its input (s·b·h values) and one layer is recomputed at a ' +
        'time in the backward pass. '
      : ' or checkpointing. ') + notes.join(' ');

  figure('adapter_bytes', bytes(report.adapter_bytes), report.adapter_bytes, `${grouped(report.adapter_bytes)} bytes`);
  figure('full_model_bytes', bytes(report.full_model_bytes), report.full_model_bytes, `${grouped(report.full_model_bytes)} bytes`);
  figure('merged_model_bytes', bytes(report.merged_model_bytes), report.merged_model_bytes, `${grouped(report.merged_model_bytes)} bytes`);

  const labels = {
    lora: 'LoRA', full: 'full fine-tuning', head_only: 'head only', bitfit: 'BitFit',
    adapters_houlsby: 'bottleneck adapters (Houlsby)', prompt_tuning: 'prompt tuning', prefix_tuning: 'prefix tuning',
  };
  table('methods-table', ['method', 'trainable params', 'of all', 'adds inference latency', 'notes'],
    report.peft_methods.map((m) => [
      { text: labels[m.method], name: m.method }, { text: grouped(m.trainable), value: m.trainable },
      { text: percent(m.percent), value: m.percent }, m.adds_inference_latency ? 'yes' : 'no', m.note,
    ]));
}

export function renderRankTable(report) {
  const t = report.rank_tables[Number($('rank-module').value) || 0];
  if (!t) return;
  table('rank-table', ['r', 'LoRA params', `% of ${t.out_features}×${t.in_features}`, 'reduction'],
    t.rows.map((row) => [
      { text: String(row.r), value: row.r }, { text: grouped(row.lora_params), value: row.lora_params },
      { text: percent(row.percent_of_weight, 2), value: row.percent_of_weight },
      { text: `${row.reduction.toFixed(1)}×`, value: row.reduction },
    ]));
}

// Errors go beside the control they concern; everything else keeps its last good figures.
const FIELD_TO_CONTROL = {
  r: 'r', lora_alpha: 'alpha', target_modules: 'targets', layers_to_transform: 'layers', num_labels: 'task',
  batch_size: 'batch', seq_len: 'batch', bottleneck: 'methods', num_virtual_tokens: 'methods', model: 'model',
  bias: 'targets', precision: 'model', optimizer: 'model', setup: 'model',
};

export function controlFor(field) {
  return FIELD_TO_CONTROL[field] ?? 'config';
}

export function showErrors(errors) {
  for (const p of document.querySelectorAll('.err')) {
    const control = p.id.replace(/^err-/, '');
    const message = errors[control] ?? '';
    p.textContent = message;
    const wrapper = p.closest('.control');
    if (wrapper) wrapper.classList.toggle('invalid', Boolean(message));
  }
  const stale = Object.keys(errors).length > 0;
  $('results').classList.toggle('stale', stale);
  $('status').textContent = stale ? 'Fix the highlighted setting; the figures below are from the last valid setup.' : '';
}

export function formatEngineError(e) {
  if (e && typeof e === 'object' && 'message' in e) {
    const where = e.line ? ` (line ${e.line}, column ${e.column})` : '';
    const field = e.field && !['r', 'lora_alpha', 'target_modules'].includes(e.field) ? `${e.field}${where}: ` : where ? `${where.trim()}: ` : '';
    return `${field}${e.message}`;
  }
  return String(e);
}
