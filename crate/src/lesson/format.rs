//! How a lesson writes a figure (`format="..."`): exact as PEFT prints it, or rounded as a slide rounds it. A
//! rounded figure carries `~` whenever the rounding changed it, so a student can tell `12.3K` (exact) from `~12.3K`.

use crate::accounting::report::grouped;
use crate::error::Error;
use crate::lesson::figure::{Figure, Kind};

pub const FORMATS: &[(&str, &str)] = &[
    ("exact", "the default: 149,606,402 · 4,618,152 bytes · 0.7631% · 48"),
    ("short", "a slide's rounding with SI prefixes: ~149.6M, ~4.6 MB (digits=, default 1)"),
    ("bytes", "bytes in decimal units: ~1.2 GB (digits=, default 1)"),
    ("iec", "bytes in binary units: ~1.11 GiB (digits=, default 2)"),
    ("percent", "a percentage rounded: ~0.76% (digits=, default 2)"),
];

pub fn format(fig: Figure, style: Option<&str>, digits: Option<u32>) -> Result<String, Error> {
    let v = fig.value;
    let style = style.map(str::trim).unwrap_or("exact");
    Ok(match (style, fig.kind) {
        ("exact", Kind::Count) => grouped(v.round() as u64),
        ("exact", Kind::Bytes) => format!("{} bytes", grouped(v.round() as u64)),
        ("exact", Kind::Percent) => format!("{v:.*}%", digits.unwrap_or(4) as usize),
        ("exact", Kind::Ratio) => trimmed(v, digits.unwrap_or(2)),
        ("short", Kind::Count) => scaled(v, digits.unwrap_or(1), 1000.0, &["", "K", "M", "B", "T"], ""),
        ("short" | "bytes", Kind::Bytes) => {
            scaled(v, digits.unwrap_or(1), 1000.0, &[" bytes", " kB", " MB", " GB", " TB"], "")
        }
        ("iec", Kind::Bytes) => scaled(v, digits.unwrap_or(2), 1024.0, &[" bytes", " KiB", " MiB", " GiB", " TiB"], ""),
        ("percent" | "short", Kind::Percent) => approx(v, &format!("{v:.*}", digits.unwrap_or(2) as usize), "%"),
        ("short", Kind::Ratio) => approx(v, &format!("{v:.*}", digits.unwrap_or(0) as usize), ""),
        (s, k) => {
            let known = crate::lesson::format::FORMATS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
            return Err(if FORMATS.iter().any(|(n, _)| *n == s) {
                Error::invalid("format", format!("format=\"{s}\" does not apply to a {k:?} figure").to_lowercase())
            } else {
                Error::invalid("format", format!("unknown format '{s}'; formats: {known}"))
            });
        }
    })
}

/// `v` in the largest unit it reaches, to `digits` decimals, with `~` when that is not exact.
fn scaled(v: f64, digits: u32, step: f64, units: &[&str], suffix: &str) -> String {
    let mut u = 0;
    let mut x = v;
    while x.abs() >= step && u + 1 < units.len() {
        x /= step;
        u += 1;
    }
    let text = if u == 0 { format!("{}", v.round()) } else { format!("{x:.*}", digits as usize) };
    let back: f64 = text.parse::<f64>().unwrap_or(x) * step.powi(u as i32);
    let tilde = if (back - v).abs() > 1e-9 * v.abs().max(1.0) { "~" } else { "" };
    format!("{tilde}{text}{}{suffix}", units[u])
}

fn approx(v: f64, text: &str, suffix: &str) -> String {
    let exact = text.parse::<f64>().map(|t| (t - v).abs() <= 1e-12 * v.abs().max(1.0)).unwrap_or(false);
    format!("{}{text}{suffix}", if exact { "" } else { "~" })
}

/// Up to `digits` decimals, trailing zeros dropped: 48, 2.83.
fn trimmed(v: f64, digits: u32) -> String {
    let s = format!("{v:.*}", digits as usize);
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    approx(v, &s, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(value: f64, kind: Kind, style: &str, digits: Option<u32>) -> String {
        format(Figure { value, kind }, Some(style), digits).unwrap()
    }

    #[test]
    fn slides_roundings() {
        assert_eq!(f(149_606_402.0, Kind::Count, "exact", None), "149,606,402");
        assert_eq!(f(149_606_402.0, Kind::Count, "short", None), "~149.6M");
        assert_eq!(f(149_606_402.0, Kind::Count, "short", Some(0)), "~150M");
        assert_eq!(f(12_288.0, Kind::Count, "short", Some(3)), "12.288K");
        assert_eq!(f(1_196_851_768.0, Kind::Bytes, "bytes", None), "~1.2 GB");
        assert_eq!(f(1_196_851_768.0, Kind::Bytes, "iec", None), "~1.11 GiB");
        assert_eq!(f(512.0, Kind::Bytes, "bytes", None), "512 bytes");
        assert_eq!(f(48.0, Kind::Ratio, "exact", None), "48");
        assert_eq!(f(0.763_1, Kind::Percent, "percent", None), "~0.76%");
        assert!(format(Figure { value: 1.0, kind: Kind::Count }, Some("iec"), None).is_err());
        assert!(
            format(Figure { value: 1.0, kind: Kind::Count }, Some("fancy"), None)
                .unwrap_err()
                .message
                .contains("formats:")
        );
    }
}
