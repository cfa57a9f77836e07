//! The `lora-playground` command line: JSON figures, the table, defaults that follow PEFT, and usage errors
//! (never a panic) for bad flags.

use std::process::{Command, Output};

#[cfg(unix)]
use crate::serve;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lora-playground")).args(args).output().expect("the binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = run(&[&["count", "--json"], args].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("--json prints one JSON object")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn json_has_every_documented_field_with_peft_figures() {
    // Reference row: all-MiniLM-L6-v2, seq-cls, r=8, alpha=16, query+value (tests/reference/peft_reference.json).
    let v = json(&["--model", "all-MiniLM-L6-v2", "--r", "8", "--alpha", "16", "--targets", "query,value"]);
    assert_eq!(v["trainable"], 74_498);
    assert_eq!(v["all"], 22_788_484);
    assert_eq!(v["lora_params"], 73_728);
    assert_eq!(v["modules"].as_array().unwrap().len(), 12);
    assert_eq!(v["adapter_bytes"], 301_520);
    assert_eq!(v["full_model_bytes"], 90_867_952);
    // AdamW state measured from torch: 596,088 bytes.
    assert_eq!(v["optimizer_bytes"], 596_088);
    for key in ["frozen_weights", "trainable_weights", "gradients", "optimizer_state", "activations", "total"] {
        assert!(v["memory"][key].is_u64(), "memory.{key}");
    }
}

#[test]
fn defaults_follow_peft() {
    // r=8, alpha=8, seq-cls with 2 labels, BERT's default targets query+value.
    let v = json(&["--model", "bert-base-uncased"]);
    assert_eq!(v["setup"]["lora"]["r"], 8);
    assert_eq!(v["setup"]["lora"]["lora_alpha"], 8.0);
    assert_eq!(v["scaling"], 1.0);
    assert_eq!(v["model"]["task"], "seq-cls");
    assert_eq!(v["model"]["num_labels"], 2);
    assert!(v["modules"].as_array().unwrap().iter().all(|m| {
        let m = m.as_str().unwrap();
        m.ends_with(".query") || m.ends_with(".value")
    }));
}

#[test]
fn a_model_without_peft_defaults_names_the_choices() {
    let out = run(&["count", "--model", "ModernBERT-base"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("no default target_modules") && e.contains("attn.Wqkv") && e.contains("(or all-linear)"), "{e}");
    // DistilBERT's classifier: all-linear would wrap `pre_classifier`, which PEFT refuses, so it is not offered.
    let e = stderr(&run(&["count", "--model", "distilbert-base-uncased"]));
    assert!(
        e.contains("no default target_modules") && e.contains("attention.q_lin") && !e.contains("all-linear"),
        "{e}"
    );
}

#[test]
fn config_json_paths_and_folders_work_and_bad_ones_say_where() {
    let dir = std::env::temp_dir().join(format!("lp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.json");
    std::fs::write(&file, lora_playground::accounting::presets::preset_config("gpt2").unwrap()).unwrap();
    let by_file = json(&["--model", file.to_str().unwrap()]);
    let by_dir = json(&["--model", dir.to_str().unwrap()]);
    let preset = json(&["--model", "gpt2"]);
    assert_eq!(by_file["trainable"], preset["trainable"]);
    assert_eq!(by_dir["all"], preset["all"]);

    std::fs::write(&file, "{\n  \"model_type\": \"gpt2\",\n  \"n_embd\": 768,\n}").unwrap();
    let out = run(&["count", "--model", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("line 4"), "{}", stderr(&out));

    std::fs::write(&file, r#"{"model_type": "t5"}"#).unwrap();
    let out = run(&["count", "--model", file.to_str().unwrap()]);
    assert!(stderr(&out).contains("'t5' is not supported"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_flags_get_a_usage_message_not_a_panic() {
    for (args, expect) in [
        (vec!["count"], "--model is required"),
        (vec!["count", "--model", "gpt2", "--r"], "--r needs a value"),
        (vec!["count", "--model", "gpt2", "--r", "eight"], "'eight' is not a whole number"),
        (vec!["count", "--model", "gpt2", "--r", "-1"], "'-1' is not a whole number"),
        (vec!["count", "--model", "gpt2", "--alpha", "NaN"], "not a number"),
        (vec!["count", "--model", "gpt2", "--bias", "some"], "not one of none, all, lora_only"),
        (vec!["count", "--model", "gpt2", "--task", "qa"], "not base or seq-cls"),
        (vec!["count", "--model", "gpt2", "--layers", "0,x"], "comma-separated list"),
        (vec!["count", "--model", "gpt2", "--precision", "fp8"], "nf4"),
        (vec!["count", "--model", "gpt2", "--frobnicate"], "unknown option '--frobnicate'"),
        (vec!["count", "--model", "no-such-model"], "neither a preset id, a config.json path nor a Hub id"),
        (vec!["count", "--model", "hf:a/b/c"], "a Hub id is hf:ORG/NAME"),
        (vec!["count", "--model", "hf:org/name", "--hub", "ftp://mirror"], "expected an http:// or https:// address"),
        (vec!["launch"], "unknown command 'launch'"),
        (vec![], "no command given"),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let e = stderr(&out);
        assert!(e.contains(expect) && e.contains("usage:"), "{args:?}: {e}");
        assert!(!e.contains("panicked"), "{args:?}: {e}");
    }
}

#[test]
fn settings_the_engine_refuses_exit_1_with_the_field() {
    for (args, expect) in [
        (vec!["--r", "0"], "r: must be a positive integer"),
        (vec!["--targets", "q_proj"], "Target modules {q_proj} not found"),
        (vec!["--num-labels", "0"], "num_labels"),
        (vec!["--batch-size", "0"], "batch_size"),
    ] {
        let out = run(&[&["count", "--model", "all-MiniLM-L6-v2"], &args[..]].concat());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(expect), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn the_table_prints_peft_s_own_line() {
    let out = run(&["count", "--model", "all-MiniLM-L6-v2", "--r", "8", "--alpha", "16"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("trainable params: 74,498 || all params: 22,788,484 || trainable%: 0.3269"), "{text}");
    assert!(text.contains("adapter_model.safetensors"));
}

#[cfg(unix)]
#[test]
fn serve_listens_where_told_serves_the_pages_and_refuses_to_climb_out() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    // 127.0.0.2 is loopback too: it stands in for a classroom address without leaving this machine.
    let mut server = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args(["serve", "--root", root, "--port", "18923", "--host", "127.0.0.2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(server.stdout.take().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "LoRA Playground: http://127.0.0.2:18923/");
    let addr = "127.0.0.2:18923";
    let r = serve::get(addr, "/train.html", "");
    assert!(r.head.starts_with("HTTP/1.1 200 OK"), "{}", r.head);
    assert!(String::from_utf8_lossy(&r.body).contains("web/train/app.js"));
    // The repository's own files are not the app's: only the pages, web/ and models/ are served.
    for path in
        ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/Cargo.toml", "/crate/Cargo.toml", "/.git/config", "/README.md"]
    {
        assert!(serve::get(addr, path, "").head.starts_with("HTTP/1.1 404 Not Found"), "{path}");
    }
    assert!(serve::get(addr, "/web/app.js", "").head.starts_with("HTTP/1.1 200 OK"));
    assert!(serve::get(addr, "/index.html", "").head.starts_with("HTTP/1.1 200 OK"));
    server.kill().unwrap();
    let _ = server.wait();
    let bad = run(&["serve", "--host", "everywhere"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("--host: 'everywhere' is not an IP address"), "{}", stderr(&bad));
}

#[test]
fn serve_tls_options_that_cannot_work_are_refused_by_name() {
    let out = run(&["serve", "--cert", "c.pem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--cert and --key go together"), "{}", stderr(&out));
    let dir = std::env::temp_dir().join(format!("lp-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html>").unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let root = dir.to_str().unwrap();
    let out = run(&[
        "serve",
        "--root",
        root,
        "--port",
        "0",
        "--cert",
        not_pem.to_str().unwrap(),
        "--key",
        not_pem.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--cert") && stderr(&out).contains("holds no certificate"), "{}", stderr(&out));
    // A school's own pair: the certificate the self-signed path made, with another one's key, does not pair up.
    let own = tempfile_pair(&dir);
    let out = run(&[
        "serve",
        "--root",
        root,
        "--port",
        "0",
        "--cert",
        own.0.to_str().unwrap(),
        "--key",
        own.1.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("do not make a pair"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two certificates made by rcgen (a kept library): the first's certificate with the second's key.
fn tempfile_pair(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = rcgen::generate_simple_self_signed(vec!["a.example".to_string()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["b.example".to_string()]).unwrap();
    let (cert, key) = (dir.join("a.pem"), dir.join("b-key.pem"));
    std::fs::write(&cert, a.cert.pem()).unwrap();
    std::fs::write(&key, b.signing_key.serialize_pem()).unwrap();
    (cert, key)
}
