#!/usr/bin/env bash
# Builds everything the playground needs and serves it on http://127.0.0.1:${PORT:-8080}/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm
ensure_model
build_wasm
build_train_wasm
vendor_web
build_cli
cd "$ROOT"
exec "$CLI" serve --root "$ROOT"
