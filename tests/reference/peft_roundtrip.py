"""Does Python PEFT load our adapter as it is, and compute what we compute?

Loads an adapter folder written by `lora-playground train --method lora` with `PeftModel.from_pretrained` over the
same base model in transformers, runs the texts our `predict` ran (one at a time, eager attention, float32), and
compares the logits with ours. Exit status 1 if any differs by more than 1e-4.

    tools/lp.sh train --data builtin:sentiment --epochs 1 --out runs/peft-check
    tools/lp.sh predict --adapter runs/peft-check --input tests/reference/peft_roundtrip_texts.txt > runs/peft-check/ours.jsonl
    python tests/reference/peft_roundtrip.py models/all-MiniLM-L6-v2 runs/peft-check runs/peft-check/ours.jsonl
"""
import json
import os
import sys

import peft
import torch
import transformers
from peft import PeftModel
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification

TOLERANCE = 1e-4


def main(model_dir: str, adapter_dir: str, ours_path: str) -> int:
    with open(ours_path) as f:
        ours = [json.loads(line) for line in f if line.strip()]
    training = json.load(open(os.path.join(adapter_dir, "training.json")))
    labels = training["labels"]
    base = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(labels), attn_implementation="eager", torch_dtype=torch.float32,
        ignore_mismatched_sizes=True)  # a base with its own head for other labels: the adapter brings the head
    model = PeftModel.from_pretrained(base, adapter_dir).eval()
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(training["max_len"])
    worst = 0.0
    with torch.no_grad():
        for row in ours:
            enc = tok.encode(row["text"])
            ids = torch.tensor([enc.ids])
            # Segment ids only where the model has token types: GPT-2 would add wte(token_type_ids) to every token.
            types = {"token_type_ids": torch.tensor([enc.type_ids])} if getattr(base.config, "type_vocab_size", 0) else {}
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), **types).logits[0].tolist()
            diff = max(abs(a - b) for a, b in zip(logits, row["logits"]))
            worst = max(worst, diff)
            print(f"{diff:.2e}  {row['text'][:60]!r}")
    print(f"\n{len(ours)} texts, largest logit difference {worst:.2e} (tolerance {TOLERANCE:g}); "
          f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
