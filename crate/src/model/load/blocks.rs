//! The loader's linear layers and token tables, as the base holds them: float32, NF4 (QLoRA; a folder saved in
//! 4 bits keeps its blocks), float16 values, or a GGUF file's own blocks (*as stored*), which stay in the file's
//! bytes.

use std::sync::Arc;

use burn::tensor::{Tensor, TensorData};

use super::{Init, Kind, Loader, Weights};
use crate::bnb::{Nf4Tensor, saved};
use crate::error::Error;
use crate::gguf::quant::GgmlType;
use crate::model::lora::LoraLinear;
use crate::model::packed::ggml::GgmlWeight;
use crate::model::packed::half::HalfWeight;
use crate::model::packed::{Base, PackedWeight};
use crate::model::paths::{child, flavor_name, outside_backbone};
use crate::model::token_embedding::TokenEmbedding;
use crate::safetensors::Fix;

impl Loader<'_> {
    pub(super) fn layer(
        &mut self,
        path: &str,
        d_input: usize,
        d_output: usize,
        kind: Kind,
        bias: bool,
    ) -> Result<LoraLinear, Error> {
        let b = if bias { Some(self.tensor(&child(path, "bias"), [d_output], Init::Zeros)?) } else { None };
        let layer = if kind == Kind::Conv1d && self.base == Base::Nf4 {
            // transformers quantizes GPT-2's Conv1D as a linear layer: its `[in, out]` weight transposed to torch's
            // `[out, in]`, then cut into blocks.
            let named = flavor_name(self.flavor, &child(path, "weight"));
            let fresh = outside_backbone(&named);
            let (v, _) = self.named_values(&named, [d_input, d_output], Init::Normal(self.std), fresh)?;
            LoraLinear::packed(
                PackedWeight::nf4(Nf4Tensor::quantize(&transposed(&v, [d_input, d_output]), &[d_output, d_input])),
                b,
            )
        } else if kind == Kind::Conv1d {
            LoraLinear::new(self.tensor(&child(path, "weight"), [d_input, d_output], Init::Normal(self.std))?, b)
        } else {
            // torch's `[out, in]` laid out as burn's `[in, out]` here, on the host: a transposed view on the device
            // would be copied into order by the CPU backend's matmul at every forward pass (every weight, every step).
            let name = child(path, "weight");
            let named = flavor_name(self.flavor, &name);
            let fresh = name.starts_with("bert.pooler.") || outside_backbone(&named);
            // A 4-bit checkpoint (transformers + bitsandbytes, or `quantize`) keeps its blocks as they are.
            let saved = match &self.weights {
                Weights::Checkpoint(f) if self.overrides.is_none_or(|o| !o.contains_key(&named)) => {
                    let key = self.checkpoint_key(f, &named);
                    saved::is_saved_4bit(f, &key).then(|| saved::read(f, &key, "model.safetensors")).transpose()?
                }
                _ => None,
            };
            if let Some(q) = saved.as_ref().filter(|q| q.shape != [d_output, d_input]) {
                return Err(Error::invalid(
                    "model.safetensors",
                    format!(
                        "tensor {named} is {:?} in 4 bits, expected {:?} from config.json",
                        q.shape,
                        [d_output, d_input]
                    ),
                ));
            }
            match saved {
                Some(q) if matches!(self.base, Base::Nf4 | Base::AsStored) => {
                    LoraLinear::packed(PackedWeight::nf4(q), b)
                }
                Some(q) => LoraLinear::new(
                    Tensor::from_data(TensorData::new(q.dequantize_transposed(), [d_input, d_output]), &self.device),
                    b,
                ),
                None if kind == Kind::Linear || kind == Kind::Head => {
                    match self.stored_blocks(&named, [d_output, d_input])? {
                        Some(p) => LoraLinear::packed(p, b),
                        None => self.from_values(&named, d_input, d_output, kind, fresh, b)?,
                    }
                }
                None => self.from_values(&named, d_input, d_output, kind, fresh, b)?,
            }
        };
        self.attach_lora(layer, path, d_input, d_output)
    }

    /// A linear layer read as float32 values: kept so, quantized to NF4 (`Base::Nf4`) or held in float16
    /// (`Base::Float16`).
    fn from_values(
        &mut self,
        named: &str,
        d_input: usize,
        d_output: usize,
        kind: Kind,
        fresh: bool,
        b: Option<Tensor<1>>,
    ) -> Result<LoraLinear, Error> {
        let (v, _) = self.named_values(named, [d_output, d_input], Init::Normal(self.std), fresh)?;
        // A classifier's task layers outside the backbone (RoBERTa's `classifier.dense`, DistilBERT's
        // `pre_classifier`, ModernBERT's `head`) train with its head (PEFT's `modules_to_save`): they stay float, as
        // QLoRA for classification keeps them (`llm_int8_skip_modules`). A pooler is the backbone's, and frozen.
        if self.base == Base::Nf4 && kind == Kind::Linear && !outside_backbone(named) {
            return Ok(LoraLinear::packed(PackedWeight::nf4(Nf4Tensor::quantize(&v, &[d_output, d_input])), b));
        }
        if self.base == Base::Float16 && kind != Kind::Conv1d {
            return Ok(LoraLinear::packed(PackedWeight::half(HalfWeight::round(&v, [d_output, d_input])), b));
        }
        let t = transposed(&v, [d_output, d_input]);
        Ok(LoraLinear::new(Tensor::from_data(TensorData::new(t, [d_input, d_output]), &self.device), b))
    }

    /// The GGUF file's own blocks of `named` when the base is kept as stored and the file stores it quantized.
    fn stored_blocks(&self, named: &str, shape: [usize; 2]) -> Result<Option<PackedWeight>, Error> {
        if self.base != Base::AsStored {
            return Ok(None);
        }
        Ok(self.file_blocks(named, shape)?.map(PackedWeight::ggml))
    }

    /// `named` in the GGUF file's blocks, whatever the base, when the file stores it quantized (and no adapter
    /// replaces it); an error when it is not the `shape` (torch's `[out, in]`) the config gives.
    fn file_blocks(&self, named: &str, shape: [usize; 2]) -> Result<Option<GgmlWeight>, Error> {
        let (Weights::Checkpoint(f), Some(file)) = (&self.weights, &self.file) else {
            return Ok(None);
        };
        if self.overrides.is_some_and(|o| o.contains_key(named)) {
            return Ok(None);
        }
        let Some(e) = f.entries.get(&self.checkpoint_key(f, named)) else { return Ok(None) };
        let Some(kind) = GgmlType::from_name(&e.dtype).filter(|k| k.block_size() > 1) else { return Ok(None) };
        let unpermute = match e.fix {
            Fix::None => None,
            Fix::Unpermute(heads) => Some(heads),
            Fix::MinusOne => return Ok(None),
        };
        if e.shape != shape {
            return Err(Error::invalid(f.file(), format!("tensor {named} is {:?}, expected {shape:?}", e.shape)));
        }
        GgmlWeight::new(file.clone(), e.start..e.end, kind, shape, unpermute)
            .map(Some)
            .map_err(|m| Error::invalid(f.file(), format!("tensor {named}: {m}")))
    }

    /// The GGUF file the checkpoint is a view of: its quantized tensors can then stay in their blocks.
    pub fn with_file(mut self, file: Option<Arc<Vec<u8>>>) -> Self {
        self.file = file;
        self
    }

    /// A language model's `[n, d]` token table at `path`: the shared one (`with_embedding`), else the file's
    /// blocks on the *as stored* base, else `embedding`'s (packed in float16 on the float16 base).
    pub fn token_embedding(&mut self, path: &str, n: usize, d: usize) -> Result<TokenEmbedding, Error> {
        if let Some(shared) = self.embedding.take() {
            if shared.dims() != [n, d] {
                return Err(Error::invalid(
                    path,
                    format!("the shared table is {:?}, expected {:?}", shared.dims(), [n, d]),
                ));
            }
            return Ok(match (shared.weight, shared.packed) {
                (Some(w), _) => {
                    let t = w.val();
                    TokenEmbedding::float(if self.device.is_autodiff() {
                        Tensor::from_inner(t.inner())
                    } else {
                        t.inner()
                    })
                }
                (None, p) => TokenEmbedding::packed(p.expect("a float or packed table")),
            });
        }
        let named = flavor_name(self.flavor, &child(path, "weight"));
        if let Some(p) = self.stored_blocks(&named, [n, d])? {
            return Ok(TokenEmbedding::packed(p));
        }
        if self.base == Base::Float16 {
            // A GGUF file's table is rounded a slice of rows at a time: widened whole first, Gemma 3's would be a
            // 671 MB float32 copy at load, and a tab's memory never shrinks back.
            let half = match self.file_blocks(&named, [n, d])? {
                Some(blocks) => HalfWeight::from_rows(&blocks),
                // From the host values: a tensor read back would be a wait on WebGPU.
                _ => HalfWeight::round(&self.named_values(&named, [n, d], Init::Normal(self.std), false)?.0, [n, d]),
            };
            return Ok(TokenEmbedding::packed(PackedWeight::half(half)));
        }
        Ok(TokenEmbedding::float(self.embedding(path, n, d)?.weight.val()))
    }
}

/// A row-major `[rows, cols]` matrix's values as `[cols, rows]`: torch's `[out, in]` as burn's `[in, out]`, or GPT-2's
/// Conv1D `[in, out]` as the `[out, in]` that transformers quantizes.
fn transposed(v: &[f32], [rows, cols]: [usize; 2]) -> Vec<f32> {
    let mut t = vec![0.0; v.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = v[r * cols + c];
        }
    }
    t
}
