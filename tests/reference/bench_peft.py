"""The reference side of `lora-playground bench`: the same configurations with PyTorch + PEFT on this machine.

Same batch as crate/src/cli/bench.rs (16 rows of exactly 64 tokens, [CLS] ids [SEP], ids by the same formula,
5 labels), AdamW (lr 2e-4, weight decay 0.01), dropout on (train mode), 2 warm-up steps then --steps timed
steps; each method in its own process so ru_maxrss is its own peak. Threads are pinned to the machine's cores.
With LP_BENCH_DEVICE=cuda (tools/bench/gpu_bench.sh) it runs on the GPU: each step ends in a read of the loss (as ours
does), the first step (kernel selection, cuBLAS start-up) is reported apart, and the peak is torch's GPU memory.

    python tests/reference/bench_peft.py models/all-MiniLM-L6-v2 > tests/reference/bench_peft.json
"""
import json
import os
import platform
import resource
import subprocess
import sys
import time

METHODS = ["lora", "full", "head", "bitfit", "inference"]
LABELS = 5


def batch(bs, seq):
    import torch
    ids = [[101] + [1000 + (i * 31 + j * 17) % 20000 for j in range(1, seq - 1)] + [102] for i in range(bs)]
    return torch.tensor(ids), torch.tensor([i % LABELS for i in range(bs)])


def one(model_dir, method, steps, bs, seq):
    import torch
    device = os.environ.get("LP_BENCH_DEVICE", "cpu")
    from transformers import AutoModelForSequenceClassification
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=LABELS, attn_implementation="eager")
    if method == "lora":
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["query", "value"],
                                                 task_type="SEQ_CLS"))
    elif method in ("head", "inference"):
        for n, p in model.named_parameters():
            p.requires_grad = n.startswith("classifier.")
    elif method == "bitfit":
        for n, p in model.named_parameters():
            p.requires_grad = n.startswith("classifier.") or n.endswith(".bias")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    model.to(device)
    ids, labels = (t.to(device) for t in batch(bs, seq))
    mask = torch.ones_like(ids)
    warmup = 2
    first = None
    begun = time.perf_counter()
    if method == "inference":
        model.eval()
        with torch.no_grad():
            for i in range(warmup + steps):
                if i == 1:
                    first = time.perf_counter() - begun
                if i == warmup:
                    start = time.perf_counter()
                model(input_ids=ids, attention_mask=mask).logits.cpu().numpy()
    else:
        model.train()
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-4, weight_decay=0.01)
        for i in range(warmup + steps):
            if i == 1:
                first = time.perf_counter() - begun
            if i == warmup:
                start = time.perf_counter()
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            opt.zero_grad()
            loss.item()
    seconds = time.perf_counter() - start
    return {
        "method": method,
        "trainable": None if method == "inference" else trainable,
        "batch_size": bs, "seq_len": seq, "steps": steps,
        "examples_per_s": steps * bs / seconds,
        "ms_per_step": seconds * 1000 / steps,
        "first_step_ms": first * 1000,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **({"peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20} if device == "cuda" else {}),
    }


def main():
    args = sys.argv[1:]
    if args and args[0] == "--one":
        _, model_dir, method, steps, bs, seq = args
        print(json.dumps(one(model_dir, method, int(steps), int(bs), int(seq))))
        return
    model_dir = args[0] if args else "models/all-MiniLM-L6-v2"
    steps = int(args[1]) if len(args) > 1 else 10
    bs, seq = (args[2], args[3]) if len(args) > 3 else ("16", "64")
    methods = args[4].split(",") if len(args) > 4 else METHODS
    rows = []
    for m in methods:
        out = subprocess.run([sys.executable, __file__, "--one", model_dir, m, str(steps), bs, seq],
                             check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"{m}: {rows[-1]['examples_per_s']:.1f} ex/s", file=sys.stderr)
    import peft
    import torch
    import transformers
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    gpu = torch.cuda.get_device_name(0) if os.environ.get("LP_BENCH_DEVICE") == "cuda" else None
    print(json.dumps({"machine": {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu}, "torch": torch.__version__,
                      "transformers": transformers.__version__, "peft": peft.__version__, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
