//! Chat templates: a model's Jinja template (from its GGUF metadata, `tokenizer_config.json`'s `chat_template` or
//! transformers 5's `chat_template.jinja`) rendered as transformers' `apply_chat_template` renders it: Jinja with
//! `trim_blocks` and `lstrip_blocks`, loop controls, `raise_exception`, Python's string methods, and the special
//! tokens as variables. The template comes from a model file, so it is untrusted: minijinja runs it with a fuel
//! limit (no template loops forever) and the text it writes is capped; its output is text for the tokenizer, never
//! page markup.

use minijinja::{Environment, Error as JinjaError, ErrorKind, Value};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One turn of a conversation (`{"role": "user", "content": "..."}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// The work a template may do: a real template renders a lesson's conversation in well under a thousandth of it.
const FUEL: u64 = 5_000_000;
/// The longest text a template may write.
const MAX_OUTPUT: usize = 1 << 20;
/// The longest template read.
const MAX_TEMPLATE: usize = 256 << 10;

/// The special tokens a template may name (`bos_token`, `eos_token`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecialTokens {
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

/// `messages` as the template writes them; `add_generation_prompt` opens the assistant's turn. `source` names where
/// the template came from in errors.
pub fn render(
    template: &str,
    source: &str,
    messages: &[Message],
    add_generation_prompt: bool,
    special: &SpecialTokens,
) -> Result<String, Error> {
    if template.len() > MAX_TEMPLATE {
        return Err(Error::invalid(
            source,
            format!("chat template is {} bytes, more than {MAX_TEMPLATE}", template.len()),
        ));
    }
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_fuel(Some(FUEL));
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |message: String| -> Result<Value, JinjaError> {
        Err(JinjaError::new(ErrorKind::InvalidOperation, message))
    });
    let bad = |e: JinjaError| {
        let line = e.line().map(|l| format!(" (template line {l})")).unwrap_or_default();
        Error::invalid(source, format!("chat template: {}{line}", e.detail().unwrap_or(&e.kind().to_string())))
    };
    env.add_template("chat", template).map_err(bad)?;
    let ctx = minijinja::context! {
        messages => messages,
        add_generation_prompt => add_generation_prompt,
        bos_token => special.bos_token.clone().unwrap_or_default(),
        eos_token => special.eos_token.clone().unwrap_or_default(),
    };
    let text = env.get_template("chat").and_then(|t| t.render(ctx)).map_err(bad)?;
    if text.len() > MAX_OUTPUT {
        return Err(Error::invalid(
            source,
            format!("chat template wrote {} bytes, more than {MAX_OUTPUT}", text.len()),
        ));
    }
    Ok(text)
}
