#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (native), wasm tests in headless Chromium, and the page's
# end-to-end tests in headless Chromium. Installs what is missing first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wasm_target
ensure_rustfmt
# chromium for the browser tests; Mesa's lavapipe (a CPU Vulkan driver) for the native wgpu test; python3 for the
# static-site test (a static file server that is not ours).
ensure_apt chromium chromium-driver python3
# Mesa 25's lavapipe (bookworm-backports): the native wgpu test and Dawn's WebGPU in Node (tools/webgpu/) run on it.
ensure_mesa_backports

# What the native tests do not need is built (and the wasm trainer's tests run) beside them: on a new machine the
# builds are most of the hour (docs/MEASUREMENTS.md "A new machine"), and a build alone leaves a core idle for
# minutes (a crate that waits for the one before it, the fat-LTO links, brotli). They use their own build folders
# (release, wasm-train), so neither cargo waits for the other's lock. Their order matters: cargo keeps one
# fingerprint for the trainer's library whatever its features, so the tests' build (with test-hooks), the page
# tests' trainer (the same) and the shipped one (without) come in that order, each built once, and
# `tools/serve.sh` after the tests finds the shipped one built. Their log is printed whole when they end.
BESIDE_LOG="$ROOT/tests/artifacts/builds-beside-the-native-tests.log"
mkdir -p "$(dirname "$BESIDE_LOG")"
set -m # the builds in a process group of their own, stopped with it if the native tests fail
(
  ensure_wasm_bindgen
  build_cli
  step "cargo test (wasm32 trainer in headless Chromium: burn on the CPU backend and on WebGPU)"
  # The time limit is for a hang, not a speed check: the run shares the cores with the native tests (106 s alone).
  (cd "$ROOT/crate" && CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=900 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$TRAIN_WASM_RUSTFLAGS" \
    cargo test --profile wasm-train --target wasm32-unknown-unknown --test wasm_train)
  build_train_wasm_hooks
  build_train_wasm
) >"$BESIDE_LOG" 2>&1 &
beside=$!
set +m
trap 'kill -- -"$beside" 2>/dev/null || true' EXIT
step "beside the native tests, in the background (log: tests/artifacts/$(basename "$BESIDE_LOG")): wasm-bindgen, the server's CLI, the wasm trainer's tests, the trainer's wasm builds"

ensure_npm
fetch_model
ensure_lm

step "the code's form: cargo fmt --check (rustfmt.toml), and no import circle among crate/src's files"
(cd "$ROOT" && cargo fmt --all --check)
python3 "$ROOT/tools/import_cycles.py" "$ROOT/crate/src"

step "cargo test (native; the real SmolLM2 GGUF against transformers' reading of it is required here)"
(cd "$ROOT" && LP_REQUIRE_REAL_MODELS=1 cargo test --workspace)

step "waiting for the builds beside the native tests"
if wait "$beside"; then status=0; else status=$?; fi
trap - EXIT
cat "$BESIDE_LOG"
if [ "$status" != 0 ]; then echo "error: a build or the wasm trainer's tests beside the native tests failed (exit $status): the log is above" >&2; exit 1; fi
CLI="$RELEASE_CLI" # built in the background chain, whose variables do not come back here
model_float16

step "cargo test (wasm32 in headless Chromium)"
# wasm-bindgen-test-runner drives chromedriver; webdriver.json adds --enable-unsafe-webgpu and headless flags.
(cd "$ROOT/crate" && CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --no-default-features --test wasm)

build_wasm
vendor_web
step "page end-to-end tests (Playwright + Debian chromium)"
(cd "$ROOT" && LORA_PLAYGROUND_CLI="$CLI" node tests/e2e/run.mjs)
# The training-enabled CLI that `cargo test` built above (native, for the same-seed comparison and the server).
TRAIN_CLI="$CARGO_TARGET_DIR/debug/lora-playground"
page_test() { (cd "$ROOT" && LORA_PLAYGROUND_CLI="$TRAIN_CLI" node "tests/e2e/$1"); }
step "training page end-to-end tests (tiny model, WebGPU and CPU; screenshots in tests/artifacts/)"
page_test train.mjs
step "one run over several CPU workers: N workers give one worker's losses; a helper crash ends the sharing, not the run"
page_test workers.mjs
step "runs that survive: a trap mid-run and a reload mid-run carry the run on with the same losses"
page_test recovery.mjs
step "bad input in the page: broken datasets, damaged adapter folders, bad link settings"
page_test bad_input.mjs
step "a language model in the page: a tiny decoder trained with LoRA, answers before and after, the PEFT adapter"
page_test lm.mjs
step "both pages embedded in a lesson (another origin, hide=), and a setup from the calculator to the trainer and back"
page_test lesson.mjs
step "inside the adapter in the page: heatmap, spectrum and subspace similarity against numpy's figures"
page_test inside.mjs
step "the Experiment panel: a linked sweep in the page gives the CLI sweep's figures; its table, exports and stop"
page_test experiment.mjs
step "models by Hub id: page and CLI against a local Hub-layout server (every failure), serve as a mirror"
page_test hub.mjs
step "a classroom in a secure context: serve --tls at a non-localhost address; plain http says what it lacks"
page_test tls.mjs
step "the static site under a sub-path, served by Python's http.server (tools/build-site.sh --no-model)"
SITE="$ROOT/tests/artifacts/site-root/course/playground"
"$ROOT/tools/build-site.sh" "$SITE" --no-model >/dev/null
SITE_DIR="$SITE" page_test site.mjs
step "the page's trainer without a browser: its wasm and worker in Node, WebGPU from Dawn on lavapipe, MiniLM losses = the CPU path's"
(cd "$ROOT" && node tests/e2e/webgpu_node.mjs "$MODEL_DIR")
step "lesson pages in the same static site: live figures = count --json, controls, questions, mistakes, axe, print, offline"
(cd "$ROOT" && LORA_PLAYGROUND_CLI="$CLI" SITE_DIR="$SITE" node tests/e2e/lessons.mjs)
echo
echo "all tests passed"
