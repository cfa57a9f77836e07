//! A 4-bit weight as transformers + bitsandbytes save it (`Linear4bit._save_to_state_dict`, `QuantState.as_dict(
//! packed=True)`): `<module>.weight` the packed codes `[ceil(n / 2), 1]` uint8, `.absmax` the 8-bit block scales,
//! `.nested_absmax`, `.nested_quant_map` (the dynamic map), `.quant_map` (NF4's values) and
//! `.quant_state.bitsandbytes__nf4`, the rest of the state as JSON bytes. Written so transformers loads the folder
//! (`tests/reference/nf4_fixtures.py` saved the models the test compares with byte for byte), and read back, so a
//! 4-bit folder from transformers or from `quantize` loads as NF4 without widening.

use serde_json::Value;

use super::codes::{NF4, dynamic_map};
use super::{BLOCKSIZE, NESTED_BLOCKSIZE, Nf4Tensor};
use crate::error::Error;
use crate::safetensors::{Data, Raw, SafeTensors};

/// The suffix of the tensor that marks a bitsandbytes NF4 weight.
pub const STATE: &str = "quant_state.bitsandbytes__nf4";

/// One tensor of a saved 4-bit weight: its name, shape and data.
pub enum Saved {
    U8(String, Vec<usize>, Vec<u8>),
    F32(String, Vec<usize>, Vec<f32>),
}

impl Saved {
    /// The tensor as the safetensors writer takes it (borrowed).
    pub fn raw(&self) -> Raw<'_> {
        match self {
            Saved::U8(n, shape, v) => Raw { name: n, shape, data: Data::U8(v) },
            Saved::F32(n, shape, v) => Raw { name: n, shape, data: Data::F32(v) },
        }
    }
}

/// The tensors transformers saves for the NF4 weight `key` (`model.layers.0.mlp.up_proj.weight`).
pub fn tensors(key: &str, q: &Nf4Tensor) -> Vec<Saved> {
    let state = format!(
        "{{\"quant_type\": \"nf4\", \"blocksize\": {BLOCKSIZE}, \"dtype\": \"float32\", \"shape\": [{}], \
         \"nested_blocksize\": {NESTED_BLOCKSIZE}, \"nested_dtype\": \"float32\", \"nested_offset\": {}}}",
        q.shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        python_float(q.offset as f64)
    );
    vec![
        Saved::U8(key.to_string(), vec![q.packed.len(), 1], q.packed.clone()),
        Saved::U8(format!("{key}.absmax"), vec![q.absmax.len()], q.absmax.clone()),
        Saved::F32(format!("{key}.nested_absmax"), vec![q.nested_absmax.len()], q.nested_absmax.clone()),
        Saved::F32(format!("{key}.nested_quant_map"), vec![256], dynamic_map().to_vec()),
        Saved::F32(format!("{key}.quant_map"), vec![16], NF4.to_vec()),
        Saved::U8(format!("{key}.{STATE}"), vec![state.len()], state.into_bytes()),
    ]
}

/// Whether `file` holds `key` as a bitsandbytes 4-bit weight.
pub fn is_saved_4bit(file: &SafeTensors, key: &str) -> bool {
    file.contains(&format!("{key}.{STATE}"))
}

/// The NF4 weight `key` of a file transformers (or `quantize`) saved, checked against what this crate computes:
/// NF4, blocks of 64, nested blocks of 256, the two code books bitsandbytes' own; each refusal names the tensor.
pub fn read(file: &SafeTensors, key: &str, file_name: &str) -> Result<Nf4Tensor, Error> {
    let bad = |m: String| Error::invalid(file_name, format!("tensor {key}: {m}"));
    let (state, _) = file.raw(&format!("{key}.{STATE}"), "U8")?;
    let state: Value = serde_json::from_slice(state).map_err(|e| bad(format!("its {STATE} is not JSON ({e})")))?;
    let field = |k: &str| state.get(k).ok_or_else(|| bad(format!("its quant state has no {k}")));
    if field("quant_type")?.as_str() != Some("nf4") {
        return Err(bad(format!("is {} 4-bit; only NF4 is read", field("quant_type")?)));
    }
    for (k, want) in [("blocksize", BLOCKSIZE), ("nested_blocksize", NESTED_BLOCKSIZE)] {
        if field(k)?.as_u64() != Some(want as u64) {
            return Err(bad(format!("{k} is {}; only {want} is read", field(k)?)));
        }
    }
    let shape: Vec<usize> = field("shape")?
        .as_array()
        .and_then(|a| a.iter().map(|d| d.as_u64().map(|d| d as usize)).collect())
        .filter(|s: &Vec<usize>| s.len() == 2)
        .ok_or_else(|| bad("its quant state's shape is not [out, in]".into()))?;
    let offset = field("nested_offset")?.as_f64().ok_or_else(|| bad("nested_offset is not a number".into()))? as f32;
    let n = shape[0].checked_mul(shape[1]).ok_or_else(|| bad("its shape overflows".into()))?;
    let (packed, _) = file.raw(key, "U8")?;
    let (absmax, _) = file.raw(&format!("{key}.absmax"), "U8")?;
    let (nested_absmax, _) = file.f32(&format!("{key}.nested_absmax"))?;
    let blocks = n.div_ceil(BLOCKSIZE);
    if packed.len() != n.div_ceil(2)
        || absmax.len() != blocks
        || nested_absmax.len() != blocks.div_ceil(NESTED_BLOCKSIZE)
    {
        return Err(bad(format!(
            "{} codes, {} scales and {} nested scales do not fit its shape {shape:?}",
            packed.len(),
            absmax.len(),
            nested_absmax.len()
        )));
    }
    for (suffix, want) in [("quant_map", NF4.to_vec()), ("nested_quant_map", dynamic_map().to_vec())] {
        let (got, _) = file.f32(&format!("{key}.{suffix}"))?;
        if got.iter().map(|v| v.to_bits()).ne(want.iter().map(|v| v.to_bits())) {
            return Err(bad(format!(
                "its {suffix} is not bitsandbytes' {}",
                if suffix == "quant_map" { "NF4" } else { "dynamic map" }
            )));
        }
    }
    Ok(Nf4Tensor { shape, packed: packed.to_vec(), absmax: absmax.to_vec(), nested_absmax, offset })
}

/// A float64 as Python's `repr` writes it (the shortest digits that read back; exponent form below 1e-4 or from
/// 1e16, with at least two exponent digits), as `json.dumps` writes the offset into the quant state.
fn python_float(x: f64) -> String {
    if x == 0.0 || (1e-4..1e16).contains(&x.abs()) {
        let s = format!("{x}");
        if s.contains('.') || s.contains("inf") || s.contains("NaN") { s } else { format!("{s}.0") }
    } else {
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').expect("{:e} has an exponent");
        let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
        format!("{mantissa}e{sign}{digits:0>2}")
    }
}

#[cfg(test)]
mod tests {
    use super::python_float;

    #[test]
    fn floats_as_python_writes_them() {
        for (x, s) in [(0.7432393431663513, "0.7432393431663513"), (3.0, "3.0"), (1e-5, "1e-05"), (-2.5e-7, "-2.5e-07")]
        {
            assert_eq!(python_float(x), s);
        }
        assert_eq!(python_float(1.5e20), "1.5e+20");
    }
}
