//! Reading and writing `.safetensors` files from bytes (so a folder, the Hub and the browser share one path).
//!
//! Format: 8-byte little-endian header length, a JSON header `{name: {dtype, shape, data_offsets}}` plus optional
//! `__metadata__`, then the raw little-endian data. Writing follows the `safetensors` library byte for byte
//! (see `checkpoint::safetensors_bytes`, which predicts the size of what `write_f32` produces).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::Error;
use crate::f16::f16_to_f32;
use crate::gguf::{GgmlType, quant};

/// One tensor's place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dtype: String,
    pub shape: Vec<usize>,
    /// Byte range inside the data section.
    pub start: usize,
    pub end: usize,
    /// How the stored values become the model's (a GGUF file's tensors seen through this view).
    pub fix: Fix,
}

/// What turns a stored tensor into the one the model computes with: nothing for a safetensors file; for a GGUF
/// file, undoing what llama.cpp's converter did to it (`model::causal::gguf` says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fix {
    #[default]
    None,
    /// llama.cpp's converter permutes the rows of Llama's q/k projections (interleaved rotary pairs); undone for
    /// this many heads, as transformers' `reverse_permute_weights` does.
    Unpermute(usize),
    /// Gemma's norms are stored as `1 + w` (llama.cpp computes `x * w`); the model's `(1 + w)` needs `w`.
    MinusOne,
}

/// A parsed file borrowing its bytes.
pub struct SafeTensors<'a> {
    file: String,
    data: &'a [u8],
    pub entries: BTreeMap<String, Entry>,
    pub metadata: BTreeMap<String, String>,
}

fn bad(file: &str, message: impl Into<String>) -> Error {
    Error::invalid(file, message)
}

impl<'a> SafeTensors<'a> {
    /// Parses the header; `file` names the file in errors (`model.safetensors`).
    pub fn parse(file: &str, bytes: &'a [u8]) -> Result<Self, Error> {
        if bytes.len() < 8 {
            return Err(bad(file, format!("is {} bytes: too short to be a safetensors file", bytes.len())));
        }
        let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        if n > bytes.len() - 8 || n > 100 << 20 {
            return Err(bad(
                file,
                format!("header length {n} does not fit in a {}-byte file: not a safetensors file?", bytes.len()),
            ));
        }
        let header: Value =
            serde_json::from_slice(&bytes[8..8 + n]).map_err(|e| bad(file, format!("header is not JSON: {e}")))?;
        let Value::Object(map) = header else { return Err(bad(file, "header is not a JSON object")) };
        let data = &bytes[8 + n..];
        let mut entries = BTreeMap::new();
        let mut metadata = BTreeMap::new();
        for (name, v) in map {
            if name == "__metadata__" {
                if let Value::Object(m) = v {
                    for (k, v) in m {
                        metadata.insert(k, v.as_str().unwrap_or_default().to_string());
                    }
                }
                continue;
            }
            let dtype = v["dtype"].as_str().ok_or_else(|| bad(file, format!("tensor {name}: no dtype")))?.to_string();
            let shape: Vec<usize> = serde_json::from_value(v["shape"].clone())
                .map_err(|_| bad(file, format!("tensor {name}: bad shape")))?;
            let offsets: [usize; 2] = serde_json::from_value(v["data_offsets"].clone())
                .map_err(|_| bad(file, format!("tensor {name}: bad data_offsets")))?;
            let [start, end] = offsets;
            let width =
                dtype_bytes(&dtype).ok_or_else(|| bad(file, format!("tensor {name}: unsupported dtype {dtype}")))?;
            // Checked: a damaged header can claim shapes whose product overflows.
            let bytes = shape.iter().try_fold(width, |acc, &d| acc.checked_mul(d));
            if start > end || end > data.len() || Some(end - start) != bytes {
                return Err(bad(
                    file,
                    format!("tensor {name}: offsets {start}..{end} do not hold {shape:?} {dtype} (file truncated?)"),
                ));
            }
            entries.insert(name, Entry { dtype, shape, start, end, fix: Fix::None });
        }
        Ok(Self { file: file.to_string(), data, entries, metadata })
    }

    /// A view of tensors elsewhere in `data` (a GGUF file's, by the names the model asks for): `entries` hold
    /// byte ranges of `data`, checked by whoever built them, dtypes as ggml names them for quantized tensors.
    pub fn view(file: &str, data: &'a [u8], entries: BTreeMap<String, Entry>) -> Self {
        Self { file: file.to_string(), data, entries, metadata: BTreeMap::new() }
    }

    /// A tensor as float32 values (F32, F16 and BF16 are converted, GGUF's quantized types dequantized), with its
    /// shape.
    pub fn f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), Error> {
        let e = self.entries.get(name).ok_or_else(|| bad(&self.file, format!("tensor {name} is missing")))?;
        let raw = &self.data[e.start..e.end];
        let values = match e.dtype.as_str() {
            q if q.starts_with('Q') => {
                let kind = GgmlType::from_name(q).ok_or_else(|| bad(&self.file, format!("tensor {name} is {q}")))?;
                quant::dequantize(kind, raw)
            }
            "F32" => raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect(),
            "F16" => raw.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect(),
            "BF16" => {
                raw.chunks_exact(2).map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16)).collect()
            }
            other => return Err(bad(&self.file, format!("tensor {name} is {other}; expected a float tensor"))),
        };
        Ok((fix(values, &e.shape, e.fix), e.shape.clone()))
    }

    /// A tensor's stored bytes, checked to be of `dtype` (`U8` for bitsandbytes' packed weights), with its shape.
    pub fn raw(&self, name: &str, dtype: &str) -> Result<(&'a [u8], Vec<usize>), Error> {
        let e = self.entries.get(name).ok_or_else(|| bad(&self.file, format!("tensor {name} is missing")))?;
        if e.dtype != dtype {
            return Err(bad(&self.file, format!("tensor {name} is {}; expected {dtype}", e.dtype)));
        }
        Ok((&self.data[e.start..e.end], e.shape.clone()))
    }

    /// The file's name, for messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn contains(&self, name: &str) -> bool {
        self.entries.contains_key(name)
    }
}

/// `values` of a tensor `shape` (torch order) as the model wants them (`Fix`).
fn fix(values: Vec<f32>, shape: &[usize], fix: Fix) -> Vec<f32> {
    match fix {
        Fix::None => values,
        Fix::MinusOne => values.into_iter().map(|v| v - 1.0).collect(),
        Fix::Unpermute(heads) => {
            let rows = shape.first().copied().unwrap_or(0);
            permute_rows(&values, rows, heads, false)
        }
    }
}

/// Llama's q/k rows as llama.cpp's converter orders them (`to_llama_cpp`: `[heads, 2, dim]` -> `[heads, dim, 2]`,
/// interleaved rotary pairs, its `LlamaModel.permute`) or back (transformers' `reverse_permute_weights`). A shape
/// that does not split so is returned as it is.
pub fn permute_rows(values: &[f32], rows: usize, heads: usize, to_llama_cpp: bool) -> Vec<f32> {
    let width = values.len() / rows.max(1);
    let dim = rows / heads.max(1) / 2;
    if heads == 0 || dim == 0 || heads * dim * 2 != rows {
        return values.to_vec();
    }
    let mut out = vec![0.0; values.len()];
    for h in 0..heads {
        for a in 0..2 {
            for b in 0..dim {
                // Row (h, a, b) of transformers' order is row (h, b, a) of llama.cpp's.
                let (hf, cpp) = (h * 2 * dim + a * dim + b, h * 2 * dim + b * 2 + a);
                let (to, from) = if to_llama_cpp { (cpp, hf) } else { (hf, cpp) };
                out[to * width..(to + 1) * width].copy_from_slice(&values[from * width..(from + 1) * width]);
            }
        }
    }
    out
}

fn dtype_bytes(dtype: &str) -> Option<usize> {
    Some(match dtype {
        "F64" | "I64" | "U64" => 8,
        "F32" | "I32" | "U32" => 4,
        "F16" | "BF16" | "I16" | "U16" => 2,
        "I8" | "U8" | "BOOL" | "F8_E4M3" | "F8_E5M2" => 1,
        _ => return None,
    })
}

/// Writes float32 tensors as `safetensors` does: sorted by name (one dtype), `{"format":"pt"}` metadata,
/// header padded with spaces to a multiple of 8.
/// Takes names, shapes and values by reference or owned (`String`/`&str`, `Vec`/slices), so saving a whole model
/// copies no tensor.
pub fn write_f32<N: AsRef<str>, S: AsRef<[usize]>, V: AsRef<[f32]>>(tensors: &[(N, S, V)]) -> Vec<u8> {
    let raw: Vec<Raw> = tensors
        .iter()
        .map(|(n, s, v)| Raw { name: n.as_ref(), shape: s.as_ref(), data: Data::F32(v.as_ref()) })
        .collect();
    write(&raw)
}

/// One tensor to write.
pub struct Raw<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub data: Data<'a>,
}

/// A tensor's values, borrowed (written without a copy).
pub enum Data<'a> {
    F32(&'a [f32]),
    U8(&'a [u8]),
}

impl Data<'_> {
    fn dtype(&self) -> &'static str {
        match self {
            Data::F32(_) => "F32",
            Data::U8(_) => "U8",
        }
    }

    fn nbytes(&self) -> usize {
        match self {
            Data::F32(v) => 4 * v.len(),
            Data::U8(v) => v.len(),
        }
    }
}

/// Writes tensors of any dtypes as `safetensors` does (sorted by name, `{"format":"pt"}`, header padded to 8).
pub fn write(tensors: &[Raw]) -> Vec<u8> {
    let mut order: Vec<&Raw> = tensors.iter().collect();
    order.sort_by(|a, b| a.name.cmp(b.name));
    let mut header = String::from(r#"{"__metadata__":{"format":"pt"}"#);
    let mut offset = 0usize;
    for t in &order {
        let end = offset + t.data.nbytes();
        let shape: Vec<String> = t.shape.iter().map(usize::to_string).collect();
        let name = serde_json::to_string(t.name).expect("strings serialize");
        header.push_str(&format!(
            r#",{name}:{{"dtype":"{}","shape":[{}],"data_offsets":[{offset},{end}]}}"#,
            t.data.dtype(),
            shape.join(",")
        ));
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for t in &order {
        match t.data {
            Data::F32(values) => values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            Data::U8(bytes) => out.extend_from_slice(bytes),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounting::checkpoint::{Dtype, TensorEntry, safetensors_bytes};

    #[test]
    fn writes_what_the_size_calculator_predicts_and_reads_it_back() {
        let tensors = vec![
            ("b.weight".to_string(), vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
            ("a.bias".to_string(), vec![3], vec![-1.0, 0.5, 0.25]),
        ];
        let bytes = write_f32(&tensors);
        let predicted: Vec<TensorEntry> = tensors
            .iter()
            .map(|(n, s, _)| TensorEntry {
                name: n.clone(),
                shape: s.iter().map(|&d| d as u64).collect(),
                dtype: Dtype::F32,
            })
            .collect();
        assert_eq!(bytes.len() as u64, safetensors_bytes(&predicted));
        let file = SafeTensors::parse("t.safetensors", &bytes).unwrap();
        assert_eq!(file.metadata["format"], "pt");
        assert_eq!(file.f32("b.weight").unwrap(), (vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], vec![2, 3]));
        assert_eq!(file.f32("a.bias").unwrap().0, vec![-1.0, 0.5, 0.25]);
    }

    #[test]
    fn half_precision_converts_exactly() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn damaged_files_are_errors_never_panics() {
        let good = write_f32(&[("a.weight", vec![2, 3], vec![1.0; 6]), ("b", vec![4], vec![2.0; 4])]);
        let mut rng = crate::rng::Rng::new(7);
        let mut cases: Vec<Vec<u8>> = (0..good.len()).map(|n| good[..n].to_vec()).collect();
        for _ in 0..3000 {
            let mut bad = good.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(bad.len());
                bad[i] = rng.below(256) as u8;
            }
            cases.push(bad);
        }
        // Absurd header lengths, shapes that overflow, non-UTF-8 in the header.
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        cases.push(huge);
        let header = br#"{"x":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#;
        let mut overflow = (header.len() as u64).to_le_bytes().to_vec();
        overflow.extend_from_slice(header);
        cases.push(overflow);
        let mut latin1 = (6u64).to_le_bytes().to_vec();
        latin1.extend_from_slice(b"{\"\xe9\":1}");
        cases.push(latin1);
        for bytes in &cases {
            let outcome = std::panic::catch_unwind(|| {
                if let Ok(f) = SafeTensors::parse("m", bytes) {
                    for name in f.entries.keys() {
                        let _ = f.f32(name);
                    }
                }
            });
            assert!(outcome.is_ok(), "panicked on {bytes:?}");
        }
        let e = SafeTensors::parse("m", &cases[cases.len() - 2]).err().expect("overflowing shape");
        assert!(e.message.contains("do not hold"), "{e}");
    }

    #[test]
    fn broken_files_say_what_is_wrong() {
        assert!(SafeTensors::parse("m", b"abc").err().expect("too short").message.contains("too short"));
        let mut bytes = write_f32(&[("x", vec![4], vec![0.0; 4])]);
        bytes.truncate(bytes.len() - 4);
        assert!(SafeTensors::parse("m", &bytes).err().expect("truncated").message.contains("tensor x"));
        let ok = write_f32(&[("x", vec![1], vec![0.0])]);
        let file = SafeTensors::parse("m", &ok).unwrap();
        assert_eq!(file.f32("y").unwrap_err().message, "tensor y is missing");
    }
}
