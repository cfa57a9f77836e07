// A lesson page: every figure, question and chart the build wrote (crate/src/lesson/build) is recomputed here by
// the calculator's wasm, and again for exactly the elements that name a control (`r="@rank"`) when it moves. The
// controls' values live in the URL hash (this page's property table is its controls), so a link keeps them.
import init, * as engine from '../pkg/lora_playground.js';
import { drawSeries } from './chart.js';
import { grouped } from '../format.js';

if ('serviceWorker' in navigator && window.isSecureContext) {
  navigator.serviceWorker.register(new URL('../../sw.js', import.meta.url), { scope: new URL('../../', import.meta.url).pathname }).catch(() => {});
}

const controls = new Map(); // name -> {el, kind, read(), write(value)}
const values = new Map(); // name -> value as a string

function specOf(el) {
  const spec = JSON.parse(el.dataset.spec);
  for (const [k, v] of Object.entries(spec)) {
    const name = typeof v === 'string' && v.trim().startsWith('@') ? v.trim().slice(1) : null;
    if (name !== null) spec[k] = values.get(name) ?? '';
  }
  return spec;
}

function message(e) {
  return e && e.message ? `${e.field ? `${e.field}: ` : ''}${e.message}` : String(e);
}

// Shows an engine error in place of the element's figure, and keeps the figure's last value out of sight.
function failed(el, e) {
  el.classList.add('lp-failed');
  el.dataset.error = message(e);
  el.title = message(e);
}

function updateFigure(el) {
  try {
    const shown = engine.lesson_figure(specOf(el));
    el.textContent = shown.text;
    el.dataset.value = String(shown.value);
    el.classList.remove('lp-failed');
    delete el.dataset.error;
  } catch (e) {
    failed(el, e);
    el.textContent = 'n/a';
  }
  el.dataset.source = 'page';
}

function updateChart(el) {
  try {
    drawSeries(el, engine.lesson_series(specOf(el)), el.dataset.title);
  } catch (e) {
    failed(el, e);
    el.textContent = `chart: ${message(e)}`;
  }
  el.dataset.source = 'page';
}

function setupQuestion(el) {
  const input = el.querySelector('input');
  const result = el.querySelector('.lp-q-result');
  const hint = el.querySelector('.lp-q-hint');
  const reveal = el.querySelector('[data-lp-reveal]');
  const check = () => {
    try {
      const c = engine.lesson_check(specOf(el), input.value);
      el.dataset.correct = String(c.correct);
      result.textContent = c.correct ? `Right: ${input.value.trim()} (read as ${grouped(c.read_as)}).` : `Not yet: ${input.value.trim()} was read as ${grouped(c.read_as)}.`;
      if (!c.correct) { if (hint) hint.hidden = false; reveal.hidden = false; }
    } catch (e) {
      el.dataset.correct = 'false';
      result.textContent = message(e);
    }
  };
  el.querySelector('[data-lp-check]').addEventListener('click', check);
  input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') check(); });
  reveal.addEventListener('click', () => {
    try { result.textContent = `The answer: ${engine.lesson_figure(specOf(el)).text}.`; } catch (e) { result.textContent = message(e); }
  });
}

// A question whose setup moved: its answer changed, so an earlier verdict no longer holds.
function resetQuestion(el) {
  delete el.dataset.correct;
  el.querySelector('.lp-q-result').textContent = '';
}

function readControls() {
  for (const el of document.querySelectorAll('[data-lp="control"]')) {
    const kind = el.dataset.kind;
    const field = kind === 'targets' ? null : el.querySelector(kind === 'select' ? 'select' : 'input[type=range]');
    const number = el.querySelector('input[type=number]');
    const c = {
      read: () => kind === 'targets' ? [...el.querySelectorAll('input:checked')].map((b) => b.value).join(',') : field.value,
      write: (v) => {
        if (kind === 'targets') for (const b of el.querySelectorAll('input')) b.checked = v.split(',').includes(b.value);
        else { field.value = v; if (number) number.value = v; }
      },
    };
    controls.set(el.dataset.name, c);
    el.addEventListener('input', (ev) => {
      if (number && ev.target === number) { if (number.value === '' || !number.checkValidity()) return; field.value = number.value; }
      if (number && ev.target === field) number.value = field.value;
      changed(el.dataset.name, c.read());
    });
    values.set(el.dataset.name, c.read());
  }
}

function fromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [name, c] of controls) {
    if (params.has(name)) { c.write(params.get(name)); values.set(name, c.read()); }
  }
}

function toHash() {
  const params = new URLSearchParams();
  for (const [name, c] of controls) params.set(name, c.read());
  history.replaceState(null, '', `#${params}`);
}

function dependents(name) {
  return document.querySelectorAll(`[data-lp][data-depends~="${CSS.escape(name)}"]`);
}

function update(el) {
  if (el.dataset.lp === 'figure') updateFigure(el);
  else if (el.dataset.lp === 'chart') updateChart(el);
  else if (el.dataset.lp === 'question') resetQuestion(el);
}

function changed(name, value) {
  values.set(name, value);
  for (const el of dependents(name)) update(el);
  toHash();
  document.body.dataset.updates = String(Number(document.body.dataset.updates ?? 0) + 1);
}

// A table wider than the screen scrolls in its own box; the keyboard must be able to reach and scroll it too.
function scrollableTables() {
  for (const t of document.querySelectorAll('.lesson-body table')) {
    const wide = t.scrollWidth > t.clientWidth + 1;
    if (wide) { t.tabIndex = 0; t.setAttribute('role', 'region'); t.setAttribute('aria-label', t.querySelector('th')?.textContent ?? 'table'); }
    else if (t.getAttribute('role') === 'region') { t.removeAttribute('tabindex'); t.removeAttribute('role'); t.removeAttribute('aria-label'); }
  }
}

async function main() {
  await init();
  readControls();
  fromHash();
  for (const el of document.querySelectorAll('[data-lp="figure"]')) updateFigure(el);
  for (const el of document.querySelectorAll('[data-lp="chart"]')) updateChart(el);
  for (const el of document.querySelectorAll('[data-lp="question"]')) setupQuestion(el);
  window.addEventListener('hashchange', () => {
    const before = new Map(values);
    fromHash();
    for (const [name, v] of values) if (before.get(name) !== v) changed(name, v);
  });
  scrollableTables();
  window.addEventListener('resize', scrollableTables);
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  const status = document.querySelector('.lp-status');
  if (status) status.textContent = `The live figures could not start (${message(e)}); the figures shown are the ones written when the lesson was built.`;
  document.body.dataset.ready = 'failed';
});
