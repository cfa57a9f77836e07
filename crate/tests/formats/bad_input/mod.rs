//! Bad input by the hundred: a generated corpus of broken datasets, `config.json` files, tokenizers, safetensors
//! files, adapter folders and link settings, each run through the code the page and the CLI use. Every case must
//! end in its expected outcome (refused with a message naming the file or field, or read with the bad row
//! skipped and named by line), within a time limit, and none may panic.
#![cfg(feature = "train")]

mod cases;
mod configs;
mod datasets;
mod files;

use cases::{Case, run_all};

#[test]
fn every_bad_input_gets_a_message_naming_its_file_line_or_field_and_nothing_panics_or_hangs() {
    let groups: Vec<(&str, Vec<Case>)> = vec![
        ("datasets", datasets::cases()),
        ("config.json", configs::cases()),
        ("tokenizers, safetensors and adapter folders", files::cases()),
        ("link settings", configs::plan_cases()),
    ];
    let total: usize = groups.iter().map(|(_, c)| c.len()).sum();
    for (name, cases) in &groups {
        eprintln!("{name}: {} cases", cases.len());
    }
    assert!(total >= 150, "the corpus has {total} cases");
    let failures: Vec<String> = groups.into_iter().flat_map(|(_, cases)| run_all(cases)).collect();
    assert!(failures.is_empty(), "{} of {total} cases failed:\n{}", failures.len(), failures.join("\n"));
}
