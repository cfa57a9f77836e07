//! One run over several workers on the CPU (`train::shares`): the worker that owns the run cuts each step's batch
//! into shares and sends all but its own to helper workers, each a `Workbench` of its own holding a `Replica`.
//! The owner's calls come in three (`begin`, `compute own`, `finish`) so that its own share is computed while the
//! helpers compute theirs; the step is taken, evaluated and snapshotted by `finish` as `advance` does.

use super::{SNAPSHOT_EVERY_STEP_UP_TO, Workbench};
use crate::error::Error;
use crate::train::bench_reports::Tick;
use crate::train::plan::Plan;
use crate::train::replica::Replica;
use crate::train::shares::{HostTensors, Share, ShareGradients};

/// Runs that train at most this many parameters share their steps: what crosses between workers each step is the
/// trainable tensors and their gradients (LoRA, head-only, BitFit: under a few MB). Full fine-tuning would send the
/// whole model twice a step and stays on one worker.
pub const SHARE_UP_TO: u64 = SNAPSHOT_EVERY_STEP_UP_TO;

/// What the helpers get for one step: a share each, and the trainable tensors as they are now.
#[derive(Debug, Clone)]
pub struct ShareRequest {
    pub shares: Vec<Share>,
    pub weights: HostTensors,
}

impl Workbench {
    /// How many workers the job's steps can use, out of `offered`: one on a GPU (it already runs the whole batch
    /// at once) and for runs that train more than `SHARE_UP_TO` parameters.
    pub fn share_workers(&self, offered: usize) -> Result<usize, Error> {
        let job = self.job()?;
        let gpu = self.device_info().is_some_and(|d| d.is_gpu());
        Ok(workers_for(offered, gpu, job.info().trainable, job.plan().train.batch_size))
    }

    /// Begins the next step cut in `workers` shares: the helpers' shares and the weights they compute at.
    pub async fn begin_shared_step(&mut self, workers: usize) -> Result<ShareRequest, Error> {
        let (shares, weights) = self.job_for_step()?.begin_shared_step(workers).await?;
        Ok(ShareRequest { shares, weights })
    }

    /// Computes the job's own share of the begun step (blocking this worker while the helpers compute theirs).
    pub fn compute_own_share(&mut self) -> Result<(), Error> {
        self.job_mut()?.compute_own_share();
        Ok(())
    }

    /// The helpers' answers in: the step taken, then what `advance` does after a step.
    pub async fn finish_shared_step(&mut self, others: Vec<ShareGradients>) -> Result<Tick, Error> {
        let step = self.job_mut()?.finish_shared_step(others).await?;
        let (step, evaluation, snapshot) = self.after_step(step).await?;
        Ok(Tick { step: Some(step), evaluation, fallback: None, snapshot, done: self.job()?.finished() })
    }

    /// Makes this workbench a helper for runs of `plan` over the loaded model with `num_labels` labels.
    pub fn start_replica(&mut self, plan: &Plan, num_labels: usize) -> Result<(), Error> {
        self.replica = None;
        self.replica_shares = 0;
        self.replica = Some(Replica::new(self.files()?, plan, num_labels, self.device()?)?);
        Ok(())
    }

    /// A helper's answer: `share`'s loss and gradients at `weights`.
    pub async fn replica_gradients(&mut self, weights: &HostTensors, share: &Share) -> Result<ShareGradients, Error> {
        let replica = self.replica.as_mut().ok_or_else(|| Error::invalid("replica", "not started: start_replica first"))?;
        self.replica_shares += 1;
        if self.panic_at == Some(self.replica_shares) {
            panic!("injected for a test: a trap during share {}", self.replica_shares);
        }
        replica.gradients(weights, share).await
    }
}

/// `offered` workers, or fewer: one on a GPU or past `SHARE_UP_TO` trainable parameters, never more than the batch.
fn workers_for(offered: usize, gpu: bool, trainable: u64, batch_size: usize) -> usize {
    if gpu || trainable > SHARE_UP_TO { 1 } else { offered.clamp(1, batch_size.max(1)) }
}

#[cfg(test)]
mod tests {
    use super::workers_for;

    #[test]
    fn full_fine_tuning_and_the_gpu_train_on_one_worker() {
        // MiniLM: LoRA r=8 on query, value trains 74k parameters (shared); full fine-tuning 22.7M (not).
        assert_eq!(workers_for(4, false, 74_496, 16), 4);
        assert_eq!(workers_for(4, false, 22_713_216, 16), 1);
        assert_eq!(workers_for(4, true, 74_496, 16), 1);
        assert_eq!(workers_for(4, false, 74_496, 2), 2);
        assert_eq!(workers_for(0, false, 74_496, 16), 1);
    }
}
