"""Writes crate/tests/fixtures/peft_tiny/: an adapter saved by Python PEFT itself, with PEFT's logits, so the
native tests (no Python) check that a PEFT-written folder loads here and predicts what PEFT predicts.

The base is the tiny random BERT `lora-playground tiny-model` writes (seeded, so the test rebuilds it exactly).
The adapter: r=4, lora_alpha=8, use_rslora, target_modules query/value/intermediate.dense, bias="all", every
value random (init_lora_weights=False, biases and head jittered) so nothing in it is a no-op.

    python tests/reference/peft_written_fixture.py
"""
import json
import os
import shutil
import subprocess
import tempfile

import peft
import torch
import transformers
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer
from transformers import AutoModelForSequenceClassification

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "crate", "tests", "fixtures", "peft_tiny")
TEXTS = ["my card fee was charged twice", "the school loan interest rate", "great service, thank you!",
         "why was my mortgage payment late?", "I love this bank"]


def main():
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        base_dir = os.path.join(tmp, "tiny")
        subprocess.run([os.path.join(ROOT, "tools", "lp.sh"), "tiny-model", "--out", base_dir], check=True)
        base = AutoModelForSequenceClassification.from_pretrained(base_dir, num_labels=3, attn_implementation="eager")
        config = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, use_rslora=True, bias="all",
                            target_modules=["query", "value", "intermediate.dense"], init_lora_weights=False)
        model = get_peft_model(base, config)
        model.peft_config["default"].base_model_name_or_path = "lora-playground/tiny-random-bert"
        with torch.no_grad():
            for name, p in model.named_parameters():
                if p.requires_grad and (name.endswith("bias") or "classifier" in name):
                    p.add_(0.1 * torch.randn_like(p))
        model.eval()
        tok = Tokenizer.from_file(os.path.join(base_dir, "tokenizer.json"))
        logits = []
        with torch.no_grad():
            for text in TEXTS:
                enc = tok.encode(text)
                ids = torch.tensor([enc.ids])
                logits.append(model(input_ids=ids, token_type_ids=torch.tensor([enc.type_ids]),
                                    attention_mask=torch.ones_like(ids)).logits[0].tolist())
        shutil.rmtree(OUT, ignore_errors=True)
        model.save_pretrained(OUT)
    os.remove(os.path.join(OUT, "README.md"))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"texts": TEXTS, "logits": logits,
                   "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}},
                  f, indent=1)
        f.write("\n")
    print(f"wrote {sorted(os.listdir(OUT))}")


if __name__ == "__main__":
    main()
