//! Failures on demand, for tests only: a lost GPU or a bug in the next step (`fail_next_step`), a trap (a Rust
//! panic: the page's recovery and the helper workers' tests). Compiled only with the `test-hooks` feature, which
//! the native tests turn on (crate/Cargo.toml's dev-dependency) and the page tests' wasm is built with
//! (`web/pkg-train-hooks`); the shipped wasm has neither the calls nor their checks (tests/e2e/train.mjs looks for
//! their exports in both builds). The calls that set them are `injected.rs`.

use crate::error::Error;

/// What the tests asked for; empty (and free) without the feature.
#[derive(Default)]
pub struct Hooks {
    #[cfg(feature = "test-hooks")]
    pub(super) fail_next_step: Option<Error>,
    /// The step (or, in a helper, the share) that traps.
    #[cfg(feature = "test-hooks")]
    pub(super) panic_at: Option<usize>,
}

impl Hooks {
    /// The failure a test put before the next step, if any (taken: once).
    pub fn next_step_failure(&mut self) -> Result<(), Error> {
        #[cfg(feature = "test-hooks")]
        if let Some(e) = self.fail_next_step.take() {
            return Err(e);
        }
        Ok(())
    }

    /// Traps if a test asked for one at this step (the one that brings the run to `step` steps) or, in a helper
    /// worker, at this share (its `step`-th).
    pub fn trap_at(&self, step: usize, what: &str) {
        #[cfg(feature = "test-hooks")]
        if self.panic_at == Some(step) {
            panic!("injected for a test: a trap during {what} {step}");
        }
        let _ = (step, what);
    }
}
