//! `lora-playground train` for a language model (`--model` a `.gguf` file, `smollm2`, `gemma-3-270m` or a decoder's
//! folder): causal-LM fine-tuning with LoRA, full fine-tuning or BitFit on prompt/completion, conversation or text
//! rows (`builtin:lora-lesson`), the loss on completions and assistant turns only. One JSON line per epoch (held-out
//! loss and perplexity) on stdout; `--out` gets the PEFT adapter (`task_type: CAUSAL_LM`), `training.json`, and
//! `answers.jsonl`: each held-out prompt answered greedily by the base model and by the adapter.

use std::path::Path;

use burn::tensor::Device;
use futures_lite::future::block_on;
use serde_json::json;

use lora_playground::accounting::arch::HfConfig;
use lora_playground::accounting::arch::flavor::Flavor;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::data::lm::{LmRow, Turn, held_out_split, lm_rows};
use lora_playground::error::Error;
use lora_playground::model::causal::AutoModelForCausalLM;
use lora_playground::model::causal::chat::{Message, render};
use lora_playground::model::causal::files::{LanguageModel, LmFiles};
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::methods::Method;
use lora_playground::train::causal::adapter::peft_causal_adapter;
use lora_playground::train::causal::plan::{default_plan, plan_to_json};
use lora_playground::train::causal::tokens::{LmText, LmTokens};
use lora_playground::train::causal::trainer::{LmPlan, LmTrainer, evaluate};

use super::flags::Flags;
use super::lm_files::{base_flag, read_lm};

/// Why `--gradient-checkpointing` is refused for an encoder (`train`, `bench`, `export-run`).
pub const CHECKPOINTING_IS_FOR_LMS: &str =
    "--gradient-checkpointing is for language models (a .gguf file, smollm2, a decoder folder)";

/// Whether `--model` names a language model: a `.gguf` file, a fetched short name, or a folder whose
/// `config.json` is a decoder's.
pub fn wants(model: Option<&str>) -> bool {
    let Some(m) = model else { return false };
    if m.ends_with(".gguf") || matches!(m, "smollm2" | "SmolLM2-135M-Instruct" | "gemma-3-270m") {
        return true;
    }
    let config = std::fs::read_to_string(Path::new(m).join("config.json")).ok();
    let model_type = config.and_then(|t| HfConfig::parse(&t).and_then(|c| c.model_type()).ok());
    model_type.is_some_and(|t| Flavor::ALL.iter().any(|f| f.is_decoder() && f.model_type() == t))
}

/// The flags over the page's defaults (`train::causal::plan::default_plan`).
pub fn plan(f: &Flags) -> Result<(LmPlan, usize, f64), Error> {
    let method = Method::parse(f.str("--method").unwrap_or("lora"))?;
    let d = default_plan(method);
    let lora = LoraConfig {
        r: f.get("--r", d.lora.r, "a positive integer")?,
        lora_alpha: f.get("--alpha", d.lora.lora_alpha, "a number")?,
        target_modules: f.str("--targets").map(TargetModules::parse_list).or(d.lora.target_modules),
        use_rslora: f.on("--rslora"),
        bias: Bias::parse(f.str("--bias").unwrap_or("none"))?,
        ..LoraConfig::default()
    };
    lora.validate()?;
    let plan = LmPlan {
        method,
        lora,
        lora_dropout: f.get("--lora-dropout", d.lora_dropout, "a number in [0, 1)")?,
        lr: f.get("--lr", d.lr, "a positive number")?,
        epochs: f.get("--epochs", d.epochs, "a positive integer")?,
        batch_size: f.get("--batch-size", d.batch_size, "a positive integer")?,
        weight_decay: f.get("--weight-decay", d.weight_decay, "a number")?,
        warmup_ratio: f.get("--warmup-ratio", d.warmup_ratio, "a number in [0, 1]")?,
        max_grad_norm: f.get("--max-grad-norm", d.max_grad_norm, "a positive number")?,
        seed: f.get("--seed", d.seed, "a non-negative integer")?,
        base: base_flag(f)?,
        gradient_checkpointing: f.on("--gradient-checkpointing"),
    };
    if plan.batch_size == 0 || plan.epochs == 0 {
        return Err(Error::invalid("--batch-size", "--batch-size and --epochs must be at least 1"));
    }
    Ok((plan, f.get("--max-len", 128, "a positive integer")?, f.get("--val-fraction", 0.2, "a number in [0, 1)")?))
}

/// The data's rows, tokenized, split into training and held-out rows by the seed.
fn rows(
    spec: &str,
    text: &LmText<'_>,
    seed: u64,
    val_fraction: f64,
) -> Result<(Vec<LmRow>, Vec<LmTokens>, Vec<LmTokens>), Error> {
    let (name, bytes, _) = super::data_file::data_file(spec)?;
    let (examples, problems) = lm_rows(&name, &bytes)?;
    for p in &problems {
        eprintln!("warning: {spec} line {}: {} (row skipped)", p.line, p.reason);
    }
    let (order, n_val) = held_out_split(examples.len(), val_fraction, seed);
    let (mut train, mut val, mut held) = (Vec::new(), Vec::new(), Vec::new());
    for (k, &i) in order.iter().enumerate() {
        let e = &examples[i];
        let tokens = text.tokens(&e.row).map_err(|m| {
            let mut err = Error::invalid(&name, m);
            err.line = Some(e.line);
            err
        })?;
        if k < n_val {
            val.push(tokens);
            held.push(e.row.clone());
        } else {
            train.push(tokens);
        }
    }
    Ok((held, train, val))
}

/// The prompt of a held-out row as the model reads it: the conversation up to its last assistant turn with the
/// assistant's turn opened, or the prompt itself.
fn prompt_of(row: &LmRow, lm: &LanguageModel) -> Result<Option<(String, bool)>, Error> {
    Ok(match row {
        LmRow::PromptCompletion { prompt, .. } => Some((prompt.clone(), true)),
        LmRow::Messages(turns) => {
            let last = turns.iter().rposition(|t| t.role == "assistant").unwrap_or(turns.len());
            let (template, source) = lm.chat_template.as_ref().ok_or("no chat template")?;
            let messages: Vec<Message> = turns[..last]
                .iter()
                .map(|Turn { role, content }| Message { role: role.clone(), content: content.clone() })
                .collect();
            Some((render(template, source, &messages, true, &lm.special)?, false))
        }
        LmRow::Text(_) => None,
    })
}

fn answer(
    model: &AutoModelForCausalLM,
    lm: &LanguageModel,
    prompt: &(String, bool),
    device: &Device,
) -> Result<String, Error> {
    let ids =
        lm.tokenizer.encode(prompt.0.as_str(), prompt.1).map_err(|e| Error::internal("tokenizer", e.to_string()))?;
    let stop = &lm.config.eos_token_ids;
    let new = block_on(generate(model, ids.get_ids(), stop, &Sampling::greedy(48), device, |_| true))?;
    let shown: Vec<u32> = new.into_iter().filter(|t| !stop.contains(t)).collect();
    lm.tokenizer.decode(&shown, true).map_err(|e| Error::internal("decode", e.to_string()))
}

pub fn go(f: &Flags, device: &Device) -> Result<(), Error> {
    let spec = f.str("--data").ok_or(
        "--data is required (a JSONL/CSV file of prompt/completion, messages or text rows, or builtin:lora-lesson)",
    )?;
    let out = Path::new(f.str("--out").ok_or("--out DIR is required (where the adapter is saved)")?);
    let (plan, max_len, val_fraction) = plan(f)?;
    // The base "before" (its held-out loss, its answers) is the one the run trains on: 4-bit for QLoRA.
    let files: LmFiles = read_lm(f.str("--model").unwrap_or("smollm2"), f.str("--hub"))?.with_base(plan.base);
    let base = files.load(None, device)?;
    let text = LmText {
        tokenizer: &base.tokenizer,
        chat_template: base.chat_template.as_ref(),
        special: &base.special,
        max_len,
    };
    let (held, train, val) = rows(spec, &text, plan.seed, val_fraction)?;
    let truncated = train.iter().chain(&val).filter(|t| t.truncated).count();
    let mut trainer = LmTrainer::new(&files, plan.clone(), train, device)?;
    let quiet = f.on("--quiet");
    if !quiet {
        eprintln!(
            "{}: {} trainable of {} parameters ({:.4}%), {} steps{}",
            files.name,
            trainer.trainable,
            trainer.total,
            100.0 * trainer.trainable as f64 / trainer.total as f64,
            trainer.total_steps(),
            if truncated > 0 { format!(", {truncated} rows cut at {max_len} tokens") } else { String::new() }
        );
    }
    let before = block_on(evaluate(&base.model, &val, plan.batch_size, device))?;
    println!("{}", json!({"epoch": 0, "val_loss": before.loss, "val_perplexity": before.perplexity}));
    let started = std::time::Instant::now();
    let (mut steps, mut epochs) =
        (Vec::new(), vec![json!({"epoch": 0, "val_loss": before.loss, "val_perplexity": before.perplexity})]);
    while !trainer.done() {
        let s = block_on(trainer.step())?;
        if !quiet {
            eprint!("\rstep {}/{} loss {:.4}   ", s.global_step, s.total_steps, s.loss);
        }
        steps.push(json!({"step": s.global_step, "loss": s.loss, "lr": s.lr}));
        if s.epoch_done {
            let e = block_on(evaluate(&trainer.model(), &val, plan.batch_size, device))?;
            let line =
                json!({"epoch": s.epoch, "train_loss": s.loss, "val_loss": e.loss, "val_perplexity": e.perplexity});
            if !quiet {
                eprintln!();
            }
            println!("{line}");
            epochs.push(line);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let tuned = trainer.model();
    std::fs::create_dir_all(out).map_err(|e| Error::invalid("--out", format!("{}: {e}", out.display())))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(out.join(name), bytes)
            .map_err(|e| Error::invalid("--out", format!("{}: {e}", out.join(name).display())))
    };
    if plan.method == Method::Lora {
        for (name, bytes) in
            block_on(peft_causal_adapter(&tuned, base.config.flavor, &plan.lora, plan.lora_dropout, &files.name))?
        {
            write(&name, &bytes)?;
        }
    }
    let mut answers = String::new();
    for row in &held {
        if let Some(prompt) = prompt_of(row, &base)? {
            let line = json!({"prompt": prompt.0, "base": answer(&base.model, &base, &prompt, device)?, "adapter": answer(&tuned, &base, &prompt, device)?});
            answers.push_str(&format!("{line}\n"));
        }
    }
    write("answers.jsonl", answers.as_bytes())?;
    let record = json!({"model": files.name, "method": plan.method.name(), "r": plan.lora.r, "lora_alpha": plan.lora.lora_alpha,
        "target_modules": plan.lora.target_modules.as_ref().map(TargetModules::to_list), "lr": plan.lr, "epochs": plan.epochs,
        "batch_size": plan.batch_size, "max_len": max_len, "seed": plan.seed, "trainable": trainer.trainable, "total": trainer.total,
        "train_seconds": seconds, "steps": steps, "evaluations": epochs,
        // What `export-run` needs to write the same run as a PEFT script: the whole plan, the split, the data.
        "plan": plan_to_json(&plan), "val_fraction": val_fraction, "base": plan.base.name(), "data": spec});
    write("training.json", serde_json::to_string_pretty(&record).expect("json").as_bytes())?;
    if !quiet {
        eprintln!("trained {} steps in {seconds:.1} s; saved to {}", trainer.total_steps(), out.display());
    }
    Ok(())
}
