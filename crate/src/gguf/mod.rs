//! Reading llama.cpp's GGUF files from bytes: the header, the metadata (key, typed value), the tensor table, and
//! each tensor's values as float32 (`quant`). Written here rather than taken from a crate: the Rust GGUF crates read
//! from a path or a `Read` stream (the page has bytes) and size their vectors from the file's own counts, and
//! everything inside a model file is untrusted here: every count, length, dimension and offset is checked against
//! the bytes that remain before anything is allocated, so a hostile file gets a message naming what is wrong and
//! never an allocation larger than itself. The format is llama.cpp's `gguf.h` (versions 2 and 3, little-endian).

pub mod quant;
mod read;
mod value;
pub mod write;

use std::collections::BTreeMap;

use crate::error::Error;
pub use quant::GgmlType;
use read::Cursor;
pub use value::Value;

/// One tensor of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml's order: `dims[0]` is the fastest-moving (a torch `[out, in]` weight is `[in, out]` here).
    pub dims: Vec<usize>,
    pub kind: GgmlType,
    /// Where its bytes are in the file, checked to lie inside it.
    pub start: usize,
    pub end: usize,
}

impl TensorInfo {
    pub fn elements(&self) -> usize {
        self.dims.iter().product()
    }

    /// The shape as torch (and safetensors) order it: ggml's reversed.
    pub fn torch_shape(&self) -> Vec<usize> {
        self.dims.iter().rev().copied().collect()
    }
}

/// A parsed file borrowing its bytes.
#[derive(Debug)]
pub struct Gguf<'a> {
    pub file: String,
    pub version: u32,
    pub metadata: BTreeMap<String, Value>,
    pub tensors: Vec<TensorInfo>,
    bytes: &'a [u8],
}

/// At most this many dimensions (ggml's `GGML_MAX_DIMS`).
const MAX_DIMS: u32 = 4;

impl<'a> Gguf<'a> {
    /// Parses the header, metadata and tensor table; `file` names the file in errors.
    pub fn parse(file: &str, bytes: &'a [u8]) -> Result<Self, Error> {
        let mut c = Cursor::new(file, bytes);
        let magic = c.take(4, "the magic number")?;
        if magic != b"GGUF" {
            return Err(Error::invalid(file, "does not start with GGUF: not a GGUF file"));
        }
        let version = c.u32("the version")?;
        if !(2..=3).contains(&version) {
            return Err(Error::invalid(file, format!("is GGUF version {version}; versions 2 and 3 are read here")));
        }
        let tensor_count = c.count("the tensor count", 8 + 4 + 8 + 4 + 8)?;
        let kv_count = c.count("the metadata count", 8 + 4 + 1)?;
        let mut metadata = BTreeMap::new();
        for _ in 0..kv_count {
            let key = c.string("a metadata key")?;
            let kind = c.u32(&format!("the type of {key}"))?;
            let value = c.value(kind, &key, 0)?;
            if metadata.insert(key.clone(), value).is_some() {
                return Err(Error::invalid(file, format!("metadata key {key} appears twice")));
            }
        }
        let alignment = match metadata.get("general.alignment") {
            None => 32,
            Some(v) => match v.as_u64() {
                Some(a) if a > 0 && a.is_power_of_two() && a <= 1 << 20 => a as usize,
                _ => return Err(Error::invalid(file, format!("general.alignment is {v:?}, not a power of two"))),
            },
        };
        let mut infos = Vec::with_capacity(tensor_count);
        for _ in 0..tensor_count {
            let name = c.string("a tensor name")?;
            let n_dims = c.u32(&format!("the dimensions of {name}"))?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(Error::invalid(file, format!("tensor {name} has {n_dims} dimensions (1 to {MAX_DIMS})")));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                let d = c.u64(&format!("a dimension of {name}"))?;
                // No dimension can hold more elements than the file has bytes times 2 (4-bit types at best).
                if d == 0 || d > (bytes.len() as u64).saturating_mul(2) {
                    return Err(Error::invalid(file, format!("tensor {name} has a dimension of {d}")));
                }
                dims.push(d as usize);
            }
            let type_id = c.u32(&format!("the type of {name}"))?;
            let kind = GgmlType::from_id(type_id).ok_or_else(|| {
                Error::invalid(file, format!("tensor {name} has ggml type {type_id}, which is not read here"))
            })?;
            let offset = c.u64(&format!("the offset of {name}"))?;
            infos.push((name, dims, kind, offset));
        }
        let data_start = c.position().div_ceil(alignment) * alignment;
        let mut tensors = Vec::with_capacity(infos.len());
        let mut names = std::collections::BTreeSet::new();
        for (name, dims, kind, offset) in infos {
            let elements = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            let size = elements.and_then(|n| kind.bytes_for(n));
            let Some(size) = size else {
                return Err(Error::invalid(
                    file,
                    format!("tensor {name}: {dims:?} {kind:?} is not a whole number of {} blocks", kind.name()),
                ));
            };
            if dims[0] % kind.block_size() != 0 {
                return Err(Error::invalid(
                    file,
                    format!("tensor {name}: rows of {} are not a whole number of {} blocks", dims[0], kind.name()),
                ));
            }
            let start = (offset as usize).checked_add(data_start).filter(|_| offset % alignment as u64 == 0);
            let end = start.and_then(|s| s.checked_add(size)).filter(|&e| e <= bytes.len());
            let (Some(start), Some(end)) = (start, end) else {
                return Err(Error::invalid(
                    file,
                    format!(
                        "tensor {name}: offset {offset} (+ {size} bytes) lies outside the {}-byte file (truncated?)",
                        bytes.len()
                    ),
                ));
            };
            if !names.insert(name.clone()) {
                return Err(Error::invalid(file, format!("tensor {name} appears twice")));
            }
            tensors.push(TensorInfo { name, dims, kind, start, end });
        }
        Ok(Self { file: file.to_string(), version, metadata, tensors, bytes })
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    /// A required metadata value, or a message naming the key.
    pub fn require(&self, key: &str) -> Result<&Value, Error> {
        self.get(key).ok_or_else(|| Error::invalid(&self.file, format!("has no {key} in its metadata")))
    }

    /// A metadata integer (a size, a count, a token id).
    pub fn usize(&self, key: &str) -> Result<Option<usize>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|&n| n <= u32::MAX as u64)
                .map(|n| Some(n as usize))
                .ok_or_else(|| Error::invalid(&self.file, format!("{key} is {v:?}, not a count"))),
        }
    }

    pub fn f64(&self, key: &str) -> Result<Option<f64>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| Error::invalid(&self.file, format!("{key} is {v:?}, not a number"))),
        }
    }

    pub fn str(&self, key: &str) -> Result<Option<&str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| Error::invalid(&self.file, format!("{key} is not a string"))),
        }
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// A tensor's raw bytes.
    pub fn raw(&self, t: &TensorInfo) -> &'a [u8] {
        &self.bytes[t.start..t.end]
    }

    /// A tensor's values as float32, in ggml's order (row-major over the reversed dims: torch's order).
    pub fn f32(&self, t: &TensorInfo) -> Vec<f32> {
        quant::dequantize(t.kind, self.raw(t))
    }
}
