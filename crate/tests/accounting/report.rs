//! The whole report for a setup: internal consistency the page relies on, and bad settings refused by field.

use lora_playground::accounting::count::count_lora;
use lora_playground::accounting::lora_config::{LoraConfig, TargetModules};
use lora_playground::accounting::report::{MAX_RANK, Setup, architecture, compute};

fn setup(model: &str) -> Setup {
    Setup { model: model.into(), ..Setup::default() }
}

#[test]
fn the_rank_curve_is_the_exact_count_at_every_rank() {
    for model in ["all-MiniLM-L6-v2", "gpt2", "Llama-2-7b"] {
        let s = setup(model);
        let report = compute(&s).unwrap();
        assert_eq!(report.rank_curve.len() as u64, MAX_RANK);
        let arch = architecture(&s).unwrap();
        for r in [1, 2, 37, 128, 256] {
            let config = LoraConfig { r, ..s.lora.clone() };
            assert_eq!(
                report.rank_curve[r as usize - 1],
                count_lora(&arch, &config).unwrap().trainable,
                "{model} r={r}"
            );
        }
    }
}

#[test]
fn figures_add_up() {
    let mut s = setup("bert-base-uncased");
    s.lora.bias = lora_playground::accounting::lora_config::Bias::All;
    let r = compute(&s).unwrap();
    assert_eq!(r.trainable, r.lora_params + r.head_copy_params + r.trainable_bias_params);
    let m = &r.memory;
    assert_eq!(m.total, m.frozen_weights + m.trainable_weights + m.gradients + m.optimizer_state + m.activations);
    assert_eq!(r.methods[0].method, "lora");
    assert_eq!(r.merged_model_bytes, r.full_model_bytes);
    let groups: u64 = r.module_groups.iter().map(|g| g.lora_params_total).sum();
    assert_eq!(groups, r.lora_params);
    // The rank table: r * (in + out) and its share of the d_out x d_in weight.
    let t = &r.rank_tables[0];
    assert_eq!((t.in_features, t.out_features), (768, 768));
    let row8 = t.rows.iter().find(|row| row.r == 8).unwrap();
    assert_eq!(row8.lora_params, 8 * 1536);
    assert!((row8.reduction - 48.0).abs() < 1e-12);
}

#[test]
fn quantized_bases_shrink_frozen_memory_but_not_the_adapter() {
    let fp32 = compute(&setup("Llama-2-7b")).unwrap();
    let mut s = setup("Llama-2-7b");
    s.precision = lora_playground::accounting::memory::Precision::Nf4;
    let nf4 = compute(&s).unwrap();
    assert!(nf4.memory.frozen_weights * 5 < fp32.memory.frozen_weights, "NF4 is ~4.1 bits against 32");
    assert_eq!(nf4.lora_params, fp32.lora_params);
    assert_eq!(
        nf4.memory.trainable_weights,
        fp32.memory.trainable_weights - fp32.head_copy_params * 2,
        "head copy in bf16"
    );
}

#[test]
fn bad_settings_name_their_field() {
    let cases: Vec<(Box<dyn Fn(&mut Setup)>, &str)> = vec![
        (Box::new(|s| s.lora.r = 0), "r"),
        (Box::new(|s| s.lora.lora_alpha = f64::NAN), "lora_alpha"),
        (Box::new(|s| s.lora.target_modules = Some(TargetModules::Names(vec![]))), "target_modules"),
        (Box::new(|s| s.lora.target_modules = Some(TargetModules::Shorthand("all".into()))), "target_modules"),
        (Box::new(|s| s.lora.layers_to_transform = Some(vec![99])), "target_modules"),
        (Box::new(|s| s.num_labels = 0), "num_labels"),
        (Box::new(|s| s.batch.seq_len = 0), "seq_len"),
        (Box::new(|s| s.bottleneck = 0), "bottleneck"),
        (Box::new(|s| s.num_virtual_tokens = 0), "num_virtual_tokens"),
        (Box::new(|s| s.model = "gpt-5".into()), "model"),
        (Box::new(|s| s.config_json = Some("[1, 2]".into())), "config.json"),
        (Box::new(|s| s.config_json = Some("{\"model_type\": \"bert\", \"hidden_size\": 0}".into())), "hidden_size"),
        (Box::new(|s| s.config_json = Some("{\"model_type\": \"bert\", \"hidden_size\": -5}".into())), "hidden_size"),
        (Box::new(|s| s.config_json = Some("{\"model_type\": 3}".into())), "model_type"),
        (Box::new(|s| s.config_json = Some("{\"hidden_size\": 8}".into())), "model_type"),
    ];
    for (i, (change, field)) in cases.iter().enumerate() {
        let mut s = Setup::default();
        change(&mut s);
        let e = compute(&s).err().unwrap_or_else(|| panic!("case {i} ({field}) was accepted"));
        assert_eq!(e.field, *field, "case {i}: {e}");
        assert!(!e.message.is_empty());
    }
}

#[test]
fn unknown_setup_keys_are_refused() {
    let e = serde_json::from_str::<Setup>(r#"{"lora": {"rank": 8}}"#).unwrap_err();
    assert!(e.to_string().contains("rank"));
}

#[test]
fn gradient_checkpointing_keeps_each_layers_input_and_one_layer() {
    use lora_playground::accounting::memory::{Batch, Precision, activation_bytes};
    let arch = architecture(&setup("bert-base-uncased")).unwrap();
    let plain = Batch { batch_size: 8, seq_len: 128, gradient_checkpointing: false };
    let kept = Batch { gradient_checkpointing: true, ..plain };
    let (s, b, h, a, l) = (128u64, 8u64, 768u64, 12u64, 12u64);
    let per_layer = (s * b * h * 34 + 5 * a * s * s * b) * 2;
    assert_eq!(activation_bytes(&arch, plain, Precision::Fp32, true), l * per_layer);
    assert_eq!(activation_bytes(&arch, kept, Precision::Fp32, true), l * s * b * h * 4 + per_layer);
    // Nothing in the backbone trains: nothing to recompute either.
    assert_eq!(activation_bytes(&arch, kept, Precision::Fp32, false), s * b * h * 4);
    // The report's LoRA row follows the setting; weights and optimizer state do not move.
    let on = compute(&Setup { batch: kept, ..setup("bert-base-uncased") }).unwrap();
    let off = compute(&Setup { batch: plain, ..setup("bert-base-uncased") }).unwrap();
    assert!(on.memory.activations < off.memory.activations / 5);
    assert_eq!(on.memory.optimizer_state, off.memory.optimizer_state);
}
