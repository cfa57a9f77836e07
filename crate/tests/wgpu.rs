//! The wgpu path (`--device wgpu`) computes what the CPU path computes: the same tiny model's logits, and the
//! same losses over a few LoRA training steps. Natively this runs on lavapipe (Mesa's CPU Vulkan, installed by
//! tools/test.sh); in the browser the same code runs on WebGPU. Alone in its binary: wgpu's runtime is global.
#![cfg(feature = "train")]

use burn::module::Module;
use burn::tensor::Device;
use lora_playground::data::parse;
use lora_playground::model::tiny;
use lora_playground::train::batch::to_input;
use lora_playground::train::plan::Plan;
use lora_playground::train::prepare::prepare;
use lora_playground::train::config::{Sample, TrainConfig, optimizer};
use lora_playground::train::fit::step;

#[test]
fn wgpu_and_cpu_agree_on_logits_and_training_losses() {
    let device = Device::wgpu_options()
        .init()
        .unwrap_or_else(|e| panic!("no wgpu adapter ({e}): install mesa-vulkan-drivers and libvulkan1 (tools/test.sh does)"));
    let mut files = tiny::files(5);
    // No dropout, so both devices draw no random numbers while training.
    files.config_json = files.config_json.replace("\"hidden_dropout_prob\":0.1", "\"hidden_dropout_prob\":0.0").replace(
        "\"attention_probs_dropout_prob\":0.1",
        "\"attention_probs_dropout_prob\":0.0",
    );
    let mut jsonl = String::new();
    for i in 0..16 {
        let (t, l) = [("card fee bank", "a"), ("school student loan", "b")][i % 2];
        jsonl.push_str(&format!("{{\"text\": \"{t} {i}\", \"label\": \"{l}\"}}\n"));
    }
    let data = parse("d.jsonl", jsonl.as_bytes()).unwrap();
    let plan = Plan { lora_dropout: 0.0, max_len: 16, train: TrainConfig { lr: 1e-2, ..TrainConfig::default() }, ..Plan::default() };

    let run = |device: &Device| -> (Vec<f32>, Vec<f64>) {
        let ad = device.clone().autodiff();
        let p = prepare(&files, &plan, &data, &ad).unwrap();
        let batch: Vec<&Sample> = p.train.iter().take(8).collect();
        let tokens: Vec<_> = batch.iter().map(|s| &s.tokens).collect();
        let logits = p.model.valid().forward(&to_input(&p.config, &tokens, device)).into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        let (mut model, mut optim, mut losses) = (p.model, optimizer(&plan.train), Vec::new());
        for _ in 0..4 {
            let (next, loss) = step(model, &mut optim, plan.train.lr, &p.config, &batch, &ad);
            model = next;
            losses.push(loss);
        }
        (logits, losses)
    };
    let (cpu_logits, cpu_losses) = run(&Device::flex());
    let (gpu_logits, gpu_losses) = run(&device);
    assert_eq!((cpu_logits.len(), cpu_losses.len()), (gpu_logits.len(), gpu_losses.len()));
    let d = cpu_logits.iter().zip(&gpu_logits).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(d < 1e-4, "logits differ by {d}: {cpu_logits:?} vs {gpu_logits:?}");
    for (c, g) in cpu_losses.iter().zip(&gpu_losses) {
        assert!((c - g).abs() < 1e-3, "losses differ: cpu {cpu_losses:?}, wgpu {gpu_losses:?}");
    }
    assert!(cpu_losses.last() < cpu_losses.first(), "{cpu_losses:?}");
}
