//! What the job and resume tests share (each is its own binary, so each draws from burn's random state alone).

use lora_playground::data::{Dataset, parse};
use lora_playground::train::plan::Plan;
use lora_playground::train::config::TrainConfig;

/// 36 short texts in three classes (12 each), words the tiny model's vocabulary has.
pub fn keyword_data() -> Dataset {
    let mut jsonl = String::new();
    let words = [("money bank card fee", "bank"), ("school student loan", "school"), ("love great good", "happy")];
    for i in 0..36 {
        let (w, l) = words[i % 3];
        jsonl.push_str(&format!("{{\"text\": \"{w} {} {i}\", \"label\": \"{l}\"}}\n", w.split(' ').nth(i % 3).unwrap()));
    }
    parse("d.jsonl", jsonl.as_bytes()).unwrap()
}

/// LoRA (the default plan) for 3 epochs of batch 8: with 30 training texts, 4 steps an epoch.
pub fn tiny_plan() -> Plan {
    Plan { max_len: 16, train: TrainConfig { epochs: 3, batch_size: 8, lr: 5e-3, seed: 4, ..TrainConfig::default() }, ..Plan::default() }
}

/// The largest absolute difference between two sets of logits (or any rows of floats).
#[allow(dead_code)] // not every test binary that shares this module compares logits
pub fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}
