//! Timings as the commands report them.

/// The middle value of timings (the upper middle of an even count).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
