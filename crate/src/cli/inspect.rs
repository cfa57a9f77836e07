//! `lora-playground inspect`: inside a LoRA adapter, as JSON. For each adapted module the size of the update
//! `scaling * B A` against its frozen weight and the update's singular values (at most `r` are non-zero); with
//! `--full DIR` (a full fine-tuning run of the same base) the spectrum of what full fine-tuning changed there and
//! the share of it in the top `r` directions; with `--compare DIR` (another adapter) the subspace similarity of the
//! two `A` matrices (Hu et al. 2021, section 7).

use std::path::Path;

use burn::tensor::Device;
use lora_playground::error::Error;
use lora_playground::inspect::report::{full_spectra, lora_updates, similarities};
use lora_playground::model::export::named_tensors;
use lora_playground::model::methods::Method;
use lora_playground::train::classifier::base_model;
use lora_playground::train::folder::{Saved, read_saved};
use serde_json::json;

use super::flags::Flags;
use super::model_files;
use super::predict::read_folder;
use super::usage::usage_error;

pub fn run(args: &[String]) -> i32 {
    let flags = match Flags::parse(args, &["--model", "--hub", "--adapter", "--compare", "--full"], &[]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    super::usage::exit_code(go(&flags))
}

fn read(
    flag: &str,
    dir: &str,
    config: &lora_playground::model::config::EncoderConfig,
    want: Method,
) -> Result<Saved, String> {
    let saved = read_saved(config, &read_folder(Path::new(dir))?).map_err(|e| format!("{flag} {dir}: {e}"))?;
    if saved.method != want {
        return Err(
            format!("{flag} {dir}: is a {} run; {flag} takes a {} run", saved.method.name(), want.name()).into()
        );
    }
    Ok(saved)
}

fn go(f: &Flags) -> Result<(), Error> {
    let dir = f.str("--adapter").ok_or("--adapter DIR is required (a LoRA adapter folder: ours or one PEFT saved)")?;
    let files = model_files::from_flags(f)?;
    let config = files.encoder_config()?;
    let adapter = read("--adapter", dir, &config, Method::Lora)?;
    let base = named_tensors(&base_model(&config, &files, &Device::flex())?);
    let updates = lora_updates(&adapter, &base).map_err(|e| format!("--adapter {dir}: {e}"))?;
    let full = match f.str("--full") {
        Some(d) => {
            let run = read("--full", d, &config, Method::Full)?;
            Some(
                full_spectra(&run, &base, &adapter.lora_modules, adapter.lora.r as usize)
                    .map_err(|e| format!("--full {d}: {e}"))?,
            )
        }
        None => None,
    };
    let compare = match f.str("--compare") {
        Some(d) => Some(
            similarities(&adapter, &read("--compare", d, &config, Method::Lora)?)
                .map_err(|e| format!("--compare {d}: {e}"))?,
        ),
        None => None,
    };
    let out = json!({
        "adapter": dir, "r": adapter.lora.r, "scaling": adapter.lora.scaling(), "modules": updates,
        "full": full, "compare": compare,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("figures serialize"));
    Ok(())
}
