#!/usr/bin/env bash
# Runs every test: Rust unit and integration tests (native), wasm tests in headless Chromium, and the page's
# end-to-end tests in headless Chromium. Installs what is missing first.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_wasm_target
ensure_wasm_bindgen
# chromium for the browser tests; Mesa's lavapipe (a CPU Vulkan driver) for the native wgpu test.
ensure_apt chromium chromium-driver mesa-vulkan-drivers libvulkan1
ensure_npm
ensure_model

step "cargo test (native)"
(cd "$ROOT" && cargo test --workspace)

step "cargo test (wasm32 in headless Chromium)"
# wasm-bindgen-test-runner drives chromedriver; webdriver.json adds --enable-unsafe-webgpu and headless flags.
(cd "$ROOT/crate" && CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --no-default-features --test wasm)

build_wasm
build_cli
step "page end-to-end tests (Playwright + Debian chromium)"
(cd "$ROOT" && LORA_PLAYGROUND_CLI="$CLI" node tests/e2e/run.mjs)
echo
echo "all tests passed"
