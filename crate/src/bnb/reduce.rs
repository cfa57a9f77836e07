//! torch's float32 `sum()` on the CPU, in its order of additions, so the mean bitsandbytes subtracts from the block
//! scales (`offset`) is the same float32 value here and the nested codes come out byte for byte.
//!
//! ATen's `cascade_sum` (`native/cpu/SumKernel.cpp`): a row of at least one vector is summed as vectors of 8 lanes
//! (AVX2's `Vectorized<float>`, the kernel x86 builds of torch dispatch to), four vector accumulators side by side,
//! each a cascade of four levels that carries into the next level every `2^k` additions; then the scalar tail, then
//! the lanes one by one. A shorter row is the same cascade over scalars. Checked against torch for every length
//! up to 300 and a few to 10,000 (a four-lane build, as on ARM, would differ in the last bit).

const LANES: usize = 8;
const ILP: usize = 4;
const LEVELS: usize = 4;

/// `torch.tensor(values, dtype=float32).sum()`.
pub fn torch_sum(values: &[f32]) -> f32 {
    if values.len() < LANES {
        return row_sum::<1>(values)[0];
    }
    let vectors = values.len() / LANES;
    let partial = row_sum::<LANES>(&values[..vectors * LANES]);
    let mut total = 0f32;
    for &v in &values[vectors * LANES..] {
        total += v;
    }
    for lane in partial {
        total += lane;
    }
    total
}

/// ATen's `row_sum`: items of `W` lanes (`values.len() / W` of them) summed by `ILP` cascaded accumulators taking
/// items in turn, the leftover items into the first, then the accumulators into the first.
fn row_sum<const W: usize>(values: &[f32]) -> [f32; W] {
    let item = |i: usize| -> [f32; W] { std::array::from_fn(|l| values[i * W + l]) };
    let items = values.len() / W;
    let rows = items / ILP;
    let mut acc = multi_row_sum::<W>(rows, |row, k| item(row * ILP + k));
    for i in rows * ILP..items {
        add(&mut acc[0], &item(i));
    }
    let [mut first, rest @ ..] = acc;
    for r in rest {
        add(&mut first, &r);
    }
    first
}

/// ATen's `multi_row_sum`: `ILP` sums at once, each a cascade of `LEVELS` accumulators with `2^level_power` items a
/// level, which keeps float32 rounding error logarithmic in the length.
fn multi_row_sum<const W: usize>(size: usize, load: impl Fn(usize, usize) -> [f32; W]) -> [[f32; W]; ILP] {
    let ceil_log2 = if size > 1 { usize::BITS - (size - 1).leading_zeros() } else { 0 } as usize;
    let level_power = (ceil_log2 / LEVELS).max(4);
    let level_step = 1usize << level_power;
    let level_mask = level_step - 1;
    let mut acc = [[[0f32; W]; ILP]; LEVELS];
    let mut i = 0;
    while i + level_step <= size {
        for _ in 0..level_step {
            for k in 0..ILP {
                add(&mut acc[0][k], &load(i, k));
            }
            i += 1;
        }
        for j in 1..LEVELS {
            for k in 0..ILP {
                let lower = acc[j - 1][k];
                add(&mut acc[j][k], &lower);
                acc[j - 1][k] = [0.0; W];
            }
            if i & (level_mask << (j * level_power)) != 0 {
                break;
            }
        }
    }
    for row in i..size {
        for k in 0..ILP {
            add(&mut acc[0][k], &load(row, k));
        }
    }
    for j in 1..LEVELS {
        for k in 0..ILP {
            let upper = acc[j][k];
            add(&mut acc[0][k], &upper);
        }
    }
    acc[0]
}

fn add<const W: usize>(to: &mut [f32; W], from: &[f32; W]) {
    for (t, f) in to.iter_mut().zip(from) {
        *t += f;
    }
}
