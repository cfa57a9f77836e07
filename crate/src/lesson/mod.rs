//! Lessons: a course's own Markdown with live figures in it (issue 28). What a figure is and how it is written
//! (`spec`, `figure`, `format`, `answer`) is shared by the page (the calculator's wasm computes every figure as the
//! student moves a control) and the build (`build`, native only: Markdown to a static page, each figure's first
//! value written in so a printed handout and a page without JavaScript still show it), so the two cannot disagree.

pub mod answer;
#[cfg(not(target_arch = "wasm32"))]
pub mod build;
pub mod figure;
pub mod format;
pub mod series;
pub mod spec;

use serde::Serialize;

use crate::accounting::lora_config::TargetModules;
use crate::accounting::report;
use crate::error::Error;
use spec::Spec;

/// One figure as the page shows it: the number and its text in the lesson's chosen format.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub value: f64,
    pub text: String,
}

/// A figure's attributes (bindings already replaced by their controls' values) to its value and text.
pub fn show(spec: &Spec) -> Result<Shown, Error> {
    let mut setup = spec.setup()?;
    // A figure LoRA's settings cannot change (full fine-tuning's, the base model's) needs no target_modules, even
    // for a model PEFT has no default for: any valid choice gives the same figure.
    if setup.lora.target_modules.is_none() && !figure::uses_lora(spec) {
        setup.lora.target_modules = Some(TargetModules::Shorthand(TargetModules::ALL_LINEAR.into()));
    }
    let report = report::compute(&setup)?;
    let fig = figure::figure(&report, spec)?;
    let text = format::format(fig, spec.get("format"), spec.digits()?)?;
    Ok(Shown { value: fig.value, text })
}
