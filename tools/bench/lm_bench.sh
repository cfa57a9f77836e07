#!/usr/bin/env bash
# Issue 25's language-model figures on this machine, side by side in one run: our LoRA step and generation
# (`lora-playground bench --model smollm2`) and PyTorch + PEFT's on the same GGUF file, same shape
# (tools/bench/lm_step_peft.py; torch, transformers, peft and gguf from PyPI, in $LP_PYTHON or python3), then a
# markdown table of both and their ratios. Usage: tools/bench/lm_bench.sh [STEPS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STEPS="${1:-5}"
PY="${LP_PYTHON:-python3}"
ours="$("$ROOT/tools/lp.sh" bench --model smollm2 --steps "$STEPS")"
theirs="$(cd "$ROOT" && "$PY" tools/bench/lm_step_peft.py "$STEPS" 2>/dev/null | tail -1)"
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"SmolLM2-135M-Instruct (Q4_1 GGUF read as float32), LoRA r 8 on q_proj,v_proj ({a['trainable']:,} trainable), batch {a['batch_size']} x {a['seq_len']} tokens")
print()
print("| | burn (this crate, CPU) | PyTorch + PEFT (CPU) | burn / PyTorch speed |")
print("|---|---|---|---|")
print(f"| LoRA step, median | {a['step_s']:.2f} s | {b['step_s']:.2f} s | {b['step_s'] / a['step_s']:.2f}x |")
print(f"| first step | {a['first_step_s']:.2f} s | {b['first_step_s']:.2f} s | |")
for k, name in (("cache", "with the KV cache"), ("no_cache", "without the cache")):
    x, y = a['generate_tokens_per_s'][k], b['generate_tokens_per_s'][k]
    print(f"| greedy generation {name} | {x:.1f} tokens/s | {y:.1f} tokens/s | {x / y:.2f}x |")
print(f"| peak resident memory | {a['peak_rss_mib']:,.0f} MiB | {b['peak_rss_mib']:,.0f} MiB | |")
PY
