//! Will it fit (`train/budget.rs`): the calculator's memory figures for a plan against a browser tab's 4 GiB of
//! WebAssembly memory and a WebGPU adapter's largest buffer; what cannot fit is refused naming the setting to change.
#![cfg(feature = "train")]

use burn::tensor::Device;
use lora_playground::accounting::report::{Setup, compute};
use lora_playground::model::methods::Method;
use lora_playground::model::tiny;
use lora_playground::train::budget::{Budget, WASM_MEMORY, check};
use lora_playground::train::plan::Plan;
use lora_playground::train::replies::DeviceInfo;
use lora_playground::train::workbench::Workbench;
use serde_json::json;

const MINILM: &str = include_str!("../../presets/all-MiniLM-L6-v2.json");
const MINILM_FILE: u64 = 90_868_376;

/// A BERT of `layers` x `hidden` with a `vocab` vocabulary, and its parameter count as the calculator gives it.
fn bert(layers: u64, hidden: u64, vocab: u64) -> (String, u64) {
    let config = json!({"model_type": "bert", "architectures": ["BertModel"], "hidden_size": hidden,
        "num_hidden_layers": layers, "num_attention_heads": hidden / 64, "intermediate_size": 4 * hidden,
        "vocab_size": vocab, "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu",
        "layer_norm_eps": 1e-12})
    .to_string();
    let params = compute(&Setup { config_json: Some(config.clone()), ..Setup::default() }).unwrap().model.params;
    (config, params)
}

fn plan(method: Method, batch_size: usize, max_len: usize) -> Plan {
    let mut p = Plan { method, max_len, ..Plan::default() };
    p.train.batch_size = batch_size;
    p
}

#[test]
fn the_default_minilm_run_fits_and_its_figures_are_the_calculators() {
    let need = check(MINILM, MINILM_FILE, 5, &plan(Method::Lora, 16, 64), Budget::wasm_cpu()).unwrap();
    let setup = Setup {
        config_json: Some(MINILM.into()),
        num_labels: 5,
        batch: lora_playground::accounting::memory::Batch { batch_size: 16, seq_len: 64, ..Default::default() },
        ..Setup::default()
    };
    let calc = compute(&Setup { lora: Plan::default().lora, ..setup }).unwrap();
    let lora = calc.methods.iter().find(|m| m.method == "lora").unwrap();
    assert_eq!(need.memory, lora.memory);
    assert_eq!(need.host_bytes, MINILM_FILE + lora.memory.total);
    // On WebGPU the tensors are on the GPU: the tab holds the file.
    let gpu = check(MINILM, MINILM_FILE, 5, &plan(Method::Lora, 16, 64), Budget::wasm_webgpu(128 << 20)).unwrap();
    assert_eq!(gpu.host_bytes, MINILM_FILE);
    // The largest tensor: the word embeddings (30522 x 384 floats) beat 16 x 12 x 64 x 64 attention scores.
    assert_eq!(gpu.largest_tensor_bytes, 30522 * 384 * 4);
}

#[test]
fn a_400m_encoder_is_refused_with_the_batch_that_fits_and_full_fine_tuning_is_pointed_to_lora() {
    let (config, params) = bert(24, 1024, 100_000);
    assert!((390_000_000..420_000_000).contains(&params), "{params}");
    let file = params * 4;
    let e = check(&config, file, 2, &plan(Method::Lora, 16, 128), Budget::wasm_cpu()).unwrap_err();
    assert_eq!(e.field, "batch_size", "{e}");
    assert!(e.message.contains("4.00 GiB of WebAssembly memory") && e.message.contains("a batch of at most"), "{e}");
    // The batch it names does fit, and one more does not.
    let most: usize = e.message.split("at most ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(check(&config, file, 2, &plan(Method::Lora, most, 128), Budget::wasm_cpu()).is_ok());
    assert!(check(&config, file, 2, &plan(Method::Lora, most + 1, 128), Budget::wasm_cpu()).is_err());
    // Full fine-tuning keeps gradients and two AdamW moments of every weight: 4 x 1.6 GB, not even one example.
    let e = check(&config, file, 2, &plan(Method::Full, 1, 16), Budget::wasm_cpu()).unwrap_err();
    assert_eq!(e.field, "method");
    assert!(e.message.contains("try LoRA"), "{e}");
}

#[test]
fn a_model_too_big_for_the_tab_is_refused_before_its_download_and_a_small_one_is_not() {
    let mut wb = Workbench::new();
    wb.set_device(Device::flex(), DeviceInfo::cpu());
    assert!(wb.check_model(MINILM, MINILM_FILE).unwrap().is_none(), "no budget natively: the CLI checks nothing");
    wb.set_budget(Some(Budget::wasm_cpu()));
    assert!(wb.check_model(MINILM, MINILM_FILE).is_ok());
    let (config, params) = bert(24, 2048, 100_000);
    assert!(params * 4 > WASM_MEMORY / 2, "{params}");
    let e = wb.check_model(&config, params * 4).unwrap_err();
    assert_eq!(e.field, "model");
    // Over the trainer's 150M parameters: refused by its size first, with what LoRA on it would need.
    assert!(
        e.message.contains(&format!("{:.0}M parameters, more than the 150M", params as f64 / 1e6))
            && e.message.contains("4 GiB"),
        "{e}"
    );
    // Under 150M but over what this tab has: refused by memory, naming the way out.
    wb.set_budget(Some(Budget { host_bytes: 64 << 20, gpu_buffer_bytes: None }));
    let e = wb.check_model(MINILM, MINILM_FILE).unwrap_err();
    assert_eq!(e.field, "model");
    assert!(
        e.message.contains("cannot train here even one example at a time") && e.message.contains("smaller model"),
        "{e}"
    );
}

#[test]
fn attention_scores_over_the_gpus_largest_buffer_are_refused_naming_the_batch() {
    // 64 x 12 heads x 512 x 512 floats = 768 MiB of scores, over a 128 MiB buffer (WebGPU's default limit).
    let e = check(MINILM, MINILM_FILE, 5, &plan(Method::Lora, 64, 512), Budget::wasm_webgpu(128 << 20)).unwrap_err();
    assert_eq!(e.field, "batch_size");
    assert!(e.message.contains("over this GPU's largest buffer (128 MiB: WebGPU's maxStorageBufferBindingSize"), "{e}");
}

#[test]
fn a_run_that_cannot_fit_is_refused_by_prepare_and_nothing_is_lost() {
    let mut wb = Workbench::new();
    wb.set_device(Device::flex(), DeviceInfo::cpu());
    wb.set_budget(Some(Budget { host_bytes: 64 << 20, gpu_buffer_bytes: None }));
    wb.load_model(tiny::files(0)).unwrap();
    wb.load_dataset("d.csv", b"text,label\na b,x\nb a,x\nc d,y\nd c,y\n").unwrap();
    wb.prepare(plan(Method::Lora, 2, 16)).unwrap();
    let e = wb.prepare(plan(Method::Lora, 1024, 128)).unwrap_err();
    assert_eq!(e.field, "batch_size", "{e}");
    assert!(wb.global_step().is_ok(), "the prepared job is still there");
}
