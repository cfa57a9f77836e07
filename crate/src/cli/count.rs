//! `lora-playground count`: flags to a `Setup`, the `Report` as a table or JSON.

use std::path::Path;

use lora_playground::accounting::arch::Task;
use lora_playground::accounting::lora_config::{Bias, TargetModules};
use lora_playground::accounting::memory::{Optimizer, Precision};
use lora_playground::accounting::presets::preset_config;
use lora_playground::accounting::report::{AdapterDtype, Setup, compute};

use super::{hub, table, usage_error};

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

fn parse(args: &[String]) -> Result<(Setup, bool), Usage> {
    let mut setup = Setup::default();
    let mut json = false;
    let mut model: Option<String> = None;
    let mut hub_flag: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        // `--flag=value` and `--flag value` both work.
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (flag, None),
        };
        let mut value = || -> Result<String, Usage> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            i += 1;
            args.get(i).cloned().ok_or_else(|| Usage(format!("{name} needs a value")))
        };
        match name {
            "--json" => json = true,
            "--rslora" => setup.lora.use_rslora = true,
            "--model" => model = Some(value()?),
            "--hub" => hub_flag = Some(value()?),
            "--r" => setup.lora.r = number(name, &value()?)?,
            "--alpha" | "--lora-alpha" => {
                let v = value()?;
                setup.lora.lora_alpha = v
                    .parse::<f64>()
                    .ok()
                    .filter(|a| a.is_finite())
                    .ok_or_else(|| Usage(format!("{name}: '{v}' is not a number")))?
            }
            "--targets" | "--target-modules" => setup.lora.target_modules = Some(TargetModules::parse_list(&value()?)),
            "--bias" => {
                setup.lora.bias = Bias::parse(&value()?).map_err(|e| Usage(format!("--bias: {}", e.message)))?
            }
            "--layers" => {
                let v = value()?;
                let layers: Result<Vec<usize>, _> = v.split(',').map(|s| s.trim().parse::<usize>()).collect();
                setup.lora.layers_to_transform =
                    Some(layers.map_err(|_| {
                        Usage(format!("--layers: '{v}' is not a comma-separated list of layer numbers"))
                    })?);
            }
            "--task" => {
                setup.task = match value()?.as_str() {
                    "base" => Task::Base,
                    "seq-cls" | "seq_cls" | "SEQ_CLS" => Task::SeqCls,
                    other => return Err(Usage(format!("--task: '{other}' is not base or seq-cls"))),
                }
            }
            "--num-labels" => setup.num_labels = number(name, &value()?)?,
            "--precision" => {
                setup.precision =
                    Precision::parse(&value()?).map_err(|e| Usage(format!("--precision: {}", e.message)))?
            }
            "--adapter-dtype" => {
                setup.adapter_dtype = match value()?.as_str() {
                    "fp32" => AdapterDtype::Fp32,
                    "bf16" => AdapterDtype::Bf16,
                    other => return Err(Usage(format!("--adapter-dtype: '{other}' is not fp32 or bf16"))),
                }
            }
            "--optimizer" => {
                setup.optimizer =
                    Optimizer::parse(&value()?).map_err(|e| Usage(format!("--optimizer: {}", e.message)))?
            }
            "--batch-size" => setup.batch.batch_size = number(name, &value()?)?,
            "--seq-len" => setup.batch.seq_len = number(name, &value()?)?,
            "--bottleneck" => setup.bottleneck = number(name, &value()?)?,
            "--virtual-tokens" => setup.num_virtual_tokens = number(name, &value()?)?,
            other => return Err(Usage(format!("unknown option '{other}'"))),
        }
        i += 1;
    }
    let model = model.ok_or_else(|| Usage("--model is required".into()))?;
    resolve_model(&model, hub_flag.as_deref(), &mut setup)?;
    Ok((setup, json))
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
