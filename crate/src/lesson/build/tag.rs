//! What the build's parts share: one lesson tag as found in the file, the controls' starting values, the mistakes
//! found so far, and HTML escaping. It imports nothing else of the build, so the parts import only downward.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::lesson::spec::Spec;

/// A mistake in a lesson: its 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub line: usize,
    pub message: String,
}

/// A control's name and the value it starts at (figures bound to it are written with this value).
pub(crate) type Controls = BTreeMap<String, String>;

/// One `<lp-...>` start or end tag in the lesson: which event holds it, where in that event's text, its line.
#[derive(Debug, Clone)]
pub(crate) struct LpTag {
    pub event: usize,
    pub span: Range<usize>,
    pub line: usize,
    pub name: String,
    pub end: bool,
    pub self_closing: bool,
    pub spec: Spec,
}

/// The state an element's markup needs: where the site's root is, the controls, ids given out, mistakes so far.
pub(crate) struct Context<'a> {
    pub warnings: Vec<Warning>,
    pub root: &'a str,
    pub controls: Controls,
    pub next_id: usize,
}

impl Context<'_> {
    /// A visible message for the page and a warning for the build.
    pub fn error(&mut self, line: usize, element: &str, message: &str) -> String {
        self.warnings.push(Warning { line, message: format!("<{element}>: {message}") });
        format!(
            "<span class=\"lp-error\" data-lp-error=\"{line}\">{}</span>",
            escape(&format!("Lesson error at line {line}, <{element}>: {message}"))
        )
    }
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
