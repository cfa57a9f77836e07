//! `lora-playground count`: flags to a `Setup`, the `Report` as a table or JSON.

use std::path::Path;

use lora_playground::accounting::arch::Task;
use lora_playground::accounting::lora_config::{Bias, TargetModules};
use lora_playground::accounting::memory::{Optimizer, Precision};
use lora_playground::accounting::presets::preset_config;
use lora_playground::accounting::report::{AdapterDtype, Setup, compute};

use super::flags::Flags;
use super::usage::usage_error;
use super::{hub, table};

/// A flag problem: the flag and what was wrong with it.
struct Usage(String);

pub fn run(args: &[String]) -> i32 {
    let (setup, json) = match parse(args) {
        Ok(v) => v,
        Err(Usage(m)) => return usage_error(&m),
    };
    match compute(&setup) {
        Ok(report) => {
            if json {
                let mut value = serde_json::to_value(&report).expect("reports serialize");
                value["setup"] = serde_json::to_value(&setup).expect("setups serialize");
                println!("{}", serde_json::to_string_pretty(&value).expect("values serialize"));
            } else {
                print!("{}", table::render(&setup, &report));
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Flags that take a value, and switches; `--lora-alpha` and `--target-modules` are PEFT's names for two of them.
const VALUED: &[&str] = &[
    "--model",
    "--hub",
    "--r",
    "--alpha",
    "--targets",
    "--bias",
    "--layers",
    "--task",
    "--num-labels",
    "--precision",
    "--adapter-dtype",
    "--optimizer",
    "--batch-size",
    "--seq-len",
    "--bottleneck",
    "--virtual-tokens",
];
const SWITCHES: &[&str] = &["--json", "--rslora", "--gradient-checkpointing"];
const ALIASES: &[(&str, &str)] = &[("--lora-alpha", "--alpha"), ("--target-modules", "--targets")];

fn parse(args: &[String]) -> Result<(Setup, bool), Usage> {
    let f = Flags::parse(&Flags::canonical(args, ALIASES), VALUED, SWITCHES).map_err(Usage)?;
    let mut setup = Setup::default();
    setup.lora.use_rslora = f.on("--rslora");
    setup.batch.gradient_checkpointing = f.on("--gradient-checkpointing");
    if let Some(v) = f.str("--r") {
        setup.lora.r = number("--r", v)?;
    }
    if let Some(v) = f.str("--alpha") {
        setup.lora.lora_alpha = v
            .parse::<f64>()
            .ok()
            .filter(|a| a.is_finite())
            .ok_or_else(|| Usage(format!("--alpha: '{v}' is not a number")))?;
    }
    if let Some(v) = f.str("--targets") {
        setup.lora.target_modules = Some(TargetModules::parse_list(v));
    }
    if let Some(v) = f.str("--bias") {
        setup.lora.bias = Bias::parse(v).map_err(|e| Usage(format!("--bias: {}", e.message)))?;
    }
    if let Some(v) = f.str("--layers") {
        let layers: Result<Vec<usize>, _> = v.split(',').map(|s| s.trim().parse::<usize>()).collect();
        setup.lora.layers_to_transform =
            Some(layers.map_err(|_| Usage(format!("--layers: '{v}' is not a comma-separated list of layer numbers")))?);
    }
    if let Some(v) = f.str("--task") {
        setup.task = match v {
            "base" => Task::Base,
            "seq-cls" | "seq_cls" | "SEQ_CLS" => Task::SeqCls,
            other => return Err(Usage(format!("--task: '{other}' is not base or seq-cls"))),
        }
    }
    if let Some(v) = f.str("--num-labels") {
        setup.num_labels = number("--num-labels", v)?;
    }
    if let Some(v) = f.str("--precision") {
        setup.precision = Precision::parse(v).map_err(|e| Usage(format!("--precision: {}", e.message)))?;
    }
    if let Some(v) = f.str("--adapter-dtype") {
        setup.adapter_dtype = match v {
            "fp32" => AdapterDtype::Fp32,
            "bf16" => AdapterDtype::Bf16,
            other => return Err(Usage(format!("--adapter-dtype: '{other}' is not fp32 or bf16"))),
        }
    }
    if let Some(v) = f.str("--optimizer") {
        setup.optimizer = Optimizer::parse(v).map_err(|e| Usage(format!("--optimizer: {}", e.message)))?;
    }
    for (flag, field) in [
        ("--batch-size", &mut setup.batch.batch_size),
        ("--seq-len", &mut setup.batch.seq_len),
        ("--bottleneck", &mut setup.bottleneck),
        ("--virtual-tokens", &mut setup.num_virtual_tokens),
    ] {
        if let Some(v) = f.str(flag) {
            *field = number(flag, v)?;
        }
    }
    let model = f.str("--model").ok_or_else(|| Usage("--model is required".into()))?;
    resolve_model(model, f.str("--hub"), &mut setup)?;
    Ok((setup, f.on("--json")))
}

fn number(flag: &str, v: &str) -> Result<u64, Usage> {
    v.parse::<u64>().map_err(|_| Usage(format!("{flag}: '{v}' is not a whole number")))
}

/// A preset id, a `config.json` file, a folder holding one, or a Hub id (`hf:ORG/NAME`: its config.json only).
fn resolve_model(model: &str, hub_flag: Option<&str>, setup: &mut Setup) -> Result<(), Usage> {
    if preset_config(model).is_some() {
        setup.model = model.to_string();
        return Ok(());
    }
    let fetched;
    let path = match hub::HubId::parse(model) {
        Some(id) => {
            let id = id.map_err(Usage)?;
            fetched =
                hub::fetch(&id, &hub::hub(hub_flag).map_err(Usage)?, &["config.json"], |_, _| Ok(())).map_err(Usage)?;
            fetched.as_path()
        }
        None => Path::new(model),
    };
    let file = if path.is_dir() { path.join("config.json") } else { path.to_path_buf() };
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            setup.model = file.display().to_string();
            setup.config_json = Some(text);
            Ok(())
        }
        Err(e) if path.exists() => Err(Usage(format!("--model: cannot read {}: {e}", file.display()))),
        Err(_) => Err(Usage(format!(
            "--model: '{model}' is neither a preset id, a config.json path nor a Hub id (hf:ORG/NAME)"
        ))),
    }
}
