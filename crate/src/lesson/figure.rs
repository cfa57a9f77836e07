//! The figures a lesson can show (`show="..."`), each read from the calculator's `Report` for the element's setup,
//! so a lesson's figure is exactly what the calculator and `count --json` print for the same settings.

use serde::Serialize;

use crate::accounting::memory::Memory;
use crate::accounting::method_costs::MethodCost;
use crate::accounting::report::{ModuleGroup, Report};
use crate::error::Error;
use crate::lesson::spec::Spec;

/// What a figure counts, which decides how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Count,
    Bytes,
    Percent,
    Ratio,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    pub value: f64,
    pub kind: Kind,
}

/// Every figure name, its kind and what it is (the element reference in the README lists these).
pub const FIGURES: &[(&str, Kind, &str)] = &[
    ("r", Kind::Count, "the rank r itself (to write r = 8 from a control)"),
    ("trainable", Kind::Count, "PEFT's trainable parameters (with method=: that method's)"),
    ("all", Kind::Count, "PEFT's `all params`"),
    ("trainable_percent", Kind::Percent, "PEFT's trainable%"),
    ("lora_params", Kind::Count, "the LoRA matrices alone"),
    ("lora_percent_of_base", Kind::Percent, "the LoRA matrices as a share of the base model"),
    ("head_copy_params", Kind::Count, "the classifier head's trained copy (modules_to_save)"),
    ("trainable_bias_params", Kind::Count, "biases trained by bias=all / lora_only"),
    ("params", Kind::Count, "the base model's parameters"),
    ("modules", Kind::Count, "modules that get LoRA"),
    ("scaling", Kind::Ratio, "lora_alpha / r (or / sqrt(r) with rsLoRA)"),
    ("checkpoint_bytes", Kind::Bytes, "the saved file: adapter_model.safetensors, or the whole model for full"),
    ("full_model_bytes", Kind::Bytes, "model.safetensors of the base model"),
    ("memory", Kind::Bytes, "training memory in all (weights, gradients, optimizer state, activations)"),
    ("weights_memory", Kind::Bytes, "frozen and trainable weights"),
    ("gradients", Kind::Bytes, "gradients"),
    ("optimizer_state", Kind::Bytes, "optimizer state (AdamW: two moments per trainable parameter)"),
    ("activations", Kind::Bytes, "activations kept for the backward pass"),
    ("module_lora", Kind::Count, "LoRA parameters added to one module= : r x (in + out)"),
    ("module_weight", Kind::Count, "parameters of that module's weight: in x out"),
    ("module_reduction", Kind::Ratio, "in x out / (r x (in + out)): how many times fewer"),
    ("module_percent", Kind::Percent, "LoRA parameters as a share of that weight"),
    ("module_in", Kind::Count, "that module's in_features"),
    ("module_out", Kind::Count, "that module's out_features"),
    ("module_count", Kind::Count, "how many modules of that name get LoRA"),
];

/// The methods `method=` names (the calculator's comparison; PEFT's other methods for the counts only).
pub const METHODS: &[&str] =
    &["lora", "full", "head_only", "bitfit", "adapters_houlsby", "prompt_tuning", "prefix_tuning"];

/// Whether LoRA's settings can change the figure (if not, it is computed with any valid `target_modules`).
pub fn uses_lora(spec: &Spec) -> bool {
    let method = spec.get("method").map(str::trim).unwrap_or("lora");
    let show = spec.get("show").map(str::trim).unwrap_or("");
    matches!(method, "lora" | "adapters_houlsby" | "prompt_tuning" | "prefix_tuning")
        && !matches!(show, "params" | "full_model_bytes" | "r")
}

pub fn kind_of(show: &str) -> Option<Kind> {
    FIGURES.iter().find(|(name, _, _)| *name == show).map(|(_, kind, _)| *kind)
}

fn names() -> String {
    FIGURES.iter().map(|(n, _, _)| *n).collect::<Vec<_>>().join(", ")
}

/// The figure `show=` names, for the method and module the spec names.
pub fn figure(report: &Report, spec: &Spec) -> Result<Figure, Error> {
    let show = spec
        .get("show")
        .map(str::trim)
        .ok_or_else(|| Error::invalid("show", "missing: say which figure, e.g. show=\"trainable\""))?;
    let kind = kind_of(show)
        .ok_or_else(|| Error::invalid("show", format!("unknown figure '{show}'; figures: {}", names())))?;
    let value = if show == "r" {
        spec.setup()?.lora.r as f64
    } else if show.starts_with("module_") {
        module_figure(report, spec, show)?
    } else {
        method_figure(report, spec.get("method").map(str::trim).unwrap_or("lora"), show)?
    };
    Ok(Figure { value, kind })
}

fn method_figure(report: &Report, method: &str, show: &str) -> Result<f64, Error> {
    let method = if method == "head" { "head_only" } else { method };
    if !METHODS.contains(&method) {
        return Err(Error::invalid("method", format!("unknown method '{method}'; methods: {}", METHODS.join(", "))));
    }
    let cost: Option<&MethodCost> = report.methods.iter().find(|m| m.method == method);
    let mem = |m: &Memory, part: &str| -> u64 {
        match part {
            "memory" => m.total,
            "weights_memory" => m.frozen_weights + m.trainable_weights,
            "gradients" => m.gradients,
            "optimizer_state" => m.optimizer_state,
            _ => m.activations,
        }
    };
    let lora = method == "lora";
    let v = match (show, cost) {
        ("trainable", Some(c)) => c.trainable,
        ("all", Some(c)) => c.all,
        ("trainable_percent", Some(c)) => return Ok(pct(c.trainable, c.all)),
        ("checkpoint_bytes", Some(c)) => c.checkpoint_bytes,
        ("memory" | "weights_memory" | "gradients" | "optimizer_state" | "activations", Some(c)) => {
            mem(&c.memory, show)
        }
        ("trainable" | "all" | "trainable_percent", None) => {
            let p = report
                .peft_methods
                .iter()
                .find(|p| p.method == method)
                .ok_or_else(|| Error::invalid("method", format!("no method '{method}'")))?;
            match show {
                "trainable" => p.trainable,
                "all" => p.all,
                _ => return Ok(p.percent),
            }
        }
        (_, None) => {
            return Err(Error::invalid(
                "method",
                format!("{show} is computed for lora, full, head_only and bitfit; {method} has counts only"),
            ));
        }
        (_, Some(_)) if !lora && !matches!(show, "params" | "full_model_bytes") => {
            return Err(Error::invalid("method", format!("{show} is a LoRA figure: leave method= out")));
        }
        ("lora_params", _) => report.lora_params,
        ("lora_percent_of_base", _) => return Ok(report.lora_percent_of_base),
        ("head_copy_params", _) => report.head_copy_params,
        ("trainable_bias_params", _) => report.trainable_bias_params,
        ("params", _) => report.model.params,
        ("modules", _) => report.modules.len() as u64,
        ("scaling", _) => return Ok(report.scaling),
        ("full_model_bytes", _) => report.full_model_bytes,
        _ => return Err(Error::invalid("show", format!("'{show}' needs module="))),
    };
    Ok(v as f64)
}

fn module_figure(report: &Report, spec: &Spec, show: &str) -> Result<f64, Error> {
    let want = spec
        .get("module")
        .map(str::trim)
        .ok_or_else(|| Error::invalid("module", format!("{show} needs module=\"...\", one of the adapted modules")))?;
    let found: Vec<&ModuleGroup> =
        report.module_groups.iter().filter(|g| g.name == want || g.name.ends_with(&format!(".{want}"))).collect();
    let g = match found.as_slice() {
        [g] => *g,
        [] => {
            let have: Vec<&str> = report.module_groups.iter().map(|g| g.name.as_str()).collect();
            return Err(Error::invalid(
                "module",
                format!("'{want}' gets no LoRA in this setup; adapted: {}", have.join(", ")),
            ));
        }
        _ => {
            return Err(Error::invalid("module", format!("'{want}' names several module shapes; write its full name")));
        }
    };
    let (d_in, d_out, r) =
        (g.in_features, g.out_features, g.lora_params_each / (g.in_features + g.out_features).max(1));
    Ok(match show {
        "module_lora" => g.lora_params_each as f64,
        "module_weight" => (d_in * d_out) as f64,
        "module_reduction" => (d_in * d_out) as f64 / (r * (d_in + d_out)).max(1) as f64,
        "module_percent" => pct(g.lora_params_each, d_in * d_out),
        "module_in" => d_in as f64,
        "module_out" => d_out as f64,
        _ => g.count as f64,
    })
}

fn pct(part: u64, whole: u64) -> f64 {
    crate::accounting::module_table::percent(part, whole)
}
