//! What a trained model is saved as, in the formats people deploy: a PEFT adapter folder
//! (`adapter_config.json` + `adapter_model.safetensors`, as `PeftModel.save_pretrained` writes it) for LoRA, a
//! transformers model folder (`config.json` + `model.safetensors`) for full fine-tuning, and only the trained
//! tensors for head-only and BitFit. Reading an adapter back maps PEFT's names to the model's (`Overrides`).

use std::collections::{BTreeMap, BTreeSet};

use burn::module::Param;
use burn::tensor::Tensor;
use serde_json::{Value, json};

use super::auto::AutoModelForSequenceClassification;
use super::config::EncoderConfig;
use super::load::Overrides;
use super::methods::architecture;
use super::paths::{head_weight, is_conv1d, is_embedding_weight};
use super::walk::{VisitParam, visit_params};
use crate::accounting::checkpoint::{AdapterDtypes, Dtype, adapter_tensors};
use crate::accounting::inject::inject;
use crate::accounting::lora_config::{Bias, LoraConfig, TargetModules};
use crate::error::Error;
use crate::safetensors::{SafeTensors, write_f32};

/// PEFT's key prefix inside `adapter_model.safetensors`.
pub const PEFT_PREFIX: &str = "base_model.model.";

/// A parameter as the files have it: its Hugging Face name, its values flattened in torch layout (not yet read
/// back from the device), its shape, and whether it trains.
pub struct TorchParam {
    pub name: String,
    pub values: Tensor<1>,
    pub shape: Vec<usize>,
    pub trains: bool,
}

/// Whether a parameter is a linear layer's weight, which LoraLinear keeps as `[in, out]` while torch (and every
/// file format here) keeps `[out, in]`. Embeddings, LoRA matrices and GPT-2's Conv1D weights (`[in, out]` in torch too)
/// are not.
pub fn is_linear_weight(name: &str, rank: usize) -> bool {
    rank == 2
        && !name.contains(".lora_")
        && !is_embedding_weight(name)
        && name.strip_suffix(".weight").is_some_and(|module| !is_conv1d(module))
}

/// Every float parameter in torch layout (`[out, in]` linear weights). Reading the values is left to the caller:
/// synchronously natively (`named_tensors`), asynchronously in a browser (`train::job::trainable_tensors`).
pub fn torch_params(model: &AutoModelForSequenceClassification) -> Vec<TorchParam> {
    struct Collect(Vec<TorchParam>);
    impl VisitParam for Collect {
        fn visit<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) {
            let mut t = param.val();
            let mut shape = t.dims().to_vec();
            if is_linear_weight(name, D) {
                t = t.transpose();
                shape.reverse();
            }
            let n: usize = shape.iter().product();
            self.0.push(TorchParam {
                name: name.to_string(),
                values: t.reshape([n]),
                shape,
                trains: param.is_require_grad(),
            });
        }
    }
    let mut c = Collect(Vec::new());
    visit_params(model, &mut c);
    c.0
}

/// Parameters read back to the host, by Hugging Face name: values in torch layout, shape, whether it trains.
pub type NamedTensors = BTreeMap<String, (Vec<f32>, Vec<usize>, bool)>;

/// Every float parameter by Hugging Face name, in torch layout, with whether it trains. Reads tensors back
/// synchronously, so it is for native code (`train::session::read_named_tensors` is the async reader).
pub fn named_tensors(model: &AutoModelForSequenceClassification) -> NamedTensors {
    torch_params(model)
        .into_iter()
        .map(|p| {
            let values =
                p.values.into_data().convert::<f32>().try_to_vec::<f32>().expect("float parameters read as f32");
            (p.name, (values, p.shape, p.trains))
        })
        .collect()
}

/// The files of a PEFT LoRA adapter for this model: `adapter_model.safetensors` with exactly the tensors (names,
/// shapes, order) PEFT saves, so its size is the calculator's `adapter_tensors` prediction to the byte.
pub fn peft_adapter(
    tensors: &NamedTensors,
    config: &EncoderConfig,
    lora: &LoraConfig,
    lora_dropout: f64,
    base_model: &str,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let num_labels = tensors
        .get(&head_weight(config.flavor))
        .map(|t| t.1[0])
        .ok_or_else(|| Error::invalid("adapter", "the model has no classifier"))?;
    let arch = architecture(config, num_labels)?;
    let injection = inject(&arch, lora)?;
    let entries = adapter_tensors(&arch, lora, &injection, AdapterDtypes { lora: Dtype::F32, base: Dtype::F32 });
    let mut out = Vec::with_capacity(entries.len());
    for e in &entries {
        let key = e.name.clone();
        let (values, shape) = match peft_to_model_name(&key) {
            PeftKey::Model(name) => {
                let (v, s, _) = tensors
                    .get(&name)
                    .ok_or_else(|| Error::invalid("adapter", format!("model has no {name} for {key}")))?;
                (v.clone(), s.clone())
            }
            // PEFT keeps the head's untouched original; ours started as a fresh head with zero bias.
            PeftKey::OriginalHead => (vec![0.0; e.elements() as usize], e.shape.iter().map(|&d| d as usize).collect()),
        };
        out.push((key, shape, values));
    }
    let modules: BTreeSet<String> = injection
        .lora
        .iter()
        .map(|&i| arch.modules[i].name.rsplit('.').next().unwrap_or_default().to_string())
        .collect();
    // PEFT sets fan_in_fan_out itself when a target is GPT-2's Conv1D, and saves it so.
    let conv1d = injection.lora.iter().any(|&i| is_conv1d(&arch.modules[i].name));
    let mut adapter_config = adapter_config_json(lora, lora_dropout, base_model, &modules);
    adapter_config["fan_in_fan_out"] = json!(conv1d);
    Ok(vec![
        (
            "adapter_config.json".into(),
            (serde_json::to_string_pretty(&adapter_config).expect("json") + "\n").into_bytes(),
        ),
        ("adapter_model.safetensors".into(), write_f32(&out)),
    ])
}

/// `adapter_config.json` as PEFT writes it for a sequence-classification LoRA (PEFT 0.17 field set).
pub fn adapter_config_json(
    lora: &LoraConfig,
    lora_dropout: f64,
    base_model: &str,
    targets: &BTreeSet<String>,
) -> Value {
    // PEFT saves the names as the user gave them (a set), and `all-linear` expanded to the matched modules' names.
    let target_modules: Value = match &lora.target_modules {
        Some(TargetModules::Names(names)) => json!(names.iter().collect::<BTreeSet<_>>()),
        _ => json!(targets.iter().collect::<Vec<_>>()),
    };
    json!({
        "alpha_pattern": {},
        "auto_mapping": null,
        "base_model_name_or_path": base_model,
        "bias": lora.bias, // serialized as PEFT writes it: none, all, lora_only
        "fan_in_fan_out": false,
        "inference_mode": true,
        "init_lora_weights": true,
        "layers_pattern": null,
        "layers_to_transform": lora.layers_to_transform,
        "lora_alpha": lora.lora_alpha,
        "lora_dropout": lora_dropout,
        "modules_to_save": ["classifier", "score"],
        "peft_type": "LORA",
        "r": lora.r,
        "rank_pattern": {},
        "revision": null,
        "target_modules": target_modules,
        "task_type": "SEQ_CLS",
        "use_dora": false,
        "use_rslora": lora.use_rslora,
    })
}

/// What a key of `adapter_model.safetensors` holds.
#[derive(Debug, PartialEq, Eq)]
pub enum PeftKey {
    /// A tensor of the model, by its Hugging Face name.
    Model(String),
    /// `classifier.original_module.*`: PEFT's frozen copy of the head as it was before training.
    OriginalHead,
}

/// `base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight` ->
/// `bert.encoder.layer.0.attention.self.query.lora_A.weight`; `...query.base_layer.bias` -> `...query.bias`;
/// `classifier.modules_to_save.bias` -> `classifier.bias`.
pub fn peft_to_model_name(key: &str) -> PeftKey {
    let name = key.strip_prefix(PEFT_PREFIX).unwrap_or(key);
    if name.contains(".original_module.") {
        return PeftKey::OriginalHead;
    }
    let name = name
        .replace(".base_layer.", ".")
        .replace(".modules_to_save.default.", ".")
        .replace(".modules_to_save.", ".")
        .replace(".lora_A.default.", ".lora_A.")
        .replace(".lora_B.default.", ".lora_B.");
    PeftKey::Model(name)
}

/// The LoRA settings an `adapter_config.json` holds (what shapes the model), with `lora_dropout`.
pub fn read_adapter_config(text: &str) -> Result<(LoraConfig, f64), Error> {
    let v: Value = serde_json::from_str(text).map_err(|e| Error::json("adapter_config.json", &e))?;
    let field = |k: &str| v.get(k).filter(|x| !x.is_null());
    if let Some(t) = field("peft_type").and_then(Value::as_str) {
        if t != "LORA" {
            return Err(Error::invalid(
                "adapter_config.json",
                format!("peft_type is {t}; only LORA adapters load here"),
            ));
        }
    }
    // Fields that change what the adapter computes (or where it sits) and that this encoder does not implement:
    // refusing them is better than predicting something PEFT would not.
    // (`fan_in_fan_out` is not among them: PEFT sets it per layer, true for a Conv1D and false for a Linear, and
    // the adapter computes the same either way.)
    for unsupported in ["use_dora", "lora_bias", "use_qalora", "use_bdlora"] {
        if field(unsupported).and_then(Value::as_bool) == Some(true) {
            return Err(Error::invalid("adapter_config.json", format!("{unsupported} is true: not supported here")));
        }
    }
    for unsupported in [
        "exclude_modules",
        "layer_replication",
        "trainable_token_indices",
        "target_parameters",
        "alora_invocation_tokens",
    ] {
        let set = field(unsupported)
            .is_some_and(|v| !(v.as_array().is_some_and(Vec::is_empty) || v.as_object().is_some_and(|m| m.is_empty())));
        if set {
            return Err(Error::invalid("adapter_config.json", format!("{unsupported} is set: not supported here")));
        }
    }
    for pattern in ["rank_pattern", "alpha_pattern"] {
        if field(pattern).and_then(Value::as_object).is_some_and(|m| !m.is_empty()) {
            return Err(Error::invalid(
                "adapter_config.json",
                format!("{pattern} is set: per-module ranks are not supported"),
            ));
        }
    }
    let r = field("r")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::invalid("adapter_config.json", "r is missing or not a positive integer"))?;
    let lora_alpha = field("lora_alpha").and_then(Value::as_f64).unwrap_or(8.0);
    let target_modules = match field("target_modules") {
        Some(Value::String(s)) => Some(TargetModules::parse_list(s)),
        Some(Value::Array(a)) => {
            Some(TargetModules::Names(a.iter().filter_map(|x| x.as_str().map(String::from)).collect()))
        }
        _ => return Err(Error::invalid("adapter_config.json", "target_modules is missing")),
    };
    let bias = Bias::parse(field("bias").and_then(Value::as_str).unwrap_or("none"))?;
    let layers_to_transform = match field("layers_to_transform") {
        Some(Value::Number(n)) => Some(vec![n.as_u64().unwrap_or(0) as usize]),
        Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_u64).map(|n| n as usize).collect()),
        _ => None,
    };
    let lora = LoraConfig {
        r,
        lora_alpha,
        use_rslora: field("use_rslora").and_then(Value::as_bool).unwrap_or(false),
        target_modules,
        layers_to_transform,
        bias,
    };
    lora.validate()?;
    Ok((lora, field("lora_dropout").and_then(Value::as_f64).unwrap_or(0.0)))
}

/// An `adapter_model.safetensors` (PEFT names) as overrides for `load::build_with`.
pub fn read_peft_weights(file: &SafeTensors<'_>) -> Result<Overrides, Error> {
    let mut out = Overrides::new();
    // With bias="all" PEFT saves the head's bias twice (`classifier.bias` and `classifier.modules_to_save.bias`);
    // the `modules_to_save` copy is the one its forward uses, so it is read last and wins.
    let (saved_copies, rest): (Vec<&String>, Vec<&String>) =
        file.entries.keys().partition(|k| k.contains(".modules_to_save."));
    for key in rest.into_iter().chain(saved_copies) {
        if let PeftKey::Model(name) = peft_to_model_name(key) {
            out.insert(name, file.f32(key)?);
        }
    }
    Ok(out)
}

/// Any safetensors file with model names (`model.safetensors`, `trained.safetensors`) as overrides.
pub fn read_model_weights(file: &SafeTensors<'_>) -> Result<Overrides, Error> {
    file.entries.keys().map(|k| Ok((k.clone(), file.f32(k)?))).collect()
}

/// The trained tensors only (head-only and BitFit), with model names.
pub fn trained_tensors(tensors: &NamedTensors) -> Vec<u8> {
    let t: Vec<(&str, &[usize], &[f32])> =
        tensors.iter().filter(|(_, v)| v.2).map(|(k, (v, s, _))| (k.as_str(), s.as_slice(), v.as_slice())).collect();
    write_f32(&t)
}

/// A whole `BertForSequenceClassification` (`RobertaForSequenceClassification`) as transformers saves it (full fine-tuning; a merged adapter): every
/// tensor but LoRA's.
pub fn model_safetensors(tensors: &NamedTensors) -> Vec<u8> {
    let t: Vec<(&str, &[usize], &[f32])> = tensors
        .iter()
        .filter(|(k, _)| !k.contains(".lora_"))
        .map(|(k, (v, s, _))| (k.as_str(), s.as_slice(), v.as_slice()))
        .collect();
    write_f32(&t)
}

/// `config.json` for the fine-tuned classifier: the base config plus the labels and the task architecture.
pub fn classifier_config_json(base_config_json: &str, labels: &[String]) -> Result<String, Error> {
    let mut v: Value = serde_json::from_str(base_config_json).map_err(|e| Error::json("config.json", &e))?;
    let id2label: serde_json::Map<String, Value> =
        labels.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
    let label2id: serde_json::Map<String, Value> =
        labels.iter().enumerate().map(|(i, l)| (l.clone(), json!(i))).collect();
    // The task class of the base's model_type (`RobertaForSequenceClassification` for roberta), as transformers saves it.
    let architecture = match v["model_type"].as_str() {
        Some("roberta") => "RobertaForSequenceClassification",
        Some("distilbert") => "DistilBertForSequenceClassification",
        Some("gpt2") => "GPT2ForSequenceClassification",
        _ => "BertForSequenceClassification",
    };
    v["architectures"] = json!([architecture]);
    // GPT-2 has no padding token; the classifier read its rows' last token by the one it trained with (eos).
    if v["model_type"] == "gpt2" && v["pad_token_id"].is_null() {
        v["pad_token_id"] = v["eos_token_id"].as_u64().map_or(json!(50256), |e| json!(e));
    }
    v["id2label"] = Value::Object(id2label);
    v["label2id"] = Value::Object(label2id);
    Ok(serde_json::to_string_pretty(&v).expect("json") + "\n")
}
