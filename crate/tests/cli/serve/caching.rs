//! What a browser relies on besides the bytes: precompressed copies, revalidation, resumed downloads, the
//! security headers and the methods.

use std::io::{BufRead, BufReader, Read};
use std::time::Duration;

use super::{Server, app_root, get, open, random_bytes, request, write};

#[test]
fn serve_sends_a_fresh_gzipped_copy_to_browsers_that_accept_gzip() {
    let root = app_root("serve-gzip");
    write(&root.join("web/a.wasm"), b"plain");
    std::thread::sleep(Duration::from_millis(20));
    write(&root.join("web/a.wasm.gz"), b"gzipped");
    write(&root.join("web/b.js"), b"new");
    write(&root.join("web/c.js"), b"plain c");
    write(&root.join("web/c.js.br"), b"brotli c");
    let server = Server::start(&root);
    let addr = &server.addr;
    let r = get(addr, "/web/a.wasm", "Accept-Encoding: gzip, deflate, br\r\n");
    assert!(
        r.head.contains("Content-Encoding: gzip") && r.head.contains("Content-Type: application/wasm"),
        "{}",
        r.head
    );
    assert_eq!(r.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(r.body, b"gzipped");
    let r = get(addr, "/web/a.wasm", "");
    assert!(!r.head.contains("Content-Encoding"), "{}", r.head);
    assert_eq!(r.body, b"plain");
    assert_eq!(get(addr, "/web/a.wasm", "accept-encoding: gzip;q=0\r\n").body, b"plain");
    let r = get(addr, "/web/c.js", "Accept-Encoding: gzip, br\r\n");
    assert_eq!((r.header("Content-Encoding"), &r.body[..]), (Some("br"), &b"brotli c"[..]));
    assert_eq!(get(addr, "/web/c.js", "Accept-Encoding: gzip\r\n").body, b"plain c");
    // A stale .gz (older than the file) is never sent.
    std::thread::sleep(Duration::from_millis(20));
    write(&root.join("web/a.wasm"), b"rebuilt");
    assert_eq!(get(addr, "/web/a.wasm", "Accept-Encoding: gzip\r\n").body, b"rebuilt");
    assert_eq!(get(addr, "/web/b.js", "Accept-Encoding: gzip\r\n").body, b"new");
}

#[test]
fn serve_revalidates_with_the_etag_and_last_modified() {
    let root = app_root("serve-etag");
    let server = Server::start(&root);
    let addr = &server.addr;
    let first = get(addr, "/web/app.js", "");
    assert_eq!(first.header("Cache-Control"), Some("no-cache"));
    let tag = first.header("ETag").expect("an ETag").to_string();
    assert!(tag.starts_with("W/\""), "{tag}");
    let modified = first.header("Last-Modified").expect("Last-Modified").to_string();

    let again = get(addr, "/web/app.js", &format!("If-None-Match: {tag}\r\n"));
    assert_eq!(again.status, 304, "{}", again.head);
    assert!(again.body.is_empty());
    assert_eq!(again.header("ETag"), Some(tag.as_str()));
    assert_eq!(get(addr, "/web/app.js", &format!("If-None-Match: \"other\", {tag}\r\n")).status, 304);
    assert_eq!(get(addr, "/web/app.js", "If-None-Match: W/\"other\"\r\n").status, 200);
    let since = get(addr, "/web/app.js", &format!("If-Modified-Since: {modified}\r\n"));
    assert_eq!((since.status, since.body.len()), (304, 0), "{}", since.head);
    // A different ETag wins over a matching date (RFC 9110: If-None-Match first).
    let both = get(addr, "/web/app.js", &format!("If-None-Match: W/\"old\"\r\nIf-Modified-Since: {modified}\r\n"));
    assert_eq!(both.status, 200);

    std::thread::sleep(Duration::from_millis(20));
    write(&root.join("web/app.js"), b"export const app = 2; // rebuilt");
    let changed = get(addr, "/web/app.js", &format!("If-None-Match: {tag}\r\n"));
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("ETag"), Some(tag.as_str()));
    assert_eq!(changed.body, b"export const app = 2; // rebuilt");
}

#[test]
fn serve_resumes_an_interrupted_model_download_with_range() {
    let root = app_root("serve-range");
    let model = random_bytes(3_000_000, 7);
    write(&root.join("models/m/model.safetensors"), &model);
    let server = Server::start(&root);
    let addr = &server.addr;
    let path = "/models/m/model.safetensors";

    // The first download stops after 1 MB (the student's Wi-Fi dropped).
    let mut s = BufReader::new(open(addr, "GET", path.as_bytes(), ""));
    let mut head = String::new();
    while {
        let mut l = String::new();
        s.read_line(&mut l).unwrap();
        head.push_str(&l);
        l != "\r\n"
    } {}
    assert!(head.contains("Accept-Ranges: bytes"), "{head}");
    let tag = head.lines().find_map(|l| l.strip_prefix("Etag: ").or(l.strip_prefix("ETag: "))).unwrap().to_string();
    let mut part = vec![0; 1_000_000];
    s.read_exact(&mut part).unwrap();
    drop(s);
    assert_eq!(part, model[..1_000_000]);

    let rest = get(addr, path, "Range: bytes=1000000-\r\n");
    assert_eq!(rest.status, 206, "{}", rest.head);
    assert_eq!(rest.header("Content-Range"), Some("bytes 1000000-2999999/3000000"));
    assert!(rest.body == model[1_000_000..], "the rest is byte-identical");
    // If-Range: the same file resumes; a changed one (another tag) is sent whole.
    assert_eq!(get(addr, path, &format!("Range: bytes=2999990-\r\nIf-Range: {tag}\r\n")).body, model[2_999_990..]);
    let whole = get(addr, path, "Range: bytes=2999990-\r\nIf-Range: W/\"an-older-model\"\r\n");
    assert_eq!((whole.status, whole.body.len()), (200, model.len()));
    assert_eq!(get(addr, path, "Range: bytes=5000000-\r\n").status, 416);
}

#[test]
fn serve_sends_security_headers_types_and_only_get_and_head() {
    let root = app_root("serve-headers");
    let server = Server::start(&root);
    let addr = &server.addr;
    for (method, path, status) in
        [("GET", "/", 200), ("GET", "/Cargo.toml", 404), ("POST", "/", 405), ("HEAD", "/sw.js", 200)]
    {
        let r = request(addr, method, path.as_bytes(), "Content-Length: 0\r\n");
        assert_eq!(r.status, status, "{method} {path}: {}", r.head);
        assert_eq!(r.header("X-Content-Type-Options"), Some("nosniff"), "{method} {path}");
        let csp = r.header("Content-Security-Policy").unwrap_or_default();
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'") && csp.contains("frame-ancestors *"), "{csp}");
        assert!(r.header("X-Frame-Options").is_none(), "course sites embed the pages");
    }
    assert_eq!(get(addr, "/web/pkg/a.wasm", "").header("Content-Type"), Some("application/wasm"));
    let head = request(addr, "HEAD", b"/web/pkg/a.wasm", "");
    assert_eq!((head.status, head.header("Content-Length"), head.body.len()), (200, Some("8"), 0));
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = request(addr, method, b"/index.html", "Content-Length: 0\r\n");
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    }
    // A header block past the limit is refused, not buffered.
    let big = format!("X-Pad: {}\r\n", "a".repeat(64 * 1024));
    assert_eq!(get(addr, "/", &big).status, 431);
}
