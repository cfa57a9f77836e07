"""Small random models of every architecture the trainer is to train (issue 13), built and run by transformers.

For each model_type (bert, distilbert, roberta, modernbert with `cls` and `mean` pooling, gpt2) this writes a model
folder under crate/tests/fixtures/arch/<name>/ as a Hub repository has it (config.json with a sequence-
classification head, model.safetensors, tokenizer.json), and beside it what transformers computes for fixed
sentences run as one padded batch (short, long, punctuation, one longer than ModernBERT's `local_attention`
window): `expected.safetensors` with input_ids, attention_mask, the last hidden state and the logits. Then a PEFT
LoRA adapter on the model's default targets (B not zero, so it changes the logits), saved as PEFT saves it
(`peft/adapter_config.json`, `peft/adapter_model.safetensors`), and the adapter's logits (`peft_logits`).
The README PEFT writes beside them is removed (nothing reads it).

The tokenizers are trained here on the sentences (WordPiece for BERT and DistilBERT, byte-level BPE for RoBERTa,
GPT-2 and ModernBERT) with each family's special tokens and post-processor, as their real tokenizer.json files
have them; GPT-2 has no padding token, so, as transformers requires for sequence classification, its end-of-text
token pads and config.pad_token_id says so.

    python3 tests/reference/arch_fixtures.py          (torch, transformers, peft, tokenizers)
"""
import json
import os

import torch
import transformers
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "crate", "tests", "fixtures", "arch")
LABELS = 3

SENTENCES = [
    "The card company charged me twice for the same purchase.",
    "I love this!",
    "My mortgage servicer lost the escrow payment, and now the bank says I owe a late fee of $35 on 12/03/2024.",
    "Unsubscribe.",
    "debt collectors keep calling at 6am about a loan I never took",
]
# Words enough for each tokenizer to learn pieces, and to leave some words split.
CORPUS = SENTENCES + [
    "student loan interest rate letter school month late payment account refund money bank fee",
    "the quick brown fox jumps over the lazy dog while the mortgage company waits",
    "credit card statement shows a charge I did not make and the bank will not refund it",
]


def wordpiece():
    """A vocabulary built, not trained (the WordPiece trainer's output varies from run to run): the specials, every
    character alone and as a continuation, and the words of the extra corpus lines, so the sentences' other words
    are split into pieces."""
    norm, pre = normalizers.BertNormalizer(lowercase=True), pre_tokenizers.BertPreTokenizer()
    chars = sorted({c for line in CORPUS for c in norm.normalize_str(line) if not c.isspace()})
    words = sorted({w for line in CORPUS[len(SENTENCES):] for w, _ in pre.pre_tokenize_str(norm.normalize_str(line))} - set(chars))
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + [f"##{c}" for c in chars] + words
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = norm
    tok.pre_tokenizer = pre
    tok.decoder = decoders.WordPiece()
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    return tok


def byte_bpe(specials, post):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.post_processor = post(tok)
    return tok


def roberta_tok():
    return byte_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
                    lambda t: processors.RobertaProcessing(("</s>", t.token_to_id("</s>")), ("<s>", t.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False))


def gpt2_tok():
    return byte_bpe(["<|endoftext|>"], lambda t: processors.ByteLevel(trim_offsets=True))


def modernbert_tok():
    def post(t):
        return processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                             special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))])
    return byte_bpe(["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"], post)


def configs(vocab, tok):
    """name -> (config, PEFT's target_modules for it (its default), extra LoraConfig arguments)."""
    T = transformers
    pad = {"bert": tok["bert"].token_to_id("[PAD]")}
    # Weights drawn wider than transformers' 0.02 so logits and hidden states are O(1): at 0.02 a tiny model's logits
    # are all about 0.01, and a 1e-4 tolerance could not tell a wrong model from a right one.
    common = dict(initializer_range=0.3, num_labels=LABELS, id2label={i: f"class{i}" for i in range(LABELS)}, label2id={f"class{i}": i for i in range(LABELS)})
    mb = tok["modernbert"]
    modern = dict(vocab_size=vocab["modernbert"], hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
                  max_position_embeddings=64, global_attn_every_n_layers=2, local_attention=8, global_rope_theta=160000.0,
                  local_rope_theta=10000.0, pad_token_id=mb.token_to_id("[PAD]"), cls_token_id=mb.token_to_id("[CLS]"),
                  sep_token_id=mb.token_to_id("[SEP]"), bos_token_id=mb.token_to_id("[CLS]"), eos_token_id=mb.token_to_id("[SEP]"), **common)
    g = tok["gpt2"].token_to_id("<|endoftext|>")
    return {
        "bert": (T.BertConfig(vocab_size=vocab["bert"], hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                              max_position_embeddings=64, type_vocab_size=2, pad_token_id=pad["bert"], **common), ["query", "value"], {}),
        "distilbert": (T.DistilBertConfig(vocab_size=vocab["distilbert"], dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64,
                                          sinusoidal_pos_embds=False, pad_token_id=tok["distilbert"].token_to_id("[PAD]"), **common), ["q_lin", "v_lin"], {}),
        "distilbert-sinusoidal": (T.DistilBertConfig(vocab_size=vocab["distilbert"], dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64,
                                                     sinusoidal_pos_embds=True, pad_token_id=tok["distilbert"].token_to_id("[PAD]"), **common), ["q_lin", "v_lin"], {}),
        "roberta": (T.RobertaConfig(vocab_size=vocab["roberta"], hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                                    max_position_embeddings=66, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, **common), ["query", "value"], {}),
        "modernbert-cls": (T.ModernBertConfig(classifier_pooling="cls", **modern), ["Wqkv"], {}),
        "modernbert-mean": (T.ModernBertConfig(classifier_pooling="mean", **modern), ["Wqkv"], {}),
        "gpt2": (T.GPT2Config(vocab_size=vocab["gpt2"], n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=g, eos_token_id=g,
                              pad_token_id=g, **common), ["c_attn"], {"fan_in_fan_out": True}),
    }


def batch(tok, pad_id):
    encs = [tok.encode(s).ids for s in SENTENCES]
    n = max(len(e) for e in encs)
    ids = torch.tensor([e + [pad_id] * (n - len(e)) for e in encs])
    mask = torch.tensor([[1] * len(e) + [0] * (n - len(e)) for e in encs])
    return ids, mask


def main():
    torch.manual_seed(0)
    tok = {"bert": wordpiece(), "roberta": roberta_tok(), "gpt2": gpt2_tok(), "modernbert": modernbert_tok()}
    tok["distilbert"] = tok["bert"]
    vocab = {k: t.get_vocab_size() for k, t in tok.items()}
    for name, (config, targets, extra) in configs(vocab, tok).items():
        family = name.split("-")[0]
        folder = os.path.join(OUT, name)
        torch.manual_seed(0)
        model = transformers.AutoModelForSequenceClassification.from_config(config, attn_implementation="eager").eval()
        model.save_pretrained(folder)
        tok[family].save(os.path.join(folder, "tokenizer.json"))
        ids, mask = batch(tok[family], config.pad_token_id)
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        # Ids and mask as float32 (exact below 2^24): one dtype for the whole file.
        expected = {"input_ids": ids.float(), "attention_mask": mask.float(), "last_hidden_state": out.hidden_states[-1].contiguous(), "logits": out.logits}
        torch.manual_seed(1)
        peft = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=targets, task_type="SEQ_CLS", init_lora_weights=False, **extra)).eval()
        peft.save_pretrained(os.path.join(folder, "peft"))
        os.remove(os.path.join(folder, "peft", "README.md"))
        with torch.no_grad():
            expected["peft_logits"] = peft(input_ids=ids, attention_mask=mask).logits
        save_file({k: v.contiguous() for k, v in expected.items()}, os.path.join(folder, "expected.safetensors"),
                  metadata={"transformers": transformers.__version__, "torch": torch.__version__, "sentences": json.dumps(SENTENCES)})
        print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters, batch {tuple(ids.shape)}, "
              f"logits[0] {[round(x, 4) for x in out.logits[0].tolist()]}")


if __name__ == "__main__":
    main()
