//! One batch over several workers (`train::shares`): a run whose steps are cut into shares, each computed by a
//! replica from the run's current weights and summed, trains what one worker trains: the same losses within 1e-4
//! (only the summation order and each share's padding differ), with dropout on. Also what an unusable answer gets.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::data::{Dataset, parse};
use lora_playground::model::methods::Method;
use lora_playground::model::tiny;
use lora_playground::train::job::Job;
use lora_playground::train::plan::Plan;
use lora_playground::train::shares::ShareGradients;

use crate::common;
use common::tiny_plan;

/// 36 texts of 2 to 10 words in three classes: shares of a batch pad to different lengths.
fn uneven_data() -> Dataset {
    let words = [("money bank card fee", "bank"), ("school student loan", "school"), ("love great good", "happy")];
    let mut jsonl = String::new();
    for i in 0..36 {
        let (w, l) = words[i % 3];
        let text: Vec<&str> = w.split(' ').cycle().take(2 + i * 7 % 9).collect();
        jsonl.push_str(&format!("{{\"text\": \"{}\", \"label\": \"{l}\"}}\n", text.join(" ")));
    }
    parse("d.jsonl", jsonl.as_bytes()).unwrap()
}

/// Every step's loss of a whole run of `plan`, each step cut in `workers` shares (the first the job's own).
fn losses(plan: &Plan, workers: usize) -> Vec<f64> {
    let (files, data, device) = (tiny::files(2), uneven_data(), Device::flex());
    let mut job = Job::new(&files, plan, &data, &device).unwrap();
    let mut replicas: Vec<_> = (1..workers).map(|_| job.replica(&files, &device).unwrap()).collect();
    let mut out = Vec::new();
    while !job.finished() {
        let (shares, weights) = block_on(job.begin_shared_step(workers)).unwrap();
        assert_eq!(shares.len(), workers - 1);
        job.compute_own_share();
        let others: Vec<ShareGradients> = shares
            .iter()
            .zip(&mut replicas)
            .map(|(share, r)| block_on(r.gradients(&weights, share)).unwrap())
            .collect();
        out.push(block_on(job.finish_shared_step(others)).unwrap().loss);
    }
    out
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn n_workers_train_what_one_worker_trains() {
    // The tiny model's dropouts are 0.1; LoRA's is raised so that its masks matter too.
    let plan = Plan { lora_dropout: 0.3, ..tiny_plan() };
    let one = losses(&plan, 1);
    assert_eq!(one.len(), 12);
    for workers in [2, 3] {
        let n = losses(&plan, workers);
        let d = max_diff(&one, &n);
        eprintln!("{workers} workers: max loss difference {d:e}");
        assert!(d < 1e-4, "{workers} workers: losses differ by {d}: {one:?} vs {n:?}");
    }
    // Dropout is really on: without it the run is another run.
    let off = losses(&Plan { lora_dropout: 0.0, ..plan.clone() }, 1);
    assert!(max_diff(&one, &off) > 1e-3, "{one:?} vs {off:?}");
    // And the example masks come from the seed: the same seed gives the same bits.
    assert_eq!(one, losses(&plan, 1));
}

#[test]
fn every_method_shares_its_gradients() {
    for method in ["full", "head", "bitfit"] {
        let mut plan = tiny_plan();
        plan.method = Method::parse(method).unwrap();
        plan.train.epochs = 1;
        let d = max_diff(&losses(&plan, 1), &losses(&plan, 2));
        assert!(d < 1e-4, "{method}: {d}");
    }
}

#[test]
fn an_answer_that_does_not_fit_the_run_is_refused() {
    let (files, data, device) = (tiny::files(2), uneven_data(), Device::flex());
    let mut job = Job::new(&files, &tiny_plan(), &data, &device).unwrap();
    let (shares, mut weights) = block_on(job.begin_shared_step(2)).unwrap();
    job.compute_own_share();
    let mut replica = job.replica(&files, &device).unwrap();
    let good = block_on(replica.gradients(&weights, &shares[0])).unwrap();

    let mut bad = good.clone();
    bad.gradients.insert("bert.nothing.weight".into(), vec![0.0]);
    let e = block_on(job.finish_shared_step(vec![bad])).unwrap_err();
    assert_eq!(e.field, "gradients");
    assert!(e.message.contains("bert.nothing.weight"), "{}", e.message);

    // The step is not taken by a refused answer; begun again, it cuts the same batch.
    assert_eq!(job.global_step(), 0);
    let (again, _) = block_on(job.begin_shared_step(2)).unwrap();
    assert_eq!(again, shares);
    job.compute_own_share();
    let e = block_on(job.finish_shared_step(Vec::new())).unwrap_err();
    assert!(e.message.contains("0 workers answered"), "{}", e.message);

    let name = weights.keys().next().unwrap().clone();
    weights.get_mut(&name).unwrap().pop();
    let e = block_on(replica.gradients(&weights, &shares[0])).unwrap_err();
    assert_eq!(e.field, "weights");
    assert!(e.message.contains(&name), "{}", e.message);
    // The replica still works after refusing.
    weights = block_on(job.begin_shared_step(2)).unwrap().1;
    assert!(block_on(replica.gradients(&weights, &shares[0])).is_ok());
}
