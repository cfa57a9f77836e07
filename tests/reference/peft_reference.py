#!/usr/bin/env python3
"""Reference values for the LoRA calculator, produced by real transformers + PEFT.

Every row is one (preset, task, LoRA config). For each row this script builds the model
that transformers builds for the preset's config.json (on the `meta` device, so Llama-2-7b
costs no memory), wraps it with `peft.get_peft_model`, and records what PEFT itself says:

- `trainable`, `all`: `PeftModel.get_nb_trainable_parameters()`;
- `lora_params`: the numel of every `lora_A` / `lora_B` weight;
- `modules`: the names of the modules PEFT replaced with LoRA layers;
- `adapter_bytes`: the byte size of the `adapter_model.safetensors` that
  `save_pretrained` writes (the same state dict and metadata, serialised by `safetensors`;
  checked against a real `save_pretrained` for the small presets).

Per preset it also records the base parameter count, the size of `model.safetensors`
written by `save_pretrained` (presets under 2 GB), and AdamW / SGD optimizer state bytes
measured from real optimizer state after one step (small presets).

Usage (about 3 minutes on 2 cores):
    python -m venv venv && venv/bin/pip install torch transformers peft safetensors
    venv/bin/python tests/reference/peft_reference.py > tests/reference/peft_reference.json

The Rust test `crate/tests/peft_reference.rs` checks every row.
"""

import contextlib
import io
import json
import os
import sys
import tempfile

import peft
import safetensors.torch
import torch
import transformers
from peft import LoraConfig, get_peft_model
from peft.utils import get_peft_model_state_dict
from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

HERE = os.path.dirname(os.path.abspath(__file__))
PRESETS = os.path.join(HERE, "..", "..", "crate", "presets")
PRESET_IDS = [
    "all-MiniLM-L6-v2",
    "bert-base-uncased",
    "distilbert-base-uncased",
    "roberta-base",
    "ModernBERT-base",
    "gpt2",
    "gemma-3-270m",
    "Llama-2-7b",
]
# Presets small enough to build for real (weights in memory, files on disk).
REAL_PRESETS = {"all-MiniLM-L6-v2", "bert-base-uncased", "distilbert-base-uncased", "roberta-base", "gpt2"}

# Target sets, per model_type: query+value, every attention projection.
QV = {
    "bert": ["query", "value"],
    "roberta": ["query", "value"],
    "distilbert": ["q_lin", "v_lin"],
    "modernbert": ["Wqkv"],
    "gpt2": ["c_attn"],
    "llama": ["q_proj", "v_proj"],
    "gemma3_text": ["q_proj", "v_proj"],
}
ATTENTION = {
    "bert": ["query", "key", "value", "attention.output.dense"],
    "roberta": ["query", "key", "value", "attention.output.dense"],
    "distilbert": ["q_lin", "k_lin", "v_lin", "out_lin"],
    "modernbert": ["Wqkv", "Wo"],
    "gpt2": ["c_attn", "attn.c_proj"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj"],
    "gemma3_text": ["q_proj", "k_proj", "v_proj", "o_proj"],
}


def load_config(preset):
    with open(os.path.join(PRESETS, preset + ".json")) as f:
        raw = json.load(f)
    return raw, transformers.AutoConfig.for_model(**raw)


def build(preset, task, num_labels, device):
    raw, config = load_config(preset)
    if task == "seq-cls":
        config.num_labels = num_labels
        if config.pad_token_id is None:
            config.pad_token_id = config.eos_token_id
        auto = transformers.AutoModelForSequenceClassification
    else:
        auto = transformers.AutoModel
    with torch.device(device):
        model = auto.from_config(config, torch_dtype=torch.float32)
    return raw["model_type"], model


def safetensors_bytes(state_dict):
    # safetensors needs real storage; zeros of the same shape and dtype serialise to the
    # same number of bytes as the trained values.
    real = {k: torch.zeros(v.shape, dtype=v.dtype) for k, v in state_dict.items()}
    return len(safetensors.torch.save(real, metadata={"format": "pt"}))


def lora_row(preset, task, num_labels, r, alpha, targets, bias, layers=None, rslora=False):
    model_type, model = build(preset, task, num_labels, "meta")
    config = LoraConfig(
        r=r,
        lora_alpha=alpha,
        target_modules=targets,
        bias=bias,
        use_rslora=rslora,
        layers_to_transform=layers,
        task_type="SEQ_CLS" if task == "seq-cls" else None,
    )
    row = {
        "preset": preset,
        "model_type": model_type,
        "task": task,
        "num_labels": num_labels,
        "r": r,
        "lora_alpha": alpha,
        "use_rslora": rslora,
        "target_modules": targets,
        "bias": bias,
        "layers_to_transform": layers,
    }
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            pm = get_peft_model(model, config)
    except (ValueError, TypeError) as e:
        # PEFT refuses some configs (e.g. DistilBERT SEQ_CLS + all-linear); the calculator must refuse them too.
        row["error"] = f"{type(e).__name__}: {e}"
        return row
    trainable, total = pm.get_nb_trainable_parameters()
    lora = sum(p.numel() for n, p in pm.named_parameters() if ".lora_A." in n or ".lora_B." in n)
    modules = sorted(
        n.removeprefix("base_model.model.")
        for n, m in pm.named_modules()
        if isinstance(m, peft.tuners.lora.LoraLayer)
    )
    state = get_peft_model_state_dict(pm)
    return row | {
        "trainable": trainable,
        "all": total,
        "lora_params": lora,
        "modules": modules,
        # Key names and shapes for r=8 rows only, to keep the table small.
        "adapter_keys": {k: list(v.shape) for k, v in state.items()} if r == 8 else None,
        "adapter_bytes": safetensors_bytes(state),
    }


def check_adapter_bytes_against_save_pretrained(row):
    """For a small preset, write the adapter for real and compare with the emulated size."""
    model_type, model = build(row["preset"], row["task"], row["num_labels"], "cpu")
    config = LoraConfig(
        r=row["r"],
        lora_alpha=row["lora_alpha"],
        target_modules=row["target_modules"],
        bias=row["bias"],
        task_type="SEQ_CLS" if row["task"] == "seq-cls" else None,
    )
    pm = get_peft_model(model, config)
    with tempfile.TemporaryDirectory() as d:
        pm.save_pretrained(d)
        size = os.path.getsize(os.path.join(d, "adapter_model.safetensors"))
    assert size == row["adapter_bytes"], (row["preset"], size, row["adapter_bytes"])


def optimizer_state_bytes(model, make_optimizer):
    """Bytes of optimizer state torch actually allocates after one step."""
    params = [p for p in model.parameters() if p.requires_grad]
    opt = make_optimizer(params)
    for p in params:
        p.grad = torch.zeros_like(p)
    opt.step()
    total = 0
    for state in opt.state.values():
        for v in state.values():
            if torch.is_tensor(v):
                total += v.numel() * v.element_size()
    return total, len(params)


def preset_row(preset):
    out = {"preset": preset}
    for task in ("base", "seq-cls"):
        model_type, model = build(preset, task, 2, "meta")
        out[task] = {"parameters": sum(p.numel() for p in model.parameters())}
        if preset in REAL_PRESETS:
            model_type, model = build(preset, task, 2, "cpu")
            with tempfile.TemporaryDirectory() as d:
                model.save_pretrained(d, safe_serialization=True, max_shard_size="100GB")
                out[task]["model_safetensors_bytes_fp32"] = os.path.getsize(os.path.join(d, "model.safetensors"))
                model.to(torch.bfloat16).save_pretrained(d, safe_serialization=True, max_shard_size="100GB")
                out[task]["model_safetensors_bytes_bf16"] = os.path.getsize(os.path.join(d, "model.safetensors"))
    out["peft_default_targets"] = TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING.get(model_type)
    return out


def optimizer_rows():
    """Optimizer state for LoRA r=8 query+value on MiniLM (seq-cls) and for full fine-tuning."""
    rows = []
    for method in ("lora", "full"):
        for name, make in (
            ("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-3)),
            ("sgd_momentum", lambda ps: torch.optim.SGD(ps, lr=1e-3, momentum=0.9)),
            ("sgd", lambda ps: torch.optim.SGD(ps, lr=1e-3)),
        ):
            _, model = build("all-MiniLM-L6-v2", "seq-cls", 2, "cpu")
            if method == "lora":
                model = get_peft_model(
                    model, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "value"], task_type="SEQ_CLS")
                )
            state, tensors = optimizer_state_bytes(model, make)
            rows.append({"preset": "all-MiniLM-L6-v2", "task": "seq-cls", "method": method,
                         "optimizer": name, "state_bytes": state, "trainable_tensors": tensors})
    return rows


def main():
    torch.manual_seed(0)
    rows = []
    for preset in PRESET_IDS:
        model_type = load_config(preset)[0]["model_type"]
        for task in ("base", "seq-cls"):
            for name, targets in (("qv", QV[model_type]), ("attention", ATTENTION[model_type]), ("all-linear", "all-linear")):
                for r in (1, 4, 8, 16, 64):
                    rows.append(lora_row(preset, task, 2, r, 2 * r, targets, "none"))
                for bias in ("all", "lora_only"):
                    rows.append(lora_row(preset, task, 2, 8, 16, targets, bias))
            rows.append(lora_row(preset, task, 5, 8, 8, QV[model_type], "none", layers=[0, 1], rslora=True))
        print(preset, file=sys.stderr)
    for row in rows:
        if row["preset"] in ("all-MiniLM-L6-v2", "distilbert-base-uncased", "gpt2") and row["r"] in (1, 64) \
                and "error" not in row:
            check_adapter_bytes_against_save_pretrained(row)
    print(json.dumps({
        "generated_by": "tests/reference/peft_reference.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                     "safetensors": safetensors.__version__},
        "presets": [preset_row(p) for p in PRESET_IDS],
        "optimizer": optimizer_rows(),
        "rows": rows,
    }, indent=1))


if __name__ == "__main__":
    main()
