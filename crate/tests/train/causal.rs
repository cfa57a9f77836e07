//! Fine-tuning the language models (issue 25) on the tiny random decoders of `tests/reference/decoder_fixtures.py`:
//! completion-only labels as TRL makes them, the loss going down, the adapter we save reloading to the same
//! log-probabilities, PEFT reading that file to the same numbers (`tests/reference/peft_causal_roundtrip.py`), and
//! each method training exactly the parameters it names.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::accounting::lora_config::{LoraConfig, TargetModules};
use lora_playground::data::lm::lm_rows;
use lora_playground::model::causal::files::{AdapterFiles, LmFiles, LmSource};
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::methods::Method;
use lora_playground::safetensors::SafeTensors;
use lora_playground::train::causal::adapter::peft_causal_adapter;
use lora_playground::train::causal::tokens::{LmText, LmTokens};
use lora_playground::train::causal::trainer::{LmPlan, LmTrainer, evaluate};

use super::common::{DECODERS as FIXTURES, decoder_folder};

/// The fixture's texts as transformers tokenized them.
fn fixture_texts(name: &str) -> Vec<Vec<u32>> {
    let bytes = std::fs::read(format!("{FIXTURES}/{name}/expected.safetensors")).unwrap();
    let e = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let (ids, shape) = e.f32("input_ids").unwrap();
    let (mask, _) = e.f32("attention_mask").unwrap();
    let [b, s] = [shape[0], shape[1]];
    (0..b).map(|i| (0..s).filter(|&j| mask[i * s + j] == 1.0).map(|j| ids[i * s + j] as u32).collect()).collect()
}

fn lesson(files: &LmFiles, max_len: usize) -> Vec<LmTokens> {
    let lm = files.load(None, &Device::flex()).unwrap();
    let text = LmText { tokenizer: &lm.tokenizer, chat_template: None, special: &lm.special, max_len };
    let bytes = std::fs::read(format!("{FIXTURES}/lesson.jsonl")).unwrap();
    lm_rows("lesson.jsonl", &bytes).unwrap().0.iter().map(|e| text.tokens(&e.row).unwrap()).collect()
}

/// The adapter `lora-playground train` wrote for the tiny Llama (`tests/reference/peft_causal_roundtrip.py`).
fn ours() -> AdapterFiles {
    let read = |f: &str| std::fs::read(format!("{FIXTURES}/llama/ours/{f}")).unwrap();
    AdapterFiles {
        config_json: String::from_utf8(read("adapter_config.json")).unwrap(),
        safetensors: read("adapter_model.safetensors"),
    }
}

fn plan(method: Method, targets: &str) -> LmPlan {
    LmPlan {
        method,
        lora: LoraConfig {
            r: 4,
            lora_alpha: 8.0,
            target_modules: Some(TargetModules::parse_list(targets)),
            ..LoraConfig::default()
        },
        lora_dropout: 0.0,
        lr: 1e-2,
        epochs: 3,
        batch_size: 2,
        weight_decay: 0.0,
        warmup_ratio: 0.0,
        max_grad_norm: 1.0,
        seed: 0,
        base: Default::default(),
        gradient_checkpointing: false,
    }
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter().flatten().zip(b.iter().flatten()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn completion_only_labels_are_the_completion_and_the_end_token() {
    let files = decoder_folder("llama");
    let lm = files.load(None, &Device::flex()).unwrap();
    let rows = lesson(&files, 128);
    let encode = |t: &str| lm.tokenizer.encode(t, true).unwrap().get_ids().to_vec();
    let eos = lm.special.eos_token.clone().unwrap();
    assert_eq!(eos, "<|endoftext|>");
    let ids = encode(&format!("What is LoRA? A pair of small matrices added to a frozen weight.{eos}"));
    assert_eq!(rows[0].ids, ids, "prompt, completion and the end token tokenized together");
    let p = encode("What is LoRA?").len();
    let labelled: Vec<usize> = (0..ids.len()).filter(|&j| rows[0].labels[j].is_some()).collect();
    assert_eq!(labelled, (p..ids.len()).collect::<Vec<_>>(), "only the completion (and the end token) is labelled");
    assert_eq!(rows[0].labels[ids.len() - 1], Some(*ids.last().unwrap()));
    // Cut two tokens into the completion, the row keeps those two; cut inside the prompt it has nothing to learn.
    let row =
        &lm_rows("x.jsonl", br#"{"prompt": "What is LoRA?", "completion": " A pair of small matrices"}"#).unwrap().0[0]
            .row;
    let cut =
        |max_len| LmText { tokenizer: &lm.tokenizer, chat_template: None, special: &lm.special, max_len }.tokens(row);
    let two = cut(p + 2).unwrap();
    assert!(two.truncated && two.labelled() == 2);
    assert!(cut(p).unwrap_err().contains("nothing to learn"));
}

#[test]
fn lora_training_lowers_the_loss_and_the_saved_adapter_reloads_exactly() {
    let files = decoder_folder("llama");
    let device = Device::flex();
    let rows = lesson(&files, 128);
    let targets = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj";
    let p = plan(Method::Lora, targets);
    let mut trainer = LmTrainer::new(&files, p.clone(), rows.clone(), &device).unwrap();
    // 7 LoRA pairs a layer, 2 layers, r 4 over 32-wide q/o and 16-wide k/v, 48-wide MLP: PEFT's count.
    assert_eq!(trainer.trainable, 2 * (4 * (32 + 32) * 2 + 4 * (32 + 16) * 2 + 4 * (32 + 48) * 3));
    let before = block_on(evaluate(&trainer.model(), &rows, 4, &device)).unwrap();
    let mut losses = Vec::new();
    while !trainer.done() {
        losses.push(block_on(trainer.step()).unwrap().loss);
    }
    assert_eq!(losses.len(), 12);
    let after = block_on(evaluate(&trainer.model(), &rows, 4, &device)).unwrap();
    assert!(after.loss < before.loss - 0.05, "training loss {} -> {}", before.loss, after.loss);
    assert!((after.perplexity - after.loss.exp()).abs() < 1e-9);
    let tuned = trainer.model();
    let saved = block_on(peft_causal_adapter(
        &tuned,
        lora_playground::accounting::arch::flavor::Flavor::Llama,
        &p.lora,
        0.0,
        "llama",
    ))
    .unwrap();
    let adapter =
        AdapterFiles { config_json: String::from_utf8(saved[0].1.clone()).unwrap(), safetensors: saved[1].1.clone() };
    let texts = fixture_texts("llama");
    let reloaded = files.load(Some(&adapter), &device).unwrap();
    let ours = block_on(logprobs(&tuned, &texts, &device)).unwrap();
    let again = block_on(logprobs(&reloaded.model, &texts, &device)).unwrap();
    assert!(max_diff(&ours, &again) < 1e-6, "the saved adapter reloads to the trained model");
    let base = block_on(logprobs(&files.load(None, &device).unwrap().model, &texts, &device)).unwrap();
    assert!(max_diff(&ours, &base) > 1e-3, "the adapter changed the model");
}

#[test]
fn our_adapter_loads_in_peft_with_the_same_logprobs() {
    let files = decoder_folder("llama");
    let device = Device::flex();
    let lm = files.load(Some(&ours()), &device).unwrap();
    let texts = fixture_texts("llama");
    let ours = block_on(logprobs(&lm.model, &texts, &device)).unwrap();
    let bytes = std::fs::read(format!("{FIXTURES}/llama/ours/peft_logprobs.safetensors")).unwrap();
    let peft = SafeTensors::parse("peft_logprobs.safetensors", &bytes).unwrap();
    let (want, shape) = peft.f32("peft_logprobs").unwrap();
    for (i, row) in ours.iter().enumerate() {
        let d = row.iter().zip(&want[i * shape[1]..]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(d < 1e-4, "text {i}: PEFT's log-probabilities with our adapter differ by {d}");
    }
}

#[test]
fn each_method_trains_what_it_names() {
    let device = Device::flex();
    let qwen = decoder_folder("qwen2");
    let rows = lesson(&qwen, 64);
    let full = LmTrainer::new(&qwen, plan(Method::Full, "q_proj"), rows.clone(), &device).unwrap();
    assert_eq!(full.trainable, full.total);
    // embed_tokens and lm_head 300 x 32 each; per layer q 32x32+32, k and v 32x16+16, o 32x32, the MLP 3 x 32x48,
    // two norms of 32; the final norm: 34,848, transformers' count of the fixture before PEFT adds LoRA.
    assert_eq!(full.total, 2 * 300 * 32 + 2 * (1056 + 2 * 528 + 1024 + 3 * 32 * 48 + 64) + 32);
    // Qwen2's biases: q, k and v in each of 2 layers (32 + 16 + 16).
    let bitfit = LmTrainer::new(&qwen, plan(Method::Bitfit, "q_proj"), rows.clone(), &device).unwrap();
    assert_eq!(bitfit.trainable, 2 * (32 + 16 + 16));
    let llama = decoder_folder("llama");
    let e = LmTrainer::new(&llama, plan(Method::Bitfit, "q_proj"), lesson(&llama, 64), &device).err().unwrap();
    assert!(e.message.contains("has none"), "{}", e.message);
    let e = LmTrainer::new(&llama, plan(Method::Lora, "query"), lesson(&llama, 64), &device).err().unwrap();
    assert!(e.message.contains("names no layer"), "{}", e.message);
}

#[test]
fn a_merged_adapter_computes_what_the_adapter_did_and_saves_as_a_transformers_folder() {
    use lora_playground::model::causal::merge::model_safetensors;
    let files = decoder_folder("llama");
    let device = Device::flex();
    let lm = files.load(Some(&ours()), &device).unwrap();
    let texts = fixture_texts("llama");
    let merged = lm.model.clone().merge();
    let a = block_on(logprobs(&lm.model, &texts, &device)).unwrap();
    let m = block_on(logprobs(&merged, &texts, &device)).unwrap();
    assert!(max_diff(&a, &m) < 1e-4, "merged against the adapter: {}", max_diff(&a, &m));
    let weights =
        block_on(model_safetensors(&merged, lora_playground::accounting::arch::flavor::Flavor::Llama)).unwrap();
    let parsed = SafeTensors::parse("model.safetensors", &weights).unwrap();
    let original = std::fs::read(format!("{FIXTURES}/llama/model.safetensors")).unwrap();
    let original = SafeTensors::parse("model.safetensors", &original).unwrap();
    let names = |s: &SafeTensors<'_>| s.entries.iter().map(|(k, e)| (k.clone(), e.shape.clone())).collect::<Vec<_>>();
    assert_eq!(names(&parsed), names(&original), "transformers' names and shapes, the tied head left out");
    assert_eq!(
        parsed.f32("model.norm.weight").unwrap(),
        original.f32("model.norm.weight").unwrap(),
        "untouched tensors as they were"
    );
    let mut files_json = files.folder_files().unwrap();
    files_json.push(("model.safetensors".into(), weights));
    let get = |n: &str| files_json.iter().find(|(f, _)| f == n).unwrap().1.clone();
    let reread = LmFiles::new(
        "merged",
        LmSource::Folder {
            config_json: String::from_utf8(get("config.json")).unwrap(),
            tokenizer_json: get("tokenizer.json"),
            safetensors: get("model.safetensors"),
            tokenizer_config_json: None,
            chat_template_jinja: None,
        },
    )
    .load(None, &device)
    .unwrap();
    let r = block_on(logprobs(&reread.model, &texts, &device)).unwrap();
    assert!(max_diff(&m, &r) < 1e-6, "the saved folder reads back to the merged model");
}

/// The page's trainer shares the token embedding table with the base model it keeps for the answers: the run is
/// the same as with a table of its own, and full fine-tuning (which trains the table) leaves the base model's as
/// it was.
#[test]
fn a_trainer_sharing_the_base_models_embedding_trains_the_same_and_leaves_the_base_alone() {
    let files = decoder_folder("llama");
    let device = Device::flex();
    let rows = lesson(&files, 128);
    let texts = fixture_texts("llama");
    for method in [Method::Lora, Method::Full] {
        let p = LmPlan { lr: if method == Method::Full { 1e-3 } else { 1e-2 }, ..plan(method, "all-linear") };
        let base = files.load(None, &device).unwrap();
        let before = block_on(logprobs(&base.model, &texts, &device)).unwrap();
        let mut own = LmTrainer::new(&files, p.clone(), rows.clone(), &device).unwrap();
        let mut shared = LmTrainer::sharing(&files, p.clone(), rows.clone(), &device, Some(&base.model)).unwrap();
        while !own.done() {
            let (a, b) = (block_on(own.step()).unwrap().loss, block_on(shared.step()).unwrap().loss);
            assert_eq!(a, b, "{method:?}: the same loss at every step");
        }
        let (a, b) = (
            block_on(logprobs(&own.model(), &texts, &device)).unwrap(),
            block_on(logprobs(&shared.model(), &texts, &device)).unwrap(),
        );
        assert_eq!(a, b, "{method:?}: the same trained model");
        assert!(max_diff(&a, &before) > 1e-3, "{method:?}: the run trained");
        let after = block_on(logprobs(&base.model, &texts, &device)).unwrap();
        assert_eq!(after, before, "{method:?}: the base model is untouched");
    }
}
