//! Training: runs, shares over workers, snapshots and resumption, merge, several adapters, the page's run policy
//! natively, and wgpu against the CPU.
//! One test binary per area (each links burn once); a file per subject inside it.

mod adapters;
mod as_stored;
mod causal;
mod checkpointing;
mod common;
mod export_run;
mod float16;
mod float16_base;
mod job;
mod lm_lab;
mod merge;
mod resume;
mod session;
mod shares;
mod snapshot;
mod wgpu;
mod workbench;
