//! `lora-playground export-gguf --adapter DIR --out FILE.gguf [--model LM]`: a language model's PEFT LoRA adapter
//! as llama.cpp's LoRA GGUF (`model::causal::llama_cpp`), for `llama-cli -m BASE.gguf --lora FILE.gguf`, Ollama's
//! `ADAPTER` and LM Studio on top of the same base GGUF. One JSON line: the file and its tensors.

use serde_json::json;

use lora_playground::error::Error;
use lora_playground::gguf::Gguf;
use lora_playground::model::causal::llama_cpp::lora_gguf;

use super::flags::Flags;
use super::lm_files::{DEFAULT_LM, read_adapter, read_lm};
use super::usage::{exit_code, usage_error};

pub fn run(args: &[String]) -> i32 {
    let f = match Flags::parse(args, &["--model", "--hub", "--adapter", "--out"], &[]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    exit_code(go(&f))
}

fn go(f: &Flags) -> Result<(), Error> {
    let adapter_dir =
        f.str("--adapter").ok_or("--adapter DIR is required (a PEFT LoRA adapter of a language model)")?;
    let out = f.str("--out").ok_or("--out FILE.gguf is required")?;
    let base = read_lm(f.str("--model").unwrap_or(DEFAULT_LM), f.str("--hub"))?;
    let adapter = read_adapter(adapter_dir)?;
    let name = std::path::Path::new(adapter_dir).file_name().map_or("adapter".into(), |n| n.to_string_lossy());
    let bytes = lora_gguf(&base, &adapter, &name)?;
    std::fs::write(out, &bytes).map_err(|e| Error::invalid("--out", format!("{out}: {e}")))?;
    let g = Gguf::parse(out, &bytes)?;
    println!(
        "{}",
        json!({"out": out, "bytes": bytes.len(), "base": base.name, "architecture": g.str("general.architecture")?,
               "lora_alpha": g.f64("adapter.lora.alpha")?, "tensors": g.tensors.len()})
    );
    Ok(())
}
