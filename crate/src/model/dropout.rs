//! Dropout whose masks belong to the examples, not to the batch: each element's keep-or-drop is a hash of the
//! step's seed, the example (its index in the dataset), the dropout layer (the n-th dropout of the forward pass)
//! and the element's coordinates within the example. So a batch split across several workers (each padding its
//! share to its own longest text) draws exactly the masks the whole batch draws on one worker, and a CPU run and a
//! WebGPU run of one seed draw the same masks too. burn's `Dropout` draws from the backend's generator over the
//! whole batch tensor, so its masks depend on the batch's composition and padded length: it is kept as the layer
//! (its `prob` and training flag) and used as it is wherever no step has installed example masks (a test's own
//! forward pass).
//!
//! The step installs its examples for the duration of its forward pass (`ExampleMasks::install`); a thread-local
//! rather than an argument because the dropouts sit deep in every architecture's forward, whose signatures are
//! burn's and transformers' shape (`forward(x)`), and the forward pass runs on the installing thread.

use std::cell::RefCell;

use burn::nn::Dropout;
use burn::tensor::{Tensor, TensorData};

#[derive(Clone, Debug)]
struct Installed {
    seed: u64,
    /// One per row of the batch: the example's index in the dataset.
    examples: Vec<u64>,
    /// Dropout layers met so far in this forward pass.
    layer: u64,
}

thread_local! {
    static MASKS: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Example masks for one forward pass, removed again when dropped.
pub struct ExampleMasks(());

impl ExampleMasks {
    /// From now until the guard is dropped, dropout on this thread draws per-example masks: row `i` of every
    /// batch tensor is example `examples[i]`, and `seed` is the step's own (the run's seed mixed with the step).
    pub fn install(seed: u64, examples: &[u64]) -> Self {
        MASKS.with(|m| *m.borrow_mut() = Some(Installed { seed, examples: examples.to_vec(), layer: 0 }));
        ExampleMasks(())
    }
}

impl Drop for ExampleMasks {
    fn drop(&mut self) {
        MASKS.with(|m| *m.borrow_mut() = None);
    }
}

/// Where this thread's dropout stands: the installed examples and the dropout layers met so far. Gradient
/// checkpointing keeps it with a block's input and replays from it when it runs the block again in the backward
/// pass (after the step's own guard is gone), so the recomputation draws the masks the forward pass drew.
#[derive(Clone, Debug)]
pub struct MaskPosition(Option<Installed>);

impl MaskPosition {
    /// Whether a step's example masks are installed: without them dropout draws from burn's generator, which a
    /// recomputation cannot draw again.
    pub fn is_installed(&self) -> bool {
        self.0.is_some()
    }
}

pub fn position() -> MaskPosition {
    MaskPosition(MASKS.with(|m| m.borrow().clone()))
}

/// Puts `position` back for as long as the guard lives, then whatever was installed before it.
pub struct Replay(Option<Installed>);

pub fn replay(position: &MaskPosition) -> Replay {
    Replay(MASKS.with(|m| m.replace(position.0.clone())))
}

impl Drop for Replay {
    fn drop(&mut self) {
        let before = self.0.take();
        MASKS.with(|m| *m.borrow_mut() = before);
    }
}

/// `layer` applied to `x` (`[batch, ...]`): in training, each example's elements are kept with probability
/// `1 - prob` and scaled by `1 / (1 - prob)`, as burn's and torch's dropout do; off in inference.
pub fn apply<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    if !layer.training.is_enabled() || !x.device().is_autodiff() || layer.prob == 0.0 {
        return x;
    }
    let drawn = MASKS.with(|m| {
        let mut m = m.borrow_mut();
        let installed = m.as_mut()?;
        installed.layer += 1;
        Some(mask_values(installed.seed, installed.layer, &installed.examples, &x.dims(), layer.prob))
    });
    match drawn {
        Some(Ok(values)) => {
            let mask = Tensor::<D>::from_data(TensorData::new(values, x.dims()), &x.device());
            x * mask
        }
        // A batch whose rows are not the installed examples (or a dimension past the coordinate packing below):
        // not a training step's forward pass, so burn's own masks.
        Some(Err(())) | None => layer.forward(x),
    }
}

/// SplitMix64's finalizer: a strong 64-bit mix (the same as `crate::rng`'s).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// Bits per coordinate when an element's coordinates within its example are packed into one key: the key is then
/// the same whatever the tensor's other dimensions are (a shorter padded length moves no element's key).
const COORD_BITS: u32 = 20;

/// The `{0, 1 / (1 - prob)}` mask for a tensor of `dims`, row by row from each row's example.
fn mask_values(seed: u64, layer: u64, examples: &[u64], dims: &[usize], prob: f64) -> Result<Vec<f32>, ()> {
    let (rows, inner) = (dims[0], &dims[1..]);
    if rows != examples.len() || inner.len() > (64 / COORD_BITS) as usize || inner.iter().any(|&d| d >= 1 << COORD_BITS)
    {
        return Err(());
    }
    let keep = 1.0 - prob;
    let scale = (1.0 / keep) as f32;
    // An element is kept when the top 32 bits of its hash fall below keep * 2^32.
    let threshold = (keep * 4_294_967_296.0) as u64;
    let per_row: usize = inner.iter().product();
    let layer_seed = mix(seed ^ mix(layer.wrapping_mul(GOLDEN)));
    let mut out = Vec::with_capacity(rows * per_row);
    let mut coords = vec![0usize; inner.len()];
    for &example in examples {
        let row_seed = mix(layer_seed ^ example.wrapping_add(1).wrapping_mul(GOLDEN));
        coords.iter_mut().for_each(|c| *c = 0);
        for _ in 0..per_row {
            let key = coords.iter().fold(0u64, |k, &c| (k << COORD_BITS) | c as u64);
            let kept = mix(row_seed.wrapping_add(key.wrapping_mul(GOLDEN))) >> 32 < threshold;
            out.push(if kept { scale } else { 0.0 });
            // Odometer over the inner dimensions, last fastest (row-major).
            for (c, &d) in coords.iter_mut().zip(inner).rev() {
                *c += 1;
                if *c < d {
                    break;
                }
                *c = 0;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::mask_values;

    #[test]
    fn an_examples_mask_does_not_depend_on_its_batch_or_padding() {
        // Examples 7 and 3 in a batch padded to 5 positions; example 3 alone, padded to 4.
        let both = mask_values(11, 2, &[7, 3], &[2, 5, 6], 0.3).unwrap();
        let alone = mask_values(11, 2, &[3], &[1, 4, 6], 0.3).unwrap();
        assert_eq!(&both[30..30 + 24], &alone[..]);
        let other_layer = mask_values(11, 3, &[3], &[1, 4, 6], 0.3).unwrap();
        assert_ne!(alone, other_layer);
    }

    #[test]
    fn keeps_one_minus_prob_and_scales() {
        let m = mask_values(5, 1, &(0..64).collect::<Vec<_>>(), &[64, 32, 32], 0.1).unwrap();
        let kept = m.iter().filter(|&&v| v != 0.0).count() as f64 / m.len() as f64;
        assert!((kept - 0.9).abs() < 0.002, "kept {kept}");
        assert!(m.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
        // Mean of the mask is 1 (what dropout's scaling is for), within sampling error.
        let mean = m.iter().map(|&v| v as f64).sum::<f64>() / m.len() as f64;
        assert!((mean - 1.0).abs() < 0.003, "mean {mean}");
    }

    #[test]
    fn a_batch_that_is_not_the_installed_examples_is_refused() {
        assert!(mask_values(1, 1, &[1, 2], &[3, 4], 0.1).is_err());
        assert!(mask_values(1, 1, &[1], &[1, 2, 2, 2, 2], 0.1).is_err());
    }
}
