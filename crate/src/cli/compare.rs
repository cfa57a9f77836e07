//! `lora-playground compare`: the same data, split and seed trained with several methods, one after another, and
//! one table of what each cost and reached: the lesson of LoRA (far fewer trainable parameters and a far smaller
//! file for nearly the accuracy of full fine-tuning) as a measurement rather than a claim.

use std::path::PathBuf;

use lora_playground::model::methods::Method;
use serde_json::json;

use super::flags::Flags;
use super::train::{VALUED, dataset, plan, run_and_save};
use super::{device, model_files, usage_error};

/// Full fine-tuning moves every pretrained weight, so it wants a learning rate about ten times smaller than the
/// adapter methods (BERT's paper: 2e-5 to 5e-5; LoRA's: 1e-4 to 1e-3).
const FULL_LR: f64 = 5e-5;

pub fn run(args: &[String]) -> i32 {
    let mut valued: Vec<&str> = VALUED.iter().copied().filter(|f| *f != "--method").collect();
    valued.extend(["--methods", "--full-lr"]);
    let flags = match Flags::parse(args, &valued, &["--rslora", "--quiet", "--json"]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    let base = match plan(&flags) {
        Ok(p) => p,
        Err(m) => return usage_error(&m),
    };
    let mut methods = Vec::new();
    for m in flags.str("--methods").unwrap_or("lora,full,head,bitfit").split(',') {
        match Method::parse(m.trim()) {
            Ok(m) => methods.push(m),
            Err(e) => return usage_error(&format!("--methods: {}", e.message)),
        }
    }
    let full_lr = match flags.get("--full-lr", FULL_LR, "a number such as 5e-5") {
        Ok(v) => v,
        Err(m) => return usage_error(&m),
    };
    super::exit_code(go(&flags, &base, &methods, full_lr))
}

fn go(f: &Flags, base: &lora_playground::train::plan::Plan, methods: &[Method], full_lr: f64) -> Result<(), String> {
    let data_spec = f.str("--data").ok_or("--data is required (a CSV/TSV/JSONL file or builtin:complaints)")?;
    let out = PathBuf::from(f.str("--out").ok_or("--out DIR is required (each method is saved to DIR/<method>)")?);
    let data = dataset(data_spec)?;
    let files = model_files::from_flags(&f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let mut rows = Vec::new();
    for &method in methods {
        let mut plan = base.clone();
        plan.method = method;
        if method == Method::Full {
            plan.train.lr = full_lr;
        }
        let o = run_and_save(&files, data_spec, &data, &plan, &device, f.on("--quiet"), &out.join(method.name()), false)?;
        let last = o.reports.last().ok_or("no epoch ran")?;
        let (file, bytes) = o.saved.iter().find(|(n, _)| n.ends_with(".safetensors")).cloned().unwrap_or_default();
        rows.push(json!({
            "method": method.name(), "lr": plan.train.lr, "trainable": o.trainable, "total": o.total,
            "trainable_percent": 100.0 * o.trainable as f64 / o.total as f64,
            "val_accuracy": last.val_accuracy, "val_macro_f1": last.val_macro_f1,
            "train_seconds": o.train_seconds, "examples_per_s": last.examples_per_s,
            "saved_file": file, "saved_bytes": bytes,
        }));
    }
    if f.on("--json") {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
        return Ok(());
    }
    println!("| method | lr | trainable params | trainable % | val accuracy | val macro-F1 | train time | ex/s | saved |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.3}% | {:.1}% | {:.3} | {:.0} s | {:.1} | `{}` {} |",
            r["method"].as_str().unwrap_or("?"),
            r["lr"],
            r["trainable"],
            r["trainable_percent"].as_f64().unwrap_or(f64::NAN),
            100.0 * r["val_accuracy"].as_f64().unwrap_or(f64::NAN),
            r["val_macro_f1"].as_f64().unwrap_or(f64::NAN),
            r["train_seconds"].as_f64().unwrap_or(f64::NAN),
            r["examples_per_s"].as_f64().unwrap_or(f64::NAN),
            r["saved_file"].as_str().unwrap_or("?"),
            human_bytes(r["saved_bytes"].as_u64().unwrap_or(0)),
        );
    }
    Ok(())
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
