#!/usr/bin/env python3
"""The reference side of `node tests/e2e/bench.mjs`: how long transformers + PEFT take to produce the same
counts (build the base model on the meta device, get_peft_model with r=16 all-linear, count).

Usage: venv/bin/python tests/reference/peft_timing.py > tests/reference/peft_timing.txt
"""
import os
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peft_reference import PRESET_IDS, build  # noqa: E402

print("transformers + PEFT on the meta device: build + get_peft_model(r=16, all-linear) + count (ms)")
for preset in PRESET_IDS:
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        _, model = build(preset, "base", 2, "meta")
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
        model.get_nb_trainable_parameters()
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{preset:<26} median {statistics.median(times):8.1f}  worst {max(times):8.1f}")
print(f"torch {torch.__version__}, {os.cpu_count()} CPUs")
