// The training charts, drawn with uPlot (a small, maintained plotting library; npm `uplot`, copied into
// web/vendor by the build). One function per chart; the data arrays are the app's, redrawn on each update.
import uPlot from '../vendor/uPlot.esm.js';

const HEIGHT = 220;

function width(el) {
  return Math.max(260, Math.min(640, el.clientWidth || 520));
}

// Follows the box's width (a phone turned, a window resized), so a chart never sticks out of the page.
function fit(plot, el) {
  new ResizeObserver(() => {
    const w = width(el);
    if (w !== plot.width) plot.setSize({ width: w, height: HEIGHT });
  }).observe(el);
  return plot;
}

// Training loss per step, and validation loss at each epoch's last step (points).
export function lossChart(el) {
  const plot = new uPlot({
    width: width(el), height: HEIGHT,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, { label: 'loss' }],
    series: [
      {},
      { label: 'train loss', stroke: '#0b62c4', width: 1.5 },
      { label: 'val loss', stroke: '#b3261e', width: 0, points: { show: true, size: 8, fill: '#b3261e' } },
    ],
  }, [[], [], []], el);
  fit(plot, el);
  return {
    update(steps, train, val) { plot.setData([steps, train, val]); },
    plot,
  };
}

// Validation accuracy per epoch, 0 to 1.
export function accuracyChart(el) {
  const plot = new uPlot({
    width: width(el), height: HEIGHT,
    scales: { x: { time: false }, y: { range: [0, 1] } },
    axes: [{ label: 'epoch' }, { label: 'accuracy' }],
    series: [{}, { label: 'val accuracy', stroke: '#1a7f37', width: 2, points: { show: true, size: 7 } }],
  }, [[], []], el);
  fit(plot, el);
  return {
    update(epochs, acc) { plot.setData([epochs, acc]); },
    plot,
  };
}

// Two runs' training loss on one step axis.
export function compareChart(el, a, b) {
  el.replaceChildren();
  const n = Math.max(a.steps.length, b.steps.length);
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  const pad = (arr) => xs.map((_, i) => (i < arr.length ? arr[i] : null));
  return fit(new uPlot({
    width: width(el), height: HEIGHT,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, { label: 'train loss' }],
    series: [
      {},
      { label: a.label, stroke: '#0b62c4', width: 1.5 },
      { label: b.label, stroke: '#b35c00', width: 1.5 },
    ],
  }, [xs, pad(a.losses), pad(b.losses)], el), el);
}

// A qualitative palette that stays apart for up to 8 runs (then repeats), dark enough on white.
const PALETTE = ['#0b62c4', '#b35c00', '#1a7f37', '#8250df', '#b3261e', '#0a7d8c', '#6e5500', '#bf3989'];

// Several runs' training loss on one step axis (the Experiment panel): runs = [{label, losses}].
export function overlayChart(el, runs) {
  el.replaceChildren();
  const n = Math.max(0, ...runs.map((r) => r.losses.length));
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  return fit(new uPlot({
    width: width(el), height: HEIGHT,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, { label: 'train loss' }],
    series: [{}, ...runs.map((r, i) => ({ label: r.label, stroke: PALETTE[i % PALETTE.length], width: 1.5 }))],
  }, [xs, ...runs.map((r) => xs.map((_, i) => r.losses[i] ?? null))], el), el);
}

// Validation accuracy against trainable parameters on a log axis, one point per run, and the Pareto front (the
// runs nothing beats on both counts) as a line: points = [{label, params, accuracy}], front = indices by params.
export function paretoChart(el, points, front) {
  el.replaceChildren();
  const xs = [...new Set(points.map((p) => p.params))].sort((a, b) => a - b);
  const at = (sel) => xs.map((x) => sel.find((p) => p.params === x)?.accuracy ?? null);
  const methods = [...new Set(points.map((p) => p.method))];
  return fit(new uPlot({
    width: width(el), height: HEIGHT,
    scales: { x: { time: false, distr: 3 }, y: { range: [0, 1] } },
    axes: [{ label: 'trainable parameters (log)' }, { label: 'val accuracy' }],
    series: [
      {},
      ...methods.map((m, i) => ({ label: m, stroke: PALETTE[i % PALETTE.length], width: 0, points: { show: true, size: 9, fill: PALETTE[i % PALETTE.length] } })),
      { label: 'Pareto front', stroke: '#57606a', width: 1, dash: [4, 4], spanGaps: true, points: { show: false } },
    ],
  }, [xs, ...methods.map((m) => at(points.filter((p) => p.method === m))), at(front.map((i) => points[i]))], el), el);
}

// A chart as a PNG for a slide: white behind it, its title above and its legend (colour and label) below, since
// uPlot draws the legend in HTML, outside the canvas.
export function chartPng(plot, title) {
  const src = plot.ctx.canvas;
  const ratio = src.width / plot.width;
  const series = plot.series.slice(1).filter((s) => s.label);
  const head = 28 * ratio;
  const legend = 22 * ratio * Math.ceil(series.length / 3);
  const out = Object.assign(document.createElement('canvas'), { width: src.width, height: src.height + head + legend });
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = '#1f2328';
  ctx.font = `${14 * ratio}px sans-serif`;
  ctx.fillText(title, 8 * ratio, 19 * ratio);
  ctx.drawImage(src, 0, head);
  series.forEach((s, i) => {
    const x = (8 + (i % 3) * (src.width / ratio / 3)) * ratio;
    const y = src.height + head + (16 + 22 * Math.floor(i / 3)) * ratio;
    ctx.fillStyle = typeof s.stroke === 'function' ? s.stroke(plot, i + 1) : s.stroke;
    ctx.fillRect(x, y - 10 * ratio, 14 * ratio, 10 * ratio);
    ctx.fillStyle = '#1f2328';
    ctx.fillText(String(s.label), x + 20 * ratio, y);
  });
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}
