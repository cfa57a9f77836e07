//! The model's Hugging Face names, in one place: the burn field names that differ from transformers' and PEFT's
//! module and parameter names, each architecture's names for BERT's blocks, its backbone and head. Loading,
//! export, grafting, the method flags and the LoRA placement all name tensors through here (the walks in `walk.rs`
//! hand each parameter its name from here), so a checkpoint key is spelled once.

use crate::accounting::arch::flavor::Flavor;

/// burn field names whose Hugging Face (or PEFT) name differs; every other field is named as in transformers.
const RENAMED: [(&str, &str); 7] = [
    // `self` is a Rust keyword.
    ("self_attention", "self"),
    ("layer_norm", "LayerNorm"),
    // burn's LayerNorm parameters.
    ("gamma", "weight"),
    ("beta", "bias"),
    // PEFT keeps A and B directly on the wrapped layer, with no module of their own around them.
    ("lora", ""),
    // PEFT's A and B are `nn.Linear`s, hence `.weight`.
    ("lora_a", "lora_A.weight"),
    ("lora_b", "lora_B.weight"),
];

/// The Hugging Face name of one burn field (`self_attention` -> `self`); empty for a field PEFT has no level for.
pub fn hf_field(field: &str) -> &str {
    RENAMED.iter().find(|(burn, _)| *burn == field).map_or(field, |(_, hf)| hf)
}

/// `parent.field` in Hugging Face names: `child("bert.encoder.layer.0.attention", "self_attention")` is
/// `bert.encoder.layer.0.attention.self`.
pub fn child(parent: &str, field: &str) -> String {
    match (parent, hf_field(field)) {
        (p, "") => p.to_string(),
        ("", f) => f.to_string(),
        (p, f) => format!("{p}.{f}"),
    }
}

/// A burn parameter path (`bert.encoder.layer.0.attention.self_attention.query.lora.lora_a`) as its Hugging Face
/// key (`bert.encoder.layer.0.attention.self.query.lora_A.weight`).
pub fn hf_name(path: &str) -> String {
    path.split('.').fold(String::new(), |name, field| child(&name, field))
}

/// DistilBERT's names for BERT's blocks inside one layer: the same post-norm layer (attention, residual,
/// LayerNorm, GELU feed-forward, residual, LayerNorm) under `modeling_distilbert.py`'s module names.
const DISTILBERT_LAYER: [(&str, &str); 8] = [
    ("attention.self.query", "attention.q_lin"),
    ("attention.self.key", "attention.k_lin"),
    ("attention.self.value", "attention.v_lin"),
    ("attention.output.dense", "attention.out_lin"),
    ("attention.output.LayerNorm", "sa_layer_norm"),
    ("intermediate.dense", "ffn.lin1"),
    ("output.dense", "ffn.lin2"),
    ("output.LayerNorm", "output_layer_norm"),
];

/// `rest` if `name` is `prefix` itself or `prefix.` + rest: `bert.pooler.denser` is not under `bert.pooler.dense`.
fn under<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    name.strip_prefix(prefix).filter(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// A name in BERT's layout (the burn model's own: `bert.` + module path, `bert.pooler.dense`, `classifier`) as
/// `flavor`'s checkpoint names it. RoBERTa's backbone is `roberta.`, and `RobertaForSequenceClassification` has no
/// pooler: its head (`RobertaClassificationHead`) is BERT's pooler + classifier under other names, `classifier.dense`
/// (tanh on the first token) and `classifier.out_proj`, so one burn model computes both and only its names differ.
/// DistilBERT's backbone is `distilbert.` with `transformer.layer.N` and its own names inside a layer
/// (`DISTILBERT_LAYER`), and its head is `pre_classifier` (BERT's pooler dense, with ReLU for tanh) + `classifier`.
pub fn flavor_name(flavor: Flavor, name: &str) -> String {
    match flavor {
        // GPT-2's and ModernBERT's burn fields are transformers' names already.
        Flavor::Bert | Flavor::Gpt2 | Flavor::ModernBert | Flavor::Llama | Flavor::Qwen2 | Flavor::Gemma3Text => {
            name.to_string()
        }
        Flavor::Roberta => {
            if let Some(rest) = under(name, "bert.pooler.dense") {
                format!("classifier.dense{rest}")
            } else if let Some(rest) = under(name, "bert") {
                format!("roberta{rest}")
            } else if let Some(rest) = under(name, "classifier") {
                format!("classifier.out_proj{rest}")
            } else {
                name.to_string()
            }
        }
        Flavor::Distilbert => {
            if let Some(rest) = under(name, "bert.pooler.dense") {
                return format!("pre_classifier{rest}");
            }
            if let Some((n, inside)) = name.strip_prefix("bert.encoder.layer.").and_then(|r| r.split_once('.')) {
                if let Some((rest, to)) =
                    DISTILBERT_LAYER.iter().find_map(|(from, to)| under(inside, from).map(|r| (r, to)))
                {
                    return format!("distilbert.transformer.layer.{n}.{to}{rest}");
                }
            }
            match under(name, "bert") {
                Some(rest) => format!("distilbert{rest}"),
                None => name.to_string(),
            }
        }
    }
}

/// Whether `name` (as the checkpoint names it) belongs to the classification head: the modules PEFT's
/// `modules_to_save = ["classifier", "score"]` keeps whole, matched as PEFT matches them, by suffix of the module
/// name, so DistilBERT's `pre_classifier` is part of the head too. Every method trains it beside its own parameters
/// (head-only and BitFit train all that is `outside_backbone`, which holds it).
pub fn is_head(name: &str) -> bool {
    let top = name.split('.').next().unwrap_or_default();
    top.ends_with("classifier") || top == "score"
}

/// The classification head's last layer's weight (`classifier` in BERT and DistilBERT, `classifier.out_proj` in
/// RoBERTa, `score` in GPT-2): its first dimension is a checkpoint's or an adapter's number of labels.
pub fn head_weight(flavor: Flavor) -> String {
    match flavor {
        Flavor::Gpt2 => "score.weight".into(),
        _ => flavor_name(flavor, "classifier.weight"),
    }
}

/// That layer's bias; GPT-2's `score` has none.
pub fn head_bias(flavor: Flavor) -> Option<String> {
    (flavor != Flavor::Gpt2).then(|| flavor_name(flavor, "classifier.bias"))
}

/// The backbone's module in a task model's checkpoint (`bert.`, `roberta.`, `distilbert.`, GPT-2's `transformer.`),
/// and its token-embedding weight under it: the key that tells a task checkpoint from a bare one.
pub fn backbone(flavor: Flavor) -> (&'static str, &'static str) {
    match flavor {
        Flavor::Bert => ("bert", "embeddings.word_embeddings.weight"),
        Flavor::Roberta => ("roberta", "embeddings.word_embeddings.weight"),
        Flavor::Distilbert => ("distilbert", "embeddings.word_embeddings.weight"),
        Flavor::Gpt2 => ("transformer", "wte.weight"),
        Flavor::ModernBert => ("model", "embeddings.tok_embeddings.weight"),
        Flavor::Llama | Flavor::Qwen2 | Flavor::Gemma3Text => ("model", "embed_tokens.weight"),
    }
}

/// Whether `name` (as the checkpoint names it) is outside every architecture's backbone: the task model's own
/// layers (BERT's `classifier`, RoBERTa's `classifier.*`, DistilBERT's `pre_classifier`, GPT-2's `score`,
/// ModernBERT's `head.*` and `classifier`).
pub fn outside_backbone(name: &str) -> bool {
    let top = name.split('.').next().unwrap_or_default();
    !Flavor::ALL.into_iter().any(|f| backbone(f).0 == top)
}

/// GPT-2's `Conv1D` layers, whose weights are stored `[in, out]` (burn's layout; PEFT's `fan_in_fan_out`).
pub fn is_conv1d(module: &str) -> bool {
    matches!(module.rsplit('.').next(), Some("c_attn" | "c_proj" | "c_fc" | "q_attn"))
}

/// An embedding table's weight (`...embeddings.word_embeddings.weight`, GPT-2's `wte.weight` and `wpe.weight`).
pub fn is_embedding_weight(name: &str) -> bool {
    name.contains("embeddings.") || name.ends_with("wte.weight") || name.ends_with("wpe.weight")
}
