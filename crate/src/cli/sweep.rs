//! `lora-playground sweep` and `compare`: the lesson's experiments as one command. The same data, split, seed and
//! schedule trained once per setting that varies (LoRA's rank, the target sets, the method), one after another, and
//! one table of what each cost and reached, the table every PEFT tutorial prints, measured: trainable parameters
//! and share, optimizer state, saved-file size, time per step, accuracy and macro-F1. `compare` is the sweep over
//! methods alone at one rank.
//!
//! Each method gets its usual learning rate (full fine-tuning about ten times smaller: BERT's paper 2e-5 to 5e-5,
//! LoRA's 1e-4 to 1e-3), and `lora_alpha` follows `r` at the plan's `alpha / r` unless `--fixed-alpha`, so a rank
//! sweep changes the rank and not the update's scale as well.

use std::path::{Path, PathBuf};

use lora_playground::accounting::lora_config::TargetModules;
use lora_playground::model::methods::Method;
use lora_playground::train::plan::Plan;
use serde_json::{Value, json};

use super::flags::Flags;
use super::train::{VALUED, dataset, plan, run_and_save};
use super::{device, model_files, usage_error};

const FULL_LR: f64 = 5e-5;

/// What varies.
struct Grid {
    methods: Vec<Method>,
    ranks: Vec<u64>,
    target_sets: Vec<String>,
    full_lr: f64,
    fixed_alpha: bool,
}

pub fn sweep(args: &[String]) -> i32 {
    run(args, &["--ranks", "--target-sets"], "lora")
}

pub fn compare(args: &[String]) -> i32 {
    run(args, &[], "lora,full,head,bitfit")
}

fn run(args: &[String], extra: &[&str], default_methods: &str) -> i32 {
    let mut valued: Vec<&str> = VALUED.iter().copied().filter(|f| *f != "--method").collect();
    valued.extend(["--methods", "--full-lr"]);
    valued.extend(extra);
    let flags = match Flags::parse(args, &valued, &["--rslora", "--quiet", "--json", "--fixed-alpha"]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    let base = match plan(&flags) {
        Ok(p) => p,
        Err(m) => return usage_error(&m),
    };
    match grid(&flags, &base, default_methods) {
        Ok(g) => super::exit_code(go(&flags, &base, &g)),
        Err(m) => usage_error(&m),
    }
}

fn list<T>(flag: &str, text: &str, sep: char, parse: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    let items: Result<Vec<T>, String> = text.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(|s| parse(s).map_err(|e| format!("{flag}: {e}"))).collect();
    items.and_then(|v| if v.is_empty() { Err(format!("{flag}: give at least one")) } else { Ok(v) })
}

fn grid(f: &Flags, base: &Plan, default_methods: &str) -> Result<Grid, String> {
    let methods = list("--methods", f.str("--methods").unwrap_or(default_methods), ',', |m| Method::parse(m).map_err(|e| e.message))?;
    let ranks = match f.str("--ranks") {
        Some(text) => list("--ranks", text, ',', |r| r.parse::<u64>().ok().filter(|&r| r > 0).ok_or_else(|| format!("'{r}' is not a positive whole number")))?,
        None => vec![base.lora.r],
    };
    let default_targets = base.lora.target_modules.as_ref().map(TargetModules::to_list).unwrap_or_default();
    let target_sets = list("--target-sets", f.str("--target-sets").unwrap_or(&default_targets), ';', |t| Ok(t.to_string()))?;
    let full_lr = f.get("--full-lr", FULL_LR, "a number such as 5e-5")?;
    Ok(Grid { methods, ranks, target_sets, full_lr, fixed_alpha: f.on("--fixed-alpha") })
}

/// Every run's plan and its folder name: LoRA once per rank and target set, the other methods once.
fn runs(base: &Plan, g: &Grid) -> Vec<(String, Plan)> {
    let single = g.ranks.len() == 1 && g.target_sets.len() == 1;
    let mut out = Vec::new();
    for &method in &g.methods {
        let mut plan = base.clone();
        plan.method = method;
        match method {
            Method::Lora => {
                for targets in &g.target_sets {
                    for &r in &g.ranks {
                        let mut p = plan.clone();
                        p.lora.r = r;
                        if !g.fixed_alpha {
                            p.lora.lora_alpha = base.lora.lora_alpha * r as f64 / base.lora.r as f64;
                        }
                        p.lora.target_modules = Some(TargetModules::parse_list(targets));
                        let name = if single { "lora".into() } else { format!("lora-r{r}-{}", targets.replace([',', ' '], "+")) };
                        out.push((name, p));
                    }
                }
            }
            Method::Full => {
                plan.train.lr = g.full_lr;
                out.push(("full".into(), plan));
            }
            other => out.push((other.name().into(), plan)),
        }
    }
    out
}

fn go(f: &Flags, base: &Plan, g: &Grid) -> Result<(), String> {
    let data_spec = f.str("--data").ok_or("--data is required (a CSV/TSV/JSONL file or builtin:complaints)")?;
    let out = PathBuf::from(f.str("--out").ok_or("--out DIR is required (each run is saved to DIR/<run>)")?);
    let data = dataset(data_spec)?;
    let files = model_files::from_flags(f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let mut rows = Vec::new();
    for (name, plan) in runs(base, g) {
        plan.validate().map_err(|e| format!("{name}: {} {}", e.field, e.message))?;
        let o = run_and_save(&files, data_spec, &data, &plan, &device, f.on("--quiet"), &out.join(&name), false)?;
        let last = o.reports.last().ok_or("no epoch ran")?;
        let (file, bytes) = o.saved.iter().find(|(n, _)| n.ends_with(".safetensors")).cloned().unwrap_or_default();
        let lora = plan.method == Method::Lora;
        rows.push(json!({
            "run": name, "method": plan.method.name(), "lr": plan.train.lr,
            "r": lora.then_some(plan.lora.r), "lora_alpha": lora.then_some(plan.lora.lora_alpha),
            "target_modules": lora.then(|| plan.lora.target_modules.as_ref().map(TargetModules::to_list)),
            "trainable": o.trainable, "total": o.total, "trainable_percent": 100.0 * o.trainable as f64 / o.total as f64,
            // AdamW keeps two float32 moments per trainable parameter.
            "optimizer_bytes": 8 * o.trainable,
            "val_accuracy": last.val_accuracy, "val_macro_f1": last.val_macro_f1,
            "train_seconds": o.train_seconds, "steps": o.steps, "seconds_per_step": o.train_seconds / o.steps.max(1) as f64,
            "examples_per_s": last.examples_per_s, "saved_file": file, "saved_bytes": bytes,
            "epochs": o.reports,
        }));
    }
    write_tables(&out, &rows)?;
    if f.on("--json") {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
    } else {
        print!("{}", markdown(&rows));
    }
    Ok(())
}

const COLUMNS: [&str; 12] = ["run", "method", "r", "lora_alpha", "lr", "trainable", "trainable %", "optimizer state", "saved", "s/step", "val accuracy", "val macro-F1"];

fn cells(r: &Value) -> [String; 12] {
    let num = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
    let or_dash = |k: &str| if r[k].is_null() { "-".to_string() } else { r[k].to_string() };
    [
        r["run"].as_str().unwrap_or("?").into(),
        r["method"].as_str().unwrap_or("?").into(),
        or_dash("r"),
        or_dash("lora_alpha"),
        r["lr"].to_string(),
        r["trainable"].to_string(),
        format!("{:.3}%", num("trainable_percent")),
        human_bytes(r["optimizer_bytes"].as_u64().unwrap_or(0)),
        format!("{} {}", r["saved_file"].as_str().unwrap_or("?"), human_bytes(r["saved_bytes"].as_u64().unwrap_or(0))),
        format!("{:.3}", num("seconds_per_step")),
        format!("{:.1}%", 100.0 * num("val_accuracy")),
        format!("{:.3}", num("val_macro_f1")),
    ]
}

fn markdown(rows: &[Value]) -> String {
    let mut s = format!("| {} |\n|{}\n", COLUMNS.join(" | "), "---|".repeat(COLUMNS.len()));
    for r in rows {
        s += &format!("| {} |\n", cells(r).join(" | "));
    }
    s
}

/// `sweep.md`, `sweep.csv` (the csv crate quotes what needs quoting) and `sweep.json` (every run, every epoch).
fn write_tables(out: &Path, rows: &[Value]) -> Result<(), String> {
    let named = |f: &str, e: &dyn std::fmt::Display| format!("{}: {e}", out.join(f).display());
    std::fs::write(out.join("sweep.md"), markdown(rows)).map_err(|e| named("sweep.md", &e))?;
    std::fs::write(out.join("sweep.json"), serde_json::to_string_pretty(rows).expect("json")).map_err(|e| named("sweep.json", &e))?;
    let mut csv = csv::Writer::from_path(out.join("sweep.csv")).map_err(|e| named("sweep.csv", &e))?;
    csv.write_record(COLUMNS).map_err(|e| named("sweep.csv", &e))?;
    for r in rows {
        csv.write_record(cells(r)).map_err(|e| named("sweep.csv", &e))?;
    }
    csv.flush().map_err(|e| named("sweep.csv", &e))
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
