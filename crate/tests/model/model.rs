//! The burn encoder with LoRA on tiny random models: PEFT's initialisation, merging, the method flags,
//! parameter counts equal to the calculator's, frozen weights untouched by training, seeded reproducibility,
//! and a short training run that learns.
#![cfg(feature = "train")]

use std::collections::BTreeSet;

use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use lora_playground::accounting::arch::flavor::Flavor;
use lora_playground::accounting::count::count_lora;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::accounting::memory::{Batch, Optimizer, Precision};
use lora_playground::accounting::method_costs as calc;
use lora_playground::model::auto::AutoModelForSequenceClassification;
use lora_playground::model::auto::{build, build_with};
use lora_playground::model::bert::BertForSequenceClassification;
use lora_playground::model::config::EncoderConfig;
use lora_playground::model::config::{ModernBertOptions, Pooling};
use lora_playground::model::export::named_tensors;
use lora_playground::model::load::{LoraPlacement, Weights};
use lora_playground::model::lora::LoraLinearConfig;
use lora_playground::model::methods::{Method, apply, architecture, count, lora_modules};
use lora_playground::model::packed::Base;
use lora_playground::model::paths::{hf_name, is_head};
use lora_playground::model::walk::{MapParam, map_linears, map_params};
use lora_playground::rng::Rng;
use lora_playground::train::batch::{Tokens, to_input};
use lora_playground::train::config::{Sample, TrainConfig};
use lora_playground::train::fit::train;

const LABELS: usize = 3;

fn device() -> Device {
    Device::flex().autodiff()
}

fn lora_config(r: u64, targets: &[&str], bias: Bias) -> LoraConfig {
    LoraConfig {
        r,
        lora_alpha: 2.0 * r as f64,
        target_modules: Some(if targets == ["all-linear"] {
            TargetModules::Shorthand("all-linear".into())
        } else {
            TargetModules::Names(targets.iter().map(|s| s.to_string()).collect())
        }),
        bias,
        ..LoraConfig::default()
    }
}

fn model(method: Method, lora: &LoraConfig, seed: u64) -> (EncoderConfig, AutoModelForSequenceClassification) {
    model_with(EncoderConfig::tiny(40), method, lora, seed)
}

/// The tiny BERT, and the same sizes as a RoBERTa (`roberta.*` names, its own head, one token type, positions
/// from `pad_token_id + 1`) and as a DistilBERT (`distilbert.*` names, `pre_classifier` + ReLU, no token types,
/// a fixed sinusoidal position table) and as a GPT-2 (its own pre-norm causal model, Conv1D layers, `score` at the
/// last token) and as a ModernBERT (pre-norm, rotary, a global and a sliding-window layer, no biases, mean pooling).
fn tiny_all() -> [EncoderConfig; 5] {
    let bert = EncoderConfig::tiny(40);
    let roberta = EncoderConfig {
        flavor: Flavor::Roberta,
        type_vocab_size: 1,
        pad_token_id: 1,
        max_position_embeddings: 66,
        ..bert.clone()
    };
    let distilbert =
        EncoderConfig { flavor: Flavor::Distilbert, type_vocab_size: 0, sinusoidal_pos_embds: true, ..bert.clone() };
    let gpt2 = EncoderConfig {
        flavor: Flavor::Gpt2,
        type_vocab_size: 0,
        layer_norm_eps: 1e-5,
        classifier_dropout: 0.0,
        ..bert.clone()
    };
    let options = ModernBertOptions {
        windows: vec![None, Some(2)],
        global_rope_theta: 160_000.0,
        local_rope_theta: 10_000.0,
        norm_bias: false,
        attention_bias: false,
        mlp_bias: false,
        classifier_bias: false,
        pooling: Pooling::Mean,
    };
    let modernbert = EncoderConfig {
        flavor: Flavor::ModernBert,
        type_vocab_size: 0,
        layer_norm_eps: 1e-5,
        modernbert: Some(options),
        ..bert.clone()
    };
    [bert, roberta, distilbert, gpt2, modernbert]
}

/// BERT's module names for `flavor`: DistilBERT calls `query` `q_lin`, `intermediate.dense` `ffn.lin1`; GPT-2 has
/// one fused `c_attn` for query, key and value, and `c_proj` in both the attention and the MLP.
fn targets(flavor: Flavor, names: &[&str]) -> Vec<String> {
    fn gpt2(n: &str) -> &str {
        match n {
            "query" | "value" => "c_attn",
            "key" => "c_fc",
            "attention.output.dense" => "attn.c_proj",
            "intermediate.dense" => "c_fc",
            "dense" => "c_proj",
            other => other,
        }
    }
    fn distil(n: &str) -> &str {
        match n {
            "query" => "q_lin",
            "key" => "k_lin",
            "value" => "v_lin",
            "attention.output.dense" => "out_lin",
            "intermediate.dense" => "lin1",
            "dense" => "lin2",
            other => other,
        }
    }
    fn modernbert(n: &str) -> &str {
        match n {
            "query" | "value" => "Wqkv",
            "key" | "intermediate.dense" => "Wi",
            "attention.output.dense" => "attn.Wo",
            other => other,
        }
    }
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let name = match flavor {
            Flavor::Distilbert => distil(n),
            Flavor::Gpt2 => gpt2(n),
            Flavor::ModernBert => modernbert(n),
            _ => n,
        };
        if !out.iter().any(|o| o == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// `all-linear`, or for DistilBERT every linear layer by name: PEFT refuses `all-linear` on
/// `DistilBertForSequenceClassification`, since it takes `pre_classifier`, which `modules_to_save` also wraps
/// ("modules_to_save cannot be applied to modules of type lora.Linear"), and so does the calculator.
fn all_linear(flavor: Flavor) -> Vec<&'static str> {
    match flavor {
        Flavor::Distilbert => vec!["q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"],
        _ => vec!["all-linear"],
    }
}

fn lora_for(flavor: Flavor, r: u64, names: &[&str], bias: Bias) -> LoraConfig {
    let names = targets(flavor, names);
    lora_config(r, &names.iter().map(String::as_str).collect::<Vec<_>>(), bias)
}

fn bert(m: &AutoModelForSequenceClassification) -> &BertForSequenceClassification {
    match m {
        AutoModelForSequenceClassification::Bert(b) => b,
        _ => panic!("a BERT-family model"),
    }
}

fn model_with(
    config: EncoderConfig,
    method: Method,
    lora: &LoraConfig,
    seed: u64,
) -> (EncoderConfig, AutoModelForSequenceClassification) {
    let device = device();
    device.seed(seed);
    let modules = if method == Method::Lora { lora_modules(&config, LABELS, lora).unwrap() } else { Vec::new() };
    let placement = (method == Method::Lora)
        .then(|| LoraPlacement { modules: &modules, config: LoraLinearConfig::from_peft(lora, 0.0) });
    let m = build(&config, Weights::Random, LABELS, placement, &device).unwrap();
    let m = apply(m, &config, method, lora.bias, &modules);
    (config, m)
}

fn tokens(words: &[u32]) -> Tokens {
    let mut ids = vec![1];
    ids.extend_from_slice(words);
    ids.push(2);
    Tokens { type_ids: vec![0; ids.len()], ids }
}

/// Class c's sentences use words from its own band of the vocabulary, in varying order and length.
fn toy_data(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let label = i % LABELS;
            let len = 3 + i % 5;
            let words: Vec<u32> = (0..len).map(|j| 3 + (label * 12) as u32 + ((i * 7 + j * 3) % 12) as u32).collect();
            Sample { tokens: tokens(&words), label }
        })
        .collect()
}

#[test]
fn lora_b_is_zero_initialized_so_the_initial_delta_is_zero() {
    let (_, m) = model(Method::Lora, &lora_config(4, &["query", "value"], Bias::None), 0);
    let q = bert(&m).bert.encoder.layer[0].attention.self_attention.query.lora.as_ref().unwrap();
    let a = q.lora_a.val();
    assert_eq!(a.dims(), [4, 16], "A is [r, in]");
    // kaiming_uniform(a=sqrt(5)) on [r, in]: U(-1/sqrt(in), 1/sqrt(in)) = U(-0.25, 0.25) for in = 16.
    let max = a.clone().abs().max().into_scalar::<f32>();
    assert!(max <= 0.25 && max > 0.1, "{max}");
    assert_eq!(q.lora_b.val().dims(), [16, 4], "B is [out, r]");
    assert_eq!(q.delta_weight().abs().sum().into_scalar::<f32>(), 0.0);
    assert_eq!(q.scaling, 2.0, "lora_alpha / r = 8 / 4");
}

#[test]
fn merging_folds_the_adapter_into_the_weight_and_leaves_the_original_alone() {
    let (config, mut m) = model(Method::Lora, &lora_config(4, &["all-linear"], Bias::None), 1);
    let device = device();
    // Give B real values so the adapter matters.
    let AutoModelForSequenceClassification::Bert(b) = &mut m else { panic!("the tiny model is a BERT") };
    for layer in &mut b.bert.encoder.layer {
        let q = layer.attention.self_attention.query.lora.as_mut().unwrap();
        q.lora_b = Param::from_tensor(Tensor::random([16, 4], Distribution::Normal(0.0, 0.5), &device));
    }
    let m = m.valid();
    let d = Device::flex();
    let batch = [&tokens(&[5, 6, 7]), &tokens(&[8, 9])];
    let input = to_input(&config, &batch, &d);
    let before = m.forward(&input);
    let original = named_tensors(&m);
    let merged = m.clone().merge();
    let diff = (before.clone() - merged.forward(&input)).abs().max().into_scalar::<f32>();
    assert!(diff < 1e-5, "merged differs by {diff}");

    // No LoRA path is left, and each merged weight is the base weight plus scaling * B A ...
    let merged_w = named_tensors(&merged);
    assert!(!merged_w.keys().any(|k| k.contains("lora")), "{:?}", merged_w.keys());
    let lora = bert(&m).bert.encoder.layer[0].attention.self_attention.query.lora.as_ref().unwrap();
    // burn keeps [in, out]; the named tensors are torch's [out, in], as is B A.
    let delta = lora.lora_b.val().matmul(lora.lora_a.val()).mul_scalar(lora.scaling);
    let q = "bert.encoder.layer.0.attention.self.query.weight";
    let (base, shape, _) = &original[q];
    let want = Tensor::<2>::from_data(TensorData::new(base.clone(), [shape[0], shape[1]]), &d) + delta;
    let got = Tensor::<2>::from_data(TensorData::new(merged_w[q].0.clone(), [shape[0], shape[1]]), &d);
    let diff = (want - got).abs().max().into_scalar::<f32>();
    assert!(diff < 1e-6, "merged weight differs from W + scaling * B A by {diff}");
    // ... and the model it was merged from is unchanged: same tensors, same outputs.
    assert_eq!(named_tensors(&m), original);
    let diff = (before - m.forward(&input)).abs().max().into_scalar::<f32>();
    assert_eq!(diff, 0.0, "the original model changed");
}

#[test]
fn a_seeded_random_model_draws_its_values_in_checkpoint_order() {
    // One generator hands out every random value in build order, so a block built out of turn would change
    // every model (and the tiny model's files) a seed gives.
    let config = EncoderConfig::tiny(40);
    let lora = lora_config(4, &["query"], Bias::None);
    let modules = lora_modules(&config, LABELS, &lora).unwrap();
    let placement = LoraPlacement { modules: &modules, config: LoraLinearConfig::from_peft(&lora, 0.0) };
    let m = build_with(&config, Weights::Random, None, LABELS, Some(placement), (7, Base::Float32), &Device::flex())
        .unwrap();
    let got = named_tensors(&m);
    let mut rng = Rng::new(7);
    let std = config.initializer_range;
    let (h, bound) = (config.hidden_size, 1.0 / (config.hidden_size as f64).sqrt());
    let q = "bert.encoder.layer.0.attention.self.query";
    for (name, n, uniform) in [
        ("bert.embeddings.word_embeddings.weight".to_string(), 40 * h, false),
        ("bert.embeddings.position_embeddings.weight".to_string(), config.max_position_embeddings * h, false),
        ("bert.embeddings.token_type_embeddings.weight".to_string(), config.type_vocab_size * h, false),
        (format!("{q}.weight"), h * h, false),
        (format!("{q}.lora_A.weight"), 4 * h, true),
        ("bert.encoder.layer.0.attention.self.key.weight".to_string(), h * h, false),
    ] {
        let want: Vec<f32> =
            (0..n).map(|_| if uniform { rng.uniform(-bound, bound) } else { rng.normal(std) } as f32).collect();
        assert_eq!(got[&name].0, want, "{name}");
    }
}

#[test]
fn live_parameter_counts_equal_the_calculator() {
    for encoder in tiny_all() {
        let flavor = encoder.flavor;
        let configs = [
            lora_for(flavor, 4, &["query", "value"], Bias::None),
            lora_for(flavor, 8, &all_linear(flavor), Bias::All),
            lora_for(flavor, 2, &["attention.output.dense", "intermediate.dense"], Bias::LoraOnly),
            // Every `dense`: BERT's pooler too; not RoBERTa's classifier.dense, inside the modules_to_save head.
            lora_for(flavor, 2, &["dense"], Bias::LoraOnly),
            LoraConfig {
                layers_to_transform: Some(vec![1]),
                use_rslora: true,
                ..lora_for(flavor, 3, &["key"], Bias::None)
            },
        ];
        for lora in &configs {
            let (config, m) = model_with(encoder.clone(), Method::Lora, lora, 0);
            let arch = architecture(&config, LABELS).unwrap();
            let want = count_lora(&arch, lora).unwrap();
            let live = count(&m);
            assert_eq!(live.trainable, want.trainable, "{flavor:?} {lora:?}: {:?}", live.trainable_names);
            // PEFT also keeps the frozen original head next to its trainable copy; the burn model trains the head in place.
            assert_eq!(live.total + want.head_copy_params, want.all, "{flavor:?} {lora:?}");
            if flavor == Flavor::Roberta {
                assert!(
                    !live.trainable_names.iter().any(|n| n.starts_with("classifier.dense.lora")),
                    "{:?}",
                    live.trainable_names
                );
            }
            if flavor == Flavor::Distilbert {
                // PEFT's modules_to_save ["classifier", "score"] matches `pre_classifier` by suffix: it trains too.
                assert!(
                    live.trainable_names.contains(&"pre_classifier.weight".to_string()),
                    "{:?}",
                    live.trainable_names
                );
            }
        }
        let inputs =
            calc::CostInputs { precision: Precision::Fp32, optimizer: Optimizer::Adamw, batch: Batch::default() };
        for method in [Method::Full, Method::Head, Method::Bitfit] {
            let (config, m) = model_with(encoder.clone(), method, &LoraConfig::default(), 0);
            let arch = architecture(&config, LABELS).unwrap();
            let want = match method {
                Method::Full => calc::full(&arch, inputs),
                Method::Head => calc::head_only(&arch, inputs),
                _ => calc::bitfit(&arch, inputs),
            };
            let live = count(&m);
            assert_eq!((live.trainable, live.total), (want.trainable, want.all), "{flavor:?} {method:?}");
        }
    }
}

#[test]
fn parameter_paths_are_hugging_face_names() {
    let (_, m) = model(Method::Lora, &lora_config(2, &["query"], Bias::None), 0);
    let names = count(&m).trainable_names;
    assert!(names.contains(&"bert.encoder.layer.1.attention.self.query.lora_A.weight".to_string()), "{names:?}");
    assert!(names.contains(&"classifier.weight".to_string()), "{names:?}");
    assert_eq!(hf_name("bert.embeddings.layer_norm.beta"), "bert.embeddings.LayerNorm.bias");
    let [_, roberta, distilbert, gpt2, modernbert] = tiny_all();
    let e = lora_modules(&distilbert, LABELS, &lora_config(2, &["all-linear"], Bias::None)).unwrap_err();
    assert!(e.message.contains("'pre_classifier' is both a LoRA target and a modules_to_save head"), "{}", e.message);
    let (_, m) = model_with(roberta, Method::Lora, &lora_config(2, &["query"], Bias::None), 0);
    let names = count(&m).trainable_names;
    for name in [
        "roberta.encoder.layer.1.attention.self.query.lora_A.weight",
        "classifier.dense.weight",
        "classifier.out_proj.bias",
    ] {
        assert!(names.contains(&name.to_string()), "{name}: {names:?}");
    }
    let (_, m) = model_with(distilbert, Method::Full, &LoraConfig::default(), 0);
    let all = named_tensors(&m);
    for name in [
        "distilbert.transformer.layer.1.attention.q_lin.weight",
        "distilbert.transformer.layer.1.sa_layer_norm.bias",
        "distilbert.transformer.layer.0.ffn.lin2.weight",
        "distilbert.transformer.layer.0.output_layer_norm.weight",
        "pre_classifier.bias",
        "classifier.weight",
    ] {
        assert!(all.get(name).is_some_and(|t| t.2), "{name}: {:?}", all.keys());
    }
    // No token types; the sinusoidal position table is a parameter that even full fine-tuning leaves alone.
    assert!(!all.keys().any(|k| k.contains("token_type")), "{:?}", all.keys());
    assert!(!all["distilbert.embeddings.position_embeddings.weight"].2);
    let (_, m) = model_with(gpt2, Method::Lora, &lora_config(2, &["c_attn"], Bias::None), 0);
    let all = named_tensors(&m);
    // Conv1D weights are [in, out] in torch too: c_attn is [n_embd, 3 n_embd]; score has no bias.
    assert_eq!(all["transformer.h.0.attn.c_attn.weight"].1, [16, 48]);
    assert_eq!(all["transformer.h.1.attn.c_attn.lora_B.weight"].1, [48, 2]);
    assert_eq!(all["score.weight"].1, [LABELS, 16]);
    assert!(!all.contains_key("score.bias") && all["transformer.ln_f.weight"].1 == [16], "{:?}", all.keys());
    let (_, m) = model_with(modernbert, Method::Full, &LoraConfig::default(), 0);
    let all = named_tensors(&m);
    // No biases but the classifier's; layer 0 has no attn_norm; Wqkv and Wi are fused ([3 h, h], [2 i, h]).
    assert_eq!(all["model.layers.1.attn.Wqkv.weight"].1, [48, 16]);
    assert_eq!(all["model.layers.0.mlp.Wi.weight"].1, [64, 16]);
    assert!(
        all.contains_key("model.layers.1.attn_norm.weight") && !all.contains_key("model.layers.0.attn_norm.weight")
    );
    let biases: Vec<&String> = all.keys().filter(|k| k.ends_with(".bias")).collect();
    assert_eq!(biases, ["classifier.bias"]);
    // The calculator names modules on its own (it counts without burn); LoRA lands where its names and the
    // model's paths agree, so they must agree on every linear layer (all-linear leaves out the head).
    for encoder in tiny_all() {
        let (config, m) = model_with(encoder, Method::Full, &LoraConfig::default(), 0);
        let calculator: BTreeSet<String> =
            lora_modules(&config, LABELS, &lora_config(2, &all_linear(config.flavor), Bias::None))
                .unwrap()
                .into_iter()
                .collect();
        let mut walked = BTreeSet::new();
        map_linears(m, |name, l| {
            walked.insert(name.to_string());
            l
        });
        walked.retain(|n| !is_head(n));
        assert_eq!(walked, calculator, "{:?}", config.flavor);
    }
}

#[test]
fn frozen_parameters_stay_bit_identical_and_trained_ones_move() {
    for (encoder, method, lora) in tiny_all().into_iter().flat_map(|e| {
        [
            (e.clone(), Method::Lora, lora_for(e.flavor, 4, &["query", "value"], Bias::None)),
            (e.clone(), Method::Head, LoraConfig::default()),
            (e, Method::Bitfit, LoraConfig::default()),
        ]
    }) {
        let (config, m) = model_with(encoder, method, &lora, 3);
        let before = named_tensors(&m);
        let data = toy_data(24);
        let labels: Vec<String> = (0..LABELS).map(|i| i.to_string()).collect();
        let cfg = TrainConfig { epochs: 1, batch_size: 8, lr: 1e-2, warmup_ratio: 0.0, ..TrainConfig::default() };
        let (m, _) = train(m, &cfg, &config, &data, &data[..6], &labels, &device(), |_| {});
        let after = named_tensors(&m);
        assert_eq!(before.len(), after.len());
        let (mut frozen, mut trained) = (0, 0);
        for ((name, (a, _, trains)), (_, (b, _, _))) in before.iter().zip(&after) {
            if *trains {
                // lora_A would stay put only if B stayed zero; B moves on the first step, so A moves after it.
                assert!(a != b, "{method:?}: trainable {name} did not move");
                trained += 1;
            } else {
                assert!(a == b, "{method:?}: frozen {name} changed");
                frozen += 1;
            }
        }
        assert!(frozen > 0 && trained > 0, "{method:?}: {frozen} frozen, {trained} trained");
    }
}

#[test]
fn a_short_training_run_learns_the_toy_task() {
    for encoder in tiny_all() {
        learns_the_toy_task(encoder);
    }
}

fn learns_the_toy_task(mut config: EncoderConfig) {
    let lora = lora_for(config.flavor, 8, &all_linear(config.flavor), Bias::None);
    // No dropout: burn's dropout draws from a process-wide generator that the tests running beside this one
    // also draw from, so with it the run would differ from one `cargo test` to the next.
    (config.hidden_dropout_prob, config.attention_probs_dropout_prob, config.classifier_dropout) = (0.0, 0.0, 0.0);
    // A random encoder at BERT's std 0.02 barely mixes tokens into [CLS]; a pretrained one does. std 0.2 stands
    // in for pretraining, so what is tested is that LoRA + the head learn, not that a dead network wakes up.
    config.initializer_range = 0.2;
    let flavor = config.flavor;
    let (config, m) = model_with(config, Method::Lora, &lora, 11);
    let labels: Vec<String> = (0..LABELS).map(|i| i.to_string()).collect();
    let data = toy_data(90);
    let cfg = TrainConfig { epochs: 20, batch_size: 8, lr: 2e-2, ..TrainConfig::default() };
    let (_, reports) = train(m, &cfg, &config, &data[..72], &data[72..], &labels, &device(), |_| {});
    let (first, last) = (&reports[0], reports.last().unwrap());
    eprintln!(
        "{flavor:?}: loss {:.3} -> {:.3}, validation accuracy {:.2}",
        first.train_loss, last.train_loss, last.val_accuracy
    );
    assert!(last.train_loss < first.train_loss * 0.7, "{flavor:?}: loss {} -> {}", first.train_loss, last.train_loss);
    assert!(last.val_accuracy > 0.8, "{flavor:?}: validation accuracy {}", last.val_accuracy);
}

#[test]
fn checkpoints_with_wrong_shapes_name_the_tensor() {
    let config = EncoderConfig::tiny(40);
    let mut bad = EncoderConfig::tiny(40);
    bad.hidden_size = 8;
    bad.num_attention_heads = 2;
    bad.intermediate_size = 8;
    // A checkpoint written from the smaller model, read with the bigger config.
    let d = Device::flex();
    let small = build(&bad, Weights::Random, LABELS, None, &d).unwrap();
    let w = bert(&small).bert.embeddings.word_embeddings.weight.val();
    let bytes = lora_playground::safetensors::write_f32(&[(
        "embeddings.word_embeddings.weight",
        w.dims().to_vec(),
        w.into_data().try_into_vec::<f32>().unwrap(),
    )]);
    let file = lora_playground::safetensors::SafeTensors::parse("model.safetensors", &bytes).unwrap();
    let e = build(&config, Weights::Checkpoint(file), LABELS, None, &d).unwrap_err();
    assert!(e.message.contains("embeddings.word_embeddings.weight has shape [40, 8], expected [40, 16]"), "{e}");
    let empty = lora_playground::safetensors::write_f32(&[("x", vec![1], vec![0.0])]);
    let file = lora_playground::safetensors::SafeTensors::parse("model.safetensors", &empty).unwrap();
    assert!(
        build(&config, Weights::Checkpoint(file), LABELS, None, &d)
            .unwrap_err()
            .message
            .contains("not a BERT checkpoint")
    );
}

/// Merging folds each adapter into its layer for every architecture (GPT-2's Conv1D keeps `[in, out]`, as the
/// adapter's delta does): the merged model computes the unmerged one's logits.
#[test]
fn merged_and_unmerged_models_agree_for_every_architecture() {
    struct RandomB;
    impl MapParam for RandomB {
        fn map<const D: usize>(&mut self, name: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            if !name.contains("lora_B") {
                return param;
            }
            param.map(|t| Tensor::random(t.shape(), Distribution::Normal(0.0, 0.5), &t.device()))
        }
    }
    for encoder in tiny_all() {
        let flavor = encoder.flavor;
        let (config, m) = model_with(encoder, Method::Lora, &lora_for(flavor, 4, &all_linear(flavor), Bias::None), 5);
        let m = map_params(m, &mut RandomB).valid();
        let d = Device::flex();
        let input = to_input(&config, &[&tokens(&[5, 6, 7]), &tokens(&[8, 9])], &d);
        let before = m.forward(&input);
        let diff = (before - m.merge().forward(&input)).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "{flavor:?}: merged differs by {diff}");
    }
}
