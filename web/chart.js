// The rank-vs-parameters chart: an SVG line of `trainable` for r = 1..256, with the current rank marked.
import { compact, grouped } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 560, H = 220, L = 56, R = 12, T = 12, B = 34;

export function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export function drawRankChart(container, curve, r) {
  const maxR = curve.length;
  const maxY = Math.max(...curve, 1);
  const x = (rank) => L + ((rank - 1) / (maxR - 1)) * (W - L - R);
  const y = (v) => H - B - (v / maxY) * (H - T - B);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'rank-chart-title rank-chart-desc' });
  svg.append(el('title', { id: 'rank-chart-title' }, 'Trainable parameters against LoRA rank'));
  const at = Math.min(Math.max(r, 1), maxR);
  svg.append(el('desc', { id: 'rank-chart-desc' },
    `A straight line from ${grouped(curve[0])} at r = 1 to ${grouped(curve[maxR - 1])} at r = ${maxR}; ` +
    `r = ${r} gives ${grouped(curve[at - 1])}.`));
  for (const t of [0, 0.5, 1]) {
    const v = maxY * t;
    svg.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, compact(Math.round(v))));
  }
  for (const t of [1, 64, 128, 192, 256].filter((v) => v <= maxR)) {
    svg.append(el('text', { x: x(t), y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, String(t)));
  }
  svg.append(el('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, 'rank r'));
  const points = curve.map((v, i) => `${x(i + 1).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  svg.append(el('polyline', { points, class: 'curve', fill: 'none' }));
  if (r >= 1 && r <= maxR) {
    svg.append(el('circle', { cx: x(r), cy: y(curve[r - 1]), r: 5, class: 'point' }));
    svg.append(el('text', { x: x(r) + (r > maxR * 0.7 ? -8 : 8), y: y(curve[r - 1]) - 8,
      'text-anchor': r > maxR * 0.7 ? 'end' : 'start', class: 'label' }, `r=${r}: ${grouped(curve[r - 1])}`));
  }
  container.replaceChildren(svg);
}
