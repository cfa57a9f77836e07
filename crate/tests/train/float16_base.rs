//! The float16 base (`Base::Float16`, the page's *Base weights: float16*): the frozen weights (linear layers, token
//! table, output head) held in float16 and widened when used. It must compute what a float32 model of the same
//! weights rounded to float16 computes: that model is the page's float16 download (`float16::to_float16`, rounded
//! by `half`, read back as float32), so log-probabilities within 1e-5 and the same LoRA losses step by step, on the
//! tiny Llama and Gemma 3 decoders (transformers-made).
#![cfg(feature = "train")]

use burn::module::Module;
use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::float16::to_float16;
use lora_playground::model::causal::files::{LmFiles, LmSource};
use lora_playground::model::causal::parameter_count;
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::methods::Method;
use lora_playground::model::packed::Base;
use lora_playground::train::causal::plan::default_plan;
use lora_playground::train::causal::trainer::{LmPlan, LmTrainer};

use super::common::decoder_folder;

/// The folder's weights rounded to float16, as the page's float16 download holds them.
fn rounded(name: &str) -> LmFiles {
    let mut files = decoder_folder(name);
    if let LmSource::Folder { safetensors, .. } = &mut files.source {
        *safetensors = to_float16("model.safetensors", safetensors).unwrap().0;
    }
    files
}

#[test]
fn the_float16_base_computes_what_float32_computes_on_the_rounded_weights() {
    let device = Device::flex();
    for name in ["llama", "gemma3_text"] {
        let reference = rounded(name).load(None, &device).unwrap();
        let half = decoder_folder(name).with_base(Base::Float16).load(None, &device).unwrap();
        let exact = decoder_folder(name).load(None, &device).unwrap();
        assert_eq!(parameter_count(&half.model), parameter_count(&exact.model), "{name}: parameters");
        assert!(half.model.num_params() < 1000, "{name}: only the norms stay float32");
        let ids: Vec<Vec<u32>> = ["LoRA trains a small update.", "Gemma and Llama read the same text."]
            .iter()
            .map(|t| reference.tokenizer.encode(*t, true).unwrap().get_ids().to_vec())
            .collect();
        let want = block_on(logprobs(&reference.model, &ids, &device)).unwrap();
        let got = block_on(logprobs(&half.model, &ids, &device)).unwrap();
        let unrounded = block_on(logprobs(&exact.model, &ids, &device)).unwrap();
        let diff = |a: &[Vec<f32>], b: &[Vec<f32>]| {
            a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
        };
        assert!(diff(&got, &want) < 1e-5, "{name}: {} from the rounded float32 model", diff(&got, &want));
        assert!(diff(&got, &unrounded) > 1e-6, "{name}: the rounding is there ({})", diff(&got, &unrounded));
    }
}

#[test]
fn lora_on_the_float16_base_trains_as_on_the_rounded_weights() {
    for name in ["llama", "gemma3_text"] {
        let plan = super::checkpointing::plan(Method::Lora, Base::Float32, 0.0);
        let rows = super::checkpointing::rows(name);
        let run = |files: &LmFiles, plan: LmPlan| {
            let mut trainer = LmTrainer::new(files, plan, rows.clone(), &Device::flex()).unwrap();
            let mut out = Vec::new();
            while !trainer.done() {
                out.push(block_on(trainer.step()).unwrap().loss);
            }
            out
        };
        let want = run(&rounded(name), plan.clone());
        let got = run(&decoder_folder(name).with_base(Base::Float16), LmPlan { base: Base::Float16, ..plan });
        for (step, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < 1e-5, "{name}: step {step} loss {a} against {b}");
        }
        let full = LmPlan { base: Base::Float16, ..default_plan(Method::Full) };
        let refused = LmTrainer::new(&decoder_folder(name).with_base(Base::Float16), full, rows, &Device::flex());
        assert!(refused.err().unwrap().to_string().contains("float16 base is frozen"));
    }
}
