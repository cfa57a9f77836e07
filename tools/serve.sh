#!/usr/bin/env bash
# Builds the playground and serves it on http://127.0.0.1:${PORT:-8080}/ (LP_HOST=0.0.0.0 for a LAN).
#
# The first ten minutes: the calculator and the server need no burn, so they are built first (a few minutes on a
# cold machine) and served at once; the trainer (burn compiled to WebAssembly, 30-45 minutes cold) and the default
# model follow in the background, logged to runs/trainer-build.log. train.html says it is waiting and starts by
# itself when the trainer lands; nothing needs a restart.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wasm_target
ensure_wasm_bindgen
ensure_npm
build_wasm
vendor_web
build_cli
step "lessons: lessons/*.md -> lessons/*.html (warnings name the file and line)"
"$CLI" lesson build "$ROOT/lessons"
cd "$ROOT"
mkdir -p "$ROOT/runs"
log="$ROOT/runs/trainer-build.log"
exec 3>&2 # the terminal, for the one line that says the trainer is ready
(
  # Quiet here: the server's address is what the terminal should show; the log has the rest.
  if ensure_model && ensure_lm && build_train_wasm; then
    echo "==> the trainer is ready: train.html starts by itself" >&3
  else
    echo "==> the trainer's build failed: see $log" >&3
  fi
) >"$log" 2>&1 &
echo "==> building the trainer and fetching the model in the background (tail -f runs/trainer-build.log)"
# LP_HOST=0.0.0.0 tools/serve.sh serves a classroom's network (default: this machine only); LP_TLS=1 serves it over
# https with a self-signed certificate kept in runs/tls/ (browsers give WebGPU and the offline copy to https only).
tls=(); [ "${LP_TLS:-0}" = 1 ] && tls=(--tls)
exec "$CLI" serve --root "$ROOT" --host "${LP_HOST:-127.0.0.1}" "${tls[@]}"
