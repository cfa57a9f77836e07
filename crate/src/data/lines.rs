//! Bytes to numbered lines, decoded one line at a time so that one bad byte costs one row, not the file; and the
//! format a file is in. Shared by labelled datasets (`parse`) and texts to classify (`texts`).

use super::problem::RowProblem;
use crate::error::Error;

/// How a spreadsheet or editor saves UTF-8, for the messages below.
const SAVE_AS_UTF8: &str =
    "save it as UTF-8 (a spreadsheet's \"CSV UTF-8\", or UTF-8 in a text editor's encoding menu) and load it again";

/// `(1-based line, text)` pairs without line endings or a UTF-8 byte-order mark, and the lines that are not UTF-8
/// (one bad byte costs its row). A file that is not UTF-8 text at all is refused, saying what it is instead: UTF-16
/// (what Excel's "Unicode text" and Windows' Notepad write), a binary file, or lines mostly not UTF-8 (Latin-1).
pub fn decode(name: &str, bytes: &[u8]) -> Result<(Vec<(usize, String)>, Vec<RowProblem>), Error> {
    let head = &bytes[..bytes.len().min(4096)];
    let nuls = head.iter().filter(|&&b| b == 0).count();
    // ASCII in UTF-16 has a NUL in every other byte; a BOM says so outright.
    let alternate = |offset: usize| head.iter().skip(offset).step_by(2).filter(|&&b| b == 0).count();
    let utf16 = head.starts_with(b"\xff\xfe")
        || head.starts_with(b"\xfe\xff")
        || (head.len() >= 8 && nuls * 3 >= head.len() && alternate(0).max(alternate(1)) * 10 >= nuls * 9);
    if utf16 {
        return Err(Error::invalid(name, format!("is UTF-16 text, not UTF-8: {SAVE_AS_UTF8}")));
    }
    if let Some(at) = head.iter().position(|&b| b == 0) {
        return Err(Error::invalid(
            name,
            format!("is not a text file (byte {} is a NUL byte): a dataset is CSV, TSV or JSON Lines text", at + 1),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (mut lines, mut problems) = (Vec::new(), Vec::new());
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match std::str::from_utf8(raw) {
            Ok(s) => lines.push((i + 1, s.to_string())),
            Err(e) => problems
                .push(RowProblem { line: i + 1, reason: format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1) }),
        }
    }
    let (bad, total) = (problems.len(), problems.len() + lines.iter().filter(|(_, l)| !l.is_empty()).count());
    if bad * 2 > total {
        return Err(Error::invalid(
            name,
            format!("is not UTF-8 text ({bad} of {total} lines are not): {SAVE_AS_UTF8}"),
        ));
    }
    Ok((lines, problems))
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
