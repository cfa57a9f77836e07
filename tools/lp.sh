#!/usr/bin/env bash
# Runs the lora-playground CLI with training (train, predict, bench, count, serve), building it first if needed
# in the shared warm target directory (dependencies optimised; see Cargo.toml's profile notes).
#   tools/lp.sh train --data builtin:complaints --out runs/lora
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_model >&2
ensure_lm >&2
(cd "$ROOT" && cargo build -q -p lora-playground --bin lora-playground) >&2
exec "$CARGO_TARGET_DIR/debug/lora-playground" "$@"
