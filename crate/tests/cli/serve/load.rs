//! A class at once: 30 students download the pages, a 35 MB wasm and a 90 MB model together. Every byte must
//! arrive intact, and the server's memory must stay flat (files streamed, not held), whatever it sends.

use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Server, app_root, open, random_bytes, write};

const STUDENTS: usize = 30;
const DEADLINE: Duration = Duration::from_secs(120);

#[cfg(target_os = "linux")]
#[test]
fn serve_a_class_of_30_at_once_with_flat_memory() {
    let root = app_root("serve-load");
    let files: Vec<(&str, Arc<Vec<u8>>)> = [
        ("/", b"<!doctype html><title>calculator</title>".to_vec()),
        ("/train.html", b"<!doctype html><title>trainer</title>".to_vec()),
        ("/web/pkg-train/trainer_bg.wasm", random_bytes(35_000_000, 1)),
        ("/models/m/model.safetensors", random_bytes(90_000_000, 2)),
    ]
    .into_iter()
    .map(|(p, b)| (p, Arc::new(b)))
    .collect();
    for (path, bytes) in &files[2..] {
        write(&root.join(&path[1..]), bytes);
    }
    let server = Server::start(&root);
    let start = Instant::now();
    let students: Vec<_> = (0..STUDENTS)
        .map(|_| {
            let (addr, files) = (server.addr.clone(), files.clone());
            std::thread::spawn(move || {
                files.iter().map(|(path, want)| download_and_compare(&addr, path, want, start)).sum::<usize>()
            })
        })
        .collect();
    let sent: usize = students.into_iter().map(|s| s.join().expect("a student's downloads")).sum();
    let took = start.elapsed();
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let peak_kib: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap();
    let peak_mib = peak_kib / 1024;
    eprintln!(
        "serve load: {STUDENTS} students, {:.2} GB in {:.1} s ({:.0} MB/s); server peak memory (VmHWM) {peak_mib} MiB",
        sent as f64 / 1e9,
        took.as_secs_f64(),
        sent as f64 / 1e6 / took.as_secs_f64()
    );
    assert_eq!(sent, STUDENTS * files.iter().map(|(_, b)| b.len()).sum::<usize>());
    assert!(took < DEADLINE, "took {took:?}");
    assert!(peak_mib < 300, "the server held {peak_mib} MiB while sending {sent} bytes");
    drop(server);
    // 125 MB of test files are not worth keeping.
    let _ = std::fs::remove_dir_all(&root);
}

/// One download, compared byte for byte with the file as it is read (nothing kept but a 256 KiB buffer).
fn download_and_compare(addr: &str, path: &str, want: &[u8], start: Instant) -> usize {
    let mut s = BufReader::with_capacity(256 * 1024, open(addr, "GET", path.as_bytes(), ""));
    let mut status = String::new();
    s.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{path}: {status}");
    loop {
        let mut line = String::new();
        s.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
    }
    let (mut got, mut buf) = (0, vec![0; 256 * 1024]);
    loop {
        assert!(start.elapsed() < DEADLINE, "{path}: past the deadline at byte {got}");
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(got + n <= want.len() && buf[..n] == want[got..got + n], "{path}: bytes differ near {got}");
        got += n;
    }
    assert_eq!(got, want.len(), "{path}: length");
    got
}
