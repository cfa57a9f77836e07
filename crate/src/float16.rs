//! A float16 copy of a model's weights for the page's download: half the bytes per student, widened back to
//! float32 when the page reads it (`safetensors::SafeTensors::f32`), so training itself stays float32. Made once,
//! by `lora-playground float16` (the set-up step runs it beside the float32 file); the float32 file stays the
//! reference everything else reads. The copy is written with Hugging Face's `safetensors` crate (what PyTorch
//! and transformers read), float32 tensors rounded to nearest (ties to even, IEEE's rule, `half`), others kept.
//!
//! What rounding did is measured as it is done and written beside the copy (`Float16Report`): the largest change
//! to any weight, absolute and relative, and how many nonzero weights became zero. A weight beyond float16's
//! range (65,504) cannot be copied faithfully: refused, by name.

use std::collections::HashMap;

use half::f16;
use safetensors::tensor::{Dtype, TensorView};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// What converting a file did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Float16Report {
    /// SHA-256 of the float32 file the copy was made from.
    pub source_sha256: String,
    pub source_bytes: u64,
    pub bytes: u64,
    /// Tensors rounded to float16, and tensors copied as they were (integer buffers such as position ids).
    pub converted: usize,
    pub kept: usize,
    /// Weights rounded.
    pub values: u64,
    /// The largest |float16(w) - w| over all weights, and the largest such change relative to |w| (normal
    /// float16 numbers keep 11 significant bits: at most 2^-11 = 4.9e-4; tiny weights lose more).
    pub max_abs_change: f32,
    pub max_rel_change: f32,
    /// Nonzero weights that became zero (smaller than float16's smallest subnormal, 6e-8).
    pub flushed_to_zero: u64,
}

fn bad(file: &str, message: impl Into<String>) -> Error {
    Error::invalid(file, message)
}

/// `bytes` (a `.safetensors` file named `file`) with its float32 tensors as float16, and what that did.
pub fn to_float16(file: &str, bytes: &[u8]) -> Result<(Vec<u8>, Float16Report), Error> {
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|e| bad(file, format!("is not a safetensors file: {e}")))?;
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(file, e.to_string()))?;
    let mut report = Float16Report {
        source_sha256: Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect(),
        source_bytes: bytes.len() as u64,
        bytes: 0,
        converted: 0,
        kept: 0,
        values: 0,
        max_abs_change: 0.0,
        max_rel_change: 0.0,
        flushed_to_zero: 0,
    };
    let mut out: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, view) in tensors.tensors() {
        if view.dtype() != Dtype::F32 {
            out.push((name, view.dtype(), view.shape().to_vec(), view.data().to_vec()));
            report.kept += 1;
            continue;
        }
        let mut half = Vec::with_capacity(view.data().len() / 2);
        for chunk in view.data().chunks_exact(4) {
            let w = f32::from_le_bytes(chunk.try_into().expect("4 bytes"));
            let h = f16::from_f32(w);
            if !w.is_finite() || h.is_infinite() {
                return Err(bad(
                    file,
                    format!("tensor {name}: the weight {w} is beyond float16's range (65,504): keep float32"),
                ));
            }
            let back = h.to_f32();
            let change = (back - w).abs();
            report.max_abs_change = report.max_abs_change.max(change);
            if w != 0.0 {
                report.max_rel_change = report.max_rel_change.max(change / w.abs());
                report.flushed_to_zero += u64::from(back == 0.0);
            }
            half.extend_from_slice(&h.to_le_bytes());
        }
        report.values += (view.data().len() / 4) as u64;
        report.converted += 1;
        out.push((name, Dtype::F16, view.shape().to_vec(), half));
    }
    let views = out
        .iter()
        .map(|(name, dtype, shape, data)| TensorView::new(*dtype, shape.clone(), data).map(|v| (name.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(file, format!("cannot be rewritten: {e}")))?;
    let mut metadata: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
    metadata.insert("float16_of_sha256".into(), report.source_sha256.clone());
    let written =
        safetensors::serialize(views, Some(metadata)).map_err(|e| bad(file, format!("cannot be rewritten: {e}")))?;
    report.bytes = written.len() as u64;
    Ok((written, report))
}

#[cfg(test)]
mod tests {
    use super::to_float16;
    use crate::safetensors::{SafeTensors, write_f32};

    #[test]
    fn rounds_float32_tensors_and_says_by_how_much() {
        let weights: Vec<f32> = vec![1.0, -0.333_333_34, 1e-9, 0.0, 65_504.0, 3.14159];
        let file = write_f32(&[("a.weight", vec![2, 3], weights.clone()), ("b.bias", vec![2], vec![0.5, -0.25])]);
        let (half, report) = to_float16("model.safetensors", &file).unwrap();
        let read = SafeTensors::parse("model.f16.safetensors", &half).unwrap();
        assert_eq!(read.entries["a.weight"].dtype, "F16");
        let (back, shape) = read.f32("a.weight").unwrap();
        assert_eq!(shape, vec![2, 3]);
        // Exact where float16 holds the number, nearest otherwise; 1e-9 is below its smallest subnormal.
        assert_eq!(back[0], 1.0);
        assert_eq!(back[4], 65_504.0);
        assert_eq!(back[3], 0.0);
        assert_eq!(back[2], 0.0);
        assert!((back[1] - -0.333_333_34).abs() <= 2f32.powi(-13), "{}", back[1]);
        let largest = weights.iter().zip(&back).map(|(w, b)| (w - b).abs()).fold(0.0, f32::max);
        assert_eq!(report.max_abs_change, largest);
        assert_eq!(report.flushed_to_zero, 1);
        assert_eq!(report.max_rel_change, 1.0, "the flushed weight lost all of itself");
        assert_eq!((report.converted, report.kept, report.values), (2, 0, 8));
        assert_eq!(report.bytes as usize, half.len());
        assert_eq!(read.f32("b.bias").unwrap().0, vec![0.5, -0.25]);
        assert_eq!(read.metadata["format"], "pt");
    }

    #[test]
    fn a_weight_float16_cannot_hold_is_refused_by_name() {
        let file = write_f32(&[("big.weight", vec![1], vec![1e6])]);
        let e = to_float16("model.safetensors", &file).unwrap_err();
        assert!(e.message.contains("big.weight") && e.message.contains("65,504"), "{}", e.message);
        assert_eq!(to_float16("x.safetensors", b"not a file").unwrap_err().field, "x.safetensors");
    }
}
