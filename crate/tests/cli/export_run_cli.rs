//! `export-run` as the binary runs it: a saved run's folder and a plan not yet trained become `run.ipynb`, `run.py`
//! and the data file, with the counts `train` showed; bad input is named, never a panic. (What the script holds, value
//! by value, is checked in `crate/tests/train/export_run.rs`.)
#![cfg(feature = "train")]

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lora-playground")).args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The line of `run.py` that starts with `key`.
fn line(dir: &Path, key: &str) -> String {
    let script = std::fs::read_to_string(dir.join("run.py")).unwrap();
    script.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key} in run.py")).to_string()
}

#[test]
fn a_saved_run_and_a_plan_become_a_notebook_a_script_and_their_data() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_run_cli");
    let _ = std::fs::remove_dir_all(&dir);
    let model = dir.join("tiny");
    assert!(run(&["tiny-model", "--out", s(&model)]).status.success());
    let saved = dir.join("saved");
    let o = run(&[
        "train",
        "--model",
        s(&model),
        "--data",
        "builtin:sentiment",
        "--epochs",
        "1",
        "--r",
        "4",
        "--max-len",
        "16",
        "--out",
        s(&saved),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // train's PEFT line is the one the notebook sets beside PEFT's own.
    let err = stderr(&o);
    let shown = err.lines().find_map(|l| l.split("; trainable params: ").nth(1)).unwrap();
    let shown = shown.split(';').next().unwrap().trim().replace(',', "");
    let out = dir.join("notebook");
    let o = run(&["export-run", "--run", s(&saved), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    for want in ["run.ipynb", "run.py", "sentiment.jsonl"] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    let figure = line(&out, "PAGE_FIGURE").replace(',', "");
    assert!(figure.contains(&shown), "{figure} vs train's {shown}");
    assert_eq!(
        line(&out, "MODEL = "),
        format!(
            "MODEL = \"{}\"  # a Hub id, or a folder with config.json, tokenizer.json and model.safetensors",
            model.canonicalize().unwrap().display()
        )
    );
    assert!(std::fs::read_to_string(out.join("run.py")).unwrap().contains("    r=4,\n"));
    // --to script writes no notebook.
    let only = dir.join("only-script");
    assert!(run(&["export-run", "--run", s(&saved), "--out", s(&only), "--to", "script"]).status.success());
    assert!(only.join("run.py").is_file() && !only.join("run.ipynb").exists());

    // A plan, not trained: train's flags and defaults, the calculator's counts.
    let plan = dir.join("plan");
    let o = run(&[
        "export-run",
        "--model",
        s(&model),
        "--data",
        "builtin:sentiment",
        "--r",
        "16",
        "--method",
        "lora",
        "--out",
        s(&plan),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(plan.join("run.py")).unwrap().contains("    r=16,\n"));
    assert!(line(&plan, "PAGE_FIGURE").contains("trainable params: "), "{}", line(&plan, "PAGE_FIGURE"));
    assert_eq!(
        line(&plan, "DATA_FILE"),
        "DATA_FILE = \"sentiment.jsonl\"  # the page's built-in set, written beside this file"
    );
}

#[test]
fn bad_input_to_export_run_is_named() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_run_cli_bad");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (args, expect) in [
        (vec!["export-run"], "give --run DIR"),
        (vec!["export-run", "--run", s(&dir)], "training.json"),
        (vec!["export-run", "--run", s(&dir), "--to", "pdf"], "--to: must be notebook, script or both"),
        (
            vec!["export-run", "--data", "builtin:nope", "--out", s(&dir)],
            "--data builtin:nope: no such built-in dataset (there are: complaints",
        ),
        (vec!["export-run", "--data", "builtin:complaints", "--out", s(&dir), "--r", "0"], "--r"),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
    }
    std::fs::write(dir.join("training.json"), "{\"labels\": [\"a\", \"b\"]}").unwrap();
    let o = run(&["export-run", "--run", s(&dir)]);
    assert!(stderr(&o).contains("has no `plan`"), "{}", stderr(&o));
}
