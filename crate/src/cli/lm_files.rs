//! Finding and reading a language model for `logprobs` and `generate`: `--model` is a `.gguf` file, a model folder
//! (`config.json`, `tokenizer.json`, `model.safetensors`, and a chat template when it has one), a short name the
//! set-up fetches (`smollm2`, `gemma-3-270m`), or `hf:ORG/NAME`; `--adapter DIR` a PEFT adapter folder.

use std::path::{Path, PathBuf};

use lora_playground::error::Error;
use lora_playground::model::causal::files::{AdapterFiles, LanguageModel, LmFiles, LmSource};
use lora_playground::model::packed::Base;

/// Short names and the GGUF file each stands for (`tools/fetch_gguf.sh NAME` fetches it).
const GGUF_MODELS: [(&str, &str); 3] = [
    ("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("gemma-3-270m", "gemma-3-270m-q4_k_m.gguf"),
];

/// The default language model.
pub const DEFAULT_LM: &str = "smollm2";

const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];
const OPTIONAL: [&str; 2] = ["tokenizer_config.json", "chat_template.jinja"];

/// Where the set-up puts fetched models: `$LP_MODEL_DIR`, `./models/`, the repository's `models/`, `~/.cache/lp/models/`.
fn model_places(file: &str) -> Vec<PathBuf> {
    let mut places = Vec::new();
    if let Ok(dir) = std::env::var("LP_MODEL_DIR") {
        places.push(PathBuf::from(dir).join(file));
    }
    places.push(Path::new("models").join(file));
    places.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../models").join(file));
    if let Ok(home) = std::env::var("HOME") {
        places.push(Path::new(&home).join(".cache/lp/models").join(file));
    }
    places
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::invalid("--model", format!("{}: {e}", path.display())))
}

fn folder(dir: &Path, name: String) -> Result<LmFiles, Error> {
    let text = |f: &str| -> Result<Option<String>, Error> {
        let p = dir.join(f);
        if !p.is_file() {
            return Ok(None);
        }
        String::from_utf8(read(&p)?).map(Some).map_err(|_| Error::invalid(f, format!("{} is not UTF-8", p.display())))
    };
    for f in REQUIRED {
        if !dir.join(f).is_file() {
            return Err(Error::invalid("--model", format!("{} has no {f}", dir.display())));
        }
    }
    Ok(LmFiles::new(
        name,
        LmSource::Folder {
            config_json: text("config.json")?.unwrap_or_default(),
            tokenizer_json: read(&dir.join("tokenizer.json"))?,
            safetensors: read(&dir.join("model.safetensors"))?,
            tokenizer_config_json: text("tokenizer_config.json")?,
            chat_template_jinja: text("chat_template.jinja")?,
        },
    ))
}

/// The language model `--model` names (`hub`: where `hf:` ids come from).
pub fn read_lm(model: &str, hub: Option<&str>) -> Result<LmFiles, Error> {
    let path = Path::new(model);
    if path.is_file() {
        return Ok(LmFiles::new(model.to_string(), LmSource::Gguf(read(path)?.into())));
    }
    if path.is_dir() {
        return folder(path, model.to_string());
    }
    if let Some((short, file)) = GGUF_MODELS.iter().find(|(short, _)| *short == model) {
        let places = model_places(file);
        return match places.iter().find(|p| p.is_file()) {
            Some(p) => Ok(LmFiles::new(file.to_string(), LmSource::Gguf(read(p)?.into()))),
            None => Err(Error::invalid(
                "--model",
                format!(
                    "{short}: {file} not found in {}; fetch it with tools/fetch_gguf.sh {}",
                    places.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
                    if file.starts_with("gemma") { "gemma-3-270m" } else { "smollm2" }
                ),
            )),
        };
    }
    if let Some(id) = super::hub::HubId::parse(model) {
        let id = id.map_err(|m| Error::invalid("--model", m))?;
        let hub = super::hub::hub(hub).map_err(|m| Error::invalid("--hub", m))?;
        let dir = super::hub::fetch(&id, &hub, &REQUIRED, |_, _| Ok(())).map_err(|m| Error::invalid("--model", m))?;
        for f in OPTIONAL {
            // A repository without them is fine (no chat template): a failed fetch of these is not an error.
            let _ = super::hub::fetch(&id, &hub, &[f], |_, _| Ok(()));
        }
        return folder(&dir, id.repo);
    }
    Err(Error::invalid(
        "--model",
        format!("{model}: no such file or folder (a .gguf file, a model folder, smollm2, gemma-3-270m or hf:ORG/NAME)"),
    ))
}

/// The language model `--model` (and `--hub`) names, with the PEFT adapter `--adapter` names if any, on `device`.
pub fn load_from_flags(f: &super::flags::Flags, device: &burn::tensor::Device) -> Result<LanguageModel, Error> {
    let files = read_lm(f.str("--model").unwrap_or(DEFAULT_LM), f.str("--hub"))?.with_base(base_flag(f)?);
    let adapter = f.str("--adapter").map(read_adapter).transpose()?;
    files.load(adapter.as_ref(), device)
}

/// `--base float32|nf4` (QLoRA's 4-bit base with `nf4`); without it, a folder transformers saved in 4 bits (its
/// config.json has a bitsandbytes `quantization_config`) stays in 4 bits, anything else is read as float32.
pub fn base_flag(f: &super::flags::Flags) -> Result<Base, Error> {
    if let Some(b) = f.str("--base") {
        return Base::parse(b).map_err(|m| Error::invalid("--base", m));
    }
    let config = f.str("--model").and_then(|m| std::fs::read_to_string(Path::new(m).join("config.json")).ok());
    let four_bit = config
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|c| c["quantization_config"]["load_in_4bit"] == true);
    Ok(if four_bit { Base::Nf4 } else { Base::Float32 })
}

/// `--adapter DIR`: a PEFT adapter folder (`adapter_config.json`, `adapter_model.safetensors`).
pub fn read_adapter(dir: &str) -> Result<AdapterFiles, Error> {
    let path = Path::new(dir);
    let file = |f: &str| {
        std::fs::read(path.join(f)).map_err(|e| Error::invalid("--adapter", format!("{}: {e}", path.join(f).display())))
    };
    let config_json = String::from_utf8(file("adapter_config.json")?)
        .map_err(|_| Error::invalid("--adapter", format!("{dir}/adapter_config.json is not UTF-8")))?;
    Ok(AdapterFiles { config_json, safetensors: file("adapter_model.safetensors")? })
}
