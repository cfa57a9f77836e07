"""Our language-model adapter, read by PEFT (issue 25): `lora-playground train` wrote
crate/tests/fixtures/decoder/llama/ours/ (LoRA r 4 on every linear layer of the tiny Llama, two epochs on
crate/tests/fixtures/decoder/lesson.jsonl); PEFT loads it over the same base with `PeftModel.from_pretrained`, and
what it computes for the fixture's texts is written beside it (`peft_logprobs.safetensors`, [batch, seq - 1] as in
decoder_fixtures.py). The Rust test (`crate/tests/train/causal.rs`) loads the same adapter and must get the same
log-probabilities. Also checked here: PEFT found every tensor (none missing or unexpected), and our file's keys and
shapes are the ones PEFT writes for the same LoraConfig.

    lora-playground train --model crate/tests/fixtures/decoder/llama --data crate/tests/fixtures/decoder/lesson.jsonl \
        --out crate/tests/fixtures/decoder/llama/ours --epochs 2 --r 4 --alpha 8 \
        --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj --lr 1e-2 --batch-size 2
    python3 tests/reference/peft_causal_roundtrip.py          (torch, transformers, peft)
"""
import os

import torch
import transformers
from peft import PeftModel
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "decoder", "llama")


def main():
    base = transformers.AutoModelForCausalLM.from_pretrained(FIX, attn_implementation="eager").eval()
    model = PeftModel.from_pretrained(base, os.path.join(FIX, "ours")).eval()
    ours = load_file(os.path.join(FIX, "ours", "adapter_model.safetensors"))
    peft_own = load_file(os.path.join(FIX, "peft", "adapter_model.safetensors"))
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in peft_own.items()}, "keys or shapes differ"
    loaded = {n: p for n, p in model.named_parameters() if "lora_" in n}
    for key, value in ours.items():
        name = key.replace(".lora_A.weight", ".lora_A.default.weight").replace(".lora_B.weight", ".lora_B.default.weight")
        assert torch.equal(loaded[name], value), f"{key} not loaded as written"
    with safe_open(os.path.join(FIX, "expected.safetensors"), "pt") as f:
        ids, mask = f.get_tensor("input_ids").long(), f.get_tensor("attention_mask").long()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    lp = torch.log_softmax(logits[:, :-1], -1).gather(-1, ids[:, 1:, None])[..., 0]
    save_file({"peft_logprobs": lp.contiguous()}, os.path.join(FIX, "ours", "peft_logprobs.safetensors"),
              metadata={"transformers": transformers.__version__, "peft": __import__("peft").__version__})
    print("PEFT loaded", len(ours), "tensors; log-probs", tuple(lp.shape))


if __name__ == "__main__":
    main()
