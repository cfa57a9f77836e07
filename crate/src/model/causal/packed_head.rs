//! log p(target) through an output head kept in blocks (the *as stored* base's head, usually the tied embedding
//! table: Gemma 3's is 262,144 x 640, 671 MB in float32), as one step of burn's graph that never holds the float
//! head or a row's full logits. The forward pass reads the vocabulary a slice at a time and keeps a running
//! log-sum-exp (the online softmax; Liger Kernel's and Cut Cross-Entropy's fused head-and-loss do the same); the
//! step keeps only the hidden rows, their targets' embedding rows and each row's log-sum-exp, and its backward pass
//! reads the slices again: `grad_h = g (e_t - sum_v p_v e_v)`, with `p = exp(z - lse)`.
//!
//! Why not `log_softmax(h E^T)` in row chunks, as a float head does (`score.rs`): each chunk would dequantize the
//! whole table twice (forward and backward), and burn keeps every chunk's log-softmax for the backward pass.

use std::ops::Range;

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Cube, DispatchDevice, Flex};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor, TensorData};

use crate::model::packed::PackedWeight;

/// Floats one slice may take (its logits `[n, V]`, its dequantized rows `[V, hidden]`): 64 MiB.
const SLICE_FLOATS: usize = 16 << 20;

/// The vocabulary in slices for `n` rows of `d` features.
fn slices(vocab: usize, n: usize, d: usize) -> impl Iterator<Item = Range<usize>> {
    let v = (SLICE_FLOATS / n.max(d).max(1)).max(256).min(vocab.max(1));
    (0..vocab).step_by(v).map(move |s| s..(s + v).min(vocab))
}

/// log p(`targets[i]`) for each row of `hidden` `[n, d]` under the head `head` (`[vocab, d]`): `[n]`,
/// differentiable in `hidden` when it is in a graph.
pub fn token_logprobs(hidden: Tensor<2>, head: &PackedWeight, targets: &[usize]) -> Tensor<1> {
    let device = hidden.device();
    if hidden.is_tracked() {
        let out = match device.clone().inner().as_dispatch() {
            DispatchDevice::Flex(_) => tracked_flex(hidden.clone(), head, targets),
            DispatchDevice::Cube(_) => tracked_cube(hidden.clone(), head, targets),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(out) = out {
            return out;
        }
        // No custom step on this backend: burn's own graph through the widened head (the gradient right, the
        // memory not lean), never a silently detached result.
        let n = targets.len();
        let at: Vec<i64> = targets.iter().map(|&t| t as i64).collect();
        let at = Tensor::<2, Int>::from_data(TensorData::new(at, [n, 1]), &device);
        return log_softmax(head.linear(hidden, None), 1).gather(1, at).reshape([n]);
    }
    let h = if device.is_autodiff() { hidden.inner() } else { hidden };
    let (lp, _) = forward(&h, head, targets);
    if device.is_autodiff() { Tensor::from_inner(lp) } else { lp }
}

/// The targets' rows of the head, `[n, d]`, on `h`'s device.
fn target_rows(h: &Tensor<2>, head: &PackedWeight, targets: &[usize]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(head.gather(targets), [targets.len(), head.d_input()]), &h.device())
}

/// log p and the log-sum-exp `[n, 1]`, outside any graph. The products are `h W^T` with the slice in burn's layout
/// (transposed on the host a tile at a time), as a float head multiplies, and a target's logit is read from its
/// slice's product: the same sums as the widened model's (`W h^T`, or a separate `h . e_t`, sum in other orders and
/// land up to 1e-4 away on SmolLM2's log-probabilities).
fn forward(h: &Tensor<2>, head: &PackedWeight, targets: &[usize]) -> (Tensor<1>, Tensor<2>) {
    let [n, d] = h.dims();
    let device = h.device();
    let mut target = Tensor::<2>::zeros([n, 1], &device);
    let mut run: Option<(Tensor<2>, Tensor<2>)> = None;
    for rows in slices(head.d_output(), n, d) {
        let z = h.clone().matmul(head.burn_layout_rows(rows.clone(), &device));
        let inside: Vec<f32> = targets.iter().map(|t| f32::from(rows.contains(t))).collect();
        let at: Vec<i64> = targets.iter().map(|&t| (t.clamp(rows.start, rows.end - 1) - rows.start) as i64).collect();
        let at = Tensor::<2, Int>::from_data(TensorData::new(at, [n, 1]), &device);
        target = target + z.clone().gather(1, at) * Tensor::from_data(TensorData::new(inside, [n, 1]), &device);
        let top = z.clone().max_dim(1);
        run = Some(match run {
            None => ((z - top.clone()).exp().sum_dim(1), top),
            Some((s, m)) => {
                let m2 = m.clone().max_pair(top);
                (s * (m - m2.clone()).exp() + (z - m2.clone()).exp().sum_dim(1), m2)
            }
        });
    }
    let (s, m) = run.expect("a head has rows");
    let lse = m + s.log();
    ((target - lse.clone()).reshape([n]), lse)
}

/// What the backward pass keeps: the rows (outside the graph), their targets' head rows, their log-sum-exp `[n, 1]`.
#[derive(Clone, Debug)]
struct Saved {
    h: Tensor<2>,
    e_t: Tensor<2>,
    lse: Tensor<2>,
    head: PackedWeight,
}

#[derive(Debug)]
struct PackedHead;

macro_rules! fused_on {
    ($name:ident, $backend:ty) => {
        fn $name(hidden: Tensor<2>, head: &PackedWeight, targets: &[usize]) -> Option<Tensor<1>> {
            type B = $backend;
            type A = Autodiff<B, NoCheckpointing>;
            let node = hidden.clone().try_into_primitive::<A>().ok()?;
            let h = hidden.inner();
            let (lp, lse) = forward(&h, head, targets);
            let e_t = target_rows(&h, head, targets);
            let lp = lp.try_into_primitive::<B>().ok()?;
            let out = match PackedHead.prepare::<NoCheckpointing>([node.node()]).compute_bound().stateful() {
                OpsKind::Tracked(prep) => prep.finish(Saved { h, e_t, lse, head: head.clone() }, lp),
                OpsKind::UnTracked(prep) => prep.finish(lp),
            };
            Some(Tensor::from_primitive::<A>(out))
        }

        impl Backward<$backend, 1> for PackedHead {
            type State = Saved;

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
                type B = $backend;
                let [node_h] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let Some(node) = node_h else { return };
                let Saved { h, e_t, lse, head } = ops.state;
                let [n, d] = h.dims();
                let g = Tensor::<1>::from_primitive::<B>(grad);
                let mut out = e_t * g.clone().reshape([n, 1]);
                let (ht, g, lse) = (h.transpose(), g.reshape([1, n]), lse.reshape([1, n]));
                for rows in slices(head.d_output(), n, d) {
                    // `p^T = exp(W h^T - lse)`, `[slice, n]`, with the slice as dequantized (nothing of the table's
                    // size transposed); `grad_h -= (p g)^T W`.
                    let w = head.torch_layout_rows(rows, &ht.device());
                    let p = (w.clone().matmul(ht.clone()) - lse.clone()).exp();
                    out = out - (p * g.clone()).transpose().matmul(w);
                }
                grads.register::<B>(node.id, out.try_into_primitive::<B>().expect("the device's own backend"));
            }
        }
    };
}

fused_on!(tracked_flex, Flex);
fused_on!(tracked_cube, Cube);
