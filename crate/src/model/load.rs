//! Builds the encoder from a `config.json`, a `model.safetensors` (bytes) and a training plan: real weights by
//! their Hugging Face names, LoRA where the calculator's matching rules put it, a fresh classifier where the
//! checkpoint has none (as transformers does for a `BertModel` checkpoint). Trained tensors (an adapter, a
//! fine-tuned head) are laid over the checkpoint by their Hugging Face names (`Overrides`).

use std::cell::RefCell;
use std::collections::BTreeMap;

use burn::module::Param;
use burn::nn::{EmbeddingConfig, LayerNormConfig};
use burn::tensor::{Device, Tensor, TensorData};

use super::bert::{
    Attention, BertForSequenceClassification, BertModel, Embeddings, Encoder, Intermediate, Layer, Pooler, ResidualOutput,
    SelfAttention, dropout,
};
use super::config::EncoderConfig;
use super::lora::{LoraLinear, LoraShape};
use crate::error::Error;
use crate::rng::Rng;
use crate::safetensors::SafeTensors;

/// Where the weights come from.
pub enum Weights<'a> {
    /// A checkpoint's tensors (a `BertModel` or `BertForSequenceClassification` checkpoint).
    Checkpoint(SafeTensors<'a>),
    /// Random initialisation (tiny test models).
    Random,
}

/// Tensors that replace (or add to) the checkpoint's, by Hugging Face name with the task model's prefix
/// (`bert.encoder.layer.0.attention.self.query.lora_A.weight`, `classifier.weight`), in torch layout.
pub type Overrides = BTreeMap<String, (Vec<f32>, Vec<usize>)>;

/// The LoRA placement: full Hugging Face module names (`bert.encoder.layer.0.attention.self.query`).
pub struct LoraPlacement<'a> {
    pub modules: &'a [String],
    pub shape: LoraShape,
}

struct Builder<'a> {
    weights: Weights<'a>,
    /// `"bert."` or `""`: the checkpoint's prefix for backbone keys.
    prefix: String,
    device: Device,
    std: f64,
    lora: Option<LoraPlacement<'a>>,
    overrides: Option<&'a Overrides>,
    /// Draws every random initial value, in build order (device-independent: see `crate::rng`).
    rng: RefCell<Rng>,
}

/// How a tensor starts when there is no checkpoint (transformers' `_init_weights`).
#[derive(Clone, Copy)]
enum Init {
    Zeros,
    Ones,
    Normal(f64),
}

impl Builder<'_> {
    /// The tensor named `name` (canonical: `bert.` + module path, or `classifier.`), from the overrides, else the
    /// checkpoint (which may lack the `bert.` prefix, or name LayerNorm parameters gamma/beta), else `init`.
    fn tensor<const D: usize>(&self, name: &str, shape: [usize; D], init: Init) -> Result<Tensor<D>, Error> {
        let (values, got, file) = if let Some((v, s)) = self.overrides.and_then(|o| o.get(name)) {
            (v.clone(), s.clone(), "adapter")
        } else {
            match &self.weights {
                Weights::Random => {
                    return Ok(match init {
                        Init::Zeros => Tensor::zeros(shape, &self.device),
                        Init::Ones => Tensor::ones(shape, &self.device),
                        Init::Normal(std) => self.normal(shape, std),
                    });
                }
                Weights::Checkpoint(f) => {
                    let (v, s) = f.f32(&self.checkpoint_key(f, name))?;
                    (v, s, "model.safetensors")
                }
            }
        };
        if got != shape {
            let why = if file == "adapter" {
                "for this base model and the adapter's r (an adapter trained on another base model, or for another r?)"
            } else {
                "from config.json"
            };
            return Err(Error::invalid(file, format!("tensor {name} has shape {got:?}, expected {shape:?} {why}")));
        }
        Ok(Tensor::from_data(TensorData::new(values, shape), &self.device))
    }

    fn normal<const D: usize>(&self, shape: [usize; D], std: f64) -> Tensor<D> {
        let n = shape.iter().product();
        let mut rng = self.rng.borrow_mut();
        let values: Vec<f32> = (0..n).map(|_| rng.normal(std) as f32).collect();
        Tensor::from_data(TensorData::new(values, shape), &self.device)
    }

    fn checkpoint_key(&self, file: &SafeTensors<'_>, name: &str) -> String {
        let key = match name.strip_prefix("bert.") {
            Some(rest) => format!("{}{rest}", self.prefix),
            None => name.to_string(),
        };
        // Old TF-converted checkpoints name LayerNorm parameters gamma/beta.
        if !file.contains(&key) && key.contains("LayerNorm.") {
            let old = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
            if file.contains(&old) {
                return old;
            }
        }
        key
    }

    fn has(&self, name: &str) -> bool {
        self.overrides.is_some_and(|o| o.contains_key(name))
            || matches!(&self.weights, Weights::Checkpoint(f) if f.contains(&self.checkpoint_key(f, name)))
    }

    /// A Linear from torch's `[out, in]` weight, with LoRA if the placement names it (its A and B from the
    /// overrides when an adapter is being loaded).
    fn linear(&self, module: &str, d_in: usize, d_out: usize) -> Result<LoraLinear, Error> {
        let name = format!("bert.{module}");
        let w: Tensor<2> = self.tensor(&format!("{name}.weight"), [d_out, d_in], Init::Normal(self.std))?;
        let b: Tensor<1> = self.tensor(&format!("{name}.bias"), [d_out], Init::Zeros)?;
        let layer = LoraLinear::new(w.transpose(), Some(b));
        let Some(p) = self.lora.as_ref().filter(|p| p.modules.contains(&name)) else { return Ok(layer) };
        let mut layer = layer.with_lora(p.shape, &mut self.rng.borrow_mut(), &self.device);
        let (a, b) = (format!("{name}.lora_A.weight"), format!("{name}.lora_B.weight"));
        if let Some(o) = self.overrides {
            match (o.contains_key(&a), o.contains_key(&b)) {
                (true, true) => {
                    layer.lora_a = Some(Param::from_tensor(self.tensor(&a, [p.shape.r, d_in], Init::Zeros)?));
                    layer.lora_b = Some(Param::from_tensor(self.tensor(&b, [d_out, p.shape.r], Init::Zeros)?));
                }
                (false, false) if !o.keys().any(|k| k.contains(".lora_")) => {}
                _ => return Err(Error::invalid("adapter", format!("has no {} for {name}, which the adapter config targets", if o.contains_key(&a) { "lora_B.weight" } else { "lora_A.weight" }))),
            }
        }
        Ok(layer)
    }

    fn layer_norm(&self, module: &str, d: usize, eps: f64) -> Result<burn::nn::LayerNorm, Error> {
        let mut ln = LayerNormConfig::new(d).with_epsilon(eps).init(&self.device);
        ln.gamma = Param::from_tensor(self.tensor(&format!("bert.{module}.weight"), [d], Init::Ones)?);
        ln.beta = Some(Param::from_tensor(self.tensor(&format!("bert.{module}.bias"), [d], Init::Zeros)?));
        Ok(ln)
    }

    fn embedding(&self, module: &str, n: usize, d: usize) -> Result<burn::nn::Embedding, Error> {
        let mut e = EmbeddingConfig::new(n, d).init(&self.device);
        e.weight = Param::from_tensor(self.tensor(&format!("bert.{module}.weight"), [n, d], Init::Normal(self.std))?);
        Ok(e)
    }
}

/// How many labels a checkpoint's own classification head has (`classifier.weight` `[num_labels, hidden]`), if it
/// has one: a fine-tuned model used as a base keeps its head's shape until an adapter replaces it.
pub fn checkpoint_num_labels(file: &SafeTensors<'_>) -> Option<usize> {
    file.entries.get("classifier.weight").filter(|e| e.shape.len() == 2).map(|e| e.shape[0])
}

/// Builds `BertForSequenceClassification` for `num_labels` on `device`.
pub fn build(
    config: &EncoderConfig,
    weights: Weights<'_>,
    num_labels: usize,
    lora: Option<LoraPlacement<'_>>,
    device: &Device,
) -> Result<BertForSequenceClassification, Error> {
    build_with(config, weights, None, num_labels, lora, 0, device)
}

/// `build`, with trained tensors laid over the checkpoint's, and random values (LoRA A, a fresh head, a random
/// model) drawn from `seed`.
pub fn build_with(
    config: &EncoderConfig,
    weights: Weights<'_>,
    overrides: Option<&Overrides>,
    num_labels: usize,
    lora: Option<LoraPlacement<'_>>,
    seed: u64,
    device: &Device,
) -> Result<BertForSequenceClassification, Error> {
    let prefix = match &weights {
        Weights::Checkpoint(f) if f.contains("bert.embeddings.word_embeddings.weight") => "bert.".to_string(),
        Weights::Checkpoint(f) if f.contains("embeddings.word_embeddings.weight") => String::new(),
        Weights::Checkpoint(_) => {
            return Err(Error::invalid(
                "model.safetensors",
                "has no embeddings.word_embeddings.weight (nor bert.embeddings...): not a BERT checkpoint",
            ));
        }
        Weights::Random => String::new(),
    };
    let b = Builder { weights, prefix, device: device.clone(), std: config.initializer_range, lora, overrides, rng: RefCell::new(Rng::new(seed)) };
    let has_classifier = b.has("classifier.weight");
    let (h, i, eps) = (config.hidden_size, config.intermediate_size, config.layer_norm_eps);

    let embeddings = Embeddings {
        word_embeddings: b.embedding("embeddings.word_embeddings", config.vocab_size, h)?,
        position_embeddings: b.embedding("embeddings.position_embeddings", config.max_position_embeddings, h)?,
        token_type_embeddings: b.embedding("embeddings.token_type_embeddings", config.type_vocab_size, h)?,
        layer_norm: b.layer_norm("embeddings.LayerNorm", h, eps)?,
        dropout: dropout(config.hidden_dropout_prob),
    };
    let mut layers = Vec::with_capacity(config.num_hidden_layers);
    for n in 0..config.num_hidden_layers {
        let p = format!("encoder.layer.{n}");
        layers.push(Layer {
            attention: Attention {
                self_attention: SelfAttention {
                    query: b.linear(&format!("{p}.attention.self.query"), h, h)?,
                    key: b.linear(&format!("{p}.attention.self.key"), h, h)?,
                    value: b.linear(&format!("{p}.attention.self.value"), h, h)?,
                    dropout: dropout(config.attention_probs_dropout_prob),
                    num_heads: config.num_attention_heads,
                },
                output: ResidualOutput {
                    dense: b.linear(&format!("{p}.attention.output.dense"), h, h)?,
                    layer_norm: b.layer_norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
                    dropout: dropout(config.hidden_dropout_prob),
                },
            },
            intermediate: Intermediate { dense: b.linear(&format!("{p}.intermediate.dense"), h, i)? },
            output: ResidualOutput {
                dense: b.linear(&format!("{p}.output.dense"), i, h)?,
                layer_norm: b.layer_norm(&format!("{p}.output.LayerNorm"), h, eps)?,
                dropout: dropout(config.hidden_dropout_prob),
            },
        });
    }
    let pooler = Pooler { dense: b.linear("pooler.dense", h, h)? };
    let bert = BertModel { embeddings, encoder: Encoder { layer: layers }, pooler };

    // transformers' `_init_weights`: normal(0, initializer_range) weight, zero bias.
    let classifier = if has_classifier {
        let w: Tensor<2> = b.tensor("classifier.weight", [num_labels, h], Init::Normal(config.initializer_range))?;
        let bias: Tensor<1> = b.tensor("classifier.bias", [num_labels], Init::Zeros)?;
        LoraLinear::new(w.transpose(), Some(bias))
    } else {
        let w: Tensor<2> = b.normal([num_labels, h], config.initializer_range);
        LoraLinear::new(w.transpose(), Some(Tensor::zeros([num_labels], device)))
    };
    Ok(BertForSequenceClassification { bert, dropout: dropout(config.classifier_dropout), classifier })
}
