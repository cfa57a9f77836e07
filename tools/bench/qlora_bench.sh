#!/usr/bin/env bash
# QLoRA against float32, side by side in one run (issue 26): `lora-playground bench` for the same LoRA run (the
# page's defaults: r 8 on every linear layer, batch 4 x 128 tokens) on a float32 base and on an NF4 base, each in
# its own process (so each peak resident memory is its own run's), then a markdown table with the ratios.
# Usage: tools/bench/qlora_bench.sh [MODEL, default smollm2] [STEPS, default 3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="${1:-smollm2}"
STEPS="${2:-3}"
run() { "$ROOT/tools/lp.sh" bench --model "$MODEL" --steps "$STEPS" --targets all-linear --base "$1"; }
float="$(run float32)"
nf4="$(run nf4)"
python3 - "$float" "$nf4" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{a['model']}, LoRA r 8 on all-linear ({a['trainable']:,} trainable of {a['total']:,}), batch {a['batch_size']} x {a['seq_len']} tokens, {len(a['steps'])} timed steps")
print()
print("| | float32 base | NF4 base | NF4 / float32 |")
print("|---|---|---|---|")
print(f"| peak resident memory, training (model file + model + steps) | {a['train_peak_rss_mib']:,.0f} MiB | {b['train_peak_rss_mib']:,.0f} MiB | {b['train_peak_rss_mib'] / a['train_peak_rss_mib']:.2f}x |")
print(f"| LoRA step, median | {a['step_s']:.2f} s | {b['step_s']:.2f} s | {b['step_s'] / a['step_s']:.2f}x |")
print(f"| first step | {a['first_step_s']:.2f} s | {b['first_step_s']:.2f} s | {b['first_step_s'] / a['first_step_s']:.2f}x |")
for k, name in (("cache", "with the KV cache"), ("no_cache", "without the cache")):
    x, y = a['generate_tokens_per_s'][k], b['generate_tokens_per_s'][k]
    print(f"| greedy generation {name} | {x:.1f} tokens/s | {y:.1f} tokens/s | {y / x:.2f}x |")
PY
