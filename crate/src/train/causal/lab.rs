//! The language-model page's whole model side, one call at a time (the page's worker drives it; natively testable):
//! a model from a GGUF file or a folder's files, data rows with the tokens the loss sees, a LoRA run stepped from
//! outside, answers written token by token by the base model or the adapter (the same seed for both), and the
//! adapter PEFT loads. Every call returns plain serializable data.

use burn::tensor::Device;
use serde::Serialize;

use super::budget::{LmNeed, check};
use super::tokens::{LmText, LmTokens};
use super::trainer::{LmEval, LmPlan, LmStep, LmTrainer, evaluate};
use crate::data::lm::{LmRow, held_out_split, lm_rows};
use crate::error::Error;
use crate::model::causal::AutoModelForCausalLM;
use crate::model::causal::chat::{Message, render};
use crate::model::causal::files::{LanguageModel, LmFiles};
use crate::model::causal::generate::{Generation, Sampling};
use crate::model::packed::Base;

#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub model_type: String,
    pub layers: usize,
    pub hidden_size: usize,
    pub vocab_size: usize,
    pub parameters: u64,
    pub chat_template: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataInfo {
    pub rows: usize,
    pub train: usize,
    pub val: usize,
    /// Rows that could not be used: `{line, reason}`.
    pub problems: Vec<crate::data::RowProblem>,
    pub truncated: usize,
}

/// One token of a preview: its text and whether the loss sees it.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewToken {
    pub id: u32,
    pub text: String,
    pub learned: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub trainable: u64,
    pub total: u64,
    pub total_steps: usize,
    pub steps_per_epoch: usize,
    /// Held-out loss before training.
    pub before: LmEval,
    /// The memory estimate the run was checked against.
    pub need: LmNeed,
}

/// A step, with the held-out evaluation when it ended an epoch.
#[derive(Debug, Clone, Serialize)]
pub struct StepOut {
    #[serde(flatten)]
    pub step: LmStep,
    pub eval: Option<LmEval>,
}

/// An answer being written, by the base model or the trained adapter.
struct Answer {
    adapter: bool,
    generation: Generation,
}

/// A token of an answer: its id, the answer's text so far, and whether the answer is finished.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerToken {
    pub id: u32,
    pub text: String,
    pub done: bool,
}

pub struct Lab {
    device: Device,
    /// The memory a run may take (a tab's 4 GiB in the page; None natively).
    host_bytes: Option<u64>,
    /// `max_len` of the loaded rows (the estimate's sequence length).
    pub(super) max_len: usize,
    pub(super) files: Option<LmFiles>,
    base: Option<LanguageModel>,
    rows: Vec<LmRow>,
    /// The data file as loaded, and the share held out: what the notebook export writes and splits.
    pub(super) data_file: Option<(String, Vec<u8>, f64)>,
    train: Vec<LmTokens>,
    val: Vec<LmTokens>,
    pub(super) plan: Option<LmPlan>,
    pub(super) trainer: Option<LmTrainer>,
    pub(super) tuned: Option<AutoModelForCausalLM>,
    answer: Option<Answer>,
    /// The base the page asks for before a model loads, so a QLoRA session never builds the float model.
    base_setting: Base,
}

impl Lab {
    pub fn new(device: Device) -> Self {
        Self {
            device,
            host_bytes: None,
            max_len: 128,
            files: None,
            base: None,
            rows: vec![],
            data_file: None,
            train: vec![],
            val: vec![],
            plan: None,
            trainer: None,
            tuned: None,
            answer: None,
            base_setting: Base::Float32,
        }
    }

    /// How the next model loads its linear layers (a 4-bit folder stays 4-bit whatever this says).
    pub fn set_base(&mut self, base: Base) {
        self.base_setting = base;
    }

    pub fn set_device(&mut self, device: Device) {
        self.device = device;
    }

    /// The memory runs may take (`budget::tab()` in the page).
    pub fn set_host_bytes(&mut self, bytes: Option<u64>) {
        self.host_bytes = bytes;
    }

    pub(super) fn base(&self) -> Result<&LanguageModel, Error> {
        self.base.as_ref().ok_or_else(|| Error::invalid("model", "load a model first"))
    }

    pub fn load_model(&mut self, files: LmFiles) -> Result<ModelInfo, Error> {
        let files = if files.base == Base::Float32 { files.with_base(self.base_setting) } else { files };
        // The previous model goes first: never two models in the tab (a load that fails leaves none loaded).
        (self.files, self.base, self.trainer, self.tuned, self.answer) = (None, None, None, None, None);
        let lm = files.load(None, &self.device)?;
        let c = &lm.config;
        let parameters = crate::model::causal::parameter_count(&lm.model);
        let info = ModelInfo {
            name: files.name.clone(),
            model_type: c.flavor.model_type().into(),
            layers: c.num_hidden_layers,
            hidden_size: c.hidden_size,
            vocab_size: c.vocab_size,
            parameters,
            chat_template: lm.chat_template.is_some(),
        };
        (self.files, self.base, self.trainer, self.tuned, self.answer) = (Some(files), Some(lm), None, None, None);
        self.rows.clear();
        Ok(info)
    }

    fn text(&self, max_len: usize) -> Result<LmText<'_>, Error> {
        let b = self.base()?;
        Ok(LmText { tokenizer: &b.tokenizer, chat_template: b.chat_template.as_ref(), special: &b.special, max_len })
    }

    /// The rows of a data file, split by `seed` (`val_fraction` held out), each tokenized to `max_len`.
    pub fn load_data(
        &mut self,
        name: &str,
        bytes: &[u8],
        val_fraction: f64,
        seed: u64,
        max_len: usize,
    ) -> Result<DataInfo, Error> {
        let (examples, mut problems) = lm_rows(name, bytes)?;
        let text = self.text(max_len)?;
        let (order, n_val) = held_out_split(examples.len(), val_fraction, seed);
        let (mut train, mut val, mut rows) = (Vec::new(), Vec::new(), Vec::new());
        for (k, &i) in order.iter().enumerate() {
            let e = &examples[i];
            match text.tokens(&e.row) {
                Ok(t) if k < n_val => {
                    val.push(t);
                    rows.push(e.row.clone());
                }
                Ok(t) => train.push(t),
                Err(reason) => problems.push(crate::data::RowProblem { line: e.line, reason }),
            }
        }
        if train.is_empty() {
            let why = problems.first().map(|p| format!(" (line {}: {})", p.line, p.reason)).unwrap_or_default();
            return Err(Error::invalid(name, format!("no row can train this model{why}")));
        }
        let truncated = train.iter().chain(&val).filter(|t| t.truncated).count();
        self.max_len = max_len;
        self.data_file = Some((name.to_string(), bytes.to_vec(), val_fraction));
        let info = DataInfo { rows: examples.len(), train: train.len(), val: val.len(), problems, truncated };
        (self.train, self.val, self.rows) = (train, val, rows);
        Ok(info)
    }

    /// The first training row's tokens, each with whether the loss sees it.
    pub fn preview(&self) -> Result<Vec<PreviewToken>, Error> {
        let b = self.base()?;
        let row = self.train.first().ok_or_else(|| Error::invalid("data", "load data first"))?;
        Ok(row
            .ids
            .iter()
            .zip(&row.labels)
            .map(|(&id, l)| PreviewToken {
                id,
                text: b.tokenizer.decode(&[id], false).unwrap_or_default(),
                learned: l.is_some(),
            })
            .collect())
    }

    /// The held-out rows' prompts (what the results panel offers to ask).
    pub fn held_out_prompts(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|r| match r {
                LmRow::PromptCompletion { prompt, .. } => Some(prompt.clone()),
                LmRow::Messages(turns) => turns.iter().rev().find(|t| t.role == "user").map(|t| t.content.clone()),
                LmRow::Text(_) => None,
            })
            .collect()
    }

    /// The memory `plan` needs on the loaded rows (their longest), checked against `limit` when one is given.
    pub fn need(&self, plan: &LmPlan, limit: Option<u64>) -> Result<LmNeed, Error> {
        let files = self.files.as_ref().ok_or_else(|| Error::invalid("model", "load a model first"))?;
        let (config_json, file_bytes) = files.config_and_size()?;
        let longest = self.train.iter().map(|t| t.ids.len()).max().unwrap_or(1).min(self.max_len);
        // A folder's weights are widened on the *as stored* base: it costs what the float32 base costs.
        let float_base;
        let (plan, widened) = match (plan.base, files.float_bytes_beside_blocks()?) {
            (Base::AsStored, None) => {
                float_base = LmPlan { base: Base::Float32, ..plan.clone() };
                (&float_base, 0)
            }
            (_, widened) => (plan, widened.unwrap_or(0)),
        };
        check(&config_json, (file_bytes, widened), plan, longest, limit)
    }

    pub async fn start(&mut self, plan: LmPlan) -> Result<RunInfo, Error> {
        if self.train.is_empty() {
            return Err(Error::invalid("data", "load data first"));
        }
        let need = self.need(&plan, self.host_bytes)?;
        // QLoRA's base model is the 4-bit one: the answers and the held-out loss "before" come from it, and the
        // float copy is not kept beside the run.
        if self.files.as_ref().is_some_and(|f| f.base != plan.base) {
            let old = self.files.take().expect("checked above");
            let previous = old.base;
            let files = old.with_base(plan.base);
            // The float model goes before the 4-bit one is built: never both in the tab.
            self.base = None;
            match files.load(None, &self.device) {
                Ok(lm) => (self.base, self.files) = (Some(lm), Some(files)),
                Err(e) => {
                    let files = files.with_base(previous);
                    self.base = files.load(None, &self.device).ok();
                    self.files = Some(files);
                    return Err(e);
                }
            }
        }
        let files = self.files.as_ref().ok_or_else(|| Error::invalid("model", "load a model first"))?;
        let base = self.base.as_ref().map(|lm| &lm.model);
        let trainer = LmTrainer::sharing(files, plan.clone(), self.train.clone(), &self.device, base)?;
        let before = evaluate(&self.base()?.model, &self.val, plan.batch_size, &self.device).await?;
        let info = RunInfo {
            trainable: trainer.trainable,
            total: trainer.total,
            total_steps: trainer.total_steps(),
            steps_per_epoch: trainer.steps_per_epoch(),
            before,
            need,
        };
        (self.trainer, self.plan, self.tuned, self.answer) = (Some(trainer), Some(plan), None, None);
        Ok(info)
    }

    pub async fn step(&mut self) -> Result<StepOut, Error> {
        let trainer = self.trainer.as_mut().ok_or_else(|| Error::invalid("run", "start a run first"))?;
        if trainer.done() {
            return Err(Error::invalid("run", "the run is over"));
        }
        let step = trainer.step().await?;
        let batch = self.plan.as_ref().map_or(4, |p| p.batch_size);
        let mut eval = None;
        if step.epoch_done || trainer.done() {
            let model = trainer.model();
            eval = Some(evaluate(&model, &self.val, batch, &self.device).await?);
            self.tuned = Some(model);
        }
        Ok(StepOut { step, eval })
    }

    /// Begins an answer to `prompt` (put through the chat template when `chat` and the model has one) by the base
    /// model or the trained adapter; `next_token` writes it.
    pub fn begin_answer(
        &mut self,
        prompt: &str,
        adapter: bool,
        chat: bool,
        sampling: Sampling,
    ) -> Result<usize, Error> {
        let b = self.base()?;
        if adapter && self.tuned.is_none() {
            return Err(Error::invalid("adapter", "train a run first (the adapter's answer needs it)"));
        }
        let (text, special) = match (&b.chat_template, chat) {
            (Some((template, source)), true) => {
                let messages = [Message { role: "user".into(), content: prompt.into() }];
                (render(template, source, &messages, true, &b.special)?, false)
            }
            _ => (prompt.to_string(), true),
        };
        let ids = b.tokenizer.encode(text.as_str(), special).map_err(|e| Error::invalid("prompt", e.to_string()))?;
        let ids = ids.get_ids().to_vec();
        if ids.is_empty() {
            return Err(Error::invalid("prompt", "is empty"));
        }
        self.answer = Some(Answer { adapter, generation: Generation::new(&b.model, &ids, sampling) });
        Ok(ids.len())
    }

    /// The answer's next token, or `done` once it wrote an end-of-turn token or reached its limit.
    pub async fn next_token(&mut self) -> Result<AnswerToken, Error> {
        let b = self.base.as_ref().ok_or_else(|| Error::invalid("model", "load a model first"))?;
        let a = self.answer.as_mut().ok_or_else(|| Error::invalid("answer", "begin an answer first"))?;
        let model = if a.adapter { self.tuned.as_ref().expect("checked in begin_answer") } else { &b.model };
        let g = &mut a.generation;
        let token = g.next_token(model, &self.device).await?;
        let done = b.config.eos_token_ids.contains(&token) || g.at_limit();
        let shown: Vec<u32> = g.new.iter().copied().filter(|t| !b.config.eos_token_ids.contains(t)).collect();
        let text = b.tokenizer.decode(&shown, true).unwrap_or_default();
        Ok(AnswerToken { id: token, text, done })
    }
}
