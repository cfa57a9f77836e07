// The offline copy of the app: every page file (HTML, JS, CSS, wasm) is fetched from the server when it answers
// and kept; when it does not (the laptop serving the room went away, no network), the kept copy is served. Network
// first, so a rebuilt app is never hidden behind a stale cache. Model files are cached by the page itself
// (web/train/model-files.js) with a download progress bar, so they are left alone here.
const CACHE = 'lora-playground-app-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.includes('/models/')) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok) await cache.put(event.request, response.clone());
      return response;
    } catch (err) {
      const kept = await cache.match(event.request, { ignoreSearch: true });
      if (kept) return kept;
      throw err;
    }
  })());
});
