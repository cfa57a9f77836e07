//! Command dispatch. Every failure becomes a message and an exit code, never a panic.

use usage::{USAGE, usage_error};

#[cfg(feature = "train")]
mod adapters;
#[cfg(feature = "train")]
mod bench;
#[cfg(feature = "train")]
mod bench_lm;
mod count;
#[cfg(feature = "train")]
mod data_file;
#[cfg(feature = "train")]
mod device;
#[cfg(feature = "train")]
mod export_gguf;
#[cfg(feature = "train")]
mod export_run;
mod flags;
mod float16;
#[cfg(feature = "train")]
mod generate;
mod hub;
#[cfg(feature = "train")]
mod inspect;
#[cfg(feature = "train")]
mod launches;
mod lesson;
#[cfg(feature = "train")]
mod lm_files;
#[cfg(feature = "train")]
mod logprobs;
#[cfg(feature = "train")]
mod merge;
#[cfg(feature = "train")]
mod merge_lm;
#[cfg(feature = "train")]
mod model_files;
#[cfg(feature = "train")]
mod predict;
#[cfg(feature = "train")]
mod progress;
#[cfg(feature = "train")]
mod quantize;
mod serve;
#[cfg(feature = "train")]
mod sweep;
mod table;
#[cfg(feature = "train")]
mod timing;
#[cfg(feature = "train")]
mod train;
#[cfg(feature = "train")]
mod train_lm;
mod usage;

/// Runs a command line; returns the process exit code: 0 ok, 1 bad input (a model, a file, a setting), 2 a bad
/// command line, 3 a lost GPU, 4 busy, 5 a bug (`usage::exit_code`, by the error's kind).
pub fn run(args: &[String]) -> i32 {
    match args.first().map(String::as_str) {
        Some("count") => count::run(&args[1..]),
        Some("serve") => serve::run(&args[1..]),
        Some("float16") => float16::run(&args[1..]),
        Some("lesson") => lesson::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("train") => train::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("predict") => predict::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("logprobs") => logprobs::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("generate") => generate::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("merge") => merge::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("quantize") => quantize::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("export-gguf") => export_gguf::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("export-run") => export_run::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("adapters") => adapters::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("inspect") => inspect::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("compare") => sweep::compare(&args[1..]),
        #[cfg(feature = "train")]
        Some("sweep") => sweep::sweep(&args[1..]),
        #[cfg(feature = "train")]
        Some("tiny-model") => model_files::write_tiny(&args[1..]),
        #[cfg(feature = "train")]
        Some("bench") => bench::run(&args[1..]),
        #[cfg(feature = "train")]
        Some("bench-one") => bench::run_one(&args[1..]),
        #[cfg(not(feature = "train"))]
        Some(
            cmd @ ("train" | "predict" | "logprobs" | "generate" | "merge" | "quantize" | "export-gguf" | "export-run"
            | "adapters" | "inspect" | "compare" | "sweep" | "tiny-model" | "bench"),
        ) => {
            eprintln!("error: '{cmd}' needs the `train` feature (this build has only the calculator)");
            2
        }
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        Some(other) => usage_error(&format!("unknown command '{other}'")),
        None => usage_error("no command given"),
    }
}
