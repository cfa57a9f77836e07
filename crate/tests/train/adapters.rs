//! Several adapters on one base model (the page's adapter panel): each computes exactly what loading its folder
//! on its own computes (and a PEFT-written one what PEFT computed), switching leaves no trace, a bad folder adds
//! nothing, and the memory figures add up: one base plus the adapters' own tensors against N whole copies.
#![cfg(feature = "train")]

use crate::common;

use common::max_diff;

use std::collections::BTreeMap;

use burn::tensor::Device;
use lora_playground::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use lora_playground::model::files::ModelFiles;
use lora_playground::model::methods::Method;
use lora_playground::model::tiny;
use lora_playground::train::adapters::AdapterSet;
use lora_playground::train::classifier::load_trained;
use lora_playground::train::job::Job;
use lora_playground::train::plan::Plan;

type Folder = BTreeMap<String, Vec<u8>>;

/// A short run of `plan` on the keyword data, saved as `train` saves it (through the job's async export).
fn trained(files: &ModelFiles, plan: &Plan) -> (Folder, u64) {
    let device = Device::flex();
    let mut job = Job::new(files, plan, &common::keyword_data(), &device).unwrap();
    futures_lite::future::block_on(async {
        for _ in 0..4 {
            job.step().await.unwrap();
        }
        (job.saved_files(files).await.unwrap().into_iter().collect(), job.info().trainable)
    })
}

#[test]
fn adapters_share_one_base_switch_cleanly_and_cost_what_they_hold() {
    let files = tiny::files(0);
    let device = Device::flex();
    let lora = |r, targets: &str, bias| Plan {
        lora: LoraConfig {
            r,
            lora_alpha: 2.0 * r as f64,
            target_modules: Some(TargetModules::parse_list(targets)),
            bias,
            ..LoraConfig::default()
        },
        lora_dropout: 0.0,
        ..common::tiny_plan()
    };
    let runs = [
        ("qv r4", trained(&files, &lora(4, "query,value", Bias::None))),
        ("all-linear r2 bias=all", trained(&files, &lora(2, "all-linear", Bias::All))),
        ("head only", trained(&files, &Plan { method: Method::Head, ..common::tiny_plan() })),
    ];
    let mut set = AdapterSet::new(&files, &device).unwrap();
    let texts: Vec<String> = common::keyword_data().examples.iter().take(9).map(|e| e.text.clone()).collect();
    let mut alone = Vec::new();
    for (name, (folder, trainable)) in &runs {
        let info = set.add(name, folder).unwrap();
        // What the adapter holds is what trained (the calculator-checked live count), head included.
        assert_eq!(info.params, *trainable, "{name}");
        alone.push(load_trained(&files, folder, &device).unwrap().logits(&texts, 4, &device).unwrap());
    }
    // The PEFT-written fixture joins the same set.
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peft_tiny");
    let peft: Folder = ["adapter_config.json", "adapter_model.safetensors"]
        .iter()
        .map(|f| (f.to_string(), std::fs::read(format!("{fixture}/{f}")).unwrap()))
        .collect();
    assert_eq!(set.add("peft", &peft).unwrap().r, Some(4));
    alone.push(load_trained(&files, &peft, &device).unwrap().logits(&texts, 4, &device).unwrap());
    assert_eq!(set.len(), 4);

    // Each adapter on the shared base computes what its folder loaded alone computes, in any order of switching.
    for round in 0..2 {
        for i in [3, 0, 2, 1] {
            let got = set.classifier(i).unwrap().logits(&texts, 4, &device).unwrap();
            assert!(max_diff(&got, &alone[i]) < 1e-5, "round {round}, adapter {i}: {}", max_diff(&got, &alone[i]));
        }
    }
    // They really differ from one another (else the check above could not tell them apart).
    assert!(max_diff(&alone[0], &alone[1]) > 1e-3);
    let p = futures_lite::future::block_on(set.predict(0, "school loan")).unwrap();
    assert_eq!(p.probs.len(), 3);
    assert!((p.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);

    // Merge and verify, on the shared base: the LoRA adapter merged gives its own logits; a head has nothing to merge.
    let c = futures_lite::future::block_on(set.verify_merge(1, &texts)).unwrap();
    assert!(c.max_abs_logit_diff < 1e-5 && c.same_prediction == texts.len(), "{c:?}");
    assert!(
        futures_lite::future::block_on(set.verify_merge(2, &texts))
            .unwrap_err()
            .to_string()
            .contains("only a LoRA adapter")
    );
    // Merging one adapter leaves the base, and so every other adapter, as it was.
    let again = set.classifier(0).unwrap().logits(&texts, 4, &device).unwrap();
    assert!(max_diff(&again, &alone[0]) < 1e-6);

    // Memory: the base once, plus what each adapter holds; against a whole model per adapter.
    let m = set.memory();
    let infos = set.infos();
    let encoder_params = lora_playground::model::methods::count(
        &lora_playground::model::auto::build(
            &tiny::config(),
            lora_playground::model::load::Weights::Random,
            3,
            None,
            &device,
        )
        .unwrap(),
    )
    .total
        - (3 * 32 + 3);
    assert_eq!(m.base_bytes, encoder_params * 4);
    assert_eq!(m.adapter_bytes, infos.iter().map(|i| i.bytes).collect::<Vec<_>>());
    assert_eq!(m.shared_bytes, m.base_bytes + infos.iter().map(|i| i.bytes).sum::<u64>());
    assert_eq!(m.copies_bytes, 4 * (m.base_bytes + (3 * 32 + 3) * 4));
    assert!(m.shared_bytes < m.copies_bytes);

    // A folder that does not fit adds nothing; removing one leaves the others as they were.
    let mut bad = runs[0].1.0.clone();
    bad.insert("adapter_model.safetensors".into(), b"not safetensors".to_vec());
    assert!(set.add("bad", &bad).is_err());
    assert_eq!(set.len(), 4);
    set.remove(1).unwrap();
    assert!(set.remove(7).unwrap_err().to_string().contains("no adapter number 7"));
    let got = set.classifier(2).unwrap().logits(&texts, 4, &device).unwrap();
    assert!(max_diff(&got, &alone[3]) < 1e-5);
    assert!(futures_lite::future::block_on(set.predict(0, "  ")).is_err());
}
