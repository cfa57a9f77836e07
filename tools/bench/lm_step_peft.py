"""The reference for `lora-playground bench --model smollm2` (issue 25): the same LoRA step in PyTorch + PEFT on
the same CPU, same shape (batch 4 x 128 random tokens, every token labelled, LoRA r 8 / alpha 16 on q_proj and
v_proj, AdamW lr 1e-4, clipping at 1), the model read from the same GGUF file by transformers (float32): the
median of STEPS steps after one warm-up step, and greedy generation's new tokens per second with and without the
cache (32 new tokens after a 16-token prompt). torch uses as many threads as our CPU path (2 here).

    python3 tools/bench/lm_step_peft.py [STEPS]          (torch, transformers, peft, gguf)
"""
import json
import os
import resource
import statistics
import sys
import time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def main():
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(os.path.join(ROOT, "models"), gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
                                                 dtype=torch.float32, attn_implementation="eager")
    base = model
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, weight_decay=0.0)
    vocab = model.config.vocab_size
    batches = [torch.randint(0, vocab, (4, 128)) for _ in range(STEPS + 1)]
    times = []
    for i, ids in enumerate(batches):
        t = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - t)
    prompt = torch.randint(0, vocab, (1, 16))
    rates = {}
    for cache in (True, False):
        with torch.no_grad():
            t = time.perf_counter()
            out = base.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=32, min_new_tokens=32,
                                do_sample=False, use_cache=cache)
            rates["cache" if cache else "no_cache"] = (out.shape[1] - 16) / (time.perf_counter() - t)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "first_step_s": times[0],
                      "step_s": statistics.median(times[1:]), "steps": times[1:], "generate_tokens_per_s": rates,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
