//! A small static file server for the playground: no dependencies, loopback by default (`--host` opens it to a
//! classroom's network), correct MIME types (browsers refuse to compile wasm served as anything but
//! `application/wasm`).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

use super::usage_error;

pub fn run(args: &[String]) -> i32 {
    let mut root = PathBuf::from(".");
    let mut host: std::net::IpAddr = std::net::Ipv4Addr::LOCALHOST.into();
    let mut port: u16 = match std::env::var("PORT") {
        Ok(p) => match p.parse() {
            Ok(p) => p,
            Err(_) => return usage_error(&format!("PORT='{p}' is not a port number")),
        },
        Err(_) => 8080,
    };
    let mut i = 0;
    while i < args.len() {
        match (args[i].as_str(), args.get(i + 1)) {
            ("--root", Some(v)) => root = PathBuf::from(v),
            ("--host", Some(v)) => match v.parse() {
                Ok(h) => host = h,
                Err(_) => return usage_error(&format!("--host: '{v}' is not an IP address (127.0.0.1, or 0.0.0.0 for every interface)")),
            },
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => port = p,
                Err(_) => return usage_error(&format!("--port: '{v}' is not a port number")),
            },
            (other, _) => return usage_error(&format!("serve: unknown or incomplete option '{other}'")),
        }
        i += 2;
    }
    if !root.join("index.html").is_file() {
        eprintln!("error: {} has no index.html; run from the repository root or pass --root", root.display());
        return 1;
    }
    let listener = match TcpListener::bind((host, port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {host}:{port}: {e} (set PORT to use another port)");
            return 1;
        }
    };
    let shown = if host.is_unspecified() { "127.0.0.1".to_string() } else { host.to_string() };
    println!("LoRA Playground: http://{shown}:{port}/");
    if !host.is_loopback() {
        // Browsers grant WebGPU, Cache Storage and service workers to https and localhost only.
        eprintln!(
            "note: serving beyond this machine ({host}). Other machines open http://<this machine's address>:{port}/; \
             over plain http their browsers train on the CPU path and keep no offline copy."
        );
    }
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &root);
        });
    }
    0
}

fn handle(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    // Read the headers; only Accept-Encoding matters here.
    let mut gzip_ok = false;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        if let Some((name, value)) = line.split_once(':') {
            gzip_ok |= name.trim().eq_ignore_ascii_case("accept-encoding") && accepts_gzip(value);
        }
        line.clear();
    }
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, 405, "text/plain", false, b"method not allowed\n", method == "HEAD");
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let Some(file) = resolve(root, &percent_decode(path)) else {
        return respond(&mut stream, 404, "text/plain", false, b"not found\n", false);
    };
    let (body_file, gzipped) = match gzip_ok.then(|| fresh_gzip(&file)).flatten() {
        Some(gz) => (gz, true),
        None => (file.clone(), false),
    };
    match std::fs::read(&body_file) {
        Ok(body) => respond(&mut stream, 200, mime(&file), gzipped, &body, method == "HEAD"),
        Err(_) => respond(&mut stream, 404, "text/plain", false, b"not found\n", false),
    }
}

/// Whether an Accept-Encoding value allows gzip (`gzip`, `gzip;q=0.5`, not `gzip;q=0`).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let q = parts.find_map(|p| p.strip_prefix("q=").and_then(|q| q.trim().parse::<f64>().ok())).unwrap_or(1.0);
        name.eq_ignore_ascii_case("gzip") && q > 0.0
    })
}

/// `file.gz` when the build wrote one that is not older than the file (the trainer's wasm: 35 MiB, a sixth of
/// that gzipped, which matters to a classroom downloading it over one laptop's Wi-Fi).
fn fresh_gzip(file: &Path) -> Option<PathBuf> {
    let mut name = file.file_name()?.to_os_string();
    name.push(".gz");
    let gz = file.with_file_name(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(&gz)? >= modified(file)?).then_some(gz)
}

/// Maps a URL path to a file under `root`, refusing anything that climbs out of it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let rel = Path::new(url_path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let mut file = root.join(rel);
    if file.is_dir() {
        file = file.join("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Only two ASCII hex digits make an escape (slicing `s` at a non-ASCII byte would panic).
        if bytes[i] == b'%' && i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit() {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(stream: &mut TcpStream, status: u16, mime: &str, gzipped: bool, body: &[u8], head: bool) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {mime}\r\n{}Content-Length: {}\r\nCache-Control: no-cache\r\nVary: Accept-Encoding\r\nConnection: close\r\n\r\n",
        if gzipped { "Content-Encoding: gzip\r\n" } else { "" },
        body.len()
    )?;
    if !head {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_the_root() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        assert!(resolve(&root, "/../etc/passwd").is_none());
        assert!(resolve(&root, "/web/../../etc/passwd").is_none());
        assert_eq!(percent_decode("/a%20b"), "/a b");
        assert_eq!(percent_decode("/100%"), "/100%");
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_accept_it() {
        assert!(accepts_gzip(" gzip, deflate, br, zstd"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.5"));
        assert!(accepts_gzip("GZIP"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("gzip; q=0.0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("x-gzip2"));
    }
}
