//! What the training tests share: data, a plan, a comparison, and a turn at burn's process-wide random state.

use lora_playground::data::{Dataset, parse};
use lora_playground::model::causal::files::{LmFiles, LmSource};
use lora_playground::train::config::TrainConfig;
use lora_playground::train::plan::Plan;

/// 36 short texts in three classes (12 each), words the tiny model's vocabulary has.
pub fn keyword_data() -> Dataset {
    let mut jsonl = String::new();
    let words = [("money bank card fee", "bank"), ("school student loan", "school"), ("love great good", "happy")];
    for i in 0..36 {
        let (w, l) = words[i % 3];
        jsonl
            .push_str(&format!("{{\"text\": \"{w} {} {i}\", \"label\": \"{l}\"}}\n", w.split(' ').nth(i % 3).unwrap()));
    }
    parse("d.jsonl", jsonl.as_bytes()).unwrap()
}

/// LoRA (the default plan) for 3 epochs of batch 8: with 30 training texts, 4 steps an epoch.
pub fn tiny_plan() -> Plan {
    Plan {
        max_len: 16,
        train: TrainConfig { epochs: 3, batch_size: 8, lr: 5e-3, seed: 4, ..TrainConfig::default() },
        ..Plan::default()
    }
}

/// The largest absolute difference between two sets of logits (or any rows of floats).
pub fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// burn's CPU random state (dropout) is process-wide and each test seeds it when it prepares a run: tests in one
/// binary that train must not interleave their draws, or a seed stops meaning one run. Each test holds this.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The keyword task of the wasm test as CSV: 6 texts a class, one a class held out.
pub const KEYWORDS_CSV: &str = "text,label\n\
    money bank card fee,bank\nbank card money,bank\nfee card bank money,bank\ncard money fee,bank\nbank fee,bank\nmoney card,bank\n\
    school student loan,school\nstudent loan school,school\nloan school student,school\nschool loan,school\nstudent school,school\nloan student,school\n";

/// The tiny random decoders of `tests/reference/decoder_fixtures.py`.
pub const DECODERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decoder");

/// One of them (`llama`, `qwen2`, `gemma3_text`) as a model folder's files.
pub fn decoder_folder(name: &str) -> LmFiles {
    folder_at(&format!("{DECODERS}/{name}"))
}

/// The model folder at `dir` (config.json, tokenizer.json, model.safetensors).
pub fn folder_at(dir: &str) -> LmFiles {
    let read = |f: &str| std::fs::read(format!("{dir}/{f}")).unwrap();
    LmFiles::new(
        dir,
        LmSource::Folder {
            config_json: String::from_utf8(read("config.json")).unwrap(),
            tokenizer_json: read("tokenizer.json"),
            safetensors: read("model.safetensors"),
            tokenizer_config_json: None,
            chat_template_jinja: None,
        },
    )
}
