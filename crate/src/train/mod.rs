//! Training: one `Plan`, the step-wise `Run` shared by the CLI loop (`fit`) and the browser (`Workbench`), saved
//! folders written and read side by side, and serving several adapters on one base.

pub mod adamw;
pub mod adapters;
pub mod batch;
pub mod budget;
pub mod causal;
pub mod classifier;
pub mod config;
pub mod experiment;
pub mod fit;
pub mod folder;
pub mod frozen;
pub mod job;
pub mod merge;
pub mod metrics;
pub mod plan;
pub mod prepare;
pub mod readback;
pub mod replica;
pub mod replies;
pub mod run;
pub mod schedule;
pub mod shares;
pub mod snapshot;
pub mod workbench;
