//! A BERT-family encoder in burn that computes what transformers' `BertModel` / `BertForSequenceClassification`
//! compute (`transformers/models/bert/modeling_bert.py`, eager attention). Field names follow the Hugging Face
//! module names (`encoder.layer.N.attention.self_attention.query` is `...attention.self.query`; `self` is a Rust
//! keyword), so `hf_name` maps a burn parameter path to its checkpoint key.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Embedding, LayerNorm};
use burn::tensor::activation::{gelu, softmax, tanh};
use burn::tensor::{Int, Tensor};

use super::lora::LoraLinear;

/// One batch of token ids, padded to the same length.
#[derive(Debug, Clone)]
pub struct EncoderInput {
    /// `[batch, seq]`
    pub input_ids: Tensor<2, Int>,
    /// `[batch, seq]`
    pub token_type_ids: Tensor<2, Int>,
    /// `[batch, seq]`
    pub position_ids: Tensor<2, Int>,
    /// `[batch, seq]`, 1 for real tokens and 0 for padding.
    pub attention_mask: Tensor<2>,
}

#[derive(Module, Debug)]
pub struct Embeddings {
    pub word_embeddings: Embedding,
    pub position_embeddings: Embedding,
    pub token_type_embeddings: Embedding,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl Embeddings {
    /// `[batch, seq]` ids -> `[batch, seq, hidden]`
    pub fn forward(&self, input: &EncoderInput) -> Tensor<3> {
        let x = self.word_embeddings.forward(input.input_ids.clone())
            + self.position_embeddings.forward(input.position_ids.clone())
            + self.token_type_embeddings.forward(input.token_type_ids.clone());
        self.dropout.forward(self.layer_norm.forward(x))
    }
}

#[derive(Module, Debug)]
pub struct SelfAttention {
    pub query: LoraLinear,
    pub key: LoraLinear,
    pub value: LoraLinear,
    pub dropout: Dropout,
    pub num_heads: usize,
}

impl SelfAttention {
    /// `x [batch, seq, hidden]`, `mask [batch, 1, 1, seq]` (0 or a large negative) -> `[batch, seq, hidden]`
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let [b, s, h] = x.dims();
        let d = h / self.num_heads;
        // [b, s, h] -> [b, heads, s, d]
        let split = |t: Tensor<3>| t.reshape([b, s, self.num_heads, d]).swap_dims(1, 2);
        let q = split(self.query.forward(x.clone()));
        let k = split(self.key.forward(x.clone()));
        let v = split(self.value.forward(x));
        // [b, heads, s, s]
        let scores = q.matmul(k.transpose()).div_scalar((d as f64).sqrt()) + mask;
        let probs = self.dropout.forward(softmax(scores, 3));
        // [b, heads, s, d] -> [b, s, h]
        probs.matmul(v).swap_dims(1, 2).reshape([b, s, h])
    }
}

/// `BertSelfOutput` and `BertOutput`: dense, dropout, residual, LayerNorm.
#[derive(Module, Debug)]
pub struct ResidualOutput {
    pub dense: LoraLinear,
    pub layer_norm: LayerNorm,
    pub dropout: Dropout,
}

impl ResidualOutput {
    pub fn forward(&self, x: Tensor<3>, residual: Tensor<3>) -> Tensor<3> {
        self.layer_norm.forward(self.dropout.forward(self.dense.forward(x)) + residual)
    }
}

#[derive(Module, Debug)]
pub struct Attention {
    /// Hugging Face: `attention.self`.
    pub self_attention: SelfAttention,
    pub output: ResidualOutput,
}

#[derive(Module, Debug)]
pub struct Intermediate {
    pub dense: LoraLinear,
}

#[derive(Module, Debug)]
pub struct Layer {
    pub attention: Attention,
    pub intermediate: Intermediate,
    pub output: ResidualOutput,
}

impl Layer {
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
        let attended = self.attention.output.forward(self.attention.self_attention.forward(x.clone(), mask), x);
        let inner = gelu(self.intermediate.dense.forward(attended.clone()));
        self.output.forward(inner, attended)
    }
}

#[derive(Module, Debug)]
pub struct Encoder {
    pub layer: Vec<Layer>,
}

#[derive(Module, Debug)]
pub struct Pooler {
    pub dense: LoraLinear,
}

impl Pooler {
    /// The first token's hidden state through dense + tanh: `[batch, seq, hidden]` -> `[batch, hidden]`.
    pub fn forward(&self, hidden: Tensor<3>) -> Tensor<2> {
        let [b, _, h] = hidden.dims();
        let first = hidden.slice([0..b, 0..1]).reshape([b, h]);
        tanh(self.dense.forward(first))
    }
}

#[derive(Module, Debug)]
pub struct BertModel {
    pub embeddings: Embeddings,
    pub encoder: Encoder,
    pub pooler: Pooler,
}

/// `BertModel`'s outputs.
pub struct EncoderOutput {
    /// `[batch, seq, hidden]`
    pub last_hidden_state: Tensor<3>,
    /// `[batch, hidden]`
    pub pooler_output: Tensor<2>,
}

impl BertModel {
    pub fn forward(&self, input: &EncoderInput) -> EncoderOutput {
        let [b, s] = input.attention_mask.dims();
        // transformers' extended attention mask: (1 - mask) * finfo(float32).min, broadcast over heads and queries.
        let mask = (input.attention_mask.clone().neg() + 1.0).mul_scalar(f32::MIN).reshape([b, 1, 1, s]);
        let mut x = self.embeddings.forward(input);
        for layer in &self.encoder.layer {
            x = layer.forward(x, mask.clone());
        }
        let pooler_output = self.pooler.forward(x.clone());
        EncoderOutput { last_hidden_state: x, pooler_output }
    }
}

#[derive(Module, Debug)]
pub struct BertForSequenceClassification {
    pub bert: BertModel,
    pub dropout: Dropout,
    pub classifier: LoraLinear,
}

impl BertForSequenceClassification {
    /// Logits `[batch, num_labels]`.
    pub fn forward(&self, input: &EncoderInput) -> Tensor<2> {
        let pooled = self.bert.forward(input).pooler_output;
        self.classifier.forward(self.dropout.forward(pooled))
    }

    pub fn num_labels(&self) -> usize {
        self.classifier.out_features()
    }

    /// Folds every adapter into its weight.
    pub fn merge(self) -> Self {
        self.map_linears(|_, l| l.merge())
    }

    pub fn unmerge(self) -> Self {
        self.map_linears(|_, l| l.unmerge())
    }

    /// Whether every adapter in the model is folded into its weight (true for a model with none).
    pub fn is_merged(&self) -> bool {
        let mut all = true;
        let _ = self.clone().map_linears(|_, l| {
            all &= !l.has_lora() || l.merged;
            l
        });
        all
    }

    fn map_linears(self, mut f: impl FnMut(&str, LoraLinear) -> LoraLinear) -> Self {
        self.try_map_linears(|name, l| Ok::<_, std::convert::Infallible>(f(name, l))).unwrap_or_else(|e| match e {})
    }

    /// Every linear layer of the encoder (not the head) through `f`, with its Hugging Face module name
    /// (`bert.encoder.layer.0.attention.self.query`, `bert.pooler.dense`); stops at the first error.
    pub fn try_map_linears<E>(mut self, mut f: impl FnMut(&str, LoraLinear) -> Result<LoraLinear, E>) -> Result<Self, E> {
        let mut layers = Vec::with_capacity(self.bert.encoder.layer.len());
        for (n, mut l) in std::mem::take(&mut self.bert.encoder.layer).into_iter().enumerate() {
            let p = format!("bert.encoder.layer.{n}");
            let a = &mut l.attention.self_attention;
            a.query = f(&format!("{p}.attention.self.query"), a.query.clone())?;
            a.key = f(&format!("{p}.attention.self.key"), a.key.clone())?;
            a.value = f(&format!("{p}.attention.self.value"), a.value.clone())?;
            l.attention.output.dense = f(&format!("{p}.attention.output.dense"), l.attention.output.dense.clone())?;
            l.intermediate.dense = f(&format!("{p}.intermediate.dense"), l.intermediate.dense.clone())?;
            l.output.dense = f(&format!("{p}.output.dense"), l.output.dense.clone())?;
            layers.push(l);
        }
        self.bert.encoder.layer = layers;
        self.bert.pooler.dense = f("bert.pooler.dense", self.bert.pooler.dense)?;
        Ok(self)
    }
}

/// Dropout modules for a config (training mode until `valid()`/`freeze`).
pub fn dropout(p: f64) -> Dropout {
    DropoutConfig::new(p).init()
}

/// A burn parameter path (`bert.encoder.layer.0.attention.self_attention.query.weight`) as the Hugging Face key
/// (`bert.encoder.layer.0.attention.self.query.weight`).
pub fn hf_name(path: &str) -> String {
    path.split('.')
        .map(|c| match c {
            "self_attention" => "self",
            "layer_norm" => "LayerNorm",
            "gamma" => "weight",
            "beta" => "bias",
            // LoraLinear holds A and B as bare parameters; PEFT's are `nn.Linear`s, hence `.weight`.
            "lora_a" => "lora_A.weight",
            "lora_b" => "lora_B.weight",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(".")
}

