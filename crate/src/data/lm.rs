//! Data for fine-tuning a language model, in the three shapes TRL's SFT trainer takes: `{"prompt", "completion"}`
//! (the loss on the completion), `{"messages": [...]}` (a conversation put through the chat template; the loss on
//! the assistant's turns) and `{"text"}` (the loss on every token). JSON Lines, or CSV/TSV with `prompt` and
//! `completion` (or `text`) columns; rows that cannot be used are reported by line, as for labelled datasets.

use serde_json::Value;

use super::jsonl;
use super::lines::{Format, decode, format_of};
use super::problem::RowProblem;
use super::records::{column, records};
use crate::error::Error;
use crate::rng::Rng;

/// One conversation turn (`role`: system, user or assistant).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Turn {
    pub role: String,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LmRow {
    PromptCompletion { prompt: String, completion: String },
    Messages(Vec<Turn>),
    Text(String),
}

/// One usable row and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LmExample {
    pub line: usize,
    pub row: LmRow,
}

fn turns(line: usize, v: &Value) -> Result<Vec<Turn>, RowProblem> {
    let bad = |reason: String| RowProblem { line, reason };
    let items = v.as_array().ok_or_else(|| bad("\"messages\" is not a list".into()))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, m) in items.iter().enumerate() {
        let role =
            m.get("role").and_then(Value::as_str).ok_or_else(|| bad(format!("messages[{i}] has no \"role\"")))?;
        if !matches!(role, "system" | "user" | "assistant") {
            return Err(bad(format!("messages[{i}].role is {role:?} (system, user or assistant)")));
        }
        let content = m
            .get("content")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("messages[{i}] has no \"content\" text")))?;
        out.push(Turn { role: role.into(), content: content.into() });
    }
    if !out.iter().any(|t| t.role == "assistant") {
        return Err(bad("the conversation has no assistant turn to learn".into()));
    }
    Ok(out)
}

fn row(line: usize, v: &Value) -> Result<LmRow, RowProblem> {
    if let Some(m) = v.get("messages") {
        return turns(line, m).map(LmRow::Messages);
    }
    match (jsonl::field(v, "prompt"), jsonl::field(v, "completion"), jsonl::field(v, "text")) {
        (Some(prompt), Some(completion), _) if !completion.is_empty() => {
            Ok(LmRow::PromptCompletion { prompt, completion })
        }
        (Some(_), Some(_), _) => Err(RowProblem { line, reason: "empty \"completion\"".into() }),
        (Some(_), None, _) => Err(RowProblem { line, reason: "a \"prompt\" without a \"completion\"".into() }),
        (None, _, Some(text)) if !text.trim().is_empty() => Ok(LmRow::Text(text)),
        _ => Err(RowProblem { line, reason: "needs \"prompt\" and \"completion\", \"messages\", or \"text\"".into() }),
    }
}

/// The order in which `n` rows are split (shuffled by `seed`) and how many of the first are held out: `val_fraction`
/// of them, rounded, at least one row left to train on. The page and `train` split by it alike.
pub fn held_out_split(n: usize, val_fraction: f64, seed: u64) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let n_val = if n > 1 { ((n as f64 * val_fraction).round() as usize).min(n - 1) } else { 0 };
    (order, n_val)
}

/// The rows of `bytes` (a file named `name`), and the rows that could not be used.
pub fn lm_rows(name: &str, bytes: &[u8]) -> Result<(Vec<LmExample>, Vec<RowProblem>), Error> {
    let (lines, mut problems) = decode(name, bytes)?;
    let mut out = Vec::new();
    match format_of(name, &lines) {
        Format::Jsonl => {
            for (line, text) in lines.iter().filter(|(_, t)| !t.trim().is_empty()) {
                match jsonl::object(*line, text).and_then(|v| row(*line, &v)) {
                    Ok(r) => out.push(LmExample { line: *line, row: r }),
                    Err(p) => problems.push(p),
                }
            }
        }
        Format::Delimited(sep) => {
            let records = records(&lines, sep, &mut problems);
            let Some((header_line, header)) = records.first() else { return Err(Error::invalid(name, "is empty")) };
            let cols = (column(header, "prompt"), column(header, "completion"), column(header, "text"));
            if cols.0.is_some() != cols.1.is_some() || (cols.0.is_none() && cols.2.is_none()) {
                let mut e = Error::invalid(
                    name,
                    format!(
                        "the header must name `prompt` and `completion` columns (or `text`); found: {}",
                        header.join(", ")
                    ),
                );
                e.line = Some(*header_line);
                return Err(e);
            }
            for (line, fields) in &records[1..] {
                let get = |c: Option<usize>| c.and_then(|i| fields.get(i)).cloned();
                let r = match (get(cols.0), get(cols.1), get(cols.2)) {
                    (Some(prompt), Some(completion), _) if !completion.trim().is_empty() => {
                        Ok(LmRow::PromptCompletion { prompt, completion })
                    }
                    (_, _, Some(text)) if !text.trim().is_empty() => Ok(LmRow::Text(text)),
                    _ => Err(RowProblem { line: *line, reason: "empty completion".into() }),
                };
                match r {
                    Ok(r) => out.push(LmExample { line: *line, row: r }),
                    Err(p) => problems.push(p),
                }
            }
        }
    }
    if out.is_empty() {
        let why = problems.first().map(|p| format!(" (line {}: {})", p.line, p.reason)).unwrap_or_default();
        return Err(Error::invalid(name, format!("holds no usable row for a language model{why}")));
    }
    Ok((out, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_in_three_shapes_and_bad_ones_are_named_by_line() {
        let jsonl = br#"{"prompt": "Q: r?", "completion": " The rank."}
{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
{"text": "Plain text."}
{"prompt": "no completion"}
{"messages": [{"role": "user", "content": "only a question"}]}
{"messages": [{"role": "robot", "content": "x"}]}
not json
"#;
        let (rows, problems) = lm_rows("lesson.jsonl", jsonl).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(matches!(&rows[1].row, LmRow::Messages(m) if m.len() == 2));
        assert_eq!(problems.iter().map(|p| p.line).collect::<Vec<_>>(), [4, 5, 6, 7]);
        assert!(problems[2].reason.contains("robot"));
        let (rows, _) =
            lm_rows("lesson.csv", b"prompt,completion\n\"What is r?\",\" The rank, of course.\"\n").unwrap();
        assert_eq!(
            rows[0].row,
            LmRow::PromptCompletion { prompt: "What is r?".into(), completion: " The rank, of course.".into() }
        );
        let e = lm_rows("lesson.csv", b"question,answer\na,b\n").unwrap_err();
        assert!(e.message.contains("`prompt` and `completion`") && e.line == Some(1), "{}", e.message);
        assert!(lm_rows("x.jsonl", b"{\"label\": 1}\n").unwrap_err().message.contains("line 1"));
    }
}
