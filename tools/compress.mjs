// Precompressed copies for static hosting: FILE.gz (gzip -9) and FILE.br (brotli, quality 11) beside each file
// given, with Node's own zlib (no extra tool to install). `serve` sends them to browsers that accept them; a host
// that does the same (or a CDN) saves each student most of the download. Each copy is checked to decompress to
// the original before it is kept.
//   node tools/compress.mjs FILE...
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const gz = gzipSync(data, { level: 9 });
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  if (!gunzipSync(gz).equals(data) || !brotliDecompressSync(br).equals(data)) throw new Error(`${file}: a compressed copy does not round-trip`);
  writeFileSync(`${file}.gz`, gz);
  writeFileSync(`${file}.br`, br);
  const pct = (n) => `${((100 * n) / data.length).toFixed(0)}%`;
  console.log(`${file}: ${data.length} bytes; gzip ${gz.length} (${pct(gz.length)}), brotli ${br.length} (${pct(br.length)})`);
}
