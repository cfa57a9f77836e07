//! `lora-playground quantize --to nf4`: a language model written as transformers + bitsandbytes save a model loaded
//! with `BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
//! bnb_4bit_compute_dtype=float32)`: every linear layer of the blocks in NF4 (`bnb::saved`'s tensors), the
//! embeddings, norms and an untied head in float32, `config.json` with transformers' `quantization_config`. The
//! test compares the file with the one transformers saved for the same model, byte for byte.

use serde_json::{Value as Json, json};

use super::files::LmFiles;
use super::gguf;
use crate::bnb::Nf4Tensor;
use crate::bnb::saved::{self, Saved};
use crate::error::Error;
use crate::gguf::Gguf;
use crate::safetensors::{Raw, SafeTensors, write};

/// transformers' `BitsAndBytesConfig.to_dict()` for NF4 with double quantization and float32 compute, as it
/// writes it into config.json.
fn quantization_config() -> Json {
    json!({
        "_load_in_4bit": true, "_load_in_8bit": false, "bnb_4bit_compute_dtype": "float32",
        "bnb_4bit_quant_storage": "uint8", "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": true,
        "llm_int8_enable_fp32_cpu_offload": false, "llm_int8_has_fp16_weight": false, "llm_int8_skip_modules": null,
        "llm_int8_threshold": 6.0, "load_in_4bit": true, "load_in_8bit": false, "quant_method": "bitsandbytes"
    })
}

/// A model folder's files (`LmFiles::folder_files`) with transformers' `quantization_config` in `config.json`:
/// the weights beside them are 4-bit.
pub fn mark_4bit(folder: &mut [(String, Vec<u8>)]) -> Result<(), Error> {
    let config = folder
        .iter_mut()
        .find(|(f, _)| f == "config.json")
        .ok_or_else(|| Error::internal("config.json", "a model folder without config.json"))?;
    let mut c: Json = serde_json::from_slice(&config.1).map_err(|e| Error::json("config.json", &e))?;
    c["quantization_config"] = quantization_config();
    config.1 = serde_json::to_vec_pretty(&c).expect("JSON serializes");
    Ok(())
}

/// The model's folder in 4 bits: (file name, bytes) for `model.safetensors`, `config.json`, `tokenizer.json` and
/// the chat template when the model has one; and the bytes of the weights before and after.
pub fn quantize_nf4(files: &LmFiles) -> Result<(Vec<(String, Vec<u8>)>, u64, u64), Error> {
    let config = files.config()?;
    let linear: std::collections::BTreeSet<String> =
        super::linear_modules(&config).into_iter().map(|m| format!("{m}.weight")).collect();
    let (model_bytes, before) = match &files.source {
        super::files::LmSource::Folder { safetensors, .. } => {
            (weights_nf4(&SafeTensors::parse("model.safetensors", safetensors)?, &linear)?, safetensors.len())
        }
        super::files::LmSource::Gguf(bytes) => {
            let g = Gguf::parse(&files.name, bytes)?;
            (weights_nf4(&gguf::weights(&g, bytes)?, &linear)?, bytes.len())
        }
    };
    let mut out = files.folder_files()?;
    mark_4bit(&mut out)?;
    let after = model_bytes.len() as u64;
    out.push(("model.safetensors".to_string(), model_bytes));
    Ok((out, before as u64, after))
}

/// Every tensor of `weights`: those named in `linear` in NF4, the rest float32; transformers leaves a tied head
/// out, and so does the model's file.
fn weights_nf4(weights: &SafeTensors, linear: &std::collections::BTreeSet<String>) -> Result<Vec<u8>, Error> {
    let mut saved: Vec<Saved> = Vec::new();
    for name in weights.entries.keys() {
        let (values, shape) = weights.f32(name)?;
        if linear.contains(name) {
            saved.extend(saved::tensors(name, &Nf4Tensor::quantize(&values, &shape)));
        } else {
            saved.push(Saved::F32(name.clone(), shape, values));
        }
    }
    let raw: Vec<Raw> = saved.iter().map(Saved::raw).collect();
    Ok(write(&raw))
}
