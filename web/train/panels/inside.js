// 6b. Inside the adapter: the chosen kept LoRA adapter's updates `scaling * B A` as a heatmap (layer by module,
// the update's norm as a share of the frozen weight's), one module's singular values, and the subspace similarity
// of its A matrices with another kept adapter's, or, against a kept full fine-tuning run, the spectrum of what full
// fine-tuning changed in the same module. The worker computes it all (crate/src/inspect/, the CLI's
// `inspect`); this panel draws it. Every shown number carries its full value in data-value for the tests.
import { scrollBox, showError } from '../view.js';
import { $, h } from '../../dom.js';

const pct = (x) => `${(100 * x).toPrecision(3)}%`;

// `bert.encoder.layer.3.attention.self.query` -> [3, 'attention.self.query']; other names go to their own row.
function place(module) {
  const m = /\.layer\.(\d+)\.(.+)$/.exec(module);
  return m ? [Number(m[1]), m[2]] : [module, ''];
}

function heatmap(inside, chosen, onPick) {
  const rows = [...new Set(inside.modules.map((m) => place(m.module)[0]))];
  const cols = [...new Set(inside.modules.map((m) => place(m.module)[1]))];
  const max = Math.max(...inside.modules.map((m) => m.relative));
  const cell = (layer, col) => {
    const i = inside.modules.findIndex((m) => { const [l, c] = place(m.module); return l === layer && c === col; });
    if (i < 0) return h('td', {}, '');
    const m = inside.modules[i];
    const share = max > 0 ? m.relative / max : 0;
    const pick = h('button', { type: 'button', class: 'cell', 'aria-pressed': String(i === chosen), 'data-value': m.relative,
      'data-module': m.module, title: `${m.module}: ||update|| ${m.update_norm.toPrecision(4)}, ||W|| ${m.weight_norm.toPrecision(4)}` },
    pct(m.relative));
    // Shaded by share of the largest, as the confusion matrix is (train.css: --heat).
    pick.style.setProperty('--heat', share.toFixed(3));
    pick.addEventListener('click', () => onPick(i));
    return h('td', {}, pick);
  };
  return scrollBox('Update size by layer and module', h('table', { id: 'inside-heatmap', class: 'heatmap' },
    h('caption', {}, '||scaling B A|| / ||W|| for each adapted module'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'layer'), ...cols.map((c) => h('th', { scope: 'col' }, c || 'module')))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, h('th', { scope: 'row' }, String(r)), ...cols.map((c) => cell(r, c)))))));
}

function spectrum(inside, m) {
  const top = m.singular_values[0] || 1;
  const shown = m.singular_values.slice(0, Math.max(inside.r + 2, 4));
  return h('div', { id: 'inside-spectrum' },
    h('p', {}, `${m.module}: `, h('strong', { 'data-value': m.rank }, `${m.rank}`),
      ` singular value${m.rank === 1 ? '' : 's'} above 1e-6 of the largest (r = ${inside.r}: B A cannot have more); the top one holds `,
      h('strong', { 'data-value': m.energy[0] }, pct(m.energy[0])), ' of the update\u2019s energy.'),
    h('ol', { class: 'bars', 'aria-label': 'singular values, largest first' }, ...shown.map((s, k) => {
      const bar = h('span', { class: 'bar' });
      bar.style.width = `${Math.max(0.5, (100 * s) / top)}%`;
      return h('li', { 'data-value': s }, bar, ` \u03c3${k + 1} = ${s.toPrecision(4)}`);
    })));
}

function similarity(inside, module) {
  const s = inside.compare?.find((c) => c.module === module);
  if (!s) return h('p', {}, inside.compare_name ? `${inside.compare_name} does not adapt ${module}.` : '');
  return h('div', { id: 'inside-similarity' },
    h('p', {}, `Subspace similarity with ${inside.compare_name}: \u03c6(i, j) = ||U_i\u1d40 V_j||\u00b2 / min(i, j) over the top i `
      + `directions of this A (rows) and the top j of the other's (columns); 1 means one contains the other, 0 that they are orthogonal.`),
    scrollBox('Subspace similarity', h('table', { class: 'heatmap' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'i \\ j'), ...s.phi[0].map((_, j) => h('th', { scope: 'col' }, String(j + 1))))),
      h('tbody', {}, ...s.phi.map((row, i) => h('tr', {}, h('th', { scope: 'row' }, String(i + 1)), ...row.map((p) => {
        const td = h('td', { 'data-value': p }, p.toFixed(2));
        td.style.setProperty('--heat', p.toFixed(3));
        return td;
      })))))));
}

// What full fine-tuning changed in the same module (`compare` is a kept full run): the spectrum of
// W_finetuned - W_pretrained and the share of its energy in the top r directions, the most a rank-r update holds.
function fullSpectrum(inside, module) {
  const f = inside.full?.find((x) => x.module === module);
  if (!f) return h('p', {}, '');
  const top = f.singular_values[0] || 1;
  return h('div', { id: 'inside-full' },
    h('p', {}, `Full fine-tuning (${inside.compare_name}) changed ${module} in every direction; its top ${f.r} `
      + `(this adapter's r) hold `, h('strong', { 'data-value': f.energy_in_top_r }, pct(f.energy_in_top_r)),
    ` of the change’s energy: the share a rank-${f.r} update could have captured.`),
    h('ol', { class: 'bars', 'aria-label': 'singular values of the full fine-tuning change, largest first' },
      ...f.singular_values.slice(0, Math.max(2 * f.r, 8)).map((s, k) => {
        const bar = h('span', { class: 'bar' });
        bar.style.width = `${Math.max(0.5, (100 * s) / top)}%`;
        return h('li', { 'data-value': s, class: k < f.r ? 'top' : '' }, bar, ` \u03c3${k + 1} = ${s.toPrecision(4)}`);
      })));
}

export function startInsidePanel({ store, client }) {
  let inside = null;
  let chosen = 0;

  function draw() {
    const el = $('inside-result');
    if (!inside) { el.replaceChildren(); return; }
    const m = inside.modules[chosen];
    el.replaceChildren(
      h('p', {}, `${inside.name}: r = ${inside.r}, scaling = ${inside.scaling}, ${inside.modules.length} adapted modules.`),
      heatmap(inside, chosen, (i) => { chosen = i; draw(); }),
      spectrum(inside, m),
      inside.full ? fullSpectrum(inside, m.module) : similarity(inside, m.module));
  }

  store.watch(['kept'], ({ kept }) => {
    const select = $('inside-compare');
    const before = select.value;
    select.replaceChildren(new Option('no other run', ''),
      ...kept.adapters.map((a, i) => [a, i]).filter(([a, i]) => ['lora', 'full'].includes(a.method) && i !== kept.chosen)
        .map(([a, i]) => new Option(a.method === 'full' ? `${a.name} (full fine-tuning: its spectrum)` : a.name, String(i))));
    if ([...select.options].some((o) => o.value === before)) select.value = before;
    $('inside-look').disabled = kept.chosen < 0;
    // A removed or changed list makes the drawing stale.
    inside = null;
    draw();
  });
  $('inside-look').disabled = true;

  $('inside-look').addEventListener('click', async () => {
    showError('err-inside', null);
    const { kept } = store.get();
    const compare = $('inside-compare').value;
    try {
      inside = await client.call('inspect_adapter', { index: kept.chosen, compare: compare === '' ? null : Number(compare) });
      // Start on the module whose update is largest relative to its weight.
      chosen = inside.modules.reduce((best, m, i, all) => (m.relative > all[best].relative ? i : best), 0);
      draw();
    } catch (e) {
      inside = null;
      draw();
      showError('err-inside', e);
    }
  });
}
