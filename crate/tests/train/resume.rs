//! Carrying a run on elsewhere (the browser's answer to a lost GPU): a job's snapshot (trainable tensors by
//! Hugging Face name, and the run's position) rebuilds the job on another device at the same step. Alone in its
//! binary: burn's CPU random state (dropout) is process-wide, and `job.rs` compares exact losses.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::model::tiny;
use lora_playground::train::job::Job;
use lora_playground::train::plan::Plan;

use crate::common;
use common::{keyword_data as data, tiny_plan as plan};

#[test]
fn a_snapshot_carries_a_run_on_on_another_device_from_the_same_step() {
    use lora_playground::model::methods::Method;
    let files = tiny::files(2);
    let data = data();
    for method in [Method::Lora, Method::Bitfit] {
        let plan = Plan { method, ..plan() };
        let mut job = Job::new(&files, &plan, &data, &Device::flex()).unwrap();
        for _ in 0..5 {
            block_on(job.step()).unwrap();
        }
        let snap = block_on(job.snapshot()).unwrap();
        assert_eq!(snap.position.global, 5);
        assert!(snap.tensors.keys().any(|k| k.starts_with("classifier.")), "{method:?}: {:?}", snap.tensors.keys());
        if method == Method::Lora {
            assert!(snap.tensors.keys().any(|k| k.ends_with("query.lora_A.weight")), "{:?}", snap.tensors.keys());
        }
        // "Another device": a fresh CPU device here; in the browser, the CPU after WebGPU was lost.
        let mut resumed = Job::resume(&files, &plan, &data, &Device::flex(), &snap).unwrap();
        assert_eq!(resumed.global_step(), 5);
        assert_eq!(resumed.info().total_steps, job.info().total_steps);
        // The resumed model holds exactly the snapshot's tensors.
        let back = block_on(resumed.snapshot()).unwrap();
        assert_eq!(back.tensors, snap.tensors, "{method:?}");
        assert_eq!(back.position, snap.position);
        // It carries on with the next batch of the same epoch and finishes the run.
        let next = block_on(resumed.step()).unwrap();
        assert_eq!((next.global_step, next.epoch, next.step), (6, 2, 2), "{method:?}: 4 steps an epoch");
        while !resumed.finished() {
            block_on(resumed.step()).unwrap();
        }
        assert_eq!(resumed.global_step(), 12);
    }
}
