//! Linear warm-up then linear decay to zero: transformers' `get_linear_schedule_with_warmup`.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSchedule {
    pub peak_lr: f64,
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl LinearSchedule {
    /// The learning rate for optimizer step `step` (0-based), as the scheduler sets it before that step.
    pub fn lr(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.peak_lr * step as f64 / self.warmup_steps.max(1) as f64;
        }
        let remaining = self.total_steps.saturating_sub(step) as f64;
        let decay = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        self.peak_lr * (remaining / decay).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_zero_like_transformers() {
        let s = LinearSchedule { peak_lr: 1.0, warmup_steps: 2, total_steps: 10 };
        let lrs: Vec<f64> = (0..=10).map(|i| s.lr(i)).collect();
        assert_eq!(&lrs[..3], &[0.0, 0.5, 1.0]);
        assert!((lrs[6] - 0.5).abs() < 1e-12);
        assert_eq!(lrs[10], 0.0);
    }
}
