"""When LoRA lags full fine-tuning, and what closes the gap: the PyTorch + PEFT side of docs/MEASUREMENTS.md's table.

Trains all-MiniLM-L6-v2 (AutoModelForSequenceClassification, 5 labels) on a `text,label` CSV with the settings of
`lora-playground train`: a stratified 80/20 split (its own seeded shuffle, not ours, so the rows differ), AdamW
(weight decay 0.01, eps 1e-8), linear warm-up over 10% of the steps then linear decay, gradient norm clipped to 1.0,
batch 16, max length 128, dropout on, seed 0. One line per setting: held-out accuracy after each epoch.

    python3 tools/sample_csv.py ../shared/datasets/cfpb_complaints.csv 80 debt_collection credit_card mortgage \
        bank_account student_loan > /tmp/cfpb400.csv
    python3 tests/reference/lora_gap.py models/all-MiniLM-L6-v2 /tmp/cfpb400.csv
"""
import csv
import random
import sys

import torch
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification, get_linear_schedule_with_warmup

# (name, method, lr, epochs, r, target_modules)
SETTINGS = [
    ("LoRA r=8 query,value", "lora", 1e-3, 3, 8, ["query", "value"]),
    ("full fine-tuning", "full", 5e-5, 3, None, None),
    ("LoRA r=8 all-linear", "lora", 1e-3, 3, 8, "all-linear"),
    ("LoRA r=64 query,value", "lora", 1e-3, 3, 64, ["query", "value"]),
    ("LoRA r=8 query,value, lr 3e-3", "lora", 3e-3, 3, 8, ["query", "value"]),
    ("LoRA r=8 query,value, 8 epochs", "lora", 1e-3, 8, 8, ["query", "value"]),
    ("full fine-tuning, 8 epochs", "full", 5e-5, 8, None, None),
]


def split(rows, seed=0, val=0.2):
    by = {}
    for t, l in rows:
        by.setdefault(l, []).append(t)
    rng = random.Random(seed)
    train, held = [], []
    for label, texts in sorted(by.items()):
        texts = texts[:]
        rng.shuffle(texts)
        k = round(val * len(texts))
        held += [(t, label) for t in texts[:k]]
        train += [(t, label) for t in texts[k:]]
    return train, held


def encode(tok, rows, labels, max_len=128):
    """[CLS] pieces [SEP], cut to max_len with [SEP] kept last (as `train --max-len`)."""
    sep = tok.token_to_id("[SEP]")
    out = []
    for text, _ in rows:
        ids = tok.encode(text).ids
        out.append(ids if len(ids) <= max_len else ids[: max_len - 1] + [sep])
    return out, [labels.index(l) for _, l in rows]


def batches(ids, ys, order, bs):
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        n = max(len(ids[j]) for j in idx)
        x = torch.tensor([ids[j] + [0] * (n - len(ids[j])) for j in idx])
        m = torch.tensor([[1] * len(ids[j]) + [0] * (n - len(ids[j])) for j in idx])
        yield x, m, torch.tensor([ys[j] for j in idx])


def run(model_dir, train, held, labels, method, lr, epochs, r, targets):
    torch.manual_seed(0)
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.no_truncation()
    xs, ys = encode(tok, train, labels)
    vx, vy = encode(tok, held, labels)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(labels), attn_implementation="eager")
    if method == "lora":
        model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.1, target_modules=targets, task_type="SEQ_CLS"))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01, eps=1e-8)
    steps = epochs * ((len(xs) + 15) // 16)
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * steps + 0.999999), steps)
    rng = random.Random(0)
    accs = []
    for _ in range(epochs):
        model.train()
        order = list(range(len(xs)))
        rng.shuffle(order)
        for x, m, y in batches(xs, ys, order, 16):
            loss = model(input_ids=x, attention_mask=m, labels=y).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
        model.eval()
        right = 0
        with torch.no_grad():
            for x, m, y in batches(vx, vy, list(range(len(vx))), 32):
                right += (model(input_ids=x, attention_mask=m).logits.argmax(-1) == y).sum().item()
        accs.append(right / len(vx))
    return sum(p.numel() for p in params), accs


def main(model_dir, data):
    with open(data, newline="", encoding="utf-8") as f:
        rows = [(r["text"], r["label"]) for r in csv.DictReader(f)]
    labels = sorted({l for _, l in rows})
    train, held = split(rows)
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}; {len(train)} training / {len(held)} held-out texts, {len(labels)} classes\n")
    print("| setting | lr | epochs | trainable | held-out accuracy per epoch |\n|---|---|---|---|---|")
    for name, method, lr, epochs, r, targets in SETTINGS:
        n, accs = run(model_dir, train, held, labels, method, lr, epochs, r, targets)
        print(f"| {name} | {lr:g} | {epochs} | {n:,} | {' / '.join(f'{100 * a:.1f}' for a in accs)} |", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
