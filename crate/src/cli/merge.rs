//! `lora-playground merge`: fold a LoRA adapter into the base weights, show on the validation texts that the
//! merged model computes what the adapter did (largest logit difference, same predictions) and what it costs at
//! inference either way (latency), and save the merged model as a transformers folder.

use std::path::Path;
use std::time::Instant;

use lora_playground::data::split::stratified;
use lora_playground::error::Error;
use lora_playground::train::classifier::{Classifier, load_trained};
use lora_playground::train::folder::TrainingRecord;
use lora_playground::train::merge::{MergeCheck, check, merged_files};
use lora_playground::train::plan::Plan;
use serde_json::json;

use super::flags::Flags;
use super::predict::read_folder;
use super::timing::median;
use super::usage::usage_error;
use super::{device, model_files};

pub fn run(args: &[String]) -> i32 {
    let flags = match Flags::parse(
        args,
        &["--model", "--base", "--hub", "--adapter", "--data", "--out", "--device", "--batch-size", "--repeats"],
        &["--json"],
    ) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    // A language model merges as one (`merge_lm`: checked on texts, saved as a transformers folder).
    if super::train_lm::wants(flags.str("--model")) {
        let device = device::parse(flags.str("--device").unwrap_or("cpu")).map_err(Error::from);
        return super::usage::exit_code(device.and_then(|d| super::merge_lm::go(&flags, &d)));
    }
    // A classifier's adapter merges into the float32 base, whatever base it trained on (PEFT's float merge; a
    // 4-bit base's re-quantized merge is the language models' `merge --base nf4`).
    if flags.str("--base").is_some_and(|b| b != "float32") {
        return usage_error(
            "--base: a classifier's adapter merges into its float32 base (one trained on nf4 too); --base float16, nf4 and \
             as-stored merges are for language models (a .gguf file, smollm2, gemma-3-270m, a decoder folder)",
        );
    }
    super::usage::exit_code(go(&flags))
}

/// Seconds per text of one pass over `texts` (after one untimed batch to warm up).
fn per_text_seconds(
    c: &Classifier,
    texts: &[String],
    batch: usize,
    device: &burn::tensor::Device,
) -> Result<f64, Error> {
    c.logits(&texts[..texts.len().min(batch)], batch, device)?;
    let t = Instant::now();
    c.logits(texts, batch, device)?;
    Ok(t.elapsed().as_secs_f64() / texts.len() as f64)
}

fn go(f: &Flags) -> Result<(), Error> {
    let adapter = f.str("--adapter").ok_or("--adapter DIR is required (a LoRA adapter folder: ours or PEFT's)")?;
    let data_spec = f
        .str("--data")
        .ok_or("--data is required: the dataset the adapter was trained on (its validation split is checked)")?;
    let out = f.str("--out").ok_or("--out DIR is required (where the merged model is saved)")?;
    let batch: usize = f.get("--batch-size", 1, "a positive integer")?;
    let repeats: usize = f.get("--repeats", 3, "a positive integer")?;
    if batch == 0 || repeats == 0 {
        return Err("--batch-size and --repeats must be at least 1".into());
    }
    let files = model_files::from_flags(&f)?;
    let device = device::parse(f.str("--device").unwrap_or("cpu"))?;
    let saved = read_folder(Path::new(adapter))?;
    if !saved.contains_key("adapter_config.json") {
        return Err(format!("--adapter {adapter}: no adapter_config.json; only a LoRA adapter can be merged").into());
    }
    let record: TrainingRecord = match saved.get("training.json") {
        Some(b) => serde_json::from_slice(b).map_err(|e| format!("--adapter {adapter}: training.json: {e}"))?,
        None => TrainingRecord::default(),
    };
    let unmerged = load_trained(&files, &saved, &device).map_err(|e| format!("--adapter {adapter}: {e}"))?;

    // The validation texts the run held out (same seed and share as training), or all texts for a PEFT folder.
    let data = super::train::dataset(data_spec)?;
    let defaults = Plan::default();
    let texts: Vec<String> = if saved.contains_key("training.json") {
        let seed = record.seed.unwrap_or(defaults.train.seed);
        let (_, val) =
            stratified(&data.examples, data.labels.len(), record.val_fraction.unwrap_or(defaults.val_fraction), seed);
        val.into_iter().map(|e| e.text).collect()
    } else {
        data.examples.iter().map(|e| e.text.clone()).collect()
    };
    if texts.is_empty() {
        return Err(format!("--data {data_spec}: no texts to check on").into());
    }

    let merged = unmerged.merged();
    let before = unmerged.logits(&texts, 32, &device)?;
    let after = merged.logits(&texts, 32, &device)?;
    let MergeCheck { texts: n, max_abs_logit_diff, same_prediction } = check(&before, &after);
    // Alternate the two so neither gets a warmer machine.
    let (mut t_unmerged, mut t_merged) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        t_unmerged.push(per_text_seconds(&unmerged, &texts, batch, &device)?);
        t_merged.push(per_text_seconds(&merged, &texts, batch, &device)?);
    }
    let (ms_unmerged, ms_merged) = (median(t_unmerged) * 1e3, median(t_merged) * 1e3);

    let max_len = if record.max_len > 0 { record.max_len } else { unmerged.encoder.max_len() };
    let written = merged_files(&merged, &files, max_len)?;
    std::fs::create_dir_all(out).map_err(|e| format!("--out {out}: {e}"))?;
    for (name, bytes) in &written {
        std::fs::write(Path::new(out).join(name), bytes).map_err(|e| format!("--out {out}/{name}: {e}"))?;
    }
    let model_bytes = written.iter().find(|(n, _)| n == "model.safetensors").map_or(0, |(_, b)| b.len());

    if f.on("--json") {
        println!(
            "{}",
            json!({
                "texts": n, "max_abs_logit_diff": max_abs_logit_diff, "same_prediction": same_prediction,
                "batch_size": batch, "repeats": repeats,
                "ms_per_text_unmerged": ms_unmerged, "ms_per_text_merged": ms_merged,
                "out": out, "model_safetensors_bytes": model_bytes,
            })
        );
    } else {
        println!("checked on                 {n} validation texts of {data_spec}");
        println!("largest logit difference   {max_abs_logit_diff:.2e}  (merged vs adapter)");
        println!("same predicted label       {same_prediction} / {n}");
        println!("latency, adapter           {ms_unmerged:.2} ms per text  (batch {batch}, median of {repeats})");
        println!("latency, merged            {ms_merged:.2} ms per text  ({:.2}x)", ms_merged / ms_unmerged);
        println!(
            "saved                      {out}: config.json, model.safetensors ({model_bytes} bytes), tokenizer.json, training.json"
        );
    }
    Ok(())
}
