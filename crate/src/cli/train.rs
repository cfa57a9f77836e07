//! `lora-playground train`: fine-tune an encoder on labelled text with LoRA, full fine-tuning, head-only or
//! BitFit; one JSON line per epoch on stdout, a progress bar on stderr, the result saved to `--out`.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use serde_json::Value;

use lora_playground::data::{self, Dataset};
use lora_playground::error::Error;
use lora_playground::model::files::ModelFiles;
use lora_playground::model::methods::count;
use lora_playground::train::fit::{EpochReport, Progress, train};
use lora_playground::train::folder::{TrainingRecord, peft_counts, saved_files};
use lora_playground::train::plan::{FIELDS, Plan};
use lora_playground::train::prepare::prepare;

use super::flags::Flags;
use super::usage::usage_error;
use super::{device, model_files, progress::Bar};

pub const VALUED: &[&str] = &[
    "--model",
    "--base",
    "--hub",
    "--data",
    "--method",
    "--r",
    "--alpha",
    "--targets",
    "--layers",
    "--bias",
    "--lora-dropout",
    "--epochs",
    "--batch-size",
    "--lr",
    "--weight-decay",
    "--warmup-ratio",
    "--max-grad-norm",
    "--max-len",
    "--seed",
    "--val-fraction",
    "--out",
    "--device",
];

pub fn run(args: &[String]) -> i32 {
    let flags = match Flags::parse(args, VALUED, &["--rslora", "--quiet", "--gradient-checkpointing"]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    // A language model trains as one (causal-LM fine-tuning, `train_lm`).
    if super::train_lm::wants(flags.str("--model")) {
        return super::usage::exit_code(
            device::parse(flags.str("--device").unwrap_or("cpu"))
                .map_err(Error::from)
                .and_then(|d| super::train_lm::go(&flags, &d)),
        );
    }
    if flags.on("--gradient-checkpointing") {
        return usage_error(super::train_lm::CHECKPOINTING_IS_FOR_LMS);
    }
    let plan = match plan(&flags) {
        Ok(p) => p,
        Err(m) => return usage_error(&m),
    };
    super::usage::exit_code(go(&flags, &plan))
}

/// The plan from the flags: each flag sets the `Plan` field `plan::FIELDS` maps it to, over `Plan`'s defaults (the
/// page's too), with `Plan`'s checks; a bad value names its flag.
pub fn plan(f: &Flags) -> Result<Plan, String> {
    Plan::from_json(&plan_fields(f)).map_err(named_by_flag)
}

/// The plan's fields the flags set, as the page sends them (`Plan::from_json` fills in the rest).
pub fn plan_fields(f: &Flags) -> Value {
    let mut fields = serde_json::Map::new();
    for (field, flag) in FIELDS {
        if flag == "--rslora" {
            if f.on(flag) {
                fields.insert(field.into(), Value::Bool(true));
            }
        } else if let Some(v) = f.str(flag) {
            fields.insert(field.into(), Value::String(v.to_string()));
        }
    }
    Value::Object(fields)
}

/// A plan error with the flag in place of the field: "--lr must be ...".
pub fn named_by_flag(e: lora_playground::error::Error) -> String {
    let flag = FIELDS.iter().find(|(k, _)| *k == e.field).map_or(e.field.clone(), |(_, flag)| flag.to_string());
    format!("{flag} {}", e.message)
}

/// `--data`: `builtin:NAME` or a file; bad rows are listed on stderr and skipped.
pub fn dataset(spec: &str) -> Result<Dataset, Error> {
    let (name, bytes, _) = super::data_file::data_file(spec)?;
    let d = data::parse(&name, &bytes)?;
    for p in &d.problems {
        eprintln!("warning: {spec} line {}: {} (row skipped)", p.line, p.reason);
    }
    Ok(d)
}

/// What one training run gave, for `train`'s last line and `compare`'s table.
pub struct Outcome {
    pub trainable: u64,
    /// Trainable tensors: AdamW keeps a `step` count for each (the optimizer-state figure counts it, as PyTorch's).
    pub trainable_tensors: u64,
    pub total: u64,
    pub reports: Vec<EpochReport>,
    /// Training time (every epoch's steps, without evaluation).
    pub train_seconds: f64,
    /// Optimizer steps taken (every epoch's batches).
    pub steps: usize,
    /// The files saved, by name, with their sizes.
    pub saved: Vec<(String, usize)>,
}

fn go(f: &Flags, plan: &Plan) -> Result<(), Error> {
    let data_spec = f.str("--data").ok_or("--data is required (a CSV/TSV/JSONL file or builtin:complaints)")?;
    let out =
        PathBuf::from(f.str("--out").ok_or("--out DIR is required (where the trained adapter or model is saved)")?);
    let data = dataset(data_spec)?;
    let files = model_files::from_flags(&f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    run_and_save(&files, data_spec, &data, plan, &device, f.on("--quiet"), &out, true).map(|_| ())
}

/// Trains `plan` on `data`, prints the epochs (as JSON lines when `json_lines`), saves to `out`.
#[allow(clippy::too_many_arguments)]
pub fn run_and_save(
    files: &ModelFiles,
    data_spec: &str,
    data: &Dataset,
    plan: &Plan,
    device: &Device,
    quiet: bool,
    out: &Path,
    json_lines: bool,
) -> Result<Outcome, Error> {
    let p = prepare(files, plan, data, &device.clone().autodiff())?;
    // PEFT's figures (a LoRA run's `all` counts the head's trained copy beside the frozen original, as PEFT does).
    let live = count(&p.model);
    let (trainable, all) = peft_counts(files, plan, p.labels.len()).unwrap_or((live.trainable, live.total));
    eprintln!(
        "{} on {}: {} train / {} validation examples, {} classes; trainable params: {} || all params: {} || trainable%: {:.4}{}",
        plan.method.name(),
        data_spec,
        p.train.len(),
        p.val.len(),
        p.labels.len(),
        trainable,
        all,
        100.0 * trainable as f64 / all as f64,
        if p.truncated > 0 {
            format!("; {} texts cut at --max-len {}", p.truncated, plan.max_len)
        } else {
            String::new()
        }
    );
    let steps = p.train.len().div_ceil(plan.train.batch_size) * plan.train.epochs;
    let mut bar = Bar::new(steps);
    let (model, reports) = train(
        p.model,
        &plan.train,
        &p.config,
        &p.train,
        &p.val,
        &p.labels,
        &device.clone().autodiff(),
        |ev| match ev {
            Progress::Step { epoch, loss, .. } => {
                if !quiet {
                    bar.step(epoch, plan.train.epochs, loss, plan.train.batch_size)
                }
            }
            Progress::Epoch(r) => {
                if !quiet {
                    bar.line_break();
                }
                let line = serde_json::json!({
                    "epoch": r.epoch, "train_loss": r.train_loss, "val_loss": r.val_loss, "val_accuracy": r.val_accuracy,
                    "val_macro_f1": r.val_macro_f1, "examples_per_s": r.examples_per_s, "seconds": r.seconds,
                });
                if json_lines {
                    println!("{line}");
                } else {
                    eprintln!("{line}");
                }
            }
        },
    );
    let mut saved = saved_files(&model, files, plan, &p.labels, &reports)?;
    // The data's name, for `export-run` (the page's runs carry their data with them instead).
    for (name, bytes) in saved.iter_mut().filter(|(n, _)| n == "training.json") {
        let mut record: TrainingRecord = serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
        record.data = Some(data_spec.to_string());
        *bytes = record.to_bytes();
    }
    std::fs::create_dir_all(out).map_err(|e| format!("--out {}: {e}", out.display()))?;
    for (name, bytes) in &saved {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("{}: {e}", out.join(name).display()))?;
    }
    let sizes: Vec<String> = saved.iter().map(|(n, b)| format!("{n} ({} bytes)", b.len())).collect();
    eprintln!("saved to {}: {}", out.display(), sizes.join(", "));
    let record = saved
        .iter()
        .find(|(n, _)| n == "training.json")
        .and_then(|(_, b)| serde_json::from_slice::<TrainingRecord>(b).ok());
    if let Some(f) = record.and_then(|r| r.frozen) {
        let verdict = if f.unchanged { "unchanged" } else { "CHANGED" };
        eprintln!(
            "frozen weights: {} tensors ({} values) {verdict}: SHA-256 {} in the checkpoint, {} after training",
            f.tensors,
            f.values,
            &f.checkpoint_sha256[..16],
            &f.trained_sha256[..16]
        );
    }
    Ok(Outcome {
        trainable: live.trainable,
        trainable_tensors: live.trainable_names.len() as u64,
        total: live.total,
        train_seconds: reports.iter().map(|r| r.seconds).sum(),
        steps,
        reports,
        saved: saved.iter().map(|(n, b)| (n.clone(), b.len())).collect(),
    })
}
