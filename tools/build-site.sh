#!/usr/bin/env bash
# tools/build-site.sh [DIR] [--no-model]: the playground as one self-contained static folder (default: site/) that
# any static host serves as it is: a university web space, GitHub Pages, a CDN, `python3 -m http.server`. Both
# pages, the offline copy (sw.js), the modules, both wasm files with precompressed .gz and .br copies, the vendored
# chart library, the lessons (lessons/*.md rendered, lessons/index.html) and (unless --no-model) the default model
# under models/. Every URL inside is relative, so the
# folder works from any sub-path, and the service worker's scope follows it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
out="$ROOT/site"
with_model=1
for arg in "$@"; do
  case "$arg" in
    --no-model) with_model=0 ;;
    -*) echo "usage: tools/build-site.sh [DIR] [--no-model]" >&2; exit 2 ;;
    *) out="$arg" ;;
  esac
done
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm
[ "$with_model" = 1 ] && ensure_model
build_wasm
build_train_wasm
vendor_web
build_cli

step "writing the site to $out"
rm -rf "$out"
mkdir -p "$out/web/train/panels" "$out/web/lm" "$out/web/lesson" "$out/web/pkg" "$out/web/pkg-train" "$out/web/vendor"
cp "$ROOT"/index.html "$ROOT"/train.html "$ROOT"/lm.html "$ROOT"/sw.js "$out/"
cp "$ROOT"/web/*.js "$ROOT"/web/*.css "$out/web/"
cp "$ROOT"/web/train/*.js "$ROOT"/web/train/*.css "$out/web/train/"
cp "$ROOT"/web/train/panels/*.js "$out/web/train/panels/"
cp "$ROOT"/web/lm/*.js "$ROOT"/web/lm/*.css "$out/web/lm/"
cp "$ROOT"/web/lesson/*.js "$ROOT"/web/lesson/*.css "$out/web/lesson/"
"$CLI" lesson build "$ROOT/lessons" --out "$out/lessons"
cp "$ROOT"/web/pkg/lora_playground.js "$ROOT"/web/pkg/lora_playground_bg.wasm "$out/web/pkg/"
cp "$ROOT"/web/pkg-train/lora_playground.js "$ROOT"/web/pkg-train/lora_playground_bg.wasm "$out/web/pkg-train/"
cp "$ROOT"/web/vendor/* "$out/web/vendor/"
if [ "$with_model" = 1 ]; then
  mkdir -p "$out/models/all-MiniLM-L6-v2"
  cp "$MODEL_DIR"/config.json "$MODEL_DIR"/tokenizer.json "$MODEL_DIR"/model.safetensors "$MODEL_DIR"/model.f16.safetensors \
    "$MODEL_DIR"/model.f16.safetensors.gz "$MODEL_DIR"/model.f16.json "$out/models/all-MiniLM-L6-v2/"
fi
# GitHub Pages: serve the folder as it is (no Jekyll processing).
touch "$out/.nojekyll"
# The big files get precompressed copies (float32 weights hardly compress: the model is left as it is).
node "$ROOT/tools/compress.mjs" "$out"/web/pkg/lora_playground_bg.wasm "$out"/web/pkg-train/lora_playground_bg.wasm \
  "$out"/web/pkg-train/lora_playground.js "$out"/web/vendor/uPlot.esm.js
echo
echo "site: $out ($(du -sh "$out" | cut -f1)); serve it with any static file server, e.g."
echo "  python3 -m http.server --directory '$out' 8000   # then open http://127.0.0.1:8000/"
