//! What `inspect` reports: for each module an adapter adapts, the size of its update `scaling * B A` against the
//! frozen weight and the update's singular values; the spectrum of what full fine-tuning changed in the same
//! module, with the share of it a rank-`r` update could hold; and how much two adapters' `A` matrices agree.

use serde::Serialize;

use super::linalg::{energy_shares, frobenius, matrix, singular_values, subspace_similarity};
use crate::error::Error;
use crate::model::export::NamedTensors;
use crate::model::load::Overrides;
use crate::model::methods::Method;
use crate::train::folder::Saved;

/// Singular values below this share of the largest count as zero (float32 round-off of a rank-`r` product).
pub const ZERO: f64 = 1e-6;

/// How many leading singular values a report lists (enough to show where a rank-`r` update falls to zero).
const SHOWN: usize = 32;

#[derive(Debug, Clone, Serialize)]
pub struct ModuleUpdate {
    /// The module's Hugging Face name (`bert.encoder.layer.0.attention.self.query`).
    pub module: String,
    /// `[out, in]`.
    pub shape: [usize; 2],
    /// `||scaling * B A||_F`.
    pub update_norm: f64,
    /// `||W||_F` of the frozen weight.
    pub weight_norm: f64,
    /// `update_norm / weight_norm`.
    pub relative: f64,
    /// The update's leading singular values, largest first.
    pub singular_values: Vec<f64>,
    /// Singular values above `ZERO` times the largest: at most `r`.
    pub rank: usize,
    /// `energy[k-1]`: share of `||update||_F^2` in the top `k` directions.
    pub energy: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FullSpectrum {
    pub module: String,
    /// The leading singular values of `W_finetuned - W_pretrained`.
    pub singular_values: Vec<f64>,
    pub energy: Vec<f64>,
    /// The rank compared against (the adapter's `r`) and the share of the change's energy in that many directions.
    pub r: usize,
    pub energy_in_top_r: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Similarity {
    pub module: String,
    pub r_a: usize,
    pub r_b: usize,
    /// `phi[i-1][j-1]` for the top `i` directions of the first adapter's `A` and the top `j` of the second's.
    pub phi: Vec<Vec<f64>>,
}

/// What the page shows inside one kept adapter.
#[derive(Debug, Clone, Serialize)]
pub struct Inside {
    pub name: String,
    pub r: usize,
    pub scaling: f64,
    pub modules: Vec<ModuleUpdate>,
    /// The run compared with: another LoRA adapter (then `compare`, the similarity for every module both adapt)
    /// or a full fine-tuning run of the same base (then `full`, the spectrum of its change in each adapted module).
    pub compare_name: Option<String>,
    pub compare: Option<Vec<Similarity>>,
    pub full: Option<Vec<FullSpectrum>>,
}

pub fn inside(
    name: &str,
    adapter: &Saved,
    base: &NamedTensors,
    other: Option<(&str, &Saved)>,
) -> Result<Inside, Error> {
    let r = adapter.lora.r as usize;
    let (compare, full) = match other {
        Some((_, o)) if o.method == Method::Full => (None, Some(full_spectra(o, base, &adapter.lora_modules, r)?)),
        Some((_, o)) => (Some(similarities(adapter, o)?), None),
        None => (None, None),
    };
    Ok(Inside {
        name: name.to_string(),
        r,
        scaling: adapter.lora.scaling(),
        modules: lora_updates(adapter, base)?,
        compare_name: other.map(|(n, _)| n.to_string()),
        compare,
        full,
    })
}

fn tensor<'a>(tensors: &'a Overrides, name: &str, file: &str) -> Result<&'a (Vec<f32>, Vec<usize>), Error> {
    tensors.get(name).ok_or_else(|| Error::invalid(file, format!("has no {name}")))
}

fn base_weight<'a>(base: &'a NamedTensors, module: &str) -> Result<(&'a [f32], usize, usize), Error> {
    let key = format!("{module}.weight");
    match base.get(&key) {
        Some((v, shape, _)) if shape.len() == 2 => Ok((v, shape[0], shape[1])),
        _ => Err(Error::invalid("model.safetensors", format!("has no 2-D {key}: is this the adapter's base model?"))),
    }
}

fn leading(values: Vec<f64>) -> Vec<f64> {
    values.into_iter().take(SHOWN).collect()
}

/// The update of every module a LoRA folder adapts, against the frozen weights `base` (torch layout, by name).
pub fn lora_updates(adapter: &Saved, base: &NamedTensors) -> Result<Vec<ModuleUpdate>, Error> {
    let scaling = adapter.lora.scaling();
    adapter
        .lora_modules
        .iter()
        .map(|module| {
            let (a, a_shape) = tensor(&adapter.tensors, &format!("{module}.lora_A.weight"), &adapter.weights_name)?;
            let (b, b_shape) = tensor(&adapter.tensors, &format!("{module}.lora_B.weight"), &adapter.weights_name)?;
            let (w, out, input) = base_weight(base, module)?;
            if a_shape != &[b_shape[1], input] || b_shape[0] != out {
                return Err(Error::invalid(
                    &adapter.weights_name,
                    format!("{module}: lora_A {a_shape:?} and lora_B {b_shape:?} do not fit a [{out}, {input}] weight"),
                ));
            }
            // [out, r] x [r, in] -> [out, in], as PEFT's get_delta_weight.
            let update = matrix(b, out, b_shape[1]).matmul(matrix(a, a_shape[0], input)).mul_scalar(scaling);
            let (update_norm, weight_norm) = (frobenius(&update), frobenius(&matrix(w, out, input)));
            let s = singular_values(&update);
            let rank = s.iter().filter(|&&x| x > ZERO * s[0]).count();
            Ok(ModuleUpdate {
                module: module.clone(),
                shape: [out, input],
                update_norm,
                weight_norm,
                relative: update_norm / weight_norm,
                energy: leading(energy_shares(&s)),
                singular_values: leading(s),
                rank,
            })
        })
        .collect()
}

/// The spectrum of what full fine-tuning (`full`, a saved folder) changed in each of `modules`, and the share of
/// that change a rank-`r` update could capture: the low intrinsic-rank claim, measured.
pub fn full_spectra(
    full: &Saved,
    base: &NamedTensors,
    modules: &[String],
    r: usize,
) -> Result<Vec<FullSpectrum>, Error> {
    modules
        .iter()
        .map(|module| {
            let (w0, out, input) = base_weight(base, module)?;
            let (w1, shape) = tensor(&full.tensors, &format!("{module}.weight"), &full.weights_name)?;
            if shape != &[out, input] {
                return Err(Error::invalid(
                    &full.weights_name,
                    format!("{module}.weight is {shape:?}, the base's is [{out}, {input}]"),
                ));
            }
            let s = singular_values(&(matrix(w1, out, input) - matrix(w0, out, input)));
            let energy = energy_shares(&s);
            let energy_in_top_r = energy.get(r.saturating_sub(1)).copied().unwrap_or(1.0);
            Ok(FullSpectrum {
                module: module.clone(),
                singular_values: leading(s),
                energy: leading(energy),
                r,
                energy_in_top_r,
            })
        })
        .collect()
}

/// Subspace similarity of two LoRA folders' `A` matrices for every module both adapt.
pub fn similarities(a: &Saved, b: &Saved) -> Result<Vec<Similarity>, Error> {
    a.lora_modules
        .iter()
        .filter(|m| b.lora_modules.contains(m))
        .map(|module| {
            let name = format!("{module}.lora_A.weight");
            let ((va, sa), (vb, sb)) =
                (tensor(&a.tensors, &name, &a.weights_name)?, tensor(&b.tensors, &name, &b.weights_name)?);
            if sa[1] != sb[1] {
                return Err(Error::invalid(
                    &b.weights_name,
                    format!("{name} reads {} inputs, the first adapter's {}", sb[1], sa[1]),
                ));
            }
            let phi = subspace_similarity(&matrix(va, sa[0], sa[1]), &matrix(vb, sb[0], sb[1]));
            Ok(Similarity { module: module.clone(), r_a: sa[0], r_b: sb[0], phi })
        })
        .collect()
}
