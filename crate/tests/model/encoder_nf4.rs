//! QLoRA on a classifier against transformers + bitsandbytes + PEFT (`tests/reference/nf4_encoder_fixtures.py`):
//! small random BERT, RoBERTa, DistilBERT, ModernBERT and GPT-2 classifiers loaded in NF4 (double-quantized scales,
//! float32 compute, the task layers kept float). The same layers are packed as bitsandbytes made `Linear4bit`; the
//! logits are within 1e-4 of transformers' on the 4-bit model, with and without the PEFT adapter; the loss and the
//! gradient of every trainable tensor (LoRA's A and B, the head) within 1e-4 of PEFT's on the 4-bit model.
#![cfg(feature = "train")]

use burn::module::{Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};
use lora_playground::accounting::lora_config::Bias;
use lora_playground::model::auto::{AutoModelForSequenceClassification, build_with};
use lora_playground::model::config::EncoderConfig;
use lora_playground::model::export::{PeftKey, peft_to_model_name, read_adapter_config, read_peft_weights};
use lora_playground::model::files::encoder_config;
use lora_playground::model::input::EncoderInput;
use lora_playground::model::load::{LoraPlacement, Weights};
use lora_playground::model::lora::LoraLinearConfig;
use lora_playground::model::methods::{Method, apply, lora_modules};
use lora_playground::model::packed::Base;
use lora_playground::model::walk::{VisitParam, map_linears, visit_named};
use lora_playground::safetensors::SafeTensors;
use lora_playground::train::batch::{TextEncoder, targets, to_input};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/encoder_nf4");
const NAMES: [&str; 5] = ["bert", "roberta", "distilbert", "modernbert", "gpt2"];
const LABELS: usize = 3;

fn read(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}/{file}")).unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

struct Fixture {
    name: &'static str,
    config: EncoderConfig,
    weights: Vec<u8>,
    expected: Vec<u8>,
}

impl Fixture {
    fn new(name: &'static str) -> Self {
        let config = encoder_config(&String::from_utf8(read(name, "config.json")).unwrap()).unwrap();
        Self { name, config, weights: read(name, "model.safetensors"), expected: read(name, "expected.safetensors") }
    }

    fn expected(&self) -> SafeTensors<'_> {
        SafeTensors::parse("expected.safetensors", &self.expected).unwrap()
    }

    /// The model on `base`, with the PEFT adapter over it (`with_adapter`), its LoRA and head trainable as PEFT
    /// trains them.
    fn model(&self, base: Base, with_adapter: bool, device: &Device) -> AutoModelForSequenceClassification {
        let weights = Weights::Checkpoint(SafeTensors::parse("model.safetensors", &self.weights).unwrap());
        if !with_adapter {
            return build_with(&self.config, weights, None, LABELS, None, (0, base), device).unwrap();
        }
        let (lora, _) =
            read_adapter_config(&String::from_utf8(read(self.name, "peft/adapter_config.json")).unwrap()).unwrap();
        let modules = lora_modules(&self.config, LABELS, &lora).unwrap();
        let bytes = read(self.name, "peft/adapter_model.safetensors");
        let overrides = read_peft_weights(&SafeTensors::parse("adapter_model.safetensors", &bytes).unwrap()).unwrap();
        let placement = LoraPlacement { modules: &modules, config: LoraLinearConfig::from_peft(&lora, 0.0) };
        let model =
            build_with(&self.config, weights, Some(&overrides), LABELS, Some(placement), (0, base), device).unwrap();
        apply(model, &self.config, Method::Lora, Bias::None, &modules)
    }

    /// The fixture's sentences as one padded batch, tokenized by us (transformers' ids: checked in arch_parity).
    fn input(&self, device: &Device) -> EncoderInput {
        let e = self.expected();
        let sentences: Vec<String> = serde_json::from_str(&e.metadata["sentences"]).unwrap();
        let encoder = TextEncoder::from_bytes(&read(self.name, "tokenizer.json"), 64).unwrap();
        let tokens: Vec<_> = sentences.iter().map(|t| encoder.encode(t).unwrap()).collect();
        let input = to_input(&self.config, &tokens.iter().collect::<Vec<_>>(), device);
        assert_eq!(input.attention_mask.dims(), e.f32("input_ids").unwrap().1[..], "{}: batch shape", self.name);
        input
    }

    fn logits(&self, base: Base, with_adapter: bool) -> Vec<f32> {
        let device = Device::flex();
        let model = self.model(base, with_adapter, &device).valid();
        model.forward(&self.input(&device)).into_data().try_to_vec::<f32>().unwrap()
    }
}

/// The modules held packed: bitsandbytes' `Linear4bit` modules, by name.
#[test]
fn the_same_layers_are_packed_as_bitsandbytes_quantizes() {
    for name in NAMES {
        let f = Fixture::new(name);
        let mut packed = Vec::new();
        let model = f.model(Base::Nf4, false, &Device::flex());
        let _ = map_linears(model, |module, l| {
            if l.packed.is_some() {
                packed.push(module.to_string());
            }
            l
        });
        packed.sort();
        let want: Vec<String> = serde_json::from_str(&f.expected().metadata["quantized"]).unwrap();
        assert_eq!(packed, want, "{name}: packed layers");
        let none = f.model(Base::Float32, false, &Device::flex());
        let _ = map_linears(none, |module, l| {
            assert!(l.packed.is_none(), "{name}: {module} packed on the float32 base");
            l
        });
    }
}

/// Logits on the 4-bit model, with and without the adapter; the float32 base still gives the float model's.
#[test]
fn nf4_logits_match_bitsandbytes_with_and_without_the_peft_adapter() {
    for name in NAMES {
        let f = Fixture::new(name);
        let e = f.expected();
        for (base, adapter, key) in
            [(Base::Float32, false, "float_logits"), (Base::Nf4, false, "logits"), (Base::Nf4, true, "peft_logits")]
        {
            let d = max_diff(&f.logits(base, adapter), &e.f32(key).unwrap().0);
            assert!(d < 1e-4, "{name}: {key} differ from the reference by {d}");
        }
        // Quantization moves the logits: the comparison above could tell the two bases apart.
        let gap = max_diff(&e.f32("logits").unwrap().0, &e.f32("float_logits").unwrap().0);
        assert!(gap > 1e-3, "{name}: NF4 moves the logits by only {gap}");
    }
}

/// One training step's loss and gradients on the 4-bit model: every tensor PEFT trains (LoRA's A and B, the head
/// `modules_to_save` copies) and no other.
#[test]
fn nf4_loss_and_gradients_match_peft() {
    struct Grads<'a>(&'a GradientsParams, Vec<(String, Vec<f32>)>);
    impl VisitParam for Grads<'_> {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            if let Some(g) = self.0.get::<D>(param.id) {
                let dims = g.dims();
                let mut v = g.into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
                if D == 2 && !name.contains(".lora_") {
                    // A linear layer's weight is burn's `[in, out]`: torch's `[out, in]` to compare.
                    let (rows, cols) = (dims[0], dims[1]);
                    v = (0..cols).flat_map(|c| (0..rows).map(move |r| (r, c))).map(|(r, c)| v[r * cols + c]).collect();
                }
                self.1.push((name.to_string(), v));
            }
        }
    }
    for name in NAMES {
        let f = Fixture::new(name);
        let e = f.expected();
        let device = Device::flex().autodiff();
        let model = f.model(Base::Nf4, true, &device);
        let labels: Vec<usize> = e.f32("labels").unwrap().0.iter().map(|&l| l as usize).collect();
        let logits = model.forward(&f.input(&device));
        let loss = CrossEntropyLossConfig::new().init(&device).forward(logits, targets(&labels, &device));
        let value = loss.clone().into_data().convert::<f32>().try_to_vec::<f32>().unwrap()[0];
        let want = e.f32("peft_loss").unwrap().0[0];
        assert!((value - want).abs() < 1e-4, "{name}: loss {value}, PEFT's {want}");
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let mut ours = Grads(&grads, Vec::new());
        visit_named(&model, f.config.flavor, &mut ours);
        let peft: Vec<String> = e
            .entries
            .keys()
            .filter_map(|k| k.strip_prefix("grad."))
            .filter_map(|k| match peft_to_model_name(k) {
                PeftKey::Model(m) => Some(m),
                PeftKey::OriginalHead => None,
            })
            .collect();
        let mut trained: Vec<&str> = ours.1.iter().map(|(n, _)| n.as_str()).collect();
        trained.sort();
        let mut want_trained: Vec<&str> = peft.iter().map(String::as_str).collect();
        want_trained.sort();
        assert_eq!(trained, want_trained, "{name}: the tensors with a gradient");
        for (param, got) in &ours.1 {
            let key = e
                .entries
                .keys()
                .filter_map(|k| k.strip_prefix("grad."))
                .find(|k| matches!(peft_to_model_name(k), PeftKey::Model(m) if &m == param))
                .unwrap();
            let d = max_diff(got, &e.f32(&format!("grad.{key}")).unwrap().0);
            assert!(d < 1e-4, "{name}: gradient of {param} differs from PEFT's by {d}");
        }
    }
}
