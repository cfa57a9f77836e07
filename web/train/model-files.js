// Model files: downloaded once with a progress report, then served from the browser's Cache Storage, so a
// reload (or a classroom with the network gone) needs nothing from the server. They come from this server's
// models/ folder, or by Hub id from the Hugging Face Hub (or a mirror of it) as transformers.js fetches them.
import { bytes } from '../format.js';

const CACHE = 'lora-playground-models-v1';
export const FILES = ['config.json', 'tokenizer.json', 'model.safetensors'];
// The float16 copy of a served model's weights (`lora-playground float16`, made by the set-up step): half the
// bytes to download, widened to float32 by the trainer as it reads them; and what rounding did, beside it.
export const FLOAT16 = 'model.f16.safetensors';
const FLOAT16_REPORT = 'model.f16.json';
export const DEFAULT_HUB = 'https://huggingface.co';

// `hf:ORG/NAME[@REVISION]` -> {repo, revision}; null for anything that is not an hf: id. Also takes the address
// of a model's page on the Hub (what a student copies from the browser bar). Names as the Hub allows them, so
// nothing typed can leave the URL path. Throws, naming the field, on an hf: id that is malformed.
export function parseHubId(text) {
  const page = /^https:\/\/huggingface\.co\/([^/?#]+(?:\/[^/?#]+)?)\/?$/.exec(text.trim());
  const id = page ? page[1] : text.trim().replace(/^hf:/, '');
  if (!page && !text.trim().startsWith('hf:')) return null;
  const m = /^((?:[\w-][\w.-]*\/)?[\w-][\w.-]*)(?:@([\w-][\w.-]*))?$/.exec(id);
  if (!m) throw { field: 'model', message: `'${text}' is not a Hub id: write ORG/NAME (letters, digits, '-', '_', '.'), optionally @REVISION` };
  return { repo: m[1], revision: m[2] ?? 'main' };
}

// Where each file of model `name` is: models/NAME/ on this server, or {hub}/{repo}/resolve/{revision}/.
// `weights`: 'float16' takes a served model's float16 copy where the server has one; the Hub's files are taken
// as they are.
export function modelSource(name, hub = DEFAULT_HUB, weights = 'float32') {
  const id = parseHubId(name);
  if (!id) {
    return { name, hub: null, float16: weights === 'float16', url: (file) => new URL(`models/${name}/${file}`, document.baseURI).href };
  }
  const base = (hub || DEFAULT_HUB).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw { field: 'hub', message: `'${hub}' is not an http(s) address (the Hub is ${DEFAULT_HUB})` };
  const shown = `hf:${id.repo}${id.revision === 'main' ? '' : `@${id.revision}`}`;
  // `repo` is what an exported adapter records as base_model_name_or_path (PEFT loads the base by it).
  return { name: shown, repo: id.repo, hub: base, url: (file) => `${base}/${id.repo}/resolve/${id.revision}/${file}` };
}

// What a refused request means, in words a student can act on. The Hub answers 401 both for a gated or
// private model and for one that does not exist (so as not to reveal private names).
function refusal(source, file, response) {
  const what = `${file} of ${source.name}`;
  const status = response.status;
  if (!source.hub) return `${what}: the server answered ${status} (run tools/serve.sh, which fetches the model)`;
  if (status === 404) return `${what}: not found (404) on ${source.hub}: check the id's spelling and revision`;
  if (status === 401 || status === 403) {
    return `${source.name}: refused (${status}): a gated or private model, or no such model (the Hub answers 401 for both). ` +
      'The page cannot log in: accept its terms on huggingface.co, download it there and load the folder from your disk';
  }
  return `${what}: ${source.hub} answered ${status}`;
}

const isHtml = (response) => (response.headers.get('content-type') ?? '').includes('text/html');
const htmlPage = (source, file) => `${file} of ${source.name}: ${source.hub ?? 'the server'} answered a web page, not the file` +
  (source.hub ? ` (is hub= a Hub or a mirror of one, with files at HUB/ORG/NAME/resolve/REVISION/FILE?)` : '');

async function get(source, file, init) {
  try {
    return await fetch(source.url(file), init);
  } catch {
    throw { field: 'model', message: `${file} of ${source.name}: cannot reach ${source.hub ?? 'the server'}: ` +
      (source.hub ? 'offline, or it does not let this page read it (CORS)' : 'is it still running?') };
  }
}

async function openCache() {
  try {
    return 'caches' in self ? await caches.open(CACHE) : null;
  } catch {
    return null; // Cache Storage needs a secure context (https or localhost): then we just download.
  }
}

// Reads a response body chunk by chunk, reporting bytes so far; a body that breaks off (the network gone, the
// server gone, fewer bytes than it promised) is an error, and nothing partial is returned or cached.
async function readWithProgress(response, onBytes, brokeOff) {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    let next;
    try {
      next = await reader.read();
    } catch {
      throw brokeOff(received);
    }
    const { done, value } = next;
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

// Fetches every file of `source` (modelSource); onProgress({file, loaded, total, cached}) after each chunk.
// `check(configText, weightsBytes)` runs once config.json is in, before the weights are fetched: it throws to
// stop a model that cannot be trained or cannot fit from downloading at all.
// Resolves with {config_json, tokenizer_json, safetensors, fromCache}.
export async function loadModelFiles(source, onProgress, check = null) {
  const cache = await openCache();
  const sizes = {};
  const data = {};
  let fromCache = true;
  // The float16 copy with its report where the server has both; else the float32 file.
  const float16 = source.float16 ? await float16Report(source, cache) : null;
  const weights = float16 ? FLOAT16 : 'model.safetensors';
  const files = ['config.json', 'tokenizer.json', weights];
  // Sizes first, so the bar shows the whole download, not one file at a time.
  for (const file of files) {
    const hit = cache && await cache.match(source.url(file));
    if (hit) { sizes[file] = Number(hit.headers.get('content-length')) || 0; continue; }
    fromCache = false;
    const head = await get(source, file, { method: 'HEAD' });
    if (!head.ok) throw { field: 'model', message: refusal(source, file, head) };
    if (isHtml(head)) throw { field: 'model', message: htmlPage(source, file) };
    // The float16 copy's own size from its report: a server that sends it gzipped announces the smaller size.
    sizes[file] = (file === FLOAT16 && float16.bytes) || Number(head.headers.get('content-length')) || 0;
  }
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  let before = 0;
  for (const file of files) {
    const url = source.url(file);
    let response = cache && await cache.match(url);
    const cached = Boolean(response);
    if (!response) {
      response = await get(source, file);
      if (!response.ok) throw { field: 'model', message: refusal(source, file, response) };
      if (isHtml(response)) throw { field: 'model', message: htmlPage(source, file) };
    }
    const expected = sizes[file];
    const brokeOff = (got) => ({ field: 'model', message: `the download of ${file} broke off after ${bytes(got)}` +
      (expected ? ` of ${bytes(expected)}` : '') + ': the network or the server went away. Nothing partial was kept: press Load to try again' });
    const body = await readWithProgress(response, (n) => onProgress({ file, loaded: before + n, total, cached }), brokeOff);
    // A complete response shorter than the size announced (a mirror's half-written file). Only "shorter": a
    // compressed transfer announces fewer bytes than it decodes to.
    if (!cached && expected && body.length < expected) {
      throw { field: 'model', message: `${file} of ${source.name} is truncated: ${bytes(body.length)} of ${bytes(expected)} arrived. Nothing was kept: press Load to try again` };
    }
    if (cache && !cached) {
      await cache.put(url, new Response(body, { headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } }));
    }
    data[file] = body;
    before += body.length;
    onProgress({ file, loaded: before, total, cached });
    if (file === 'config.json' && check) await check(new TextDecoder().decode(body), sizes[weights]);
  }
  const text = new TextDecoder();
  return {
    config_json: text.decode(data['config.json']),
    tokenizer_json: data['tokenizer.json'],
    safetensors: data[weights],
    fromCache,
    float16,
  };
}

// The served float16 copy's report (model.f16.json: sizes, the largest change rounding made), or null where the
// server has no copy, or one made from another float32 file than the one beside it now (its size differs): then
// the float32 file is downloaded. Kept in the cache with the files, for offline reloads.
async function float16Report(source, cache) {
  const url = source.url(FLOAT16_REPORT);
  const usable = (r) => r && typeof r.bytes === 'number' && typeof r.source_bytes === 'number' && typeof r.max_abs_change === 'number';
  try {
    const hit = cache && await cache.match(url);
    if (hit) {
      const report = await hit.json();
      return usable(report) ? report : null;
    }
    const response = await fetch(url);
    if (!response.ok || isHtml(response)) return null;
    const report = await response.clone().json();
    const float32 = await fetch(source.url('model.safetensors'), { method: 'HEAD' });
    if (!usable(report) || (float32.ok && Number(float32.headers.get('content-length')) !== report.source_bytes)) return null;
    if (cache) await cache.put(url, response);
    return report;
  } catch {
    return null;
  }
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
