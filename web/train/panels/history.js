// 5. Run history: every finished (or stopped) run's settings, cost and results; two ticked runs have their
// training losses overlaid.
import { compareChart } from '../charts.js';
import { renderHistory } from '../view.js';
import { $ } from '../../dom.js';

const label = (r, i) => `#${i + 1} ${r.method}${r.method === 'lora' ? ` r=${r.r}` : ''}${r.base === 'nf4' ? ' NF4' : ''}`;

export function startHistoryPanel({ store }) {
  const compare = new Set(); // indices of the ticked runs, oldest tick first; at most two

  function draw() {
    const { runs } = store.get();
    renderHistory(document.querySelector('#history tbody'), runs, compare, (i, on) => {
      if (on) compare.add(i); else compare.delete(i);
      while (compare.size > 2) compare.delete(compare.values().next().value);
      draw();
    });
    const [a, b] = [...compare].map((i) => ({ ...runs[i], label: label(runs[i], i) }));
    if (a && b) compareChart($('compare-chart'), a, b); else $('compare-chart').replaceChildren();
  }
  store.watch(['runs'], draw);
}
