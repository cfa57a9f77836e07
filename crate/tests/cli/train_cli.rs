//! `train`, `predict` and `bench` end to end on the tiny random model (a complete model folder the test writes):
//! JSON lines, saved files (the adapter's size equal to the calculator's prediction, to the byte), predictions
//! read back, and clear messages for bad input.
#![cfg(feature = "train")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lora_playground::model::methods::Method;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lora-playground")).args(args).output().expect("the binary runs")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A fresh folder under the target dir with the tiny model and a small three-class dataset.
fn workspace(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let model = dir.join("tiny");
    std::fs::create_dir_all(&model).unwrap();
    let files = lora_playground::model::tiny::files(7);
    std::fs::write(model.join("config.json"), &files.config_json).unwrap();
    std::fs::write(model.join("model.safetensors"), &files.safetensors).unwrap();
    std::fs::write(model.join("tokenizer.json"), &files.tokenizer_json).unwrap();
    let mut csv = String::from("text,label\n");
    let words = [("money bank card fee", "bank"), ("school student loan", "school"), ("love great good", "happy")];
    for i in 0..30 {
        let (w, l) = words[i % 3];
        csv.push_str(&format!("\"{w} {}, item {i}\",{l}\n", w.split(' ').nth(i % 3).unwrap()));
    }
    std::fs::write(dir.join("data.csv"), csv).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn train_prints_epochs_saves_a_peft_adapter_and_predict_reads_it() {
    let dir = workspace("train_lora");
    let (model, data, out) = (dir.join("tiny"), dir.join("data.csv"), dir.join("adapter"));
    let o = run(&[
        "train",
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--method",
        "lora",
        "--r",
        "4",
        "--alpha",
        "8",
        "--targets",
        "query,value",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--max-len",
        "16",
        "--seed",
        "3",
        "--out",
        s(&out),
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let lines: Vec<Value> =
        stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["epoch"], i + 1);
        for k in ["train_loss", "val_loss", "val_accuracy", "val_macro_f1", "examples_per_s"] {
            assert!(l[k].as_f64().is_some_and(f64::is_finite), "{k} in {l}");
        }
    }
    assert!(stderr.contains("trainable params:") && stderr.contains("ETA"), "{stderr}");

    // What PEFT would save, to the byte: the calculator's prediction for the same config.
    let adapter = std::fs::metadata(out.join("adapter_model.safetensors")).unwrap().len();
    let count = run(&[
        "count",
        "--json",
        "--model",
        s(&model.join("config.json")),
        "--num-labels",
        "3",
        "--r",
        "4",
        "--alpha",
        "8",
        "--targets",
        "query,value",
    ]);
    let predicted: Value = serde_json::from_slice(&count.stdout).unwrap();
    assert_eq!(adapter, predicted["adapter_bytes"].as_u64().unwrap());
    let config: Value = serde_json::from_slice(&std::fs::read(out.join("adapter_config.json")).unwrap()).unwrap();
    assert_eq!(
        (config["peft_type"].as_str(), config["r"].as_u64(), config["task_type"].as_str()),
        (Some("LORA"), Some(4), Some("SEQ_CLS"))
    );
    assert_eq!(config["target_modules"], serde_json::json!(["query", "value"]));

    std::fs::write(dir.join("in.txt"), "my bank card fee\nstudent loan school\n").unwrap();
    let p = run(&["predict", "--model", s(&model), "--adapter", s(&out), "--input", s(&dir.join("in.txt"))]);
    let (stdout, stderr) = text(&p);
    assert!(p.status.success(), "{stderr}");
    let preds: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(preds.len(), 2);
    for p in &preds {
        let probs = p["probs"].as_object().unwrap();
        assert_eq!(probs.keys().collect::<Vec<_>>(), ["bank", "happy", "school"]);
        let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        let best = probs.iter().max_by(|a, b| a.1.as_f64().partial_cmp(&b.1.as_f64()).unwrap()).unwrap().0;
        assert_eq!(p["label"].as_str(), Some(best.as_str()));
        // The logits (what PEFT's model returns, for tests/reference/peft_roundtrip.py) are the probabilities' source.
        let z: Vec<f64> = p["logits"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let norm: f64 = z.iter().map(|v| v.exp()).sum();
        for (zi, pi) in z.iter().zip(probs.values()) {
            assert!((zi.exp() / norm - pi.as_f64().unwrap()).abs() < 1e-5, "{p}");
        }
    }
    assert_eq!(preds[0]["text"], "my bank card fee");
}

#[test]
fn merge_checks_on_the_validation_texts_times_both_and_saves_a_model_predict_reads() {
    let dir = workspace("merge");
    let (model, data, adapter, merged) =
        (dir.join("tiny"), dir.join("data.csv"), dir.join("adapter"), dir.join("merged"));
    let o = run(&[
        "train",
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--targets",
        "all-linear",
        "--epochs",
        "2",
        "--lr",
        "5e-3",
        "--max-len",
        "16",
        "--val-fraction",
        "0.3",
        "--quiet",
        "--out",
        s(&adapter),
    ]);
    assert!(o.status.success(), "{}", text(&o).1);
    let o = run(&[
        "merge",
        "--model",
        s(&model),
        "--adapter",
        s(&adapter),
        "--data",
        s(&data),
        "--out",
        s(&merged),
        "--json",
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    // 30 texts in three classes, 30% of each held out: the run's own validation split.
    assert_eq!(v["texts"], 9, "{v}");
    assert!(v["max_abs_logit_diff"].as_f64().unwrap() < 1e-4, "{v}");
    assert_eq!(v["same_prediction"], 9);
    for k in ["ms_per_text_unmerged", "ms_per_text_merged"] {
        assert!(v[k].as_f64().is_some_and(|x| x > 0.0 && x.is_finite()), "{k}: {v}");
    }
    for f in ["config.json", "model.safetensors", "tokenizer.json", "training.json"] {
        assert!(merged.join(f).is_file(), "{f}");
    }
    // The merged folder predicts what the adapter predicts, on its own as a model and over the base.
    std::fs::write(dir.join("in.txt"), "good love\nschool loan\n").unwrap();
    let logits = |args: &[&str]| -> Vec<Value> {
        let o = run(args);
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).0.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["logits"].clone()).collect()
    };
    let a = logits(&["predict", "--model", s(&model), "--adapter", s(&adapter), "--input", s(&dir.join("in.txt"))]);
    let b = logits(&["predict", "--model", s(&merged), "--adapter", s(&merged), "--input", s(&dir.join("in.txt"))]);
    for (x, y) in a.iter().zip(&b) {
        for (p, q) in x.as_array().unwrap().iter().zip(y.as_array().unwrap()) {
            assert!((p.as_f64().unwrap() - q.as_f64().unwrap()).abs() < 1e-4, "{a:?} vs {b:?}");
        }
    }
    // The human-readable form says the same things.
    let o = run(&["merge", "--model", s(&model), "--adapter", s(&adapter), "--data", s(&data), "--out", s(&merged)]);
    let (stdout, _) = text(&o);
    assert!(
        stdout.contains("largest logit difference") && stdout.contains("same predicted label       9 / 9"),
        "{stdout}"
    );
    // Only an adapter merges; the flags it needs are named.
    let o =
        run(&["merge", "--model", s(&model), "--adapter", s(&merged), "--data", s(&data), "--out", s(&dir.join("x"))]);
    assert!(!o.status.success() && text(&o).1.contains("only a LoRA adapter can be merged"), "{}", text(&o).1);
    let o = run(&["merge", "--model", s(&model), "--adapter", s(&adapter), "--out", s(&dir.join("x"))]);
    assert!(text(&o).1.contains("--data is required"), "{}", text(&o).1);
}

#[test]
fn adapters_holds_several_on_one_base_and_reports_memory_and_switch_time() {
    let dir = workspace("adapters");
    let (model, data) = (dir.join("tiny"), dir.join("data.csv"));
    for (method, out) in [("lora", "a"), ("head", "b")] {
        let o = run(&[
            "train",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--method",
            method,
            "--epochs",
            "1",
            "--quiet",
            "--out",
            s(&dir.join(out)),
        ]);
        assert!(o.status.success(), "{}", text(&o).1);
    }
    let list = format!("{},{}", s(&dir.join("a")), s(&dir.join("b")));
    let o = run(&["adapters", "--model", s(&model), "--adapters", &list, "--rounds", "2", "--json"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["adapters"].as_array().unwrap().len(), 2);
    assert_eq!(v["adapters"][0]["method"], "lora");
    assert_eq!(v["adapters"][1]["method"], "head");
    let m = &v["memory"];
    let adapters: u64 = m["adapter_bytes"].as_array().unwrap().iter().map(|b| b.as_u64().unwrap()).sum();
    assert_eq!(m["shared_bytes"].as_u64().unwrap(), m["base_bytes"].as_u64().unwrap() + adapters);
    assert!(m["shared_bytes"].as_u64() < m["copies_bytes"].as_u64(), "{m}");
    assert!(v["ms_switch_and_classify"].as_array().unwrap().iter().all(|x| x.as_f64().unwrap() > 0.0));
    assert!(v["ms_same_adapter"].as_f64().unwrap() > 0.0);
    // A folder that is not an adapter is named in the message.
    let o = run(&["adapters", "--model", s(&model), "--adapters", s(&dir.join("tiny"))]);
    assert!(
        !o.status.success() && text(&o).1.contains("neither adapter_config.json nor training.json"),
        "{}",
        text(&o).1
    );
}

#[test]
fn every_method_saves_what_it_trained_and_predicts_from_it() {
    let dir = workspace("train_methods");
    let (model, data) = (dir.join("tiny"), dir.join("data.csv"));
    std::fs::write(dir.join("in.jsonl"), "{\"text\": \"good love\"}\n").unwrap();
    for (method, file) in
        [("full", "model.safetensors"), ("head", "trained.safetensors"), ("bitfit", "trained.safetensors")]
    {
        let out = dir.join(method);
        let o = run(&[
            "train",
            "--model",
            s(&model),
            "--data",
            s(&data),
            "--method",
            method,
            "--epochs",
            "1",
            "--quiet",
            "--out",
            s(&out),
        ]);
        assert!(o.status.success(), "{method}: {}", text(&o).1);
        assert!(out.join(file).is_file() && out.join("training.json").is_file(), "{method}");
        // No --lr: the method's usual rate (full fine-tuning's is twenty times smaller than LoRA's), recorded.
        let record: Value = serde_json::from_slice(&std::fs::read(out.join("training.json")).unwrap()).unwrap();
        let usual = Method::parse(method).unwrap().usual_lr();
        assert_eq!(record["plan"]["lr"].as_f64(), Some(usual), "{method}");
        let p = run(&["predict", "--model", s(&model), "--adapter", s(&out), "--input", s(&dir.join("in.jsonl"))]);
        let (stdout, stderr) = text(&p);
        assert!(p.status.success(), "{method}: {stderr}");
        let v: Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(v["probs"].as_object().unwrap().len(), 3, "{method}");
    }
    // The full fine-tune is a transformers folder: config.json names the labels.
    let config: Value = serde_json::from_slice(&std::fs::read(dir.join("full/config.json")).unwrap()).unwrap();
    assert_eq!(config["id2label"]["0"], "bank");
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");
}

#[test]
fn bad_input_gets_a_message_not_a_panic() {
    let dir = workspace("train_bad");
    let (model, data) = (dir.join("tiny"), dir.join("data.csv"));
    let m = s(&model);
    std::fs::write(dir.join("one_class.csv"), "text,label\nfine,a\nalso fine,a\n,b\n").unwrap();
    std::fs::write(dir.join("no_header.csv"), "hello,world\n").unwrap();
    let out = s(&dir).to_string() + "/never";
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (vec!["--data".into(), s(&dir.join("one_class.csv")).into()], 1, "needs at least 2 classes"),
        (vec!["--data".into(), s(&dir.join("no_header.csv")).into()], 1, "must name a `text` and a `label` column"),
        (vec!["--data".into(), "builtin:nope".into()], 1, "no such built-in dataset"),
        (vec!["--data".into(), s(&dir.join("missing.csv")).into()], 1, "missing.csv"),
        (vec!["--data".into(), s(&data).into(), "--r".into(), "0".into()], 2, "--r"),
        (
            vec!["--data".into(), s(&data).into(), "--method".into(), "prefix".into()],
            2,
            "not one of lora, full, head, bitfit",
        ),
        (
            vec!["--data".into(), s(&data).into(), "--lr".into(), "fast".into()],
            2,
            "--lr must be a finite number, not 'fast'",
        ),
        (
            vec!["--data".into(), s(&data).into(), "--lr".into(), "NaN".into()],
            2,
            "--lr must be a finite number, not 'NaN'",
        ),
        (
            vec!["--data".into(), s(&data).into(), "--alpha".into(), "1e309".into()],
            2,
            "--alpha must be a finite number",
        ),
        (vec!["--data".into(), s(&data).into(), "--r".into(), "-3".into()], 2, "--r must be a whole number"),
        (vec!["--data".into(), s(&data).into(), "--max-len".into(), "100000".into()], 2, "--max-len must be between 3"),
        (vec!["--data".into(), s(&data).into(), "--epochs".into(), "1e9".into()], 2, "--epochs must be a whole number"),
        (vec!["--data".into(), s(&data).into(), "--targets".into(), "nonexistent".into()], 1, "nonexistent"),
        (vec!["--data".into(), s(&data).into(), "--max-len".into(), "4096".into()], 1, "max_position_embeddings"),
        (vec!["--data".into(), s(&data).into(), "--device".into(), "tpu".into()], 1, "--device 'tpu'"),
        (vec!["--data".into(), s(&data).into(), "--frobnicate".into()], 2, "unknown option '--frobnicate'"),
    ];
    for (extra, code, message) in cases {
        let mut args: Vec<&str> = vec!["train", "--model", m, "--out", &out, "--epochs", "1", "--quiet"];
        args.extend(extra.iter().map(String::as_str));
        let o = run(&args);
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(code), "{extra:?}: {stderr}");
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // One bad row is reported with its line and skipped; the run goes on.
    let mut csv = std::fs::read_to_string(&data).unwrap();
    csv.push_str(",bank\n\"unterminated,happy\n");
    std::fs::write(dir.join("some_bad.csv"), csv).unwrap();
    let o = run(&[
        "train",
        "--model",
        m,
        "--data",
        s(&dir.join("some_bad.csv")),
        "--epochs",
        "1",
        "--quiet",
        "--out",
        &out,
    ]);
    let (_, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("line 32: empty text") && stderr.contains("line 33: a quoted field is never closed"),
        "{stderr}"
    );

    let missing = run(&["predict", "--model", m, "--adapter", s(&dir.join("nothing")), "--input", s(&data)]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing).1.contains("--adapter"), "{}", text(&missing).1);
    let no_model = run(&["train", "--model", s(&dir.join("nope")), "--data", s(&data), "--out", &out]);
    assert!(text(&no_model).1.contains("no such folder"), "{}", text(&no_model).1);
}

#[test]
fn bench_runs_each_method_in_its_own_process() {
    let dir = workspace("bench");
    let o = run(&[
        "bench",
        "--model",
        s(&dir.join("tiny")),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--seq-len",
        "16",
        "--json",
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let methods: Vec<&str> = rows.iter().map(|r| r["method"].as_str().unwrap()).collect();
    assert_eq!(methods, ["lora", "full", "head", "bitfit", "inference"]);
    for r in &rows {
        assert!(r["examples_per_s"].as_f64().unwrap() > 0.0 && r["peak_rss_mib"].as_f64().unwrap() > 1.0, "{r}");
    }
    let trainable = |m: &str| rows.iter().find(|r| r["method"] == m).unwrap()["trainable"].as_u64().unwrap();
    assert!(trainable("head") < trainable("lora") && trainable("lora") < trainable("full"));
}

#[test]
fn compare_trains_each_method_on_the_same_split_and_prints_one_table() {
    let dir = workspace("compare");
    let o = run(&[
        "compare",
        "--model",
        "tiny",
        "--data",
        s(&dir.join("data.csv")),
        "--methods",
        "lora,head",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--max-len",
        "16",
        "--quiet",
        "--json",
        "--out",
        s(&dir.join("runs")),
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.iter().map(|r| r["method"].as_str().unwrap()).collect::<Vec<_>>(), ["lora", "head"]);
    for r in &rows {
        let acc = r["val_accuracy"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc), "{r}");
        // The size in the table is the size of the file on disk.
        let file = dir.join("runs").join(r["method"].as_str().unwrap()).join(r["saved_file"].as_str().unwrap());
        assert_eq!(std::fs::metadata(file).unwrap().len(), r["saved_bytes"].as_u64().unwrap());
    }
    assert!(
        rows[1]["trainable"].as_u64() < rows[0]["trainable"].as_u64(),
        "the head alone trains less than LoRA + head"
    );
    let bad = run(&[
        "compare",
        "--model",
        "tiny",
        "--data",
        s(&dir.join("data.csv")),
        "--methods",
        "lora,prefix",
        "--out",
        s(&dir),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).1.contains("--methods"), "{}", text(&bad).1);
}

#[test]
fn sweep_trains_each_rank_and_target_set_and_its_counts_are_the_calculator_s() {
    let dir = workspace("sweep");
    let o = run(&[
        "sweep",
        "--model",
        s(&dir.join("tiny")),
        "--data",
        s(&dir.join("data.csv")),
        "--ranks",
        "1,4",
        "--target-sets",
        "query,value;all-linear",
        "--methods",
        "lora,head",
        "--alpha",
        "16",
        "--r",
        "8",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--max-len",
        "16",
        "--quiet",
        "--json",
        "--out",
        s(&dir.join("runs")),
    ]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["run"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["lora-r1-query+value", "lora-r4-query+value", "lora-r1-all-linear", "lora-r4-all-linear", "head"]
    );
    for r in rows.iter().filter(|r| r["method"] == "lora") {
        let (rank, alpha, targets) =
            (r["r"].as_u64().unwrap(), r["lora_alpha"].as_f64().unwrap(), r["target_modules"].as_str().unwrap());
        assert_eq!(alpha, 2.0 * rank as f64, "alpha follows r at the plan's 16 / 8");
        // The live model's count is the calculator's (which is PEFT's: tests/reference).
        let count = run(&[
            "count",
            "--model",
            s(&dir.join("tiny/config.json")),
            "--r",
            &rank.to_string(),
            "--alpha",
            &alpha.to_string(),
            "--targets",
            targets,
            "--num-labels",
            "3",
            "--json",
        ]);
        let report: Value = serde_json::from_slice(&count.stdout).expect("count prints JSON");
        assert_eq!(r["trainable"], report["trainable"], "{}", r["run"]);
        assert_eq!(
            r["optimizer_bytes"], report["optimizer_bytes"],
            "{}: AdamW's state as the calculator counts it (PyTorch's)",
            r["run"]
        );
        assert!(r["seconds_per_step"].as_f64().unwrap() > 0.0 && r["epochs"].as_array().unwrap().len() == 1);
        let file = dir.join("runs").join(r["run"].as_str().unwrap()).join("adapter_model.safetensors");
        assert_eq!(std::fs::metadata(file).unwrap().len(), r["saved_bytes"].as_u64().unwrap());
    }
    let csv = std::fs::read_to_string(dir.join("runs/sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 6, "a header and five runs");
    assert!(csv.lines().nth(3).unwrap().starts_with("lora-r1-all-linear,lora,1,2.0,"), "{csv}");
    let md = std::fs::read_to_string(dir.join("runs/sweep.md")).unwrap();
    assert_eq!(md.lines().count(), 7);
    let kept: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("runs/sweep.json")).unwrap()).unwrap();
    assert_eq!(kept, rows);
    let bad =
        run(&["sweep", "--model", "tiny", "--data", s(&dir.join("data.csv")), "--ranks", "4,0", "--out", s(&dir)]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).1.contains("--ranks"), "{}", text(&bad).1);
}
