"""QLoRA on a classifier (issue 26): small random BERT, RoBERTa, DistilBERT, ModernBERT and GPT-2 classifiers loaded by
transformers + bitsandbytes in NF4, with and without a PEFT LoRA adapter: the references the trainer's NF4 base
is checked against.

For each, under crate/tests/fixtures/encoder_nf4/<name>/: the float32 model folder (config.json with a
sequence-classification head, model.safetensors, tokenizer.json: arch_fixtures.py's tokenizers and sentences, the
widths 64 so that every weight's rows are whole 64-value blocks, the case bitsandbytes' CPU kernel gets right), a
PEFT adapter (`peft/`, B not zero), and `expected.safetensors`:
- `float_logits`: the float32 model;
- `logits`: the model loaded with `BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
  bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.float32, llm_int8_skip_modules=TASK)`;
- `peft_logits`: the adapter on that 4-bit model;
- `peft_loss` and `grad.<name>` of every trainable tensor (LoRA's A and B, the head PEFT's `modules_to_save`
  copies) for the fixture labels, the adapter trained on the 4-bit model;
and the metadata `quantized`: the modules bitsandbytes made `Linear4bit`, which the trainer must hold packed.

`TASK` lists the task layers outside the backbone (`classifier`, DistilBERT's `pre_classifier`, ModernBERT's
`head`, GPT-2's `score`): PEFT's `modules_to_save` trains the classifier, and head-only training trains them all, so they stay
float. transformers' default would quantize all but the very last module (`get_keys_to_not_convert`); the script
prints what that default quantizes besides, for the record.

    python3 tests/reference/nf4_encoder_fixtures.py      (torch, transformers, peft, bitsandbytes 0.50 on the CPU)
"""
import json
import os
import shutil
import sys

import bitsandbytes
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from arch_fixtures import LABELS, SENTENCES, batch, gpt2_tok, modernbert_tok, roberta_tok, wordpiece  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "encoder_nf4")
TASK = ["classifier", "pre_classifier", "head", "score"]


def configs(tok):
    """name -> (config, tokenizer, PEFT's target_modules)."""
    T = transformers
    common = dict(initializer_range=0.3, num_labels=LABELS, id2label={i: f"class{i}" for i in range(LABELS)},
                  label2id={f"class{i}": i for i in range(LABELS)})
    bert, roberta, modern, gpt2 = tok["bert"], tok["roberta"], tok["modernbert"], tok["gpt2"]
    g = gpt2.token_to_id("<|endoftext|>")
    # No dropout: the gradients are compared, and the trainer's masks are its own (ModernBERT has none by default).
    no_dropout = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return {
        "bert": (T.BertConfig(vocab_size=bert.get_vocab_size(), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                              intermediate_size=128, max_position_embeddings=64, type_vocab_size=2,
                              pad_token_id=bert.token_to_id("[PAD]"), **no_dropout, **common), bert, ["query", "value"]),
        "roberta": (T.RobertaConfig(vocab_size=roberta.get_vocab_size(), hidden_size=64, num_hidden_layers=2,
                                    num_attention_heads=4, intermediate_size=128, max_position_embeddings=66,
                                    type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, **no_dropout,
                                    **common),
                    roberta, ["query", "value"]),
        "distilbert": (T.DistilBertConfig(vocab_size=bert.get_vocab_size(), dim=64, n_layers=2, n_heads=4, hidden_dim=128,
                                          max_position_embeddings=64, sinusoidal_pos_embds=False,
                                          pad_token_id=bert.token_to_id("[PAD]"), dropout=0.0, attention_dropout=0.0,
                                          seq_classif_dropout=0.0, **common), bert, ["q_lin", "v_lin"]),
        "modernbert": (T.ModernBertConfig(vocab_size=modern.get_vocab_size(), hidden_size=64, intermediate_size=128,
                                          num_hidden_layers=3, num_attention_heads=4, max_position_embeddings=64,
                                          global_attn_every_n_layers=2, local_attention=8, global_rope_theta=160000.0,
                                          local_rope_theta=10000.0, classifier_pooling="cls",
                                          pad_token_id=modern.token_to_id("[PAD]"), cls_token_id=modern.token_to_id("[CLS]"),
                                          sep_token_id=modern.token_to_id("[SEP]"), bos_token_id=modern.token_to_id("[CLS]"),
                                          eos_token_id=modern.token_to_id("[SEP]"), **common), modern, ["Wqkv"]),
        "gpt2": (T.GPT2Config(vocab_size=gpt2.get_vocab_size(), n_embd=64, n_layer=2, n_head=4, n_positions=64,
                              bos_token_id=g, eos_token_id=g, pad_token_id=g, resid_pdrop=0.0, embd_pdrop=0.0,
                              attn_pdrop=0.0, summary_first_dropout=0.0, **common), gpt2, ["c_attn"]),
    }


def four_bit(folder, skip):
    bnb = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                          bnb_4bit_compute_dtype=torch.float32, llm_int8_skip_modules=skip)
    model = transformers.AutoModelForSequenceClassification.from_pretrained(
        folder, quantization_config=bnb, dtype=torch.float32, attn_implementation="eager").eval()
    for module in model.modules():
        if isinstance(module, bitsandbytes.nn.Linear4bit):
            # bitsandbytes' CPU inference shortcut (AVX512-BF16) is not what training computes.
            module.support_avx512bf16_for_cpu = False
    return model


def quantized(model):
    return sorted(n for n, m in model.named_modules() if isinstance(m, bitsandbytes.nn.Linear4bit))


def main():
    tok = {"bert": wordpiece(), "roberta": roberta_tok(), "modernbert": modernbert_tok(), "gpt2": gpt2_tok()}
    for name, (config, tokenizer, targets) in configs(tok).items():
        folder = os.path.join(OUT, name)
        shutil.rmtree(folder, ignore_errors=True)
        torch.manual_seed(0)
        model = transformers.AutoModelForSequenceClassification.from_config(config, attn_implementation="eager").eval()
        model.save_pretrained(folder)
        tokenizer.save(os.path.join(folder, "tokenizer.json"))
        ids, mask = batch(tokenizer, config.pad_token_id)
        labels = torch.arange(len(SENTENCES)) % LABELS
        with torch.no_grad():
            out = {"input_ids": ids.float(), "attention_mask": mask.float(), "labels": labels.float(),
                   "float_logits": model(input_ids=ids, attention_mask=mask).logits}
        torch.manual_seed(1)
        peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=targets, task_type="SEQ_CLS",
                                                init_lora_weights=False, fan_in_fan_out=name == "gpt2"))
        # The head PEFT saves is the fresh one transformers drew: moved off it, so loading it is seen.
        with torch.no_grad():
            for n, p in peft.named_parameters():
                if "modules_to_save" in n:
                    p.add_(0.05)
        peft.save_pretrained(os.path.join(folder, "peft"))
        os.remove(os.path.join(folder, "peft", "README.md"))

        default = quantized(four_bit(folder, None))
        model = four_bit(folder, TASK)
        packed = quantized(model)
        print(f"{name}: {len(packed)} Linear4bit; transformers' default would also quantize "
              f"{sorted(set(default) - set(packed)) or 'nothing more'}")
        with torch.no_grad():
            out["logits"] = model(input_ids=ids, attention_mask=mask).logits
        peft = PeftModel.from_pretrained(model, os.path.join(folder, "peft"), is_trainable=True).eval()
        with torch.no_grad():
            out["peft_logits"] = peft(input_ids=ids, attention_mask=mask).logits
        loss = peft(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        out["peft_loss"] = loss.detach().reshape(1)
        for n, p in peft.named_parameters():
            if p.requires_grad:
                out["grad." + n.removeprefix("base_model.model.")] = p.grad
        save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(folder, "expected.safetensors"),
                  metadata={"transformers": transformers.__version__, "bitsandbytes": bitsandbytes.__version__,
                            "peft": __import__("peft").__version__, "torch": torch.__version__,
                            "quantized": json.dumps(packed), "sentences": json.dumps(SENTENCES)})
        print(f"  logits[0] float {[round(x, 4) for x in out['float_logits'][0].tolist()]}, "
              f"nf4 {[round(x, 4) for x in out['logits'][0].tolist()]}, loss {loss.item():.5f}")


if __name__ == "__main__":
    main()
