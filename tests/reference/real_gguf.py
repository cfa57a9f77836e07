"""What transformers makes of a real GGUF file (issue 25): SmolLM2-135M-Instruct (Q4_1) or Gemma 3 270M (Q4_K_M),
the reference the Rust reader is tested against (`crate/tests/model/gguf_real.rs`), written to
tests/reference/<model>_gguf.json.

- `texts`: 240 real lines (this repository's README and docs, Markdown, code, numbers and tables) and a few
  hard cases (leading spaces, tabs, digits, accents, emoji, CJK, a special token written in the text), with the ids
  `AutoTokenizer.from_pretrained(dir, gguf_file=...)` gives them (`add_special_tokens=True`);
- `logprobs`: for 3 texts, the log-probability of each token after the ones before it, from
  `AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)` (dequantized to float32);
- `chats`: (when the file has a chat template) conversations rendered by `apply_chat_template(add_generation_prompt=True)`, text and ids;
- `greedy`: 12 new tokens for the lesson's question in the chat template (or "LoRA stands for"),
  `generate(do_sample=False)`.

    tools/fetch_gguf.sh smollm2 && python3 tests/reference/real_gguf.py smollm2          (torch, transformers, gguf)
    tools/fetch_gguf.sh gemma-3-270m && python3 tests/reference/real_gguf.py gemma-3-270m
"""
import glob
import json
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
FILES = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m": "gemma-3-270m-q4_k_m.gguf"}
HARD = [
    "  two leading spaces", "\ttab\tseparated\tvalues", "12,288 = 768 x 8 + 8 x 768", "naïve café résumé",
    "LoRA 🚀 trains 0.06% 🙂", "低秩适配", "a<|im_end|>b", "", " ", "x" * 300, "line one\nline two\n\nthree",
]
CHATS = [
    [{"role": "user", "content": "What is LoRA in one sentence?"}],
    [{"role": "system", "content": "You answer in five words."}, {"role": "user", "content": "What does r mean?"},
     {"role": "assistant", "content": "The rank of the update."}, {"role": "user", "content": "And lora_alpha?"}],
]


def texts():
    lines = []
    for path in [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md"))):
        with open(path, encoding="utf-8") as f:
            lines += [l.rstrip("\n") for l in f if l.strip()]
    seen, out = set(), []
    for l in lines:
        if l not in seen:
            seen.add(l)
            out.append(l)
    return out[:240] + HARD


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "smollm2"
    FILE = FILES[name]
    folder = os.path.join(ROOT, "models")
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=FILE)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=FILE, dtype=torch.float32).eval()
    all_texts = texts()
    out = {"transformers": transformers.__version__, "torch": torch.__version__, "file": FILE,
           "texts": [{"text": t, "ids": tok(t).input_ids} for t in all_texts]}
    scored = ["The quick brown fox jumps over the lazy dog.", "LoRA adds a low-rank update to a frozen weight matrix.",
              "def add(a, b):\n    return a + b\n"]
    out["logprobs"] = []
    for t in scored:
        ids = torch.tensor([tok(t).input_ids])
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=ids).logits.float()[0, :-1], -1)
        out["logprobs"].append({"text": t, "ids": ids[0].tolist(), "logprobs": lp.gather(-1, ids[0, 1:, None])[:, 0].tolist()})
    out["chats"] = []
    # Gemma 3 270M's file is the base model's: no chat template; its greedy prompt is plain text.
    for messages in CHATS if tok.chat_template else []:
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        out["chats"].append({"messages": messages, "text": text, "ids": tok(text, add_special_tokens=False).input_ids})
    prompt = torch.tensor([out["chats"][0]["ids"] if out["chats"] else tok("LoRA stands for").input_ids])
    with torch.no_grad():
        gen = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=12, do_sample=False)
    out["greedy"] = {"prompt": prompt[0].tolist(), "tokens": gen[0, prompt.shape[1]:].tolist(),
                     "text": tok.decode(gen[0, prompt.shape[1]:])}
    with open(os.path.join(HERE, f"{name}_gguf.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(len(out["texts"]), "texts;", out["greedy"]["text"])


if __name__ == "__main__":
    main()
