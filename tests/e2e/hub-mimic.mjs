// A local stand-in for the Hugging Face Hub: its URL layout (/{org}/{name}/resolve/{revision}/{file}), its CORS
// header, and each way a download goes wrong, one model id apiece, so the page and the CLI can be tested on every
// failure without reaching outside the machine.
//   org/tiny-bert  the tiny model, whole          org/t5      a config.json naming model_type "t5"
//   org/missing    404 (no such model)             org/html    200 with an HTML page (a wrong hub address)
//   org/gated      401 with X-Error-Code GatedRepo org/short   model.safetensors complete but half as long as HEAD said
//   org/private    403                             org/flaky   model.safetensors cut off mid-body unless healed
//   org/mixed      a config whose vocab_size is smaller than the tokenizer's (files of two models)
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// `tinyDir`: a folder with the tiny model's three files (`lora-playground tiny-model --out DIR`).
export function startMimic(port, tinyDir) {
  const tiny = Object.fromEntries(['config.json', 'tokenizer.json', 'model.safetensors'].map((f) => [f, readFileSync(join(tinyDir, f))]));
  const withConfig = (change) => ({ ...tiny, 'config.json': Buffer.from(JSON.stringify({ ...JSON.parse(tiny['config.json']), ...change })) });
  const models = { 'tiny-bert': tiny, short: tiny, flaky: tiny, t5: withConfig({ model_type: 't5' }), mixed: withConfig({ vocab_size: 20 }) };
  const requests = []; // "METHOD /path" of every request, in order
  let healed = false;

  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'X-Error-Code, Content-Length' };
    const m = /^\/org\/([\w.-]+)\/resolve\/main\/([\w.-]+)$/.exec(req.url);
    const [name, file] = m ? [m[1], m[2]] : [null, null];
    const reply = (status, headers, body) => {
      res.writeHead(status, { ...cors, ...headers, 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (name === 'gated') return reply(401, { 'x-error-code': 'GatedRepo', 'content-type': 'application/json' }, Buffer.from('{"error":"Access to model org/gated is restricted."}'));
    if (name === 'private') return reply(403, { 'content-type': 'application/json' }, Buffer.from('{"error":"forbidden"}'));
    if (name === 'html') return reply(200, { 'content-type': 'text/html; charset=utf-8' }, Buffer.from('<!doctype html><title>Not a hub</title><p>Welcome'));
    const body = models[name]?.[file];
    if (!body) return reply(404, { 'x-error-code': 'RepoNotFound', 'content-type': 'application/json' }, Buffer.from('{"error":"Repository not found"}'));
    const type = { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' };
    const weights = file === 'model.safetensors' && req.method === 'GET';
    if (weights && name === 'short') return reply(200, type, body.subarray(0, body.length >> 1));
    if (weights && name === 'flaky' && !healed) {
      // Headers promise the whole file; half of it comes, then the connection is dropped.
      res.writeHead(200, { ...cors, ...type, 'content-length': body.length });
      res.write(body.subarray(0, body.length >> 1));
      setTimeout(() => res.socket.destroy(), 100);
      return undefined;
    }
    return reply(200, type, body);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${port}`,
    requests,
    heal: (on = true) => { healed = on; },
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
  })));
}
