//! `x W` with a packed frozen `W` as one step of burn's autodiff graph: the forward pass dequantizes `W`, multiplies
//! and drops it; the step keeps only the packed weight, and its backward pass dequantizes again for
//! `grad_x = grad W^T`. The ordinary `matmul` would keep the float `W` for the backward pass, one float copy of
//! every base layer alive until the step ends: the memory QLoRA exists to save.
//!
//! burn's custom-operation API (`Backward`, `prepare`) works on a concrete backend, so the tensor is taken down to
//! it (the `extension` feature's `try_into_primitive`): the CPU backend (Flex) or wgpu's (Cube).

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ops::FloatTensorOps;
use burn::backend::{Cube, DispatchDevice, Flex};
use burn::tensor::{Device, Tensor};

use super::weight::PackedWeight;

/// `x W` for `x` `[rows, d_input]`: through the custom step when `x` is in a graph, else plainly.
pub fn matmul(x: Tensor<2>, weight: &PackedWeight) -> Tensor<2> {
    let device = x.device();
    if x.is_tracked() {
        let inner = device.clone().inner();
        let out = match inner.as_dispatch() {
            DispatchDevice::Flex(_) => tracked_flex(x.clone(), weight, &device),
            DispatchDevice::Cube(_) => tracked_cube(x.clone(), weight, &device),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(out) = out {
            return out;
        }
    }
    x.matmul(weight.burn_layout(&device))
}

/// Custom steps recorded (the test checks the step is taken, not the ordinary matmul).
#[cfg(test)]
static STEPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The custom step on one concrete backend; `None` if the tensor is not on it (a gradient-checkpointing graph, which
/// the trainer does not use, falls back to the ordinary `matmul`).
macro_rules! tracked_on {
    ($name:ident, $backend:ty) => {
        fn $name(x: Tensor<2>, weight: &PackedWeight, device: &Device) -> Option<Tensor<2>> {
            type B = $backend;
            let x = x.try_into_primitive::<Autodiff<B, NoCheckpointing>>().ok()?;
            #[cfg(test)]
            STEPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let w = weight.burn_layout(&device.clone().inner()).try_into_primitive::<B>().ok()?;
            let out = match PackedMatmul.prepare::<NoCheckpointing>([x.node()]).compute_bound().stateful() {
                OpsKind::Tracked(prep) => {
                    let y = <B as FloatTensorOps<B>>::float_matmul(x.primitive().clone(), w);
                    prep.finish((weight.clone(), device.clone().inner()), y)
                }
                OpsKind::UnTracked(prep) => prep.finish(<B as FloatTensorOps<B>>::float_matmul(x.into_primitive(), w)),
            };
            Some(Tensor::from_primitive::<Autodiff<B, NoCheckpointing>>(out))
        }
    };
}

tracked_on!(tracked_flex, Flex);
tracked_on!(tracked_cube, Cube);

/// The backward step of `x W`: `grad_x = grad W^T`, `W` dequantized again from the packed weight it keeps.
#[derive(Debug)]
struct PackedMatmul;

macro_rules! backward_on {
    ($backend:ty) => {
        impl Backward<$backend, 1> for PackedMatmul {
            type State = (PackedWeight, Device);

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
                type B = $backend;
                let [node_x] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                if let Some(node) = node_x {
                    let (weight, device) = ops.state;
                    let wt = weight.torch_layout(&device).try_into_primitive::<B>().expect("the device's own backend");
                    grads.register::<B>(node.id, <B as FloatTensorOps<B>>::float_matmul(grad, wt));
                }
            }
        }
    };
}

backward_on!(Flex);
backward_on!(Cube);

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData};

    use super::*;
    use crate::bnb::Nf4Tensor;

    /// The custom step's gradient is `grad W^T` with `W` the dequantized weight, and the step is taken (not the
    /// ordinary matmul) when the input is in a graph.
    #[test]
    fn backward_dequantizes_again() {
        let device = Device::flex().autodiff();
        let (d_in, d_out) = (64, 3);
        let w: Vec<f32> = (0..d_in * d_out).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
        let weight = PackedWeight::nf4(Nf4Tensor::quantize(&w, &[d_out, d_in]));
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.5f32; 2 * d_in], [2, d_in]), &device).require_grad();
        let before = STEPS.load(std::sync::atomic::Ordering::Relaxed);
        let y = matmul(x.clone(), &weight);
        assert!(y.is_tracked());
        assert!(STEPS.load(std::sync::atomic::Ordering::Relaxed) > before, "the custom step was taken");
        let grads = (y * Tensor::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 1.0, 2.0, 3.0], [2, 3]), &device))
            .sum()
            .backward();
        let got = x.grad(&grads).unwrap().into_data().try_to_vec::<f32>().unwrap();
        let deq = weight.dequantize();
        for i in 0..d_in {
            let want = deq[i] + 2.0 * deq[d_in + i] + 3.0 * deq[2 * d_in + i];
            assert!((got[i] - want).abs() < 1e-5, "column {i}: {} against {want}", got[i]);
        }
    }
}
