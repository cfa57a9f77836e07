#!/usr/bin/env bash
# tools/gpu_bench.sh [OUT]: training speed on a real GPU, ours against PyTorch + PEFT side by side in one run.
#
# Ours is burn on wgpu (Vulkan on Linux: the same WGSL kernels the page's WebGPU path runs, compiled natively),
# PyTorch + PEFT is CUDA, both on the same batches (tests/reference/bench_peft.py's formula) and the same random
# weights in MiniLM's and bert-base's shapes (tools/random_model.py: speed needs shapes, not a download).
# Each figure is the mean over LP_STEPS timed steps after two warm-ups, every step ending in a read of the loss;
# the first step (kernel compilation) is reported apart.
#
#   LP_BIN      the lora-playground binary (default: build it as tools/lp.sh does; needs cargo)
#   LP_TOKENIZER  a BERT tokenizer.json (default: the fetched MiniLM's)
#   LP_STEPS    timed steps per figure (default 20)
#   LP_SHAPES   batch x length pairs (default "16x64 32x128")
#   LP_MODELS   preset shapes (default "all-MiniLM-L6-v2 bert-base-uncased")
# Writes OUT/{burn,peft}-MODEL-SHAPE.json and OUT/table.md (default OUT: runs/gpu-bench). Needs python3 with
# torch, transformers and peft, and a Vulkan driver for the GPU (`vulkaninfo --summary` should name it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$ROOT/runs/gpu-bench}"
steps="${LP_STEPS:-20}"
shapes="${LP_SHAPES:-16x64 32x128}"
tokenizer="${LP_TOKENIZER:-$ROOT/models/all-MiniLM-L6-v2/tokenizer.json}"
bin="${LP_BIN:-}"
if [ -z "$bin" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lp/target}"
  cargo build --quiet --manifest-path "$ROOT/Cargo.toml" --bin lora-playground
  bin="$CARGO_TARGET_DIR/debug/lora-playground"
fi
mkdir -p "$out"
python3 -c "import torch; assert torch.cuda.is_available(), 'PyTorch sees no CUDA GPU'; print('GPU:', torch.cuda.get_device_name(0))"
for model in ${LP_MODELS:-all-MiniLM-L6-v2 bert-base-uncased}; do
  [ -f "$out/$model/model.safetensors" ] ||
    python3 "$ROOT/tools/random_model.py" "$ROOT/crate/presets/$model.json" "$tokenizer" "$out/$model"
  for shape in $shapes; do
    bs="${shape%x*}" len="${shape#*x}"
    echo "==> $model, batch $bs x $len: ours (wgpu)" >&2
    "$bin" bench --model "$out/$model" --device wgpu --steps "$steps" --batch-size "$bs" --seq-len "$len" \
      --methods lora,full,inference --json >"$out/burn-$model-$shape.json"
    echo "==> $model, batch $bs x $len: PyTorch + PEFT (cuda)" >&2
    (cd "$ROOT" && LP_BENCH_DEVICE=cuda python3 tests/reference/bench_peft.py "$out/$model" "$steps" "$bs" "$len" \
      lora,full,inference) >"$out/peft-$model-$shape.json"
  done
done
python3 - "$out" <<'PY' | tee "$out/table.md"
import glob, json, os, sys
out = sys.argv[1]
print("| model | batch x len | method | ours ms/step | ours first step ms | PEFT ms/step | PEFT first step ms | ours vs PEFT speed |")
print("|---|---|---|---:|---:|---:|---:|---:|")
adapter = gpu = None
for path in sorted(glob.glob(os.path.join(out, "burn-*.json"))):
    key = os.path.basename(path)[len("burn-"):-len(".json")]
    model, shape = key.rsplit("-", 1)
    ours = {r["method"]: r for r in json.load(open(path))}
    peft = json.load(open(os.path.join(out, f"peft-{key}.json")))
    gpu = peft["machine"]["gpu"]
    for m, r in ours.items():
        adapter = r.get("adapter", adapter)  # runs before bench named its adapter have none
        p = next(x for x in peft["rows"] if x["method"] == m)
        print(f"| {model} | {shape} | {m} | {r['ms_per_step']:.1f} | {r['first_step_ms']:.0f} | {p['ms_per_step']:.1f} "
              f"| {p['first_step_ms']:.0f} | {p['ms_per_step'] / r['ms_per_step']:.2f}x |")
print(f"\nours: burn wgpu on {adapter}; PEFT: torch {peft['torch']}, transformers {peft['transformers']}, "
      f"peft {peft['peft']} on {gpu} (eager attention, float32)")
PY
