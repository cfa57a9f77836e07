//! AdamW over a whole model, with its moments kept by parameter path so a run can be saved and carried on
//! exactly (a snapshot in IndexedDB, a fresh worker after a trap, the CPU after a lost GPU).
//!
//! The arithmetic is burn's own (`burn::optim::AdamW::step`, `GradientClipping::clip_gradient`); what is ours is
//! only the walk that `ModuleOptimizer` also does, with one difference: burn keys the state by `ParamId`, which a
//! rebuilt model does not keep, and its `load_record` materializes the state on `Device::default()`, which in the
//! page's CPU path would start a WebGPU device synchronously. Here the state is keyed by the module path and laid
//! back on the device the run trains on.

use std::collections::BTreeMap;

use burn::grad_clipping::{GradientClipping, GradientClippingConfig};
use burn::module::{Module, ModuleMapper, Param};
use burn::optim::{AdamW as BurnAdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, GradientsParams, Optimizer};
use burn::tensor::{Device, Tensor, TensorData};

use super::readback::read_floats;
use crate::error::Error;

/// One parameter's moments on the device, flattened (the parameter's own shape is restored at each step).
#[derive(Clone)]
struct Moments {
    time: usize,
    exp_avg: Tensor<1>,
    exp_avg_sq: Tensor<1>,
}

/// One parameter's moments on the host: what a snapshot keeps (PyTorch's names: `exp_avg`, `exp_avg_sq`, `step`).
#[derive(Debug, Clone, PartialEq)]
pub struct HostMoments {
    pub step: usize,
    pub exp_avg: Vec<f32>,
    pub exp_avg_sq: Vec<f32>,
}

/// AdamW's state for every parameter that has had a gradient, by module path.
pub type OptimizerState = BTreeMap<String, HostMoments>;

#[derive(Clone)]
pub struct AdamW {
    adamw: BurnAdamW,
    clipping: Option<GradientClipping>,
    moments: BTreeMap<String, Moments>,
}

impl AdamW {
    /// `epsilon` 1e-8 (torch's default), decoupled weight decay, each gradient tensor clipped to `max_grad_norm`.
    pub fn new(weight_decay: f64, max_grad_norm: f64) -> Self {
        let config = AdamWConfig::new().with_epsilon(1e-8).with_weight_decay(weight_decay as f32);
        Self {
            adamw: config.build(),
            clipping: Some(GradientClippingConfig::Norm(max_grad_norm as f32).init()),
            moments: BTreeMap::new(),
        }
    }

    /// Updates every parameter of `module` that has a gradient in `grads`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> M {
        let mut walk = Walk { optim: self, grads, lr, path: Vec::new() };
        module.map(&mut walk)
    }

    /// The moments read back to the host.
    pub async fn state(&self) -> Result<OptimizerState, Error> {
        let mut out = OptimizerState::new();
        for (path, m) in &self.moments {
            let host = HostMoments {
                step: m.time,
                exp_avg: read_floats(m.exp_avg.clone()).await?,
                exp_avg_sq: read_floats(m.exp_avg_sq.clone()).await?,
            };
            out.insert(path.clone(), host);
        }
        Ok(out)
    }

    /// Lays `state` back on `device` (the plain device the run's parameters live on).
    pub fn load_state(&mut self, state: &OptimizerState, device: &Device) {
        let flat = |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), device);
        self.moments = state
            .iter()
            .map(|(path, m)| {
                (path.clone(), Moments { time: m.step, exp_avg: flat(&m.exp_avg), exp_avg_sq: flat(&m.exp_avg_sq) })
            })
            .collect();
    }
}

struct Walk<'a> {
    optim: &'a mut AdamW,
    grads: GradientsParams,
    lr: f64,
    path: Vec<String>,
}

impl ModuleMapper for Walk<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let path = self.path.join(".");
        let require_grad = tensor.is_require_grad();
        let tensor = tensor.inner();
        let grad = match &self.optim.clipping {
            Some(c) => c.clip_gradient(grad),
            None => grad,
        };
        let dims = tensor.dims();
        let state = self.optim.moments.remove(&path).map(|m| AdamWState {
            momentum: AdaptiveMomentumState {
                time: m.time,
                moment_1: m.exp_avg.reshape(dims),
                moment_2: m.exp_avg_sq.reshape(dims),
                max_moment_2: None,
            },
        });
        let (updated, state) = self.optim.adamw.step(self.lr, tensor, grad, state);
        if let Some(s) = state {
            let n = dims.iter().product::<usize>();
            let m = s.momentum;
            self.optim.moments.insert(
                path,
                Moments { time: m.time, exp_avg: m.moment_1.reshape([n]), exp_avg_sq: m.moment_2.reshape([n]) },
            );
        }
        let mut updated = Tensor::from_inner(updated);
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
