//! QLoRA's base against transformers + bitsandbytes + PEFT (`tests/reference/nf4_fixtures.py`): tiny random Llama
//! and Gemma 3 models loaded with `BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
//! bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=float32)`. Every linear layer of the blocks is held
//! packed (the head, embeddings and norms stay float32, as transformers leaves them); log-probabilities within 1e-4
//! of transformers' with and without the PEFT adapter on top; the float32 model still matches its own reference.
#![cfg(feature = "train")]

use burn::tensor::Device;
use futures_lite::future::block_on;
use lora_playground::model::causal::files::{AdapterFiles, LmFiles, LmSource};
use lora_playground::model::causal::score::logprobs;
use lora_playground::model::packed::Base;
use lora_playground::safetensors::SafeTensors;

use super::decoder_parity::{batch, loss_and_lora_gradients_match};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decoder_nf4");

fn read(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}/{file}")).unwrap()
}

fn files(name: &str, base: Base) -> LmFiles {
    LmFiles::new(
        name,
        LmSource::Folder {
            config_json: String::from_utf8(read(name, "config.json")).unwrap(),
            tokenizer_json: read(name, "tokenizer.json"),
            safetensors: read(name, "model.safetensors"),
            tokenizer_config_json: None,
            chat_template_jinja: None,
        },
    )
    .with_base(base)
}

/// The fixture batch's texts (the padded rows without their padding).
fn texts(expected: &SafeTensors) -> Vec<Vec<u32>> {
    batch(expected).0
}

/// The largest difference between our log-probabilities and the reference's `key`.
fn largest_difference(name: &str, base: Base, with_adapter: bool, key: &str) -> f32 {
    let device = Device::flex();
    let adapter = with_adapter.then(|| AdapterFiles {
        config_json: String::from_utf8(read(name, "peft/adapter_config.json")).unwrap(),
        safetensors: read(name, "peft/adapter_model.safetensors"),
    });
    let lm = files(name, base).load(adapter.as_ref(), &device).unwrap();
    let packed = lm.model.linear_layers().iter().filter(|(_, l)| l.packed.is_some()).count();
    let expected_packed = if base == Base::Nf4 { 7 * lm.config.num_hidden_layers } else { 0 };
    assert_eq!(packed, expected_packed, "{name}: packed linear layers");
    let bytes = read(name, "expected.safetensors");
    let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let ours = block_on(logprobs(&lm.model, &texts(&expected), &device)).unwrap();
    let (want, shape) = expected.f32(key).unwrap();
    ours.iter()
        .enumerate()
        .flat_map(|(i, row)| row.iter().zip(&want[i * shape[1]..]).map(|(a, b)| (a - b).abs()))
        .fold(0.0, f32::max)
}

#[test]
fn nf4_base_logprobs_match_transformers_and_bitsandbytes() {
    for name in ["llama", "gemma3_text"] {
        let float = largest_difference(name, Base::Float32, false, "float_logprobs");
        assert!(float < 1e-4, "{name}: float32 base differs by {float}");
        let nf4 = largest_difference(name, Base::Nf4, false, "logprobs");
        assert!(nf4 < 1e-4, "{name}: NF4 base differs from transformers + bitsandbytes by {nf4}");
        // The quantization moves the log-probabilities far more than the tolerance: the test sees NF4 happen.
        let moved = largest_difference(name, Base::Float32, false, "logprobs");
        assert!(moved > 1e-2, "{name}: NF4 changes the log-probabilities by {moved} only");
    }
}

#[test]
fn peft_adapter_on_the_nf4_base_matches_peft() {
    for name in ["llama", "gemma3_text"] {
        let d = largest_difference(name, Base::Nf4, true, "peft_logprobs");
        assert!(d < 1e-4, "{name}: adapter on the NF4 base differs from PEFT's by {d}");
    }
}

/// QLoRA's training step: the completion-only loss and the gradient of every LoRA matrix on the NF4 base (through
/// the custom backward step that dequantizes again) within 1e-4 of PEFT's on bitsandbytes' 4-bit model.
#[test]
fn lora_gradients_on_the_nf4_base_match_peft() {
    for name in ["llama", "gemma3_text"] {
        let device = Device::flex().autodiff();
        let adapter = AdapterFiles {
            config_json: String::from_utf8(read(name, "peft/adapter_config.json")).unwrap(),
            safetensors: read(name, "peft/adapter_model.safetensors"),
        };
        let lm = files(name, Base::Nf4).load(Some(&adapter), &device).unwrap();
        let bytes = read(name, "expected.safetensors");
        let e = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
        let layers = lm.config.num_hidden_layers;
        loss_and_lora_gradients_match(name, &lm.model, lm.config.flavor, layers, &e, &device);
    }
}

/// `quantize --to nf4` writes the file transformers saves for the same model in 4 bits, byte for byte; read back,
/// the model keeps those blocks (no widening) and gives transformers' 4-bit log-probabilities.
#[test]
fn quantize_writes_what_transformers_saves() {
    use lora_playground::model::causal::quantize::quantize_nf4;
    for name in ["llama", "gemma3_text"] {
        let (written, before, after) = quantize_nf4(&files(name, Base::Float32)).unwrap();
        let get = |f: &str| written.iter().find(|(n, _)| n == f).unwrap().1.clone();
        let ours = get("model.safetensors");
        let theirs = read(name, "nf4/model.safetensors");
        let (a, b) = (SafeTensors::parse("ours", &ours).unwrap(), SafeTensors::parse("theirs", &theirs).unwrap());
        assert_eq!(a.entries.keys().collect::<Vec<_>>(), b.entries.keys().collect::<Vec<_>>(), "{name}: tensor names");
        for (key, e) in &b.entries {
            let mine = &a.entries[key];
            assert_eq!((&mine.dtype, &mine.shape), (&e.dtype, &e.shape), "{name} {key}");
            assert_eq!(a.raw(key, &e.dtype).unwrap().0, b.raw(key, &e.dtype).unwrap().0, "{name} {key}: bytes");
        }
        assert!(after < before, "{name}: {after} bytes in 4 bits against {before}");
        let config: serde_json::Value = serde_json::from_slice(&get("config.json")).unwrap();
        let want: serde_json::Value = serde_json::from_slice(&read(name, "nf4/config.json")).unwrap();
        assert_eq!(config["quantization_config"], want["quantization_config"], "{name}");

        // Read back in 4 bits: the same log-probabilities as transformers' 4-bit model.
        let folder = LmFiles::new(
            "quantized",
            LmSource::Folder {
                config_json: String::from_utf8(get("config.json")).unwrap(),
                tokenizer_json: get("tokenizer.json"),
                safetensors: ours.clone(),
                tokenizer_config_json: None,
                chat_template_jinja: None,
            },
        )
        .with_base(Base::Nf4);
        let device = Device::flex();
        let lm = folder.load(None, &device).unwrap();
        let bytes = read(name, "expected.safetensors");
        let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
        let got = block_on(logprobs(&lm.model, &texts(&expected), &device)).unwrap();
        let (want, shape) = expected.f32("logprobs").unwrap();
        for (i, row) in got.iter().enumerate() {
            let d = row.iter().zip(&want[i * shape[1]..]).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
            assert!(d < 1e-4, "{name}: the quantized folder read back differs by {d}");
        }
    }
}

/// Merging into the 4-bit base as PEFT merges (`merge_and_unload` on bitsandbytes' model: dequantize, add the
/// update, quantize again): every tensor of the saved model byte for byte what PEFT + transformers save.
#[test]
fn merge_into_the_nf4_base_is_pefts() {
    use lora_playground::model::causal::merge::model_safetensors;
    let device = Device::flex();
    let adapter = AdapterFiles {
        config_json: String::from_utf8(read("llama", "peft/adapter_config.json")).unwrap(),
        safetensors: read("llama", "peft/adapter_model.safetensors"),
    };
    let lm = files("llama", Base::Nf4).load(Some(&adapter), &device).unwrap();
    let merged = block_on(lm.model.clone().merge_requantized()).unwrap();
    assert!(merged.linear_layers().iter().all(|(_, l)| l.packed.is_some() && l.lora.is_none()), "still 4-bit");
    let ours = block_on(model_safetensors(&merged, lm.config.flavor)).unwrap();
    let theirs = read("llama", "merged_nf4/model.safetensors");
    let (a, b) = (SafeTensors::parse("ours", &ours).unwrap(), SafeTensors::parse("theirs", &theirs).unwrap());
    assert_eq!(a.entries.keys().collect::<Vec<_>>(), b.entries.keys().collect::<Vec<_>>());
    for (key, e) in &b.entries {
        assert_eq!(a.raw(key, &e.dtype).unwrap(), b.raw(key, &e.dtype).unwrap(), "{key}");
    }
}

/// A LoRA run on the NF4 base (`train --base nf4`, tests/reference/peft_nf4_roundtrip.py): PEFT loads the adapter on
/// transformers' 4-bit model of the same base and computes the log-probabilities ours does, within 1e-4.
#[test]
fn qlora_adapter_loads_in_peft_on_bitsandbytes_base() {
    let device = Device::flex();
    let adapter = AdapterFiles {
        config_json: String::from_utf8(read("llama", "ours/adapter_config.json")).unwrap(),
        safetensors: read("llama", "ours/adapter_model.safetensors"),
    };
    let lm = files("llama", Base::Nf4).load(Some(&adapter), &device).unwrap();
    let bytes = read("llama", "expected.safetensors");
    let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
    let ours = block_on(logprobs(&lm.model, &texts(&expected), &device)).unwrap();
    let peft = read("llama", "ours/peft_logprobs.safetensors");
    let peft = SafeTensors::parse("peft_logprobs.safetensors", &peft).unwrap();
    let (want, shape) = peft.f32("logprobs").unwrap();
    let (base, _) = expected.f32("logprobs").unwrap();
    let mut moved = 0f32;
    for (i, row) in ours.iter().enumerate() {
        let w = &want[i * shape[1]..];
        let d = row.iter().zip(w).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        assert!(d < 1e-4, "text {i}: ours and PEFT's differ by {d}");
        moved = moved.max(row.iter().zip(&base[i * shape[1]..]).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max));
    }
    assert!(moved > 1e-2, "the trained adapter changes the model ({moved})");
}

/// A few rows (a generation step, a short text) are multiplied straight from the NF4 codes, not by the dequantized
/// weight: the first six tokens of each text, scored alone, still give transformers + bitsandbytes' numbers.
#[test]
fn a_few_rows_from_the_codes_match_bitsandbytes() {
    let device = Device::flex();
    for name in ["llama", "gemma3_text"] {
        let lm = files(name, Base::Nf4).load(None, &device).unwrap();
        let bytes = read(name, "expected.safetensors");
        let expected = SafeTensors::parse("expected.safetensors", &bytes).unwrap();
        let (want, shape) = expected.f32("logprobs").unwrap();
        for (i, text) in texts(&expected).iter().enumerate() {
            let short = vec![text[..6.min(text.len())].to_vec()];
            let ours = block_on(logprobs(&lm.model, &short, &device)).unwrap();
            for (j, got) in ours[0].iter().enumerate() {
                let w = want[i * shape[1] + j];
                assert!((got - w).abs() < 1e-4, "{name} text {i} position {j}: {got} against {w}");
            }
        }
    }
}
