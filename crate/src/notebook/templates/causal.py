{% include "intro.py" %}

# %%
import csv
import io
import json
import math
import os

# %% [markdown]
# ## The run's settings

# %%
MODEL = {{ model }}  # {{ model_note }}
GGUF_FILE = {{ gguf_file }}  # {{ gguf_note }}
DATA_FILE = {{ data_file }}  # {{ data_note }}
OUTPUT_DIR = {{ output_dir }}
METHOD = {{ method }}  # {{ method_note }}
BASE = {{ base }}  # {{ base_note }}
MAX_LENGTH = {{ max_len }}  # tokens per row, special tokens included; longer rows are cut
VAL_FRACTION = {{ val_fraction }}  # share of the rows held out to measure perplexity
SEED = {{ seed }}
{%- include "settings.py" %}

{% include "read.py" %}

ROLES = ("system", "user", "assistant")


def lm_row(row):
    """A row as the page takes it: a conversation ("messages"), a prompt and completion, or a text; None if it
    cannot be used (the page lists it as a problem)."""
    messages = row.get("messages")
    if messages is not None:
        ok = isinstance(messages, list) and all(
            isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str) for m in messages)
        if ok and any(m["role"] == "assistant" for m in messages):
            return {"messages": [{"role": m["role"], "content": m["content"]} for m in messages]}
        return None
    text = lambda key: row[key] if isinstance(row.get(key), str) else None
    prompt, completion, plain = text("prompt"), text("completion"), text("text")
    if prompt is not None and completion:
        return {"prompt": prompt, "completion": completion}
    if prompt is None and plain is not None and plain.strip():
        return {"text": plain}
    return None


def lm_rows(path):
    return [r for r in (lm_row(row) for row in read_rows(path)) if r is not None]

{% include "split.py" %}

def held_out_split(n, val_fraction, seed):
    """The order the rows are taken in and how many of the first are held out, as the page splits them."""
    order = list(range(n))
    SplitMix64(seed).shuffle(order)
    n_val = min(round_half_away(n * val_fraction), n - 1) if n > 1 else 0
    return order, n_val


# %% [markdown]
# ## The data, split as the page split it

# %%
rows = lm_rows(DATA_FILE)
order, n_val = held_out_split(len(rows), VAL_FRACTION, SEED)
print(f"{DATA_FILE}: {len(rows)} rows, {n_val} held out")
if os.environ.get("LP_DRY_RUN"):
    # What a test reads: every setting as Python holds it, and the split.
    settings = {k: globals().get(k) for k in ("MODEL", "GGUF_FILE", "DATA_FILE", "METHOD", "BASE", "MAX_LENGTH",
                                             "VAL_FRACTION", "SEED", "LORA", "TRAINING", "WARMUP_RATIO", "PAGE_FIGURE")}
    print(json.dumps({"settings": settings, "held_out": [rows[i] for i in order[:n_val]],
                      "train": [rows[i] for i in order[n_val:]]}))
    raise SystemExit(0)

# %% [markdown]
# ## The model{% if method_name == "lora" %} and its LoRA adapter{% endif %}

# %%
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments, set_seed



def widened(model):
    """transformers widens a GGUF file's blocks to float32 tensors, as the page does, but still marks the model
    "quantized with GGUF", which its Trainer will not train nor save_pretrained save: the weights are plain
    float32, so take the mark off."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None and "gguf" in str(quantizer.quantization_config.quant_method).lower():
        model.is_quantized, model.hf_quantizer = False, None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    return model


set_seed(SEED)
load = dict(gguf_file=GGUF_FILE) if GGUF_FILE else {}
tokenizer = AutoTokenizer.from_pretrained(MODEL, **load)
{%- if qlora %}
from accelerate import PartialState
from transformers import BitsAndBytesConfig

if GGUF_FILE:
    # transformers will not quantize a model while it reads a GGUF file: widen it to float32 once, into a folder
    # (as the page widens it before quantizing), and load that folder in 4 bits. One process writes it.
    float_dir = os.path.join(OUTPUT_DIR, "float32-base")
    with PartialState().main_process_first():
        if not os.path.isfile(os.path.join(float_dir, "config.json")):
            widened(AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32, **load)).save_pretrained(float_dir)
            tokenizer.save_pretrained(float_dir)
    MODEL, load = float_dir, {}
# QLoRA as the page runs it: NF4, double quantization, float32 compute. On a GPU, bnb_4bit_compute_dtype=
# torch.bfloat16 is faster and what most QLoRA recipes use; it computes in other numbers than the page did.
load["quantization_config"] = BitsAndBytesConfig(
    load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
    bnb_4bit_compute_dtype=torch.float32)
{%- endif %}
model = widened(AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32, **load))
{%- if method_name == "lora" %}
from peft import LoraConfig, get_peft_model
{% if qlora %}
# Not prepare_model_for_kbit_training: it casts layers, which the page does not do (and turns on gradient
# checkpointing, which the run's own setting below decides). On a model too big for the GPU, call it before
# get_peft_model.
{%- endif %}
model = get_peft_model(model, LoraConfig(**LORA))
model.print_trainable_parameters()
{%- elif method_name == "bitfit" %}
# BitFit: only the biases train (Llama, Qwen2 and Gemma's linear layers have few or none).
for name, param in model.named_parameters():
    param.requires_grad = name.endswith(".bias")
{%- endif %}
{%- include "count.py" %}
# %% [markdown]
# ## The rows as tokens, labelled as the page labels them
# As TRL's SFT trainer does with completion-only loss, written out so the tokens the loss sees are exactly the
# page's: a prompt's tokens and a user's turns get the label -100 (not learned); the end-of-turn token is added
# to a completion and a text, so the model learns to stop.

# %%
# A folder with only tokenizer.json sets no special tokens: config.json's end token then, as the page reads it.
if tokenizer.eos_token is None and model.config.eos_token_id is not None:
    end = model.config.eos_token_id
    tokenizer.eos_token = tokenizer.convert_ids_to_tokens(end[0] if isinstance(end, list) else end)
EOS = tokenizer.eos_token or ""


def ids(text, special):
    return tokenizer(text, add_special_tokens=special)["input_ids"]


def chat(messages, open_turn):
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=open_turn)


def tokens(row):
    if "messages" in row:
        turns = row["messages"]
        input_ids = ids(chat(turns, False), False)
        learn = [False] * len(input_ids)
        for i, turn in enumerate(turns):
            if turn["role"] == "assistant":
                start, end = len(ids(chat(turns[:i], True), False)), len(ids(chat(turns[:i + 1], False), False))
                for j in range(start, min(end, len(input_ids))):
                    learn[j] = True
    elif "prompt" in row:
        end = "" if row["completion"].endswith(EOS) else EOS
        input_ids = ids(row["prompt"] + row["completion"] + end, True)
        p = min(len(ids(row["prompt"], True)), len(input_ids))
        learn = [j >= p for j in range(len(input_ids))]
    else:
        end = "" if row["text"].endswith(EOS) else EOS
        input_ids = ids(row["text"] + end, True)
        learn = [True] * len(input_ids)
    input_ids, learn = input_ids[:MAX_LENGTH], learn[:MAX_LENGTH]
    if not any(learn[1:]):
        return None  # nothing to learn within MAX_LENGTH tokens: the page skips the row too
    return {"input_ids": input_ids, "labels": [t if l else -100 for t, l in zip(input_ids, learn)]}


train_set, held_out = [], []
for k, i in enumerate(order):
    t = tokens(rows[i])
    if t is not None:
        (held_out if k < n_val else train_set).append(t)
# Padding is masked out of attention and labels, so any id serves; the tokenizer's own when it has one.
PAD = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, model.config.pad_token_id, 0) if i is not None)


def collate(batch):
    width = max(len(b["input_ids"]) for b in batch)
    pad = lambda seq, value: seq + [value] * (width - len(seq))
    return {
        "input_ids": torch.tensor([pad(b["input_ids"], PAD) for b in batch]),
        "attention_mask": torch.tensor([pad([1] * len(b["input_ids"]), 0) for b in batch]),
        "labels": torch.tensor([pad(b["labels"], -100) for b in batch]),
    }


@torch.no_grad()
def perplexity(model):
    """exp(mean loss over every labelled token held out): the page's held-out perplexity."""
    model.eval()
{%- if qlora %}
    # bitsandbytes 0.50 on a CPU with AVX512-BF16 repacks a 4-bit layer's weight for inference the first time it
    # runs in eval mode without gradients, and training after that gets wrong gradients (found here: the first
    # step's gradient norm 0.20 instead of 1.52, and a run that barely learns). The 4-bit layers have no dropout:
    # keeping them in training mode avoids the repacking and changes nothing else.
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.train()
{%- endif %}
    total, count = 0.0, 0
    for start in range(0, len(held_out), TRAINING["per_device_train_batch_size"]):
        batch = {k: v.to(model.device) for k, v in collate(held_out[start:start + TRAINING["per_device_train_batch_size"]]).items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
        labels = batch["labels"][:, 1:]
        loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="sum")
        total, count = total + loss.item(), count + int((labels != -100).sum())
    return math.exp(total / max(count, 1))


# %% [markdown]
# ## Train
# Differences from the page, none of them a setting: the batches' order and LoRA's initial A come from torch's
# random numbers, not the page's; transformers clips the gradient's global norm where the page clips each tensor's;
# transformers' Trainer leaves biases and norm weights out of weight decay{% if weight_decay_zero %} (no matter here: weight_decay is 0){% endif %}.
# Expect the page's held-out perplexity within a run-to-run spread, not its exact losses.

# %%
before = perplexity(model) if held_out else float("nan")
# transformers 5 takes the warm-up share as a fraction in warmup_steps; 4.x calls it warmup_ratio.
warmup = "warmup_ratio" if "warmup_ratio" in TrainingArguments.__dataclass_fields__ else "warmup_steps"
{%- if gradient_checkpointing %}
# Gradient checkpointing, as the page ran: each decoder layer recomputed in the backward pass. The non-reentrant
# form needs no input that requires grad (the embeddings are frozen under LoRA). transformers 6 renames it.
checkpointing = ("activation_checkpointing" if "activation_checkpointing" in TrainingArguments.__dataclass_fields__
                 else "gradient_checkpointing")
TRAINING.update({checkpointing: True, f"{checkpointing}_kwargs": {"use_reentrant": False}})
{%- endif %}
args = TrainingArguments(output_dir=OUTPUT_DIR, save_strategy="no", logging_steps=1, report_to="none",
                         remove_unused_columns=False, **{warmup: WARMUP_RATIO}, **TRAINING)
trainer = Trainer(model=model, args=args, train_dataset=train_set, data_collator=collate)
trainer.train()
after = perplexity(model) if held_out else float("nan")
print(f"held-out perplexity: {before:.1f} -> {after:.1f}")

# %% [markdown]
# ## Ask: each held-out prompt answered by the base model and by the trained one
# Greedy, at most 48 new tokens, as the page's *Ask both* and `lora-playground train`'s `answers.jsonl`: a
# conversation is asked up to its last assistant turn, through the chat template.

# %%
def prompt_of(row):
    if "prompt" in row:
        return row["prompt"], True
    if "messages" in row:
        turns = row["messages"]
        last = max(i for i, t in enumerate(turns) if t["role"] == "assistant")
        return chat(turns[:last], True), False
    return None


@torch.no_grad()
def answer(text, special):
    model.eval()
    batch = tokenizer(text, add_special_tokens=special, return_tensors="pt").to(model.device)
    new = model.generate(**batch, max_new_tokens=48, do_sample=False, pad_token_id=PAD)[0, batch["input_ids"].shape[1]:]
    return tokenizer.decode(new, skip_special_tokens=True)


answers = []
if trainer.is_world_process_zero():
    for i in order[:n_val]:
        asked = prompt_of(rows[i])
        if asked is None:
            continue
{%- if method_name == "lora" %}
        with model.disable_adapter():  # the same weights without the adapter: the base model's answer
            base = answer(*asked)
{%- else %}
        base = None  # the base's own weights trained: no base model is left to ask
{%- endif %}
        answers.append({"prompt": asked[0], "base": base, "adapter": answer(*asked)})
        print(json.dumps(answers[-1]))

# %% [markdown]
# ## Save what the page loads back

# %%
if trainer.is_world_process_zero():
    os.makedirs(OUTPUT_DIR, exist_ok=True)
    model.save_pretrained(OUTPUT_DIR)
    with open(os.path.join(OUTPUT_DIR, "answers.jsonl"), "w") as f:
        f.writelines(json.dumps(a) + "\n" for a in answers)
    with open(os.path.join(OUTPUT_DIR, "training.json"), "w") as f:
        json.dump({"model": MODEL, "gguf_file": GGUF_FILE, "method": METHOD, "base": BASE, "max_len": MAX_LENGTH,
                   "seed": SEED, "val_perplexity": [before, after], "log": trainer.state.log_history}, f, indent=2)
    print(f"saved to {OUTPUT_DIR}: load it in the page, or `lora-playground generate --adapter {OUTPUT_DIR}`")
