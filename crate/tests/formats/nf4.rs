//! NF4 as bitsandbytes 0.50 makes it on the CPU (`tests/reference/nf4_fixtures.py` wrote the inputs and what
//! `quantize_4bit` / `dequantize_4bit` gave): codes, 8-bit scales, nested scales and offset byte for byte, the
//! dequantized weights bit for bit, the two code books value for value.

use lora_playground::bnb::codes::{NF4, dynamic_map};
use lora_playground::bnb::{Nf4Tensor, dequantize_blockwise, quantize_blockwise};
use lora_playground::safetensors::SafeTensors;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nf4/quant.safetensors");
const CASES: [&str; 5] = ["random", "ties", "zeros", "ragged", "wide"];

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn code_books_are_bitsandbytes() {
    let bytes = std::fs::read(FIXTURE).unwrap();
    let file = SafeTensors::parse("quant.safetensors", &bytes).unwrap();
    assert_eq!(bits(&NF4), bits(&file.f32("nf4_code").unwrap().0));
    assert_eq!(bits(&dynamic_map()), bits(&file.f32("dynamic_code").unwrap().0));
}

#[test]
fn quantize_4bit_is_byte_for_byte_and_dequantize_bit_for_bit() {
    let bytes = std::fs::read(FIXTURE).unwrap();
    let file = SafeTensors::parse("quant.safetensors", &bytes).unwrap();
    for case in CASES {
        let (input, shape) = file.f32(&format!("{case}.input")).unwrap();
        let q = Nf4Tensor::quantize(&input, &shape);
        let (packed, _) = file.raw(&format!("{case}.packed"), "U8").unwrap();
        let (absmax, _) = file.raw(&format!("{case}.absmax"), "U8").unwrap();
        let offset = file.f32(&format!("{case}.offset")).unwrap().0[0];
        assert_eq!(q.offset.to_bits(), offset.to_bits(), "{case}: offset {} against {offset}", q.offset);
        let differ = q.packed.iter().zip(packed).filter(|(a, b)| a != b).count();
        assert_eq!((q.packed.len(), differ), (packed.len(), 0), "{case}: packed codes");
        assert_eq!(q.absmax, absmax, "{case}: 8-bit block scales");
        assert_eq!(bits(&q.nested_absmax), bits(&file.f32(&format!("{case}.nested_absmax")).unwrap().0), "{case}");
        assert_eq!(bits(&q.block_scales()), bits(&file.f32(&format!("{case}.absmax_float")).unwrap().0), "{case}");
        let want = file.f32(&format!("{case}.dequant")).unwrap().0;
        let got = q.dequantize();
        let differ = got.iter().zip(&want).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
        assert_eq!(differ, 0, "{case}: {differ} of {} dequantized values differ", want.len());
    }
}

#[test]
fn nested_scales_keep_the_block_maxima_and_a_block_of_zeros() {
    // A block's largest magnitude maps to +-1 exactly; a block of zeros stores code 0 with scale 0, which
    // dequantizes to 0.
    let values = [0.5f32, -0.25, 1.0, 0.0];
    let (codes, absmax) = quantize_blockwise(&values, 256);
    assert_eq!(absmax, vec![1.0]);
    assert_eq!(dequantize_blockwise(&codes, &absmax, 256)[2], 1.0);
    let (codes, absmax) = quantize_blockwise(&[0.0; 5], 256);
    assert_eq!((codes, absmax.clone()), (vec![0; 5], vec![0.0]));
}

/// Every 4-bit layer transformers saved for the tiny NF4 models (`save_pretrained` of a model loaded with
/// bitsandbytes) against ours quantized from the float32 weights: codes, 8-bit scales, nested scales, offset.
#[test]
fn transformers_4bit_models_byte_for_byte() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/decoder_nf4");
    let mut layers = 0;
    for name in ["llama", "gemma3_text"] {
        let float = std::fs::read(format!("{dir}/{name}/model.safetensors")).unwrap();
        let float = SafeTensors::parse("model.safetensors", &float).unwrap();
        let saved = std::fs::read(format!("{dir}/{name}/nf4/model.safetensors")).unwrap();
        let saved = SafeTensors::parse("nf4/model.safetensors", &saved).unwrap();
        for (key, entry) in &saved.entries {
            if entry.dtype != "U8" || !key.ends_with(".weight") {
                continue;
            }
            let (values, shape) = float.f32(key).unwrap();
            let q = Nf4Tensor::quantize(&values, &shape);
            assert_eq!(q.packed, saved.raw(key, "U8").unwrap().0, "{name} {key}: codes");
            assert_eq!(q.absmax, saved.raw(&format!("{key}.absmax"), "U8").unwrap().0, "{name} {key}: scales");
            let nested = saved.f32(&format!("{key}.nested_absmax")).unwrap().0;
            assert_eq!(bits(&q.nested_absmax), bits(&nested), "{name} {key}: nested scales");
            let state = saved.raw(&format!("{key}.quant_state.bitsandbytes__nf4"), "U8").unwrap().0;
            let state: serde_json::Value = serde_json::from_slice(state).unwrap();
            assert_eq!(q.offset, state["nested_offset"].as_f64().unwrap() as f32, "{name} {key}: offset");
            layers += 1;
        }
    }
    assert_eq!(layers, 7 * 2 + 7 * 3, "every linear layer of both models");
}

#[test]
fn the_transposed_dequantization_is_the_transpose() {
    let bytes = std::fs::read(FIXTURE).unwrap();
    let file = SafeTensors::parse("quant.safetensors", &bytes).unwrap();
    for case in CASES {
        let (input, shape) = file.f32(&format!("{case}.input")).unwrap();
        let q = Nf4Tensor::quantize(&input, &shape);
        let (plain, t) = (q.dequantize(), q.dequantize_transposed());
        let (rows, cols) = (shape[0], shape[1]);
        assert!((0..rows * cols).all(|i| plain[i].to_bits() == t[(i % cols) * rows + i / cols].to_bits()), "{case}");
    }
}
