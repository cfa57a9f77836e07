//! `lora-playground quantize --model LM --to nf4 --out DIR`: the model as transformers + bitsandbytes save it in
//! 4 bits (`model::causal::quantize`), so transformers loads the folder with its `quantization_config` and our
//! commands read it back in 4 bits. One JSON line: the weights' bytes before and after.

use std::path::Path;

use serde_json::json;

use lora_playground::error::Error;
use lora_playground::model::causal::quantize::quantize_nf4;

use super::flags::Flags;
use super::lm_files::{DEFAULT_LM, read_lm};
use super::usage::{exit_code, usage_error};

pub fn run(args: &[String]) -> i32 {
    let f = match Flags::parse(args, &["--model", "--hub", "--to", "--out"], &[]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    exit_code(go(&f))
}

fn go(f: &Flags) -> Result<(), Error> {
    match f.str("--to") {
        Some("nf4") => {}
        Some(other) => return Err(Error::invalid("--to", format!("{other}: only nf4 is written (bitsandbytes' NF4)"))),
        None => return Err(Error::invalid("--to", "--to nf4 is required")),
    }
    let out = Path::new(f.str("--out").ok_or("--out DIR is required (where the 4-bit model folder is written)")?);
    let model = f.str("--model").unwrap_or(DEFAULT_LM);
    if !super::train_lm::wants(Some(model)) {
        return Err(Error::invalid(
            "--model",
            format!("{model}: quantize writes language models (a .gguf file, smollm2, gemma-3-270m, a decoder folder)"),
        ));
    }
    let files = read_lm(model, f.str("--hub"))?;
    let (written, before, after) = quantize_nf4(&files)?;
    std::fs::create_dir_all(out).map_err(|e| Error::invalid("--out", format!("{}: {e}", out.display())))?;
    for (name, data) in &written {
        std::fs::write(out.join(name), data)
            .map_err(|e| Error::invalid("--out", format!("{}: {e}", out.join(name).display())))?;
    }
    println!(
        "{}",
        json!({"model": files.name, "to": "nf4", "out": out.display().to_string(), "weights_bytes_before": before,
               "weights_bytes_after": after, "files": written.iter().map(|(n, _)| n).collect::<Vec<_>>()})
    );
    Ok(())
}
