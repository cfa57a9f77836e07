//! `bench`'s GPU kernel count (issue 15: "fewer kernel launches per step, counted") against cubecl's own profiling
//! logger, which writes one `Executing KERNEL` line per launch to the file a `cubecl.toml` in the working directory
//! names: two runs of 2 and 4 timed steps differ by the launches of 2 steps. On wgpu through Mesa's lavapipe (the
//! native wgpu test's driver, tools/test.sh installs it); the CPU backend launches none.
#![cfg(feature = "train")]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs `bench-one` for LoRA on the tiny model in `dir` (where cubecl finds `cubecl.toml`): (launches per timed
/// step as bench reports them, `Executing` lines the logger wrote for the whole process).
fn bench(dir: &Path, device: &str, steps: usize) -> (f64, usize) {
    let log = dir.join(format!("launches-{steps}.log"));
    let config =
        format!("[profiling.logger]\nlevel = \"minimal\"\nfile = {:?}\nappend = false\n", log.to_str().unwrap());
    std::fs::write(dir.join("cubecl.toml"), config).unwrap();
    let steps_arg = steps.to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
        .args(["bench-one", "--model", "tiny", "--device", device, "--methods", "lora", "--steps", &steps_arg])
        .args(["--batch-size", "4", "--seq-len", "16"])
        .current_dir(dir)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let row: Value = serde_json::from_slice(&out.stdout).unwrap();
    let logged = std::fs::read_to_string(&log).map_or(0, |t| t.lines().filter(|l| l.starts_with("Executing ")).count());
    (row["kernel_launches_per_step"].as_f64().unwrap(), logged)
}

#[test]
fn bench_counts_the_kernels_cubecl_logs() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("launches");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (per_step_2, logged_2) = bench(&dir, "wgpu", 2);
    let (per_step_4, logged_4) = bench(&dir, "wgpu", 4);
    assert!(
        per_step_2 > 100.0 && per_step_2.fract() == 0.0,
        "a LoRA step launches a whole number of kernels: {per_step_2}"
    );
    assert_eq!(per_step_2, per_step_4, "every step launches the same kernels");
    // The logger writes from a background task, which the process's exit may cut short by a few lines: 1%.
    let two_steps = (logged_4 - logged_2) as f64;
    assert!(
        (two_steps - 2.0 * per_step_2).abs() <= 0.01 * two_steps,
        "logged {logged_2} and {logged_4} lines; bench said {per_step_2} a step"
    );
    assert_eq!(bench(&dir, "cpu", 2).0, 0.0, "the CPU backend launches no GPU kernel");
}
