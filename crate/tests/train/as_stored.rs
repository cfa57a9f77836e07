//! The *as stored* base (`Base::AsStored`, the page's "as stored in the GGUF file"): a GGUF file's quantized tensors
//! stay in their blocks, the token table and the output head too, and give what the model widened at load gives:
//! log-probabilities within 1e-5, the same greedy tokens, and the same LoRA training, step by step (the fused
//! output head's gradient against burn's own `log_softmax` backward). The synthetic GGUF fixtures are rewritten
//! here with their matrices in ggml's 32-wide block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), filled with blocks of small
//! seeded values; the k-quants' rows are checked in `packed::ggml` and on the real Gemma 3 file (`gguf_real`).
#![cfg(feature = "train")]

use burn::module::Module;
use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::data::lm::lm_rows;
use lora_playground::gguf::Gguf;
use lora_playground::gguf::quant::GgmlType;
use lora_playground::model::causal::files::{LmFiles, LmSource};
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::causal::parameter_count;
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::methods::Method;
use lora_playground::model::packed::Base;
use lora_playground::train::causal::plan::default_plan;
use lora_playground::train::causal::tokens::{LmText, LmTokens};
use lora_playground::train::causal::trainer::{LmPlan, LmTrainer};

use super::common::DECODERS;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gguf");

/// (type, its ggml id, the float16 scale written into each block).
const KINDS: [(GgmlType, u32, u16); 5] = [
    (GgmlType::Q4_0, 2, 0x251f),
    (GgmlType::Q4_1, 3, 0x251f),
    (GgmlType::Q5_0, 6, 0x251f),
    (GgmlType::Q5_1, 7, 0x251f),
    (GgmlType::Q8_0, 8, 0x1819),
];

/// The fixture `name` with every matrix in one of `KINDS` (in turn): its type id changed in the tensor table and
/// blocks written at the start of its data (a quantized tensor takes fewer bytes than the float32 one it replaces).
fn quantized(name: &str) -> Vec<u8> {
    let mut bytes = std::fs::read(format!("{FIXTURES}/{name}.gguf")).unwrap();
    let tensors: Vec<(String, usize, usize, usize)> = {
        let g = Gguf::parse(name, &bytes).unwrap();
        g.tensors.iter().map(|t| (t.name.clone(), t.dims.len(), t.elements(), t.start)).collect()
    };
    let data_start = tensors.iter().map(|t| t.3).min().unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as u8
    };
    for (i, (tensor, dims, n, start)) in tensors.iter().filter(|t| t.1 == 2).enumerate() {
        let (kind, id, scale) = KINDS[i % KINDS.len()];
        let mut pattern = (tensor.len() as u64).to_le_bytes().to_vec();
        pattern.extend(tensor.as_bytes());
        let at = bytes[..data_start].windows(pattern.len()).position(|w| w == pattern).unwrap() + pattern.len();
        let type_at = at + 4 + 8 * dims;
        bytes[type_at..type_at + 4].copy_from_slice(&id.to_le_bytes());
        for b in 0..n / kind.block_size() {
            let block = &mut bytes[start + b * kind.block_bytes()..start + (b + 1) * kind.block_bytes()];
            block.iter_mut().for_each(|x| *x = next());
            block[..2].copy_from_slice(&scale.to_le_bytes());
            if matches!(kind, GgmlType::Q4_1 | GgmlType::Q5_1) {
                block[2..4].copy_from_slice(&0xae66u16.to_le_bytes()); // min -0.1
            }
        }
    }
    bytes
}

fn files(name: &str, base: Base) -> LmFiles {
    LmFiles::new(format!("{name}.gguf"), LmSource::Gguf(quantized(name).into())).with_base(base)
}

#[test]
fn blocks_as_stored_give_the_widened_models_log_probabilities_and_tokens() {
    let device = Device::flex();
    for name in ["llama_bpe", "gemma3"] {
        let widened = files(name, Base::Float32).load(None, &device).unwrap();
        let stored = files(name, Base::AsStored).load(None, &device).unwrap();
        // The count transformers gives, with only the norms left as parameters burn sees.
        assert_eq!(parameter_count(&stored.model), parameter_count(&widened.model), "{name}: parameters");
        assert!(stored.model.num_params() < 1000, "{name}: {} float parameters", stored.model.num_params());
        let text = "The quick brown fox jumps over the lazy dog, again and again.";
        let ids = widened.tokenizer.encode(text, true).unwrap().get_ids().to_vec();
        let a = block_on(logprobs(&widened.model, std::slice::from_ref(&ids), &device)).unwrap().remove(0);
        let b = block_on(logprobs(&stored.model, std::slice::from_ref(&ids), &device)).unwrap().remove(0);
        let d = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(d < 1e-5, "{name}: as stored differs from widened by {d}");
        assert!(a.iter().any(|&x| x < -1.0), "{name}: the blocks make a model with something to predict");
        let greedy = |m| block_on(generate(m, &ids[..4], &[], &Sampling::greedy(8), &device, |_| true)).unwrap();
        assert_eq!(greedy(&stored.model), greedy(&widened.model), "{name}: greedy tokens");
        let beyond = vec![1, stored.config.vocab_size as u32];
        let refused = block_on(logprobs(&stored.model, &[beyond], &device)).unwrap_err().to_string();
        assert!(refused.contains("beyond the model's vocabulary"), "{name}: {refused}");
        // What the file stores in float (five norms of 64 here), widened: the budget's share beside the blocks.
        let norms = if name == "gemma3" { 2 * (4 * 64 + 2 * 32) + 64 } else { 5 * 64 };
        assert_eq!(files(name, Base::AsStored).float_bytes_beside_blocks().unwrap(), Some(4 * norms as u64));
    }
}

fn rows(files: &LmFiles) -> Vec<LmTokens> {
    let lm = files.load(None, &Device::flex()).unwrap();
    let text = LmText { tokenizer: &lm.tokenizer, chat_template: None, special: &lm.special, max_len: 64 };
    let bytes = std::fs::read(format!("{DECODERS}/lesson.jsonl")).unwrap();
    lm_rows("lesson.jsonl", &bytes).unwrap().0.iter().map(|e| text.tokens(&e.row).unwrap()).collect()
}

fn losses(files: &LmFiles, plan: &LmPlan, rows: &[LmTokens]) -> Vec<f64> {
    let mut trainer = LmTrainer::new(files, plan.clone(), rows.to_vec(), &Device::flex()).unwrap();
    let mut out = Vec::new();
    while !trainer.done() {
        out.push(block_on(trainer.step()).unwrap().loss);
    }
    out
}

#[test]
fn lora_on_blocks_as_stored_trains_as_on_the_widened_model() {
    for name in ["llama_bpe", "gemma3"] {
        let plan = super::checkpointing::plan(Method::Lora, Base::Float32, 0.0);
        let rows = rows(&files(name, Base::Float32));
        let widened = losses(&files(name, Base::Float32), &plan, &rows);
        let stored = losses(&files(name, Base::AsStored), &LmPlan { base: Base::AsStored, ..plan.clone() }, &rows);
        assert_eq!(stored.len(), widened.len());
        for (step, (a, b)) in stored.iter().zip(&widened).enumerate() {
            assert!((a - b).abs() < 1e-5 * b.abs().max(1.0), "{name}: step {step} loss {a} against {b} widened");
        }
        assert!(widened.iter().any(|&l| (l - widened[0]).abs() > 1e-3), "{name}: the runs trained");
        let full = LmPlan { base: Base::AsStored, ..default_plan(Method::Full) };
        let refused = LmTrainer::new(&files(name, Base::AsStored), full, rows.clone(), &Device::flex());
        assert!(refused.err().unwrap().to_string().contains("choose float32"), "{name}: full fine-tuning refused");
    }
}
