//! A small seeded generator (SplitMix64) for shuffling, splits and initialisation: the same seed gives the same
//! numbers on every platform and backend (CPU natively, WebGPU in the browser), independent of any backend's
//! random state, so the same seed starts the same model everywhere.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The whole state: `Rng::new(rng.state())` continues the same sequence.
    pub fn state(&self) -> u64 {
        self.0
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0), without modulo bias worth caring about at these sizes.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fisher-Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// Uniform in [0, 1), 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Normal(0, std) by Box-Muller.
    pub fn normal(&mut self, std: f64) -> f64 {
        let u = 1.0 - self.unit(); // (0, 1]: ln is finite
        let v = self.unit();
        std * (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn draws_have_the_right_moments() {
        let mut r = Rng::new(1);
        let n = 20_000;
        let normals: Vec<f64> = (0..n).map(|_| r.normal(2.0)).collect();
        let mean = normals.iter().sum::<f64>() / n as f64;
        let var = normals.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.05 && (var.sqrt() - 2.0).abs() < 0.05, "{mean} {var}");
        let uniforms: Vec<f64> = (0..n).map(|_| r.uniform(-0.5, 0.5)).collect();
        assert!(uniforms.iter().all(|x| (-0.5..0.5).contains(x)));
        assert!((uniforms.iter().sum::<f64>() / n as f64).abs() < 0.01);
        assert_eq!(Rng::new(9).next_u64(), Rng::new(9).next_u64());
    }
}
