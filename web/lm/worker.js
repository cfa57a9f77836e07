// The language-model page's worker: owns the trainer wasm's `LmLab` (crate/src/train/causal/lab.rs) so the page
// never freezes, and answers each request {id, type, args} with {id, result} or {id, error: {kind, field, message,
// line}} (web/train/client.js's protocol). The page drives the run (one `step` call per optimizer step) and the
// answers (one `next_token` call per token), so Stop takes effect at the next step or token.
let lab = null;
let memory = null; // the wasm instance's memory (it only grows: its size is the tab's peak for the model side)
const ready = import('../pkg-train/lora_playground.js').then(async (pkg) => {
  memory = (await pkg.default()).memory;
  lab = new pkg.LmLab();
  self.LmLab = pkg.LmLab;
});

function asError(e, field) {
  const err = e && typeof e === 'object' && 'message' in e ? e : { message: String(e) };
  return { kind: err.kind ?? 'internal', field: err.field ?? field, message: err.message, line: err.line ?? null };
}

const CALLS = {
  set_device: ({ kind }) => lab.set_device(kind),
  set_base: ({ base }) => lab.set_base(base),
  load_gguf: ({ name, bytes }) => lab.load_gguf(name, new Uint8Array(bytes)),
  load_folder: ({ name, config, tokenizer, weights, tokenizerConfig, chatTemplate }) =>
    lab.load_folder(name, config, new Uint8Array(tokenizer), new Uint8Array(weights), tokenizerConfig ?? undefined, chatTemplate ?? undefined),
  builtin: ({ name }) => self.LmLab.builtin_dataset(name),
  load_data: ({ name, bytes, valFraction, seed, maxLen }) => lab.load_data(name, new Uint8Array(bytes), valFraction, BigInt(seed), maxLen),
  preview: () => lab.preview(),
  held_out_prompts: () => lab.held_out_prompts(),
  start: ({ plan }) => lab.start(plan),
  step: () => lab.step(),
  begin_answer: ({ prompt, adapter, chat, maxNewTokens, temperature, seed }) =>
    lab.begin_answer(prompt, adapter, chat, maxNewTokens, temperature, BigInt(seed)),
  next_token: () => lab.next_token(),
  export_adapter: () => lab.export_adapter(),
  export_notebook: ({ plan }) => lab.export_notebook(plan),
  memory: () => memory.buffer.byteLength,
};

// One call at a time: the model lives in one place.
let queue = Promise.resolve();
self.addEventListener('message', ({ data: { id, type, args } }) => {
  queue = queue.then(async () => {
    try {
      await ready;
      const fn = CALLS[type];
      if (!fn) throw { field: 'worker', message: `unknown request '${type}'` };
      self.postMessage({ id, result: await fn(args ?? {}) });
    } catch (e) {
      self.postMessage({ id, error: asError(e, type) });
    }
  });
});
