//! "How long will a step take here?", answered by taking one: before a run, the plan's model is built on the
//! chosen device beside whatever the page holds, a step or two of it run, and dropped. The page times the steps
//! (the core keeps no clock: wasm32 has none); the first step on a GPU also compiles its kernels, so the page
//! reports the second. Nothing of the trial stays: a trained job waiting to be kept is untouched.

use super::Workbench;
use crate::error::Error;
use crate::train::job::JobInfo;
use crate::train::plan::Plan;

impl Workbench {
    /// Builds the trial's model for `plan` (checked as a run's would be, memory included); returns its figures.
    pub fn start_trial(&mut self, plan: Plan) -> Result<JobInfo, Error> {
        let job = self.new_job(&plan)?;
        let info = job.info().clone();
        self.trial = Some(job);
        Ok(info)
    }

    /// One optimizer step of the trial, its loss read back (so the step has finished on the device).
    pub async fn trial_step(&mut self) -> Result<(), Error> {
        let job = self.trial.as_mut().ok_or_else(|| Error::invalid("trial", "nothing to time: start a trial first"))?;
        job.step().await.map(|_| ())
    }

    /// Drops the trial's model.
    pub fn end_trial(&mut self) {
        self.trial = None;
    }
}
