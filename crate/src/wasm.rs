//! The only file that knows about JavaScript: plain data in (a `Setup` object), plain data out (a `Report`
//! object or an `Error` object with `field`, `message`, `line`, `column`). The page never sees a panic.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::presets::PRESETS;
use crate::report::{self, Setup};

fn to_js<T: Serialize>(value: &T) -> JsValue {
    // json_compatible: u64 counts become JS numbers (all figures here are far below 2^53), maps become objects.
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// Reads a `Setup` through JSON text, so unknown keys (a typo in an embedding page's script) are refused
/// rather than silently ignored, as serde-wasm-bindgen would.
fn read_setup(setup: &JsValue) -> Result<Setup, JsValue> {
    let text = js_sys::JSON::stringify(setup)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| to_js(&Error::invalid("setup", "must be a plain object")))?;
    serde_json::from_str(&text).map_err(|e| {
        let message = e.to_string();
        to_js(&Error::invalid("setup", message.split(" at line ").next().unwrap_or(&message)))
    })
}

/// Every figure for a setup; throws an `{field, message}` object for bad input.
#[wasm_bindgen]
pub fn compute(setup: JsValue) -> Result<JsValue, JsValue> {
    let setup = read_setup(&setup)?;
    report::compute(&setup).map(|r| to_js(&r)).map_err(|e| to_js(&e))
}

/// The model and its targetable modules, for drawing the controls; throws for a bad model or config.
#[wasm_bindgen]
pub fn describe(setup: JsValue) -> Result<JsValue, JsValue> {
    let setup = read_setup(&setup)?;
    report::describe(&setup).map(|d| to_js(&d)).map_err(|e| to_js(&e))
}

/// The preset ids, in the order the picker lists them.
#[wasm_bindgen]
pub fn presets() -> JsValue {
    to_js(&PRESETS.iter().map(|(id, _)| *id).collect::<Vec<_>>())
}

/// A preset's `config.json` text (for "edit this config").
#[wasm_bindgen]
pub fn preset_config(id: &str) -> Option<String> {
    crate::presets::preset_config(id).map(str::to_string)
}

/// The defaults the page starts from (PEFT's `LoraConfig` defaults and the calculator's own).
#[wasm_bindgen]
pub fn default_setup() -> JsValue {
    to_js(&Setup::default())
}
