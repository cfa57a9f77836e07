//! `lora-playground export-run --run DIR [--to notebook|script|both] [--out DIR] [--model M] [--data FILE]`: a
//! saved run (`train`'s folder, a classifier's or a language model's) as a Hugging Face PEFT notebook and script
//! (`notebook`), with its data file beside them, for a GPU, a course's next notebook or `accelerate launch`.
//! `--model` names the model as the student has it (a Hub id or a local folder); `--data` the data for runs saved
//! before `training.json` recorded it. Without `--run`, a plan not yet trained: `train`'s flags (`--data`,
//! `--model`, `--method`, `--r`, ...) with their defaults. One JSON line: what was written.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use lora_playground::accounting::report::peft_line;
use lora_playground::error::Error;
use lora_playground::notebook::{self, Run, RunExport, model_and_gguf};
use lora_playground::train::causal::plan::plan_from_json;
use lora_playground::train::folder::expected_counts;
use lora_playground::train::plan::Plan;

use super::flags::Flags;
use super::usage::{exit_code, usage_error};

pub fn run(args: &[String]) -> i32 {
    let valued: Vec<&str> = ["--run", "--to"].iter().chain(super::train::VALUED).copied().collect();
    let f = match Flags::parse(args, &valued, &["--rslora", "--quiet", "--gradient-checkpointing"]) {
        Ok(f) => f,
        Err(m) => return usage_error(&m),
    };
    exit_code(go(&f))
}

fn go(f: &Flags) -> Result<(), Error> {
    let to = f.str("--to").unwrap_or("both");
    if !matches!(to, "notebook" | "script" | "both") {
        return Err(Error::invalid("--to", format!("must be notebook, script or both, not {to:?}")));
    }
    let (export, data, out) = match f.str("--run") {
        Some(dir) => from_run(f, Path::new(dir))?,
        None => from_plan(f)?,
    };
    let files = notebook::files(&export, &data)?;
    std::fs::create_dir_all(&out).map_err(|e| Error::invalid("--out", format!("{}: {e}", out.display())))?;
    let mut written = Vec::new();
    for (file, bytes) in files {
        let wanted = match file.as_str() {
            notebook::NOTEBOOK => to != "script",
            notebook::SCRIPT => to != "notebook",
            _ => true,
        };
        if wanted {
            let p = out.join(&file);
            std::fs::write(&p, &bytes).map_err(|e| Error::invalid("--out", format!("{}: {e}", p.display())))?;
            written.push(p.display().to_string());
        }
    }
    println!("{}", json!({"out": out.display().to_string(), "files": written, "model": export.model}));
    Ok(())
}

/// A plan not yet trained, from `train`'s flags: the model read as `train` reads it (for its counts), the data
/// parsed as `train` parses it (for its classes).
fn from_plan(f: &Flags) -> Result<(RunExport, Vec<u8>, PathBuf), Error> {
    let spec = f.str("--data").ok_or("give --run DIR (a saved run), or --data and train's flags (a plan)")?;
    let out = PathBuf::from(f.str("--out").ok_or("--out DIR is required with a plan")?);
    let (data_file, data, builtin_data) = read_data(spec)?;
    let origin = "Settings given to `lora-playground export-run`, as a Hugging Face PEFT script.".to_string();
    let model = f.str("--model");
    if super::train_lm::wants(model) {
        let (plan, max_len, val_fraction) = super::train_lm::plan(f)?;
        let m = model.unwrap_or_default();
        // Read as `train` reads it: a short name (smollm2) becomes its GGUF file, whose folder the student names.
        let files = super::lm_files::read_lm(m, f.str("--hub"))?;
        let (model, gguf_file) = if Path::new(m).exists() { local_model(m) } else { model_and_gguf(&files.name, None) };
        let run = Run::CausalLm { plan, max_len, val_fraction };
        let page_figure = "(counted when the run starts)".to_string();
        return Ok((RunExport { run, model, gguf_file, data_file, builtin_data, page_figure, origin }, data, out));
    }
    if f.on("--gradient-checkpointing") {
        let why = super::train_lm::CHECKPOINTING_IS_FOR_LMS.trim_start_matches("--gradient-checkpointing ");
        return Err(Error::invalid("--gradient-checkpointing", why));
    }
    let plan = super::train::plan(f).map_err(|m| Error::invalid("plan", m))?;
    let labels = super::train::dataset(spec)?.labels;
    let files = super::model_files::from_flags(f)?;
    let counts = expected_counts(&files, &plan, labels.len());
    let page_figure = counts.map_or_else(|| "(counted when the run starts)".into(), |(t, a)| peft_line(t, a));
    let (model, gguf_file) = match model {
        Some(m) => local_model(m),
        None => model_and_gguf(&files.name, None),
    };
    let run = Run::Classifier { plan, labels };
    Ok((RunExport { run, model, gguf_file, data_file, builtin_data, page_figure, origin }, data, out))
}

/// A folder `train` saved, from its `training.json`.
fn from_run(f: &Flags, dir: &Path) -> Result<(RunExport, Vec<u8>, PathBuf), Error> {
    let out = f.str("--out").map_or_else(|| dir.to_path_buf(), PathBuf::from);
    let path = dir.join("training.json");
    let text = std::fs::read(&path).map_err(|e| Error::invalid("--run", format!("{}: {e}", path.display())))?;
    let record: Value = serde_json::from_slice(&text).map_err(|e| Error::json("training.json", &e))?;
    let get = |key: &str| record.get(key).filter(|v| !v.is_null());
    let plan = get("plan").ok_or_else(|| {
        Error::invalid("training.json", "has no `plan` (a folder from before plans were recorded): train it again")
    })?;
    let data_spec =
        f.str("--data").map(str::to_string).or_else(|| get("data").and_then(Value::as_str).map(String::from));
    let data_spec = data_spec.ok_or_else(|| {
        Error::invalid("training.json", "does not name its data (a run from before export-run): give --data FILE")
    })?;
    let (data_file, data, builtin_data) = read_data(&data_spec)?;
    let number = |key: &str| get(key).and_then(Value::as_u64);
    let figure = match (number("trainable"), number("all").or_else(|| number("total"))) {
        (Some(t), Some(a)) => peft_line(t, a),
        _ => "(not recorded by this run)".into(),
    };
    let (name, run) = if let Some(labels) = get("labels") {
        let labels: Vec<String> =
            serde_json::from_value(labels.clone()).map_err(|e| Error::json("training.json", &e))?;
        let name = get("base_model").and_then(Value::as_str).unwrap_or_default().to_string();
        (name, Run::Classifier { plan: Plan::from_json(plan)?, labels })
    } else {
        let name = get("model").and_then(Value::as_str).unwrap_or_default().to_string();
        let max_len = number("max_len").ok_or_else(|| Error::invalid("training.json", "has no max_len"))? as usize;
        let val_fraction = get("val_fraction").and_then(Value::as_f64).unwrap_or(0.2);
        (name, Run::CausalLm { plan: plan_from_json(plan)?, max_len, val_fraction })
    };
    let (model, gguf_file) = match f.str("--model") {
        Some(m) => model_and_gguf(m, None),
        None => local_model(&name),
    };
    let export = RunExport {
        run,
        model,
        gguf_file,
        data_file,
        builtin_data,
        page_figure: figure,
        origin: format!("The run `lora-playground train` saved in `{}`, as a Hugging Face PEFT script.", dir.display()),
    };
    Ok((export, data, out))
}

/// The data file as `train` reads it, named by its file name alone: the script finds it beside itself.
fn read_data(spec: &str) -> Result<(String, Vec<u8>, bool), Error> {
    let (name, bytes, builtin) = super::data_file::data_file(spec)?;
    let name = Path::new(&name).file_name().map_or("data.jsonl".into(), |n| n.to_string_lossy().into_owned());
    Ok((name, bytes, builtin))
}

/// A model `train` read from this machine's disk, named by its absolute path so the script finds it from anywhere;
/// a Hub id as it is.
fn local_model(name: &str) -> (String, Option<String>) {
    let path = Path::new(name);
    match path.canonicalize() {
        Ok(abs) if abs.is_file() => model_and_gguf(name, abs.parent().map(|p| p.display().to_string())),
        Ok(abs) => (abs.display().to_string(), None),
        Err(_) => model_and_gguf(name, None),
    }
}
