//! The training worker's wasm side in a real browser (headless Chromium with `--enable-unsafe-webgpu`, through
//! wasm-bindgen-test-runner): the tiny model trains on burn's CPU backend and on WebGPU, losses fall, bad input
//! throws `{field, message}` objects. The same calls the worker makes (`web/train/worker.js`).
#![cfg(all(target_arch = "wasm32", feature = "train"))]

use js_sys::{JSON, Reflect};
use lora_playground::wasm::Trainer;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn num(v: &JsValue, key: &str) -> f64 {
    get(v, key).as_f64().unwrap_or_else(|| panic!("{key} is not a number in {:?}", JSON::stringify(v)))
}

const DATA: &str = "text,label\n\
    money bank card fee,bank\nbank card money,bank\nfee card bank money,bank\ncard money fee,bank\nbank fee,bank\nmoney card,bank\n\
    school student loan,school\nstudent loan school,school\nloan school student,school\nschool loan,school\nstudent school,school\nloan student,school\n";

/// Trains the tiny model on the keyword task for `steps` steps through `advance`, as the worker does; returns the
/// losses and the last epoch's evaluation.
async fn train_on(kind: &str, steps: usize) -> (Vec<f64>, JsValue) {
    let t = Trainer::new();
    let info = JsFuture::from(t.set_device(kind.into())).await.unwrap();
    assert_eq!(get(&info, "backend").as_string().as_deref(), Some(kind));
    t.load_tiny(3).unwrap();
    let summary = t.load_dataset("d.csv", DATA.as_bytes()).unwrap();
    assert_eq!(num(&summary, "examples"), 12.0);
    let plan = JSON::parse(r#"{"method": "lora", "r": 4, "lora_alpha": 8, "lr": 0.01, "epochs": 20, "batch_size": 4, "max_len": 16, "lora_dropout": 0}"#).unwrap();
    let job = t.prepare(plan).unwrap();
    // 12 examples, 6 a class; round(20% of 6) = 1 a class held out: 10 training, 3 steps of 4 an epoch, 20 epochs.
    assert_eq!(num(&job, "total_steps"), 60.0);
    let (mut losses, mut evaluation, mut epochs) = (Vec::new(), JsValue::NULL, 0);
    for i in 1..=steps {
        let tick = JsFuture::from(t.advance()).await.unwrap();
        let step = get(&tick, "step");
        losses.push(num(&step, "loss"));
        assert_eq!(num(&step, "global_step"), i as f64);
        // The policy is Rust's: every third step ends an epoch and comes back with its evaluation.
        let e = get(&tick, "evaluation");
        assert_eq!(!e.is_null(), i % 3 == 0, "step {i}: {:?}", JSON::stringify(&tick));
        if !e.is_null() {
            epochs += 1;
            assert_eq!(num(&e, "epoch"), epochs as f64);
            evaluation = e;
        }
        assert!(get(&tick, "fallback").is_null());
        assert_eq!(get(&tick, "done").as_bool(), Some(i == 60));
    }
    // "student loan" is made only of the school class's keywords.
    let p = JsFuture::from(t.predict("student loan".into())).await.unwrap();
    assert_eq!(get(&p, "label").as_string().as_deref(), Some("school"), "{:?}", JSON::stringify(&p));
    (losses, evaluation)
}

#[wasm_bindgen_test]
async fn the_tiny_model_trains_on_the_cpu_backend_in_wasm() {
    let (losses, evaluation) = train_on("cpu", 60).await;
    // Both held-out texts (one a class) right after 20 epochs; the same run natively: crate/tests/workbench.rs.
    assert_eq!(num(&evaluation, "accuracy"), 1.0, "{:?}", JSON::stringify(&evaluation));
    let (head, tail) = (losses[..4].iter().sum::<f64>(), losses[losses.len() - 4..].iter().sum::<f64>());
    assert!(tail < head, "losses did not fall: {losses:?}");
}

#[wasm_bindgen_test]
async fn the_tiny_model_trains_on_webgpu() {
    let (losses, evaluation) = train_on("webgpu", 24).await;
    assert_eq!(num(&evaluation, "epoch"), 8.0);
    let (head, tail) = (losses[..4].iter().sum::<f64>(), losses[losses.len() - 4..].iter().sum::<f64>());
    assert!(tail < head, "losses did not fall: {losses:?}");
}

#[wasm_bindgen_test]
fn bad_input_throws_objects_naming_the_field() {
    let t = Trainer::new();
    let e = t.load_dataset("d.csv", b"text,label\nonly one class,a\n").unwrap_err();
    assert!(get(&e, "message").as_string().unwrap().contains("class"), "{:?}", JSON::stringify(&e));
    let e = t.prepare(JSON::parse("{}").unwrap()).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("device"));
    let e = t.load_model("m".into(), "{".into(), vec![], vec![]).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("config.json"));
    assert_eq!(get(&e, "line").as_f64(), Some(1.0));
    let e = t.prepare(JSON::parse(r#"{"method": "lora", "bogus": 1}"#).unwrap()).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("bogus"));
    // The plan is checked before anything else, field by field, with the page's own reader.
    for (plan, field) in [
        (r#"{"r": -3}"#, "r"),
        (r#"{"lr": "NaN"}"#, "lr"),
        (r#"{"epochs": 1e9}"#, "epochs"),
        (r#"{"batch_size": 0}"#, "batch_size"),
    ] {
        let e = Trainer::check_plan(JSON::parse(plan).unwrap()).unwrap_err();
        assert_eq!(get(&e, "field").as_string().as_deref(), Some(field), "{plan}");
    }
    let defaults = Trainer::default_plan();
    assert_eq!(num(&defaults, "r"), 8.0);
    // The learning rate is left to the method: blank in the defaults, the method's usual one once checked.
    assert!(get(&defaults, "lr").is_null());
    assert_eq!(num(&Trainer::check_plan(JSON::parse(r#"{"method": "full"}"#).unwrap()).unwrap(), "lr"), 1e-4);
    assert_eq!(num(&Trainer::check_plan(JSON::parse(r#"{"r": "4"}"#).unwrap()).unwrap(), "r"), 4.0);
}

/// The adapter panel's calls on WebGPU: a folder Python PEFT saved (the committed fixture) laid over the tiny base
/// predicts PEFT's probabilities; a trained job's exported files join it on the same base.
#[wasm_bindgen_test]
async fn adapters_share_the_base_on_webgpu_and_a_peft_folder_predicts_what_peft_did() {
    const CONFIG: &[u8] = include_bytes!("fixtures/peft_tiny/adapter_config.json");
    const WEIGHTS: &[u8] = include_bytes!("fixtures/peft_tiny/adapter_model.safetensors");
    let expected: serde_json::Value = serde_json::from_str(include_str!("fixtures/peft_tiny/expected.json")).unwrap();
    let t = Trainer::new();
    JsFuture::from(t.set_device("webgpu".into())).await.unwrap();
    t.load_tiny(0).unwrap();
    let names = vec!["peft/adapter_config.json".to_string(), "peft/adapter_model.safetensors".to_string()];
    let bytes = vec![js_sys::Uint8Array::from(CONFIG), js_sys::Uint8Array::from(WEIGHTS)];
    let summary = t.add_adapter("peft".into(), names, bytes).unwrap();
    assert_eq!(js_sys::Array::from(&get(&summary, "adapters")).length(), 1);
    let text = expected["texts"][0].as_str().unwrap().to_string();
    let p = JsFuture::from(t.predict_with_adapter(0, text)).await.unwrap();
    let probs: Vec<f64> = js_sys::Array::from(&get(&p, "probs")).iter().map(|v| v.as_f64().unwrap()).collect();
    let z: Vec<f64> = expected["logits"][0].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    let top = z.iter().cloned().fold(f64::MIN, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
    let want: Vec<f64> = e.iter().map(|v| v / e.iter().sum::<f64>()).collect();
    for (g, w) in probs.iter().zip(&want) {
        assert!((g - w).abs() < 1e-4, "{probs:?} vs PEFT's {want:?}");
    }

    // Train a few steps, export, keep: two adapters on one base, the memory adds up.
    t.load_dataset("d.csv", DATA.as_bytes()).unwrap();
    t.prepare(
        JSON::parse(r#"{"r": 4, "lora_alpha": 8, "lr": 0.01, "epochs": 1, "batch_size": 4, "max_len": 16}"#).unwrap(),
    )
    .unwrap();
    JsFuture::from(t.advance()).await.unwrap();
    let files = js_sys::Array::from(&JsFuture::from(t.export_job()).await.unwrap());
    let (mut names, mut bytes) = (Vec::new(), Vec::new());
    for f in files.iter() {
        let pair = js_sys::Array::from(&f);
        names.push(pair.get(0).as_string().unwrap());
        bytes.push(js_sys::Uint8Array::from(pair.get(1)));
    }
    assert!(names.contains(&"adapter_model.safetensors".to_string()), "{names:?}");
    let summary = t.add_adapter("trained".into(), names, bytes).unwrap();
    assert_eq!(js_sys::Array::from(&get(&summary, "adapters")).length(), 2);
    let memory = get(&summary, "memory");
    assert!(num(&memory, "shared_bytes") < num(&memory, "copies_bytes"));
    let p = JsFuture::from(t.predict_with_adapter(1, "school loan".into())).await.unwrap();
    assert_eq!(js_sys::Array::from(&get(&p, "probs")).length(), 2);
    // A bad index is an error object, not a trap.
    let e = JsFuture::from(t.predict_with_adapter(5, "x".into())).await.unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("adapter"));
}
