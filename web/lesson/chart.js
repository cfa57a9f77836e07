// A lesson's small charts as SVG: trainable parameters against r (a line, the element's r marked) and one bar per
// training method. The points and their labels come from the engine (`lesson_series`), already formatted.
import { el } from '../chart.js';
import { compact } from '../format.js';

const W = 560, H = 240, L = 64, R = 16, T = 14, B = 40;
let made = 0;

export function drawSeries(container, series, title) {
  const id = `lp-chart-${++made}`;
  const pts = series.points;
  const maxY = Math.max(...pts.map((p) => p.y), 1);
  const y = (v) => H - B - (v / maxY) * (H - T - B);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-t ${id}-d` });
  svg.append(el('title', { id: `${id}-t` }, title));
  const marked = series.marked === null || series.marked === undefined ? null : pts[series.marked];
  const desc = series.kind === 'rank'
    ? `From ${pts[0].text} at ${pts[0].label} to ${pts[pts.length - 1].text} at ${pts[pts.length - 1].label}${marked ? `; ${marked.label} gives ${marked.text}` : ''}.`
    : pts.map((p) => `${p.label}: ${p.text}`).join('; ');
  svg.append(el('desc', { id: `${id}-d` }, desc));
  for (const t of [0, 0.5, 1]) {
    svg.append(el('line', { x1: L, x2: W - R, y1: y(maxY * t), y2: y(maxY * t), class: 'grid' }));
    svg.append(el('text', { x: L - 6, y: y(maxY * t) + 4, 'text-anchor': 'end', class: 'tick' }, compact(Math.round(maxY * t))));
  }
  svg.append(el('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, series.x_label));
  if (series.kind === 'rank') {
    const maxX = pts[pts.length - 1].x;
    const x = (v) => L + ((v - 1) / (maxX - 1)) * (W - L - R);
    for (const t of [1, Math.round(maxX / 4), Math.round(maxX / 2), Math.round((3 * maxX) / 4), maxX]) {
      svg.append(el('text', { x: x(t), y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, String(t)));
    }
    svg.append(el('polyline', { points: pts.map((p) => `${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join(' '), class: 'curve', fill: 'none' }));
    if (marked) {
      const right = marked.x > maxX * 0.7;
      svg.append(el('circle', { cx: x(marked.x), cy: y(marked.y), r: 5, class: 'point' }));
      svg.append(el('text', { x: x(marked.x) + (right ? -8 : 8), y: y(marked.y) - 8, 'text-anchor': right ? 'end' : 'start', class: 'label' }, `${marked.label}: ${marked.text}`));
    }
  } else {
    const slot = (W - L - R) / pts.length;
    pts.forEach((p, i) => {
      const x0 = L + i * slot + slot * 0.15;
      svg.append(el('rect', { x: x0, y: y(p.y), width: slot * 0.7, height: H - B - y(p.y), class: 'bar' }));
      svg.append(el('text', { x: x0 + slot * 0.35, y: H - B + 16, 'text-anchor': 'middle', class: 'tick' }, p.label));
      svg.append(el('text', { x: x0 + slot * 0.35, y: Math.max(y(p.y) - 4, T + 8), 'text-anchor': 'middle', class: 'label' }, p.text));
    });
  }
  container.replaceChildren(svg);
}
