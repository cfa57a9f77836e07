//! The checkpoint loader (like candle's VarBuilder): hands each block its tensors by Hugging Face name, from a
//! `model.safetensors` (bytes), trained tensors laid over it (`Overrides`), or a seeded random draw; and LoRA where
//! the calculator's matching rules put it. It knows no architecture but by its names (`paths`): each block's config
//! builds the block and asks the `Loader` for its tensors; `auto::build` picks the model.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::module::Param;
use burn::nn::{Embedding, LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Tensor, TensorData};

mod blocks;

use super::checkpoint_keys::{checkpoint_key, checkpoint_prefix};
use super::config::EncoderConfig;
use super::lora::{LoraLinear, LoraLinearConfig};
use super::packed::Base;
use super::paths::{child, flavor_name, outside_backbone};
use super::token_embedding::TokenEmbedding;
use crate::accounting::arch::flavor::Flavor;
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
    pub config: LoraLinearConfig,
}

/// How a tensor starts when there is no checkpoint (transformers' `_init_weights`).
#[derive(Clone, Copy)]
pub enum Init {
    Zeros,
    Ones,
    Normal(f64),
}

/// Hands each block its tensors by Hugging Face name: from the overrides, else the checkpoint, else a seeded
/// random draw. Every random value (base weights of a random model, LoRA A, a fresh head) comes from one
/// generator in build order, so the blocks must ask in the order they always have: the same seed then gives
/// the same model (device-independent: see `crate::rng`).
/// Which linear layer `layer` builds: the output head (`Head`) stays float under NF4, as transformers keeps it; GPT-2's
/// Conv1D is quantized as transformers quantizes it (transposed to a linear layer's `[out, in]` first).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Linear,
    Conv1d,
    Head,
}

pub struct Loader<'a> {
    weights: Weights<'a>,
    /// Names tensors: the blocks ask in BERT's names, files hold the architecture's (`paths::flavor_name`).
    flavor: Flavor,
    /// `"bert."` (`"roberta."`) or `""`: the checkpoint's prefix for backbone keys.
    prefix: String,
    device: Device,
    /// `initializer_range`: the std of every normal initialisation.
    std: f64,
    lora: Option<LoraPlacement<'a>>,
    overrides: Option<&'a Overrides>,
    rng: Rng,
    /// How linear layers hold their base weight (packed in NF4 for QLoRA).
    base: Base,
    /// A token embedding table to use as it is (`with_embedding`).
    embedding: Option<TokenEmbedding>,
    /// The GGUF file the checkpoint views, for weights kept in its blocks (`Base::AsStored`).
    file: Option<Arc<Vec<u8>>>,
}

impl<'a> Loader<'a> {
    pub fn new(
        config: &EncoderConfig,
        weights: Weights<'a>,
        overrides: Option<&'a Overrides>,
        lora: Option<LoraPlacement<'a>>,
        seed: u64,
        device: &Device,
    ) -> Result<Self, Error> {
        Self::for_flavor(config.flavor, config.initializer_range, weights, overrides, lora, seed, device)
    }

    /// `new` for any architecture: its names (`flavor`) and `initializer_range` (`std`) are all it needs of the
    /// config (the language models' `DecoderConfig` too).
    pub fn for_flavor(
        flavor: Flavor,
        std: f64,
        weights: Weights<'a>,
        overrides: Option<&'a Overrides>,
        lora: Option<LoraPlacement<'a>>,
        seed: u64,
        device: &Device,
    ) -> Result<Self, Error> {
        let prefix = match &weights {
            Weights::Checkpoint(f) => checkpoint_prefix(f, flavor)?,
            Weights::Random => String::new(),
        };
        Ok(Self {
            weights,
            flavor,
            prefix,
            device: device.clone(),
            std,
            lora,
            overrides,
            rng: Rng::new(seed),
            base: Base::Float32,
            embedding: None,
            file: None,
        })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// `initializer_range`.
    pub fn std(&self) -> f64 {
        self.std
    }

    /// The tensor named `name` (in BERT's names: `bert.` + module path, or `classifier.`), from the overrides,
    /// else the checkpoint (which may lack the backbone prefix, or name LayerNorm parameters gamma/beta), else
    /// `init`. A pooler or task head the checkpoint lacks is fresh, as transformers makes it (a BERT file saved
    /// without its pooler; RoBERTa's `classifier.dense`, DistilBERT's `pre_classifier` or ModernBERT's prediction
    /// `head`, which a bare backbone's file never has).
    pub fn tensor<const D: usize>(&mut self, name: &str, shape: [usize; D], init: Init) -> Result<Tensor<D>, Error> {
        let named = flavor_name(self.flavor, name);
        let fresh_if_missing = name.starts_with("bert.pooler.") || outside_backbone(&named);
        self.named(&named, shape, init, fresh_if_missing)
    }

    /// `tensor`, for `name` as the checkpoint's architecture names it.
    fn named<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        init: Init,
        fresh_if_missing: bool,
    ) -> Result<Tensor<D>, Error> {
        let (values, shape) = self.named_values(name, shape, init, fresh_if_missing)?;
        Ok(Tensor::from_data(TensorData::new(values, shape), &self.device))
    }

    /// `named`'s values on the host, before they become a tensor.
    fn named_values<const D: usize>(
        &mut self,
        name: &str,
        shape: [usize; D],
        init: Init,
        fresh_if_missing: bool,
    ) -> Result<(Vec<f32>, [usize; D]), Error> {
        let (values, got, file) = if let Some((v, s)) = self.overrides.and_then(|o| o.get(name)) {
            (v.clone(), s.clone(), "adapter")
        } else {
            let stored = match &self.weights {
                Weights::Checkpoint(f) => {
                    let key = self.checkpoint_key(f, name);
                    (!fresh_if_missing || f.contains(&key)).then(|| f.f32(&key)).transpose()?
                }
                Weights::Random => None,
            };
            let Some((v, s)) = stored else {
                let n = shape.iter().product();
                return Ok((
                    match init {
                        Init::Zeros => vec![0.0; n],
                        Init::Ones => vec![1.0; n],
                        Init::Normal(std) => (0..n).map(|_| self.rng.normal(std) as f32).collect(),
                    },
                    shape,
                ));
            };
            // The float16 base holds every stored weight rounded to float16, the norms and biases too, as
            // `torch_dtype=torch.float16` does (the matrices are then kept in half the bytes: `blocks`).
            let v = if self.base == Base::Float16 { round_to_float16(v) } else { v };
            (v, s, "model.safetensors")
        };
        if got != shape {
            let why = if file == "adapter" {
                "for this base model and the adapter's r (an adapter trained on another base model, or for another r?)"
            } else {
                "from config.json"
            };
            return Err(Error::invalid(file, format!("tensor {name} has shape {got:?}, expected {shape:?} {why}")));
        }
        Ok((values, shape))
    }

    /// A fresh `N(0, std)` tensor, whatever the checkpoint holds.
    pub fn normal<const D: usize>(&mut self, shape: [usize; D], std: f64) -> Tensor<D> {
        let n = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| self.rng.normal(std) as f32).collect();
        Tensor::from_data(TensorData::new(values, shape), &self.device)
    }

    fn checkpoint_key(&self, file: &SafeTensors<'_>, name: &str) -> String {
        checkpoint_key(file, self.flavor, &self.prefix, name)
    }

    /// Whether the weights are a checkpoint's (not a random draw).
    pub fn is_checkpoint(&self) -> bool {
        matches!(self.weights, Weights::Checkpoint(_))
    }

    /// Whether the overrides hold `name` (in BERT's names).
    pub fn has_override(&self, name: &str) -> bool {
        self.overrides.is_some_and(|o| o.contains_key(&flavor_name(self.flavor, name)))
    }

    /// The shape of `name` (in BERT's names) in the checkpoint, if it holds it.
    pub fn checkpoint_shape(&self, name: &str) -> Option<Vec<usize>> {
        let Weights::Checkpoint(f) = &self.weights else { return None };
        f.entries.get(&self.checkpoint_key(f, &flavor_name(self.flavor, name))).map(|e| e.shape.clone())
    }

    /// The linear layer at `path` from torch's `[d_output, d_input]` weight, with LoRA if the placement names it
    /// (its A and B from the overrides when an adapter is being loaded).
    pub fn linear(&mut self, path: &str, d_input: usize, d_output: usize) -> Result<LoraLinear, Error> {
        self.layer(path, d_input, d_output, Kind::Linear, true)
    }

    /// Linear layers from here on hold their base weight as `base` says (NF4: packed, as transformers quantizes
    /// every `nn.Linear` and GPT-2's Conv1D but the output head; a classifier's task layers stay float: they train).
    pub fn with_base(mut self, base: Base) -> Self {
        self.base = base;
        self
    }

    /// `linear`, with a bias only when `bias` (ModernBERT's layers have none by default).
    pub fn linear_with_bias(
        &mut self,
        path: &str,
        d_input: usize,
        d_output: usize,
        bias: bool,
    ) -> Result<LoraLinear, Error> {
        self.layer(path, d_input, d_output, Kind::Linear, bias)
    }

    /// A language model's output head (`lm_head`): a linear layer that stays float under NF4 (as bitsandbytes keeps
    /// it); the float16 and *as stored* bases hold it packed like the other frozen weights.
    pub fn output_head(
        &mut self,
        path: &str,
        d_input: usize,
        d_output: usize,
        bias: bool,
    ) -> Result<LoraLinear, Error> {
        self.layer(path, d_input, d_output, Kind::Head, bias)
    }

    /// `layer` with LoRA if the placement names `path` (its A and B from the overrides when an adapter is loaded).
    fn attach_lora(
        &mut self,
        layer: LoraLinear,
        path: &str,
        d_input: usize,
        d_output: usize,
    ) -> Result<LoraLinear, Error> {
        // The placement and the overrides name modules as the checkpoint does.
        let path = &flavor_name(self.flavor, path);
        let Some(config) = self.lora.as_ref().filter(|p| p.modules.iter().any(|m| m == path)).map(|p| p.config) else {
            return Ok(layer);
        };
        // Drawn even when the overrides replace it, so what is drawn after (a fresh head) stays the same.
        let fresh = config.init(d_input, d_output, &mut self.rng, &self.device);
        let (a, b) = (child(path, "lora_a"), child(path, "lora_b"));
        let Some(o) = self.overrides else { return Ok(layer.with_lora(fresh)) };
        match (o.contains_key(&a), o.contains_key(&b)) {
            (true, true) => {
                let lora_a = self.named(&a, [config.r, d_input], Init::Zeros, false)?;
                let lora_b = self.named(&b, [d_output, config.r], Init::Zeros, false)?;
                Ok(layer.with_lora(config.init_with(lora_a, lora_b)))
            }
            (false, false) if !o.keys().any(|k| k.contains(".lora_")) => Ok(layer.with_lora(fresh)),
            (has_a, _) => {
                let missing = if has_a { "lora_B.weight" } else { "lora_A.weight" };
                Err(Error::invalid("adapter", format!("has no {missing} for {path}, which the adapter config targets")))
            }
        }
    }

    /// GPT-2's Conv1D at `path`: `linear`, but torch keeps its weight `[d_input, d_output]` (burn's layout already).
    pub fn conv1d(&mut self, path: &str, d_input: usize, d_output: usize) -> Result<LoraLinear, Error> {
        self.layer(path, d_input, d_output, Kind::Conv1d, true)
    }

    /// The LayerNorm at `path`: weight from the checkpoint, else ones; bias from the checkpoint, else zeros.
    pub fn layer_norm(&mut self, path: &str, d: usize, eps: f64) -> Result<LayerNorm, Error> {
        self.layer_norm_with_bias(path, d, eps, true)
    }

    /// `layer_norm`, with a bias only when `bias` (ModernBERT's `norm_bias` is false by default).
    pub fn layer_norm_with_bias(&mut self, path: &str, d: usize, eps: f64, bias: bool) -> Result<LayerNorm, Error> {
        // burn initialises parameters lazily: the ones and zeros made here are replaced before they exist.
        let mut ln = LayerNormConfig::new(d).with_epsilon(eps).init(&self.device);
        ln.gamma = Param::from_tensor(self.tensor(&child(path, "gamma"), [d], Init::Ones)?);
        ln.beta =
            if bias { Some(Param::from_tensor(self.tensor(&child(path, "beta"), [d], Init::Zeros)?)) } else { None };
        Ok(ln)
    }

    /// The task head's last layer at `path` for `n` labels over `h` features: from the overrides or the checkpoint
    /// when they hold one of that size, else fresh: `N(0, initializer_range)` weight, zero bias (transformers'
    /// `_init_weights`). A checkpoint's head for another number of labels (a fine-tuned classifier as the base of a
    /// new task) is replaced, as transformers does with `ignore_mismatched_sizes=True`; an adapter's head must fit.
    pub fn head(&mut self, path: &str, h: usize, n: usize, bias: bool) -> Result<LoraLinear, Error> {
        let weight = child(path, "weight");
        if self.has_override(&weight) || self.checkpoint_shape(&weight).is_some_and(|s| s == [n, h]) {
            // LoRA never reaches a head (`modules_to_save`), so this is the plain layer.
            self.layer(path, h, n, Kind::Head, bias)
        } else {
            let w: Tensor<2> = self.normal([n, h], self.std);
            Ok(LoraLinear::new(w.transpose(), bias.then(|| Tensor::zeros([n], &self.device))))
        }
    }

    /// DistilBERT's fixed `[n, d]` position table at `path`, from the checkpoint, else the sinusoids
    /// `create_sinusoidal_embeddings` writes: sin(pos / 10000^(2j/d)) in even columns, cos in odd ones.
    pub fn sinusoidal_embedding(&mut self, path: &str, n: usize, d: usize) -> Result<Embedding, Error> {
        let name = child(path, "weight");
        if self.has_override(&name) || self.checkpoint_shape(&name).is_some() {
            return self.embedding(path, n, d);
        }
        let values: Vec<f32> = (0..n)
            .flat_map(|pos| {
                (0..d).map(move |col| {
                    let angle = pos as f64 / 10000f64.powf((2 * (col / 2)) as f64 / d as f64);
                    (if col % 2 == 0 { angle.sin() } else { angle.cos() }) as f32
                })
            })
            .collect();
        Ok(Embedding { weight: Param::from_tensor(Tensor::from_data(TensorData::new(values, [n, d]), &self.device)) })
    }

    /// A language model's token embedding table taken as it is, not read from the file: the same file's table that
    /// another model already holds (its buffer, or its packed weight, shared; on this loader's device).
    pub fn with_embedding(mut self, table: Option<TokenEmbedding>) -> Self {
        self.embedding = table;
        self
    }

    /// The `[n, d]` embedding table at `path`: from the checkpoint, else `N(0, initializer_range)`.
    pub fn embedding(&mut self, path: &str, n: usize, d: usize) -> Result<Embedding, Error> {
        Ok(Embedding {
            weight: Param::from_tensor(self.tensor(&child(path, "weight"), [n, d], Init::Normal(self.std))?),
        })
    }
}

/// Each value rounded to the nearest float16 (ties to even), as float32.
fn round_to_float16(mut values: Vec<f32>) -> Vec<f32> {
    values.iter_mut().for_each(|v| *v = half::f16::from_f32(*v).to_f32());
    values
}
