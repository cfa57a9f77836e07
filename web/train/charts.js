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
