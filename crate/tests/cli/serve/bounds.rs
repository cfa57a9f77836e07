//! The server is bounded: at most 256 connections at once (the next one waits, it is not dropped), a client
//! that never finishes its headers (slowloris) loses its connection after the header read timeout, one that stops
//! reading a response loses it after the write stall timeout, and none is kept past the connection time cap.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Server, app_root, get, open, random_bytes, write};

#[test]
fn serve_bounds_connections_and_times_out_slow_headers() {
    let root = app_root("serve-bounds");
    let server = Server::start(&root);
    let addr = &server.addr;
    // One client trickles half a request; 255 more connect and say nothing: all 256 places are taken.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let idle: Vec<_> = (0..255).map(|_| TcpStream::connect(addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let mut waiting = open(addr, "GET", b"/sw.js", "");
    waiting.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut first = [0; 12];
    let early = waiting.read(&mut first);
    assert!(matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)), "{early:?}");
    // The header read timeout (10 s) frees the places; the waiting request is then answered.
    waiting.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    waiting.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let waited = start.elapsed();
    assert!(waited > Duration::from_secs(5) && waited < Duration::from_secs(25), "{waited:?}");
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let closed = slow.read_to_end(&mut rest);
    assert!(closed.is_ok() || closed.as_ref().is_err_and(|e| e.kind() == ErrorKind::ConnectionReset), "{closed:?}");
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"), "the slow client got no page");
    drop(idle);
}

/// The model path the slow clients ask for.
const BIG: &str = "/models/big/model.safetensors";

#[test]
fn serve_drops_a_client_that_stops_reading_and_serves_the_others() {
    let root = app_root("serve-stall");
    let model = random_bytes(bigger_than_socket_buffers(), 3);
    write(&root.join(&BIG[1..]), &model);
    let server = Server::start_with(&root, &[("LP_SERVE_WRITE_STALL_SECS", "2")]);
    let addr = &server.addr;
    let mut stalled = open(addr, "GET", BIG.as_bytes(), "");
    stalled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut first = [0; 12];
    stalled.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    // It reads nothing more. Meanwhile others download the same model and a page, whole.
    let stopped = Instant::now();
    let r = get(addr, BIG, "");
    assert!(r.status == 200 && r.body == model, "{} ({} of {} bytes)", r.head, r.body.len(), model.len());
    assert_eq!(get(addr, "/", "").status, 200);
    // Well past the 2 s stall, the server has given up: reading again brings only what the kernels had buffered,
    // then the close (had the connection been kept, the reads would resume the download to its end).
    std::thread::sleep(Duration::from_secs(6).saturating_sub(stopped.elapsed()));
    let got = first.len() + read_until_closed(&mut stalled);
    assert!(got < model.len(), "the stalled client got all {got} bytes: its connection was kept");
    assert_eq!(get(addr, "/sw.js", "").status, 200, "the server still serves");
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn serve_cuts_a_connection_that_outlasts_the_time_cap() {
    let root = app_root("serve-time-cap");
    let len = bigger_than_socket_buffers();
    write(&root.join(&BIG[1..]), &vec![7; len]);
    let server = Server::start_with(&root, &[("LP_SERVE_MAX_CONNECTION_SECS", "2")]);
    // A trickle (32 KiB every 20 ms) never stalls, but it would take over 30 s; the cap is 2 s.
    let mut slow = open(&server.addr, "GET", BIG.as_bytes(), "");
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (start, mut got, mut buf) = (Instant::now(), 0, vec![0; 32 * 1024]);
    while start.elapsed() < Duration::from_secs(4) {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(got > 1 << 20, "the trickle moved: {got} bytes");
    let got = got + read_until_closed(&mut slow);
    assert!(got < len, "the trickle got all {got} bytes: its connection outlived the cap");
    assert_eq!(get(&server.addr, "/", "").status, 200, "the server still serves");
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

/// More than the kernel can hold between the server and a client that stops reading (Linux grows a socket's
/// buffers up to `tcp_rmem` and `tcp_wmem`'s maxima), so the server's writes do wait.
fn bigger_than_socket_buffers() -> usize {
    let max = |f: &str| {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        text.split_whitespace().nth(2).and_then(|m| m.parse::<usize>().ok()).unwrap_or(32 << 20)
    };
    max("/proc/sys/net/ipv4/tcp_rmem") + max("/proc/sys/net/ipv4/tcp_wmem") + (16 << 20)
}

/// Reads as fast as it can until the server's close shows (end of stream or reset); the bytes read. Fails if the
/// connection is still open after 30 s.
fn read_until_closed(s: &mut TcpStream) -> usize {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (start, mut got, mut buf) = (Instant::now(), 0, vec![0; 256 * 1024]);
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "still open after {got} more bytes");
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("after {got} more bytes: {e}"),
        }
    }
}
