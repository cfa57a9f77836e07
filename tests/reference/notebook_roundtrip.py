"""The round trip page -> notebook -> adapter -> page, compared (issue 29; tools/check/notebook_roundtrip.sh runs
it). Plain Python, no packages: it reads what the two sides wrote.

Usage: notebook_roundtrip.py PAGE_RUN_DIR PAGE_STDOUT SCRIPT_LOG SCRIPT_OUT_DIR OURS_PREDICTIONS
  PAGE_RUN_DIR      the folder `lora-playground train` saved (training.json)
  PAGE_STDOUT       train's stdout (one JSON line per epoch)
  SCRIPT_LOG        the exported script's output (PEFT's print_trainable_parameters line, the page's beside it)
  SCRIPT_OUT_DIR    the folder the script saved (training.json, predictions.jsonl)
  OURS_PREDICTIONS  `lora-playground predict --adapter SCRIPT_OUT_DIR` on the validation texts
Prints one JSON object; exits 1 if the counts or the predictions disagree.
"""
import json
import re
import sys

page_dir, page_stdout, script_log, script_dir, ours = sys.argv[1:6]
page_epochs = [json.loads(l) for l in open(page_stdout) if l.startswith("{")]
log = open(script_log).read()
line = re.compile(r"trainable params: ([\d,]+) \|\| all params: ([\d,]+)")
counts = [tuple(int(x.replace(",", "")) for x in m) for m in line.findall(log)]
peft, shown = counts[0], counts[1]  # print_trainable_parameters() first, then "the page showed"
history = json.load(open(f"{script_dir}/training.json"))["epochs"]
script_eval = [h for h in history if "eval_accuracy" in h][-1]
theirs = [json.loads(l) for l in open(f"{script_dir}/predictions.jsonl")]
mine = [json.loads(l) for l in open(ours)]
same = sum(a["label"] == b["label"] for a, b in zip(theirs, mine))
logit_gap = max(abs(x - y) for a, b in zip(theirs, mine) for x, y in zip(a["logits"], b["logits"]))
summary = {
    "page": {"val_accuracy": page_epochs[-1]["val_accuracy"], "val_macro_f1": page_epochs[-1]["val_macro_f1"]},
    "script": {"val_accuracy": script_eval["eval_accuracy"], "val_macro_f1": script_eval["eval_macro_f1"]},
    "trainable_all_peft": peft,
    "trainable_all_page": shown,
    "script_adapter_in_page": {"texts": len(theirs), "same_label": same, "max_logit_difference": logit_gap},
}
print(json.dumps(summary, indent=2))
ok = peft == shown and len(theirs) == len(mine) and same == len(theirs) and logit_gap < 1e-3
sys.exit(0 if ok else 1)
