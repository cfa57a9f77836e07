//! Finding and reading a model folder for `train`, `predict` and `bench`.

use std::path::{Path, PathBuf};

use lora_playground::model::files::{ModelFiles, encoder_config};
use lora_playground::safetensors::SafeTensors;

/// The files a model folder holds, in the order they are fetched (config first: it is checked before the rest).
const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The default model's short name and its Hub id.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
const DEFAULT_HUB_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// `--model`: a folder with config.json, model.safetensors and tokenizer.json, or the default model's name, looked
/// for where the set-up step puts it (`$LP_MODEL_DIR`, `./models/`, the repository's `models/`, `~/.cache/lp/models/`).
pub fn resolve(model: &str) -> Result<(PathBuf, String), String> {
    let direct = PathBuf::from(model);
    if direct.is_dir() {
        return Ok((direct, model.to_string()));
    }
    let short = model.rsplit('/').next().unwrap_or(model);
    if short == DEFAULT_MODEL {
        let mut places: Vec<PathBuf> = Vec::new();
        if let Ok(dir) = std::env::var("LP_MODEL_DIR") {
            places.push(dir.into());
        }
        places.push(Path::new("models").join(DEFAULT_MODEL));
        places.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(DEFAULT_MODEL));
        if let Ok(home) = std::env::var("HOME") {
            places.push(Path::new(&home).join(".cache/lp/models").join(DEFAULT_MODEL));
        }
        if let Some(found) = places.iter().find(|p| p.join("model.safetensors").is_file()) {
            return Ok((found.clone(), DEFAULT_HUB_ID.to_string()));
        }
        return Err(format!(
            "--model {model}: not found in {}; fetch it with tools/fetch_model.sh models/{DEFAULT_MODEL} (tools/serve.sh and tools/test.sh do)",
            places.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        ));
    }
    Err(format!(
        "--model {model}: no such folder (give a folder with config.json, model.safetensors, tokenizer.json, or {DEFAULT_MODEL})"
    ))
}

/// `--model tiny` is the tiny random BERT the page offers for slow devices (seed 0, as the page loads it);
/// `--model hf:ORG/NAME` a model by Hub id from `hub` (`--hub`, `$LP_HUB` or the Hugging Face Hub).
pub fn read(model: &str, hub: Option<&str>) -> Result<ModelFiles, String> {
    if model == "tiny" {
        return Ok(lora_playground::model::tiny::files(0));
    }
    let (dir, name) = match super::hub::HubId::parse(model) {
        Some(id) => {
            let id = id?;
            // The architecture is checked from config.json before the weights are fetched.
            let check = |file: &str, path: &Path| match file {
                "config.json" => {
                    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
                    encoder_config(&text).map(|_| ()).map_err(|e| format!("--model {model}: config.json: {e}"))
                }
                "model.safetensors" => {
                    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                    SafeTensors::parse(file, &bytes).map(|_| ()).map_err(|e| format!("--model {model}: {e}"))
                }
                _ => Ok(()),
            };
            (super::hub::fetch(&id, &super::hub::hub(hub)?, &FILES, check)?, id.repo)
        }
        None => resolve(model)?,
    };
    let file = |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("{}: {e}", dir.join(f).display()));
    let config_json =
        String::from_utf8(file("config.json")?).map_err(|_| format!("{}/config.json is not UTF-8", dir.display()))?;
    let files = ModelFiles {
        name,
        config_json,
        safetensors: file("model.safetensors")?,
        tokenizer_json: file("tokenizer.json")?,
    };
    let config = files.encoder_config().map_err(|e| format!("{}/config.json: {e}", dir.display()))?;
    lora_playground::model::matching::check(&files, &config).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(files)
}

/// `tiny-model --out DIR`: the tiny model as a folder, to try loading a folder (in the page, or `--model DIR`).
pub fn write_tiny(args: &[String]) -> i32 {
    let flags = match super::flags::Flags::parse(args, &["--out"], &[]) {
        Ok(f) => f,
        Err(m) => return super::usage::usage_error(&m),
    };
    let Some(out) = flags.str("--out").map(Path::new) else {
        return super::usage::usage_error("tiny-model needs --out DIR");
    };
    let files = lora_playground::model::tiny::files(0);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(out)?;
        std::fs::write(out.join("config.json"), &files.config_json)?;
        std::fs::write(out.join("tokenizer.json"), &files.tokenizer_json)?;
        std::fs::write(out.join("model.safetensors"), &files.safetensors)
    };
    match write() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: --out {}: {e}", out.display());
            1
        }
    }
}

/// The model `--model` (and `--hub`) name.
pub fn from_flags(f: &super::flags::Flags) -> Result<ModelFiles, String> {
    read(f.str("--model").unwrap_or(DEFAULT_MODEL), f.str("--hub"))
}
