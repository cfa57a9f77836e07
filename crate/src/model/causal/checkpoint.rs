//! Gradient checkpointing of a language model's blocks, as transformers' `gradient_checkpointing_enable()` (which
//! PEFT's `prepare_model_for_kbit_training` turns on for QLoRA): each block is one step of burn's autodiff graph that
//! keeps only its input. The forward pass runs the block outside the graph; the backward pass runs it again inside
//! a graph of its own and hands on the gradients of the input and of the block's trainable parameters. Between the
//! two, a step's activations are one `[batch, seq, hidden]` tensor per block instead of every intermediate
//! (attention scores, the MLP's `intermediate_size`-wide products, LoRA's inputs), for one more forward pass.
//!
//! Why a custom step rather than burn's own `gradient_checkpointing()` strategy: that strategy recomputes only the
//! operations it marks memory-bound and keeps every matrix product's output, so peak memory did not move when it was
//! measured on the QLoRA bench (docs/MEASUREMENTS.md). The block is the unit transformers checkpoints too.
//!
//! The inner graph must not touch the outer one: burn holds the outer graph's lock while it runs this step, and an
//! operation on a tensor of that graph would merge the two and wait on the lock. So the recomputation works on fresh
//! copies of the input and of the trainable parameters, and their gradients are registered at the original nodes.
//! Dropout replays the masks of the forward pass (`dropout::replay`): they are hashes of the step's examples and of
//! the dropout's place in the pass, which the step keeps.

use std::cell::Cell;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::NoCheckpointing;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::{Cube, DispatchDevice, Flex};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use super::layer::DecoderLayer;
use crate::model::dropout::{self, MaskPosition};

/// `layer.forward(x, mask)` (no cache, from position 0), checkpointed when `x` or the layer's parameters are in a
/// graph on a backend the step knows (the CPU backend, wgpu's) and a training step's example masks are installed
/// (so dropout can be drawn again); otherwise the plain forward.
pub fn forward(layer: &DecoderLayer, x: Tensor<3>, mask: Tensor<4>) -> Tensor<3> {
    let device = x.device();
    if device.is_autodiff() {
        let out = match device.clone().inner().as_dispatch() {
            DispatchDevice::Flex(_) => checkpointed_flex(layer, x.clone(), mask.clone()),
            DispatchDevice::Cube(_) => checkpointed_cube(layer, x.clone(), mask.clone()),
            #[allow(unreachable_patterns)]
            _ => None,
        };
        if let Some(out) = out {
            return out;
        }
    }
    layer.forward(x, mask, 0, None)
}

/// What the step keeps for its backward pass: the block (its parameters are shared, not copied), its input outside
/// the graph, the mask, and where dropout stood.
#[derive(Clone, Debug)]
struct Saved {
    layer: DecoderLayer,
    x: Tensor<3>,
    mask: Tensor<4>,
    position: MaskPosition,
}

/// The block with every parameter out of the graph (the forward pass's copy: nothing it computes is recorded).
fn untracked(layer: &DecoderLayer) -> DecoderLayer {
    struct Untrack;
    impl ModuleMapper for Untrack {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| Tensor::from_inner(t.inner()))
        }
    }
    layer.clone().map(&mut Untrack)
}

thread_local! {
    static RECORDED: Cell<usize> = const { Cell::new(0) };
}

/// Checkpointed blocks recorded on this thread so far (the tests check that the step is taken, since its results
/// are by design those of the plain forward pass).
pub fn blocks_recorded() -> usize {
    RECORDED.with(Cell::get)
}

#[derive(Debug)]
struct Checkpointed;

macro_rules! checkpoint_on {
    ($forward:ident, $backend:ty) => {
        fn $forward(layer: &DecoderLayer, x: Tensor<3>, mask: Tensor<4>) -> Option<Tensor<3>> {
            type B = $backend;
            type A = Autodiff<B, NoCheckpointing>;
            /// A trainable parameter of the block: the step's second parent, so the step is in the graph when
            /// its input is not (the first block's input, the embeddings' output, when they are frozen).
            struct Anchor(Option<burn::backend::tensor::FloatTensor<A>>);
            impl ModuleVisitor for Anchor {
                fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                    if self.0.is_none() && param.is_require_grad() {
                        self.0 = param.val().try_into_primitive::<A>().ok();
                    }
                }
            }
            let position = dropout::position();
            // Without a step's example masks (a forward pass outside the trainer) dropout could not be drawn again.
            if !position.is_installed() {
                return None;
            }
            let input = x.clone().try_into_primitive::<A>().ok()?;
            let mut anchor = Anchor(None);
            layer.visit(&mut anchor);
            let anchor = match anchor.0 {
                Some(a) => a,
                None if x.is_tracked() => input.clone(),
                None => return None,
            };
            RECORDED.with(|n| n.set(n.get() + 1));
            let out = untracked(layer).forward(Tensor::from_inner(x.clone().inner()), mask.clone(), 0, None);
            let out = out.inner().try_into_primitive::<B>().ok()?;
            let saved = Saved { layer: layer.clone(), x: x.inner(), mask, position };
            let out =
                match Checkpointed.prepare::<NoCheckpointing>([input.node(), anchor.node()]).compute_bound().stateful()
                {
                    OpsKind::Tracked(prep) => prep.finish(saved, out),
                    OpsKind::UnTracked(prep) => prep.finish(out),
                };
            Some(Tensor::from_primitive::<A>(out))
        }

        impl Backward<$backend, 2> for Checkpointed {
            type State = Saved;

            fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _checkpointer: &mut Checkpointer) {
                type B = $backend;
                type A = Autodiff<B, NoCheckpointing>;
                type Grad = burn::backend::tensor::FloatTensor<B>;
                /// The block with fresh leaves for its trainable parameters, each with the node its gradient
                /// belongs to.
                struct Fresh(Vec<(NodeId, Box<dyn FnOnce(&burn::tensor::Gradients) -> Option<Grad>>)>);
                impl ModuleMapper for Fresh {
                    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                        if !param.is_require_grad() {
                            return param;
                        }
                        param.map(|t| {
                            let id = t.clone().try_into_primitive::<A>().expect("a parameter of this graph").id();
                            let leaf = Tensor::from_inner(t.inner()).require_grad();
                            let kept = leaf.clone();
                            self.0.push((id, Box::new(move |g| kept.grad(g)?.try_into_primitive::<B>().ok())));
                            leaf
                        })
                    }
                }
                let [node_x, _anchor] = ops.parents;
                let grad_out = grads.consume::<B>(&ops.node);
                let Saved { layer, x, mask, position } = ops.state;
                let mut fresh = Fresh(Vec::new());
                let layer = layer.map(&mut fresh);
                let x = if node_x.is_some() { Tensor::from_inner(x).require_grad() } else { Tensor::from_inner(x) };
                let out = {
                    let _replay = dropout::replay(&position);
                    layer.forward(x.clone(), mask, 0, None)
                };
                let grad_out = Tensor::from_inner(Tensor::<3>::from_primitive::<B>(grad_out));
                let inner = (out * grad_out).sum().backward();
                if let Some(node) = node_x {
                    let g = x.grad(&inner).expect("the block's input is in its graph");
                    grads.register::<B>(node.id, g.try_into_primitive::<B>().expect("the device's own backend"));
                }
                for (id, grad) in fresh.0 {
                    if let Some(g) = grad(&inner) {
                        grads.register::<B>(id, g);
                    }
                }
            }
        }
    };
}

checkpoint_on!(checkpointed_flex, Flex);
checkpoint_on!(checkpointed_cube, Cube);
