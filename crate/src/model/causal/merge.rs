//! A language model's LoRA adapter folded into its weights (PEFT's `merge_and_unload`): every adapted layer becomes
//! one matrix again, as fast as the base, and the model's tensors are written as transformers saves a model
//! (`model.safetensors` in torch's layout, the tied head left out as transformers leaves it out).

use burn::module::Param;
use burn::tensor::Tensor;

use super::model::AutoModelForCausalLM;
use crate::accounting::arch::flavor::Flavor;
use crate::bnb::Nf4Tensor;
use crate::bnb::saved::{self, Saved};
use crate::error::Error;
use crate::model::lora::LoraLinear;
use crate::model::packed::PackedWeight;
use crate::model::walk::{VisitParam, visit_named};
use crate::readback::read_floats;
use crate::safetensors::{Raw, write};

impl AutoModelForCausalLM {
    /// Every LoRA layer merged into its weight (`W + scaling B A`); layers without LoRA are left as they are.
    pub fn merge(mut self) -> Self {
        for layer in self.model.layers.iter_mut() {
            for l in layer.linears_mut() {
                *l = l.clone().merge();
            }
        }
        self
    }

    /// Every LoRA layer merged as PEFT merges into a 4-bit base (`bnb.Linear4bit.merge`): the base dequantized,
    /// the update added, the sum quantized to NF4 again. Layers on a float base merge as `merge` does. The second
    /// rounding is the drift PEFT users see after merging a QLoRA adapter.
    pub async fn merge_requantized(mut self) -> Result<Self, Error> {
        for layer in self.model.layers.iter_mut() {
            for l in layer.linears_mut() {
                *l = requantize(l.clone()).await?;
            }
        }
        Ok(self)
    }
}

async fn requantize(layer: LoraLinear) -> Result<LoraLinear, Error> {
    // Only NF4 is quantized again: a GGUF file's blocks (the *as stored* base) merge in float, as transformers
    // widens them.
    let (Some(packed), Some(lora)) = (layer.packed.as_ref().filter(|p| p.nf4_tensor().is_some()), &layer.lora) else {
        return Ok(layer.merge());
    };
    let (d_in, d_out) = (packed.d_input(), packed.d_output());
    // `delta_weight` is burn's `[in, out]`; the packed weight is torch's `[out, in]`.
    let delta = read_floats(lora.delta_weight().transpose().reshape([d_in * d_out])).await?;
    let sum: Vec<f32> = packed.dequantize().iter().zip(&delta).map(|(w, d)| w + d).collect();
    let bias = layer.bias.map(|b| b.val());
    Ok(LoraLinear::packed(PackedWeight::nf4(Nf4Tensor::quantize(&sum, &[d_out, d_in])), bias))
}

/// `model.safetensors` as transformers writes this model: every parameter by its Hugging Face name, linear weights
/// back in torch's `[out, in]` (burn keeps `[in, out]`), sorted by name.
pub async fn model_safetensors(model: &AutoModelForCausalLM, flavor: Flavor) -> Result<Vec<u8>, Error> {
    struct Collect(Vec<(String, Vec<usize>, Tensor<1>)>);
    impl VisitParam for Collect {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            let t = param.val();
            let dims = t.dims().to_vec();
            let n: usize = dims.iter().product();
            // Linear layers are stored `[in, out]` here; the embedding table is `[vocab, hidden]` in both.
            let (t, shape) = if D == 2 && name != "model.embed_tokens.weight" {
                (t.reshape([dims[0], dims[1]]).transpose().reshape([n]), vec![dims[1], dims[0]])
            } else {
                (t.reshape([n]), dims)
            };
            self.0.push((name.to_string(), shape, t));
        }
    }
    let mut c = Collect(Vec::new());
    visit_named(model, flavor, &mut c);
    if c.0.iter().any(|(n, _, _)| n.contains(".lora_")) {
        return Err(Error::internal("merge", "a LoRA layer is left unmerged"));
    }
    let mut tensors = Vec::with_capacity(c.0.len());
    for (name, shape, t) in c.0 {
        tensors.push(Saved::F32(name, shape, read_floats(t).await?));
    }
    // A 4-bit base's layers as transformers + bitsandbytes save them; float16 and GGUF blocks (table, head) widened.
    let mut packed: Vec<(String, &LoraLinear)> = model.linear_layers();
    if let Some(head) = &model.lm_head {
        packed.push(("lm_head".into(), head));
    }
    if let Some(p) = &model.model.embed_tokens.packed {
        tensors.push(Saved::F32("model.embed_tokens.weight".into(), vec![p.d_output(), p.d_input()], p.dequantize()));
    }
    for (name, l) in packed {
        match l.packed.as_ref().map(|p| (p, p.nf4_tensor())) {
            Some((_, Some(q))) => tensors.extend(saved::tensors(&format!("{name}.weight"), q)),
            // GGUF blocks are written widened, as transformers saves a model it read from GGUF.
            Some((p, None)) => {
                tensors.push(Saved::F32(format!("{name}.weight"), vec![p.d_output(), p.d_input()], p.dequantize()))
            }
            None => {}
        }
    }
    let raw: Vec<Raw> = tensors.iter().map(Saved::raw).collect();
    Ok(write(&raw))
}
