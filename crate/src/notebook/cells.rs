//! The script is written in the "percent" format Jupytext, VS Code and Spyder read as cells (`# %%` opens a code
//! cell, `# %% [markdown]` a markdown cell whose lines are comments), so the `.py` file runs as it is and the
//! notebook is the same text cut at those marks: one source for both, which therefore cannot drift apart.

use serde_json::{Value, json};

/// The notebook (nbformat 4) of a percent-format script.
pub fn notebook(script: &str) -> String {
    let mut cells: Vec<Value> = Vec::new();
    let mut current: Option<(bool, Vec<String>)> = None;
    let flush = |cell: Option<(bool, Vec<String>)>, cells: &mut Vec<Value>| {
        if let Some((markdown, mut lines)) = cell {
            while lines.last().is_some_and(|l| l.trim().is_empty()) {
                lines.pop();
            }
            if lines.is_empty() {
                return;
            }
            let last = lines.len() - 1;
            // nbformat keeps a cell's source as lines, each with its newline but the last.
            let source: Vec<String> =
                lines.iter().enumerate().map(|(i, l)| if i < last { format!("{l}\n") } else { l.clone() }).collect();
            // nbformat 4.5 wants an id on every cell; the position keeps the output the same for the same run.
            let id = format!("cell-{}", cells.len());
            cells.push(if markdown {
                json!({"cell_type": "markdown", "id": id, "metadata": {}, "source": source})
            } else {
                json!({"cell_type": "code", "id": id, "execution_count": null, "metadata": {}, "outputs": [], "source": source})
            });
        }
    };
    for line in script.lines() {
        if let Some(mark) = line.strip_prefix("# %%") {
            flush(current.take(), &mut cells);
            current = Some((mark.trim() == "[markdown]", Vec::new()));
            continue;
        }
        let (markdown, lines) = current.get_or_insert((false, Vec::new()));
        if *markdown {
            let text = line.strip_prefix("# ").or_else(|| line.strip_prefix('#')).unwrap_or(line);
            lines.push(text.to_string());
        } else if !(lines.is_empty() && line.trim().is_empty()) {
            lines.push(line.to_string());
        }
    }
    flush(current.take(), &mut cells);
    let nb = json!({
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "jupytext": {"formats": "ipynb,py:percent"}
        },
        "nbformat": 4,
        "nbformat_minor": 5
    });
    serde_json::to_string_pretty(&nb).expect("a notebook serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_marks_cut_the_script_into_markdown_and_code_cells() {
        let nb: Value =
            serde_json::from_str(&notebook("# %% [markdown]\n# # Title\n# text\n\n# %%\nx = 1\n\ny = 2\n\n# %%\n\n"))
                .unwrap();
        let cells = nb["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 2, "{nb}");
        assert_eq!(cells[0]["source"], json!(["# Title\n", "text"]));
        assert_eq!(cells[1]["source"], json!(["x = 1\n", "\n", "y = 2"]));
        assert_eq!(cells[1]["cell_type"], "code");
        assert_eq!(nb["nbformat"], 4);
    }
}
