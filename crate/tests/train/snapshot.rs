//! A run carried on from a snapshot file is the run itself: the same losses as the uninterrupted run, dropout on,
//! across a fresh bench (what a new worker after a trap, or a reopened tab, does), across a lost GPU, and never
//! over the wrong model or data. `tests/e2e/recovery.mjs` does the same in the page.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::model::tiny;
use lora_playground::train::plan::Plan;
use lora_playground::train::replies::DeviceInfo;
use lora_playground::train::workbench::Workbench;
use serde_json::json;

use crate::common;
use common::{KEYWORDS_CSV as DATA, alone};

/// Dropout on (LoRA's and the model's own), weight decay and warm-up on: everything that could make a resumed
/// run drift.
fn plan() -> Plan {
    Plan::from_json(&json!({"r": 4, "lora_alpha": 8, "lr": 0.01, "epochs": 4, "batch_size": 4, "max_len": 16,
        "lora_dropout": 0.2, "weight_decay": 0.01, "warmup_ratio": 0.2}))
    .unwrap()
}

fn workbench(info: DeviceInfo, data: &str) -> Workbench {
    let mut wb = Workbench::new();
    wb.set_device(Device::flex(), info);
    wb.load_model(tiny::files(3)).unwrap();
    wb.load_dataset("d.csv", data.as_bytes()).unwrap();
    wb
}

/// The losses of the next `n` steps.
fn losses(wb: &mut Workbench, n: usize) -> Vec<f64> {
    (0..n).map(|_| block_on(wb.advance()).unwrap().step.expect("a step").loss).collect()
}

fn uninterrupted() -> Vec<f64> {
    let mut wb = workbench(DeviceInfo::cpu(), DATA);
    let total = wb.prepare(plan()).unwrap().total_steps;
    losses(&mut wb, total)
}

fn assert_close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= 1e-4, "step {}: {x} against {y}\n{a:?}\n{b:?}", i + 1);
    }
}

#[test]
fn a_fresh_bench_resumed_from_the_file_gives_the_uninterrupted_losses() {
    let _alone = alone();
    let whole = uninterrupted();
    assert_eq!(whole.len(), 12);
    // Dropout is really on: the same seed's run repeated gives the same losses, another seed other ones.
    assert_close(&whole, &uninterrupted());
    // Stop mid-epoch (after step 5 of 3-step epochs): position, shuffle order and moments must all carry over.
    let mut first = workbench(DeviceInfo::cpu(), DATA);
    first.prepare(plan()).unwrap();
    let mut resumed = losses(&mut first, 5);
    let file = first.snapshot_file().unwrap().expect("a snapshot after every LoRA step");
    drop(first);
    let mut second = workbench(DeviceInfo::cpu(), DATA);
    let (job, carried) = second.resume_run(&file).unwrap();
    assert_eq!((job.total_steps, second.global_step().unwrap()), (12, 5));
    assert_eq!(carried, plan());
    resumed.extend(losses(&mut second, 7));
    assert_close(&resumed, &whole);
    assert!(block_on(second.advance()).unwrap_err().message.contains("finished"));
}

#[test]
fn a_lost_gpu_now_carries_on_with_the_moments_too() {
    let _alone = alone();
    let whole = uninterrupted();
    let pretend_gpu = DeviceInfo { backend: "wgpu".into(), adapter: "a GPU that will be lost".into() };
    let mut wb = workbench(pretend_gpu, DATA);
    wb.prepare(plan()).unwrap();
    let mut carried = losses(&mut wb, 4);
    wb.simulate_device_loss();
    let tick = block_on(wb.advance()).unwrap();
    assert_eq!(tick.fallback.expect("fell back").resumed_at, 4);
    carried.extend(losses(&mut wb, 8));
    assert_close(&carried, &whole);
}

#[test]
fn the_file_is_safetensors_with_pytorchs_names_and_the_plan() {
    let _alone = alone();
    let mut wb = workbench(DeviceInfo::cpu(), DATA);
    wb.prepare(plan()).unwrap();
    losses(&mut wb, 2);
    let file = wb.snapshot_file().unwrap().unwrap();
    // Read with this crate's own reader (independent of the `safetensors` crate that wrote it).
    let st = lora_playground::safetensors::SafeTensors::parse("snapshot", &file).unwrap();
    let a = "bert.encoder.layer.0.attention.self.query.lora_A.weight";
    let (values, shape) = st.f32(&format!("param/{a}")).unwrap();
    assert_eq!((shape, values.len()), (vec![4, 32], 128));
    let head = st.f32("param/classifier.weight").unwrap();
    assert_eq!(head.1, vec![2, 32]);
    let moments: Vec<_> = st.entries.keys().filter(|n| n.starts_with("exp_avg/")).collect();
    assert_eq!(moments.len(), st.entries.keys().filter(|n| n.starts_with("exp_avg_sq/")).count());
    // One moment pair per trainable tensor: every LoRA A and B and the head.
    assert_eq!(moments.len(), st.entries.keys().filter(|n| n.starts_with("param/")).count());
    let len = u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&file[8..8 + len]).unwrap();
    let meta: serde_json::Value = serde_json::from_str(header["__metadata__"]["snapshot"].as_str().unwrap()).unwrap();
    assert_eq!(meta["format"], "lora-playground-snapshot/1");
    assert_eq!(meta["plan"]["lora_dropout"], 0.2);
    assert_eq!(meta["position"]["global"], 2);
    assert_eq!(meta["model"].as_str().unwrap().len(), 64, "a SHA-256 in hex");
}

#[test]
fn a_snapshot_is_refused_over_other_data_a_damaged_file_or_no_file() {
    let _alone = alone();
    let mut wb = workbench(DeviceInfo::cpu(), DATA);
    wb.prepare(plan()).unwrap();
    assert!(wb.snapshot_file().unwrap().is_none(), "no snapshot before the first step");
    losses(&mut wb, 1);
    let file = wb.snapshot_file().unwrap().unwrap();
    let other = DATA.replace("bank fee,bank", "bank fees,bank");
    let e = workbench(DeviceInfo::cpu(), &other).resume_run(&file).unwrap_err();
    assert_eq!(e.field, "snapshot");
    assert!(e.message.contains("another dataset"), "{e}");
    let mut other_model = Workbench::new();
    other_model.set_device(Device::flex(), DeviceInfo::cpu());
    other_model.load_model(tiny::files(4)).unwrap();
    other_model.load_dataset("d.csv", DATA.as_bytes()).unwrap();
    assert!(other_model.resume_run(&file).unwrap_err().message.contains("another model"));
    for cut in [0, 7, 8, 100, file.len() / 2, file.len() - 1] {
        let e = workbench(DeviceInfo::cpu(), DATA).resume_run(&file[..cut]).unwrap_err();
        assert_eq!(e.field, "snapshot", "cut at {cut}: {e}");
    }
    let e = workbench(DeviceInfo::cpu(), DATA).resume_run(b"not a snapshot at all").unwrap_err();
    assert_eq!(e.field, "snapshot");
}
