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

use super::PackedWeight;

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

/// The custom step on one concrete backend; `None` if the tensor is not on it (a gradient-checkpointing graph, which
/// the trainer does not use, falls back to the ordinary `matmul`).
macro_rules! tracked_on {
    ($name:ident, $backend:ty) => {
        fn $name(x: Tensor<2>, weight: &PackedWeight, device: &Device) -> Option<Tensor<2>> {
            type B = $backend;
            let x = x.try_into_primitive::<Autodiff<B, NoCheckpointing>>().ok()?;
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
