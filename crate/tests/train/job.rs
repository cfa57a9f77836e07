//! The browser worker's model side (`train::job::Job`), natively: step by step it gives exactly the losses the
//! CLI's training loop gives for the same seed, its evaluation and predictions are well-formed, and bad calls get
//! messages. Alone in its binary: burn's CPU random state (dropout) is process-wide.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::model::tiny;
use lora_playground::train::batch::preview_tokens;
use lora_playground::train::fit::{Progress, train};
use lora_playground::train::job::Job;
use lora_playground::train::prepare::prepare;

use crate::common;
use common::{keyword_data as data, tiny_plan as plan};

#[test]
fn a_job_stepped_from_outside_trains_exactly_like_the_cli_loop() {
    let files = tiny::files(2);
    let (data, plan) = (data(), plan());
    let device = Device::flex();

    // The CLI's loop.
    let p = prepare(&files, &plan, &data, &device.clone().autodiff()).unwrap();
    let mut cli_losses = Vec::new();
    let (_, reports) =
        train(p.model, &plan.train, &p.config, &p.train, &p.val, &p.labels, &device.clone().autodiff(), |e| {
            if let Progress::Step { loss, .. } = e {
                cli_losses.push(loss);
            }
        });

    // The job, one step per call, as the worker drives it.
    let mut job = Job::new(&files, &plan, &data, &device).unwrap();
    let info = job.info().clone();
    // 36 examples, 12 a class; round(20% of 12) = 2 a class held out: 6 validation, 30 training; 30 / 8 -> 4 steps.
    assert_eq!((info.train_examples, info.val_examples, info.steps_per_epoch, info.total_steps), (30, 6, 4, 12));
    let mut losses = Vec::new();
    let mut evaluations = Vec::new();
    while !job.finished() {
        let s = block_on(job.step()).unwrap();
        losses.push(s.loss);
        if s.epoch_done {
            evaluations.push(block_on(job.evaluate()).unwrap());
        }
    }
    // Dropout makes both runs draw from burn's generator, seeded identically by `prepare`: the same operations in
    // the same order, so the same bits, not just close values.
    assert_eq!(losses.len(), 12);
    assert_eq!(losses, cli_losses);
    assert_eq!(evaluations.len(), 3);
    let last = evaluations.last().unwrap();
    assert_eq!(last.val_loss, reports[2].val_loss);
    assert_eq!(last.metrics.confusion.iter().flatten().sum::<usize>(), 6);
    assert!(block_on(job.step()).unwrap_err().message.contains("finished"));

    let p = block_on(job.predict("student loan school")).unwrap();
    assert_eq!(p.labels, ["bank", "happy", "school"]);
    assert!((p.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{:?}", p.probs);
    assert!(p.labels.contains(&p.label));
    assert_eq!(block_on(job.predict("   ")).unwrap_err().field, "text");
}

#[test]
fn the_tokenizer_preview_shows_pieces_ids_and_the_cut() {
    let files = tiny::files(2);
    let p = preview_tokens(&files, "Student loans cost money", 4).unwrap();
    assert_eq!(p.tokens.first().map(String::as_str), Some("[CLS]"));
    assert_eq!(p.tokens.last().map(String::as_str), Some("[SEP]"));
    assert_eq!(p.ids.len(), p.tokens.len());
    assert_eq!(p.full_length, p.ids.len());
    assert_eq!(p.kept, 4);
    assert!(
        p.tokens.iter().any(|t| t.starts_with("##")),
        "'loans' and 'cost' are not whole words here: {:?}",
        p.tokens
    );
}

#[test]
fn a_job_with_bad_settings_says_which() {
    let files = tiny::files(2);
    let mut plan = plan();
    plan.train.batch_size = 0;
    let e = Job::new(&files, &plan, &data(), &Device::flex()).err().expect("batch size 0 is refused");
    assert_eq!(e.field, "batch_size");
    let mut plan = self::plan();
    plan.max_len = 1000;
    let e = Job::new(&files, &plan, &data(), &Device::flex()).err().expect("max_len over the model's positions");
    assert!(e.message.contains("max_position_embeddings"), "{e}");
}
