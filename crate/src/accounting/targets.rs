//! The module names a user can put in `target_modules` for an architecture, as the page's checkboxes show them
//! (each module's path inside its block, with what else the name matches as a suffix).

use serde::Serialize;

use super::arch::{Architecture, ModuleKind, block_relative};
use super::inject::modules_to_save;
use super::path::within;

/// A module name a user can target, as a checkbox shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetChoice {
    /// The name to put in `target_modules`: the path inside a block (`attention.self.query`), or the full path
    /// for modules outside the blocks.
    pub name: String,
    pub kind: ModuleKind,
    pub in_features: u64,
    pub out_features: u64,
    /// How many modules the name matches.
    pub count: usize,
    /// What the module is, where its name does not say (fused projections).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Other choices this name also matches, because PEFT matches on a dotted suffix.
    pub also_matches: Vec<String>,
}

/// Names a user can target in `arch`: for each LoRA-capable module outside the `modules_to_save` head, its path
/// inside its block.
pub fn target_choices(arch: &Architecture) -> Vec<TargetChoice> {
    let mut out: Vec<TargetChoice> = Vec::new();
    // The same modules PEFT could wrap: everything LoRA supports except the modules_to_save heads.
    let saved = modules_to_save(arch);
    for m in arch.modules.iter().filter(|m| m.kind.lora_supported() && !saved.iter().any(|p| within(&m.name, p))) {
        let name = block_relative(&m.name);
        if let Some(c) = out.iter_mut().find(|c| c.name == name) {
            c.count += 1;
            continue;
        }
        out.push(TargetChoice {
            note: module_note(m.short_name(), m.in_features, m.out_features),
            name,
            kind: m.kind,
            in_features: m.in_features,
            out_features: m.out_features,
            count: 1,
            also_matches: Vec::new(),
        });
    }
    // Modules inside the blocks first (what LoRA usually targets), then embeddings and the like.
    out.sort_by_key(|c| c.kind == ModuleKind::Embedding);
    let names: Vec<String> = out.iter().map(|c| c.name.clone()).collect();
    for c in &mut out {
        c.also_matches = names.iter().filter(|n| n.ends_with(&format!(".{}", c.name))).cloned().collect();
    }
    out
}

fn module_note(short: &str, d_in: u64, d_out: u64) -> Option<String> {
    match short {
        "Wqkv" => Some(format!("fused query, key and value projection ({d_in} -> 3 x {})", d_out / 3)),
        "c_attn" => Some(format!("GPT-2 Conv1D: fused query, key and value ({d_in} -> 3 x {})", d_out / 3)),
        "Wi" => Some(format!("fused gate and up projection of the GeGLU MLP ({d_in} -> 2 x {})", d_out / 2)),
        "c_fc" | "c_proj" => Some("GPT-2 Conv1D (weight stored [in, out], fan_in_fan_out)".into()),
        _ => None,
    }
}
