//! Where a tensor is in a checkpoint file: task models keep the backbone under its module (`bert.`, `roberta.`,
//! `distilbert.`, GPT-2's `transformer.`, ModernBERT's `model.`), bare backbones at the root, and old
//! TF-converted BERTs name LayerNorm parameters gamma/beta.

use super::paths::{backbone, head_weight};
use crate::accounting::arch::flavor::Flavor;
use crate::error::Error;
use crate::safetensors::SafeTensors;

/// The checkpoint's prefix for backbone keys: `"bert."` (`"roberta."`, `"distilbert."`, GPT-2's `"transformer."`)
/// for a task model's file, `""` for a bare backbone's; an error for a file with no token embeddings under either
/// (not a checkpoint of this architecture).
pub fn checkpoint_prefix(file: &SafeTensors<'_>, flavor: Flavor) -> Result<String, Error> {
    let (own, embeddings) = backbone(flavor);
    if file.contains(&format!("{own}.{embeddings}")) {
        Ok(format!("{own}."))
    } else if file.contains(embeddings) {
        Ok(String::new())
    } else {
        let kind = match flavor {
            Flavor::Bert => "BERT",
            Flavor::Roberta => "RoBERTa",
            Flavor::Distilbert => "DistilBERT",
            Flavor::Gpt2 => "GPT-2",
            Flavor::ModernBert => "ModernBERT",
            Flavor::Llama => "Llama",
            Flavor::Qwen2 => "Qwen2",
            Flavor::Gemma3Text => "Gemma 3",
        };
        let other =
            Flavor::ALL.into_iter().map(backbone).find(|(b, e)| *b != own && file.contains(&format!("{b}.{e}")));
        let why = match other {
            Some((other, _)) => {
                format!(": its tensors are named {other}.*, config.json's model_type does not match the weights")
            }
            None => String::new(),
        };
        Err(Error::invalid(
            "model.safetensors",
            format!("has no {embeddings} (nor {own}.{embeddings}): not a {kind} checkpoint{why}"),
        ))
    }
}

/// Where tensor `name` (as the checkpoint's architecture names it: `roberta.` + module path, `classifier.dense...`)
/// is in `file`, whose backbone keys carry `prefix` (`checkpoint_prefix`); old TF-converted checkpoints name
/// LayerNorm parameters gamma/beta. The key may still be absent (a head the checkpoint lacks): `file.contains` says.
pub fn checkpoint_key(file: &SafeTensors<'_>, flavor: Flavor, prefix: &str, name: &str) -> String {
    let backbone = backbone(flavor).0.to_string() + ".";
    let key = match name.strip_prefix(&backbone) {
        Some(rest) => format!("{prefix}{rest}"),
        None => name.to_string(),
    };
    if !file.contains(&key) && key.contains("LayerNorm.") {
        let old = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta");
        if file.contains(&old) {
            return old;
        }
    }
    key
}

/// How many labels a checkpoint's own classification head has (`classifier.weight` `[num_labels, hidden]`,
/// RoBERTa's `classifier.out_proj.weight`), if it has one: a fine-tuned model used as a base keeps its head's shape
/// until an adapter replaces it.
pub fn checkpoint_num_labels(file: &SafeTensors<'_>, flavor: Flavor) -> Option<usize> {
    file.entries.get(&head_weight(flavor)).filter(|e| e.shape.len() == 2).map(|e| e.shape[0])
}
