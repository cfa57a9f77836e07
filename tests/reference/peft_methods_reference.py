#!/usr/bin/env python3
"""Reference values for the method comparison (full fine-tuning, head-only, BitFit, prompt tuning,
prefix tuning), produced by transformers + PEFT on the `meta` device.

- `full`: every parameter of the model transformers builds is trainable.
- `head_only`: the parameters outside `model.base_model_prefix` (the classification head) are trainable.
- `bitfit`: every parameter whose name contains "bias", plus the head (Ben Zaken et al., 2021).
- `prompt_tuning` / `prefix_tuning`: `PeftModel.get_nb_trainable_parameters()` with 20 virtual tokens
  (`PromptTuningConfig`, `PrefixTuningConfig` without projection), task SEQ_CLS or FEATURE_EXTRACTION.

Usage: venv/bin/python tests/reference/peft_methods_reference.py > tests/reference/peft_methods_reference.json
The Rust test `crate/tests/methods_reference.rs` checks every row.
"""

import json
import os
import sys

import peft
import torch
import transformers
from peft import PrefixTuningConfig, PromptTuningConfig, get_peft_model

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peft_reference import PRESET_IDS, build  # noqa: E402

VIRTUAL_TOKENS = 20


def counts(model, trainable):
    params = dict(model.named_parameters())
    t = [n for n in params if trainable(n)]
    return {
        "trainable": sum(params[n].numel() for n in t),
        "all": sum(p.numel() for p in params.values()),
        "trainable_tensors": len(t),
    }


def peft_counts(preset, task, config):
    _, model = build(preset, task, 2, "meta")
    try:
        model = get_peft_model(model, config)
    except Exception as e:  # recorded, the calculator must refuse too
        return {"error": f"{type(e).__name__}: {e}"}
    trainable, total = model.get_nb_trainable_parameters()
    return {"trainable": trainable, "all": total}


def main():
    rows = []
    for preset in PRESET_IDS:
        for task in ("base", "seq-cls"):
            _, model = build(preset, task, 2, "meta")
            prefix = model.base_model_prefix + "."
            in_head = (lambda n: not n.startswith(prefix)) if task == "seq-cls" else (lambda n: False)
            row = {"preset": preset, "task": task, "num_labels": 2, "virtual_tokens": VIRTUAL_TOKENS}
            row["full"] = counts(model, lambda n: True)
            row["head_only"] = counts(model, in_head)
            row["bitfit"] = counts(model, lambda n: "bias" in n or in_head(n))
            task_type = "SEQ_CLS" if task == "seq-cls" else "FEATURE_EXTRACTION"
            row["prompt_tuning"] = peft_counts(
                preset, task, PromptTuningConfig(task_type=task_type, num_virtual_tokens=VIRTUAL_TOKENS))
            row["prefix_tuning"] = peft_counts(
                preset, task, PrefixTuningConfig(task_type=task_type, num_virtual_tokens=VIRTUAL_TOKENS))
            rows.append(row)
        print(preset, file=sys.stderr)
    print(json.dumps({
        "generated_by": "tests/reference/peft_methods_reference.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "rows": rows,
    }, indent=1))


if __name__ == "__main__":
    main()
