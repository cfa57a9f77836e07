#!/usr/bin/env bash
# llama.cpp runs an adapter trained here (issue 26), on the real SmolLM2-135M-Instruct GGUF: `train` a LoRA adapter
# on the built-in lesson (EPOCHS epochs, the page's defaults), `export-gguf` it as llama.cpp's LoRA GGUF, `generate`
# greedily with it (the chat template, N new tokens per prompt), and llama.cpp (llama-cpp-python) continues the same
# prompt tokens with the base GGUF + the adapter GGUF: how many leading tokens agree, and the log-probabilities over
# them. Not in the test command (llama-cpp-python builds from source for minutes); its Python is $LP_PYTHON, with
#   CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" pip install llama-cpp-python==0.3.36
# (the native build, AVX-512/AMX, crashes on its first evaluation on this project's machine).
# Usage: tools/check/llama_cpp.sh [EPOCHS] [N_NEW] [--base nf4]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
EPOCHS="${1:-1}"
N_NEW="${2:-16}"
BASE_FLAG=("${@:3}")
PY="${LP_PYTHON:-python3}"
. "$ROOT/tools/lib.sh"
ensure_lm
GGUF="$(ls "$ROOT"/models/*SmolLM2*.gguf | head -1)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$ROOT/tools/lp.sh" train --model smollm2 "${BASE_FLAG[@]}" --data builtin:lora-lesson --epochs "$EPOCHS" --out "$WORK/adapter" --quiet
"$ROOT/tools/lp.sh" export-gguf --model smollm2 --adapter "$WORK/adapter" --out "$WORK/adapter.gguf"
printf '%s\n' "What is LoRA in one sentence?" "Why is the base model frozen?" "What does the rank r set?" > "$WORK/prompts.txt"
"$ROOT/tools/lp.sh" generate --model smollm2 "${BASE_FLAG[@]}" --adapter "$WORK/adapter" --chat --max-new-tokens "$N_NEW" \
  --input "$WORK/prompts.txt" > "$WORK/ours.jsonl"
"$PY" "$ROOT/tests/reference/llama_cpp_lora.py" compare "$GGUF" "$WORK/adapter.gguf" "$WORK/ours.jsonl"
