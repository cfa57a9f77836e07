//! `lora-playground bench`: training throughput for each method and inference throughput on the same synthetic
//! batch as `tests/reference/bench_peft.py` (batch 16 x 64 tokens, 5 labels), each in its own process so that
//! its peak resident memory (VmHWM) is its own.

use std::process::Command;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use lora_playground::accounting::lora_config::TargetModules;
use lora_playground::model::methods::{Method, count};
use lora_playground::model::packed::Base;
use lora_playground::train::batch::{Tokens, to_input};
use lora_playground::train::budget::{self, Budget};
use lora_playground::train::config::{Sample, TrainConfig, optimizer};
use lora_playground::train::fit::step;
use lora_playground::train::plan::Plan;
use lora_playground::train::prepare::build_model;
use serde_json::{Value, json};

use super::flags::Flags;
use super::usage::usage_error;
use super::{device, launches, model_files};

const VALUED: &[&str] =
    &["--model", "--base", "--hub", "--steps", "--batch-size", "--seq-len", "--methods", "--device", "--targets"];
const LABELS: usize = 5;

pub fn run(args: &[String]) -> i32 {
    let f = match Flags::parse(args, VALUED, &["--json", "--gradient-checkpointing"]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    // A language model's own benchmark: its LoRA step and its generation (`bench_lm`).
    if super::train_lm::wants(f.str("--model")) {
        let device = device::parse(f.str("--device").unwrap_or("cpu")).map_err(lora_playground::error::Error::from);
        return super::usage::exit_code(device.and_then(|d| super::bench_lm::go(&f, &d)));
    }
    if f.on("--gradient-checkpointing") {
        return usage_error(super::train_lm::CHECKPOINTING_IS_FOR_LMS);
    }
    let base = match f.str("--base").map(base) {
        Some(Err(m)) => return usage_error(&m),
        Some(Ok(b)) => b,
        None => Base::Float32,
    };
    // Full fine-tuning has no weights to train on a 4-bit base: left out unless asked for (then refused by name).
    let all = if base.is_packed() { "lora,head,bitfit,inference" } else { "lora,full,head,bitfit,inference" };
    let methods = f.str("--methods").unwrap_or(all).to_string();
    let mut rows = Vec::new();
    for m in methods.split(',') {
        if m != "inference" && Method::parse(m).is_err() {
            return usage_error(&format!("--methods: '{m}' is not lora, full, head, bitfit or inference"));
        }
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot find this program to run the benchmark processes: {e}");
                return 1;
            }
        };
        let mut child_args = vec!["bench-one".to_string(), "--methods".into(), m.to_string()];
        for flag in ["--model", "--base", "--hub", "--steps", "--batch-size", "--seq-len", "--device", "--targets"] {
            if let Some(v) = f.str(flag) {
                child_args.extend([flag.to_string(), v.to_string()]);
            }
        }
        eprintln!("bench: {m} ...");
        let out = match Command::new(exe).args(&child_args).output() {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: bench process: {e}");
                return 1;
            }
        };
        if !out.status.success() {
            eprintln!("error: bench {m} failed:\n{}", String::from_utf8_lossy(&out.stderr));
            return 1;
        }
        match serde_json::from_slice::<Value>(&out.stdout) {
            Ok(v) => rows.push(v),
            Err(e) => {
                eprintln!("error: bench {m} printed no result ({e})");
                return 1;
            }
        }
    }
    if f.on("--json") {
        println!("{}", serde_json::to_string_pretty(&rows).expect("json"));
    } else {
        let full_ms = rows.iter().find(|r| r["method"] == "full").and_then(|r| r["ms_per_step"].as_f64());
        println!(
            "{:<10} {:>12} {:>10} {:>10} {:>14} {:>14}",
            "method", "trainable", "ex/s", "ms/step", "step vs full", "peak RSS MiB"
        );
        for r in &rows {
            let ms = r["ms_per_step"].as_f64().unwrap_or(f64::NAN);
            let ratio = match (r["method"].as_str(), full_ms) {
                (Some("inference"), _) | (_, None) => "-".to_string(),
                (_, Some(full)) => format!("{:.2}x", ms / full),
            };
            println!(
                "{:<10} {:>12} {:>10.1} {:>10.1} {:>14} {:>14.0}",
                r["method"].as_str().unwrap_or("?"),
                r["trainable"].as_u64().map_or("-".into(), |t| t.to_string()),
                r["examples_per_s"].as_f64().unwrap_or(f64::NAN),
                ms,
                ratio,
                r["peak_rss_mib"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
    0
}

/// Runs `step` for 2 warm-up steps then `steps` timed ones: (the first step's seconds, the timed steps' seconds,
/// the GPU kernels the timed steps launched). The first step is reported apart because on a GPU it includes
/// compiling every kernel (WGSL to the driver's code).
fn timed(steps: usize, mut step: impl FnMut()) -> (f64, f64, u64) {
    const WARMUP: usize = 2;
    let started = Instant::now();
    step();
    let first = started.elapsed().as_secs_f64();
    for _ in 1..WARMUP {
        step();
    }
    let started = Instant::now();
    let launches = launches::counted(|| {
        for _ in 0..steps {
            step();
        }
    });
    (first, started.elapsed().as_secs_f64(), launches)
}

/// The benchmark batch: every row exactly `seq` tokens, [CLS] ... [SEP], ids spread over the vocabulary by the
/// same formula as the Python reference.
/// A vocabulary smaller than 21,000 (the tiny test model's) wraps the ids around it.
pub fn batch(batch: usize, seq: usize, vocab_size: usize) -> Vec<Sample> {
    (0..batch)
        .map(|i| {
            let mut ids = vec![101 % vocab_size as u32];
            ids.extend((1..seq - 1).map(|j| ((1000 + (i * 31 + j * 17) % 20000) % vocab_size) as u32));
            ids.push(102 % vocab_size as u32);
            Sample { tokens: Tokens { type_ids: vec![0; ids.len()], ids }, label: i % LABELS }
        })
        .collect()
}

/// `--base` for a classifier (float32 or nf4), as the plan reads it.
fn base(value: &str) -> Result<Base, String> {
    let mut plan = Plan::default();
    plan.set("base", &Value::String(value.into())).map_err(|e| format!("--base: {}", e.message))?;
    Ok(plan.base)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One method in this process; prints one JSON object.
pub fn run_one(args: &[String]) -> i32 {
    let f = match Flags::parse(args, VALUED, &[]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    match one(&f) {
        Ok(v) => {
            println!("{v}");
            0
        }
        Err(m) => {
            eprintln!("error: {m}");
            1
        }
    }
}

fn one(f: &Flags) -> Result<Value, String> {
    let steps: usize = f.get("--steps", 10, "a positive integer")?;
    let (bs, seq): (usize, usize) =
        (f.get("--batch-size", 16, "a positive integer")?, f.get("--seq-len", 64, "an integer >= 3")?);
    if seq < 3 || bs == 0 || steps == 0 {
        return Err("--seq-len must be at least 3, --batch-size and --steps at least 1".into());
    }
    let which = f.str("--methods").unwrap_or("lora");
    let files = model_files::from_flags(&f)?;
    let (device, adapter): (Device, String) = device::open(f.str("--device").unwrap_or("cpu"))?;
    let config = files.encoder_config().map_err(|e| e.to_string())?;
    let method = if which == "inference" { Method::Head } else { Method::parse(which).map_err(|e| e.to_string())? };
    // LoRA r=8, alpha 16 on query and value (the default plan; `--targets` names another architecture's, such as
    // DistilBERT's q_lin,v_lin), no dropout: the figures docs/MEASUREMENTS.md compares.
    let base = f.str("--base").map_or(Ok(Base::Float32), base)?;
    let mut plan = Plan { method, lora_dropout: 0.0, base, ..Plan::default() };
    if let Some(names) = f.str("--targets") {
        plan.lora.target_modules = Some(TargetModules::Names(names.split(',').map(|n| n.trim().to_string()).collect()));
    }
    plan.validate().map_err(|e| format!("--methods {which} on --base {}: {}", base.name(), e.message))?;
    // The page's estimate for this step (the calculator's memory at this batch and length, plus the model file the
    // trainer keeps), beside the process's measured peak.
    (plan.train.batch_size, plan.max_len) = (bs, seq);
    let unbounded = Budget { host_bytes: u64::MAX, gpu_buffer_bytes: None };
    let predicted = (which != "inference")
        .then(|| budget::check(&files.config_json, files.safetensors.len() as u64, LABELS, &plan, unbounded))
        .transpose()
        .map_err(|e| e.to_string())?;
    let samples = batch(bs, seq, config.vocab_size);
    let refs: Vec<&Sample> = samples.iter().collect();
    let train_device = device.clone().autodiff();
    let model = build_model(&config, &files, None, LABELS, &plan, &train_device).map_err(|e| e.to_string())?;
    let trainable = count(&model).trainable;
    let (first, seconds, launches) = if which == "inference" {
        let model = model.valid();
        let tokens: Vec<&Tokens> = samples.iter().map(|s| &s.tokens).collect();
        timed(steps, || {
            let _ = model.forward(&to_input(&config, &tokens, &device)).into_data();
        })
    } else {
        let mut optim = optimizer(&TrainConfig::default());
        let mut model = Some(model);
        timed(steps, || {
            model = Some(
                step(model.take().expect("put back each step"), &mut optim, 2e-4, &config, &refs, &train_device).0,
            );
        })
    };
    Ok(json!({
        "method": which,
        "adapter": adapter,
        "trainable": if which == "inference" { Value::Null } else { json!(trainable) },
        "batch_size": bs,
        "seq_len": seq,
        "steps": steps,
        "examples_per_s": (steps * bs) as f64 / seconds,
        "ms_per_step": seconds * 1000.0 / steps as f64,
        "first_step_ms": first * 1000.0,
        // GPU kernels per timed step (0 on the CPU backend); with burn's `fusion` feature, fused ones count once.
        "kernel_launches_per_step": launches as f64 / steps as f64,
        "fusion": cfg!(feature = "fusion"),
        "peak_rss_mib": peak_rss_mib(),
        "base": base.name(),
        "predicted_mib": predicted.map(|n| n.host_bytes as f64 / (1u64 << 20) as f64),
    }))
}
