//! Texts to classify (`predict --input`): JSON Lines with a `text` field, CSV/TSV whose header names a `text`
//! column, or else one text per line, read with the same decoding, records and field rules as labelled datasets.

use super::jsonl;
use super::lines::{Format, decode, format_of};
use super::problem::RowProblem;
use super::records::{column, records};
use crate::error::Error;

/// Texts to classify: JSON Lines with a `text` field, CSV/TSV whose header names a `text` column, or else one
/// text per line. Unreadable rows are reported like `parse` does; returns `(line, text)` pairs.
pub fn texts(name: &str, bytes: &[u8]) -> Result<(Vec<(usize, String)>, Vec<RowProblem>), Error> {
    let (lines, mut problems) = decode(name, bytes)?;
    let lower = name.to_ascii_lowercase();
    let mut out = Vec::new();
    match format_of(name, &lines) {
        Format::Jsonl => {
            for (line, text) in lines.iter().filter(|(_, t)| !t.trim().is_empty()) {
                match jsonl::object(*line, text).map(|v| jsonl::field(&v, "text")) {
                    Ok(Some(t)) if !t.trim().is_empty() => out.push((*line, t.trim().to_string())),
                    Ok(Some(_)) => problems.push(RowProblem { line: *line, reason: "empty text".into() }),
                    Ok(None) => problems.push(RowProblem { line: *line, reason: "no \"text\" string".into() }),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        Format::Delimited(sep) if lower.ends_with(".csv") || lower.ends_with(".tsv") => {
            let records = records(&lines, sep, &mut problems);
            let Some((header_line, header)) = records.first() else { return Err(Error::invalid(name, "is empty")) };
            let Some(ti) = column(header, "text") else {
                let mut e =
                    Error::invalid(name, format!("the header must name a `text` column; found: {}", header.join(", ")));
                e.line = Some(*header_line);
                return Err(e);
            };
            for (line, fields) in &records[1..] {
                match fields.get(ti).map(|t| t.trim()) {
                    Some(t) if !t.is_empty() => out.push((*line, t.to_string())),
                    _ => problems.push(RowProblem { line: *line, reason: "empty text".into() }),
                }
            }
        }
        Format::Delimited(_) => {
            out.extend(lines.into_iter().filter(|(_, t)| !t.trim().is_empty()).map(|(l, t)| (l, t.trim().to_string())))
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(name, "holds no text to classify"));
    }
    Ok((out, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_from_lines_csv_or_jsonl() {
        let (t, p) = texts("in.txt", b"first text\n\n second, with a comma \n").unwrap();
        assert_eq!(t, [(1, "first text".to_string()), (3, "second, with a comma".to_string())]);
        assert!(p.is_empty());
        let (t, _) = texts("in.csv", b"id,text\n1,\"quoted, text\"\n2,plain\n").unwrap();
        assert_eq!(t.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(), ["quoted, text", "plain"]);
        let (t, p) = texts("in.jsonl", b"{\"text\": \"a\"}\n{\"label\": 1}\nnot json\n").unwrap();
        assert_eq!(t, [(1, "a".to_string())]);
        assert_eq!(p.iter().map(|x| x.line).collect::<Vec<_>>(), [2, 3]);
        assert!(texts("in.csv", b"id,label\n1,x\n").unwrap_err().message.contains("`text` column"));
        assert!(texts("in.txt", b"\n \n").is_err());
        let (t, p) = texts("in.txt", b"ok\n\xff\xfe\n").unwrap();
        assert_eq!((t.len(), p[0].line), (1, 2));
    }
}
