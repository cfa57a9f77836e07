// The two DOM helpers every page module used to define for itself. Nothing here touches `document` until called,
// so a module that imports this still loads where there is no page (Node, a worker).

// An element by id.
export const $ = (id) => document.getElementById(id);

// An element with attributes and children: `h('label', {}, box, ' query')`. `class`, `data-*`, `aria-*`, `role`
// and `scope` are set as attributes, anything else as a property (`checked`, `value`, `tabIndex`, `href`), and a
// child that is not a node becomes text, never parsed as HTML, so text from a dataset shows as the characters it is.
export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'scope') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
