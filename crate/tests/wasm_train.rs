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

async fn train_on(kind: &str) -> Vec<f64> {
    let t = Trainer::new();
    let info = JsFuture::from(t.use_device(kind.into())).await.unwrap();
    assert_eq!(get(&info, "backend").as_string().as_deref(), Some(kind));
    t.load_tiny(3).unwrap();
    let summary = t.load_dataset("d.csv", DATA.as_bytes()).unwrap();
    assert_eq!(num(&summary, "examples"), 12.0);
    let plan = JSON::parse(r#"{"method": "lora", "r": 4, "lora_alpha": 8, "lr": 0.01, "epochs": 20, "batch_size": 4, "max_len": 16, "lora_dropout": 0}"#).unwrap();
    let job = t.prepare(plan).unwrap();
    // 12 examples, 6 a class; round(20% of 6) = 1 a class held out: 10 training, 3 steps of 4 an epoch, 20 epochs.
    assert_eq!(num(&job, "total_steps"), 60.0);
    let mut losses = Vec::new();
    for _ in 0..24 {
        let s = JsFuture::from(t.step()).await.unwrap();
        losses.push(num(&s, "loss"));
    }
    let eval = JsFuture::from(t.evaluate()).await.unwrap();
    assert!(num(&eval, "accuracy") >= 0.0);
    let p = JsFuture::from(t.predict("student loan".into())).await.unwrap();
    assert!(get(&p, "label").as_string().is_some());
    losses
}

#[wasm_bindgen_test]
async fn the_tiny_model_trains_on_the_cpu_backend_in_wasm() {
    let losses = train_on("cpu").await;
    let (head, tail) = (losses[..4].iter().sum::<f64>(), losses[losses.len() - 4..].iter().sum::<f64>());
    assert!(tail < head, "losses did not fall: {losses:?}");
}

#[wasm_bindgen_test]
async fn the_tiny_model_trains_on_webgpu() {
    let losses = train_on("webgpu").await;
    let (head, tail) = (losses[..4].iter().sum::<f64>(), losses[losses.len() - 4..].iter().sum::<f64>());
    assert!(tail < head, "losses did not fall: {losses:?}");
}

#[wasm_bindgen_test]
fn bad_input_throws_objects_naming_the_field() {
    let t = Trainer::new();
    let e = t.load_dataset("d.csv", b"text,label\nonly one class,a\n").unwrap_err();
    assert!(get(&e, "message").as_string().is_some());
    let e = t.prepare(JSON::parse("{}").unwrap()).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("device"));
    let e = t.load_model("m".into(), "{".into(), vec![], vec![]).unwrap_err();
    assert_eq!(get(&e, "field").as_string().as_deref(), Some("config.json"));
    assert_eq!(get(&e, "line").as_f64(), Some(1.0));
    let e = t.prepare(JSON::parse(r#"{"method": "lora", "bogus": 1}"#).unwrap()).unwrap_err();
    assert!(get(&e, "message").as_string().unwrap().contains("bogus"));
}
