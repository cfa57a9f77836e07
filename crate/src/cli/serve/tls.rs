//! `serve --tls`: HTTPS for a classroom. Browsers give WebGPU, service workers and Cache Storage to `https://` and
//! `localhost` only, so over plain `http://` on a LAN every student trains on the CPU path and downloads the model
//! again on each visit. With `--tls` the server makes a self-signed certificate once (rcgen) for `localhost`, this
//! machine's addresses and host name, and keeps it under `runs/tls/` (never served), so students accept it once and
//! can compare its SHA-256 fingerprint with the one printed at start. `--cert`/`--key` take a school's own.
//! rustls (with ring) does the TLS; nothing here is hand-written cryptography.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// SHA-256 of the certificate (DER), as browsers show it: upper-case hex pairs joined by colons.
    pub fingerprint: String,
    /// Where the certificate came from, for the start-up message.
    pub source: String,
}

/// The names a student's browser may reach this machine by: localhost, loopback, the address of the interface that
/// routes outward (found by connecting a UDP socket, which sends nothing), the `--host` address if it is a specific
/// one, and the host name with and without `.local` (mDNS, as classroom laptops announce themselves).
pub fn names(host: IpAddr) -> Vec<String> {
    let mut out = vec!["localhost".to_string(), Ipv4Addr::LOCALHOST.to_string(), Ipv6Addr::LOCALHOST.to_string()];
    let lan = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| s.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).and(s.local_addr()));
    if let Ok(addr) = lan {
        out.push(addr.ip().to_string());
    }
    if !host.is_unspecified() {
        out.push(host.to_string());
    }
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname").or_else(|_| std::env::var("HOSTNAME")) {
        let name = name.trim().to_string();
        if !name.is_empty() {
            out.push(format!("{name}.local"));
            out.push(name);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The kept self-signed certificate for `names` under `dir`, made when missing or when it lacks one of the names
/// (the laptop moved to another network): returns the cert and key paths and whether it was made now.
pub fn self_signed(dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf, bool), String> {
    let (cert, key, listed) = (dir.join("cert.pem"), dir.join("key.pem"), dir.join("names.txt"));
    let known = std::fs::read_to_string(&listed).unwrap_or_default();
    let covered = names.iter().all(|n| known.lines().any(|l| l == n));
    if covered && cert.is_file() && key.is_file() {
        return Ok((cert, key, false));
    }
    let made =
        rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| format!("cannot make a certificate: {e}"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |path: &Path, text: String| std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()));
    write(&key, made.signing_key.serialize_pem())?;
    write(&cert, made.cert.pem())?;
    write(&listed, names.join("\n") + "\n")?;
    Ok((cert, key, true))
}

/// A TLS acceptor for the PEM certificate chain and private key at these paths (HTTP/1.1 over TLS 1.2 or 1.3).
pub fn load(cert: &Path, key: &Path, source: String) -> Result<Tls, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("--cert {}: not a PEM certificate ({e})", cert.display()))?;
    let first = certs.first().ok_or_else(|| format!("--cert {}: holds no certificate", cert.display()))?;
    let fingerprint = Sha256::digest(first.as_ref()).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--key {}: not a PEM private key ({e})", key.display()))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("--cert/--key: they do not make a pair ({e})"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { acceptor: TlsAcceptor::from(Arc::new(config)), fingerprint, source })
}
