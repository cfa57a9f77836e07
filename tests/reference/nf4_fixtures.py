"""NF4 as bitsandbytes makes it (issue 26): the references the Rust side is checked against, byte for byte.

1. crate/tests/fixtures/nf4/quant.safetensors: for a few float32 tensors (random, a block of zeros, values on the
   code book's midpoints, a length that is not a multiple of 64, more than 256 blocks so the nested scales have two
   blocks), bitsandbytes' `quantize_4bit(blocksize=64, quant_type="nf4", compress_statistics=True)` on the CPU:
   `<name>.input`, `.packed` (uint8, two codes a byte, the first in the high nibble), `.absmax` (the block scales'
   8-bit codes), `.nested_absmax`, `.offset`, `.dequant` (`dequantize_4bit`, float32) and `.absmax_float` (the block
   scales as `dequantize_4bit` widens them), plus `nf4_code` and `dynamic_code` (the two code books).
   `.dequant` is bitsandbytes' reference implementation (`backends/default/ops.py`): its C++ CPU kernel, which
   `dequantize_4bit` calls for an even last dimension, gives every value of a [64, 48] weight the first block's
   scale (a last dimension that is not a multiple of 64); the script prints whether that still happens.
2. Tiny random `llama` and `gemma3_text` (decoder_fixtures.py's, widened to 64 so every row is whole blocks, the
   case bitsandbytes' CPU kernel gets right) under crate/tests/fixtures/decoder_nf4/<name>/: the float32 model
   folder, its PEFT adapter (`peft/`), `expected.safetensors` with the model loaded by transformers with
   `BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
   bnb_4bit_compute_dtype=torch.float32)` (`logprobs` of the fixture batch, `peft_logprobs` with the adapter on the
   4-bit model, `float_logprobs` unquantized; `peft_loss` and `grad.<name>` of every LoRA matrix for the
   completion-only `labels`, the adapter trained on the 4-bit model), and `nf4/`: what `save_pretrained` writes for the 4-bit model
   (what `quantize --to nf4` must write); for `llama`, `merged_nf4/model.safetensors`: PEFT's `merge_and_unload()`
   of the adapter into the 4-bit model (dequantize, add, quantize again), as `save_pretrained` writes it.

    python3 tests/reference/nf4_fixtures.py      (torch, transformers, peft, bitsandbytes 0.50 on the CPU)
"""
import json
import os
import shutil
import sys

import bitsandbytes
import bitsandbytes.functional as F
import torch
import transformers
from peft import PeftModel
from safetensors.torch import load_file, save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bitsandbytes.backends.default.ops import _dequantize_4bit_compute  # noqa: E402
from decoder_fixtures import TARGETS, batch, tokenizer, widen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures")


def inputs():
    g = torch.Generator().manual_seed(26)
    nf4 = F.get_4bit_type("nf4", device="cpu")
    mids = (nf4[:-1] + nf4[1:]) / 2
    ties = torch.cat([torch.tensor([1.0]), mids, -mids, torch.zeros(64 - 1 - 2 * len(mids))])  # absmax 1, then midpoints
    zeros = torch.cat([torch.zeros(64), torch.randn(64, generator=g)])
    return {
        "random": torch.randn(64, 48, generator=g) * 0.05,
        "ties": ties.reshape(1, 64),
        "zeros": zeros.reshape(2, 64),
        "ragged": torch.randn(5, 37, generator=g),
        "wide": torch.randn(272, 64, generator=g) * torch.linspace(0.001, 3.0, 272).reshape(-1, 1),
    }


def quant_fixture():
    out = {}
    for name, x in inputs().items():
        x = x.float().contiguous()
        packed, state = F.quantize_4bit(x, blocksize=64, compress_statistics=True, quant_type="nf4")
        out[f"{name}.input"] = x
        out[f"{name}.packed"] = packed.reshape(-1)
        out[f"{name}.absmax"] = state.absmax
        out[f"{name}.nested_absmax"] = state.state2.absmax
        out[f"{name}.offset"] = state.offset.reshape(1)
        widened = (F.dequantize_blockwise(state.absmax, state.state2) + state.offset).float()
        reference = _dequantize_4bit_compute(packed.reshape(-1), widened, state.code, 64, x.shape, torch.float32)
        kernel = F.dequantize_4bit(packed, state).reshape(x.shape)
        if not torch.equal(kernel, reference):
            print(f"{name} {tuple(x.shape)}: bitsandbytes' CPU dequantize_4bit differs from its reference "
                  f"implementation in {(kernel != reference).sum().item()} of {x.numel()} values")
        out[f"{name}.dequant"] = reference
        out[f"{name}.absmax_float"] = widened
        out["dynamic_code"] = state.state2.code.clone()
        out["nf4_code"] = state.code.clone()
    folder = os.path.join(FIXTURES, "nf4")
    os.makedirs(folder, exist_ok=True)
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(folder, "quant.safetensors"),
              metadata={"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__})
    print(f"quant.safetensors: {len(out)} tensors; offset of 'wide' {out['wide.offset'].item()!r}")


def logprobs(model, ids, mask):
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    lp = torch.log_softmax(logits[:, :-1], dim=-1)
    return lp.gather(-1, ids[:, 1:, None])[..., 0]


def config(name, tok):
    T = transformers
    common = dict(vocab_size=tok.get_vocab_size(), hidden_size=64, intermediate_size=128, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=128, initializer_range=0.3,
                  eos_token_id=tok.token_to_id("<|endoftext|>"), bos_token_id=tok.token_to_id("<s>"),
                  pad_token_id=tok.token_to_id("<pad>"))
    if name == "llama":
        return T.LlamaConfig(num_hidden_layers=2, rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, **common)
    return T.Gemma3TextConfig(num_hidden_layers=3, head_dim=16, query_pre_attn_scalar=16, sliding_window=4,
                              layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                              rope_theta=1000000.0, rope_local_base_freq=10000.0, rms_norm_eps=1e-6,
                              final_logit_softcapping=None, attn_logit_softcapping=None, tie_word_embeddings=True,
                              hidden_activation="gelu_pytorch_tanh", **common)


def model_fixture(name):
    from peft import LoraConfig, get_peft_model
    folder = os.path.join(FIXTURES, "decoder_nf4", name)
    shutil.rmtree(folder, ignore_errors=True)
    tok = tokenizer(bos=(name == "llama"))
    cfg = config(name, tok)
    model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").eval()
    widen(model)
    model.save_pretrained(folder)
    tok.save(os.path.join(folder, "tokenizer.json"))
    ids, mask, labels = batch(tok, cfg.pad_token_id)
    out = {"input_ids": ids.float(), "attention_mask": mask.float(), "labels": labels.float(),
           "float_logprobs": logprobs(model, ids, mask)}
    torch.manual_seed(1)
    peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, task_type="CAUSAL_LM",
                                            init_lora_weights=False))
    peft.save_pretrained(os.path.join(folder, "peft"))
    os.remove(os.path.join(folder, "peft", "README.md"))

    bnb = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                          bnb_4bit_compute_dtype=torch.float32)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, quantization_config=bnb, dtype=torch.float32,
                                                              attn_implementation="eager").eval()
    # bitsandbytes' CPU inference shortcut (AVX512-BF16: the weight repacked, bf16 arithmetic) is not what training
    # or a GPU computes: the reference is the dequantize-then-matmul path that training takes.
    for module in model.modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
    out["logprobs"] = logprobs(model, ids, mask)
    model.save_pretrained(os.path.join(folder, "nf4"))
    peft = PeftModel.from_pretrained(model, os.path.join(folder, "peft"), is_trainable=True).eval()
    out["peft_logprobs"] = logprobs(peft, ids, mask)
    loss = peft(input_ids=ids, attention_mask=mask, labels=labels).loss
    loss.backward()
    out["peft_loss"] = loss.detach().reshape(1)
    for n, p in peft.named_parameters():
        if p.requires_grad:
            out["grad." + n.removeprefix("base_model.model.")] = p.grad
    save_file(out, os.path.join(folder, "expected.safetensors"),
              metadata={"transformers": transformers.__version__, "bitsandbytes": bitsandbytes.__version__,
                        "torch": torch.__version__})
    if name == "llama":
        merged = PeftModel.from_pretrained(
            transformers.AutoModelForCausalLM.from_pretrained(folder, quantization_config=bnb, dtype=torch.float32),
            os.path.join(folder, "peft")).merge_and_unload()
        merged.save_pretrained(os.path.join(folder, "merged_nf4"))
        for extra in ["config.json", "generation_config.json"]:
            os.remove(os.path.join(folder, "merged_nf4", extra))
    drift = (out["logprobs"] - out["float_logprobs"]).abs().max().item()
    print(f"{name}: NF4 against float32 log-probs, largest change {drift:.4f}")


def main():
    torch.set_num_threads(1)
    quant_fixture()
    for name in ["llama", "gemma3_text"]:
        model_fixture(name)


if __name__ == "__main__":
    main()
