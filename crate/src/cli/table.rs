//! The human-readable `count` output: the same figures as `--json`, laid out for a terminal.

use std::fmt::Write;

use lora_playground::accounting::report::grouped;
use lora_playground::accounting::report::{Report, Setup};

/// Bytes in binary units, with the exact count beside them.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.2} {} ({} B)", UNITS[u], grouped(n)) }
}

pub fn render(setup: &Setup, r: &Report) -> String {
    let mut o = String::new();
    let m = &r.model;
    let _ = writeln!(
        o,
        "model         {} ({}, {:?}, {} layers, hidden {})",
        setup.model, m.model_type, m.task, m.num_layers, m.hidden_size
    );
    let _ = writeln!(o, "base params   {}", grouped(m.params));
    let _ = writeln!(
        o,
        "LoRA          r={} lora_alpha={} scaling={:.4}{}",
        setup.lora.r,
        setup.lora.lora_alpha,
        r.scaling,
        if setup.lora.use_rslora { " (rsLoRA)" } else { "" }
    );
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", r.peft_line());
    let _ =
        writeln!(o, "LoRA-only params: {} ({:.4}% of the base model)", grouped(r.lora_params), r.lora_percent_of_base);
    if !r.modules_to_save.is_empty() {
        let _ = writeln!(
            o,
            "modules_to_save:  {} (trainable copies; PEFT counts the frozen originals in `all` too)",
            r.modules_to_save.join(", ")
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{:<32} {:>8} {:>14} {:>7} {:>14}  layers", "module", "kind", "shape", "count", "LoRA params");
    for g in &r.module_groups {
        let layers = if g.layers.is_empty() { "-".to_string() } else { compact(&g.layers) };
        let _ = writeln!(
            o,
            "{:<32} {:>8} {:>14} {:>7} {:>14}  {layers}",
            g.name,
            format!("{:?}", g.kind),
            format!("{}x{}", g.in_features, g.out_features),
            g.count,
            grouped(g.lora_params_total)
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "adapter_model.safetensors   {}", bytes(r.adapter_bytes));
    let _ = writeln!(o, "model.safetensors           {}", bytes(r.full_model_bytes));
    let _ = writeln!(o, "merged model                {}", bytes(r.merged_model_bytes));
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "training memory ({:?} base, {:?}, batch {} x {} tokens)",
        setup.precision, setup.optimizer, setup.batch.batch_size, setup.batch.seq_len
    );
    let _ = writeln!(
        o,
        "{:<10} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}",
        "method", "trainable", "frozen", "weights", "gradients", "optimizer", "activations", "total"
    );
    for c in &r.methods {
        let mb = |b: u64| format!("{:.1} MiB", b as f64 / 1048576.0);
        let _ = writeln!(
            o,
            "{:<10} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14} {:>14}",
            c.method,
            grouped(c.trainable),
            mb(c.memory.frozen_weights),
            mb(c.memory.trainable_weights),
            mb(c.memory.gradients),
            mb(c.memory.optimizer_state),
            mb(c.memory.activations),
            mb(c.memory.total)
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{:<18} {:>16} {:>10}  adds inference latency", "PEFT method", "trainable", "percent");
    for p in &r.peft_methods {
        let _ = writeln!(
            o,
            "{:<18} {:>16} {:>9.4}%  {}",
            p.method,
            grouped(p.trainable),
            p.percent,
            if p.adds_inference_latency { "yes" } else { "no" }
        );
    }
    o
}

/// `[0,1,2,3,7]` -> `0-3, 7`.
fn compact(layers: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < layers.len() {
        let mut j = i;
        while j + 1 < layers.len() && layers[j + 1] == layers[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { layers[i].to_string() } else { format!("{}-{}", layers[i], layers[j]) });
        i = j + 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_grouped_and_ranges_compacted() {
        assert_eq!(grouped(22713986), "22,713,986");
        assert_eq!(grouped(999), "999");
        assert_eq!(compact(&[0, 1, 2, 3, 7]), "0-3, 7");
        assert_eq!(bytes(1536), "1.50 KiB (1,536 B)");
    }
}
