//! Classification metrics from a confusion matrix: accuracy, per-class precision/recall/F1, macro-F1
//! (scikit-learn's definitions; a class never predicted has precision 0, as with `zero_division=0`).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
}

pub fn metrics(labels: &[String], truth: &[usize], predicted: &[usize]) -> Metrics {
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[t][p] += 1;
    }
    let total = truth.len();
    let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_class: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let predicted_c: usize = (0..k).map(|t| confusion[t][c]).sum();
            let support: usize = confusion[c].iter().sum();
            let (precision, recall) = (ratio(tp, predicted_c), ratio(tp, support));
            let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
            ClassMetrics { label: labels[c].clone(), precision, recall, f1, support }
        })
        .collect();
    let macro_f1 = if k == 0 { 0.0 } else { per_class.iter().map(|c| c.f1).sum::<f64>() / k as f64 };
    Metrics { accuracy: ratio(correct, total), macro_f1, per_class, confusion }
}

/// The index of the largest score (the first of equals): the predicted class from probabilities or logits.
pub fn argmax(scores: &[f32]) -> usize {
    scores.iter().enumerate().fold(0, |best, (i, x)| if *x > scores[best] { i } else { best })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn_on_a_worked_example() {
        // y_true = [0,0,0,1,1,2], y_pred = [0,0,1,1,2,2]
        // class 0: p=2/2 r=2/3 f1=0.8; class 1: p=1/2 r=1/2 f1=0.5; class 2: p=1/2 r=1/1 f1=2/3
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = metrics(&labels, &[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2]);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        assert!((m.per_class[0].f1 - 0.8).abs() < 1e-12);
        assert!((m.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(m.confusion, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
    }

    #[test]
    fn a_class_never_predicted_scores_zero_not_nan() {
        let labels: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let m = metrics(&labels, &[0, 1], &[0, 0]);
        assert_eq!(m.per_class[1].precision, 0.0);
        assert!(m.macro_f1.is_finite());
    }
}
