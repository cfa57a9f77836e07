//! The sequence classifier a `config.json`'s `model_type` picks, as transformers' `AutoModelForSequenceClassification`
//! does: BERT, RoBERTa and DistilBERT (one post-norm encoder under each one's names, `bert.rs`), GPT-2
//! (`gpt2.rs`) or ModernBERT (`modernbert.rs`). The trainer, the loader, the walks over parameters and the exports all take this one type.

use burn::module::Module;
use burn::tensor::Tensor;

use super::bert::{BertForSequenceClassification, EncoderInput};
use super::config::Flavor;
use super::gpt2::Gpt2ForSequenceClassification;
use super::modernbert::ModernBertForSequenceClassification;
use super::paths::map_linears;

#[derive(Module, Debug)]
pub enum AutoModelForSequenceClassification {
    /// BERT, RoBERTa or DistilBERT (its `flavor` says which).
    Bert(BertForSequenceClassification),
    Gpt2(Gpt2ForSequenceClassification),
    ModernBert(ModernBertForSequenceClassification),
}

impl AutoModelForSequenceClassification {
    /// Which architecture: it names the parameters (`paths::flavor_name`).
    pub fn flavor(&self) -> Flavor {
        match self {
            Self::Bert(m) => m.flavor,
            Self::Gpt2(_) => Flavor::Gpt2,
            Self::ModernBert(_) => Flavor::ModernBert,
        }
    }

    /// # Shapes
    /// - input: ids and mask `[batch, seq]`
    /// - output: logits `[batch, num_labels]`
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        match self {
            Self::Bert(m) => m.forward(input),
            Self::Gpt2(m) => m.forward(input),
            Self::ModernBert(m) => m.forward(input),
        }
    }

    /// The backbone's last hidden state `[batch, seq, hidden]`, before any head.
    pub fn encode(&self, input: &EncoderInput) -> Tensor<3> {
        match self {
            Self::Bert(m) => m.bert.encode(input),
            Self::Gpt2(m) => m.transformer.forward(input),
            Self::ModernBert(m) => m.model.forward(input),
        }
    }

    pub fn num_labels(&self) -> usize {
        match self {
            Self::Bert(m) => m.num_labels(),
            Self::Gpt2(m) => m.num_labels(),
            Self::ModernBert(m) => m.num_labels(),
        }
    }

    /// Every adapter folded into its weight (PEFT's `merge_and_unload`); the model has no LoRA path after.
    pub fn merge(self) -> Self {
        map_linears(self, |_, l| l.merge())
    }
}
