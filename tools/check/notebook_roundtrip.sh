#!/usr/bin/env bash
# The round trip page -> notebook -> adapter -> page (issue 29): `train` a LoRA run (the page's trainer, natively),
# `export-run` it as a PEFT script, run the script with PyTorch + transformers + PEFT on the CPU, then read the
# adapter the script saved back with `predict` (the page's loader): PEFT's trainable count beside the page's, both
# validation accuracies, and whether the page predicts what PEFT predicted with that adapter, text for text.
# Not in the test command (it needs torch, transformers and peft: $LP_PYTHON, default python3, with
#   pip install torch transformers peft accelerate).
# Usage: tools/check/notebook_roundtrip.sh [MODEL] [DATA] [train flags...]
#   MODEL: tiny (default; the tiny random BERT, written as a folder), or a model folder such as models/all-MiniLM-L6-v2
#   DATA: builtin:complaints (default), or a CSV/TSV/JSONL file
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="${1:-tiny}"
DATA="${2:-builtin:complaints}"
FLAGS=("${@:3}")
PY="${LP_PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ "$MODEL" = tiny ]; then
  "$ROOT/tools/lp.sh" tiny-model --out "$WORK/tiny" >/dev/null
  MODEL="$WORK/tiny"
fi
"$ROOT/tools/lp.sh" train --model "$MODEL" --data "$DATA" --out "$WORK/page" --quiet "${FLAGS[@]}" > "$WORK/page.jsonl"
"$ROOT/tools/lp.sh" export-run --run "$WORK/page" --out "$WORK/nb" >/dev/null
(cd "$WORK/nb" && "$PY" run.py > "$WORK/script.log" 2>&1) || { tail -30 "$WORK/script.log"; exit 1; }
"$PY" -c "import json,sys; [print(json.dumps({'text': json.loads(l)['text']})) for l in open(sys.argv[1])]" \
  "$WORK/nb/lora-run/predictions.jsonl" > "$WORK/validation.jsonl"
"$ROOT/tools/lp.sh" predict --model "$MODEL" --adapter "$WORK/nb/lora-run" --input "$WORK/validation.jsonl" > "$WORK/ours.jsonl"
"$PY" "$ROOT/tests/reference/notebook_roundtrip.py" "$WORK/page" "$WORK/page.jsonl" "$WORK/script.log" "$WORK/nb/lora-run" "$WORK/ours.jsonl"
