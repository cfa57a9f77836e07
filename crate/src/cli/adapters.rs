//! `lora-playground adapters`: several saved adapters on one base model, as the page's adapter panel holds them:
//! what each adds, the memory of one base plus N adapters against N fine-tuned copies, and the time to classify
//! a text right after switching to each (round robin, so every call is a switch).

use std::path::Path;
use std::time::Instant;

use lora_playground::error::Error;
use lora_playground::train::adapters::AdapterSet;
use serde_json::json;

use super::flags::Flags;
use super::predict::read_folder;
use super::timing::median;
use super::usage::usage_error;
use super::{device, model_files};

pub fn run(args: &[String]) -> i32 {
    let flags =
        match Flags::parse(args, &["--model", "--hub", "--adapters", "--device", "--text", "--rounds"], &["--json"]) {
            Ok(f) => f,
            Err(m) => return usage_error(&m),
        };
    super::usage::exit_code(go(&flags))
}

fn mib(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn go(f: &Flags) -> Result<(), Error> {
    let dirs: Vec<&str> = f
        .str("--adapters")
        .ok_or("--adapters DIR,DIR,... is required (saved folders: PEFT adapters, ours, head-only or BitFit runs)")?
        .split(',')
        .filter(|d| !d.is_empty())
        .collect();
    let text = f.str("--text").unwrap_or("I was charged a late fee on my student loan payment");
    let rounds: usize = f.get("--rounds", 5, "a positive integer")?;
    if rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    let files = model_files::from_flags(&f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let mut set = AdapterSet::new(&files, &device)?;
    for dir in &dirs {
        let saved = read_folder(Path::new(dir))?;
        set.add(dir, &saved).map_err(|e| format!("--adapters {dir}: {e}"))?;
    }
    // Warm up each once, then time every switch-and-classify in round robin.
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); set.len()];
    for round in 0..=rounds {
        for (i, t) in times.iter_mut().enumerate() {
            let start = Instant::now();
            futures_lite::future::block_on(set.predict(i, text))?;
            if round > 0 {
                t.push(start.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    // The baseline: the first adapter again and again, no switch between calls.
    let mut same = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        futures_lite::future::block_on(set.predict(0, text))?;
        same.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let medians: Vec<f64> = times.into_iter().map(median).collect();
    let ms_same = median(same);
    let m = set.memory();
    let infos = set.infos();
    if f.on("--json") {
        println!(
            "{}",
            json!({"adapters": infos, "memory": m, "ms_switch_and_classify": medians, "ms_same_adapter": ms_same, "rounds": rounds})
        );
        return Ok(());
    }
    println!("base model, held once          {:>10}", mib(m.base_bytes));
    for (info, ms) in infos.iter().zip(&medians) {
        let what = match info.r {
            Some(r) => format!("{} r={r}, {} modules", info.method, info.lora_modules),
            None => info.method.clone(),
        };
        println!("+ {:<28} {:>10}  {what}; switch + classify {ms:.1} ms", info.name, mib(info.bytes));
    }
    let n = infos.len();
    println!("1 base + {n} adapter(s)           {:>10}", mib(m.shared_bytes));
    println!(
        "{n} fine-tuned copies             {:>10}  ({:.1}x)",
        mib(m.copies_bytes),
        m.copies_bytes as f64 / m.shared_bytes as f64
    );
    println!("classify without switching     {ms_same:>7.1} ms  (the first adapter {rounds} times in a row)");
    println!("(float32 parameters on the device; switch + classify: median of {rounds} round-robin calls, one text)");
    Ok(())
}
