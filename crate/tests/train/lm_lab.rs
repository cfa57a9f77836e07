//! The language-model page's model side (`train::causal::lab`), natively: a tiny decoder's folder, a lesson file
//! with a bad row, the preview of what the loss sees, a run stepped to its end with a held-out evaluation per
//! epoch, answers written token by token (the base model's equal to `generate`'s, the adapter's different), and the
//! exported adapter loading back.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::accounting::lora_config::{LoraConfig, TargetModules};
use lora_playground::model::causal::files::{AdapterFiles, LmFiles};
use lora_playground::model::causal::generate::{Sampling, generate};
use lora_playground::model::methods::Method;
use lora_playground::model::packed::Base;
use lora_playground::train::causal::lab::Lab;
use lora_playground::train::causal::trainer::LmPlan;

use super::common::{DECODERS as FIXTURES, decoder_folder};

fn files() -> LmFiles {
    decoder_folder("llama")
}

fn answer(lab: &mut Lab, adapter: bool) -> (Vec<u32>, String) {
    let sampling = Sampling::greedy(8);
    lab.begin_answer("What is LoRA?", adapter, true, sampling).unwrap();
    let mut ids = Vec::new();
    loop {
        let t = block_on(lab.next_token()).unwrap();
        ids.push(t.id);
        if t.done {
            return (ids, t.text);
        }
    }
}

#[test]
fn the_page_trains_a_language_model_and_answers_before_and_after() {
    let device = Device::flex();
    let mut lab = Lab::new(device.clone());
    let info = lab.load_model(files()).unwrap();
    assert_eq!((info.model_type.as_str(), info.layers, info.chat_template), ("llama", 2, false));
    assert_eq!(info.parameters, 300 * 32 + 2 * (2 * 1024 + 2 * 512 + 3 * 32 * 48 + 64) + 32, "tied head counted once");
    let mut data = std::fs::read(format!("{FIXTURES}/lesson.jsonl")).unwrap();
    data.extend_from_slice(b"{\"prompt\": \"no completion\"}\n");
    let d = lab.load_data("lesson.jsonl", &data, 0.25, 0, 128).unwrap();
    assert_eq!((d.rows, d.train, d.val), (8, 6, 2));
    assert_eq!(d.problems.len(), 1);
    assert_eq!(d.problems[0].line, 9);
    let preview = lab.preview().unwrap();
    assert!(preview.iter().any(|t| t.learned) && preview.iter().any(|t| !t.learned), "prompt unseen, completion seen");
    assert!(!preview[0].learned);
    assert_eq!(lab.held_out_prompts().len(), 2);

    // The base model's answer before any run, token by token, is `generate`'s.
    let (base_ids, base_text) = answer(&mut lab, false);
    let lm = files().load(None, &device).unwrap();
    let prompt = lm.tokenizer.encode("What is LoRA?", true).unwrap().get_ids().to_vec();
    let want =
        block_on(generate(&lm.model, &prompt, &lm.config.eos_token_ids, &Sampling::greedy(8), &device, |_| true));
    assert_eq!(base_ids, want.unwrap());
    assert!(lab.begin_answer("x", true, false, Sampling::greedy(2)).is_err(), "no adapter before a run");

    let plan = LmPlan {
        method: Method::Lora,
        lora: LoraConfig {
            r: 4,
            lora_alpha: 8.0,
            target_modules: Some(TargetModules::parse_list("all-linear")),
            ..LoraConfig::default()
        },
        lora_dropout: 0.0,
        lr: 3e-2,
        epochs: 2,
        batch_size: 2,
        weight_decay: 0.0,
        warmup_ratio: 0.0,
        max_grad_norm: 1.0,
        seed: 0,
        base: Default::default(),
        gradient_checkpointing: false,
    };
    // A tab too small for a batch of 1 refuses the model; one that holds a batch of 2 but not of 64 names the
    // batch size that fits (the estimate: the calculator's figures plus the file, the base kept apart, the logits).
    let need = |batch| lab.need(&LmPlan { batch_size: batch, ..plan.clone() }, None).unwrap().total_bytes;
    let (one, two, many) = (need(1), need(2), need(64));
    assert!(one < two && two < many);
    // The base kept for the answers shares its token embedding table with a LoRA run's trainer (counted once),
    // not with a full fine-tuning run's, which trains the table into one of its own.
    let table = 300 * 32 * 4; // the tiny Llama's vocab_size x hidden_size, float32
    let kept = |p: &LmPlan| {
        let n = lab.need(p, None).unwrap();
        (n.base_bytes, n.memory.frozen_weights + n.memory.trainable_weights)
    };
    let (lora_kept, lora_weights) = kept(&plan);
    assert_eq!(lora_kept, lora_weights - table);
    let (full_kept, full_weights) = kept(&LmPlan { method: Method::Full, ..plan.clone() });
    assert_eq!(full_kept, full_weights);
    // This folder's weights are float: kept "as stored" they are widened, and cost what the float32 base costs;
    // on the float16 base the frozen weights and the kept table take half the bytes.
    let as_stored = lab.need(&LmPlan { base: Base::AsStored, ..plan.clone() }, None).unwrap();
    assert_eq!(as_stored, lab.need(&plan, None).unwrap());
    let half = lab.need(&LmPlan { base: Base::Float16, ..plan.clone() }, None).unwrap();
    let float = lab.need(&plan, None).unwrap();
    assert_eq!(half.memory.frozen_weights, float.memory.frozen_weights / 2);
    assert_eq!(half.base_bytes, (half.memory.frozen_weights + half.memory.trainable_weights) - table / 2);
    lab.set_host_bytes(Some(one - 1));
    let e = block_on(lab.start(plan.clone())).err().unwrap();
    assert_eq!(e.field, "model", "{}", e.message);
    let mut big = plan.clone();
    big.batch_size = 64;
    lab.set_host_bytes(Some(two));
    let e = block_on(lab.start(big)).err().unwrap();
    assert!(e.field == "per_device_train_batch_size" && e.message.contains("fits"), "{}: {}", e.field, e.message);
    lab.set_host_bytes(None);
    // The settings as a notebook before the run: no counts yet, said so.
    let before = lab.export_notebook(Some(plan.clone())).unwrap();
    let script = String::from_utf8(before.iter().find(|(n, _)| n == "run.py").unwrap().1.clone()).unwrap();
    assert!(script.contains("counted when the run starts") && script.contains(&format!("    r={},\n", plan.lora.r)));
    let run = block_on(lab.start(plan)).unwrap();
    assert!(run.need.total_bytes > run.need.file_bytes + run.need.base_bytes);
    assert_eq!((run.total_steps, run.steps_per_epoch), (6, 3));
    let mut evals = vec![];
    for _ in 0..run.total_steps {
        let s = block_on(lab.step()).unwrap();
        evals.extend(s.eval);
    }
    assert_eq!(evals.len(), 2, "one held-out evaluation per epoch");
    assert!(block_on(lab.step()).is_err(), "the run is over");
    let (tuned_ids, _) = answer(&mut lab, true);
    assert_ne!(tuned_ids, base_ids, "the adapter changed the answer");
    assert_eq!(answer(&mut lab, false).1, base_text, "the base model's answer is unchanged");

    let saved = block_on(lab.export_adapter()).unwrap();
    assert_eq!(
        saved.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["adapter_config.json", "adapter_model.safetensors", "adapter.gguf", "run.ipynb", "run.py", "lesson.jsonl"]
    );
    // After the run the notebook carries the run's counts, PEFT's line as the page showed it.
    let script = String::from_utf8(saved[4].1.clone()).unwrap();
    assert!(
        script.contains(&format!("trainable params: {}", lora_playground::accounting::report::grouped(run.trainable))),
        "{script}"
    );
    assert_eq!(saved[5].1, data, "the data as it was loaded");
    let gguf = lora_playground::gguf::Gguf::parse("adapter.gguf", &saved[2].1).unwrap();
    assert_eq!(gguf.str("adapter.type").unwrap(), Some("lora"), "llama.cpp's LoRA adapter");
    let config: serde_json::Value = serde_json::from_slice(&saved[0].1).unwrap();
    assert_eq!(config["task_type"], "CAUSAL_LM");
    let adapter =
        AdapterFiles { config_json: String::from_utf8(saved[0].1.clone()).unwrap(), safetensors: saved[1].1.clone() };
    let reloaded = files().load(Some(&adapter), &device).unwrap();
    let again = block_on(generate(
        &reloaded.model,
        &prompt,
        &reloaded.config.eos_token_ids,
        &Sampling::greedy(8),
        &device,
        |_| true,
    ));
    assert_eq!(again.unwrap(), tuned_ids, "the exported adapter answers as the trained one");
}
