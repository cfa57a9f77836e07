#!/usr/bin/env bash
# tools/bench/gpu_bench.sh [OUT]: training speed on a real GPU, ours against PyTorch + PEFT side by side in one run.
#
# Ours is burn on wgpu (Vulkan on Linux: the same WGSL kernels the page's WebGPU path runs, compiled natively),
# PyTorch + PEFT is CUDA, both on the same batches (tests/reference/bench_peft.py's formula) and the same random
# weights in MiniLM's and bert-base's shapes (tools/random_model.py: speed needs shapes, not a download).
# Each figure is the mean over LP_STEPS timed steps after two warm-ups, every step ending in a read of the loss;
# the first step (kernel compilation) is reported apart.
#
#   LP_BIN      the lora-playground binary (default: build it as tools/lp.sh does; needs cargo)
#   LP_FUSION_BIN  the same built with `--features fusion` (burn's kernel fusion; default: build it; its rows are
#               "METHOD + fusion"); LP_NO_FUSION=1 leaves those rows out
#   LP_TOKENIZER  a BERT tokenizer.json (default: the fetched MiniLM's)
#   LP_STEPS    timed steps per figure (default 20)
#   LP_SHAPES   batch x length pairs (default "16x64 32x128")
#   LP_MODELS   preset shapes (default "all-MiniLM-L6-v2 bert-base-uncased")
# Then the page's trainer in Node on Dawn (tools/webgpu/run_plan.mjs; LP_NO_NODE=1 skips), its CPU workers 1-16
# (tools/webgpu/workers_bench.mjs, OUT/workers.md; LP_NO_WORKERS=1 skips), and the page itself: tools/bench/page_gpu_bench.mjs in Chromium on the same GPU (LP_NO_PAGE=1 skips it; needs chromium,
# node and models/all-MiniLM-L6-v2). kernels/step: the GPU kernels each timed step launched (bench counts them).
# Writes OUT/{burn,peft}-MODEL-SHAPE.json, OUT/page-webgpu.json and OUT/table.md (default OUT: runs/gpu-bench). Needs python3 with
# torch, transformers and peft, and a Vulkan driver for the GPU (`vulkaninfo --summary` should name it).
# On a lent GPU machine (no network, no browser; tools/.library's `device`): carry the built trainer wasm
# (web/pkg-train, web/pkg-train-fusion), Dawn's Linux binary and JS (node_modules/webgpu without its other
# platforms' dist/ folders: about 22 MB) and LP_BIN (a built CLI), with LP_MODELS and LP_NODE_MODELS as wanted;
# the models are written there by tools/random_model.py. Everything fits one 10-minute command at LP_STEPS=10.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${1:-$ROOT/runs/gpu-bench}"
steps="${LP_STEPS:-20}"
shapes="${LP_SHAPES:-16x64 32x128}"
tokenizer="${LP_TOKENIZER:-$ROOT/models/all-MiniLM-L6-v2/tokenizer.json}"
bin="${LP_BIN:-}"
fusion_bin="${LP_FUSION_BIN:-}"
mkdir -p "$out/bin"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lp/target}"
# Both builds write debug/lora-playground: each is copied aside before the other is built.
if [ -z "$bin" ]; then
  cargo build --quiet --manifest-path "$ROOT/Cargo.toml" --bin lora-playground
  cp "$CARGO_TARGET_DIR/debug/lora-playground" "$out/bin/lora-playground"
  bin="$out/bin/lora-playground"
fi
if [ -z "$fusion_bin" ] && [ -z "${LP_NO_FUSION:-}" ]; then
  cargo build --quiet --manifest-path "$ROOT/Cargo.toml" --features fusion --bin lora-playground
  cp "$CARGO_TARGET_DIR/debug/lora-playground" "$out/bin/lora-playground-fusion"
  fusion_bin="$out/bin/lora-playground-fusion"
fi
python3 -c "import torch; assert torch.cuda.is_available(), 'PyTorch sees no CUDA GPU'; print('GPU:', torch.cuda.get_device_name(0))"
for model in ${LP_MODELS:-all-MiniLM-L6-v2 bert-base-uncased}; do
  [ -f "$out/$model/model.safetensors" ] ||
    python3 "$ROOT/tools/random_model.py" "$ROOT/crate/presets/$model.json" "$tokenizer" "$out/$model"
  for shape in $shapes; do
    bs="${shape%x*}" len="${shape#*x}"
    echo "==> $model, batch $bs x $len: ours (wgpu)" >&2
    "$bin" bench --model "$out/$model" --device wgpu --steps "$steps" --batch-size "$bs" --seq-len "$len" \
      --methods lora,full,inference --json >"$out/burn-$model-$shape.json"
    if [ -n "$fusion_bin" ]; then
      echo "==> $model, batch $bs x $len: ours (wgpu, burn's kernel fusion)" >&2
      "$fusion_bin" bench --model "$out/$model" --device wgpu --steps "$steps" --batch-size "$bs" --seq-len "$len" \
        --methods lora,full,inference --json >"$out/fusion-$model-$shape.json"
    fi
    echo "==> $model, batch $bs x $len: PyTorch + PEFT (cuda)" >&2
    (cd "$ROOT" && LP_BENCH_DEVICE=cuda python3 tests/reference/bench_peft.py "$out/$model" "$steps" "$bs" "$len" \
      lora,full,inference) >"$out/peft-$model-$shape.json"
  done
done
# The page's own trainer without a browser (issue 27): its wasm and worker code in Node, WebGPU from Dawn (npm
# `webgpu`, Chrome's implementation) on the same GPU through Vulkan (tools/webgpu/run_plan.mjs), the same random
# weights and shapes, LoRA on the built-in complaints; ModernBERT-base too (LP_NODE_MODELS). LP_NO_NODE=1 skips.
# Needs node, node_modules/webgpu (npm ci) and web/pkg-train (tools/lib.sh's build_train_wasm, or carried).
if [ -z "${LP_NO_NODE:-}" ]; then
  for model in ${LP_NODE_MODELS:-all-MiniLM-L6-v2 bert-base-uncased ModernBERT-base}; do
    [ -f "$out/$model/model.safetensors" ] ||
      python3 "$ROOT/tools/random_model.py" "$ROOT/crate/presets/$model.json" "$tokenizer" "$out/$model"
    for shape in $shapes; do
      bs="${shape%x*}" len="${shape#*x}"
      echo "==> $model, batch $bs x $len: the page's trainer in Node on Dawn's WebGPU" >&2
      node "$ROOT/tools/webgpu/run_plan.mjs" --device webgpu --model "$out/$model" --steps "$steps" \
        --plan "{\"method\":\"lora\",\"batch_size\":$bs,\"max_len\":$len,\"epochs\":3}" >"$out/node-$model-$shape.json" || true
      # The same with the page's warm-up (web/train/step-time.js: two timed steps once the model and data are in),
      # a fresh process after the one above: Start to the first loss with the kernels compiled before Start.
      node "$ROOT/tools/webgpu/run_plan.mjs" --device webgpu --model "$out/$model" --steps "$steps" --warm-up \
        --plan "{\"method\":\"lora\",\"batch_size\":$bs,\"max_len\":$len,\"epochs\":3}" >"$out/node-$model-$shape-warm-up.json" || true
    done
  done
fi
# The language-model page's worker in Node on Dawn: SmolLM2-135M (LP_LM_MODEL: its GGUF, default the fetched one;
# skipped where it is absent: 98 MB is more than a lent machine's carry), LoRA on the built-in lesson.
lm_model="${LP_LM_MODEL:-$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ -z "${LP_NO_NODE:-}" ] && [ -f "$lm_model" ]; then
  echo "==> SmolLM2-135M: the language-model page's worker in Node on Dawn's WebGPU" >&2
  node "$ROOT/tools/webgpu/run_lm_plan.mjs" --device webgpu --model "$lm_model" --steps "$steps" --max-len 128 >"$out/node-lm-smollm2.json" || true
fi
# burn's kernel fusion in the page's trainer on this GPU: the shipped wasm against web/pkg-train-fusion
# (tools/webgpu/build_fusion_wasm.sh, built before the lease or carried), alternating (OUT/fusion-MODEL.md).
if [ -z "${LP_NO_NODE:-}" ] && [ -f "$ROOT/web/pkg-train-fusion/lora_playground_bg.wasm" ]; then
  for model in ${LP_NODE_MODELS:-all-MiniLM-L6-v2 bert-base-uncased ModernBERT-base}; do
    echo "==> $model: the page's trainer with and without burn's fusion (Node + Dawn)" >&2
    node "$ROOT/tools/webgpu/fusion_bench.mjs" --model "$out/$model" --steps "$steps" --batch 16 --maxlen 64 >"$out/fusion-$model.md" || true
  done
fi
# CPU workers on this machine's cores: the page's trainer in Node, its helpers on worker threads, 1 to 16 workers.
if [ -z "${LP_NO_WORKERS:-}" ]; then
  echo "==> all-MiniLM-L6-v2 shapes: the page's CPU workers, 1 to 16 (Node)" >&2
  node "$ROOT/tools/webgpu/workers_bench.mjs" --model "$out/all-MiniLM-L6-v2" >"$out/workers.md" || true
fi
# The page's own WebGPU path: Chromium (Debian's, headless, on the GPU through Vulkan) training the real MiniLM
# served from models/ (tools/fetch_model.sh) with the trainer's wasm (tools/lib.sh builds it); LP_NO_PAGE=1 skips.
if [ -n "${LP_NO_PAGE:-}" ]; then
  :
elif [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "==> the page on WebGPU: skipped, no chromium here (apt-get install chromium, or set CHROMIUM)" >&2
else
  (source "$ROOT/tools/lib.sh" && ensure_npm && build_train_wasm && vendor_web)
  port=8097
  "$bin" serve --root "$ROOT" --port "$port" >/dev/null &
  server=$!
  trap 'kill $server 2>/dev/null' EXIT
  sleep 1
  echo "==> all-MiniLM-L6-v2, batch 16 x 64: the page on WebGPU (Chromium)" >&2
  LP_URL="http://127.0.0.1:$port/" node "$ROOT/tools/bench/page_gpu_bench.mjs" --steps "$steps" >"$out/page-webgpu.json"
  kill "$server"
fi
python3 - "$out" <<'PY' | tee "$out/table.md"
import glob, json, os, sys
out = sys.argv[1]
print("| model | batch x len | method | ours ms/step | ours first step ms | kernels/step | PEFT ms/step | PEFT first step ms | ours vs PEFT speed |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|")
adapter = gpu = None
for path in sorted(glob.glob(os.path.join(out, "burn-*.json"))):
    key = os.path.basename(path)[len("burn-"):-len(".json")]
    model, shape = key.rsplit("-", 1)
    ours = {r["method"]: r for r in json.load(open(path))}
    peft = json.load(open(os.path.join(out, f"peft-{key}.json")))
    gpu = peft["machine"]["gpu"]
    fusion_path = os.path.join(out, f"fusion-{key}.json")
    fused = {r["method"]: r for r in json.load(open(fusion_path))} if os.path.exists(fusion_path) else {}
    rows = [(m, r) for m, r in ours.items()] + [(f"{m} + fusion", r) for m, r in fused.items()]
    for m, r in rows:
        adapter = r.get("adapter", adapter)  # runs before bench named its adapter have none
        p = next(x for x in peft["rows"] if x["method"] == m.split(" ")[0])
        launches = r.get("kernel_launches_per_step")  # runs before bench counted launches have none
        print(f"| {model} | {shape} | {m} | {r['ms_per_step']:.1f} | {r['first_step_ms']:.0f} "
              f"| {'-' if launches is None else f'{launches:.0f}'} | {p['ms_per_step']:.1f} "
              f"| {p['first_step_ms']:.0f} | {p['ms_per_step'] / r['ms_per_step']:.2f}x |")
page = os.path.join(out, "page-webgpu.json")
if os.path.exists(page):
    r = json.load(open(page))
    p = next(x for x in json.load(open(os.path.join(out, "peft-all-MiniLM-L6-v2-16x64.json")))["rows"] if x["method"] == "lora")
    print(f"| all-MiniLM-L6-v2 (the page, Chromium WebGPU) | {r['batch_size']}x{r['seq_len']} | lora | {r['ms_per_step']:.1f} "
          f"| {r['first_step_ms']:.0f} | - | {p['ms_per_step']:.1f} | {p['first_step_ms']:.0f} | {p['ms_per_step'] / r['ms_per_step']:.2f}x |")
    print(f"\nthe page: Chromium's WebGPU on {r['adapter']}, MiniLM's real weights, complaints texts (padded to the batch's "
          f"longest), loss after {r['steps'] + 1} steps {r['loss']:.4f}")
for path in sorted(glob.glob(os.path.join(out, "node-*.json"))):
    key = os.path.basename(path)[len("node-"):-len(".json")]
    model, shape = key.rsplit("-", 1)
    try:
        r = json.load(open(path))
    except ValueError:
        print(f"| {model} (the page's trainer, Node + Dawn) | {shape} | lora | failed: see the log | | | | | |")
        continue
    peft_path = os.path.join(out, f"peft-{key}.json")
    p = next((x for x in json.load(open(peft_path))["rows"] if x["method"] == "lora"), None) if os.path.exists(peft_path) else None
    print(f"| {model} (the page's trainer, Node + Dawn on {r['adapter']}) | {shape} | lora | {r['step_ms']:.1f} "
          f"| {r['first_loss_ms']:.0f} (Start to first loss) | - | {p['ms_per_step'] if p else float('nan'):.1f} "
          f"| {p['first_step_ms'] if p else float('nan'):.0f} | {(p['ms_per_step'] / r['step_ms']) if p else float('nan'):.2f}x |")
print(f"\nours: burn wgpu on {adapter}; PEFT: torch {peft['torch']}, transformers {peft['transformers']}, "
      f"peft {peft['peft']} on {gpu} (eager attention, float32)")
PY
