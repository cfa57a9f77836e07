//! Training memory: weights, gradients, optimizer state and activations, by precision.
//!
//! Everything except activations is exact for the tensors PyTorch allocates (checked against real optimizer
//! state in `tests/reference/peft_reference.json`); activations are an estimate with the formula below.

use serde::{Deserialize, Serialize};

use crate::accounting::arch::{Architecture, ModuleKind, ModuleSpec};
use crate::accounting::checkpoint::Dtype;
use crate::error::Error;

/// How the frozen base model is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    Bf16,
    Fp16,
    /// bitsandbytes LLM.int8 (`load_in_8bit`): int8 Linear weights plus one float32 scale per output row.
    Int8,
    /// bitsandbytes 4-bit NormalFloat with double quantization, as QLoRA stores it.
    Nf4,
    /// NF4 weights with float32 for everything else and float32 compute (`bnb_4bit_compute_dtype=torch.float32`):
    /// this crate's trainer, and the reference it is checked against.
    #[serde(rename = "nf4-fp32")]
    Nf4Fp32,
}

impl Precision {
    pub const ALL: [&'static str; 6] = ["fp32", "bf16", "fp16", "int8", "nf4", "nf4-fp32"];

    pub fn parse(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "fp32" | "float32" => Ok(Precision::Fp32),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            "fp16" | "float16" => Ok(Precision::Fp16),
            "int8" | "8bit" => Ok(Precision::Int8),
            "nf4" | "4bit" => Ok(Precision::Nf4),
            "nf4-fp32" => Ok(Precision::Nf4Fp32),
            _ => Err(Error::invalid("precision", format!("'{s}' is not one of {}", Self::ALL.join(", ")))),
        }
    }

    /// The float dtype of everything that is not quantized: norms, embeddings, biases, the head. Quantized
    /// models compute in bf16 (`bnb_4bit_compute_dtype=torch.bfloat16`, as in the QLoRA recipe).
    pub fn float_dtype(self) -> Dtype {
        match self {
            Precision::Fp32 | Precision::Nf4Fp32 => Dtype::F32,
            Precision::Fp16 => Dtype::F16,
            Precision::Bf16 | Precision::Int8 | Precision::Nf4 => Dtype::BF16,
        }
    }

    pub fn is_quantized(self) -> bool {
        matches!(self, Precision::Int8 | Precision::Nf4 | Precision::Nf4Fp32)
    }
}

/// Bytes a frozen module's weight and bias take at `precision`. Quantization applies to Linear/Conv1D weights
/// outside the task head (transformers keeps the output module in float: `get_keys_to_not_convert`).
pub fn frozen_module_bytes(m: &ModuleSpec, precision: Precision, in_head: bool) -> u64 {
    let float = precision.float_dtype().bytes();
    let bias = m.bias_params() * float;
    let n = m.weight_params();
    let quantize = precision.is_quantized() && !in_head && matches!(m.kind, ModuleKind::Linear | ModuleKind::Conv1D);
    if !quantize {
        return n * float + bias;
    }
    match precision {
        // Int8Params: `CB` int8 [out, in] and `SCB` float32 [out].
        Precision::Int8 => n + 4 * m.out_features + bias,
        // Params4bit: two 4-bit codes per byte; absmax per 64-element block, itself quantized to 8 bits
        // (double quantization) with one float32 constant per 256 blocks and one float32 offset
        // (Dettmers et al. 2023, section 3: 0.127 bits per parameter of constants).
        _ => {
            let blocks = n.div_ceil(64);
            n.div_ceil(2) + blocks + 4 * blocks.div_ceil(256) + 4
        }
    }
}

/// The optimizer the memory panel assumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimizer {
    /// `torch.optim.AdamW`: `exp_avg` and `exp_avg_sq` per parameter, in the parameter's dtype, plus a float32
    /// `step` scalar per tensor.
    #[default]
    Adamw,
    /// `torch.optim.SGD(momentum>0)`: one `momentum_buffer` per parameter.
    SgdMomentum,
    /// Plain SGD: no state.
    Sgd,
}

impl Optimizer {
    pub const ALL: [&'static str; 3] = ["adamw", "sgd_momentum", "sgd"];

    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "adamw" | "adam" => Ok(Optimizer::Adamw),
            "sgd_momentum" | "sgd-momentum" => Ok(Optimizer::SgdMomentum),
            "sgd" => Ok(Optimizer::Sgd),
            _ => Err(Error::invalid("optimizer", format!("'{s}' is not one of {}", Self::ALL.join(", ")))),
        }
    }

    /// State bytes for trainable weights occupying `weight_bytes` in `tensors` tensors.
    pub fn state_bytes(self, weight_bytes: u64, tensors: u64) -> u64 {
        match self {
            Optimizer::Adamw => 2 * weight_bytes + 4 * tensors,
            Optimizer::SgdMomentum => weight_bytes,
            Optimizer::Sgd => 0,
        }
    }
}

/// What the activation estimate depends on: the batch's shape, and whether the blocks are checkpointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Batch {
    pub batch_size: u64,
    pub seq_len: u64,
    /// transformers' `gradient_checkpointing`: each layer keeps only its input for the backward pass.
    pub gradient_checkpointing: bool,
}

impl Default for Batch {
    fn default() -> Self {
        Self { batch_size: 16, seq_len: 128, gradient_checkpointing: false }
    }
}

/// Activation memory of one training step, estimated with Korthikanti et al. 2022 ("Reducing Activation
/// Recomputation in Large Transformer Models", eq. 1): each transformer layer keeps
/// `s*b*h*(34 + 5*a*s/h)` bytes with 16-bit activations (attention scores and softmax included, no
/// FlashAttention, no activation checkpointing); doubled for float32 activations. When the backbone is frozen
/// and nothing in it trains (head-only), the forward pass needs no saved activations: only the head's input.
/// With gradient checkpointing (the paper's "full activation recomputation") each layer keeps its input, `s*b*h`
/// values, and the backward pass holds one layer's activations at a time while it recomputes that layer.
pub fn activation_bytes(arch: &Architecture, batch: Batch, precision: Precision, backbone_trains: bool) -> u64 {
    let (s, b, h, a) = (batch.seq_len, batch.batch_size, arch.hidden_size, arch.num_attention_heads);
    let scale = precision.float_dtype().bytes(); // 2 for 16-bit, 4 for float32
    if !backbone_trains {
        return b * s * h * scale;
    }
    // s*b*h*34 + 5*a*s^2*b, in 16-bit units, times scale/2.
    let per_layer = (s * b * h * 34 + 5 * a * s * s * b) * scale / 2;
    if batch.gradient_checkpointing {
        arch.num_layers as u64 * s * b * h * scale + per_layer
    } else {
        arch.num_layers as u64 * per_layer
    }
}

/// A memory breakdown for one way of training.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Memory {
    pub frozen_weights: u64,
    pub trainable_weights: u64,
    pub gradients: u64,
    pub optimizer_state: u64,
    pub activations: u64,
    pub total: u64,
}

impl Memory {
    pub fn new(frozen_weights: u64, trainable_weights: u64, optimizer_state: u64, activations: u64) -> Self {
        let gradients = trainable_weights;
        Self {
            frozen_weights,
            trainable_weights,
            gradients,
            optimizer_state,
            activations,
            total: frozen_weights + trainable_weights + gradients + optimizer_state + activations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nf4_constants_cost_what_qlora_says() {
        // A 4096 x 4096 weight: 0.5 bytes per weight plus 8-bit absmax per 64 and fp32 per 256 blocks:
        // (4 + 8/64 + 32/(64*256)) bits per parameter = 4.127 bits, the paper's figure.
        let m = ModuleSpec::linear("q", 4096, 4096, false);
        let bytes = frozen_module_bytes(&m, Precision::Nf4, false);
        let bits_per_param = bytes as f64 * 8.0 / (4096.0 * 4096.0);
        assert!((bits_per_param - 4.127).abs() < 0.001, "{bits_per_param}");
        // The head is never quantized.
        assert_eq!(frozen_module_bytes(&m, Precision::Nf4, true), 4096 * 4096 * 2);
    }

    #[test]
    fn int8_keeps_a_float32_scale_per_row_and_16_bit_bias() {
        let m = ModuleSpec::linear("q", 10, 3, true);
        assert_eq!(frozen_module_bytes(&m, Precision::Int8, false), 30 + 12 + 6);
    }

    #[test]
    fn adamw_state_is_two_moments_plus_a_step_per_tensor() {
        assert_eq!(Optimizer::Adamw.state_bytes(400, 3), 812);
        assert_eq!(Optimizer::SgdMomentum.state_bytes(400, 3), 400);
        assert_eq!(Optimizer::Sgd.state_bytes(400, 3), 0);
    }

    #[test]
    fn bad_names_say_what_is_allowed() {
        let e = Precision::parse("fp8").unwrap_err();
        assert_eq!(e.field, "precision");
        assert!(e.message.contains("nf4"));
        assert!(Optimizer::parse("lion").unwrap_err().message.contains("sgd_momentum"));
    }
}
