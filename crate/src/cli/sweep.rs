//! `lora-playground sweep` and `compare`: the lesson's experiments as one command, one table of what each run cost
//! and reached (the table every PEFT tutorial prints, measured): trainable parameters and share, optimizer state,
//! saved-file size, time per step, accuracy and macro-F1. `compare` is the sweep over methods alone at one rank.
//! Which runs, and each one's learning rate, is `train::experiment` (the page's Experiment panel runs the same).

use std::path::{Path, PathBuf};

use lora_playground::accounting::lora_config::TargetModules;
use lora_playground::accounting::memory::Optimizer;
use lora_playground::error::Error;
use lora_playground::model::methods::Method;
use lora_playground::train::experiment::{self, Grid, Run};
use serde_json::{Value, json};

use super::flags::Flags;
use super::train::{VALUED, dataset, named_by_flag, plan_fields, run_and_save};
use super::usage::usage_error;
use super::{device, model_files};

pub fn sweep(args: &[String]) -> i32 {
    run(args, &["--ranks", "--target-sets"], "lora")
}

pub fn compare(args: &[String]) -> i32 {
    run(args, &[], "lora,full,head,bitfit")
}

/// Grid keys and their flags.
const GRID_FLAGS: [(&str, &str); 4] =
    [("methods", "--methods"), ("ranks", "--ranks"), ("target_sets", "--target-sets"), ("full_lr", "--full-lr")];

fn run(args: &[String], extra: &[&str], default_methods: &str) -> i32 {
    let mut valued: Vec<&str> = VALUED.iter().copied().filter(|f| *f != "--method").collect();
    valued.extend(["--methods", "--full-lr"]);
    valued.extend(extra);
    let flags = match Flags::parse(args, &valued, &["--rslora", "--quiet", "--json", "--fixed-alpha"]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    match runs(&flags, default_methods) {
        Ok(runs) => super::usage::exit_code(go(&flags, runs)),
        Err(m) => usage_error(&m),
    }
}

fn runs(f: &Flags, default_methods: &str) -> Result<Vec<Run>, String> {
    let fields = plan_fields(f);
    let base = lora_playground::train::plan::Plan::from_json(&fields).map_err(named_by_flag)?;
    let mut grid = serde_json::Map::new();
    for (key, flag) in GRID_FLAGS {
        if let Some(v) = f.str(flag) {
            grid.insert(key.into(), json!(v));
        }
    }
    grid.entry("methods").or_insert(json!(default_methods));
    grid.insert("fixed_alpha".into(), json!(f.on("--fixed-alpha")));
    let flag_of = |e: lora_playground::error::Error| match GRID_FLAGS.iter().find(|(k, _)| *k == e.field) {
        Some((_, flag)) => format!("{flag}: {}", e.message),
        None => named_by_flag(e),
    };
    let grid = Grid::from_json(&Value::Object(grid), &base).map_err(flag_of)?;
    experiment::runs(&fields, &grid).map_err(flag_of)
}

fn go(f: &Flags, runs: Vec<Run>) -> Result<(), Error> {
    let data_spec = f.str("--data").ok_or("--data is required (a CSV/TSV/JSONL file or builtin:complaints)")?;
    let out = PathBuf::from(f.str("--out").ok_or("--out DIR is required (each run is saved to DIR/<run>)")?);
    let data = dataset(data_spec)?;
    let files = model_files::from_flags(f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let mut rows = Vec::new();
    for Run { name, plan } in runs {
        let o = run_and_save(&files, data_spec, &data, &plan, &device, f.on("--quiet"), &out.join(&name), false)?;
        let last = o.reports.last().ok_or("no epoch ran")?;
        let (file, bytes) = o.saved.iter().find(|(n, _)| n.ends_with(".safetensors")).cloned().unwrap_or_default();
        let lora = plan.method == Method::Lora;
        rows.push(json!({
            "run": name, "method": plan.method.name(), "lr": plan.train.lr,
            "r": lora.then_some(plan.lora.r), "lora_alpha": lora.then_some(plan.lora.lora_alpha),
            "target_modules": lora.then(|| plan.lora.target_modules.as_ref().map(TargetModules::to_list)),
            "trainable": o.trainable, "total": o.total, "trainable_percent": 100.0 * o.trainable as f64 / o.total as f64,
            // Two float32 moments per trainable parameter and a step count per tensor: the calculator's figure.
            "optimizer_bytes": Optimizer::Adamw.state_bytes(4 * o.trainable, o.trainable_tensors),
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

const COLUMNS: [&str; 12] = [
    "run",
    "method",
    "r",
    "lora_alpha",
    "lr",
    "trainable",
    "trainable %",
    "optimizer state",
    "saved",
    "s/step",
    "val accuracy",
    "val macro-F1",
];

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
    std::fs::write(out.join("sweep.json"), serde_json::to_string_pretty(rows).expect("json"))
        .map_err(|e| named("sweep.json", &e))?;
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
