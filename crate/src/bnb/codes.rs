//! bitsandbytes' two code books: NF4 (the 16 values of the 4-bit NormalFloat type, Dettmers et al. 2023, QLoRA)
//! and the signed 8-bit dynamic map its double quantization stores the block scales with.

/// NF4's values, as bitsandbytes has them (`backends/utils.py`, `_NF4_QUANT_TABLE`): the quantiles of a normal
/// distribution scaled to [-1, 1], with an exact 0. Sorted, so a code's order is its value's order.
pub const NF4: [f32; 16] = [
    -1.0,
    -0.696_192_800_998_687_7,
    -0.525_073_051_452_636_7,
    -0.394_917_488_098_144_53,
    -0.284_441_381_692_886_35,
    -0.184_773_430_228_233_34,
    -0.091_050_036_251_544_95,
    0.0,
    0.079_580_299_556_255_34,
    0.160_930_201_411_247_25,
    0.246_112_301_945_686_34,
    0.337_915_241_718_292_24,
    0.440_709_829_330_444_34,
    0.562_617_003_917_694_1,
    0.722_956_836_223_602_3,
    1.0,
];

/// The midpoints between neighbouring NF4 values (float32, as `(code[:-1] + code[1:]) / 2` computes them): a value
/// at or below `NF4_BOUNDS[i]` and above `NF4_BOUNDS[i - 1]` gets code `i` (`torch.bucketize`, ties going down).
pub fn nf4_bounds() -> [f32; 15] {
    std::array::from_fn(|i| (NF4[i] + NF4[i + 1]) / 2.0)
}

/// bitsandbytes' `create_dynamic_map(signed=True)`: for each exponent e = 0..7, 2^e evenly spaced fractions
/// (midpoints of `linspace(0.1, 1, 2^e + 1)` in float32) times 10^(e - 6), both signs, then 0 and 1, sorted.
/// Computed rather than copied so the construction is visible; the test checks all 256 against bitsandbytes'.
pub fn dynamic_map() -> [f32; 256] {
    let mut data: Vec<f32> = Vec::with_capacity(256);
    for e in 0..7i32 {
        let bounds = linspace(0.1, 1.0, (1usize << e) + 1);
        // torch multiplies a float32 tensor by a Python float in float32.
        let scale = 10f64.powi(e - 6) as f32;
        for pair in bounds.windows(2) {
            let mean = (pair[0] + pair[1]) / 2.0;
            data.push(scale * mean);
            data.push(-scale * mean);
        }
    }
    data.push(0.0);
    data.push(1.0);
    data.sort_by(f32::total_cmp);
    data.try_into().expect("2 * 127 + 2 values")
}

/// `torch.linspace(start, end, steps, dtype=float32)` on the CPU: the first half counted up from `start`, the
/// second half down from `end` (ATen's `linspace_kernel`), the step in float32 and each `start + step * i` rounded
/// once (a fused multiply-add; rounding the product first differs from torch in the last bit for 9 steps and more).
fn linspace(start: f32, end: f32, steps: usize) -> Vec<f32> {
    let step = (end - start) / (steps - 1) as f32;
    let halfway = steps / 2;
    let at = |base: f32, sign: f64, k: usize| (base as f64 + sign * step as f64 * k as f64) as f32;
    (0..steps).map(|i| if i < halfway { at(start, 1.0, i) } else { at(end, -1.0, steps - i - 1) }).collect()
}
