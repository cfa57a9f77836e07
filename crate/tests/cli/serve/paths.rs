//! The allow-list from outside: the app's files are served with their types, and nothing else is, whatever the
//! spelling of the path.

use super::{Server, app_root, get, request, write};

#[test]
fn serve_sends_the_app_s_files_and_nothing_else() {
    let root = app_root("serve-paths");
    for (file, text) in [
        ("Cargo.toml", "[package]"),
        ("Cargo.lock", "# lock"),
        (".git/config", "[core]"),
        ("crate/src/lib.rs", "//! sources"),
        ("runs/x", "a student's run"),
        ("tests/e2e/run.mjs", "// e2e"),
        ("tools/lib.sh", "#!/bin/sh"),
        ("README.md", "# readme"),
        ("web/.hidden", "dotfile"),
    ] {
        write(&root.join(file), text.as_bytes());
    }
    let outside = root.with_file_name("serve-paths-outside.txt");
    std::fs::write(&outside, "outside the root").unwrap();
    let link = |target: &std::path::Path, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
    link(&outside, "web/escape.js");
    link(std::path::Path::new("/"), "models/slash");
    link(&root.join("Cargo.toml"), "web/cargo.js");
    link(&root.join("web/app.js"), "web/same.js");
    // A precompressed copy that is a symlink out of the root is never sent either.
    link(&outside, "web/style.css.gz");

    let server = Server::start(&root);
    let addr = &server.addr;
    for (path, mime) in [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/train.html", "text/html; charset=utf-8"),
        ("/sw.js", "text/javascript; charset=utf-8"),
        ("/web/app.js", "text/javascript; charset=utf-8"),
        ("/web/same.js", "text/javascript; charset=utf-8"),
        ("/web/style.css", "text/css; charset=utf-8"),
        ("/web/pkg/a.wasm", "application/wasm"),
        ("/models/tiny/config.json", "application/json"),
        ("/web/app.js?v=2", "text/javascript; charset=utf-8"),
    ] {
        let r = get(addr, path, "");
        assert_eq!(r.status, 200, "{path}: {}", r.head);
        assert_eq!(r.header("Content-Type"), Some(mime), "{path}");
    }
    assert_eq!(get(addr, "/", "").body, b"<!doctype html><title>calculator</title>");
    let css = get(addr, "/web/style.css", "Accept-Encoding: gzip\r\n");
    assert_eq!((css.header("Content-Encoding"), &css.body[..]), (None, &b"body { margin: 0 }"[..]));

    let forbidden: &[&str] = &[
        "/.git/config",
        "/.git/HEAD",
        "/Cargo.toml",
        "/Cargo.lock",
        "/crate/src/lib.rs",
        "/runs/x",
        "/tests/e2e/run.mjs",
        "/tools/lib.sh",
        "/README.md",
        "/web/.hidden",
        "/etc/passwd",
        "/../Cargo.toml",
        "/web/../Cargo.toml",
        "/models/../../etc/passwd",
        "/web/./app.js",
        "/%2e%2e/Cargo.toml",
        "/web/%2e%2e/Cargo.toml",
        "/web/%2E%2E/%2e%2e/etc/passwd",
        "/%2egit/config",
        "/.%67it/config",
        "/web/..%2fCargo.toml",
        "/web%2f..%2fCargo.toml",
        "/web/%2f..%2f..%2fetc%2fpasswd",
        "/web/..%5cCargo.toml",
        "/web/%5c..%5cCargo.toml",
        "/web\\..\\Cargo.toml",
        "/web/..\\Cargo.toml",
        "//etc/passwd",
        "//Cargo.toml",
        "/web//app.js",
        "/web/app.js%00",
        "/web/app.js%00.html",
        "/%00",
        "/web/%c0%ae%c0%ae/Cargo.toml",
        "/web/",
        "/web",
        "/models/",
        "/index.html/",
        "/C:/Windows/win.ini",
        "/web/escape.js",
        "/models/slash/etc/passwd",
        "/web/cargo.js",
        "http://127.0.0.1/Cargo.toml",
        "/web/app.js/..",
        "/web/%zz",
        "/sw.js/",
    ];
    assert!(forbidden.len() >= 30);
    for path in forbidden {
        let r = get(addr, path, "");
        assert_eq!(r.status, 404, "{path}: {}", r.head);
        assert!(!String::from_utf8_lossy(&r.body).contains("outside the root"), "{path}");
    }
    // Bytes hyper refuses before any routing (a raw NUL, raw non-ASCII): 400, never a file.
    for raw in [&b"/web/app.js\0"[..], b"/%\xc3\xa9x", b"/web/\xff/../Cargo.toml"] {
        let r = request(addr, "GET", raw, "");
        assert!(r.status == 400 || r.status == 404, "{}: {}", String::from_utf8_lossy(raw), r.head);
    }
    // The server is still up after all of that.
    assert_eq!(get(addr, "/sw.js", "").status, 200);
}
