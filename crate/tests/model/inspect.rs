//! `lora-playground inspect` against numpy: the update norms, singular values, energy shares, the full fine-tuning
//! run's spectrum and the subspace similarity of two adapters, on the committed fixtures (the tiny model, r=4 and
//! r=8 adapters, a full fine-tuning run: tests/reference/inspect_fixtures.sh), equal numpy's values computed from
//! the same files' bytes (tests/reference/inspect_reference.py) within 1e-4.
#![cfg(feature = "train")]

use std::process::Command;

use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/inspect");

fn inspect(extra: &[&str]) -> Value {
    let mut args = vec![
        "inspect".to_string(),
        "--model".into(),
        format!("{FIXTURES}/base"),
        "--adapter".into(),
        format!("{FIXTURES}/r4"),
    ];
    args.extend(extra.iter().map(|s| s.replace("{F}", FIXTURES)));
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground")).args(&args).output().expect("the CLI runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("inspect prints JSON")
}

/// Every number in `want` (numpy's) equals the same one in `got` within 1e-4, relative to the larger of 1 and the
/// first value of its list (singular values of different sizes; exact zeros come out as round-off).
fn close(got: &Value, want: &Value, what: &str, scale: f64) {
    match (got, want) {
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{what}: lengths");
            let scale = w.first().and_then(Value::as_f64).map_or(scale, |s| s.abs().max(scale));
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                close(g, w, &format!("{what}[{i}]"), scale);
            }
        }
        (g, w) => {
            let (g, w) = (g.as_f64().unwrap_or(f64::NAN), w.as_f64().expect("numbers"));
            assert!((g - w).abs() <= 1e-4 * scale, "{what}: {g} against numpy's {w}");
        }
    }
}

#[test]
fn the_figures_inside_an_adapter_equal_numpy_s() {
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/expected.json")).unwrap()).unwrap();
    let got = inspect(&["--full", "{F}/full", "--compare", "{F}/r8"]);
    assert_eq!(got["r"], want["r"]);
    close(&got["scaling"], &want["scaling"], "scaling", 1.0);
    let modules = got["modules"].as_array().unwrap();
    assert_eq!(modules.len(), want["modules"].as_array().unwrap().len());
    assert!(modules.len() >= 6, "query, value and intermediate.dense in two layers");
    for (g, w) in modules.iter().zip(want["modules"].as_array().unwrap()) {
        let name = w["module"].as_str().unwrap();
        assert_eq!(g["module"], w["module"]);
        for key in ["update_norm", "weight_norm", "singular_values", "energy"] {
            close(&g[key], &w[key], &format!("{name} {key}"), 1.0);
        }
        // An update of rank r has at most r singular values above 1e-6 of the largest.
        assert_eq!(g["rank"], w["rank"], "{name}");
        assert!(g["rank"].as_u64().unwrap() <= 4, "{name}: rank above r");
        close(
            &g["relative"],
            &(w["update_norm"].as_f64().unwrap() / w["weight_norm"].as_f64().unwrap()).into(),
            name,
            1.0,
        );
    }
    for (g, w) in got["full"].as_array().unwrap().iter().zip(want["full"].as_array().unwrap()) {
        let name = w["module"].as_str().unwrap();
        close(&g["singular_values"], &w["singular_values"], &format!("{name} full"), 1.0);
        close(&g["energy_in_top_r"], &w["energy_in_top_r"], &format!("{name} energy_in_top_r"), 1.0);
    }
    let compare = got["compare"].as_array().unwrap();
    assert_eq!(compare.len(), want["compare"].as_array().unwrap().len());
    for (g, w) in compare.iter().zip(want["compare"].as_array().unwrap()) {
        close(&g["phi"], &w["phi"], &format!("{} phi", w["module"]), 1.0);
        assert_eq!(g["phi"].as_array().unwrap().len(), 4, "r_a rows");
        assert_eq!(g["phi"][0].as_array().unwrap().len(), 8, "r_b columns");
    }
}

#[test]
fn an_adapter_compared_with_itself_is_one_everywhere_and_a_lora_run_is_not_taken_as_full() {
    let got = inspect(&["--compare", "{F}/r4"]);
    for m in got["compare"].as_array().unwrap() {
        for &i in &[0usize, 3] {
            let phi = m["phi"][i][i].as_f64().unwrap();
            assert!((phi - 1.0).abs() < 1e-9, "{}: phi({i},{i}) = {phi}", m["module"]);
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args([
            "inspect",
            "--model",
            &format!("{FIXTURES}/base"),
            "--adapter",
            &format!("{FIXTURES}/r4"),
            "--full",
            &format!("{FIXTURES}/r8"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--full"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_adapter_peft_saved_is_inspected_too() {
    let peft = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/peft_tiny");
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args(["inspect", "--model", "tiny", "--adapter", peft])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = got["r"].as_u64().unwrap();
    let modules = got["modules"].as_array().unwrap();
    assert!(!modules.is_empty());
    for m in modules {
        assert!(m["rank"].as_u64().unwrap() <= r && m["update_norm"].as_f64().unwrap() > 0.0, "{m}");
    }
}
