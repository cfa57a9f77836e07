//! One base model, many adapters: lays an adapter's tensors over a base model that is already on the device.
//! burn tensors are reference-counted handles, so the grafted model shares every tensor the adapter does not
//! replace with the base (cloning a module copies no data): N adapters cost one base plus N adapters, which is
//! how LoRA is served (and what the page's adapter panel shows).

use std::collections::BTreeSet;

use burn::module::Param;
use burn::tensor::{Tensor, TensorData};

use super::auto::AutoModelForSequenceClassification;
use super::export::is_linear_weight;
use super::load::Overrides;
use super::lora::LoraLinearConfig;
use super::paths::{child, is_head};
use super::walk::{MapParam, map_params, try_map_linears};
use crate::error::Error;

/// `base` with LoRA on `modules` (A and B from `tensors`, scaled as `config` says) and every other tensor `tensors`
/// names (biases, LayerNorms, the classifier) replaced. The classifier may have another number of labels than
/// the base's; every other tensor must have the base's shape. `file` names the adapter's weights in errors.
pub fn graft(
    base: &AutoModelForSequenceClassification,
    modules: &[String],
    config: LoraLinearConfig,
    tensors: &Overrides,
    file: &str,
) -> Result<AutoModelForSequenceClassification, Error> {
    let bad = |m: String| Error::invalid(file, m);
    // Inference only: no dropout on the LoRA path.
    let config = config.with_dropout(0.0);
    let model = try_map_linears(base.clone(), |name, l| {
        if !modules.iter().any(|m| m == name) {
            return Ok::<_, Error>(l);
        }
        let (d_in, d_out) = (l.in_features(), l.out_features());
        let device = l
            .bias
            .as_ref()
            .map(|b| b.val().device())
            .or_else(|| l.weight.as_ref().map(|w| w.val().device()))
            .or_else(|| l.lora.as_ref().map(|a| a.lora_a.val().device()))
            .expect("a layer has a tensor");
        let matrix = |which: &str, want: [usize; 2]| -> Result<Tensor<2>, Error> {
            let key = child(name, which);
            let (values, got) =
                tensors.get(&key).ok_or_else(|| bad(format!("has no {key}, which adapter_config.json targets")))?;
            if got[..] != want[..] {
                return Err(bad(format!(
                    "tensor {key} has shape {got:?}, expected {want:?} for this base model and r={} \
                     (an adapter for another base model, or for another r?)",
                    config.r
                )));
            }
            Ok(Tensor::from_data(TensorData::new(values.clone(), want), &device))
        };
        let mut lora = config.init_with(matrix("lora_a", [config.r, d_in])?, matrix("lora_b", [d_out, config.r])?);
        // Served, not trained.
        lora.lora_a = lora.lora_a.set_require_grad(false);
        lora.lora_b = lora.lora_b.set_require_grad(false);
        Ok(l.with_lora(lora))
    })?;

    let mut mapper = Replace { tensors, used: BTreeSet::new(), error: None, file };
    let model = map_params(model, &mut mapper);
    if let Some(e) = mapper.error {
        return Err(e);
    }
    let placed: BTreeSet<String> = modules.iter().flat_map(|m| [child(m, "lora_a"), child(m, "lora_b")]).collect();
    if let Some(key) = tensors.keys().find(|k| !mapper.used.contains(*k) && !placed.contains(*k)) {
        return Err(bad(format!("{key}: this base model has no such tensor (an adapter for another architecture?)")));
    }
    Ok(model)
}

/// Replaces every float parameter whose Hugging Face name is in `tensors`.
struct Replace<'a> {
    tensors: &'a Overrides,
    used: BTreeSet<String>,
    error: Option<Error>,
    file: &'a str,
}

impl MapParam for Replace<'_> {
    fn map<const D: usize>(&mut self, name: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some((values, shape)) = self.tensors.get(name).filter(|_| !name.contains(".lora_")) else { return param };
        let current = param.val();
        // Torch layout (`[out, in]` for a linear weight) is what files hold.
        let mut want = current.dims().to_vec();
        let linear = is_linear_weight(name, D);
        if linear {
            want.reverse();
        }
        // The head may be for another number of labels; the rest must fit the base exactly.
        let fits = shape.len() == D && (shape == &want || (is_head(name) && (D == 1 || shape[D - 1] == want[D - 1])));
        if !fits {
            self.error.get_or_insert_with(|| {
                Error::invalid(
                    self.file,
                    format!(
                        "tensor {name} has shape {shape:?}, expected {want:?} for this base model (another base model?)"
                    ),
                )
            });
            return param;
        }
        self.used.insert(name.to_string());
        let t: Tensor<D> = Tensor::from_data(TensorData::new(values.clone(), shape.clone()), &current.device());
        param.map(|_| if linear { t.transpose() } else { t })
    }
}
