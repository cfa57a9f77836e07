// The target_modules checkboxes, from the calculator's own module list for the loaded model (`describe`'s
// target_choices): PEFT's names for that architecture (DistilBERT's q_lin, not BERT's query), whatever was
// loaded. LoRA on embeddings is the calculator's to count but not the trainer's to train, so only layers show.
import { $, h } from '../dom.js';

// PEFT matches a target name to a module when the module's name is it or ends with `.` + it.
const matches = (name, target) => name === target || name.endsWith(`.${target}`);
// The names among `names` that `target` takes, and whether two such lists are the same.
const takes = (names, target) => names.filter((n) => matches(n, target));
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// Each choice's label: the shortest dotted suffix of its block-relative name that matches exactly the choices the
// full name matches, as a user would type it (`attention.self.query` -> `query`; `output.dense` stays, since
// `dense` would also take `intermediate.dense`).
export function shortNames(names) {
  return names.map((name) => {
    const want = takes(names, name);
    const parts = name.split('.');
    for (let i = parts.length - 1; i > 0; i--) {
      const suffix = parts.slice(i).join('.');
      if (same(takes(names, suffix), want)) return suffix;
    }
    return name;
  });
}

// The layer names a model offers as targets, from `describe(...).target_choices`: {names: the boxes' short names,
// full: the calculator's block-relative names, in the same order}.
export function targetNames(choices) {
  const full = choices.filter((c) => c.kind !== 'embedding').map((c) => c.name);
  return { names: shortNames(full), full };
}

// A ticked name that takes exactly the modules one box takes becomes that box (a calculator link's `attn.Wqkv` is
// the box `Wqkv`); any other stays as it is.
function asBox(name, { names, full }) {
  const taken = takes(full, name);
  const i = names.findIndex((box) => same(takes(full, box), taken));
  return taken.length > 0 && i >= 0 ? names[i] : name;
}

// Replaces the boxes with the model's (`targetNames`), keeping what is ticked; a ticked name the model lacks keeps a
// box of its own (the plan check then says it matches nothing here), so a link made for another model loses nothing.
export function setTargetBoxes(choices) {
  const { names } = choices;
  const boxes = [...document.querySelectorAll('input[name=target]')];
  const was = boxes.filter((b) => b.checked).map((b) => b.value);
  const ticked = was.map((name) => asBox(name, choices));
  const disabled = $('all-linear').checked;
  for (const b of boxes) b.closest('label').remove();
  const before = $('all-linear').closest('label');
  for (const name of [...names, ...ticked.filter((t) => !names.includes(t))]) {
    const box = h('input', { type: 'checkbox', name: 'target', value: name, checked: ticked.includes(name), disabled });
    before.before(h('label', {}, box, ` ${name}`));
  }
  // A name that became its box: the settings (and the link) are read from the boxes again.
  if (ticked.some((t, i) => t !== was[i])) document.querySelector('input[name=target]').dispatchEvent(new Event('change', { bubbles: true }));
}
