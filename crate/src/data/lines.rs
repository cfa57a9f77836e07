//! Bytes to numbered lines, decoded one line at a time so that one bad byte costs one row, not the file; and the
//! format a file is in. Shared by labelled datasets (`parse`) and texts to classify (`texts`).

use super::problem::RowProblem;

/// `(1-based line, text)` pairs without line endings or a UTF-8 byte-order mark, and the lines that are not UTF-8.
pub fn decode(bytes: &[u8]) -> (Vec<(usize, String)>, Vec<RowProblem>) {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (mut lines, mut problems) = (Vec::new(), Vec::new());
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match std::str::from_utf8(raw) {
            Ok(s) => lines.push((i + 1, s.to_string())),
            Err(e) => problems.push(RowProblem { line: i + 1, reason: format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1) }),
        }
    }
    (lines, problems)
}

/// The formats `parse` understands; `name` decides unless the content is clearly JSON Lines.
pub fn format_of(name: &str, lines: &[(usize, String)]) -> Format {
    let first_line = lines.iter().find(|(_, l)| !l.trim().is_empty()).map_or("", |(_, l)| l.as_str());
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || first_line.trim_start().starts_with('{') {
        Format::Jsonl
    } else if lower.ends_with(".tsv") || (first_line.contains('\t') && !first_line.contains(',')) {
        Format::Delimited(b'\t')
    } else {
        Format::Delimited(b',')
    }
}

pub enum Format {
    Jsonl,
    Delimited(u8),
}

