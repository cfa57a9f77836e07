//! The wasm boundary in a real browser (headless Chromium via wasm-bindgen-test-runner and chromedriver):
//! the page's entry points return the same figures as the native engine and turn bad input into error objects.
#![cfg(target_arch = "wasm32")]

use js_sys::{JSON, Reflect};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn setup(json: &str) -> JsValue {
    JSON::parse(json).unwrap()
}

#[wasm_bindgen_test]
fn compute_in_the_browser_gives_peft_figures() {
    // Reference row: all-MiniLM-L6-v2 seq-cls, r=8, alpha=16, query+value.
    let report = lora_playground::wasm::compute(setup(
        r#"{"model": "all-MiniLM-L6-v2", "lora": {"r": 8, "lora_alpha": 16, "target_modules": ["query", "value"]}}"#,
    ))
    .unwrap();
    assert_eq!(get(&report, "trainable").as_f64(), Some(74_498.0));
    assert_eq!(get(&report, "all").as_f64(), Some(22_788_484.0));
    assert_eq!(get(&report, "adapter_bytes").as_f64(), Some(301_520.0));
    assert_eq!(get(&get(&report, "memory"), "optimizer_state").as_f64(), Some(596_088.0));
}

#[wasm_bindgen_test]
fn bad_settings_throw_an_error_object_naming_the_field() {
    let err = lora_playground::wasm::compute(setup(r#"{"lora": {"r": 0}}"#)).unwrap_err();
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("r"));
    let err =
        lora_playground::wasm::compute(setup(r#"{"config_json": "{\n\"model_type\": \"bert\",\n}"}"#)).unwrap_err();
    assert_eq!(get(&err, "line").as_f64(), Some(3.0));
}

#[wasm_bindgen_test]
fn a_malformed_setup_is_an_error_not_a_panic() {
    let err = lora_playground::wasm::compute(setup(r#"{"lora": {"r": "eight"}}"#)).unwrap_err();
    assert_eq!(get(&err, "field").as_string().as_deref(), Some("setup"));
    let err = lora_playground::wasm::compute(setup(r#"{"rank": 8}"#)).unwrap_err();
    assert!(get(&err, "message").as_string().unwrap().contains("rank"));
}

#[wasm_bindgen_test]
fn describe_lists_the_real_module_names() {
    let d = lora_playground::wasm::describe(setup(r#"{"model": "gpt2"}"#)).unwrap();
    let names = JSON::stringify(&get(&d, "target_choices")).unwrap().as_string().unwrap();
    assert!(names.contains("attn.c_attn") && names.contains("fused query, key and value"), "{names}");
}
