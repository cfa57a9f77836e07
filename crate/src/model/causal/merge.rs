//! A language model's LoRA adapter folded into its weights (PEFT's `merge_and_unload`): every adapted layer becomes
//! one matrix again, as fast as the base, and the model's tensors are written as transformers saves a model
//! (`model.safetensors` in torch's layout, the tied head left out as transformers leaves it out).

use burn::module::Param;
use burn::tensor::Tensor;

use super::model::AutoModelForCausalLM;
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;
use crate::model::walk::{VisitParam, visit_named};
use crate::readback::read_floats;
use crate::safetensors::write_f32;

impl AutoModelForCausalLM {
    /// Every LoRA layer merged into its weight (`W + scaling B A`); layers without LoRA are left as they are.
    pub fn merge(mut self) -> Self {
        for layer in self.model.layers.iter_mut() {
            let a = &mut layer.self_attn;
            for l in [&mut a.q_proj, &mut a.k_proj, &mut a.v_proj, &mut a.o_proj] {
                *l = l.clone().merge();
            }
            let m = &mut layer.mlp;
            for l in [&mut m.gate_proj, &mut m.up_proj, &mut m.down_proj] {
                *l = l.clone().merge();
            }
        }
        self
    }
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
        tensors.push((name, shape, read_floats(t).await?));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(write_f32(&tensors))
}
