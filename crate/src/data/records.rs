//! CSV and TSV records, RFC 4180 style, keeping the line each record starts on for messages.

use super::problem::RowProblem;

/// RFC 4180 records: quoted fields may hold separators, doubled quotes and newlines.
pub fn records(lines: &[(usize, String)], sep: u8, problems: &mut Vec<RowProblem>) -> Vec<(usize, Vec<String>)> {
    let sep = sep as char;
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (start, _) = lines[i];
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut at_field_start = true;
        let mut text = lines[i].1.clone();
        let mut chars: Vec<char> = text.chars().collect();
        let mut j = 0;
        loop {
            if j == chars.len() {
                if quoted {
                    // The quoted field continues on the next line.
                    i += 1;
                    if i >= lines.len() {
                        problems.push(RowProblem { line: start, reason: "a quoted field is never closed".into() });
                        break;
                    }
                    field.push('\n');
                    text = lines[i].1.clone();
                    chars = text.chars().collect();
                    j = 0;
                    continue;
                }
                fields.push(std::mem::take(&mut field));
                break;
            }
            let c = chars[j];
            if quoted {
                if c == '"' {
                    if chars.get(j + 1) == Some(&'"') {
                        field.push('"');
                        j += 1;
                    } else {
                        quoted = false;
                    }
                } else {
                    field.push(c);
                }
            } else if c == '"' && at_field_start {
                quoted = true;
            } else if c == sep {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
                j += 1;
                continue;
            } else {
                field.push(c);
            }
            at_field_start = false;
            j += 1;
        }
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            out.push((start, fields));
        }
        i += 1;
    }
    out
}

/// The index of the header column named `want` (case and surrounding spaces ignored).
pub fn column(header: &[String], want: &str) -> Option<usize> {
    header.iter().position(|h| h.trim().eq_ignore_ascii_case(want))
}
