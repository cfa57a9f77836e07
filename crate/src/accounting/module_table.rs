//! The adapted modules grouped by their name inside a block, and the table LoRA tutorials print for one module
//! shape: r, LoRA parameters, their share of the weight and the reduction factor.

use serde::Serialize;

use super::arch::{Architecture, ModuleKind, block_relative, display_layer};
use super::count::lora_params_of;
use super::lora_config::LoraConfig;

/// LoRA modules grouped by their name inside a block.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleGroup {
    pub name: String,
    pub kind: ModuleKind,
    pub in_features: u64,
    pub out_features: u64,
    /// LoRA parameters added to each module: `r * (in + out)`.
    pub lora_params_each: u64,
    pub lora_params_total: u64,
    /// Block numbers where this module got LoRA.
    pub layers: Vec<usize>,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankRow {
    pub r: u64,
    pub lora_params: u64,
    /// LoRA parameters as a percentage of the `d_out x d_in` weight they adapt.
    pub percent_of_weight: f64,
    /// `d_out * d_in / (r * (d_in + d_out))`.
    pub reduction: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankTable {
    pub module: String,
    pub in_features: u64,
    pub out_features: u64,
    pub rows: Vec<RankRow>,
}

/// `part` as a percentage of `whole` (0 for an empty whole).
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { 100.0 * part as f64 / whole as f64 }
}

/// The modules at `lora` (indices into `arch.modules`) grouped by name inside a block and shape.
pub fn groups(arch: &Architecture, config: &LoraConfig, lora: &[usize]) -> Vec<ModuleGroup> {
    let mut out: Vec<ModuleGroup> = Vec::new();
    for &i in lora {
        let m = &arch.modules[i];
        let name = block_relative(&m.name);
        let each = lora_params_of(m, config.r);
        match out
            .iter_mut()
            .find(|g| g.name == name && g.in_features == m.in_features && g.out_features == m.out_features)
        {
            Some(g) => {
                g.count += 1;
                g.lora_params_total += each;
                g.layers.extend(display_layer(&m.name));
            }
            None => out.push(ModuleGroup {
                name,
                kind: m.kind,
                in_features: m.in_features,
                out_features: m.out_features,
                lora_params_each: each,
                lora_params_total: each,
                layers: display_layer(&m.name).into_iter().collect(),
                count: 1,
            }),
        }
    }
    out
}

/// LoRA parameters, share of the weight and reduction factor at r = 1 ... 256 for one module shape.
pub fn rank_table(group: &ModuleGroup) -> RankTable {
    let (d_in, d_out) = (group.in_features, group.out_features);
    let rows = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        .into_iter()
        .map(|r| {
            let lora = r * (d_in + d_out);
            RankRow {
                r,
                lora_params: lora,
                percent_of_weight: percent(lora, d_in * d_out),
                reduction: (d_in * d_out) as f64 / lora as f64,
            }
        })
        .collect();
    RankTable { module: group.name.clone(), in_features: d_in, out_features: d_out, rows }
}
