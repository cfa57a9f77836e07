//! `lora-playground serve` seen from outside: the real binary on a loopback port, spoken to with raw HTTP/1.1
//! (every byte of the request is the test's, so path tricks reach the server as written).

mod bounds;
mod caching;
mod load;
mod paths;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The server, killed when dropped (also when a test fails halfway).
pub struct Server {
    child: Child,
    pub addr: String,
}

impl Server {
    /// Serves `root` on 127.0.0.1 at a port the system picks (`--port 0`), read back from the first stdout line.
    pub fn start(root: &Path) -> Server {
        Server::start_with(root, &[])
    }

    /// The same with environment variables set (the bounds tests shorten the server's time limits).
    pub fn start_with(root: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lora-playground"))
            .args(["serve", "--root", root.to_str().unwrap(), "--port", "0"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("LoRA Playground: http://").and_then(|a| a.strip_suffix('/'));
        let addr = addr.unwrap_or_else(|| panic!("first line: {line}")).to_string();
        Server { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: the status code, the header block as text, the body.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `METHOD target HTTP/1.1` with `extra` header lines (each ending in \r\n) and reads the whole reply.
pub fn request(addr: &str, method: &str, target: &[u8], extra: &str) -> Reply {
    let mut s = open(addr, method, target, extra);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Reply { status, head, body: raw[split + 4..].to_vec() }
}

pub fn get(addr: &str, path: &str, extra: &str) -> Reply {
    request(addr, "GET", path.as_bytes(), extra)
}

/// A connection with the request sent (`Connection: close`, so the body ends where the stream does).
pub fn open(addr: &str, method: &str, target: &[u8], extra: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).expect("the server accepts connections");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} ").into_bytes();
    req.extend_from_slice(target);
    req.extend_from_slice(format!(" HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n").as_bytes());
    s.write_all(&req).unwrap();
    s
}

/// A fresh folder under the build's temp dir with a small app in it: the two pages, `sw.js`, a module, a style
/// sheet, a wasm and a model config.
pub fn app_root(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&root);
    for (file, text) in [
        ("index.html", "<!doctype html><title>calculator</title>"),
        ("train.html", "<!doctype html><title>trainer</title>"),
        ("sw.js", "self.addEventListener('fetch', () => {});"),
        ("web/app.js", "export const app = 1;"),
        ("web/style.css", "body { margin: 0 }"),
        ("web/pkg/a.wasm", "\0asm\x01\0\0\0"),
        ("models/tiny/config.json", "{\"model_type\": \"bert\"}"),
    ] {
        write(&root.join(file), text.as_bytes());
    }
    root
}

pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Seeded pseudo-random bytes (xorshift64*): incompressible, reproducible, and any misplaced byte shows.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}
