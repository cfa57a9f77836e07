#!/usr/bin/env bash
# Makes crate/tests/fixtures/inspect/ for the `inspect` tests: the tiny random model (`tiny-model`), three runs on
# it over a keyword task (LoRA r=4 and r=8 on query, value and intermediate.dense; full fine-tuning), and the numpy
# reference values (tests/reference/inspect_reference.py) computed from those files' bytes.
#   LORA_PLAYGROUND_CLI=path/to/lora-playground tests/reference/inspect_fixtures.sh   (needs python3 with numpy)
set -euo pipefail
cd "$(dirname "$0")/../.."
cli="${LORA_PLAYGROUND_CLI:-${CARGO_TARGET_DIR:-$HOME/.cache/lp/target}/debug/lora-playground}"
out=crate/tests/fixtures/inspect
rm -rf "$out" && mkdir -p "$out"
"$cli" tiny-model --out "$out/base"
data="$(mktemp --suffix .csv)"
python3 - "$data" <<'PY'
import sys
words = {"bank": "money bank card fee", "school": "school student loan", "happy": "love great good"}
rows = ["text,label"]
for i in range(60):
    label = list(words)[i % 3]
    w = words[label].split()
    rows.append(" ".join(w[(i + k) % len(w)] for k in range(2 + i % 3)) + f",{label}")
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
common=(--model "$out/base" --data "$data" --epochs 4 --batch-size 8 --max-len 16 --seed 0 --quiet)
"$cli" train "${common[@]}" --r 4 --alpha 8 --targets query,value,intermediate.dense --lr 5e-3 --out "$out/r4"
"$cli" train "${common[@]}" --r 8 --alpha 16 --targets query,value,intermediate.dense --lr 5e-3 --out "$out/r8"
"$cli" train "${common[@]}" --method full --lr 1e-3 --out "$out/full"
rm -f "$out/full/tokenizer.json" "$data"
python3 tests/reference/inspect_reference.py "$out" > "$out/expected.json"
du -sh "$out"
