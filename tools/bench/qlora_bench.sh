#!/usr/bin/env bash
# QLoRA against float32, side by side in one run (issue 26): `lora-playground bench` for the same LoRA run (the
# page's defaults: r 8 on every linear layer, batch 4 x 128 tokens) on a float32 base and on an NF4 base, without
# and with gradient checkpointing (`--gradient-checkpointing`), each in its own process (so each peak resident
# memory is its own run's), then a markdown table with the ratios.
# Usage: tools/bench/qlora_bench.sh [MODEL, default smollm2] [STEPS, default 3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="${1:-smollm2}"
STEPS="${2:-3}"
run() { "$ROOT/tools/lp.sh" bench --model "$MODEL" --steps "$STEPS" --targets all-linear --base "$@"; }
float="$(run float32)"
nf4="$(run nf4)"
float_gc="$(run float32 --gradient-checkpointing)"
nf4_gc="$(run nf4 --gradient-checkpointing)"
python3 - "$float" "$nf4" "$float_gc" "$nf4_gc" <<'PY'
import json, sys
a, b, c, d = (json.loads(x) for x in sys.argv[1:5])
print(f"{a['model']}, LoRA r 8 on all-linear ({a['trainable']:,} trainable of {a['total']:,}), batch {a['batch_size']} x {a['seq_len']} tokens, {len(a['steps'])} timed steps")
print()
print("| | float32 base | NF4 base | NF4 / float32 | float32, checkpointed | NF4, checkpointed | NF4 / float32, checkpointed |")
print("|---|---|---|---|---|---|---|")
def row(name, key, unit, fmt):
    x = [r[key] for r in (a, b, c, d)]
    print(f"| {name} | {fmt(x[0])} {unit} | {fmt(x[1])} {unit} | {x[1] / x[0]:.2f}x | {fmt(x[2])} {unit} | {fmt(x[3])} {unit} | {x[3] / x[2]:.2f}x |")
row("peak resident memory, training (model file + model + steps)", "train_peak_rss_mib", "MiB", lambda v: f"{v:,.0f}")
row("LoRA step, median", "step_s", "s", lambda v: f"{v:.2f}")
row("first step", "first_step_s", "s", lambda v: f"{v:.2f}")
for k, name in (("cache", "with the KV cache"), ("no_cache", "without the cache")):
    x, y = a['generate_tokens_per_s'][k], b['generate_tokens_per_s'][k]
    print(f"| greedy generation {name} | {x:.1f} tokens/s | {y:.1f} tokens/s | {y / x:.2f}x | | | |")
PY
