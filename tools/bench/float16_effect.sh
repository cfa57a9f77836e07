#!/usr/bin/env bash
# What the float16 download does to training (issue 15; the float16 rows of "Speed and bytes" in
# docs/MEASUREMENTS.md): all-MiniLM-L6-v2's float16 copy (`lora-playground float16`, what the page downloads by
# default) against its float32 file, the reference:
# the same LoRA run (r=8 query,value, seed 0, max length 128) on each, held-out accuracy per epoch, and each run's
# adapter on the other base (the float16-trained adapter is what a student exports; PEFT loads it over float32).
#   python3 tools/sample_csv.py ../shared/datasets/cfpb_complaints.csv 80 debt_collection credit_card mortgage \
#       bank_account student_loan > /tmp/cfpb400.csv
#   tools/bench/float16_effect.sh /tmp/cfpb400.csv
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/lib.sh
cli=${LORA_PLAYGROUND_CLI:-$CARGO_TARGET_DIR/debug/lora-playground}
data=${1:?usage: tools/bench/float16_effect.sh DATA.csv}
out=${OUT:-runs/float16-effect}
mkdir -p "$out/f16-model"
"$cli" float16 "$MODEL_DIR"
# The float16 copy as a model folder of its own (the trainer reads float16 weights, widened to float32).
cp "$MODEL_DIR/config.json" "$MODEL_DIR/tokenizer.json" "$out/f16-model/"
cp "$MODEL_DIR/model.f16.safetensors" "$out/f16-model/model.safetensors"
common=(--data "$data" --method lora --r 8 --alpha 16 --targets query,value --lr 1e-3 --epochs 3 --max-len 128 --seed 0 --quiet)
"$cli" train --model "$MODEL_DIR" --out "$out/f32" "${common[@]}" > "$out/f32.jsonl"
"$cli" train --model "$out/f16-model" --out "$out/f16" "${common[@]}" > "$out/f16.jsonl"
# Each adapter over each base, on every text of the data: the logits PEFT would give over float32, and the page's.
for run in f32 f16; do
  for base in "$MODEL_DIR" "$out/f16-model"; do
    "$cli" predict --adapter "$out/$run" --model "$base" --input "$data" > "$out/$run-on-$(basename "$base").jsonl"
  done
done
python3 - "$out" "$(basename "$MODEL_DIR")" <<'PY'
import json, sys
out, f32 = sys.argv[1], sys.argv[2]
def acc(run):
    return " / ".join(f"{json.loads(l)['val_accuracy']:.4f}" for l in open(f"{out}/{run}.jsonl"))
def rows(path):
    return [json.loads(l) for l in open(path)]
print("| base weights the run trained on | held-out accuracy per epoch | its adapter over float32 vs over float16: largest logit difference | same label |")
print("|---|---|---|---|")
for run, name in [("f32", "float32 (reference)"), ("f16", "float16 copy, widened")]:
    a, b = rows(f"{out}/{run}-on-{f32}.jsonl"), rows(f"{out}/{run}-on-f16-model.jsonl")
    diff = max(abs(x - y) for r, s in zip(a, b) for x, y in zip(r["logits"], s["logits"]))
    same = sum(r["label"] == s["label"] for r, s in zip(a, b))
    print(f"| {name} | {acc(run)} | {diff:.2e} over {len(a)} texts | {same}/{len(a)} |")
PY
