//! `lora-playground merge` for a language model: the adapter folded into the base weights (PEFT's
//! `merge_and_unload`), checked on texts (the largest log-probability difference between the adapter and the merged
//! model, and whether their greedy answers agree), saved as a transformers model folder (`config.json`,
//! `tokenizer.json`, `model.safetensors`, the chat template), and that folder read back to the same numbers.
//! On a 4-bit base (`--base nf4`) the merge is PEFT's for bitsandbytes (dequantize, add, quantize again), saved in
//! 4 bits as transformers saves it; the drift the second rounding causes is reported beside the float merge's.

use std::path::Path;

use burn::tensor::Device;
use futures_lite::future::block_on;
use serde_json::json;

use lora_playground::data::lm::{LmRow, lm_rows};
use lora_playground::error::Error;
use lora_playground::model::causal::files::{LmFiles, LmSource};
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::causal::merge::model_safetensors;
use lora_playground::model::causal::quantize::mark_4bit;
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::packed::Base;

use super::flags::Flags;
use super::lm_files::{read_adapter, read_lm};

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs() as f64).fold(0.0, f64::max)
}

pub fn go(f: &Flags, device: &Device) -> Result<(), Error> {
    let adapter = f.str("--adapter").ok_or("--adapter DIR is required (a LoRA adapter folder: ours or PEFT's)")?;
    let out = Path::new(f.str("--out").ok_or("--out DIR is required (where the merged model is saved)")?);
    let base = super::lm_files::base_flag(f)?;
    let files = read_lm(f.str("--model").unwrap_or("smollm2"), f.str("--hub"))?.with_base(base);
    let lm = files.load(Some(&read_adapter(adapter)?), device)?;
    // The texts to check on: --data's rows (prompt and completion together), else the built-in lesson's.
    let (name, bytes) = match f.str("--data") {
        Some(path) => {
            (path.to_string(), std::fs::read(path).map_err(|e| Error::invalid("--data", format!("{path}: {e}")))?)
        }
        None => (
            "lora-lesson.jsonl".into(),
            lora_playground::data::builtin::builtin("lora-lesson").unwrap_or("").as_bytes().to_vec(),
        ),
    };
    let texts: Vec<String> = lm_rows(&name, &bytes)?
        .0
        .iter()
        .take(8)
        .map(|e| match &e.row {
            LmRow::PromptCompletion { prompt, completion } => format!("{prompt}{completion}"),
            LmRow::Messages(turns) => turns.iter().map(|t| t.content.as_str()).collect::<Vec<_>>().join("\n"),
            LmRow::Text(t) => t.clone(),
        })
        .collect();
    let ids: Vec<Vec<u32>> = texts
        .iter()
        .map(|t| lm.tokenizer.encode(t.as_str(), true).map(|e| e.get_ids().to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::invalid(&name, e.to_string()))?;
    let float_merge = lm.model.clone().merge();
    let merged = match base {
        Base::Nf4 => block_on(lm.model.clone().merge_requantized())?,
        // float16 values and a GGUF file's blocks merge in float (transformers widens a GGUF file at load).
        Base::Float32 | Base::Float16 | Base::AsStored => float_merge.clone(),
    };
    let with_adapter = block_on(logprobs(&lm.model, &ids, device))?;
    let with_merged = block_on(logprobs(&merged, &ids, device))?;
    let greedy = |m| block_on(generate(m, &ids[0], &lm.config.eos_token_ids, &Sampling::greedy(16), device, |_| true));
    let adapter_answer = greedy(&lm.model)?;
    let merged_answer = greedy(&merged)?;
    let same_answer = adapter_answer == merged_answer;
    // Greedy tokens that differ from the adapter's, position by position (a shorter answer's missing ones count).
    let changed = |answer: &[u32]| {
        (0..adapter_answer.len().max(answer.len())).filter(|&i| adapter_answer.get(i) != answer.get(i)).count()
    };
    let four_bit = match base {
        Base::Nf4 => {
            let float_answer = greedy(&float_merge)?;
            let with_float = block_on(logprobs(&float_merge, &ids, device))?;
            json!({
                "requantized": {"max_logprob_diff_vs_adapter": max_diff(&with_adapter, &with_merged),
                                "greedy_tokens_changed": changed(&merged_answer), "of": adapter_answer.len()},
                "float_merge": {"max_logprob_diff_vs_adapter": max_diff(&with_adapter, &with_float),
                                "greedy_tokens_changed": changed(&float_answer), "of": adapter_answer.len()},
            })
        }
        Base::Float32 | Base::Float16 | Base::AsStored => serde_json::Value::Null,
    };
    std::fs::create_dir_all(out).map_err(|e| Error::invalid("--out", format!("{}: {e}", out.display())))?;
    let mut written = files.folder_files()?;
    if base == Base::Nf4 {
        mark_4bit(&mut written)?;
    }
    written.push(("model.safetensors".into(), block_on(model_safetensors(&merged, lm.config.flavor))?));
    for (file, data) in &written {
        std::fs::write(out.join(file), data)
            .map_err(|e| Error::invalid("--out", format!("{}: {e}", out.join(file).display())))?;
    }
    // The saved folder, read back as any model folder is.
    let get = |n: &str| written.iter().find(|(f, _)| f == n).map(|(_, d)| d.clone());
    let text = |n: &str| get(n).map(|d| String::from_utf8_lossy(&d).into_owned());
    let reread = LmFiles::new(
        out.display().to_string(),
        LmSource::Folder {
            config_json: text("config.json").unwrap_or_default(),
            tokenizer_json: get("tokenizer.json").unwrap_or_default(),
            safetensors: get("model.safetensors").unwrap_or_default(),
            tokenizer_config_json: None,
            chat_template_jinja: text("chat_template.jinja"),
        },
    )
    .with_base(base)
    .load(None, device)?;
    let from_folder = block_on(logprobs(&reread.model, &ids, device))?;
    println!(
        "{}",
        json!({
            "texts": texts.len(),
            "max_logprob_diff_merged_vs_adapter": max_diff(&with_adapter, &with_merged),
            "max_logprob_diff_saved_vs_merged": max_diff(&with_merged, &from_folder),
            "same_greedy_answer": same_answer,
            "base": base.name(),
            "nf4_merge": four_bit,
            "saved": written.iter().map(|(f, d)| json!({"file": f, "bytes": d.len()})).collect::<Vec<_>>(),
        })
    );
    Ok(())
}
