"""Small random language models of the decoder families (issue 25), built and run by transformers and PEFT.

For each of `llama` (tied embeddings, a BOS token its tokenizer adds), `qwen2` (biases on q/k/v, an untied
`lm_head`) and `gemma3_text` (RMSNorm with (1 + w), q/k norms, four norms a block, scaled embeddings, GeGLU with
tanh GELU, sliding-window layers shorter than the texts with their own rotary theta, tied embeddings), all with
grouped-query attention, this writes under crate/tests/fixtures/decoder/<name>/ a model folder as a Hub repository
has it (config.json, model.safetensors, tokenizer.json) and `expected.safetensors` with what transformers computes:

- `input_ids`, `attention_mask`: the texts as one right-padded batch;
- `logprobs` [batch, seq - 1]: log p(token i+1 | tokens 0..=i), the base model (`peft_logprobs`: with the adapter);
- `greedy.K` / `peft_greedy.K`: `generate(do_sample=False)` ids for prompt K (with transformers' KV cache);
- `labels`: the batch's labels with the prompt of each text at -100 (completion-only loss), `peft_loss` the mean
  cross entropy PEFT's model returns for them, `grad.<name>` the gradient of that loss for every LoRA matrix.

Then the PEFT adapter itself (`peft/`: r 4, lora_alpha 8, every linear layer of the blocks, A and B random so it
changes the output), as PEFT saves it for `task_type: CAUSAL_LM`.

Weights are drawn wider than transformers' 0.02 (logits of O(1)), norms' weights too, so a model that ignored
(1 + w) or a norm would not pass a 1e-4 tolerance.

    python3 tests/reference/decoder_fixtures.py          (torch, transformers, peft, tokenizers)
"""
import json
import os

import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "decoder")

# (prompt, completion): the loss sees only the completion.
TEXTS = [
    ("What is LoRA?", " A pair of small matrices added to a frozen weight."),
    ("Rank", " sets the size of the update."),
    ("Why freeze the base model?", " Fewer parameters to train, and a small file to share with the class."),
    ("Q:", " 12,288 = 768 x 8 + 8 x 768"),
]
CORPUS = [p + c for p, c in TEXTS] + [
    "the quick brown fox jumps over the lazy dog while the model learns a low rank update",
    "adapters are small files; the base model stays frozen and shared by every student in the room",
]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def tokenizer(bos):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>", "<s>", "<pad>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if bos:
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    else:
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return tok


def configs(vocab, tok):
    T = transformers
    common = dict(vocab_size=vocab, hidden_size=32, intermediate_size=48, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=128, initializer_range=0.3, eos_token_id=tok.token_to_id("<|endoftext|>"),
                  bos_token_id=tok.token_to_id("<s>"), pad_token_id=tok.token_to_id("<pad>"))
    return {
        "llama": T.LlamaConfig(num_hidden_layers=2, rope_theta=10000.0, rms_norm_eps=1e-5, tie_word_embeddings=True, **common),
        "qwen2": T.Qwen2Config(num_hidden_layers=2, rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False, **common),
        # Three layers: sliding, sliding, full; a window of 4 tokens, shorter than every text; head_dim not hidden / heads.
        "gemma3_text": T.Gemma3TextConfig(num_hidden_layers=3, head_dim=16, query_pre_attn_scalar=16, sliding_window=4,
                                          layer_types=["sliding_attention", "sliding_attention", "full_attention"],
                                          rope_theta=1000000.0, rope_local_base_freq=10000.0, rms_norm_eps=1e-6,
                                          final_logit_softcapping=None, attn_logit_softcapping=None, tie_word_embeddings=True,
                                          hidden_activation="gelu_pytorch_tanh", **common),
    }


def widen(model):
    """Every parameter redrawn N(0, 0.3) (norm weights too: Gemma's (1 + w) and Llama's w are then both tested)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.3)


def batch(tok, pad_id):
    encs = [tok.encode(p + c).ids for p, c in TEXTS]
    prompt_lens = [len(tok.encode(p).ids) for p, _ in TEXTS]
    n = max(len(e) for e in encs)
    ids = torch.tensor([e + [pad_id] * (n - len(e)) for e in encs])
    mask = torch.tensor([[1] * len(e) + [0] * (n - len(e)) for e in encs])
    labels = ids.clone()
    for i, p in enumerate(prompt_lens):
        labels[i, :p] = -100
    labels[mask == 0] = -100
    return ids, mask, labels


def logprobs(model, ids, mask):
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits.float()
    lp = torch.log_softmax(logits[:, :-1], dim=-1)
    return lp.gather(-1, ids[:, 1:, None])[..., 0]


def greedy(model, tok, prefix):
    out = {}
    for k, (prompt, _) in enumerate(TEXTS[:2]):
        ids = torch.tensor([tok.encode(prompt).ids])
        with torch.no_grad():
            gen = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False,
                                 use_cache=True, eos_token_id=None, pad_token_id=tok.token_to_id("<pad>"))
        out[f"{prefix}greedy.{k}"] = gen[0, ids.shape[1]:].float()
    return out


def main():
    for name in ["llama", "qwen2", "gemma3_text"]:
        tok = tokenizer(bos=(name == "llama"))
        config = configs(tok.get_vocab_size(), tok)[name]
        folder = os.path.join(OUT, name)
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
        widen(model)
        model.save_pretrained(folder)
        tok.save(os.path.join(folder, "tokenizer.json"))
        ids, mask, labels = batch(tok, config.pad_token_id)
        expected = {"input_ids": ids.float(), "attention_mask": mask.float(), "labels": labels.float(),
                    "logprobs": logprobs(model, ids, mask)}
        expected.update(greedy(model, tok, ""))
        torch.manual_seed(1)
        peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=TARGETS, task_type="CAUSAL_LM",
                                                init_lora_weights=False))
        peft.eval()
        peft.save_pretrained(os.path.join(folder, "peft"))
        os.remove(os.path.join(folder, "peft", "README.md"))
        expected["peft_logprobs"] = logprobs(peft, ids, mask)
        expected.update(greedy(peft, tok, "peft_"))
        out = peft(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        expected["peft_loss"] = out.loss.detach().reshape(1)
        for n, p in peft.named_parameters():
            if p.requires_grad:
                expected["grad." + n.removeprefix("base_model.model.")] = p.grad
        save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(folder, "expected.safetensors"),
                  metadata={"transformers": transformers.__version__, "torch": torch.__version__, "peft": __import__("peft").__version__,
                            "texts": json.dumps(TEXTS)})
        # (`model` now carries PEFT's LoRA layers too: get_peft_model wraps it in place.)
        print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters with LoRA, batch {tuple(ids.shape)}, "
              f"loss {out.loss.item():.5f}, greedy {expected['greedy.0'].int().tolist()}")


if __name__ == "__main__":
    main()
