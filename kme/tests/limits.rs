//! Connection limits of the KME server on loopback: a slowloris client (TLS
//! up, request head trickled or never sent) is dropped after the
//! header-read timeout, a silent TCP client after the handshake timeout, an
//! idle kept-alive connection after the idle timeout; the per-client and
//! global caps refuse extra connections while the open ones keep being
//! served.
//!
//! ```text
//!   client --TCP--> [global cap] --> [per-IP cap] --TLS--> [per-SAE cap] --> hyper
//!                                                    (handshake timeout)   (header-read, idle timeouts)
//! ```

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use qkd_kme::certs::{make_test_pki, TestPki};
use qkd_kme::{ApiConfig, Kme, KmeConfig, KmeHandle, LinkConfig, ServerLimits, Side, TlsFiles};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

fn config(pki: &TestPki, store: std::path::PathBuf) -> KmeConfig {
    KmeConfig {
        api: ApiConfig {
            kme_id: "KME_A".into(),
            peer_kme_id: "KME_B".into(),
            links: vec![LinkConfig {
                master_sae_id: "SAE_A".into(),
                slave_sae_id: "SAE_B".into(),
                local_side: Side::Master,
            }],
            key_size_bits: 256,
            max_key_count: 1000,
            max_key_per_request: 16,
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        ops_listen: None,
        tls: TlsFiles {
            client_ca_pem: pki.ca_cert.clone(),
            server_cert_pem: pki.cert("KME_A"),
            server_key_pem: pki.key("KME_A"),
        },
        store_path: store,
    }
}

fn client_config(pki: &TestPki, sae: &str) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&pki.ca_cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let chain = CertificateDer::pem_file_iter(pki.cert(sae))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(pki.key(sae)).unwrap();
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .unwrap(),
    )
}

async fn tcp_from(src: IpAddr, addr: SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(SocketAddr::new(src, 0)).unwrap();
    s.connect(addr).await.unwrap()
}

/// TLS connection from `src` as `sae`; Err if the server refuses.
async fn tls_from(
    pki: &TestPki,
    sae: &str,
    src: IpAddr,
    addr: SocketAddr,
) -> Result<TlsStream<TcpStream>, String> {
    let tcp = tcp_from(src, addr).await;
    let c = tokio_rustls::TlsConnector::from(client_config(pki, sae));
    let mut tls = tokio::time::timeout(
        Duration::from_secs(10),
        c.connect(ServerName::try_from("localhost").unwrap(), tcp),
    )
    .await
    .map_err(|_| "handshake timeout".to_owned())?
    .map_err(|e| e.to_string())?;
    // With TLS 1.3 the server checks the client certificate after the
    // client considers the handshake done: a refused connection shows up
    // as EOF or an error on the first read. Probe with a status request.
    status_on(&mut tls).await.map(|_| tls)
}

/// Sends a Status request on an open connection (keep-alive) and returns
/// the HTTP status code.
async fn status_on(tls: &mut TlsStream<TcpStream>) -> Result<u16, String> {
    tls.write_all(b"GET /api/v1/keys/SAE_B/status HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = tokio::time::timeout_at(deadline.into(), tls.read(&mut chunk))
            .await
            .map_err(|_| "no response".to_owned())?
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let len: usize = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + len {
                return Ok(text[9..12].parse().unwrap());
            }
        }
    }
}

/// Waits until the server closes the connection; returns how long that took.
async fn closed_after<R: AsyncReadExt + Unpin>(s: &mut R, max: Duration) -> Duration {
    let t = Instant::now();
    let mut b = [0u8; 256];
    loop {
        match tokio::time::timeout(max.saturating_sub(t.elapsed()), s.read(&mut b)).await {
            Err(_) => panic!("still open after {max:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return t.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

async fn start(limits: ServerLimits) -> (tempfile::TempDir, TestPki, KmeHandle) {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_test_pki(dir.path().join("pki")).unwrap();
    let h = Kme::serve_with_limits(config(&pki, dir.path().join("a.keys")), limits)
        .await
        .unwrap();
    (dir, pki, h)
}

const LOCAL: [u8; 4] = [127, 0, 0, 1];

/// Slowloris: a request head trickled one byte every 200 ms is cut off at
/// the header-read timeout; a client that completes TLS and sends nothing
/// likewise; a TCP client that never starts TLS at the handshake timeout.
#[tokio::test]
async fn slow_header_client_is_dropped() {
    let limits = ServerLimits {
        tls_handshake_timeout: Duration::from_secs(1),
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(30),
        ..ServerLimits::default()
    };
    let (_d, pki, h) = start(limits).await;
    let addr = h.api_addr;
    let local = IpAddr::from(LOCAL);

    let slow = tls_from(&pki, "SAE_A", local, addr).await.unwrap();
    let (mut rd, mut wr) = tokio::io::split(slow);
    let reader = tokio::spawn(async move { closed_after(&mut rd, Duration::from_secs(8)).await });
    let head = b"GET /api/v1/keys/SAE_B/status HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for b in head {
        if reader.is_finished() || wr.write_all(&[*b]).await.is_err() || wr.flush().await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let waited = reader.await.unwrap();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(3),
        "slow head dropped after {waited:?} (header-read timeout 1 s)"
    );

    let mut silent = tls_from(&pki, "SAE_A", local, addr).await.unwrap();
    let waited = closed_after(&mut silent, Duration::from_secs(5)).await;
    assert!(waited >= Duration::from_millis(500), "{waited:?}");

    let mut raw = tcp_from(local, addr).await;
    let waited = closed_after(&mut raw, Duration::from_secs(5)).await;
    assert!(waited >= Duration::from_millis(500), "{waited:?}");

    let c = h.connection_counts();
    assert!(c.header_timeouts >= 2, "{c:?}");
    assert_eq!(c.open, 0, "{c:?}");
    // The server still serves.
    let mut ok = tls_from(&pki, "SAE_A", local, addr).await.unwrap();
    assert_eq!(status_on(&mut ok).await.unwrap(), 200);
    h.shutdown().await;
}

/// A connection that stalls in the middle of a request body (head complete,
/// so the header timeout no longer applies) is closed by the idle timeout.
#[tokio::test]
async fn idle_connection_is_closed() {
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(1),
        ..ServerLimits::default()
    };
    let (_d, pki, h) = start(limits).await;
    let mut s = tls_from(&pki, "SAE_A", IpAddr::from(LOCAL), h.api_addr)
        .await
        .unwrap();
    s.write_all(
        b"POST /api/v1/keys/SAE_B/enc_keys HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{\"num",
    )
    .await
    .unwrap();
    let waited = closed_after(&mut s, Duration::from_secs(6)).await;
    assert!(waited >= Duration::from_millis(800), "{waited:?}");
    assert!(h.connection_counts().idle_timeouts >= 1);
    h.shutdown().await;
}

/// Per-client cap (per source IP and per SAE) and global cap: extra
/// connections are refused while the open ones are still served.
#[tokio::test]
async fn connection_caps_refuse_extra_connections_and_serve_the_others() {
    let limits = ServerLimits {
        max_connections: 3,
        max_connections_per_client: 2,
        ..ServerLimits::default()
    };
    let (_d, pki, h) = start(limits).await;
    let addr = h.api_addr;
    let ip = |last: u8| IpAddr::from([127, 0, 0, last]);

    let mut a1 = tls_from(&pki, "SAE_A", ip(1), addr).await.unwrap();
    let mut a2 = tls_from(&pki, "SAE_A", ip(1), addr).await.unwrap();
    // Third from the same address: per-client cap.
    assert!(tls_from(&pki, "SAE_C", ip(1), addr).await.is_err());
    // Same SAE from another address: per-client cap on the certificate.
    assert!(tls_from(&pki, "SAE_A", ip(2), addr).await.is_err());
    let mut b = tls_from(&pki, "SAE_B", ip(2), addr).await.unwrap();
    // Fourth connection overall: global cap.
    assert!(tls_from(&pki, "SAE_C", ip(3), addr).await.is_err());
    let c = h.connection_counts();
    assert_eq!(c.open, 3, "{c:?}");
    assert_eq!(c.refused_client_cap, 2, "{c:?}");
    assert_eq!(c.refused_global_cap, 1, "{c:?}");
    // The open ones are still served.
    assert_eq!(status_on(&mut a1).await.unwrap(), 200);
    assert_eq!(status_on(&mut a2).await.unwrap(), 200);
    assert_eq!(
        status_on(&mut b).await.unwrap(),
        401,
        "SAE_B is slave; no slave link here"
    );
    // Closing one frees its place.
    drop(a2);
    let t = Instant::now();
    loop {
        if h.connection_counts().open == 2 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut a3 = tls_from(&pki, "SAE_A", ip(1), addr).await.unwrap();
    assert_eq!(status_on(&mut a3).await.unwrap(), 200);
    h.shutdown().await;
}

#[tokio::test]
async fn zero_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_test_pki(dir.path().join("pki")).unwrap();
    for bad in [
        ServerLimits {
            max_connections: 0,
            ..ServerLimits::default()
        },
        ServerLimits {
            idle_timeout: Duration::ZERO,
            ..ServerLimits::default()
        },
    ] {
        let e = Kme::serve_with_limits(config(&pki, dir.path().join("z.keys")), bad)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("invalid KME configuration"), "{e}");
    }
}
