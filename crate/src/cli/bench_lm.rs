//! `lora-playground bench --model <LM>`: a language model's LoRA step and its generation, on synthetic rows of
//! the same shape as `tools/bench/lm_step_peft.py` (batch 4 x 128 tokens, every token labelled, LoRA r 8 on
//! q_proj and v_proj, AdamW): the median step time after one warm-up step, and new tokens per second with and
//! without the key/value cache (greedy, 32 new tokens after a 16-token prompt). One JSON object on stdout, with
//! the process's peak resident memory (VmHWM) when the training steps are done (`train_peak_rss_mib`: the model
//! file's bytes, the trainer's model and the steps; before the generation model is loaded) and at the end.
//! `--base nf4` runs the same on QLoRA's 4-bit base; `--gradient-checkpointing` with each block recomputed in the
//! backward pass.

use std::time::Instant;

use burn::tensor::Device;
use futures_lite::future::block_on;
use serde_json::json;

use lora_playground::accounting::lora_config::TargetModules;
use lora_playground::error::Error;
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::methods::Method;
use lora_playground::rng::Rng;
use lora_playground::train::causal::plan::default_plan;
use lora_playground::train::causal::tokens::LmTokens;
use lora_playground::train::causal::trainer::{LmPlan, LmTrainer};

use super::flags::Flags;
use super::lm_files::read_lm;
use super::timing::median;

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb / 1024.0)
}

pub fn go(f: &Flags, device: &Device) -> Result<(), Error> {
    let steps: usize = f.get("--steps", 5, "a positive integer")?;
    let batch: usize = f.get("--batch-size", 4, "a positive integer")?;
    let seq: usize = f.get("--seq-len", 128, "a positive integer")?;
    let base = super::lm_files::base_flag(f)?;
    let files = read_lm(f.str("--model").unwrap_or("smollm2"), f.str("--hub"))?.with_base(base);
    let vocab = files.config()?.vocab_size;
    let mut rng = Rng::new(0);
    let rows: Vec<LmTokens> = (0..batch * (steps + 1))
        .map(|_| {
            let ids: Vec<u32> = (0..seq).map(|_| rng.below(vocab) as u32).collect();
            LmTokens { labels: ids.iter().map(|&t| Some(t)).collect(), ids, truncated: false }
        })
        .collect();
    let targets = f.str("--targets").unwrap_or("q_proj,v_proj");
    // The page's plan with the benchmark's shape: PEFT's default targets (as tools/bench/lm_step_peft.py), one
    // epoch at a small rate, no warm-up.
    let mut plan = LmPlan { lr: 1e-4, epochs: 1, batch_size: batch, warmup_ratio: 0.0, ..default_plan(Method::Lora) };
    plan.lora.target_modules = Some(TargetModules::parse_list(targets));
    plan.base = base;
    plan.gradient_checkpointing = f.on("--gradient-checkpointing");
    let mut trainer = LmTrainer::new(&files, plan, rows, device)?;
    let started = Instant::now();
    block_on(trainer.step())?;
    let first = started.elapsed().as_secs_f64();
    let mut times = Vec::new();
    for _ in 0..steps {
        let t = Instant::now();
        block_on(trainer.step())?;
        times.push(t.elapsed().as_secs_f64());
    }
    let train_peak = peak_rss_mib();
    let (trainable, total) = (trainer.trainable, trainer.total);
    drop(trainer);
    let lm = files.load(None, device)?;
    let prompt: Vec<u32> = (0..16).map(|_| rng.below(vocab) as u32).collect();
    let per_second = |use_cache: bool| -> Result<f64, Error> {
        let sampling = Sampling { use_cache, ..Sampling::greedy(32) };
        let t = Instant::now();
        let n = block_on(generate(&lm.model, &prompt, &[], &sampling, device, |_| true))?.len();
        Ok(n as f64 / t.elapsed().as_secs_f64())
    };
    let cached = per_second(true)?;
    let uncached = per_second(false)?;
    println!(
        "{}",
        json!({
            "model": files.name, "base": base.name(), "batch_size": batch, "seq_len": seq, "targets": targets, "trainable": trainable,
            "total": total, "first_step_s": first, "step_s": median(times.clone()), "steps": times,
            "generate_tokens_per_s": {"cache": cached, "no_cache": uncached}, "train_peak_rss_mib": train_peak, "peak_rss_mib": peak_rss_mib(),
        })
    );
    Ok(())
}
