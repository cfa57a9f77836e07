"""A model folder with random weights that transformers itself builds from a config: the shapes of a real
checkpoint without its download (the Hub is unreachable here). For benchmarks and parity tests, never for accuracy.

    python tools/random_model.py CONFIG_JSON TOKENIZER_JSON OUT_DIR [--seed N]

CONFIG_JSON is a Hugging Face config.json (crate/presets/*.json are the presets' own); the tokenizer is copied as is.
"""
import json
import shutil
import sys
from pathlib import Path


def main():
    args = sys.argv[1:]
    seed = 0
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        sys.exit(__doc__)
    config_json, tokenizer_json, out = args
    import torch
    from transformers import AutoConfig, AutoModel
    torch.manual_seed(seed)
    raw = json.loads(Path(config_json).read_text())
    raw = {k: v for k, v in raw.items() if not k.startswith("_")}  # the presets' own notes
    config = AutoConfig.for_model(**raw)
    model = AutoModel.from_config(config)
    Path(out).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(tokenizer_json, Path(out) / "tokenizer.json")
    params = sum(p.numel() for p in model.parameters())
    print(f"{out}: {type(model).__name__}, {params:,} parameters (seed {seed})", file=sys.stderr)


if __name__ == "__main__":
    main()
