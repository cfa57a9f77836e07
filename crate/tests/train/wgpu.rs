//! The wgpu path (`--device wgpu`) computes what the CPU path computes: the same logits, and the same losses over
//! a few LoRA training steps, for the tiny model and a small model of every architecture. Natively this runs on lavapipe (Mesa's CPU Vulkan, installed by
//! tools/test.sh); in the browser the same code runs on WebGPU. wgpu's runtime is global: one device serves every test
//! here (`wgpu_device`).
#![cfg(feature = "train")]

use burn::module::Module;
use burn::tensor::Device;
use lora_playground::accounting::lora_config::TargetModules;
use lora_playground::data::parse;
use lora_playground::model::files::ModelFiles;
use lora_playground::model::tiny;
use lora_playground::train::batch::to_input;
use lora_playground::train::config::{Sample, TrainConfig, optimizer};
use lora_playground::train::fit::step;
use lora_playground::train::plan::Plan;
use lora_playground::train::prepare::prepare;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/arch");

/// The one wgpu device of this process: wgpu's runtime is initialised once a process, so every test here shares it.
fn wgpu_device() -> Device {
    static DEVICE: std::sync::OnceLock<Device> = std::sync::OnceLock::new();
    DEVICE
        .get_or_init(|| {
            Device::wgpu_options().init().unwrap_or_else(|e| {
                panic!("no wgpu adapter ({e}): install mesa-vulkan-drivers and libvulkan1 (tools/test.sh does)")
            })
        })
        .clone()
}

/// A fixture model folder (`tests/reference/arch_fixtures.py`) with every dropout set to 0, so that neither device
/// draws random numbers while training.
fn fixture(name: &str) -> ModelFiles {
    let read = |f: &str| std::fs::read(format!("{FIXTURES}/{name}/{f}")).unwrap();
    let mut config: serde_json::Value = serde_json::from_slice(&read("config.json")).unwrap();
    for (k, v) in config.as_object_mut().unwrap() {
        if (k.contains("dropout") || k.ends_with("pdrop")) && v.is_number() {
            *v = serde_json::json!(0.0);
        }
    }
    ModelFiles {
        name: name.into(),
        config_json: config.to_string(),
        safetensors: read("model.safetensors"),
        tokenizer_json: read("tokenizer.json"),
    }
}

/// The same logits and LoRA training losses on wgpu as on the CPU, for the tiny BERT and every architecture's
/// fixture (RoBERTa, DistilBERT, GPT-2's causal attention and Conv1D, ModernBERT's rotary and sliding window).
#[test]
fn wgpu_and_cpu_agree_on_logits_and_training_losses() {
    let device = wgpu_device();
    let mut tiny = tiny::files(5);
    // No dropout, so both devices draw no random numbers while training.
    tiny.config_json = tiny
        .config_json
        .replace("\"hidden_dropout_prob\":0.1", "\"hidden_dropout_prob\":0.0")
        .replace("\"attention_probs_dropout_prob\":0.1", "\"attention_probs_dropout_prob\":0.0");
    agree(&tiny, &["query", "value"], &device);
    for (name, targets) in [
        ("roberta", &["query", "value"][..]),
        ("distilbert-sinusoidal", &["q_lin", "v_lin"]),
        ("gpt2", &["c_attn"]),
        ("modernbert-cls", &["Wqkv", "Wi"]),
        ("modernbert-mean", &["Wqkv"]),
    ] {
        agree(&fixture(name), targets, &device);
    }
}

fn agree(files: &ModelFiles, targets: &[&str], device: &Device) {
    let name = &files.name;
    let mut jsonl = String::new();
    for i in 0..16 {
        let (t, l) = [("card fee bank", "a"), ("school student loan", "b")][i % 2];
        jsonl.push_str(&format!("{{\"text\": \"{t} {i}\", \"label\": \"{l}\"}}\n"));
    }
    let data = parse("d.jsonl", jsonl.as_bytes()).unwrap();
    let mut plan = Plan {
        lora_dropout: 0.0,
        max_len: 16,
        train: TrainConfig { lr: 1e-2, ..TrainConfig::default() },
        ..Plan::default()
    };
    plan.lora.target_modules = Some(TargetModules::Names(targets.iter().map(|t| t.to_string()).collect()));

    let run = |device: &Device| -> (Vec<f32>, Vec<f64>) {
        let ad = device.clone().autodiff();
        let p = prepare(files, &plan, &data, &ad).unwrap_or_else(|e| panic!("{name}: {}", e.message));
        let batch: Vec<&Sample> = p.train.iter().take(8).collect();
        let tokens: Vec<_> = batch.iter().map(|s| &s.tokens).collect();
        let logits = p
            .model
            .valid()
            .forward(&to_input(&p.config, &tokens, device))
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let (mut model, mut optim, mut losses) = (p.model, optimizer(&plan.train), Vec::new());
        for _ in 0..4 {
            let (next, loss) = step(model, &mut optim, plan.train.lr, &p.config, &batch, &ad);
            model = next;
            losses.push(loss);
        }
        (logits, losses)
    };
    let (cpu_logits, cpu_losses) = run(&Device::flex());
    let (gpu_logits, gpu_losses) = run(device);
    assert_eq!((cpu_logits.len(), cpu_losses.len()), (gpu_logits.len(), gpu_losses.len()));
    let d = cpu_logits.iter().zip(&gpu_logits).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(d < 1e-4, "{name}: logits differ by {d}: {cpu_logits:?} vs {gpu_logits:?}");
    for (c, g) in cpu_losses.iter().zip(&gpu_losses) {
        assert!((c - g).abs() < 1e-3, "{name}: losses differ: cpu {cpu_losses:?}, wgpu {gpu_losses:?}");
    }
    assert!(cpu_losses.last() < cpu_losses.first(), "{name}: {cpu_losses:?}");
}

/// The page's workbench on a real GPU device (lavapipe here): a bug inside a step (an injected internal error) ends
/// the step with its message and leaves the run on the GPU; only a lost device moves it to the CPU.
#[test]
fn on_wgpu_only_a_lost_device_moves_a_run_to_the_cpu_and_an_internal_error_is_reported_where_it_is() {
    use futures_lite::future::block_on;
    use lora_playground::error::{Error, ErrorKind};
    use lora_playground::train::replies::DeviceInfo;
    use lora_playground::train::workbench::Workbench;

    let device = wgpu_device();
    let gpu = DeviceInfo { backend: "wgpu".into(), adapter: "lavapipe".into() };
    let mut wb = Workbench::new();
    wb.set_device(device, gpu.clone());
    wb.load_model(tiny::files(3)).unwrap();
    wb.load_dataset("keywords.csv", crate::common::KEYWORDS_CSV.as_bytes()).unwrap();
    let plan = serde_json::json!({"r": 4, "lora_alpha": 8, "lr": 0.01, "epochs": 1, "batch_size": 4, "max_len": 16});
    wb.prepare(Plan::from_json(&plan).unwrap()).unwrap();
    assert_eq!(block_on(wb.advance()).unwrap().step.unwrap().global_step, 1);

    wb.fail_next_step(Error::internal("step", "a tensor of the wrong shape (injected)"));
    let e = block_on(wb.advance()).expect_err("an internal error is reported, not carried on elsewhere");
    assert_eq!((e.kind, e.field.as_str()), (ErrorKind::Internal, "step"));
    assert_eq!(wb.device_info(), Some(&gpu), "the run stays on the GPU");
    // ...and the run goes on there from where it was.
    assert_eq!(block_on(wb.advance()).unwrap().step.unwrap().global_step, 2);

    wb.simulate_device_loss();
    let tick = block_on(wb.advance()).unwrap();
    let fallback = tick.fallback.expect("a lost device is carried on on the CPU");
    assert_eq!((fallback.resumed_at, fallback.device.backend.as_str()), (2, "cpu"));
    assert_eq!(wb.device_info(), Some(&DeviceInfo::cpu()));
}
