//! A seeded, stratified train/validation split: every class keeps its share in both parts.

use super::Example;
use crate::rng::Rng;

/// Splits `examples` so that about `val_fraction` of each class goes to validation (at least one per class,
/// and at least one left for training). The same seed always gives the same split.
pub fn stratified(
    examples: &[Example],
    num_labels: usize,
    val_fraction: f64,
    seed: u64,
) -> (Vec<Example>, Vec<Example>) {
    let mut rng = Rng::new(seed ^ 0x5eed_5917);
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for label in 0..num_labels {
        let mut class: Vec<&Example> = examples.iter().filter(|e| e.label == label).collect();
        rng.shuffle(&mut class);
        let n = class.len();
        let k = ((n as f64 * val_fraction).round() as usize).clamp(usize::from(n > 1), n.saturating_sub(1));
        val.extend(class[..k].iter().map(|e| (*e).clone()));
        train.extend(class[k..].iter().map(|e| (*e).clone()));
    }
    // Interleave classes in both parts (order matters to nothing but people reading a dump).
    rng.shuffle(&mut train);
    rng.shuffle(&mut val);
    (train, val)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples(counts: &[usize]) -> Vec<Example> {
        let mut out = Vec::new();
        for (label, &n) in counts.iter().enumerate() {
            for i in 0..n {
                out.push(Example { text: format!("{label}-{i}"), label, line: out.len() + 2 });
            }
        }
        out
    }

    #[test]
    fn every_class_keeps_its_share_and_the_seed_decides() {
        let data = examples(&[50, 30, 2]);
        let (train, val) = stratified(&data, 3, 0.2, 7);
        let count = |v: &[Example], l| v.iter().filter(|e| e.label == l).count();
        assert_eq!((count(&val, 0), count(&val, 1), count(&val, 2)), (10, 6, 1));
        assert_eq!(train.len() + val.len(), data.len());
        assert_eq!(stratified(&data, 3, 0.2, 7).1, val);
        assert_ne!(stratified(&data, 3, 0.2, 8).1, val);
    }
}
