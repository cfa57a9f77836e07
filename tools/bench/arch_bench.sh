#!/usr/bin/env bash
# tools/bench/arch_bench.sh [OUT]: time per training step and peak memory for each architecture the trainer trains, on
# this machine's CPU (native), side by side in one run: LoRA r=8 on the attention's query and value (each
# architecture's own names; GPT-2's and ModernBERT's fused c_attn / Wqkv take key too) and full fine-tuning, one fixed batch of 16 x 64 tokens, 2 warm-up steps then
# LP_STEPS timed ones, each method in its own process (`lora-playground bench`).
#
# all-MiniLM-L6-v2 has its real weights (tools/fetch_model.sh); the other five presets the trainer takes have
# random weights in their real shapes (tools/random_model.py from crate/presets/: the Hub is
# unreachable here, and speed and memory need shapes, not trained values). Writes OUT/*.json and OUT/table.md
# (default OUT: runs/arch-bench). Needs python3 with torch and transformers for the random models.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
out="${1:-$ROOT/runs/arch-bench}"
steps="${LP_STEPS:-3}"
mkdir -p "$out"
ensure_model >&2
(cd "$ROOT" && cargo build -q -p lora-playground --bin lora-playground) >&2
bin="$CARGO_TARGET_DIR/debug/lora-playground"
fixtures="$ROOT/crate/tests/fixtures/arch"
# model, folder, tokenizer (a fixture's: ids stay under the vocabulary), LoRA targets
rows=(
  "all-MiniLM-L6-v2|$ROOT/models/all-MiniLM-L6-v2||query,value"
  "distilbert-base-uncased|$out/distilbert-base-uncased|$fixtures/distilbert/tokenizer.json|q_lin,v_lin"
  "bert-base-uncased|$out/bert-base-uncased|$fixtures/bert/tokenizer.json|query,value"
  "roberta-base|$out/roberta-base|$fixtures/roberta/tokenizer.json|query,value"
  "gpt2|$out/gpt2|$fixtures/gpt2/tokenizer.json|c_attn"
  "ModernBERT-base|$out/ModernBERT-base|$fixtures/modernbert-cls/tokenizer.json|Wqkv"
)
for row in "${rows[@]}"; do
  IFS='|' read -r model dir tokenizer targets <<<"$row"
  # LP_ONLY=NAME reruns one model; the table takes the others' figures from OUT as they are.
  [ -n "${LP_ONLY:-}" ] && [ "$model" != "$LP_ONLY" ] && continue
  if [ -n "$tokenizer" ] && [ ! -f "$dir/model.safetensors" ]; then
    python3 "$ROOT/tools/random_model.py" "$ROOT/crate/presets/$model.json" "$tokenizer" "$dir"
  fi
  echo "==> $model" >&2
  "$bin" bench --model "$dir" --steps "$steps" --batch-size 16 --seq-len 64 --methods lora,full --targets "$targets" --json \
    >"$out/$model.json"
done
python3 - "$out" "${rows[@]}" <<'PY' | tee "$out/table.md"
import json, os, sys
out, rows = sys.argv[1], sys.argv[2:]
print("| model | weights | LoRA r=8 on | LoRA trainable | LoRA ms/step | LoRA peak RSS | full trainable | full ms/step | full peak RSS | LoRA step vs full |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
for row in rows:
    model, _, tokenizer, targets = row.split("|")
    r = {x["method"]: x for x in json.load(open(os.path.join(out, f"{model}.json")))}
    lora, full = r["lora"], r["full"]
    weights = "real" if not tokenizer else "random, real shape"
    print(f"| {model} | {weights} | {targets} | {lora['trainable']:,} | {lora['ms_per_step']:,.0f} | {lora['peak_rss_mib']:,.0f} MiB "
          f"| {full['trainable']:,} | {full['ms_per_step']:,.0f} | {full['peak_rss_mib']:,.0f} MiB | {lora['ms_per_step'] / full['ms_per_step']:.2f}x |")
PY
