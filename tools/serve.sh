#!/usr/bin/env bash
# Builds everything the playground needs and serves it on http://127.0.0.1:${PORT:-8080}/ (LP_HOST=0.0.0.0 for a LAN).
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
# LP_HOST=0.0.0.0 tools/serve.sh serves a classroom's network (default: this machine only).
exec "$CLI" serve --root "$ROOT" --host "${LP_HOST:-127.0.0.1}"
