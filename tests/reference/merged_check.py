"""Does transformers load the model `lora-playground merge` saves, and is it what PEFT's own merge gives?

1. Loads the merged folder with `AutoModelForSequenceClassification.from_pretrained` (no PEFT involved) and
   compares its logits with our `predict` on the same folder.
2. Loads the original adapter with `PeftModel.from_pretrained`, merges it with PEFT's `merge_and_unload()`, and
   compares those logits with the merged folder's.
3. Has PEFT save the adapter again (`save_pretrained`: a folder written by PEFT itself) and compares our `predict`
   on that folder with PEFT's logits, so an adapter written by Python loads here too.
Exit status 1 if any logit differs by more than 1e-4.

    tools/lp.sh merge --adapter runs/complaints/lora --data builtin:complaints --out runs/complaints/merged
    python tests/reference/merged_check.py models/all-MiniLM-L6-v2 runs/complaints/lora runs/complaints/merged
"""
import json
import os
import subprocess
import sys
import tempfile

import peft
import torch
import transformers
from peft import PeftModel
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification

TOLERANCE = 1e-4
HERE = os.path.dirname(os.path.abspath(__file__))
LP = os.path.join(HERE, "..", "..", "tools", "lp.sh")
TEXTS = os.path.join(HERE, "peft_roundtrip_texts.txt")


def ours(model_dir, adapter_dir):
    out = subprocess.run([LP, "predict", "--model", model_dir, "--adapter", adapter_dir, "--input", TEXTS],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def logits(model, tok, texts):
    rows = []
    with torch.no_grad():
        for text in texts:
            enc = tok.encode(text)
            ids = torch.tensor([enc.ids])
            rows.append(model(input_ids=ids, token_type_ids=torch.tensor([enc.type_ids]),
                              attention_mask=torch.ones_like(ids)).logits[0].tolist())
    return rows


def worst(a, b):
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def main(model_dir, adapter_dir, merged_dir):
    training = json.load(open(os.path.join(merged_dir, "training.json")))
    tok = Tokenizer.from_file(os.path.join(merged_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(training["max_len"])
    texts = [line.rstrip("\n") for line in open(TEXTS) if line.strip()]
    kw = dict(attn_implementation="eager", torch_dtype=torch.float32)

    merged = AutoModelForSequenceClassification.from_pretrained(merged_dir, **kw).eval()
    assert merged.config.id2label[0] == training["labels"][0], merged.config.id2label
    hf_merged = logits(merged, tok, texts)
    ours_merged = [r["logits"] for r in ours(merged_dir, merged_dir)]

    base = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(training["labels"]), **kw)
    adapter = PeftModel.from_pretrained(base, adapter_dir).eval()
    peft_adapter = logits(adapter, tok, texts)
    with tempfile.TemporaryDirectory() as written:
        adapter.save_pretrained(written)
        ours_peft_written = [r["logits"] for r in ours(model_dir, written)]
        written_files = sorted(os.listdir(written))
    peft_merged = logits(adapter.merge_and_unload().eval(), tok, texts)

    checks = [
        ("transformers on the merged folder vs our predict on it", worst(hf_merged, ours_merged)),
        ("PEFT merge_and_unload vs transformers on our merged folder", worst(peft_merged, hf_merged)),
        ("PEFT adapter (unmerged) vs our merged folder", worst(peft_adapter, ours_merged)),
        (f"our predict on a folder PEFT saved ({', '.join(written_files)}) vs PEFT", worst(ours_peft_written, peft_adapter)),
    ]
    for what, diff in checks:
        print(f"{diff:.2e}  {what}")
    print(f"\n{len(texts)} texts, tolerance {TOLERANCE:g}; "
          f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}")
    return 0 if all(d <= TOLERANCE for _, d in checks) else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
