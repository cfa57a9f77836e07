//! Exact file sizes of the checkpoints PEFT and transformers write, from shapes alone.
//!
//! A `.safetensors` file is 8 bytes (little-endian header length), a JSON header padded with spaces to a
//! multiple of 8, then the raw tensor data. The header's length depends on every key, shape and byte offset,
//! so it is rebuilt here exactly as the `safetensors` library writes it: tensors ordered by dtype (widest
//! first) then by name, data packed in that order, `__metadata__` `{"format": "pt"}` first.

use serde::Serialize;

use crate::accounting::arch::{Architecture, ModuleKind, ModuleSpec};
use crate::accounting::inject::Injection;
use crate::accounting::lora_config::{Bias, LoraConfig};

/// Element types a checkpoint may hold, with safetensors' names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Dtype {
    F32,
    BF16,
    F16,
    I8,
    U8,
}

impl Dtype {
    pub fn bytes(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::BF16 | Dtype::F16 => 2,
            Dtype::I8 | Dtype::U8 => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::BF16 => "BF16",
            Dtype::F16 => "F16",
            Dtype::I8 => "I8",
            Dtype::U8 => "U8",
        }
    }

    /// Position in safetensors' `Dtype` enum, whose derived order decides the file layout.
    fn order(self) -> u8 {
        match self {
            Dtype::U8 => 4,
            Dtype::I8 => 5,
            Dtype::F16 => 11,
            Dtype::BF16 => 12,
            Dtype::F32 => 15,
        }
    }
}

/// One tensor of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TensorEntry {
    pub name: String,
    pub shape: Vec<u64>,
    pub dtype: Dtype,
}

impl TensorEntry {
    fn new(name: String, shape: Vec<u64>, dtype: Dtype) -> Self {
        Self { name, shape, dtype }
    }

    pub fn elements(&self) -> u64 {
        self.shape.iter().product()
    }

    pub fn bytes(&self) -> u64 {
        self.elements() * self.dtype.bytes()
    }
}

/// Byte size of the `.safetensors` file holding `tensors`, with `{"format": "pt"}` metadata as PEFT and
/// transformers write it.
pub fn safetensors_bytes(tensors: &[TensorEntry]) -> u64 {
    let mut sorted: Vec<&TensorEntry> = tensors.iter().collect();
    sorted.sort_by(|a, b| b.dtype.order().cmp(&a.dtype.order()).then_with(|| a.name.cmp(&b.name)));
    let mut header = String::from(r#"{"__metadata__":{"format":"pt"}"#);
    let mut offset = 0u64;
    for t in &sorted {
        let end = offset + t.bytes();
        let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
        let name = serde_json::to_string(&t.name).expect("a string always serializes");
        header.push_str(&format!(
            r#",{name}:{{"dtype":"{}","shape":[{}],"data_offsets":[{offset},{end}]}}"#,
            t.dtype.name(),
            shape.join(",")
        ));
        offset = end;
    }
    header.push('}');
    let padded = (header.len() as u64).div_ceil(8) * 8;
    8 + padded + offset
}

/// Parameter tensors of one module as torch names them: `(suffix, shape)`.
fn params_of(m: &ModuleSpec) -> Vec<(&'static str, Vec<u64>)> {
    let mut out = vec![("weight", m.weight_shape())];
    if m.bias {
        out.push(("bias", vec![m.out_features]));
    }
    out
}

/// The tensors of `model.safetensors` as transformers' `save_pretrained` writes it (every parameter, in `dtype`).
pub fn model_tensors(arch: &Architecture, dtype: Dtype) -> Vec<TensorEntry> {
    arch.modules
        .iter()
        .flat_map(|m| {
            params_of(m).into_iter().map(move |(p, shape)| TensorEntry::new(format!("{}.{p}", m.name), shape, dtype))
        })
        .collect()
}

/// Dtypes of an adapter checkpoint's tensors: LoRA matrices in `lora` (PEFT keeps them in float32 by default,
/// `autocast_adapter_dtype=True`), copies of the head and base-model biases in the base model's float dtype.
#[derive(Debug, Clone, Copy)]
pub struct AdapterDtypes {
    pub lora: Dtype,
    pub base: Dtype,
}

/// The tensors of the `adapter_model.safetensors` PEFT's `save_pretrained` writes, named as
/// `get_peft_model_state_dict` names them (`base_model.model.` prefix, adapter name removed).
///
/// The bias modes filter the PeftModel's own state dict, so they keep PEFT's quirks: with `bias="all"` the
/// head's frozen original (`classifier.original_module.bias`) and its wrapped copy (`classifier.modules_to_save.bias`)
/// are saved besides the head itself, and a LoRA layer's bias is saved as `<module>.base_layer.bias`.
///
/// Not modelled: `save_embedding_layers="auto"` (PEFT also saves whole `embed_tokens`/`lm_head` weights when those
/// names are targeted); no reference row targets embeddings.
pub fn adapter_tensors(
    arch: &Architecture,
    config: &LoraConfig,
    inj: &Injection,
    dtypes: AdapterDtypes,
) -> Vec<TensorEntry> {
    const P: &str = "base_model.model";
    let mut out = Vec::new();
    let mut head = Vec::new();
    for (i, m) in arch.modules.iter().enumerate() {
        if inj.lora.contains(&i) {
            let (a, b) = match m.kind {
                ModuleKind::Embedding => ("lora_embedding_A", "lora_embedding_B"),
                _ => ("lora_A.weight", "lora_B.weight"),
            };
            out.push(TensorEntry::new(format!("{P}.{}.{a}", m.name), vec![config.r, m.in_features], dtypes.lora));
            out.push(TensorEntry::new(format!("{P}.{}.{b}", m.name), vec![m.out_features, config.r], dtypes.lora));
            if m.bias && config.bias != Bias::None {
                out.push(TensorEntry::new(
                    format!("{P}.{}.base_layer.bias", m.name),
                    vec![m.out_features],
                    dtypes.base,
                ));
            }
        } else if let Some(wrapper) = inj.modules_to_save.iter().find(|p| crate::accounting::path::within(&m.name, p)) {
            let rest = &m.name[wrapper.len()..];
            for (p, shape) in params_of(m) {
                head.push(TensorEntry::new(format!("{P}.{}.{p}", m.name), shape.clone(), dtypes.base));
                if p == "bias" && config.bias == Bias::All {
                    // PEFT strips the adapter name only as the last or second-to-last key component
                    // (`_remove_adapter_name_from_state_dict_key`), so a nested head keeps `.default.`.
                    let copy = if rest.is_empty() {
                        "modules_to_save".to_string()
                    } else {
                        "modules_to_save.default".to_string()
                    };
                    for copy in ["original_module".to_string(), copy] {
                        out.push(TensorEntry::new(
                            format!("{P}.{wrapper}.{copy}{rest}.bias"),
                            shape.clone(),
                            dtypes.base,
                        ));
                    }
                }
            }
        } else if m.bias && config.bias == Bias::All {
            out.push(TensorEntry::new(format!("{P}.{}.bias", m.name), vec![m.out_features], dtypes.base));
        }
    }
    out.extend(head);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_to_eight_bytes_and_data_follows() {
        // {"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} is 87 bytes,
        // padded to 88; 8 bytes of data; 8 bytes of length.
        let t = [TensorEntry::new("a".into(), vec![2], Dtype::F32)];
        assert_eq!(safetensors_bytes(&t), 8 + 88 + 8);
    }

    #[test]
    fn offsets_follow_dtype_then_name_order() {
        // The F32 tensor is written first whatever its name, so the BF16 one's offsets have more digits.
        let big = TensorEntry::new("z".into(), vec![1000], Dtype::F32);
        let small = TensorEntry::new("a".into(), vec![1], Dtype::BF16);
        let file = safetensors_bytes(&[small.clone(), big.clone()]);
        let header = r#"{"__metadata__":{"format":"pt"},"z":{"dtype":"F32","shape":[1000],"data_offsets":[0,4000]},"a":{"dtype":"BF16","shape":[1],"data_offsets":[4000,4002]}}"#;
        assert_eq!(file, 8 + (header.len() as u64).div_ceil(8) * 8 + 4002);
    }
}
