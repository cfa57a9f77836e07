//! A self-checking question: the student's typed answer read as a number (`1,234,567`, `1.2M`, `4.6 MB`, `48x`,
//! `0.76%`), compared with the figure the engine computes within the author's `tolerance=` (`0` exact, the
//! default; `1%` relative; `1000` absolute).

use serde::Serialize;

use crate::error::Error;
use crate::lesson::spec::Spec;

#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub correct: bool,
    /// What the answer was read as (so the page can say "read as 1,200,000").
    pub read_as: f64,
}

/// The tolerance an author wrote: relative (`1%`) or absolute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    Absolute(f64),
    Relative(f64),
}

pub fn tolerance(spec: &Spec) -> Result<Tolerance, Error> {
    let Some(t) = spec.get("tolerance").map(str::trim) else { return Ok(Tolerance::Absolute(0.0)) };
    let bad = || Error::invalid("tolerance", format!("tolerance=\"{t}\" is not a number (1000) or a percentage (1%)"));
    match t.strip_suffix('%') {
        Some(p) => p
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite() && *p >= 0.0)
            .map(|p| Tolerance::Relative(p / 100.0))
            .ok_or_else(bad),
        None => t.parse::<f64>().ok().filter(|a| a.is_finite() && *a >= 0.0).map(Tolerance::Absolute).ok_or_else(bad),
    }
}

pub fn check(answer: &str, expected: f64, tol: Tolerance) -> Result<Checked, Error> {
    let read_as = read(answer)?;
    let allowed = match tol {
        Tolerance::Absolute(a) => a,
        Tolerance::Relative(r) => r * expected.abs(),
    };
    // Half a unit in the last place of the expected value, so "0.76%" is right for 0.7631% only when the author
    // allows it, but "48" is right for 48.0000000001.
    let correct = (read_as - expected).abs() <= allowed + 1e-9 * expected.abs().max(1.0);
    Ok(Checked { correct, read_as })
}

/// A typed number with thousands separators, an SI prefix or byte unit, `x` or `%`.
pub fn read(answer: &str) -> Result<f64, Error> {
    let original = answer;
    let mut s: String = answer.trim().trim_start_matches('~').trim().replace([',', '_', ' ', '\u{a0}', '\u{202f}'], "");
    if s.is_empty() {
        return Err(Error::invalid("answer", "type a number first"));
    }
    for unit in ["bytes", "byte", "B", "x", "×", "%"] {
        if let Some(rest) = s.strip_suffix(unit) {
            s = rest.to_string();
            break;
        }
    }
    let units: [(&str, f64); 10] = [
        ("Ki", 1024.0),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("B", 1e9),
        ("T", 1e12),
    ];
    let mut scale = 1.0;
    for (suffix, factor) in units {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.to_string();
            scale = factor;
            break;
        }
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|v| v * scale).ok_or_else(|| {
        Error::invalid(
            "answer",
            format!("'{}' is not a number (write 1234567, 1,234,567, 1.2M or 4.6 MB)", original.trim()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_students_type() {
        assert_eq!(read("1,234,567").unwrap(), 1_234_567.0);
        assert_eq!(read("1.2M").unwrap(), 1_200_000.0);
        assert_eq!(read("~4.6 MB").unwrap(), 4_600_000.0);
        assert_eq!(read("1.11 GiB").unwrap(), 1.11 * 1024f64.powi(3));
        assert_eq!(read("48x").unwrap(), 48.0);
        assert_eq!(read("0.76%").unwrap(), 0.76);
        assert_eq!(read("12 288").unwrap(), 12_288.0);
        assert!(read("lots").is_err());
        assert!(read("").is_err());
    }

    #[test]
    fn tolerance_is_the_authors() {
        let exact = Tolerance::Absolute(0.0);
        assert!(check("12,288", 12_288.0, exact).unwrap().correct);
        assert!(!check("12,289", 12_288.0, exact).unwrap().correct);
        assert!(check("1.2M", 1_150_466.0, Tolerance::Relative(0.05)).unwrap().correct);
        assert!(!check("1.2M", 1_150_466.0, Tolerance::Relative(0.01)).unwrap().correct);
    }
}
