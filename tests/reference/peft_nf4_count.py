"""What PEFT prints for QLoRA (issue 26): SmolLM2-135M-Instruct (read by transformers from the project's GGUF file,
re-saved as a float32 folder because transformers will not quantize a GGUF model directly), loaded in 4 bits by
bitsandbytes (NF4, double quantization, float32 compute), LoRA r 8 / alpha 16 on all-linear: the line
`print_trainable_parameters()` prints, `get_nb_trainable_parameters()`, and the plain sum of `numel()` over the 4-bit
model (bitsandbytes' packed weights count half). Written to crate/tests/fixtures/nf4/smollm2_peft_count.json with
the config; the calculator test must print the same line.

    python3 tests/reference/peft_nf4_count.py MODELS_DIR       (torch, transformers, peft, bitsandbytes, gguf)
"""
import contextlib
import io
import json
import os
import sys
import tempfile

import torch
import transformers
from peft import LoraConfig, get_peft_model

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "nf4", "smollm2_peft_count.json")


def main(models):
    g = transformers.AutoModelForCausalLM.from_pretrained(models, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
                                                          dtype=torch.float32)
    cfg = g.config
    if hasattr(cfg, "quantization_config"):
        delattr(cfg, "quantization_config")
    with tempfile.TemporaryDirectory() as folder:
        fresh = transformers.AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
        fresh.load_state_dict(g.state_dict())
        fresh.save_pretrained(folder)
        config = json.load(open(os.path.join(folder, "config.json")))
        bnb = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                              bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.float32)
        m = transformers.AutoModelForCausalLM.from_pretrained(folder, quantization_config=bnb, dtype=torch.float32)
    numel = sum(p.numel() for p in m.parameters())
    p = get_peft_model(m, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        p.print_trainable_parameters()
    trainable, total = p.get_nb_trainable_parameters()
    json.dump({"config": config, "printed": buf.getvalue().strip(), "trainable": trainable, "all": total,
               "numel_sum_of_4bit_model": numel}, open(OUT, "w"), indent=1)
    print(buf.getvalue().strip(), "| numel() sum of the 4-bit model:", numel)


if __name__ == "__main__":
    main(sys.argv[1])
