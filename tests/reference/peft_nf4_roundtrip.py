"""Our QLoRA adapter, read by PEFT on bitsandbytes' 4-bit model (issue 26): `lora-playground train --base nf4`
wrote crate/tests/fixtures/decoder_nf4/llama/ours/ (LoRA r 4 on every linear layer of the tiny Llama, trained on its
NF4 base, two epochs on crate/tests/fixtures/decoder/lesson.jsonl); PEFT loads it over transformers' NF4 model of
the same base (`BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
bnb_4bit_compute_dtype=torch.float32)`), and its log-probabilities of the fixture's texts are written beside it
(`peft_logprobs.safetensors`). The Rust test loads the same adapter on our NF4 base and must get the same.

    lora-playground train --model crate/tests/fixtures/decoder_nf4/llama --base nf4 \
        --data crate/tests/fixtures/decoder/lesson.jsonl --out crate/tests/fixtures/decoder_nf4/llama/ours \
        --epochs 2 --r 4 --alpha 8 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --lr 1e-2 \
        --batch-size 2
    python3 tests/reference/peft_nf4_roundtrip.py          (torch, transformers, peft, bitsandbytes)
"""
import os

import bitsandbytes
import torch
import transformers
from peft import PeftModel
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "decoder_nf4", "llama")


def main():
    bnb = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                          bnb_4bit_compute_dtype=torch.float32)
    base = transformers.AutoModelForCausalLM.from_pretrained(FIX, quantization_config=bnb, dtype=torch.float32,
                                                             attn_implementation="eager").eval()
    for module in base.modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
    model = PeftModel.from_pretrained(base, os.path.join(FIX, "ours")).eval()
    ours = load_file(os.path.join(FIX, "ours", "adapter_model.safetensors"))
    loaded = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert len(loaded) == len(ours), f"{len(loaded)} LoRA tensors loaded, {len(ours)} written"
    expected = load_file(os.path.join(FIX, "expected.safetensors"))
    ids, mask = expected["input_ids"].long(), expected["attention_mask"].long()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
    save_file({"logprobs": lp.contiguous()}, os.path.join(FIX, "ours", "peft_logprobs.safetensors"))
    print("PEFT read the adapter on the 4-bit base; log-probabilities written; change from the base:",
          (lp - expected["logprobs"]).abs().max().item())


if __name__ == "__main__":
    main()
