{% include "intro.py" %}

# %%
import collections
import csv
import io
import json
import math
import os

# %% [markdown]
# ## The run's settings

# %%
MODEL = {{ model }}  # a Hub id, or a folder with config.json, tokenizer.json and model.safetensors
DATA_FILE = {{ data_file }}  # {{ data_note }}
OUTPUT_DIR = {{ output_dir }}
METHOD = {{ method }}  # {{ method_note }}
LABELS = {{ labels }}  # the classes the page found, sorted as it sorts them
MAX_LENGTH = {{ max_len }}  # tokens per text, special tokens included; longer texts are cut
VAL_FRACTION = {{ val_fraction }}  # share of each class held out for validation
SEED = {{ seed }}
{%- include "settings.py" %}

{% include "read.py" %}

def field(row, key):
    """A field as text, as the page reads it: strings as they are, JSON numbers and booleans as written."""
    value = row.get(key)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return value if isinstance(value, str) else None


def labelled_examples(path):
    """(text, label index) rows and the sorted labels; rows without text or label, and classes seen once, are
    skipped as the page skips them."""
    rows = []
    for row in read_rows(path):
        text, label = field(row, "text"), field(row, "label")
        if text is not None and label is not None and text.strip() and label.strip():
            rows.append((text.strip(), label.strip()))
    counts = collections.Counter(label for _, label in rows)
    rows = [(text, label) for text, label in rows if counts[label] > 1]
    labels = sorted({label for _, label in rows})
    return [(text, labels.index(label)) for text, label in rows], labels

{% include "split.py" %}

def stratified(examples, num_labels, val_fraction, seed):
    """About `val_fraction` of each class to validation (at least one per class, one left to train on)."""
    rng = SplitMix64(seed ^ 0x5EED5917)
    train, val = [], []
    for label in range(num_labels):
        members = [e for e in examples if e[1] == label]
        rng.shuffle(members)
        n = len(members)
        k = min(max(round_half_away(n * val_fraction), 1 if n > 1 else 0), max(n - 1, 0))
        val += members[:k]
        train += members[k:]
    rng.shuffle(train)
    rng.shuffle(val)
    return train, val


# %% [markdown]
# ## The data, split as the page split it

# %%
examples, found = labelled_examples(DATA_FILE)
if found != LABELS:
    raise SystemExit(f"{DATA_FILE} has the classes {found}, but the page trained on {LABELS}: another file?")
train_rows, val_rows = stratified(examples, len(LABELS), VAL_FRACTION, SEED)
print(f"{DATA_FILE}: {len(examples)} rows, {len(train_rows)} to train on, {len(val_rows)} to validate on")
if os.environ.get("LP_DRY_RUN"):
    # What a test reads: every setting as Python holds it, and the split.
    settings = {k: globals().get(k) for k in ("MODEL", "DATA_FILE", "METHOD", "LABELS", "MAX_LENGTH", "VAL_FRACTION",
                                             "SEED", "LORA", "TRAINING", "WARMUP_RATIO", "PAGE_FIGURE")}
    print(json.dumps({"settings": settings, "train": [t for t, _ in train_rows], "validation": [t for t, _ in val_rows]}))
    raise SystemExit(0)

# %% [markdown]
# ## The model{% if method_name == "lora" %} and its LoRA adapter{% endif %}

# %%
import numpy as np
import torch
import transformers
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, Trainer,
                          TrainingArguments, set_seed)

set_seed(SEED)
tokenizer = AutoTokenizer.from_pretrained(MODEL)
{%- if qlora %}
from transformers import BitsAndBytesConfig

# QLoRA as the page runs it: NF4, double quantization, float32 compute. The task layers outside the backbone stay
# float, as in the page: they train (PEFT's modules_to_save; head-only and BitFit train them all).
load = dict(quantization_config=BitsAndBytesConfig(
    load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
    bnb_4bit_compute_dtype=torch.float32, llm_int8_skip_modules=["classifier", "pre_classifier", "head", "score"]))
{%- else %}
load = {}
{%- endif %}
model = AutoModelForSequenceClassification.from_pretrained(
    MODEL, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)},
    **load)
if tokenizer.pad_token is None:
    # GPT-2 has no padding token; its classifier reads the last token that is not padding, as the page's does.
    tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
{% if method_name == "lora" %}
from peft import LoraConfig, get_peft_model

model = get_peft_model(model, LoraConfig(**LORA))
model.print_trainable_parameters()
{%- elif method_name == "head" %}
# Head-only: every weight outside the pretrained backbone trains (`classifier`, GPT-2's `score`, DistilBERT's
# `pre_classifier`, ModernBERT's `head`), as in the page; the backbone is frozen.
backbone = model.base_model_prefix + "."
for name, param in model.named_parameters():
    param.requires_grad = not name.startswith(backbone)
{%- elif method_name == "bitfit" %}
# BitFit: the biases train, and every weight outside the pretrained backbone (the new head), as in the page.
backbone = model.base_model_prefix + "."
for name, param in model.named_parameters():
    param.requires_grad = name.endswith(".bias") or not name.startswith(backbone)
{%- endif %}
{%- include "count.py" %}
# %% [markdown]
# ## Train
# Differences from the page, none of them a setting: the batches' order and the new weights' initial values come
# from torch's random numbers, not the page's; transformers clips the gradient's global norm where the page clips
# each tensor's; transformers' Trainer leaves biases and LayerNorm weights out of weight decay, the page decays
# every trained tensor{% if weight_decay_zero %} (no matter here: weight_decay is 0){% endif %}; the page rounds the warm-up steps
# where transformers rounds up. Expect the page's accuracy within a run-to-run spread, not its exact losses.

# %%
def encode(rows):
    return [dict(tokenizer(text, truncation=True, max_length=MAX_LENGTH), labels=label) for text, label in rows]


def metrics(prediction):
    predicted = np.argmax(prediction.predictions, axis=-1)
    gold = prediction.label_ids
    f1 = []
    for c in range(len(LABELS)):
        tp = np.sum((predicted == c) & (gold == c))
        fp, fn = np.sum((predicted == c) & (gold != c)), np.sum((predicted != c) & (gold == c))
        f1.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": float(np.mean(predicted == gold)), "macro_f1": float(np.mean(f1))}


# transformers 5 takes the warm-up share as a fraction in warmup_steps; 4.x calls it warmup_ratio.
warmup = "warmup_ratio" if "warmup_ratio" in TrainingArguments.__dataclass_fields__ else "warmup_steps"
args = TrainingArguments(
    output_dir=OUTPUT_DIR, eval_strategy="epoch", save_strategy="no", logging_strategy="epoch", report_to="none",
    per_device_eval_batch_size=TRAINING["per_device_train_batch_size"], **{warmup: WARMUP_RATIO}, **TRAINING)
trainer = Trainer(model=model, args=args, train_dataset=encode(train_rows), eval_dataset=encode(val_rows),
                  data_collator=DataCollatorWithPadding(tokenizer), compute_metrics=metrics)
trainer.train()
print(trainer.evaluate())

# %% [markdown]
# ## Save what the page loads back
# {{ save_note }}

# %%
if trainer.is_world_process_zero():
    os.makedirs(OUTPUT_DIR, exist_ok=True)
{%- if method_name == "lora" %}
    model.save_pretrained(OUTPUT_DIR)  # adapter_config.json + adapter_model.safetensors
    weights = "adapter_model.safetensors"
{%- elif method_name == "full" %}
    model.save_pretrained(OUTPUT_DIR)  # config.json + model.safetensors
    tokenizer.save_pretrained(OUTPUT_DIR)
    weights = "model.safetensors"
{%- else %}
    from safetensors.torch import save_file

    # The trained tensors alone, by their transformers names (what the page saves for head-only and BitFit).
    save_file({n: p.detach().contiguous().cpu() for n, p in model.named_parameters() if p.requires_grad},
              os.path.join(OUTPUT_DIR, "trained.safetensors"))
    weights = "trained.safetensors"
{%- endif %}
    record = {"method": METHOD, "base_model": MODEL, "labels": LABELS, "max_len": MAX_LENGTH, "weights": weights,
              "seed": SEED, "val_fraction": VAL_FRACTION, "epochs": [e for e in trainer.state.log_history]}
    with open(os.path.join(OUTPUT_DIR, "training.json"), "w") as f:
        json.dump(record, f, indent=2)
    # The validation texts' predictions, to set beside the page's for the same adapter.
    model.eval()
    with open(os.path.join(OUTPUT_DIR, "predictions.jsonl"), "w") as f, torch.no_grad():
        for text, _ in val_rows:
            batch = tokenizer(text, truncation=True, max_length=MAX_LENGTH, return_tensors="pt").to(model.device)
            logits = model(**batch).logits[0].float().cpu()
            f.write(json.dumps({"text": text, "label": LABELS[int(logits.argmax())], "logits": logits.tolist()}) + "\n")
    print(f"saved to {OUTPUT_DIR}: load it in the page's Adapters panel, or `lora-playground predict --adapter {OUTPUT_DIR}`")
