//! Reads labelled text from CSV, TSV (with a header naming `text` and `label`) or JSON Lines
//! (`{"text": ..., "label": ...}`). Bad rows are reported with their line and reason and skipped; only a file
//! with nothing usable (or fewer than two classes) is an error. Nothing here panics on any input.

use std::collections::BTreeMap;

use serde::Serialize;

use super::jsonl;
use super::lines::{Format, decode, format_of};
pub use super::problem::RowProblem;
use super::records::{column, records};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    pub text: String,
    /// Index into `Dataset::labels`.
    pub label: usize,
    /// 1-based line where the row starts, for messages.
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub examples: Vec<Example>,
    /// Label names, sorted; `Example::label` indexes this.
    pub labels: Vec<String>,
    /// Rows that were skipped, and why.
    pub problems: Vec<RowProblem>,
}

impl Dataset {
    pub fn counts(&self) -> Vec<usize> {
        label_counts(&self.examples, self.labels.len())
    }
}

/// Examples per label index (of `num_labels`) in `examples`: a whole dataset, or one side of its split.
pub fn label_counts(examples: &[Example], num_labels: usize) -> Vec<usize> {
    let mut c = vec![0; num_labels];
    for e in examples {
        c[e.label] += 1;
    }
    c
}

/// Parses a labelled dataset from raw bytes; `name` (a file name) only picks the format and labels messages.
pub fn parse(name: &str, bytes: &[u8]) -> Result<Dataset, Error> {
    let (lines, mut problems) = decode(name, bytes)?;
    let rows = match format_of(name, &lines) {
        Format::Jsonl => jsonl_rows(&lines, &mut problems),
        Format::Delimited(sep) => delimited_rows(name, &lines, sep, &mut problems)?,
    };
    finish(name, rows, problems)
}

/// More classes than this is a column mix-up (an id, a free-text field), not a classification task to learn here.
pub const MAX_CLASSES: usize = 200;

/// `(line, text, label)` rows, before label checks.
type Rows = Vec<(usize, String, String)>;

fn jsonl_rows(lines: &[(usize, String)], problems: &mut Vec<RowProblem>) -> Rows {
    let mut rows = Vec::new();
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        let value = match jsonl::object(*line, text) {
            Ok(v) => v,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        match (jsonl::field(&value, "text"), jsonl::field(&value, "label")) {
            (None, _) => problems.push(RowProblem { line: *line, reason: "no \"text\" string".into() }),
            (_, None) => problems.push(RowProblem { line: *line, reason: "missing label (no \"label\" field)".into() }),
            (Some(t), Some(l)) => rows.push((*line, t, l)),
        }
    }
    rows
}

fn delimited_rows(
    name: &str,
    lines: &[(usize, String)],
    sep: u8,
    problems: &mut Vec<RowProblem>,
) -> Result<Rows, Error> {
    let records = records(lines, sep, problems);
    let Some((header_line, header)) = records.first() else {
        return Err(Error::invalid(name, "is empty"));
    };
    let find = |want: &str| column(header, want);
    let what = if sep == b'\t' { "TSV" } else { "CSV" };
    for want in ["text", "label"] {
        if header.iter().filter(|h| h.trim().eq_ignore_ascii_case(want)).count() > 1 {
            let mut e =
                Error::invalid(name, format!("the {what} header names a `{want}` column twice: which one is meant?"));
            e.line = Some(*header_line);
            return Err(e);
        }
    }
    let (Some(ti), Some(li)) = (find("text"), find("label")) else {
        let mut e = Error::invalid(
            name,
            format!("the {what} header must name a `text` and a `label` column; found: {}", header.join(", ")),
        );
        e.line = Some(*header_line);
        return Err(e);
    };
    let mut rows = Vec::new();
    for (line, fields) in &records[1..] {
        match (fields.get(ti), fields.get(li)) {
            (Some(t), Some(l)) => rows.push((*line, t.clone(), l.clone())),
            (None, _) => problems
                .push(RowProblem { line: *line, reason: format!("only {} fields; no text column", fields.len()) }),
            (_, None) => problems.push(RowProblem { line: *line, reason: "missing label".into() }),
        }
    }
    Ok(rows)
}

fn finish(name: &str, rows: Rows, mut problems: Vec<RowProblem>) -> Result<Dataset, Error> {
    let mut kept = Vec::new();
    for (line, text, label) in rows {
        let (text, label) = (text.trim().to_string(), label.trim().to_string());
        if text.is_empty() {
            problems.push(RowProblem { line, reason: "empty text".into() });
        } else if label.is_empty() {
            problems.push(RowProblem { line, reason: "missing label".into() });
        } else {
            kept.push((line, text, label));
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, _, l) in &kept {
        *counts.entry(l.clone()).or_default() += 1;
    }
    // A class with one example cannot be both trained on and validated: report it, drop it.
    kept.retain(|(line, _, l)| {
        let single = counts[l] == 1;
        if single {
            problems.push(RowProblem {
                line: *line,
                reason: format!("label '{l}' is seen only once; a class needs at least 2 examples"),
            });
        }
        !single
    });
    counts.retain(|_, n| *n > 1);
    problems.sort_by_key(|p| p.line);
    if counts.len() < 2 {
        let found =
            if counts.is_empty() { "none".to_string() } else { counts.keys().cloned().collect::<Vec<_>>().join(", ") };
        let detail =
            problems.iter().take(3).map(|p| format!("line {}: {}", p.line, p.reason)).collect::<Vec<_>>().join("; ");
        return Err(Error::invalid(
            name,
            format!(
                "needs at least 2 classes with 2+ examples each; usable classes: {found}{}",
                if detail.is_empty() { String::new() } else { format!(" (first problems: {detail})") }
            ),
        ));
    }
    if counts.len() > MAX_CLASSES {
        return Err(Error::invalid(
            name,
            format!(
                "has {} classes; the playground trains at most {MAX_CLASSES} (is `label` the right column?)",
                counts.len()
            ),
        ));
    }
    let labels: Vec<String> = counts.keys().cloned().collect();
    let examples = kept
        .into_iter()
        .map(|(line, text, l)| Example {
            text,
            label: labels.iter().position(|x| *x == l).expect("kept labels are counted"),
            line,
        })
        .collect();
    Ok(Dataset { examples, labels, problems })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_commas_and_newlines() {
        let csv =
            "id,text,label\n1,\"Hello, world\",pos\n2,\"She said \"\"no\"\"\nand left\",neg\n3,fine,pos\n4,bad,neg\n";
        let d = parse("d.csv", csv.as_bytes()).unwrap();
        assert_eq!(d.labels, vec!["neg", "pos"]);
        assert_eq!(d.examples[0].text, "Hello, world");
        assert_eq!(d.examples[1].text, "She said \"no\"\nand left");
        assert_eq!(d.examples[1].line, 3);
        assert_eq!(d.examples[2].line, 5, "line numbers count the embedded newline");
        assert!(d.problems.is_empty());
    }

    #[test]
    fn tsv_and_jsonl() {
        let tsv = "label\ttext\na\tone\nb\ttwo\na\tthree\nb\tfour\n";
        assert_eq!(parse("x.tsv", tsv.as_bytes()).unwrap().examples.len(), 4);
        let jsonl = "{\"text\": \"one\", \"label\": 1}\n\n{\"text\": \"two\", \"label\": 0}\n{\"text\": \"3\", \"label\": 1}\n{\"text\": \"4\", \"label\": 0}\n";
        let d = parse("x.jsonl", jsonl.as_bytes()).unwrap();
        assert_eq!(d.labels, vec!["0", "1"]);
        assert_eq!(d.examples[1].line, 3);
    }

    #[test]
    fn bad_rows_are_reported_with_line_and_reason_and_skipped() {
        let mut bytes = b"text,label\ngood one,a\n,b\nno label here,\ngood two,b\n".to_vec();
        bytes.extend_from_slice(b"bad \xff byte,a\ngood three,a\nlonely,c\ngood four,b\n");
        let d = parse("d.csv", &bytes).unwrap();
        let reasons: Vec<(usize, &str)> = d.problems.iter().map(|p| (p.line, p.reason.as_str())).collect();
        assert_eq!(reasons[0], (3, "empty text"));
        assert_eq!(reasons[1], (4, "missing label"));
        assert_eq!(reasons[2].0, 6);
        assert!(reasons[2].1.contains("UTF-8"));
        assert_eq!(reasons[3], (8, "label 'c' is seen only once; a class needs at least 2 examples"));
        assert_eq!(d.examples.len(), 4);
    }

    #[test]
    fn jsonl_problems() {
        let text = "{\"text\": \"x\"}\nnot json\n{\"label\": \"a\"}\n{\"text\": \"a1\", \"label\": \"a\"}\n{\"text\": \"a2\", \"label\": \"a\"}\n{\"text\": \"b1\", \"label\": \"b\"}\n{\"text\": \"b2\", \"label\": \"b\"}";
        let d = parse("d.jsonl", text.as_bytes()).unwrap();
        let lines: Vec<usize> = d.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2, 3]);
        assert!(d.problems[0].reason.contains("missing label"));
        assert!(d.problems[1].reason.contains("not a JSON object"));
    }

    #[test]
    fn what_is_not_utf8_text_is_named_for_what_it_is() {
        let utf16: Vec<u8> =
            [0xff, 0xfe].into_iter().chain("text,label\na,x\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        let e = parse("d.csv", &utf16).unwrap_err();
        assert!(e.message.contains("UTF-16") && e.message.contains("save it as UTF-8"), "{e}");
        let e = parse("d.csv", b"PK\x03\x04\x14\x00\x00\x00").unwrap_err();
        assert!(e.message.contains("not a text file") && e.message.contains("byte 6"), "{e}");
        let e = parse("d.csv", b"text,label\ncaf\xe9,a\nna\xefve,b\n").unwrap_err();
        assert!(e.message.contains("not UTF-8 text (2 of 3 lines"), "{e}");
        let e = parse("d.csv", b"text,label,text\na,x,b\n").unwrap_err();
        assert!(e.message.contains("`text` column twice") && e.line == Some(1), "{e}");
        let many: String = (0..402).map(|i| format!("t{i},c{}\n", i / 2)).collect();
        let e = parse("d.csv", format!("text,label\n{many}").as_bytes()).unwrap_err();
        assert!(e.message.contains("has 201 classes"), "{e}");
    }

    #[test]
    fn files_that_cannot_train_are_errors_not_panics() {
        assert!(parse("d.csv", b"").unwrap_err().message.contains("empty"));
        let e = parse("d.csv", b"words,category\nhi,a\n").unwrap_err();
        assert!(e.message.contains("`text` and a `label`") && e.line == Some(1), "{e}");
        let e = parse("d.csv", b"text,label\na,x\nb,x\nc,x\n").unwrap_err();
        assert!(e.message.contains("at least 2 classes"), "{e}");
        let e = parse("d.csv", b"text,label\n\"never closed,x\n").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
        for junk in [&b"\xff\xfe\x00"[..], b"{", b"\"", b",,,\n,,,", b"\n\n\n"] {
            assert!(parse("junk.csv", junk).is_err());
        }
    }
}
