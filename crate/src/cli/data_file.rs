//! `--data`'s file, read the one way `train` (both kinds of model) and `export-run` read it. A leaf: commands
//! import it, it imports none of them.

use lora_playground::data::builtin::{BUILTIN, BUILTIN_LM, builtin};
use lora_playground::error::Error;

/// `--data`'s file: `builtin:NAME` (as `NAME.jsonl`) or a file on disk, by the name that picks its format and
/// names it in messages; its bytes; whether it is built in. `train` (both kinds of model) and `export-run` read
/// their data so.
pub fn data_file(spec: &str) -> Result<(String, Vec<u8>, bool), Error> {
    match spec.strip_prefix("builtin:") {
        Some(n) => {
            let text = builtin(n).ok_or_else(|| {
                let names = |sets: &[(&str, &str)]| sets.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
                format!(
                    "--data {spec}: no such built-in dataset (there are: {}; for a language model: {})",
                    names(&BUILTIN),
                    names(&BUILTIN_LM)
                )
            })?;
            Ok((format!("{n}.jsonl"), text.as_bytes().to_vec(), true))
        }
        None => Ok((spec.to_string(), std::fs::read(spec).map_err(|e| format!("--data {spec}: {e}"))?, false)),
    }
}
