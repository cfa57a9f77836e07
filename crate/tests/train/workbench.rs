//! The training page's workbench, natively (`block_on`): the run policy the browser worker no longer holds, namely
//! evaluation at each epoch's end, the snapshot cadence and carrying a run on on the CPU when the GPU is lost, plus
//! the adapter list and the merge texts. `crate/tests/wasm_train.rs` runs the same calls in Chromium.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::data::split::stratified;
use lora_playground::model::tiny;
use lora_playground::train::budget::Budget;
use lora_playground::train::plan::Plan;
use lora_playground::train::replies::{DeviceInfo, Tick};
use lora_playground::train::workbench::Workbench;
use serde_json::json;

use crate::common;
use common::{KEYWORDS_CSV as DATA, alone};

fn plan() -> Plan {
    Plan::from_json(
        &json!({"r": 4, "lora_alpha": 8, "lr": 0.01, "epochs": 20, "batch_size": 4, "max_len": 16, "lora_dropout": 0}),
    )
    .unwrap()
}

/// A bench on `info`'s backend (natively always burn's CPU: a "GPU" here is a label that turns the GPU policy on).
fn workbench(info: DeviceInfo) -> Workbench {
    let mut wb = Workbench::new();
    wb.set_device(Device::flex(), info);
    wb.load_model(tiny::files(3)).unwrap();
    wb.load_dataset("d.csv", DATA.as_bytes()).unwrap();
    wb
}

fn pretend_gpu() -> DeviceInfo {
    DeviceInfo { backend: "wgpu".into(), adapter: "a GPU that will be lost".into() }
}

fn advance(wb: &mut Workbench) -> Tick {
    block_on(wb.advance()).unwrap()
}

/// A bench on the CPU with a LoRA job three steps in.
fn after_three_steps() -> Workbench {
    let mut wb = workbench(DeviceInfo::cpu());
    wb.prepare(plan()).unwrap();
    for _ in 0..3 {
        advance(&mut wb);
    }
    wb
}

#[test]
fn advance_evaluates_at_each_epochs_end_and_the_keyword_task_is_learned() {
    let _alone = alone();
    let mut wb = workbench(DeviceInfo::cpu());
    let info = wb.prepare(plan()).unwrap();
    // 12 texts, 6 a class; round(20% of 6) = 1 a class held out: 10 training, 3 steps of 4 an epoch, 20 epochs.
    assert_eq!((info.train_examples, info.val_examples, info.total_steps), (10, 2, 60));
    let mut evaluations = Vec::new();
    for i in 1..=60 {
        let tick = advance(&mut wb);
        let step = tick.step.expect("a step on the CPU always happens");
        assert_eq!(step.global_step, i);
        assert_eq!(tick.evaluation.is_some(), i % 3 == 0, "step {i}");
        assert!(tick.fallback.is_none());
        assert_eq!(tick.done, i == 60);
        evaluations.extend(tick.evaluation);
    }
    assert_eq!(evaluations.iter().map(|e| e.epoch).collect::<Vec<_>>(), (1..=20).collect::<Vec<_>>());
    let last = evaluations.last().unwrap();
    assert_eq!(last.evaluation.metrics.accuracy, 1.0, "{last:?}");
    assert!(last.train_loss < evaluations[0].train_loss, "{} then {}", evaluations[0].train_loss, last.train_loss);
    assert_eq!(block_on(wb.predict("student loan")).unwrap().label, "school");
    assert!(block_on(wb.advance()).unwrap_err().message.contains("finished"));
}

#[test]
fn a_lost_gpu_carries_the_run_on_on_the_cpu_from_the_last_step_with_every_step_done_once() {
    let _alone = alone();
    let mut wb = workbench(pretend_gpu());
    wb.prepare(plan()).unwrap();
    let mut steps = Vec::new();
    for _ in 0..5 {
        steps.push(advance(&mut wb).step.unwrap().global_step);
    }
    wb.simulate_device_loss();
    let tick = advance(&mut wb);
    let fallback = tick.fallback.expect("the loss is caught, not returned as an error");
    assert!(tick.step.is_none() && tick.evaluation.is_none() && !tick.done);
    // LoRA is snapshotted after every step: nothing done is lost.
    assert_eq!(fallback.resumed_at, 5);
    assert_eq!(fallback.device.backend, "cpu");
    assert!(fallback.reason.contains("lost"), "{}", fallback.reason);
    assert_eq!(wb.device_info(), Some(&DeviceInfo::cpu()));
    loop {
        let tick = advance(&mut wb);
        steps.push(tick.step.unwrap().global_step);
        if tick.done {
            break;
        }
    }
    assert_eq!(steps, (1..=60).collect::<Vec<_>>());
}

#[test]
fn on_the_cpu_a_failed_step_is_an_error_named_device_not_a_fallback() {
    let _alone = alone();
    let mut wb = workbench(DeviceInfo::cpu());
    wb.prepare(plan()).unwrap();
    wb.simulate_device_loss();
    let e = block_on(wb.advance()).unwrap_err();
    assert_eq!(e.field, "device");
}

#[test]
fn calls_before_their_inputs_name_what_is_missing() {
    let _alone = alone();
    // In the page's order: device, model, data.
    let mut wb = Workbench::new();
    assert_eq!(wb.prepare(plan()).unwrap_err().field, "device");
    assert_eq!(block_on(wb.advance()).unwrap_err().field, "job");
    assert_eq!(wb.merge_texts(4).unwrap_err().field, "data");
    wb.set_device(Device::flex(), DeviceInfo::cpu());
    assert_eq!(wb.prepare(plan()).unwrap_err().field, "model");
    wb.load_model(tiny::files(3)).unwrap();
    assert_eq!(wb.split_counts(0.2, 0).unwrap_err().field, "data");
    assert_eq!(wb.prepare(plan()).unwrap_err().field, "data");
    wb.load_dataset("d.csv", DATA.as_bytes()).unwrap();
    assert!(wb.prepare(plan()).is_ok());
}

#[test]
fn the_split_counts_and_merge_texts_are_the_runs_own_split() {
    let _alone = alone();
    let mut wb = workbench(DeviceInfo::cpu());
    let counts = wb.split_counts(0.5, 7).unwrap();
    // 6 a class, half held out.
    assert_eq!((counts.train.clone(), counts.val.clone()), (vec![3, 3], vec![3, 3]));
    let data = lora_playground::data::parse("d.csv", DATA.as_bytes()).unwrap();
    let own = |fraction: f64, seed: u64| -> Vec<String> {
        stratified(&data.examples, 2, fraction, seed).1.into_iter().map(|e| e.text).collect()
    };
    // No job: the default plan's split.
    assert_eq!(wb.merge_texts(16).unwrap(), own(0.2, 0));
    let mut p = plan();
    (p.val_fraction, p.train.seed) = (0.5, 7);
    wb.prepare(p).unwrap();
    assert_eq!(wb.merge_texts(16).unwrap(), own(0.5, 7));
    assert_eq!(wb.merge_texts(2).unwrap().len(), 2);
}

#[test]
fn a_kept_run_joins_the_adapter_list_and_a_new_model_clears_it() {
    let _alone = alone();
    let mut wb = after_three_steps();
    let summary = block_on(wb.keep_job("first")).unwrap();
    assert_eq!(summary.adapters.len(), 1);
    assert_eq!(summary.adapters[0].method, "lora");
    assert_eq!(summary.memory.adapter_bytes.len(), 1);
    // The kept adapter predicts what the job predicts.
    let (a, b) =
        (block_on(wb.predict("bank card")).unwrap(), block_on(wb.predict_with_adapter(0, "bank card")).unwrap());
    for (x, y) in a.probs.iter().zip(&b.probs) {
        assert!((x - y).abs() < 1e-5, "{:?} vs {:?}", a.probs, b.probs);
    }
    assert_eq!(wb.remove_adapter(3).unwrap_err().field, "adapter");
    wb.load_model(tiny::files(3)).unwrap();
    assert_eq!(wb.adapters().unwrap().adapters.len(), 0);
}

#[test]
fn inside_a_kept_adapter_the_page_sees_numpy_s_figures() {
    // The inspect fixtures (tests/reference/inspect_fixtures.sh): adapters trained on the tiny model (seed 0).
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inspect");
    let folder = |name: &str| -> std::collections::BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(format!("{fixtures}/{name}"))
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().into_string().unwrap(), std::fs::read(e.path()).unwrap()))
            .collect()
    };
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{fixtures}/expected.json")).unwrap()).unwrap();
    let mut wb = Workbench::new();
    wb.set_device(Device::flex(), DeviceInfo::cpu());
    wb.load_model(tiny::files(0)).unwrap();
    wb.add_adapter("r4", folder("r4")).unwrap();
    wb.add_adapter("r8", folder("r8")).unwrap();
    let inside = wb.inspect_adapter(0, Some(1)).unwrap();
    assert_eq!((inside.r, inside.compare_name.as_deref()), (4, Some("r8")));
    for (got, want) in inside.modules.iter().zip(want["modules"].as_array().unwrap()) {
        assert_eq!(got.module, want["module"].as_str().unwrap());
        let w = want["update_norm"].as_f64().unwrap();
        assert!((got.update_norm - w).abs() < 1e-4 * w, "{}: {} against numpy's {w}", got.module, got.update_norm);
        assert!((got.weight_norm - want["weight_norm"].as_f64().unwrap()).abs() < 1e-4 * got.weight_norm);
    }
    let phi = &inside.compare.as_ref().unwrap()[0].phi;
    let want_phi = want["compare"][0]["phi"][3][7].as_f64().unwrap();
    assert!((phi[3][7] - want_phi).abs() < 1e-4, "{} against {want_phi}", phi[3][7]);
    // Against a kept full fine-tuning run: the spectrum of what it changed in each adapted module, numpy's.
    wb.add_adapter("full", folder("full")).unwrap();
    let inside = wb.inspect_adapter(0, Some(2)).unwrap();
    assert!(inside.compare.is_none());
    for (got, want) in inside.full.as_ref().unwrap().iter().zip(want["full"].as_array().unwrap()) {
        assert_eq!(got.module, want["module"].as_str().unwrap());
        let w = want["energy_in_top_r"].as_f64().unwrap();
        assert!((got.energy_in_top_r - w).abs() < 1e-4, "{}: {} against numpy's {w}", got.module, got.energy_in_top_r);
        let s0 = want["singular_values"][0].as_f64().unwrap();
        assert!((got.singular_values[0] - s0).abs() < 1e-4 * s0.max(1.0));
    }
    // Only a LoRA adapter has an update to look inside; a missing index is named.
    assert_eq!(wb.inspect_adapter(5, None).unwrap_err().field, "adapter");
    assert!(wb.inspect_adapter(2, None).unwrap_err().message.contains("only a LoRA adapter"));
}

#[test]
fn every_save_proves_the_frozen_weights_did_not_move() {
    use lora_playground::model::export::NamedTensors;
    use lora_playground::safetensors::SafeTensors;
    use lora_playground::train::folder::TrainingRecord;
    use lora_playground::train::frozen;
    let _alone = alone();
    // A LoRA run's saved training.json: every frozen tensor compared, the same before and after.
    let wb = after_three_steps();
    let files = block_on(wb.export_job()).unwrap();
    let record: TrainingRecord =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "training.json").unwrap().1).unwrap();
    let check = record.frozen.expect("a LoRA run has frozen weights");
    assert!(check.unchanged && check.tensors >= 20 && check.checkpoint_sha256 == check.trained_sha256, "{check:?}");
    // The check sees one value moved by one ulp, and skips a tensor that trains.
    let model = tiny::files(3);
    let weights = SafeTensors::parse("model.safetensors", &model.safetensors).unwrap();
    let mut tensors: NamedTensors = weights
        .entries
        .keys()
        .map(|n| {
            let (v, s) = weights.f32(n).unwrap();
            (n.clone(), (v, s, false))
        })
        .collect();
    let flavor = model.encoder_config().unwrap().flavor;
    let all = frozen::check(&tensors, &model, flavor).unwrap().unwrap();
    assert!(all.unchanged && all.tensors == tensors.len());
    let first = tensors.keys().next().unwrap().clone();
    let v = &mut tensors.get_mut(&first).unwrap().0[0];
    *v = f32::from_bits(v.to_bits() + 1);
    assert!(!frozen::check(&tensors, &model, flavor).unwrap().unwrap().unchanged);
    tensors.get_mut(&first).unwrap().2 = true;
    let rest = frozen::check(&tensors, &model, flavor).unwrap().unwrap();
    assert!(rest.unchanged && rest.tensors == all.tensors - 1);
}

#[test]
fn a_run_shares_among_no_more_workers_than_fit_in_half_the_memory() {
    let mut wb = workbench(DeviceInfo::cpu());
    wb.prepare(plan()).unwrap();
    let all = wb.share_workers(4, Some(8 << 30)).unwrap();
    assert_eq!((all.workers, all.limited_by), (4, None));
    // What a worker holds is the page's memory estimate (`check_run`) for its share of the batch of 4.
    wb.set_budget(Some(Budget::wasm_cpu()));
    let holds = |share: usize| {
        let mut p = plan();
        p.train.batch_size = share;
        wb.check_run(&p).unwrap().unwrap().host_bytes
    };
    // Half the machine holds two workers with two examples each, not three (the third's share is still 2).
    let machine = 2 * 2 * holds(2);
    assert!(3 * holds(2) > machine / 2 && 4 * holds(1) > machine / 2);
    let two = wb.share_workers(4, Some(machine)).unwrap();
    assert_eq!(two.workers, 2);
    let why = two.limited_by.unwrap();
    assert!(why.contains(&format!("about {} MiB; 2 fit in half", holds(2).div_ceil(1 << 20))), "{why}");
    // Where the browser says nothing of its memory, the cores decide.
    assert_eq!(wb.share_workers(3, None).unwrap().workers, 3);
}
