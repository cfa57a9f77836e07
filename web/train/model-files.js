// Model files: downloaded once with a progress report, then served from the browser's Cache Storage, so a
// reload (or a classroom with the network gone) needs nothing from the server.

const CACHE = 'lora-playground-models-v1';
export const FILES = ['config.json', 'tokenizer.json', 'model.safetensors'];

// Where the server puts the default model (tools/serve.sh copies it there).
export const modelUrl = (name, file) => new URL(`models/${name}/${file}`, document.baseURI).href;

async function openCache() {
  try {
    return 'caches' in self ? await caches.open(CACHE) : null;
  } catch {
    return null; // Cache Storage needs a secure context (https or localhost): then we just download.
  }
}

// Reads a response body chunk by chunk, reporting bytes so far.
async function readWithProgress(response, onBytes) {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onBytes(received);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

// Fetches every file of a model folder; onProgress({file, loaded, total, cached}) after each chunk.
// `check(configText, weightsBytes)` runs once config.json is in, before the weights are fetched: it throws to
// stop a model that cannot fit from downloading at all.
// Resolves with {config_json, tokenizer_json, safetensors, fromCache}.
export async function loadModelFiles(name, onProgress, check = null) {
  const cache = await openCache();
  const sizes = {};
  const bytes = {};
  let fromCache = true;
  // Sizes first, so the bar shows the whole download, not one file at a time.
  for (const file of FILES) {
    const url = modelUrl(name, file);
    const hit = cache && await cache.match(url);
    if (hit) { sizes[file] = Number(hit.headers.get('content-length')) || 0; continue; }
    fromCache = false;
    const head = await fetch(url, { method: 'HEAD' });
    if (!head.ok) throw { field: 'model', message: `${file} of ${name}: the server answered ${head.status} (run tools/serve.sh, which fetches the model)` };
    sizes[file] = Number(head.headers.get('content-length')) || 0;
  }
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  let before = 0;
  for (const file of FILES) {
    const url = modelUrl(name, file);
    let response = cache && await cache.match(url);
    const cached = Boolean(response);
    if (!response) {
      response = await fetch(url);
      if (!response.ok) throw { field: 'model', message: `${file} of ${name}: the server answered ${response.status}` };
    }
    const data = await readWithProgress(response, (n) => onProgress({ file, loaded: before + n, total, cached }));
    if (cache && !cached) {
      await cache.put(url, new Response(data, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) } }));
    }
    bytes[file] = data;
    before += data.length;
    onProgress({ file, loaded: before, total, cached });
    if (file === 'config.json' && check) await check(new TextDecoder().decode(data), sizes['model.safetensors']);
  }
  const text = new TextDecoder();
  return {
    config_json: text.decode(bytes['config.json']),
    tokenizer_json: bytes['tokenizer.json'],
    safetensors: bytes['model.safetensors'],
    fromCache,
  };
}

// A folder picked from disk (an <input type=file multiple>): the three files by name, whatever folder they are in.
export async function readPickedFolder(fileList) {
  const byName = {};
  for (const f of fileList) byName[f.name] = f;
  const missing = FILES.filter((f) => !byName[f]);
  if (missing.length) throw { field: 'model', message: `the chosen files lack ${missing.join(', ')} (pick config.json, tokenizer.json and model.safetensors together)` };
  return {
    config_json: await byName['config.json'].text(),
    tokenizer_json: new Uint8Array(await byName['tokenizer.json'].arrayBuffer()),
    safetensors: new Uint8Array(await byName['model.safetensors'].arrayBuffer()),
    fromCache: false,
  };
}
