//! Fine-tuning a language model one optimizer step at a time (the CLI's loop and the page's worker both drive it):
//! LoRA, full fine-tuning or BitFit on tokenized rows, the completion-only loss, AdamW with linear warm-up and
//! decay and gradient clipping (the trainer's own, `train::adamw`), and the held-out loss and perplexity per epoch.
//! The random draws (split, each epoch's order, LoRA's A, dropout masks) come from the plan's seed.

use std::collections::BTreeSet;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

use super::tokens::LmTokens;
use crate::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use crate::error::Error;
use crate::model::causal::files::LmFiles;
use crate::model::causal::score::causal_lm_loss;
use crate::model::causal::{self, AutoModelForCausalLM};
use crate::model::dropout::ExampleMasks;
use crate::model::load::LoraPlacement;
use crate::model::lora::LoraLinearConfig;
use crate::model::methods::Method;
use crate::model::packed::Base;
use crate::model::walk::{MapParam, VisitParam, map_named, visit_named};
use crate::readback::read_scalar;
use crate::rng::Rng;
use crate::train::adamw::AdamW;
use crate::train::schedule::LinearSchedule;

/// What a language-model run is.
#[derive(Debug, Clone, PartialEq)]
pub struct LmPlan {
    pub method: Method,
    pub lora: LoraConfig,
    pub lora_dropout: f64,
    pub lr: f64,
    pub epochs: usize,
    pub batch_size: usize,
    pub weight_decay: f64,
    pub warmup_ratio: f64,
    pub max_grad_norm: f64,
    pub seed: u64,
    /// How the frozen base holds its linear layers: float32, or NF4 for QLoRA (LoRA or BitFit on a 4-bit base).
    pub base: Base,
    /// Keep only each block's input for the backward pass and run the block again there (transformers'
    /// `gradient_checkpointing`; PEFT's `prepare_model_for_kbit_training` turns it on for QLoRA): a step's
    /// activations shrink to one `[batch, seq, hidden]` tensor per block, for one more forward pass.
    pub gradient_checkpointing: bool,
}

/// One step's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LmStep {
    pub epoch: usize,
    pub global_step: usize,
    pub total_steps: usize,
    /// The batch's mean cross entropy over its labelled tokens.
    pub loss: f64,
    pub lr: f64,
    pub epoch_done: bool,
}

/// Held-out loss (mean over labelled tokens) and its perplexity.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LmEval {
    pub loss: f64,
    pub perplexity: f64,
    pub tokens: usize,
}

pub struct LmTrainer {
    model: Option<AutoModelForCausalLM>,
    optimizer: AdamW,
    schedule: LinearSchedule,
    train: Vec<LmTokens>,
    plan: LmPlan,
    rng: Rng,
    order: Vec<usize>,
    next: usize,
    epoch: usize,
    step: usize,
    steps_per_epoch: usize,
    device: Device,
    pub trainable: u64,
    pub total: u64,
}

struct Trainable<'a> {
    method: Method,
    bias: Bias,
    lora: &'a BTreeSet<String>,
}

impl MapParam for Trainable<'_> {
    fn map<const D: usize>(&mut self, name: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (module, p) = name.rsplit_once('.').unwrap_or(("", name));
        let trains = match self.method {
            Method::Full => true,
            Method::Bitfit => p == "bias",
            Method::Lora => {
                name.contains(".lora_A.")
                    || name.contains(".lora_B.")
                    || (p == "bias"
                        && (self.bias == Bias::All || (self.bias == Bias::LoraOnly && self.lora.contains(module))))
            }
            // No classification head here: refused in `new`.
            Method::Head => false,
        };
        param.set_require_grad(trains)
    }
}

struct Count(u64, u64);

impl VisitParam for Count {
    fn visit<const D: usize>(&mut self, _: &str, param: &Param<Tensor<D>>) {
        let n = param.shape().num_elements() as u64;
        self.1 += n;
        if param.is_require_grad() {
            self.0 += n;
        }
    }
}

impl LmTrainer {
    /// The model in `files` on `device` (made differentiable here), set up for `plan`, over `train`.
    pub fn new(files: &LmFiles, plan: LmPlan, train: Vec<LmTokens>, device: &Device) -> Result<Self, Error> {
        Self::sharing(files, plan, train, device, None)
    }

    /// `new`, the token embedding table shared with `base`, a model of the same files already loaded (the page keeps
    /// one for the answers): one table in memory for both, not two. Training it (full fine-tuning) replaces the
    /// trainer's own reference; `base` keeps the table it had.
    pub fn sharing(
        files: &LmFiles,
        plan: LmPlan,
        train: Vec<LmTokens>,
        device: &Device,
        base: Option<&AutoModelForCausalLM>,
    ) -> Result<Self, Error> {
        if train.is_empty() {
            return Err(Error::invalid("data", "no training rows"));
        }
        let ad = device.clone().autodiff();
        let config = files.config()?;
        let (lora_modules, placement_config) = match plan.method {
            Method::Lora => {
                let targets = plan
                    .lora
                    .target_modules
                    .clone()
                    .unwrap_or_else(|| TargetModules::Names(vec!["q_proj".into(), "v_proj".into()]));
                let m = causal::lora_modules(&config, &targets);
                if m.is_empty() {
                    return Err(Error::invalid("target_modules", format!("{} names no layer", targets.to_list())));
                }
                (m, Some(LoraLinearConfig::from_peft(&plan.lora, plan.lora_dropout)))
            }
            Method::Head => {
                return Err(Error::invalid("method", "a language model has no classification head to train alone"));
            }
            Method::Bitfit if !config.qkv_bias && !config.o_bias && !config.mlp_bias => {
                return Err(Error::invalid(
                    "method",
                    format!("BitFit trains biases, and this {} model has none", config.flavor.model_type()),
                ));
            }
            _ => (Vec::new(), None),
        };
        // On the differentiable device, with LoRA's A drawn from the seed.
        let placement = placement_config.map(|c| LoraPlacement { modules: &lora_modules, config: c });
        if plan.base.is_packed() && plan.method == Method::Full {
            return Err(Error::invalid(
                "base",
                match plan.base {
                    Base::Nf4 => {
                        "full fine-tuning trains every weight, and a 4-bit base is frozen: QLoRA is LoRA on an NF4 base"
                    }
                    Base::Float16 => {
                        "full fine-tuning trains every weight, and the float16 base is frozen: choose float32 to train it all"
                    }
                    _ => {
                        "full fine-tuning trains every weight, and a base kept in its file's blocks is frozen: choose float32 to train it all"
                    }
                },
            ));
        }
        // The answers' model's table: its float buffer, or its packed weight (float16, the file's blocks).
        let embedding = base.map(|m| m.model.embed_tokens.clone());
        let model = files.build(&config, None, placement, plan.seed, plan.base, embedding, &ad)?;
        let set: BTreeSet<String> = lora_modules.iter().cloned().collect();
        let flavor = config.flavor;
        let mut model =
            map_named(model, flavor, &mut Trainable { method: plan.method, bias: plan.lora.bias, lora: &set });
        model.gradient_checkpointing = plan.gradient_checkpointing;
        let mut count = Count(0, 0);
        visit_named(&model, flavor, &mut count);
        // A packed base is not a parameter burn sees; it counts in the model's total as transformers counts it.
        count.1 += model.packed_weights() as u64;
        let steps_per_epoch = train.len().div_ceil(plan.batch_size.max(1));
        let total = steps_per_epoch * plan.epochs.max(1);
        let schedule = LinearSchedule {
            peak_lr: plan.lr,
            warmup_steps: (plan.warmup_ratio * total as f64).ceil() as usize,
            total_steps: total,
        };
        let mut rng = Rng::new(plan.seed ^ 0x5eed);
        let mut order: Vec<usize> = (0..train.len()).collect();
        rng.shuffle(&mut order);
        Ok(Self {
            model: Some(model),
            optimizer: AdamW::new(plan.weight_decay, plan.max_grad_norm),
            schedule,
            train,
            plan,
            rng,
            order,
            next: 0,
            epoch: 1,
            step: 0,
            steps_per_epoch,
            device: ad,
            trainable: count.0,
            total: count.1,
        })
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.steps_per_epoch
    }

    pub fn total_steps(&self) -> usize {
        self.schedule.total_steps
    }

    pub fn done(&self) -> bool {
        self.step >= self.schedule.total_steps
    }

    /// The model as it is now, for scoring and generating (no gradients kept).
    pub fn model(&self) -> AutoModelForCausalLM {
        self.model.as_ref().expect("the model is only out during a step").valid()
    }

    /// One optimizer step on the next batch.
    pub async fn step(&mut self) -> Result<LmStep, Error> {
        let end = (self.next + self.plan.batch_size).min(self.order.len());
        let batch: Vec<usize> = self.order[self.next..end].to_vec();
        let ids: Vec<Vec<u32>> = batch.iter().map(|&i| self.train[i].ids.clone()).collect();
        let labels: Vec<Vec<Option<u32>>> = batch.iter().map(|&i| self.train[i].labels.clone()).collect();
        let model = self.model.take().expect("one step at a time");
        let lr = self.schedule.lr(self.step);
        let masks = ExampleMasks::install(
            self.plan.seed.wrapping_add(self.step as u64),
            &batch.iter().map(|&i| i as u64).collect::<Vec<_>>(),
        );
        let loss = causal_lm_loss(&model, &ids, &labels, &self.device);
        drop(masks);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        self.model = Some(self.optimizer.step(lr, model, grads));
        let loss = read_scalar(loss.detach()).await?;
        self.step += 1;
        self.next = end;
        let epoch = self.epoch;
        let epoch_done = self.next >= self.order.len();
        if epoch_done {
            self.epoch += 1;
            self.next = 0;
            self.order = (0..self.train.len()).collect();
            self.rng.shuffle(&mut self.order);
        }
        Ok(LmStep { epoch, global_step: self.step, total_steps: self.schedule.total_steps, loss, lr, epoch_done })
    }
}

/// The held-out loss of `model` on `rows`, in batches of `batch_size`, weighted by labelled tokens.
pub async fn evaluate(
    model: &AutoModelForCausalLM,
    rows: &[LmTokens],
    batch_size: usize,
    device: &Device,
) -> Result<LmEval, Error> {
    let (mut sum, mut tokens) = (0.0, 0);
    for chunk in rows.chunks(batch_size.max(1)) {
        let ids: Vec<Vec<u32>> = chunk.iter().map(|r| r.ids.clone()).collect();
        let labels: Vec<Vec<Option<u32>>> = chunk.iter().map(|r| r.labels.clone()).collect();
        let n: usize = chunk.iter().map(LmTokens::labelled).sum();
        sum += read_scalar(causal_lm_loss(model, &ids, &labels, device)).await? * n as f64;
        tokens += n;
    }
    let loss = if tokens == 0 { 0.0 } else { sum / tokens as f64 };
    Ok(LmEval { loss, perplexity: loss.exp(), tokens })
}
