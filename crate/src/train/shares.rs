//! One batch over several workers (data parallelism): the step's batch is cut into shares, each worker computes
//! the gradients of its share's part of the batch's mean loss, and the sum of those gradients is the whole batch's
//! gradient, which the run's own optimizer applies. This is cheap exactly because PEFT trains few parameters: what
//! crosses between workers each step is the trainable tensors (the LoRA matrices: for MiniLM r=8 on query and
//! value, 74k numbers) and their gradients, not the model.
//!
//! A share's dropout masks are drawn per example (`model::dropout`), so N workers compute what one worker computes;
//! only the summation order and each share's padded length differ (measured: losses within 1e-6).
//!
//! The tensors cross by Hugging Face name in burn's own layout, flattened (no transposes: both ends are this crate).

use std::collections::BTreeMap;

use burn::module::Param;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::batch::targets;
use super::batch::{Tokens, to_input};
use super::config::Sample;
use super::readback::read_floats;
use crate::error::Error;
use crate::model::auto::AutoModelForSequenceClassification;
use crate::model::config::EncoderConfig;
use crate::model::dropout::ExampleMasks;
use crate::model::walk::{MapParam, VisitParam, map_params, visit_params};

/// One example of a share: its tokens, its label and its index in the training split (which its dropout masks
/// are drawn from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareExample {
    #[serde(flatten)]
    pub tokens: Tokens,
    pub label: usize,
    pub index: u64,
}

impl ShareExample {
    pub fn new(sample: &Sample, index: u64) -> Self {
        Self { tokens: sample.tokens.clone(), label: sample.label, index }
    }
}

/// One worker's part of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub examples: Vec<ShareExample>,
    /// The whole batch's size: a share's loss is its examples' summed cross-entropy over it.
    pub batch_size: usize,
    /// The step's dropout seed (the run's seed mixed with the step's number).
    pub seed: u64,
}

/// Flattened tensors by Hugging Face name, in burn's layout.
pub type HostTensors = BTreeMap<String, Vec<f32>>;

/// What a worker computed for its share.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShareGradients {
    /// The share's part of the batch's mean loss.
    pub loss: f64,
    /// The gradient of that part for every trainable tensor.
    pub gradients: HostTensors,
}

/// `n` shares of a batch (`examples`: each with its index), contiguous, sizes differing by at most one; never an
/// empty share (fewer shares when the batch is smaller than `n`).
pub fn split(examples: Vec<ShareExample>, n: usize, seed: u64) -> Vec<Share> {
    let batch_size = examples.len();
    let n = n.clamp(1, batch_size.max(1));
    let mut rest = examples.into_iter();
    (0..n)
        .map(|i| {
            let take = batch_size / n + usize::from(i < batch_size % n);
            Share { examples: rest.by_ref().take(take).collect(), batch_size, seed }
        })
        .collect()
}

/// The gradients of `share`'s part of its batch's mean cross-entropy, and that part (unread).
pub fn share_gradients(
    model: &AutoModelForSequenceClassification,
    encoder: &EncoderConfig,
    share: &Share,
    device: &Device,
) -> (GradientsParams, Tensor<1>) {
    let refs: Vec<&Tokens> = share.examples.iter().map(|e| &e.tokens).collect();
    let labels: Vec<usize> = share.examples.iter().map(|e| e.label).collect();
    let indices: Vec<u64> = share.examples.iter().map(|e| e.index).collect();
    let masks = ExampleMasks::install(share.seed, &indices);
    let logits = model.forward(&to_input(encoder, &refs, device));
    drop(masks);
    let mut loss = CrossEntropyLossConfig::new().init(device).forward(logits, targets(&labels, device));
    if share.examples.len() != share.batch_size {
        loss = loss.mul_scalar(share.examples.len() as f64 / share.batch_size as f64);
    }
    let grads = GradientsParams::from_grads(loss.backward(), model);
    // The loss tensor keeps only its value once backward has run; detach it from the graph for reading.
    (grads, loss.detach())
}

/// The trainable tensors of `model`, read back.
pub async fn read_weights(model: &AutoModelForSequenceClassification) -> Result<HostTensors, Error> {
    struct Collect(Vec<(String, Tensor<1>)>);
    impl VisitParam for Collect {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            if param.is_require_grad() {
                let t = param.val();
                let n: usize = t.dims().iter().product();
                self.0.push((name.to_string(), t.reshape([n])));
            }
        }
    }
    let mut c = Collect(Vec::new());
    visit_params(model, &mut c);
    read_all(c.0).await
}

/// `grads` of the trainable tensors of `model`, read back (a tensor without a gradient is left out).
pub async fn read_gradients(
    model: &AutoModelForSequenceClassification,
    grads: &GradientsParams,
) -> Result<HostTensors, Error> {
    struct Collect<'a>(&'a GradientsParams, Vec<(String, Tensor<1>)>);
    impl VisitParam for Collect<'_> {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            if let Some(g) = self.0.get::<D>(param.id) {
                let n: usize = g.dims().iter().product();
                self.1.push((name.to_string(), g.reshape([n])));
            }
        }
    }
    let mut c = Collect(grads, Vec::new());
    visit_params(model, &mut c);
    read_all(c.1).await
}

async fn read_all(tensors: Vec<(String, Tensor<1>)>) -> Result<HostTensors, Error> {
    let mut out = HostTensors::new();
    for (name, t) in tensors {
        out.insert(name, read_floats(t).await?);
    }
    Ok(out)
}

/// Checks that `host` names trainable tensors of `model` only, each with its element count (`what` names it in
/// the error).
pub fn check(model: &AutoModelForSequenceClassification, host: &HostTensors, what: &str) -> Result<(), Error> {
    struct Sizes(BTreeMap<String, usize>);
    impl VisitParam for Sizes {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            if param.is_require_grad() {
                self.0.insert(name.to_string(), param.val().dims().iter().product());
            }
        }
    }
    let mut sizes = Sizes(BTreeMap::new());
    visit_params(model, &mut sizes);
    for (name, values) in host {
        match sizes.0.get(name) {
            Some(&n) if n == values.len() => {}
            Some(&n) => {
                return Err(Error::invalid(what, format!("{name} has {} values; the model's has {n}", values.len())));
            }
            None => return Err(Error::invalid(what, format!("{name} is not a trainable tensor of this model"))),
        }
    }
    Ok(())
}

/// `grads` with `host` (another worker's gradients) added in, on `device` (the plain device they live on).
pub fn add_gradients(
    model: &AutoModelForSequenceClassification,
    grads: &mut GradientsParams,
    host: &HostTensors,
    device: &Device,
) -> Result<(), Error> {
    check(model, host, "gradients")?;
    struct Add<'a>(&'a mut GradientsParams, &'a HostTensors, &'a Device);
    impl VisitParam for Add<'_> {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            let Some(values) = self.1.get(name) else { return };
            let other = Tensor::<D>::from_data(TensorData::new(values.clone(), param.val().dims()), self.2);
            let sum = match self.0.remove::<D>(param.id) {
                Some(own) => own + other,
                None => other,
            };
            self.0.register(param.id, sum);
        }
    }
    visit_params(model, &mut Add(grads, host, device));
    Ok(())
}

/// `model` with its trainable tensors set to `weights` (the run's current values, from the worker that owns it;
/// `check`ed first).
pub fn set_weights(
    model: AutoModelForSequenceClassification,
    weights: &HostTensors,
) -> AutoModelForSequenceClassification {
    struct Set<'a>(&'a HostTensors);
    impl MapParam for Set<'_> {
        fn map<const D: usize>(&mut self, name: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let Some(values) = self.0.get(name) else { return param };
            let (id, tensor, mapper) = param.consume();
            let require_grad = tensor.is_require_grad();
            let mut t = Tensor::<D>::from_data(TensorData::new(values.clone(), tensor.dims()), &tensor.device());
            if require_grad {
                t = t.require_grad();
            }
            Param::from_mapped_value(id, t, mapper)
        }
    }
    map_params(model, &mut Set(weights))
}
