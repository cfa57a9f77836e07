//! Gradient checkpointing (`LmPlan::gradient_checkpointing`, transformers' `gradient_checkpointing`) changes what a
//! step keeps, not what it computes: the same losses, step after step, and the same trained model as without it,
//! for LoRA with dropout (the recomputation must draw the forward pass's masks again), QLoRA on an NF4 base, full
//! fine-tuning (the first block's input is then in the graph) and BitFit, on the tiny random decoders.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::accounting::lora_config::{LoraConfig, TargetModules};
use lora_playground::data::lm::lm_rows;
use lora_playground::model::causal::checkpoint::blocks_recorded;
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::methods::Method;
use lora_playground::model::packed::Base;
use lora_playground::train::causal::plan::default_plan;
use lora_playground::train::causal::tokens::{LmText, LmTokens};
use lora_playground::train::causal::trainer::{LmPlan, LmTrainer};

use super::common::{DECODERS, decoder_folder};

/// The lesson rows of the tiny decoder `name`, tokenized (shared with the other base tests).
pub fn rows(name: &str) -> Vec<LmTokens> {
    let files = decoder_folder(name);
    let lm = files.load(None, &Device::flex()).unwrap();
    let text = LmText { tokenizer: &lm.tokenizer, chat_template: None, special: &lm.special, max_len: 64 };
    let bytes = std::fs::read(format!("{DECODERS}/lesson.jsonl")).unwrap();
    lm_rows("lesson.jsonl", &bytes).unwrap().0.iter().map(|e| text.tokens(&e.row).unwrap()).collect()
}

/// Each step's loss, and the trained model's log-probabilities of the rows.
fn train(name: &str, plan: &LmPlan) -> (Vec<f64>, Vec<Vec<f32>>) {
    let device = Device::flex();
    let rows = rows(name);
    let files = decoder_folder(name).with_base(plan.base);
    let mut trainer = LmTrainer::new(&files, plan.clone(), rows.clone(), &device).unwrap();
    let mut losses = Vec::new();
    while !trainer.done() {
        losses.push(block_on(trainer.step()).unwrap().loss);
    }
    let texts: Vec<Vec<u32>> = rows.iter().map(|r| r.ids.clone()).collect();
    (losses, block_on(logprobs(&trainer.model(), &texts, &device)).unwrap())
}

/// The tiny decoders' run: LoRA r 4 on every linear layer (or `method`), 2 epochs of batch 2 (shared with the other
/// base tests).
pub fn plan(method: Method, base: Base, lora_dropout: f64) -> LmPlan {
    LmPlan {
        lora: LoraConfig {
            r: 4,
            lora_alpha: 8.0,
            target_modules: Some(TargetModules::parse_list("all-linear")),
            ..LoraConfig::default()
        },
        lora_dropout,
        lr: if method == Method::Full { 1e-3 } else { 1e-2 },
        epochs: 2,
        batch_size: 2,
        warmup_ratio: 0.0,
        base,
        ..default_plan(method)
    }
}

fn same_run(name: &str, plan: LmPlan) {
    let (plain_losses, plain) = train(name, &plan);
    let before = blocks_recorded();
    let (losses, after) = train(name, &LmPlan { gradient_checkpointing: true, ..plan.clone() });
    let layers = decoder_folder(name).config().unwrap().num_hidden_layers;
    assert!(
        blocks_recorded() - before >= layers * losses.len(),
        "{name}: every block of every step was checkpointed ({} recorded)",
        blocks_recorded() - before
    );
    assert_eq!(losses.len(), plain_losses.len());
    for (step, (a, b)) in losses.iter().zip(&plain_losses).enumerate() {
        assert!((a - b).abs() < 1e-5, "{name} {:?}: step {step} loss {a} against {b} without", plan.method);
    }
    let diff = after.iter().flatten().zip(plain.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(diff < 1e-4, "{name} {:?}: the trained models differ by {diff}", plan.method);
    let first = plain_losses[0];
    assert!(plain_losses.iter().any(|&l| (l - first).abs() > 1e-3), "{name}: the runs trained");
}

#[test]
fn lora_with_dropout_trains_the_same_with_gradient_checkpointing() {
    same_run("llama", plan(Method::Lora, Base::Float32, 0.1));
}

#[test]
fn qlora_on_gemma_trains_the_same_with_gradient_checkpointing() {
    same_run("gemma3_text", plan(Method::Lora, Base::Nf4, 0.1));
}

#[test]
fn full_fine_tuning_and_bitfit_train_the_same_with_gradient_checkpointing() {
    same_run("llama", plan(Method::Full, Base::Float32, 0.0));
    same_run("qwen2", plan(Method::Bitfit, Base::Float32, 0.0));
}
