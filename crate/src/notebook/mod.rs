//! A run carried out of the page: the same model, data and settings as a Hugging Face PEFT script and the same
//! code as a Jupyter notebook (`cells.rs`), for a GPU, a course's next notebook, or `accelerate launch` on several
//! GPUs. Rendered from the templates in `templates/` with minijinja (the kept Jinja engine the chat templates
//! already use); every value is put in as a Python literal (`python.rs`) from the run's plan, so nothing in the
//! script is typed by hand.

mod cells;
mod python;

use minijinja::{AutoEscape, Environment, Value as Jinja};
use serde_json::{Value, json};

use crate::accounting::lora_config::{LoraConfig, TargetModules};
use crate::error::Error;
use crate::model::methods::Method;
use crate::model::packed::Base;
use crate::train::causal::trainer::LmPlan;
use crate::train::plan::Plan;

pub use cells::notebook;

/// The packages the script imports, as `pip` takes them, and the versions it was checked with here.
const REQUIREMENTS: &str = "torch transformers peft accelerate";
const CHECKED_WITH: &str = "torch 2.15, transformers 5.25, peft 0.21.2, accelerate 1.16";

/// What was trained.
pub enum Run {
    /// A sequence classifier: its plan and the classes the data had (sorted, as the page sorts them).
    Classifier { plan: Plan, labels: Vec<String> },
    /// A language model: its plan, the tokens per row and the share of rows held out.
    CausalLm { plan: LmPlan, max_len: usize, val_fraction: f64 },
}

/// A run and where its parts are.
pub struct RunExport {
    pub run: Run,
    /// What `from_pretrained` is given: a Hub id or a local folder.
    pub model: String,
    /// The GGUF file in `model` the page read, if it read one (transformers dequantizes it at load, as the page).
    pub gguf_file: Option<String>,
    /// The data file's name; the file is written beside the script.
    pub data_file: String,
    /// The data is one of the page's built-in sets (then written out for the script).
    pub builtin_data: bool,
    /// PEFT's `print_trainable_parameters()` line as the page showed it for this setup.
    pub page_figure: String,
    /// Where the run came from, one sentence for the notebook's first cell.
    pub origin: String,
}

/// The script's file name; the notebook's is `run.ipynb`.
pub const SCRIPT: &str = "run.py";
pub const NOTEBOOK: &str = "run.ipynb";

/// `run.py`, `run.ipynb` and the data file (`data`, as it was uploaded or built in), by name.
pub fn files(export: &RunExport, data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let script = script(export)?;
    Ok(vec![
        (NOTEBOOK.into(), notebook(&script).into_bytes()),
        (SCRIPT.into(), script.into_bytes()),
        (export.data_file.clone(), data.to_vec()),
    ])
}

/// The Python script (percent format: its `# %%` marks are the notebook's cells).
pub fn script(export: &RunExport) -> Result<String, Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    for (name, text) in [
        ("classifier.py", include_str!("templates/classifier.py")),
        ("causal.py", include_str!("templates/causal.py")),
        ("intro.py", include_str!("templates/intro.py")),
        ("count.py", include_str!("templates/count.py")),
        ("settings.py", include_str!("templates/settings.py")),
        ("read.py", include_str!("templates/read.py")),
        ("split.py", include_str!("templates/split.py")),
    ] {
        env.add_template(name, text).map_err(|e| Error::invalid("notebook", format!("template {name}: {e}")))?;
    }
    let (name, context) = match &export.run {
        Run::Classifier { plan, labels } => ("classifier.py", classifier(export, plan, labels)?),
        Run::CausalLm { plan, max_len, val_fraction } => ("causal.py", causal(export, plan, *max_len, *val_fraction)?),
    };
    let template = env.get_template(name).expect("added above");
    template.render(Jinja::from_serialize(&context)).map_err(|e| Error::invalid("notebook", e.to_string()))
}

/// `from_pretrained`'s arguments for a model the page or `train` named: a GGUF file is read from the folder that
/// holds it (`.` when only its name is known), anything else is what it is (a Hub id, a folder).
pub fn model_and_gguf(name: &str, folder: Option<String>) -> (String, Option<String>) {
    match name.rsplit(['/', '\\']).next().filter(|f| f.to_ascii_lowercase().ends_with(".gguf")) {
        Some(file) => (folder.unwrap_or_else(|| ".".into()), Some(file.to_string())),
        None => (name.to_string(), None),
    }
}

fn lit(v: Value) -> String {
    python::literal(&v)
}

/// What every template fills in the same way.
fn common(export: &RunExport, method: Method, lora: &LoraConfig, lora_dropout: f64) -> serde_json::Map<String, Value> {
    let target_modules = match &lora.target_modules {
        Some(TargetModules::Names(n)) => lit(json!(n)),
        Some(TargetModules::Shorthand(s)) => lit(json!(s)),
        None => "None".into(),
    };
    let data_note = if export.builtin_data {
        "the page's built-in set, written beside this file"
    } else {
        "the file the page trained on, written beside this file"
    };
    let method_note = match method {
        Method::Lora => "LoRA: the base frozen, a low-rank pair trained per adapted layer",
        Method::Full => "full fine-tuning: every weight trains",
        Method::Head => "head-only: only the new classification head trains",
        Method::Bitfit => "BitFit: only the biases (and a new head) train",
    };
    let mut m = serde_json::Map::new();
    for (k, v) in [
        ("origin", json!(export.origin)),
        ("requirements", json!(REQUIREMENTS)),
        ("checked_with", json!(CHECKED_WITH)),
        ("script_name", json!(SCRIPT)),
        ("model", json!(lit(json!(export.model)))),
        ("data_file", json!(lit(json!(export.data_file)))),
        ("data_note", json!(data_note)),
        ("output_dir", json!(lit(json!(format!("{}-run", method.name()))))),
        ("method", json!(lit(json!(method.name())))),
        ("method_name", json!(method.name())),
        ("method_note", json!(method_note)),
        ("r", json!(lora.r.to_string())),
        ("lora_alpha", json!(python::float(lora.lora_alpha))),
        ("target_modules", json!(target_modules)),
        ("layers_to_transform", json!(lit(json!(lora.layers_to_transform)))),
        ("bias", json!(lit(json!(lora.bias)))),
        ("use_rslora", json!(lit(json!(lora.use_rslora)))),
        ("lora_dropout", json!(python::float(lora_dropout))),
        ("page_figure", json!(lit(json!(export.page_figure)))),
    ] {
        m.insert(k.into(), v);
    }
    m
}

fn classifier(export: &RunExport, plan: &Plan, labels: &[String]) -> Result<Value, Error> {
    let mut m = common(export, plan.method, &plan.lora, plan.lora_dropout);
    let t = &plan.train;
    let qlora = plan.base == Base::Nf4;
    if qlora && plan.method != Method::Lora {
        // The page trains the head (and BitFit's biases) over a 4-bit base; transformers' Trainer refuses a 4-bit
        // model without a PEFT adapter on it.
        return Err(Error::invalid(
            "method",
            "the notebook runs QLoRA with LoRA only: transformers' Trainer will not train a 4-bit model without a \
             PEFT adapter (export this method on the float32 base)",
        ));
    }
    let requirements = if qlora { format!("`{REQUIREMENTS} bitsandbytes`") } else { format!("`{REQUIREMENTS}`") };
    let save_note = match plan.method {
        Method::Lora => {
            "PEFT's adapter folder (`adapter_config.json`, `adapter_model.safetensors`) and `training.json`."
        }
        Method::Full => "The whole model as transformers saves it, with `training.json`.",
        Method::Head | Method::Bitfit => {
            "The trained tensors (`trained.safetensors`) and `training.json`, as the page saves them."
        }
    };
    for (k, v) in [
        ("title", json!(format!("{} of {} on {}", title(plan.method), export.model, export.data_file))),
        ("requirements_text", json!(requirements)),
        ("qlora", json!(qlora)),
        ("labels", json!(lit(json!(labels)))),
        ("max_len", json!(plan.max_len.to_string())),
        ("val_fraction", json!(python::float(plan.val_fraction))),
        ("seed", json!(t.seed.to_string())),
        ("task_type", json!(lit(json!("SEQ_CLS")))),
        ("modules_to_save", json!(lit(json!(["classifier", "score"])))),
        ("modules_to_save_note", json!("the new classification head trains in full (PEFT's SEQ_CLS default)")),
        ("learning_rate", json!(python::float(t.lr))),
        ("epochs", json!(t.epochs.to_string())),
        ("batch_size", json!(t.batch_size.to_string())),
        ("weight_decay", json!(python::float(t.weight_decay))),
        ("weight_decay_zero", json!(t.weight_decay == 0.0)),
        ("max_grad_norm", json!(python::float(t.max_grad_norm))),
        ("warmup_ratio", json!(python::float(t.warmup_ratio))),
        ("save_note", json!(save_note)),
    ] {
        m.insert(k.into(), v);
    }
    Ok(Value::Object(m))
}

fn causal(export: &RunExport, plan: &LmPlan, max_len: usize, val_fraction: f64) -> Result<Value, Error> {
    if plan.method == Method::Head {
        return Err(Error::invalid("method", "head-only is for classifiers: a language model has no new head"));
    }
    let mut m = common(export, plan.method, &plan.lora, plan.lora_dropout);
    let qlora = plan.base == Base::Nf4;
    let requirements = if qlora { format!("`{REQUIREMENTS} bitsandbytes`") } else { format!("`{REQUIREMENTS}`") };
    let (model_note, gguf_note) = match &export.gguf_file {
        Some(_) => (
            "the folder that holds the GGUF file (the page's model)",
            "transformers reads it and widens it to float32, as the page did; a Hub id of the float original \
             (with GGUF_FILE = None) trains from unrounded weights",
        ),
        None => {
            ("a Hub id, or a folder with config.json, tokenizer files and model.safetensors", "None: not a GGUF file")
        }
    };
    let base_note = match plan.base {
        Base::Nf4 => "QLoRA: the frozen linear layers in 4-bit NF4 (bitsandbytes), as the page held them",
        // transformers widens a GGUF file's blocks at load: the same values the page read from them.
        Base::AsStored => {
            "the page kept the GGUF file's blocks; transformers widens them to float32: the same weights, more memory"
        }
        Base::Float32 => "the frozen weights in float32, as the page held them",
        Base::Float16 => {
            "the page stored the frozen weights in float16 and computed in float32; this script loads float32"
        }
    };
    for (k, v) in [
        ("title", json!(format!("{} of {} on {}", title(plan.method), export.model, export.data_file))),
        ("requirements_text", json!(requirements)),
        ("model_note", json!(model_note)),
        ("gguf_file", json!(lit(json!(export.gguf_file)))),
        ("gguf_note", json!(gguf_note)),
        ("base", json!(lit(json!(plan.base.name())))),
        ("base_note", json!(base_note)),
        ("qlora", json!(qlora)),
        ("gradient_checkpointing", json!(plan.gradient_checkpointing)),
        ("task_type", json!(lit(json!("CAUSAL_LM")))),
        ("modules_to_save", json!("None")),
        ("modules_to_save_note", json!("a language model keeps its own output head: nothing new to train in full")),
        ("max_len", json!(max_len.to_string())),
        ("val_fraction", json!(python::float(val_fraction))),
        ("seed", json!(plan.seed.to_string())),
        ("learning_rate", json!(python::float(plan.lr))),
        ("epochs", json!(plan.epochs.to_string())),
        ("batch_size", json!(plan.batch_size.to_string())),
        ("weight_decay", json!(python::float(plan.weight_decay))),
        ("weight_decay_zero", json!(plan.weight_decay == 0.0)),
        ("max_grad_norm", json!(python::float(plan.max_grad_norm))),
        ("warmup_ratio", json!(python::float(plan.warmup_ratio))),
    ] {
        m.insert(k.into(), v);
    }
    Ok(Value::Object(m))
}

fn title(method: Method) -> &'static str {
    match method {
        Method::Lora => "LoRA fine-tuning",
        Method::Full => "Full fine-tuning",
        Method::Head => "Head-only training",
        Method::Bitfit => "BitFit",
    }
}
