#!/usr/bin/env bash
# When LoRA lags full fine-tuning, and what closes the gap (issue 14, the table in docs/MEASUREMENTS.md):
# all-MiniLM-L6-v2 on a `text,label` CSV, the settings of tests/reference/lora_gap.py (its PyTorch + PEFT side) one
# run each, with max length 128, batch 16, seed 0; prints held-out accuracy after each epoch.
#   python3 tools/sample_csv.py ../shared/datasets/cfpb_complaints.csv 80 debt_collection credit_card mortgage \
#       bank_account student_loan > /tmp/cfpb400.csv
#   tools/bench/lora_gap.sh /tmp/cfpb400.csv        # ONLY='8 epochs' tools/bench/lora_gap.sh ... for some rows
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/lib.sh
cli=${LORA_PLAYGROUND_CLI:-$CARGO_TARGET_DIR/debug/lora-playground}
data=$1
out=${OUT:-runs/lora-gap}
mkdir -p "$out"
settings=(
  "LoRA r=8 query,value|--method lora --r 8 --alpha 16 --targets query,value --lr 1e-3 --epochs 3"
  "full fine-tuning|--method full --lr 5e-5 --epochs 3"
  "LoRA r=8 all-linear|--method lora --r 8 --alpha 16 --targets all-linear --lr 1e-3 --epochs 3"
  "LoRA r=64 query,value|--method lora --r 64 --alpha 128 --targets query,value --lr 1e-3 --epochs 3"
  "LoRA r=8 query,value, lr 3e-3|--method lora --r 8 --alpha 16 --targets query,value --lr 3e-3 --epochs 3"
  "LoRA r=8 query,value, 8 epochs|--method lora --r 8 --alpha 16 --targets query,value --lr 1e-3 --epochs 8"
  "full fine-tuning, 8 epochs|--method full --lr 5e-5 --epochs 8"
)
printf '| setting | trainable | held-out accuracy per epoch | macro-F1 | seconds |\n|---|---|---|---|---|\n'
for s in "${settings[@]}"; do
  name=${s%%|*}
  # ONLY='8 epochs' runs the settings whose name contains it.
  [[ -z "${ONLY:-}" || "$name" == *"$ONLY"* ]] || continue
  dir="$out/$(echo "$name" | tr -c 'A-Za-z0-9=\n' '-')"
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$cli" train --data "$data" --out "$dir" ${s#*|} --batch-size 16 --max-len 128 --seed 0 --quiet > /dev/null 2> "$dir.log" || { cat "$dir.log"; exit 1; }
  secs=$(echo "$(date +%s.%N) - $start" | bc)
  trainable=$(grep -o 'trainable params: [0-9]*' "$dir.log" | grep -o '[0-9]*$')
  python3 - "$dir/training.json" "$name" "$trainable" "$secs" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
accs = " / ".join(f"{100 * e['val_accuracy']:.1f}" for e in run["epochs"])
print(f"| {sys.argv[2]} | {int(sys.argv[3]):,} | {accs} | {run['epochs'][-1]['val_macro_f1']:.3f} | {float(sys.argv[4]):.0f} |")
PY
done
