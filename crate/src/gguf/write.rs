//! Writing a GGUF file (version 3): metadata of a few value types and float32 tensors, laid out as gguf-py's
//! `GGUFWriter` lays them out (32-byte alignment, tensor data in the order of the tensor table). Used for LoRA
//! adapters in llama.cpp's format (`model::causal::llama_cpp`). Why by hand: the crates that write GGUF are parts of
//! larger inference libraries (candle's `quantized::gguf_file`), and an adapter is a dozen key-value pairs and
//! float32 matrices; gguf-py reads what this writes in the test, and llama.cpp loads it (docs/VERIFICATION.md).

/// The alignment of tensor data (`general.alignment`'s default).
const ALIGNMENT: usize = 32;

/// A metadata value.
pub enum Value {
    U32(u32),
    F32(f32),
    Str(String),
}

impl Value {
    /// GGUF's value type ids.
    fn type_id(&self) -> u32 {
        match self {
            Value::U32(_) => 4,
            Value::F32(_) => 6,
            Value::Str(_) => 8,
        }
    }
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn pad(out: &mut Vec<u8>) {
    while out.len() % ALIGNMENT != 0 {
        out.push(0);
    }
}

/// A GGUF file with `metadata` and float32 `tensors` (name, torch's shape, values in torch's row-major order;
/// GGUF lists dimensions innermost first, so the shape is written reversed).
pub fn write(metadata: &[(&str, Value)], tensors: &[(String, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"GGUF");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
    out.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        string(&mut out, key);
        out.extend_from_slice(&value.type_id().to_le_bytes());
        match value {
            Value::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
            Value::Str(s) => string(&mut out, s),
        }
    }
    let mut offset = 0usize;
    for (name, shape, values) in tensors {
        string(&mut out, name);
        out.extend_from_slice(&(shape.len() as u32).to_le_bytes());
        for d in shape.iter().rev() {
            out.extend_from_slice(&(*d as u64).to_le_bytes());
        }
        out.extend_from_slice(&0u32.to_le_bytes()); // F32
        out.extend_from_slice(&(offset as u64).to_le_bytes());
        offset += (4 * values.len()).div_ceil(ALIGNMENT) * ALIGNMENT;
    }
    pad(&mut out);
    for (_, _, values) in tensors {
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        pad(&mut out);
    }
    out
}
