//! NF4 as bitsandbytes 0.50 makes it on the CPU (`tests/reference/nf4_fixtures.py` wrote the inputs and what
//! `quantize_4bit` / `dequantize_4bit` gave): codes, 8-bit scales, nested scales and offset byte for byte, the
//! dequantized weights bit for bit, the two code books value for value.

use lora_playground::bnb::codes::{NF4, dynamic_map};
use lora_playground::bnb::{Nf4Tensor, dequantize_blockwise};
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
fn the_nested_scales_round_trip_through_the_dynamic_map() {
    // Values on the map come back exactly; the largest magnitude of a block maps to +-1.
    let values = [0.5f32, -0.25, 1.0, 0.0];
    let (codes, absmax) = lora_playground::bnb::quantize_blockwise(&values, 256);
    assert_eq!(absmax, vec![1.0]);
    assert_eq!(dequantize_blockwise(&codes, &absmax, 256)[2], 1.0);
    assert_eq!(dequantize_blockwise(&codes, &absmax, 256)[3], 0.0);
}
