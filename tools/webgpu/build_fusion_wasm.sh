#!/usr/bin/env bash
# tools/webgpu/build_fusion_wasm.sh: the trainer's wasm as shipped but with burn's kernel fusion (`--features
# fusion`), into web/pkg-train-fusion/, for measuring against the shipped one (tools/webgpu/fusion_bench.mjs).
# Its own build of burn's crates (fusion changes their features): about 15 minutes cold on 2 cores.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
ensure_wasm_target
ensure_wasm_bindgen
step "cargo build (wasm32, trainer with burn's fusion)"
(cd "$ROOT" && CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$TRAIN_WASM_RUSTFLAGS" \
  cargo build --profile wasm-train --target wasm32-unknown-unknown -p lora-playground --lib --features fusion)
rm -rf "$ROOT/web/pkg-train-fusion"
wasm-bindgen --target web --no-typescript --remove-name-section --out-dir "$ROOT/web/pkg-train-fusion" "$TRAIN_WASM"
# The shipped wasm's file is the same path: the next build_train_wasm rebuilds it (its stamp no longer matches).
echo "web/pkg-train-fusion: $(stat -c %s "$ROOT/web/pkg-train-fusion/lora_playground_bg.wasm") bytes"
