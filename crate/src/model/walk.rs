//! The walks over a model that hand each parameter (or linear layer) its Hugging Face name (`paths`). burn's
//! visitors see one field name at a time and its mappers reach parameters only; merging or grafting replaces a
//! whole layer, so that walk is written out per architecture.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use super::auto::AutoModelForSequenceClassification;
use super::bert::BertForSequenceClassification;
use super::gpt2::Gpt2ForSequenceClassification;
use super::lora::LoraLinear;
use super::modernbert::ModernBertForSequenceClassification;
use super::paths::{child, flavor_name, hf_name};
use crate::accounting::arch::flavor::Flavor;

/// Looks at every float parameter with its Hugging Face name (see `visit_params`).
pub trait VisitParam {
    fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>);
}

/// Replaces every float parameter, given its Hugging Face name (see `map_params`).
pub trait MapParam {
    fn map<const D: usize>(&mut self, name: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>>;
}

/// burn's visitors see one field name at a time; this keeps the path down to the current parameter.
struct Named<T> {
    flavor: Flavor,
    path: Vec<String>,
    inner: T,
}

impl<T> Named<T> {
    fn name(&self) -> String {
        flavor_name(self.flavor, &hf_name(&self.path.join(".")))
    }
}

/// An enum's variant (`AutoModelForSequenceClassification::Bert`) is a level burn's walk enters but no name has.
fn named_level(container: &str) -> bool {
    !container.starts_with("Enum:")
}

impl<V: VisitParam> ModuleVisitor for Named<&mut V> {
    fn enter_module(&mut self, name: &str, container: &str) {
        if named_level(container) {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, container: &str) {
        if named_level(container) {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = self.name();
        self.inner.visit(&name, param);
    }
}

impl<M: MapParam> ModuleMapper for Named<&mut M> {
    fn enter_module(&mut self, name: &str, container: &str) {
        if named_level(container) {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, container: &str) {
        if named_level(container) {
            self.path.pop();
        }
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.name();
        self.inner.map(&name, param)
    }
}

/// Every float parameter of `model` through `visitor`, in the module's order, with its Hugging Face name.
pub fn visit_params(model: &AutoModelForSequenceClassification, visitor: &mut impl VisitParam) {
    visit_named(model, model.flavor(), visitor);
}

/// `visit_params` for any model whose fields are named as `flavor`'s checkpoints (the language models too).
pub fn visit_named<M: Module>(model: &M, flavor: Flavor, visitor: &mut impl VisitParam) {
    model.visit(&mut Named { flavor, path: Vec::new(), inner: visitor });
}

/// `map_params` for any model whose fields are named as `flavor`'s checkpoints (the language models too).
pub fn map_named<M: Module>(model: M, flavor: Flavor, mapper: &mut impl MapParam) -> M {
    model.map(&mut Named { flavor, path: Vec::new(), inner: mapper })
}

/// Every float parameter of `model` through `mapper`, with its Hugging Face name.
pub fn map_params(
    model: AutoModelForSequenceClassification,
    mapper: &mut impl MapParam,
) -> AutoModelForSequenceClassification {
    let flavor = model.flavor();
    model.map(&mut Named { flavor, path: Vec::new(), inner: mapper })
}

/// Every linear layer of the backbone (not the head's last layer) through `f`, with its Hugging Face module name
/// (`bert.encoder.layer.0.attention.self.query`, `bert.pooler.dense`; for RoBERTa `roberta.encoder...` and
/// `classifier.dense`, the head's first layer, which PEFT's targets never reach; GPT-2's Conv1D
/// `transformer.h.0.attn.c_attn`); stops at the first error. burn's mappers reach parameters only, and merging or
/// grafting replaces a whole layer, so this walk is written out.
pub fn try_map_linears<E>(
    model: AutoModelForSequenceClassification,
    g: impl FnMut(&str, LoraLinear) -> Result<LoraLinear, E>,
) -> Result<AutoModelForSequenceClassification, E> {
    Ok(match model {
        AutoModelForSequenceClassification::Bert(m) => AutoModelForSequenceClassification::Bert(bert_linears(m, g)?),
        AutoModelForSequenceClassification::Gpt2(m) => AutoModelForSequenceClassification::Gpt2(gpt2_linears(m, g)?),
        AutoModelForSequenceClassification::ModernBert(m) => {
            AutoModelForSequenceClassification::ModernBert(modernbert_linears(m, g)?)
        }
    })
}

/// Each of `layers` through `each` (its index, the layer), in order; stops at the first error.
fn map_layers<L, E>(layers: &mut Vec<L>, mut each: impl FnMut(usize, L) -> Result<L, E>) -> Result<(), E> {
    *layers = std::mem::take(layers).into_iter().enumerate().map(|(n, l)| each(n, l)).collect::<Result<_, _>>()?;
    Ok(())
}

fn bert_linears<E>(
    mut model: BertForSequenceClassification,
    mut g: impl FnMut(&str, LoraLinear) -> Result<LoraLinear, E>,
) -> Result<BertForSequenceClassification, E> {
    let flavor = model.flavor;
    let mut f = |name: &str, l: LoraLinear| g(&flavor_name(flavor, name), l);
    let bert = child("", "bert");
    let layers = child(&child(&bert, "encoder"), "layer");
    map_layers(&mut model.bert.encoder.layer, |n, mut l| {
        let layer = child(&layers, &n.to_string());
        let attention = child(&layer, "attention");
        let s = child(&attention, "self_attention");
        let a = &mut l.attention.self_attention;
        a.query = f(&child(&s, "query"), a.query.clone())?;
        a.key = f(&child(&s, "key"), a.key.clone())?;
        a.value = f(&child(&s, "value"), a.value.clone())?;
        let out = &mut l.attention.output;
        out.dense = f(&child(&child(&attention, "output"), "dense"), out.dense.clone())?;
        l.intermediate.dense = f(&child(&child(&layer, "intermediate"), "dense"), l.intermediate.dense.clone())?;
        l.output.dense = f(&child(&child(&layer, "output"), "dense"), l.output.dense.clone())?;
        Ok(l)
    })?;
    model.bert.pooler.dense = f(&child(&child(&bert, "pooler"), "dense"), model.bert.pooler.dense)?;
    Ok(model)
}

fn gpt2_linears<E>(
    mut model: Gpt2ForSequenceClassification,
    mut f: impl FnMut(&str, LoraLinear) -> Result<LoraLinear, E>,
) -> Result<Gpt2ForSequenceClassification, E> {
    map_layers(&mut model.transformer.h, |n, mut b| {
        let (attn, mlp) = (format!("transformer.h.{n}.attn"), format!("transformer.h.{n}.mlp"));
        b.attn.c_attn = f(&child(&attn, "c_attn"), b.attn.c_attn)?;
        b.attn.c_proj = f(&child(&attn, "c_proj"), b.attn.c_proj)?;
        b.mlp.c_fc = f(&child(&mlp, "c_fc"), b.mlp.c_fc)?;
        b.mlp.c_proj = f(&child(&mlp, "c_proj"), b.mlp.c_proj)?;
        Ok(b)
    })?;
    Ok(model)
}

fn modernbert_linears<E>(
    mut model: ModernBertForSequenceClassification,
    mut f: impl FnMut(&str, LoraLinear) -> Result<LoraLinear, E>,
) -> Result<ModernBertForSequenceClassification, E> {
    map_layers(&mut model.model.layers, |n, mut l| {
        let (attn, mlp) = (format!("model.layers.{n}.attn"), format!("model.layers.{n}.mlp"));
        l.attn.Wqkv = f(&child(&attn, "Wqkv"), l.attn.Wqkv)?;
        l.attn.Wo = f(&child(&attn, "Wo"), l.attn.Wo)?;
        l.mlp.Wi = f(&child(&mlp, "Wi"), l.mlp.Wi)?;
        l.mlp.Wo = f(&child(&mlp, "Wo"), l.mlp.Wo)?;
        Ok(l)
    })?;
    // The prediction head's dense layer is outside `modules_to_save` (only `classifier` is): LoRA can reach it.
    model.head.dense = f("head.dense", model.head.dense)?;
    Ok(model)
}

/// `try_map_linears` for a map that cannot fail.
pub fn map_linears(
    model: AutoModelForSequenceClassification,
    mut f: impl FnMut(&str, LoraLinear) -> LoraLinear,
) -> AutoModelForSequenceClassification {
    try_map_linears(model, |name, l| Ok::<_, std::convert::Infallible>(f(name, l))).unwrap_or_else(|e| match e {})
}

impl AutoModelForSequenceClassification {
    /// Every adapter folded into its weight (PEFT's `merge_and_unload`); the model has no LoRA path after.
    pub fn merge(self) -> Self {
        map_linears(self, |_, l| l.merge())
    }
}
