//! Which architecture a trainable model is (`model_type`): the key to its sizes here, its Hugging Face names
//! (`model::paths`), its config reader and its burn model (`model::auto`). One enum for the calculator and the
//! trainer; a leaf.

/// The post-norm encoders one burn model computes. BERT and RoBERTa differ in position ids (RoBERTa counts from
/// `pad_token_id + 1`), token types, and the names and dropouts of the classification head; DistilBERT has no
/// token types, a `pre_classifier` with ReLU where BERT's pooler has tanh, and its own names for everything
/// (`paths::flavor_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Flavor {
    Bert,
    Roberta,
    Distilbert,
    /// GPT-2, its own model (`gpt2.rs`), named as transformers names it.
    Gpt2,
    /// ModernBERT, its own model (`modernbert.rs`), named as transformers names it.
    ModernBert,
    /// The language models (`model::decoder`), named as transformers names them: Llama (SmolLM2, TinyLlama),
    /// Qwen2 (biases on q/k/v), Gemma 3's text model.
    Llama,
    Qwen2,
    Gemma3Text,
}

impl Flavor {
    pub const ALL: [Flavor; 8] = [
        Flavor::Bert,
        Flavor::Roberta,
        Flavor::Distilbert,
        Flavor::Gpt2,
        Flavor::ModernBert,
        Flavor::Llama,
        Flavor::Qwen2,
        Flavor::Gemma3Text,
    ];

    /// Whether it is a language model that generates (`AutoModelForCausalLM`), not a sequence classifier.
    pub fn is_decoder(self) -> bool {
        matches!(self, Flavor::Llama | Flavor::Qwen2 | Flavor::Gemma3Text)
    }

    /// `config.json`'s `model_type`.
    pub fn model_type(self) -> &'static str {
        match self {
            Flavor::Bert => "bert",
            Flavor::Roberta => "roberta",
            Flavor::Distilbert => "distilbert",
            Flavor::Gpt2 => "gpt2",
            Flavor::ModernBert => "modernbert",
            Flavor::Llama => "llama",
            Flavor::Qwen2 => "qwen2",
            Flavor::Gemma3Text => "gemma3_text",
        }
    }
}
