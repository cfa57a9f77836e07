//! One run over several workers on the CPU (`train::shares`): the worker that owns the run cuts each step's batch
//! into shares and sends all but its own to helper workers, each a `Workbench` of its own holding a `Replica`.
//! The owner's calls come in three (`begin`, `compute own`, `finish`) so that its own share is computed while the
//! helpers compute theirs; the step is taken, evaluated and snapshotted by `finish` as `advance` does.

use serde::Serialize;

use super::{SNAPSHOT_EVERY_STEP_UP_TO, Workbench};
use crate::error::Error;
use crate::train::budget;
use crate::train::plan::Plan;
use crate::train::replica::Replica;
use crate::train::replies::Tick;
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
    /// How many workers the job's steps can use, out of `offered`, on a machine with `machine_bytes` of memory
    /// where the browser says: one on a GPU (it already runs the whole batch at once) and for runs that train more
    /// than `SHARE_UP_TO` parameters; never more than the batch has examples, nor more than fit in half the
    /// machine's memory (each worker holds the model).
    pub fn share_workers(&self, offered: usize, machine_bytes: Option<u64>) -> Result<Sharing, Error> {
        let job = self.job()?;
        let gpu = self.device_info().is_some_and(|d| d.is_gpu());
        let (files, labels, plan) = (self.files()?, self.dataset()?.labels.len(), job.plan());
        let need = |n| budget::worker_host_bytes(&files.config_json, files.safetensors.len() as u64, labels, plan, n);
        sharing(offered, gpu, job.info().trainable, plan.train.batch_size, machine_bytes, need)
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
        let replica =
            self.replica.as_mut().ok_or_else(|| Error::invalid("replica", "not started: start_replica first"))?;
        self.replica_shares += 1;
        self.hooks.trap_at(self.replica_shares, "share");
        replica.gradients(weights, share).await
    }
}

/// How many workers a run uses, and why fewer than were offered (shown beside the setting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sharing {
    pub workers: usize,
    pub limited_by: Option<String>,
}

/// `offered` workers, or fewer: one on a GPU or past `SHARE_UP_TO` trainable parameters, never more than the batch,
/// and only as many as fit in half of `machine_bytes` when `need(n)` is what each of n workers holds.
fn sharing(
    offered: usize,
    gpu: bool,
    trainable: u64,
    batch_size: usize,
    machine_bytes: Option<u64>,
    need: impl Fn(usize) -> Result<u64, Error>,
) -> Result<Sharing, Error> {
    let asked = offered.max(1);
    let limited = |workers: usize, why: String| Sharing { workers, limited_by: (workers < asked).then_some(why) };
    if gpu {
        return Ok(limited(1, "WebGPU runs the whole batch at once".into()));
    }
    if trainable > SHARE_UP_TO {
        return Ok(limited(
            1,
            format!("{trainable} trainable parameters: their gradients would cross between workers each step"),
        ));
    }
    let mut n = asked.min(batch_size.max(1));
    let mut why = format!("a batch of {batch_size} has {batch_size} examples to share");
    if let Some(machine) = machine_bytes {
        // Half the machine for this tab's workers: the browser, the page and the rest of the system need the other.
        let fit = |n: usize| need(n).map(|each| n as u64 * each <= machine / 2);
        let before = n;
        while n > 1 && !fit(n)? {
            n -= 1;
        }
        if n < before {
            let mib = |b: u64| b.div_ceil(1 << 20);
            why = format!(
                "each worker holds the model and its share, about {} MiB; {n} fit in half of the {:.1} GiB this device reports",
                mib(need(n)?),
                machine as f64 / (1u64 << 30) as f64
            );
        }
    }
    Ok(limited(n, why))
}

#[cfg(test)]
mod tests {
    use super::sharing;
    use crate::error::Error;

    fn workers_for(offered: usize, gpu: bool, trainable: u64, batch_size: usize) -> usize {
        sharing(offered, gpu, trainable, batch_size, None, |_| -> Result<u64, Error> { unreachable!() })
            .unwrap()
            .workers
    }

    #[test]
    fn full_fine_tuning_and_the_gpu_train_on_one_worker() {
        // MiniLM: LoRA r=8 on query, value trains 74k parameters (shared); full fine-tuning 22.7M (not).
        assert_eq!(workers_for(4, false, 74_496, 16), 4);
        assert_eq!(workers_for(4, false, 22_713_216, 16), 1);
        assert_eq!(workers_for(4, true, 74_496, 16), 1);
        assert_eq!(workers_for(4, false, 74_496, 2), 2);
        assert_eq!(workers_for(0, false, 74_496, 16), 1);
    }

    #[test]
    fn the_workers_fit_in_half_the_machine_and_say_why_fewer() {
        const MIB: u64 = 1 << 20;
        // Each worker: a 100 MiB model and 16 MiB per example of its share.
        let need = |n: usize| Ok(100 * MIB + 16 * MIB * 16u64.div_ceil(n as u64));
        // 8 GiB: 4 workers need 4 x 164 MiB, well within 4 GiB.
        let roomy = sharing(4, false, 74_496, 16, Some(8 << 30), need).unwrap();
        assert_eq!(roomy, super::Sharing { workers: 4, limited_by: None });
        // 1 GiB: half is 512 MiB; 2 workers need 2 x 228 = 456 MiB, 3 need 3 x 196 = 588 MiB.
        let tight = sharing(4, false, 74_496, 16, Some(1 << 30), need).unwrap();
        assert_eq!(tight.workers, 2);
        assert_eq!(
            tight.limited_by.as_deref(),
            Some(
                "each worker holds the model and its share, about 228 MiB; 2 fit in half of the 1.0 GiB this device reports"
            )
        );
        // Never below one, whatever the memory; and asking for one is never "limited".
        assert_eq!(sharing(4, false, 74_496, 16, Some(MIB), need).unwrap().workers, 1);
        assert_eq!(sharing(1, true, 74_496, 16, None, need).unwrap().limited_by, None);
        let gpu = sharing(3, true, 74_496, 16, None, need).unwrap();
        assert_eq!((gpu.workers, gpu.limited_by.as_deref()), (1, Some("WebGPU runs the whole batch at once")));
    }
}
