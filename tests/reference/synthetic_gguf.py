"""Small GGUF files of every kind this reader builds differently (issue 25), written with gguf-py as llama.cpp's
converter lays them out, and what transformers makes of each (`from_pretrained(dir, gguf_file=...)`), for
`crate/tests/model/gguf_synthetic.rs`:

- `llama_bpe.gguf`: Llama with its own `output.weight`, a byte-level BPE tokenizer whose `tokenizer.ggml.pre` is
  `llama-bpe` (the Llama 3 split regex), control and user-defined tokens, a chat template;
- `llama_sp.gguf`: Llama with a SentencePiece vocabulary (merges recovered from deliberately non-monotone scores,
  byte fallback, `Metaspace`);
- `qwen2.gguf`: Qwen2 with q/k/v biases and the Qwen2 split regex;
- `gemma3.gguf`: Gemma 3 with q/k norms, four norms a block, a SentencePiece vocabulary ordered by position, its
  spaces-only tokens, `add_bos_token`, a chat template.

Weights are random (N(0, 1), norms near 1). `<name>.expected.json` holds, per file, the ids transformers' tokenizer
gives each of TEXTS, the chat template's text and ids for a conversation (when the file has a template), and the
log-probabilities of the model for one text.

    python3 tests/reference/synthetic_gguf.py          (gguf, numpy, torch, transformers)
"""
import json
import os

import gguf
import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "gguf")
rng = np.random.default_rng(0)
TEXTS = ["hi there", " hi  there\n\nthe", "abab hi", "<think>the</think>", "  hi", "hello <b> world", "über ñ 12345 ☃"]
def common_tok_bpe(w, pre):
    # byte-level vocab: bytes_to_unicode alphabet + some merges + specials
    from transformers.convert_slow_tokenizer import bytes_to_unicode
    b2u=bytes_to_unicode(); alpha=[b2u[b] for b in range(256)]
    toks=["<|endoftext|>","<|im_start|>","<|im_end|>"]+alpha+["Ġh","Ġhi","he","hel","Ġthere","ĠĠ","ĊĊ","<think>","<tool_call>"]
    merges=["Ġ h","Ġh i","h e","he l","Ġ t","Ġt h","Ġth e","Ġthe r","Ġther e","Ġ Ġ","Ċ Ċ"]
    # add intermediate tokens needed by merges
    extra=["Ġt","Ġth","Ġthe","Ġther"]
    toks+=extra
    types=[3,3,3]+[1]*(len(toks)-3)
    types[toks.index("<think>")]=4
    types[toks.index("<tool_call>")]=4
    w.add_tokenizer_model("gpt2"); w.add_tokenizer_pre(pre)
    w.add_token_list(toks); w.add_token_types(types); w.add_token_merges(merges)
    w.add_bos_token_id(0); w.add_eos_token_id(2); w.add_pad_token_id(0)
    w.add_chat_template("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return len(toks)

def sp_tok(w, gemma=False):
    toks=["<pad>","<eos>","<bos>","<unk>","<mask>","<start_of_turn>","<end_of_turn>"]
    types=[3,3,3,2,3,3,3]
    if not gemma: toks[0:3]=["<unk>","<s>","</s>"]; toks[3]="<x>"; types[0]=2; types[3]=1
    toks+=[f"<0x{b:02X}>" for b in range(256)]; types+=[6]*256
    pieces=["▁","a","b","h","i","t","e","r","▁h","▁hi","hi","▁t","▁th","▁the","he","er","▁there","ab","▁a","  ","   ","\n","<b>"]
    toks+=pieces; types+=[1]*len(pieces)
    types[toks.index("  ")]=4; types[toks.index("   ")]=4; types[toks.index("<b>")]=4
    scores=[0.0]*len(toks)
    for i,t in enumerate(toks):
        if types[i]==1: scores[i]=-float(i)+ (5.0 if t=="▁there" else 0)  # deliberately non-monotone
    w.add_tokenizer_model("llama"); w.add_tokenizer_pre("default")
    w.add_token_list(toks); w.add_token_types(types); w.add_token_scores(scores)
    if gemma:
        w.add_bos_token_id(2); w.add_eos_token_id(1); w.add_unk_token_id(3); w.add_pad_token_id(0)
        w.add_add_bos_token(True); w.add_add_eos_token(False); w.add_add_space_prefix(False)
        w.add_chat_template("{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content | trim }}<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}")
    else:
        w.add_bos_token_id(1); w.add_eos_token_id(2); w.add_unk_token_id(0)
    return len(toks)

def t(shape): return rng.standard_normal(shape).astype(np.float32)

def build(arch, fname, H=64, nh=4, nkv=2, hd=16, L=2, F=96, tok="bpe", pre="qwen2", with_output=False, qk_norm=False, bias=False, gemma=False):
    w=gguf.GGUFWriter(os.path.join(OUT,fname), arch)
    w.add_name(f"synthetic {arch}")
    w.add_context_length(128); w.add_embedding_length(H); w.add_block_count(L); w.add_feed_forward_length(F)
    w.add_head_count(nh); w.add_head_count_kv(nkv); w.add_rope_freq_base(12345.0); w.add_layer_norm_rms_eps(1e-6)
    if arch=="llama": w.add_rope_dimension_count(hd)
    if gemma: w.add_key_length(hd); w.add_value_length(hd); w.add_sliding_window(32)
    V = common_tok_bpe(w, pre) if tok=="bpe" else sp_tok(w, gemma)
    w.add_tensor("token_embd.weight", t((V,H)))
    for i in range(L):
        p=f"blk.{i}."
        w.add_tensor(p+"attn_norm.weight", 1+0.1*t((H,)))
        w.add_tensor(p+"attn_q.weight", t((nh*hd,H))); w.add_tensor(p+"attn_k.weight", t((nkv*hd,H))); w.add_tensor(p+"attn_v.weight", t((nkv*hd,H)))
        if bias:
            w.add_tensor(p+"attn_q.bias", t((nh*hd,))); w.add_tensor(p+"attn_k.bias", t((nkv*hd,))); w.add_tensor(p+"attn_v.bias", t((nkv*hd,)))
        w.add_tensor(p+"attn_output.weight", t((H,nh*hd)))
        if qk_norm:
            w.add_tensor(p+"attn_q_norm.weight", 1+0.1*t((hd,))); w.add_tensor(p+"attn_k_norm.weight", 1+0.1*t((hd,)))
        if gemma:
            w.add_tensor(p+"post_attention_norm.weight", 1+0.1*t((H,))); w.add_tensor(p+"post_ffw_norm.weight", 1+0.1*t((H,)))
        w.add_tensor(p+"ffn_norm.weight", 1+0.1*t((H,)))
        w.add_tensor(p+"ffn_gate.weight", t((F,H))); w.add_tensor(p+"ffn_up.weight", t((F,H))); w.add_tensor(p+"ffn_down.weight", t((H,F)))
    w.add_tensor("output_norm.weight", 1+0.1*t((H,)))
    if with_output: w.add_tensor("output.weight", t((V,H)))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()



def reference(fname):
    tok = AutoTokenizer.from_pretrained(OUT, gguf_file=fname)
    model = AutoModelForCausalLM.from_pretrained(OUT, gguf_file=fname, dtype=torch.float32, attn_implementation="eager").eval()
    out = {"texts": [{"text": t, "ids": tok(t).input_ids} for t in TEXTS]}
    if tok.chat_template:
        messages = [{"role": "user", "content": "hi there"}, {"role": "assistant", "content": "the"}, {"role": "user", "content": " hi "}]
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        out["chat"] = {"messages": messages, "text": text, "ids": tok(text, add_special_tokens=False).input_ids}
    ids = torch.tensor([tok("hi there the abab hi").input_ids])
    with torch.no_grad():
        lp = torch.log_softmax(model(input_ids=ids).logits.float()[0, :-1], -1).gather(-1, ids[0, 1:, None])[:, 0]
    out["logprobs"] = {"ids": ids[0].tolist(), "logprobs": lp.tolist()}
    with open(os.path.join(OUT, fname.replace(".gguf", ".expected.json")), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)


def main():
    build("llama", "llama_bpe.gguf", pre="llama-bpe", with_output=True)
    build("llama", "llama_sp.gguf", tok="sp")
    build("qwen2", "qwen2.gguf", pre="qwen2", bias=True)
    build("gemma3", "gemma3.gguf", nh=4, nkv=1, hd=32, tok="sp", qk_norm=True, gemma=True)
    for f in ["llama_bpe.gguf", "llama_sp.gguf", "qwen2.gguf", "gemma3.gguf"]:
        reference(f)
        print(f, "ok")


if __name__ == "__main__":
    main()
