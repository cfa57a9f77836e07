//! Counts the GPU kernels a benchmark launches (issue 15: "fewer kernel launches per step, counted"). cubecl calls
//! a process-wide observer on every launch it issues (`LaunchObserver`, one atomic load when none is installed),
//! so the count is of the launches themselves, with no profiling mode that would serialise them. The CPU backend
//! (flex) launches no kernels: its count stays 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use cubecl_runtime::logging::{LaunchObservation, LaunchObserver};

#[derive(Default)]
struct Count(AtomicU64);

impl LaunchObserver for Count {
    fn launched(&self, _kernel: &'static str) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Kernels launched while `work` ran. With burn's `fusion`, queued work reaches the GPU when something reads it
/// back, so `work` must end in a read (every benchmark step reads its loss) for its launches to fall inside.
pub fn counted(work: impl FnOnce()) -> u64 {
    let count = Arc::new(Count::default());
    let guard = LaunchObservation::new(count.clone());
    work();
    drop(guard);
    count.0.load(Ordering::Relaxed)
}
