//! Datasets written for this project (see `crate/datasets/README.md`), compiled in so the CLI and the page
//! work offline: `builtin:complaints`, `builtin:sentiment`, `builtin:topics`.

pub const BUILTIN: [(&str, &str); 3] = [
    ("complaints", include_str!("../../datasets/complaints.jsonl")),
    ("sentiment", include_str!("../../datasets/sentiment.jsonl")),
    ("topics", include_str!("../../datasets/topics.jsonl")),
];

/// Data for fine-tuning a language model (`data::lm`): `builtin:lora-lesson`, questions and answers about LoRA.
pub const BUILTIN_LM: [(&str, &str); 1] = [("lora-lesson", include_str!("../../datasets/lora-lesson.jsonl"))];

/// The JSON Lines text of a built-in dataset (either kind).
pub fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().chain(BUILTIN_LM.iter()).find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Whether a file the page loaded (`complaints.jsonl` and its bytes) is one of the built-in sets, unchanged.
pub fn is_builtin(file_name: &str, bytes: &[u8]) -> bool {
    BUILTIN.iter().chain(BUILTIN_LM.iter()).any(|(n, t)| file_name == format!("{n}.jsonl") && t.as_bytes() == bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_balanced_with_300_or_more_examples() {
        for (name, text) in BUILTIN {
            let d = super::super::parse(&format!("{name}.jsonl"), text.as_bytes()).unwrap();
            assert!(d.problems.is_empty(), "{name}: {:?}", d.problems);
            assert!(d.examples.len() >= 300, "{name}: {}", d.examples.len());
            let counts = d.counts();
            assert!(
                counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1,
                "{name} is unbalanced: {counts:?}"
            );
        }
        let (rows, problems) =
            super::super::lm::lm_rows("l.jsonl", builtin("lora-lesson").unwrap().as_bytes()).unwrap();
        assert_eq!((rows.len(), problems.len()), (48, 0));
        let labels = super::super::parse("c.jsonl", builtin("complaints").unwrap().as_bytes()).unwrap().labels;
        assert_eq!(labels, ["bank_account", "credit_card", "debt_collection", "mortgage", "student_loan"]);
    }
}
