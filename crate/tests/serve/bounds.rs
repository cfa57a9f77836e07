//! The server is bounded: at most 256 connections at once (the next one waits, it is not dropped), and a client
//! that never finishes its headers (slowloris) loses its connection after the header read timeout.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Server, app_root, open};

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
