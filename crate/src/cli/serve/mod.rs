//! `lora-playground serve`: the static server a class downloads the playground from. Loopback by default;
//! `--host 0.0.0.0` opens it to a classroom's network, which is why it serves only the app and stays bounded.
//!
//! Built on kept libraries rather than hand-written HTTP: hyper (parsing, keep-alive, header size limit and
//! header read timeout), axum (routing, the handler) and tower-http's `ServeFile` (files streamed in 64 KiB
//! chunks, `Range`/206 so an interrupted model download resumes, `Last-Modified`/`If-Modified-Since`, a `.gz` or
//! `.br` beside a file sent with `Content-Encoding` to browsers that accept it), plus its layers for response
//! headers, body limit and request timeout. What is this project's own: the allow-list ([`routes`]: only the app's
//! pages, `web/` and `models/`, symlinks checked on the canonical path), the ETag and `If-Range` checks ([`etag`]),
//! the rule that a stale or out-of-root `.gz`/`.br` is never sent ([`files`]), the security headers
//! ([`policy`]), the connection limit in the accept loop below, and the time a connection may hold its place
//! ([`stall`]: a client that stops reading; [`MAX_CONNECTION_TIME`]: one that reads too slowly to ever finish).

mod etag;
mod files;
mod policy;
mod routes;
mod stall;
mod tls;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;

use super::flags::Flags;
use super::usage::usage_error;

/// Connections served at once; the next ones wait in the kernel's backlog until one closes (a class of 30, each
/// browser opening about 6, fits with room to spare).
const MAX_CONNECTIONS: usize = 256;
/// A client has this long to send a request's headers (slowloris: trickled headers would hold a connection).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The read buffer, which bounds a request's headers (larger ones get 431).
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// A response whose client takes no byte for this long is dropped (it stopped reading, or is gone). A minute is far
/// beyond a Wi-Fi hiccup or a busy browser; TCP alone keeps a client that is there but not reading forever.
const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The most a connection is kept, whatever it does: a client trickling a few bytes at a time never stalls, but
/// cannot hold a place for longer than this. An hour leaves the 35 MiB trainer wasm and the 87 MiB model (one
/// connection may carry both) about 35 KB/s, a class of 30 sharing under 9 Mbit/s; generous, as the page's model
/// download does not resume (a cut one starts over). Idle keep-alive connections are closed far sooner, by the
/// header read timeout.
const MAX_CONNECTION_TIME: Duration = Duration::from_secs(60 * 60);

/// How the server speaks: plain HTTP, or HTTPS with the kept self-signed certificate or a given one.
enum Scheme {
    Http,
    SelfSigned,
    Files(PathBuf, PathBuf),
}

pub fn run(args: &[String]) -> i32 {
    let (root, host, port, scheme) = match flags(args) {
        Ok(f) => f,
        Err(code) => return code,
    };
    if !root.join("index.html").is_file() {
        eprintln!("error: {} has no index.html; run from the repository root or pass --root", root.display());
        return 1;
    }
    // The allow-list compares canonical paths, so the root is canonical too.
    let Ok(root) = root.canonicalize() else {
        eprintln!("error: cannot resolve {}", root.display());
        return 1;
    };
    // Bound before the runtime starts, so a taken port is reported as today, with the same words.
    let listener = match std::net::TcpListener::bind((host, port)).and_then(|l| l.set_nonblocking(true).map(|_| l)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {host}:{port}: {e} (set PORT to use another port)");
            return 1;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
    let shown = if host.is_unspecified() { "127.0.0.1".to_string() } else { host.to_string() };
    let names = tls::names(host);
    let tls = match scheme {
        Scheme::Http => Ok(None),
        Scheme::SelfSigned => tls::self_signed(&root.join("runs").join("tls"), &names).and_then(|(cert, key, new)| {
            let how = if new { "made now" } else { "kept from before" };
            tls::load(&cert, &key, format!("self-signed, {how}, in {}, for {}", cert.display(), names.join(", ")))
                .map(Some)
        }),
        Scheme::Files(cert, key) => tls::load(&cert, &key, format!("from {}", cert.display())).map(Some),
    };
    let tls = match tls {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    if let Some(t) = &tls {
        println!("LoRA Playground: https://{shown}:{port}/");
        if host.is_unspecified() {
            for name in names.iter().filter(|n| !n.contains(':') && *n != "127.0.0.1") {
                println!("                 https://{name}:{port}/");
            }
        }
        println!("certificate: {}", t.source);
        println!("certificate SHA-256: {} (students compare it with what their browser shows)", t.fingerprint);
        return start(listener, root, tls.map(|t| t.acceptor));
    }
    println!("LoRA Playground: http://{shown}:{port}/");
    if !host.is_loopback() {
        // Browsers grant WebGPU, Cache Storage and service workers to https and localhost only.
        eprintln!(
            "note: serving beyond this machine ({host}). Other machines open http://<this machine's address>:{port}/; \
             over plain http their browsers train on the CPU path and keep no offline copy (--tls serves https)."
        );
    }
    start(listener, root, None)
}

fn start(listener: std::net::TcpListener, root: PathBuf, tls: Option<tokio_rustls::TlsAcceptor>) -> i32 {
    // File reads run on tokio's blocking pool; a cap keeps its threads (and their stacks) bounded under load.
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(64).build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server's runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(accept_loop(listener, root, tls)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// `[--root DIR] [--port N] [--host IP] [--tls [--cert PEM --key PEM]]`, with `PORT` from the environment as the
/// default port.
fn flags(args: &[String]) -> Result<(PathBuf, IpAddr, u16, Scheme), i32> {
    let mut root = PathBuf::from(".");
    let mut host: IpAddr = Ipv4Addr::LOCALHOST.into();
    let mut port: u16 = match std::env::var("PORT") {
        Ok(p) => p.parse().map_err(|_| usage_error(&format!("PORT='{p}' is not a port number")))?,
        Err(_) => 8080,
    };
    let f = Flags::parse(args, &["--root", "--cert", "--key", "--host", "--port"], &["--tls"])
        .map_err(|m| usage_error(&format!("serve: {m}")))?;
    let tls = f.on("--tls");
    let (cert, key) = (f.str("--cert").map(PathBuf::from), f.str("--key").map(PathBuf::from));
    if let Some(v) = f.str("--root") {
        root = PathBuf::from(v);
    }
    if let Some(v) = f.str("--host") {
        host = v.parse().map_err(|_| {
            usage_error(&format!("--host: '{v}' is not an IP address (127.0.0.1, or 0.0.0.0 for every interface)"))
        })?;
    }
    if let Some(v) = f.str("--port") {
        port = v.parse().map_err(|_| usage_error(&format!("--port: '{v}' is not a port number")))?;
    }
    let scheme = match (tls, cert, key) {
        (false, None, None) => Scheme::Http,
        (true, None, None) => Scheme::SelfSigned,
        (_, Some(c), Some(k)) => Scheme::Files(c, k),
        _ => return Err(usage_error("serve: --cert and --key go together (a school's own certificate and its key)")),
    };
    Ok((root, host, port, scheme))
}

/// Accepts connections while fewer than `MAX_CONNECTIONS` are open, each served by hyper's HTTP/1.1 with the
/// header limits, the write stall timeout and the time cap; the app (routing, files, headers) is one axum router
/// shared by all.
async fn accept_loop(
    listener: std::net::TcpListener,
    root: PathBuf,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = policy::app(Arc::new(root));
    let open = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    // The tests shorten both (nobody waits a minute in a test); an operator could too.
    let stall_timeout = seconds_from_env("LP_SERVE_WRITE_STALL_SECS").unwrap_or(WRITE_STALL_TIMEOUT);
    let max_connection_time = seconds_from_env("LP_SERVE_MAX_CONNECTION_SECS").unwrap_or(MAX_CONNECTION_TIME);
    loop {
        // Waiting for a permit before accepting leaves extra connections queued in the kernel, not in memory here.
        let Ok(permit) = open.clone().acquire_owned().await else { return Ok(()) };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or a connection reset before accept: wait a moment rather than spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let tls = tls.clone();
        tokio::spawn(async move {
            let io = stall::StallLimit::new(stream, stall_timeout);
            let http = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .max_buf_size(MAX_HEADER_BYTES)
                // `Content-Type:` as browsers and curl show it (and as the tests and people read it).
                .title_case_headers(true)
                .clone();
            // Past the time cap the connection is dropped mid-response: the socket closes and the place is freed.
            match tls {
                None => {
                    let _ = tokio::time::timeout(max_connection_time, http.serve_connection(TokioIo::new(io), service))
                        .await;
                }
                // The handshake gets the header read's time limit: a client that opens and says nothing is dropped.
                Some(acceptor) => {
                    if let Ok(Ok(tls_stream)) = tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(io)).await {
                        let _ = tokio::time::timeout(
                            max_connection_time,
                            http.serve_connection(TokioIo::new(tls_stream), service),
                        )
                        .await;
                    }
                }
            }
            drop(permit);
        });
    }
}

/// A whole number of seconds (above 0) from the environment, if set.
fn seconds_from_env(name: &str) -> Option<Duration> {
    let secs: u64 = std::env::var(name).ok()?.trim().parse().ok()?;
    (secs > 0).then_some(Duration::from_secs(secs))
}
