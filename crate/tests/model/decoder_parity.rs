//! Parity of the language models with transformers and PEFT on small random models of each family
//! (`tests/reference/decoder_fixtures.py` built them and recorded what transformers computes): Llama with tied
//! embeddings and a BOS token, Qwen2 with q/k/v biases and its own `lm_head`, Gemma 3 with sliding-window layers
//! shorter than the texts; grouped-query attention in all three. Token ids are transformers', log-probabilities
//! within 1e-4 with and without a PEFT adapter, greedy generation (with the key/value cache and without) the same
//! ids, and the completion-only loss and every LoRA gradient within 1e-4 of PEFT's.
#![cfg(feature = "train")]

use burn::module::Param;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use futures_lite::future::block_on;
use lora_playground::accounting::arch::HfConfig;
use lora_playground::accounting::arch::flavor::Flavor;
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::causal::score::{causal_lm_loss, logprobs};
use lora_playground::model::causal::{self, AutoModelForCausalLM};
use lora_playground::model::export::{PeftKey, peft_to_model_name, read_adapter_config, read_peft_weights};
use lora_playground::model::load::{LoraPlacement, Overrides, Weights};
use lora_playground::model::lora::LoraLinearConfig;
use lora_playground::model::walk::{VisitParam, visit_named};
use lora_playground::safetensors::SafeTensors;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decoder");
const FAMILIES: [&str; 3] = ["llama", "qwen2", "gemma3_text"];

fn read(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}/{file}")).unwrap()
}

struct Fixture {
    config: lora_playground::model::config::decoder::DecoderConfig,
    weights: Vec<u8>,
    expected: Vec<u8>,
    adapter: Vec<u8>,
    adapter_config: String,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let text = String::from_utf8(read(name, "config.json")).unwrap();
        Self {
            config: causal::read_config(&HfConfig::parse(&text).unwrap()).unwrap(),
            weights: read(name, "model.safetensors"),
            expected: read(name, "expected.safetensors"),
            adapter: read(name, "peft/adapter_model.safetensors"),
            adapter_config: String::from_utf8(read(name, "peft/adapter_config.json")).unwrap(),
        }
    }

    fn expected(&self) -> SafeTensors<'_> {
        SafeTensors::parse("expected.safetensors", &self.expected).unwrap()
    }

    /// The base model, or with the fixture's PEFT adapter.
    fn model(&self, with_adapter: bool, device: &Device) -> AutoModelForCausalLM {
        let weights = Weights::Checkpoint(SafeTensors::parse("model.safetensors", &self.weights).unwrap());
        if !with_adapter {
            return causal::build(&self.config, weights, None, None, 0, Default::default(), None, device).unwrap();
        }
        let (lora, dropout) = read_adapter_config(&self.adapter_config).unwrap();
        let overrides: Overrides =
            read_peft_weights(&SafeTensors::parse("adapter_model.safetensors", &self.adapter).unwrap()).unwrap();
        let modules = causal::lora_modules(&self.config, lora.target_modules.as_ref().unwrap());
        assert_eq!(modules.len(), 7 * self.config.num_hidden_layers, "every linear layer of every block");
        let placement = LoraPlacement { modules: &modules, config: LoraLinearConfig::from_peft(&lora, dropout) };
        causal::build(&self.config, weights, Some(&overrides), Some(placement), 0, Default::default(), None, device)
            .unwrap()
    }

    /// The batch's texts as transformers tokenized them (the padded batch without its padding), and the labels.
    fn texts(&self) -> (Vec<Vec<u32>>, Vec<Vec<Option<u32>>>) {
        batch(&self.expected())
    }
}

/// A reference file's batch (`input_ids`, `attention_mask`, and `labels` when it has them) as our functions take
/// it: each text without its padding, and each position's label (None where PEFT's is -100).
pub fn batch(e: &SafeTensors) -> (Vec<Vec<u32>>, Vec<Vec<Option<u32>>>) {
    let (ids, shape) = e.f32("input_ids").unwrap();
    let (mask, _) = e.f32("attention_mask").unwrap();
    let labels = e.f32("labels").map(|(l, _)| l).unwrap_or_default();
    let [b, s] = [shape[0], shape[1]];
    let (mut rows, mut row_labels) = (Vec::with_capacity(b), Vec::with_capacity(b));
    for i in 0..b {
        let real: Vec<usize> = (0..s).filter(|&j| mask[i * s + j] == 1.0).collect();
        rows.push(real.iter().map(|&j| ids[i * s + j] as u32).collect());
        if !labels.is_empty() {
            row_labels
                .push(real.iter().map(|&j| (labels[i * s + j] >= 0.0).then_some(labels[i * s + j] as u32)).collect());
        }
    }
    let labels = row_labels;
    (rows, labels)
}

/// The completion-only loss of `model` on the reference batch, and the gradient of every LoRA matrix, within 1e-4
/// of PEFT's (`peft_loss`, `grad.<PEFT's name>`); `layers` blocks with 7 adapted layers each.
pub fn loss_and_lora_gradients_match(
    name: &str,
    model: &AutoModelForCausalLM,
    flavor: Flavor,
    layers: usize,
    e: &SafeTensors,
    device: &Device,
) {
    struct Grads<'a>(&'a GradientsParams, Vec<(String, Vec<f32>)>);
    impl VisitParam for Grads<'_> {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            if name.contains(".lora_") {
                let g = self.0.get::<D>(param.id).expect("a LoRA matrix has a gradient");
                self.1.push((name.to_string(), g.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()));
            }
        }
    }
    let (texts, labels) = batch(e);
    let loss = causal_lm_loss(model, &texts, &labels, device);
    let value = loss.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()[0];
    let want = e.f32("peft_loss").unwrap().0[0];
    assert!((value - want).abs() < 1e-4, "{name}: loss {value}, PEFT's {want}");
    let grads = GradientsParams::from_grads(loss.backward(), model);
    let mut ours = Grads(&grads, Vec::new());
    visit_named(model, flavor, &mut ours);
    assert_eq!(ours.1.len(), 2 * 7 * layers, "{name}: A and B of every adapted layer");
    for (param, got) in ours.1 {
        let key = e
            .entries
            .keys()
            .filter_map(|k| k.strip_prefix("grad."))
            .find(|k| matches!(peft_to_model_name(k), PeftKey::Model(m) if m == param))
            .unwrap_or_else(|| panic!("{name}: PEFT has no gradient for {param}"));
        let (want, _) = e.f32(&format!("grad.{key}")).unwrap();
        let d = max_diff(&got, &want);
        assert!(d < 1e-4, "{name}: gradient of {param} differs by {d}");
    }
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Our log-probabilities of the padded batch's real tokens against transformers' (`key`: `logprobs` or
/// `peft_logprobs`, `[batch, seq - 1]`).
fn logprobs_match(name: &str, with_adapter: bool) {
    let f = Fixture::new(name);
    let device = Device::flex();
    let model = f.model(with_adapter, &device);
    let (texts, _) = f.texts();
    let ours = block_on(logprobs(&model, &texts, &device)).unwrap();
    let e = f.expected();
    let key = if with_adapter { "peft_logprobs" } else { "logprobs" };
    let (want, shape) = e.f32(key).unwrap();
    let s1 = shape[1];
    for (i, row) in ours.iter().enumerate() {
        let d = max_diff(row, &want[i * s1..i * s1 + row.len()]);
        assert!(d < 1e-4, "{name} {key}: text {i} differs by {d}");
    }
}

#[test]
fn base_logprobs_match_transformers() {
    for name in FAMILIES {
        logprobs_match(name, false);
    }
}

#[test]
fn peft_adapter_logprobs_match_peft() {
    for name in FAMILIES {
        logprobs_match(name, true);
    }
}

#[test]
fn token_ids_match_transformers_tokenizer() {
    for name in FAMILIES {
        let f = Fixture::new(name);
        let tok = tokenizers::Tokenizer::from_bytes(read(name, "tokenizer.json")).unwrap();
        let texts: Vec<(String, String)> = serde_json::from_str(&f.expected().metadata["texts"]).unwrap();
        let (want, _) = f.texts();
        for ((p, c), want) in texts.iter().zip(want) {
            let ids = tok.encode(format!("{p}{c}"), true).unwrap().get_ids().to_vec();
            assert_eq!(ids, want, "{name}: {p}{c}");
        }
    }
}

#[test]
fn greedy_generation_matches_transformers_with_and_without_cache() {
    for name in FAMILIES {
        let f = Fixture::new(name);
        let device = Device::flex();
        let tok = tokenizers::Tokenizer::from_bytes(read(name, "tokenizer.json")).unwrap();
        let texts: Vec<(String, String)> = serde_json::from_str(&f.expected().metadata["texts"]).unwrap();
        for with_adapter in [false, true] {
            let model = f.model(with_adapter, &device);
            for k in 0..2 {
                let prompt = tok.encode(texts[k].0.as_str(), true).unwrap().get_ids().to_vec();
                let key = format!("{}greedy.{k}", if with_adapter { "peft_" } else { "" });
                let want: Vec<u32> = f.expected().f32(&key).unwrap().0.iter().map(|&x| x as u32).collect();
                for use_cache in [true, false] {
                    let sampling = Sampling { use_cache, ..Sampling::greedy(want.len()) };
                    let got = block_on(generate(&model, &prompt, &[], &sampling, &device, |_| true)).unwrap();
                    assert_eq!(got, want, "{name} {key} (cache: {use_cache})");
                }
            }
        }
    }
}

#[test]
fn completion_only_loss_and_lora_gradients_match_peft() {
    for name in FAMILIES {
        let f = Fixture::new(name);
        let device = Device::flex().autodiff();
        let model = f.model(true, &device);
        let layers = f.config.num_hidden_layers;
        loss_and_lora_gradients_match(name, &model, f.config.flavor, layers, &f.expected(), &device);
    }
}
