"""Reference values for the burn encoder's parity test (crate/tests/bert_parity.rs).

Runs transformers' BertModel (eager attention, float32, CPU) on all-MiniLM-L6-v2 for fixed sentences, one at a
time, and writes each sentence's token ids (bert_parity.json) and its last_hidden_state and pooler_output
(bert_parity.safetensors). The Rust test tokenizes with the `tokenizers` crate, runs the sentences as one padded
batch, and compares.

    python tests/reference/bert_parity.py models/all-MiniLM-L6-v2
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import BertModel

# Short and long, plain and odd: punctuation, digits, accents, an emoji, a word the vocabulary splits.
SENTENCES = [
    "The card company charged me twice for the same purchase.",
    "My mortgage servicer lost the escrow payment and now says I owe a late fee.",
    "I love this!",
    "Student loan forgiveness paperwork was rejected three times without any explanation, even though every "
    "form was signed, dated and mailed by certified post on 12/03/2024.",
    "Café prices went up 15% — unbelievable 😡",
    "debt collectors keep calling at 6am",
    "Why was my account frozen?",
    "Unsubscribe.",
]


def main(model_dir: str) -> None:
    torch.manual_seed(0)
    here = os.path.dirname(os.path.abspath(__file__))
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()  # the file pads to 128; parity is about real tokens
    tok.no_truncation()
    model = BertModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    tensors, rows = {}, []
    with torch.no_grad():
        for i, text in enumerate(SENTENCES):
            enc = tok.encode(text)
            ids = torch.tensor([enc.ids])
            out = model(input_ids=ids, token_type_ids=torch.tensor([enc.type_ids]),
                        attention_mask=torch.ones_like(ids))
            tensors[f"{i}.last_hidden_state"] = out.last_hidden_state[0].contiguous()
            tensors[f"{i}.pooler_output"] = out.pooler_output[0].contiguous()
            rows.append({"text": text, "input_ids": enc.ids, "token_type_ids": enc.type_ids})
    save_file(tensors, os.path.join(here, "bert_parity.safetensors"))
    with open(os.path.join(here, "bert_parity.json"), "w") as f:
        json.dump({
            "model": "sentence-transformers/all-MiniLM-L6-v2",
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "sentences": rows,
        }, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(rows)} sentences")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/all-MiniLM-L6-v2")
