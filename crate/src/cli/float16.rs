//! `float16 DIR`: writes DIR/model.f16.safetensors, the float16 copy of DIR/model.safetensors that the page
//! downloads by default (half the bytes), and DIR/model.f16.json, what rounding did (`float16::Float16Report`),
//! which the page shows beside the model. Skipped when both are there and made from the file as it is now.

use std::path::Path;

use lora_playground::float16::{Float16Report, to_float16};

pub fn run(args: &[String]) -> i32 {
    let [dir] = args else {
        eprintln!(
            "usage: lora-playground float16 MODEL_DIR   (writes MODEL_DIR/model.f16.safetensors and model.f16.json)"
        );
        return 2;
    };
    match convert(Path::new(dir)) {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(m) => {
            eprintln!("error: {m}");
            1
        }
    }
}

fn convert(dir: &Path) -> Result<String, String> {
    let (source, copy, report_file) =
        (dir.join("model.safetensors"), dir.join("model.f16.safetensors"), dir.join("model.f16.json"));
    let bytes = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    let (half, report) =
        to_float16("model.safetensors", &bytes).map_err(|e| format!("{}: {}", source.display(), e.message))?;
    let previous = std::fs::read(&report_file).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let current = previous.is_some_and(|p| p["source_sha256"] == report.source_sha256.as_str())
        && std::fs::metadata(&copy).is_ok_and(|m| m.len() == report.bytes);
    if !current {
        write(&copy, &half)?;
        write(&report_file, serde_json::to_string_pretty(&report).expect("plain data").as_bytes())?;
    }
    Ok(summary(&copy, &report, current))
}

/// Written aside and renamed, so a server never sends half a file.
fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn summary(copy: &Path, r: &Float16Report, current: bool) -> String {
    format!(
        "{}{}: {} -> {} bytes; {} tensors rounded ({} weights), {} kept; largest change {:.3e} (relative {:.3e}); {} weights became 0",
        copy.display(),
        if current { " (already made from this file)" } else { "" },
        r.source_bytes,
        r.bytes,
        r.converted,
        r.values,
        r.kept,
        r.max_abs_change,
        r.max_rel_change,
        r.flushed_to_zero
    )
}
