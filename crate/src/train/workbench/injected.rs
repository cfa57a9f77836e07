//! The calls tests make to set `hooks.rs`'s failures; compiled only with the `test-hooks` feature.

use super::Workbench;
use crate::error::Error;

impl Workbench {
    /// The step that would bring the run to `step` steps panics, as a bug or an out-of-memory in the backend would
    /// (a trap in the browser); in a helper worker, its `step`-th share. Once: a fresh worker does not inherit it.
    pub fn panic_at_step(&mut self, step: usize) {
        self.hooks.panic_at = Some(step);
    }

    /// The next step fails as a lost GPU does (a real loss cannot be provoked on demand).
    pub fn simulate_device_loss(&mut self) {
        self.fail_next_step(Error::device_lost("the GPU device was lost (simulated)"));
    }

    /// The next step fails with `error` (an internal error: a bug must end the step with its message, not move
    /// the run to the CPU).
    pub fn fail_next_step(&mut self, error: Error) {
        self.hooks.fail_next_step = Some(error);
    }
}
