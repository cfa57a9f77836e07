//! A run as a Hugging Face PEFT notebook and script (issue 29): the notebook is valid nbformat 4 and runs the same
//! code as the script, Python compiles the script, every setting as Python reads it equals the plan, and the rows
//! the script trains and validates on are the page's split, row for row. Needs only `python3` (no torch): the
//! script's dry run (`LP_DRY_RUN=1`) stops before it imports torch.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use lora_playground::data::builtin::builtin;
use lora_playground::data::lm::{LmRow, held_out_split, lm_rows};
use lora_playground::data::{self, split::stratified};
use lora_playground::model::packed::Base;
use lora_playground::notebook::{self, Run, RunExport};
use lora_playground::train::causal::plan::plan_from_json;
use lora_playground::train::plan::Plan;

fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lp-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the export's files into `dir`, checks the notebook against the script, and returns the dry run's JSON.
fn written_and_dry_run(dir: &Path, export: &RunExport, data: &[u8]) -> Value {
    for (name, bytes) in notebook::files(export, data).unwrap() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let compiled = Command::new("python3").args(["-m", "py_compile", "run.py"]).current_dir(dir).output().unwrap();
    assert!(compiled.status.success(), "{}", String::from_utf8_lossy(&compiled.stderr));

    let nb: Value = serde_json::from_slice(&std::fs::read(dir.join("run.ipynb")).unwrap()).unwrap();
    assert_eq!((nb["nbformat"].as_u64(), nb["nbformat_minor"].as_u64()), (Some(4), Some(5)));
    let cells = nb["cells"].as_array().unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for c in cells {
        assert!(matches!(c["cell_type"].as_str(), Some("code" | "markdown")), "{c}");
        assert!(c["source"].is_array() && c["metadata"].is_object(), "{c}");
        assert!(ids.insert(c["id"].as_str().unwrap().to_string()), "cell ids are unique");
        if c["cell_type"] == "code" {
            assert!(c["outputs"].as_array().unwrap().is_empty() && c["execution_count"].is_null());
        }
    }
    // The first cell says what the notebook needs.
    let first: String = cells[0]["source"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(cells[0]["cell_type"] == "markdown" && first.contains("pip install") && first.contains("peft"), "{first}");
    // The notebook's code cells, run in order, do what the script does.
    let code: Vec<String> = cells
        .iter()
        .filter(|c| c["cell_type"] == "code")
        .map(|c| c["source"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect::<String>())
        .collect();
    std::fs::write(dir.join("cells.py"), code.join("\n\n")).unwrap();
    let script = dry_run(dir, "run.py");
    assert_eq!(dry_run(dir, "cells.py"), script, "the notebook's cells and the script differ");
    script
}

fn dry_run(dir: &Path, file: &str) -> Value {
    let out = Command::new("python3").arg(file).env("LP_DRY_RUN", "1").current_dir(dir).output().unwrap();
    assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

fn export(run: Run, model: &str, gguf_file: Option<&str>, data_file: &str) -> RunExport {
    RunExport {
        run,
        model: model.into(),
        gguf_file: gguf_file.map(String::from),
        data_file: data_file.into(),
        builtin_data: false,
        page_figure: "trainable params: 1 || all params: 2 || trainable%: 50.0000".into(),
        origin: "A test.".into(),
    }
}

/// A CSV as Windows spreadsheets save them: CRLF line ends (inside a quoted field too), quoted commas, an empty row,
/// a class seen once, numbers as labels, a line that is not UTF-8 (skipped), a Unicode line separator in a text.
const AWKWARD_CSV: &[u8] = b"id,Text,label\r\n1,\"Great, really great\",1\r\n2,\"Two\r\nlines\",0\r\n3,plain,1\r\n\r\n\
4,  padded  ,0\r\n5,once,7\r\n6,\"say \"\"hi\"\"\",0\r\n7,,1\r\n8,more,1\r\n9,again,0\r\n10,and more,1\r\n\
11,bad \xff byte,0\r\n12,a \xe2\x80\xa8 separator,1\n";

#[test]
fn a_classifier_run_exports_every_setting_and_the_page_s_split() {
    // Settings away from every default, so a value the script dropped or took from elsewhere shows.
    let plan = Plan::from_json(&json!({
        "method": "lora", "r": 4, "lora_alpha": 12, "target_modules": "query,key", "use_rslora": true,
        "layers_to_transform": "0,1", "bias": "lora_only", "lora_dropout": 0.05, "epochs": 2, "batch_size": 8,
        "lr": 1e-3, "weight_decay": 0.02, "warmup_ratio": 0.2, "max_grad_norm": 0.5, "max_len": 48, "seed": 7,
        "val_fraction": 0.25,
    }))
    .unwrap();
    let complaints = builtin("complaints").unwrap().as_bytes().to_vec();
    for (name, bytes) in [("complaints.jsonl", complaints), ("awkward.csv", AWKWARD_CSV.to_vec())] {
        let d = data::parse(name, &bytes).unwrap();
        let run = Run::Classifier { plan: plan.clone(), labels: d.labels.clone() };
        let dir = folder(name);
        let v = written_and_dry_run(&dir, &export(run, "sentence-transformers/all-MiniLM-L6-v2", None, name), &bytes);
        let s = &v["settings"];
        assert_eq!(s["MODEL"], "sentence-transformers/all-MiniLM-L6-v2");
        assert_eq!((s["DATA_FILE"].as_str(), s["METHOD"].as_str()), (Some(name), Some("lora")));
        assert_eq!(s["LABELS"], json!(d.labels));
        assert_eq!(
            (s["MAX_LENGTH"].as_u64(), s["VAL_FRACTION"].as_f64(), s["SEED"].as_u64()),
            (Some(48), Some(0.25), Some(7))
        );
        assert_eq!(
            s["LORA"],
            json!({"task_type": "SEQ_CLS", "r": 4, "lora_alpha": 12.0, "target_modules": ["query", "key"],
                   "layers_to_transform": [0, 1], "bias": "lora_only", "use_rslora": true, "lora_dropout": 0.05,
                   "modules_to_save": ["classifier", "score"]})
        );
        assert_eq!(
            s["TRAINING"],
            json!({"learning_rate": 1e-3, "num_train_epochs": 2, "per_device_train_batch_size": 8,
                   "weight_decay": 0.02, "max_grad_norm": 0.5, "lr_scheduler_type": "linear", "seed": 7})
        );
        assert_eq!(s["WARMUP_RATIO"].as_f64(), Some(0.2));
        // The page's split, row for row and in its order.
        let (train, val) = stratified(&d.examples, d.labels.len(), 0.25, 7);
        let texts = |e: &[data::Example]| json!(e.iter().map(|e| e.text.clone()).collect::<Vec<_>>());
        assert_eq!((&v["train"], &v["validation"]), (&texts(&train), &texts(&val)), "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
    // The awkward file: "once" (a class seen once), the empty text and the line that is not UTF-8 are skipped.
    assert_eq!(data::parse("a.csv", AWKWARD_CSV).unwrap().examples.len(), 9);
}

#[test]
fn other_methods_train_what_the_page_trains_and_lm_head_only_is_refused() {
    for method in ["full", "head", "bitfit"] {
        let plan = Plan::from_json(&json!({"method": method})).unwrap();
        let run = Run::Classifier { plan: plan.clone(), labels: vec!["a".into(), "b".into()] };
        let script = notebook::script(&export(run, "m", None, "d.csv")).unwrap();
        assert!(!script.contains("get_peft_model") && !script.contains("LORA = "), "{method}");
        assert!(script.contains(&format!("learning_rate={:?}", plan.train.lr)), "{method}: the method's own rate");
        let dir = folder(method);
        std::fs::write(dir.join("run.py"), &script).unwrap();
        let out = Command::new("python3").args(["-m", "py_compile", "run.py"]).current_dir(&dir).output().unwrap();
        assert!(out.status.success(), "{method}: {}", String::from_utf8_lossy(&out.stderr));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let run =
        Run::CausalLm { plan: plan_from_json(&json!({"method": "head"})).unwrap(), max_len: 64, val_fraction: 0.2 };
    assert_eq!(notebook::script(&export(run, "m", None, "d.jsonl")).unwrap_err().field, "method");
}

/// The rows `held_out_split` holds out, as the script's dry run prints them.
fn as_json(row: &LmRow) -> Value {
    match row {
        LmRow::PromptCompletion { prompt, completion } => json!({"prompt": prompt, "completion": completion}),
        LmRow::Messages(turns) => json!({"messages": turns}),
        LmRow::Text(t) => json!({"text": t}),
    }
}

#[test]
fn language_model_runs_export_lora_and_qlora_with_the_page_s_held_out_rows() {
    let lesson = builtin("lora-lesson").unwrap().as_bytes().to_vec();
    let mixed = concat!(
        r#"{"prompt": "Q: r?", "completion": " The rank."}"#, "\n",
        r#"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}"#, "\n",
        r#"{"text": "Plain text."}"#, "\n",
        "{\"text\": \"A line\u{2028}separator inside a string.\"}\r\n",
        r#"{"prompt": "no completion"}"#, "\n",
        r#"{"messages": [{"role": "robot", "content": "x"}]}"#, "\n",
        "not json\n",
        r#"{"prompt": "Q: alpha?", "completion": " A scale."}"#, "\n",
    )
    .as_bytes()
    .to_vec();
    for (base, name, bytes) in [(Base::Float32, "lora-lesson.jsonl", lesson), (Base::Nf4, "mixed.jsonl", mixed)] {
        let plan = plan_from_json(&json!({
            "r": 16, "lora_alpha": 8, "target_modules": "q_proj,v_proj", "lora_dropout": 0.1, "learning_rate": 5e-4,
            "num_train_epochs": 4, "per_device_train_batch_size": 2, "weight_decay": 0.01, "warmup_ratio": 0.05,
            "max_grad_norm": 2.0, "seed": 11, "base": base.name(),
            // QLoRA as PEFT's recipe runs it: with gradient checkpointing.
            "gradient_checkpointing": base == Base::Nf4,
        }))
        .unwrap();
        let run = Run::CausalLm { plan, max_len: 96, val_fraction: 0.3 };
        let dir = folder(name);
        let e = export(run, ".", Some("SmolLM2-135M-Instruct.Q4_1.gguf"), name);
        let v = written_and_dry_run(&dir, &e, &bytes);
        let s = &v["settings"];
        assert_eq!(
            (s["MODEL"].as_str(), s["GGUF_FILE"].as_str()),
            (Some("."), Some("SmolLM2-135M-Instruct.Q4_1.gguf"))
        );
        assert_eq!(
            (s["BASE"].as_str(), s["MAX_LENGTH"].as_u64(), s["SEED"].as_u64()),
            (Some(base.name()), Some(96), Some(11))
        );
        assert_eq!(s["VAL_FRACTION"].as_f64(), Some(0.3));
        assert_eq!(
            s["LORA"],
            json!({"task_type": "CAUSAL_LM", "r": 16, "lora_alpha": 8.0, "target_modules": ["q_proj", "v_proj"],
                   "layers_to_transform": null, "bias": "none", "use_rslora": false, "lora_dropout": 0.1,
                   "modules_to_save": null})
        );
        assert_eq!(
            s["TRAINING"],
            json!({"learning_rate": 5e-4, "num_train_epochs": 4, "per_device_train_batch_size": 2,
                   "weight_decay": 0.01, "max_grad_norm": 2.0, "lr_scheduler_type": "linear", "seed": 11})
        );
        assert_eq!(s["WARMUP_RATIO"].as_f64(), Some(0.05));
        let (rows, _) = lm_rows(name, &bytes).unwrap();
        let (order, n_val) = held_out_split(rows.len(), 0.3, 11);
        let pick = |ix: &[usize]| json!(ix.iter().map(|&i| as_json(&rows[i].row)).collect::<Vec<_>>());
        assert_eq!((&v["held_out"], &v["train"]), (&pick(&order[..n_val]), &pick(&order[n_val..])), "{name}");
        let script = std::fs::read_to_string(dir.join("run.py")).unwrap();
        let qlora = [
            "BitsAndBytesConfig(",
            "bnb_4bit_quant_type=\"nf4\"",
            "bnb_4bit_use_double_quant=True",
            "bnb_4bit_compute_dtype=torch.float32",
        ];
        assert_eq!(qlora.map(|q| script.contains(q)), [base == Base::Nf4; 4], "{name}");
        let checkpointing =
            "TRAINING.update({checkpointing: True, f\"{checkpointing}_kwargs\": {\"use_reentrant\": False}})";
        assert_eq!(script.contains(checkpointing), base == Base::Nf4, "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_training_page_exports_its_settings_before_a_run_with_peft_s_counts() {
    use lora_playground::accounting::arch::Task;
    use lora_playground::accounting::report::{Setup, compute};
    use lora_playground::model::tiny;
    use lora_playground::train::workbench::Workbench;

    let mut wb = Workbench::new();
    wb.set_device(burn::tensor::Device::flex(), lora_playground::train::replies::DeviceInfo::cpu());
    let files = tiny::files(3);
    let config_json = files.config_json.clone();
    wb.load_model(files).unwrap();
    assert_eq!(wb.export_notebook(None).unwrap_err().field, "data", "nothing to export without data");
    wb.load_dataset("d.csv", super::common::KEYWORDS_CSV.as_bytes()).unwrap();
    assert_eq!(wb.export_notebook(None).unwrap_err().field, "run", "without settings, only a run can be exported");
    let plan = Plan::from_json(&json!({"r": 4, "lora_alpha": 8, "target_modules": "query,key,value"})).unwrap();
    let files = wb.export_notebook(Some(plan.clone())).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["run.ipynb", "run.py", "d.csv"]);
    assert_eq!(files[2].1, super::common::KEYWORDS_CSV.as_bytes(), "the data as it was loaded");
    // The figure beside PEFT's own print is the calculator's, which is PEFT's (accounting tests).
    let setup = Setup {
        config_json: Some(config_json),
        task: Task::SeqCls,
        num_labels: 2,
        lora: plan.lora.clone(),
        ..Setup::default()
    };
    let line = compute(&setup).unwrap().peft_line();
    let script = String::from_utf8(files[1].1.clone()).unwrap();
    assert!(script.contains(&format!("PAGE_FIGURE = \"{line}\"")), "{line}");
    // Full fine-tuning before a run: the model's own parameters, all of them trainable.
    let full = wb.export_notebook(Some(Plan::from_json(&json!({"method": "full"})).unwrap())).unwrap();
    let script = String::from_utf8(full[1].1.clone()).unwrap();
    let line = script.lines().find(|l| l.starts_with("PAGE_FIGURE")).unwrap();
    assert!(line.contains("trainable%: 100.0000"), "{line}");
}
