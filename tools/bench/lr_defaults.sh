#!/usr/bin/env bash
# Issue 14 §3: which learning rate each method needs for a first run to reach 90% held-out in about two minutes.
# Trains all-MiniLM-L6-v2 with the page's defaults (3 epochs, batch 16, max length 64, seed 0) once per
# (dataset, method, learning rate) and prints one table: held-out accuracy after each epoch and seconds.
#   tools/bench/lr_defaults.sh [DATA ...]      (default: the three built-in datasets)
# Real data (not shipped; ../shared/datasets on the team's machines) is passed as files, e.g. a few hundred SMS:
#   python3 tools/sample_csv.py ../shared/datasets/sms_spam.csv 150 > /tmp/sms300.csv
#   tools/bench/lr_defaults.sh /tmp/sms300.csv
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/lib.sh
cli=${LORA_PLAYGROUND_CLI:-$CARGO_TARGET_DIR/release/lora-playground}
out=${OUT:-runs/lr-defaults}
grid=${GRID:-"lora:1e-3,3e-3 head:1e-2,3e-2 bitfit:3e-3,1e-2 full:5e-5,1e-4"}
[ $# -gt 0 ] || set -- builtin:sentiment builtin:topics builtin:complaints
printf '| data | method | lr | accuracy per epoch | macro-F1 | seconds |\n|---|---|---|---|---|---|\n'
for data in "$@"; do
  for entry in $grid; do
    method=${entry%%:*}
    for lr in $(echo "${entry#*:}" | tr , " "); do
      lr=${lr//,/}
      [ -n "$lr" ] || continue
      dir="$out/$(basename "$data" | tr ':' '-')/$method-$lr"
      start=$(date +%s.%N)
      "$cli" train --data "$data" --out "$dir" --method "$method" --lr "$lr" --quiet > /dev/null
      secs=$(echo "$(date +%s.%N) - $start" | bc)
      python3 - "$dir/training.json" "$data" "$method" "$lr" "$secs" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
accs = " / ".join(f"{100 * e['val_accuracy']:.1f}" for e in run["epochs"])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {accs} | {run['epochs'][-1]['val_macro_f1']:.3f} | {float(sys.argv[5]):.0f} |")
PY
    done
  done
done
