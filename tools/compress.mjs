// Precompressed copies for static hosting: FILE.gz (gzip -9) and FILE.br (brotli, quality 11, 16 MiB window) beside each file
// given, with Node's own zlib (no extra tool to install). `serve` sends them to browsers that accept them; a host
// that does the same (or a CDN) saves each student most of the download. Each copy is checked to decompress to
// the original before it is kept.
//   node tools/compress.mjs [--gzip-only] FILE...   (--gzip-only: brotli at quality 11 takes minutes on a model's
//   float16 weights and saves nothing over gzip there: 41.80 vs 41.90 MB for MiniLM's 45.44)
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';

// The copies as served (tools/bench/wasm_build_bench.mjs measures sizes with these too).
export const gzip = (data) => gzipSync(data, { level: 9 });
export const brotli = (data) => brotliCompressSync(data, {
  // The largest window standard brotli has (24 bits; every browser decodes it): the trainer's wasm repeats code
  // further apart than the default 4 MiB window sees (3.10 against 3.19 MB).
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
    [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
  },
});

const run = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
const gzipOnly = process.argv.includes('--gzip-only');
for (const file of run ? process.argv.slice(2).filter((a) => a !== '--gzip-only') : []) {
  const data = readFileSync(file);
  const gz = gzip(data);
  if (!gunzipSync(gz).equals(data)) throw new Error(`${file}: the gzip copy does not round-trip`);
  writeFileSync(`${file}.gz`, gz);
  const pct = (n) => `${((100 * n) / data.length).toFixed(0)}%`;
  if (gzipOnly) {
    console.log(`${file}: ${data.length} bytes; gzip ${gz.length} (${pct(gz.length)})`);
    continue;
  }
  const br = brotli(data);
  if (!brotliDecompressSync(br).equals(data)) throw new Error(`${file}: the brotli copy does not round-trip`);
  writeFileSync(`${file}.br`, br);
  console.log(`${file}: ${data.length} bytes; gzip ${gz.length} (${pct(gz.length)}), brotli ${br.length} (${pct(br.length)})`);
}
