// The offline copy of the app: every page file (HTML, JS, CSS, wasm) is fetched from the server when it answers
// and kept; when it does not (the laptop serving the room went away, no network), the kept copy is served. Network
// first, so a rebuilt app is never hidden behind a stale cache. Model files are cached by the page itself
// (web/train/model-files.js) with a download progress bar, so they are left alone here.
const CACHE = 'lora-playground-app-v1';

// The whole app, fetched when the worker installs (the first visit's own requests came before it ran).
const APP = [
  'index.html', 'train.html', 'lm.html',
  'web/style.css', 'web/format.js', 'web/app.js', 'web/state.js', 'web/view.js', 'web/chart.js', 'web/links.js',
  'web/hash-state.js', 'web/dom.js',
  'web/pkg/lora_playground.js', 'web/pkg/lora_playground_bg.wasm',
  'web/train/app.js', 'web/train/state.js', 'web/train/store.js', 'web/train/client.js', 'web/train/worker.js',
  'web/train/model-files.js', 'web/train/charts.js', 'web/train/view.js', 'web/train/train.css',
  'web/train/recovery.js', 'web/train/saved-run.js', 'web/train/building.js', 'web/train/experiment-table.js', 'web/train/targets.js',
  'web/train/helpers.js', 'web/train/step-time.js',
  ...['device', 'model', 'data', 'run', 'results', 'history', 'adapters', 'inside', 'experiment'].map((p) => `web/train/panels/${p}.js`), 'web/vendor/uPlot.esm.js', 'web/vendor/uPlot.min.css',
  'web/pkg-train/lora_playground.js', 'web/pkg-train/lora_playground_bg.wasm',
  'web/lm/app.js', 'web/lm/ask.js', 'web/lm/state.js', 'web/lm/worker.js', 'web/lm/lm.css',
  // The lessons' script and styles; each lesson page is kept when first visited (a course adds its own).
  'lessons/index.html', 'web/lesson/lesson.js', 'web/lesson/chart.js', 'web/lesson/lesson.css',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const base = new URL('./', self.location.href);
    // One missing file must not stop the rest from being kept.
    await Promise.all(APP.map((f) => cache.add(new URL(f, base)).catch(() => {})));
    await self.skipWaiting();
  })());
});
self.addEventListener('activate', (e) => e.waitUntil((async () => {
  await self.clients.claim();
  // The page open while this worker installed was fetched before it ran, so nothing kept it: keep it now (a lesson
  // page a student opened first works offline after that one visit).
  const cache = await caches.open(CACHE);
  for (const client of await self.clients.matchAll({ type: 'window' })) {
    const url = new URL(client.url);
    if (url.origin === self.location.origin) await cache.add(url.href.split('#')[0]).catch(() => {});
  }
})()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.includes('/models/') || url.pathname.includes('/resolve/')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(event.request, response.clone());
      return response;
    } catch (err) {
      const kept = await cache.match(event.request, { ignoreSearch: true })
        ?? (event.request.mode === 'navigate' && url.pathname.endsWith('/') ? await cache.match(new URL('index.html', url)) : undefined);
      if (kept) return kept;
      throw err;
    }
  })());
});
