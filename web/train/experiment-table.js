// The Experiment panel's table, as data: one row per run from the run history's records (so the table is the
// history's rows, never a second bookkeeping), the columns PEFT tutorials print, and the two exports a slide
// needs (CSV, quoted as RFC 4180 says, and a Markdown table). No DOM here: tests/unit/experiment_table.mjs
// checks it under node.
import { bytes, grouped } from '../format.js';

const pct = (x) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`);
const orDash = (x, f = String) => (x === null || x === undefined ? '-' : f(x));

// [header, cell(record) -> text]. The raw figures stay on the record; these are the figures as shown.
export const COLUMNS = [
  ['run', (r) => r.name ?? r.method],
  ['method', (r) => r.method],
  ['r', (r) => (r.method === 'lora' ? String(r.r) : '-')],
  ['lora_alpha', (r) => (r.method === 'lora' ? String(r.alpha) : '-')],
  ['target_modules', (r) => (r.method === 'lora' ? r.targets : '-')],
  ['lr', (r) => orDash(r.lr)],
  ['trainable', (r) => grouped(r.trainable)],
  ['trainable %', (r) => `${((100 * r.trainable) / r.total).toFixed(3)}%`],
  ['optimizer state', (r) => bytes(r.optimizer_bytes)],
  ['saved file', (r) => bytes(r.file_bytes)],
  ['s/step', (r) => orDash(r.seconds_per_step, (s) => s.toFixed(3))],
  ['peak wasm memory', (r) => orDash(r.wasm_bytes, bytes)],
  ['val accuracy', (r) => pct(r.accuracy)],
  ['val macro-F1', (r) => orDash(r.macro_f1, (f) => f.toFixed(3))],
];

export const cells = (record) => COLUMNS.map(([, cell]) => cell(record));

const quote = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function toCsv(records) {
  return [COLUMNS.map(([h]) => h), ...records.map(cells)].map((row) => row.map(quote).join(',')).join('\r\n') + '\r\n';
}

export function toMarkdown(records) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  const line = (row) => `| ${row.map(esc).join(' | ')} |`;
  return [line(COLUMNS.map(([h]) => h)), `|${'---|'.repeat(COLUMNS.length)}`, ...records.map((r) => line(cells(r)))].join('\n') + '\n';
}

// The runs no other run beats on both counts (fewer trainable parameters and at least the accuracy, or as few
// and more accurate): the trade-off's frontier, as indices into `points` ({params, accuracy}), by params.
export function pareto(points) {
  const order = points.map((p, i) => i).filter((i) => points[i].accuracy !== null).sort((a, b) => points[a].params - points[b].params || points[b].accuracy - points[a].accuracy);
  const front = [];
  let best = -Infinity;
  for (const i of order) {
    if (points[i].accuracy > best) {
      front.push(i);
      best = points[i].accuracy;
    }
  }
  return front;
}
