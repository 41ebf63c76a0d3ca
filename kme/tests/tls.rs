//! Two KMEs over HTTPS with mutual TLS on loopback (ephemeral ports), fed
//! with the same confirmed keys, as a master-side and a slave-side KME.
//!
//! ```text
//!   SAE_A --enc_keys--> KME_A (master side) ==same keys==  KME_B (slave side) <--dec_keys-- SAE_B
//!   SAE_C (valid cert, no link) --> refused 401     no client cert --> TLS refused
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use qkd_kme::certs::{make_test_pki, TestPki};
use qkd_kme::{
    derive_key_id, ApiConfig, Kme, KmeConfig, LinkConfig, LinkState, Side, TlsFiles, Uuid,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(20);

fn config(pki: &TestPki, me: &str, peer: &str, side: Side, store: std::path::PathBuf) -> KmeConfig {
    KmeConfig {
        api: ApiConfig {
            kme_id: me.into(),
            peer_kme_id: peer.into(),
            links: vec![LinkConfig {
                master_sae_id: "SAE_A".into(),
                slave_sae_id: "SAE_B".into(),
                local_side: side,
            }],
            key_size_bits: 256,
            max_key_count: 100_000,
            max_key_per_request: 16,
        },
        listen: "127.0.0.1:0".parse().unwrap(),
        ops_listen: Some("127.0.0.1:0".parse().unwrap()),
        tls: TlsFiles {
            client_ca_pem: pki.ca_cert.clone(),
            server_cert_pem: pki.cert(me),
            server_key_pem: pki.key(me),
        },
        store_path: store,
    }
}

fn client_config(pki: &TestPki, sae: Option<&str>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&pki.ca_cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match sae {
        Some(s) => {
            let chain = CertificateDer::pem_file_iter(pki.cert(s))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(pki.key(s)).unwrap();
            b.with_client_auth_cert(chain, key).unwrap()
        }
        None => b.with_no_client_auth(),
    }
}

/// One HTTPS request; Err if TLS or HTTP fails (no response).
async fn https(
    addr: SocketAddr,
    pki: &TestPki,
    sae: Option<&str>,
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<(u16, Value), String> {
    let fut = async {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let conn = tokio_rustls::TlsConnector::from(Arc::new(client_config(pki, sae)));
        let tls = conn
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        let v = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
        Ok((status, v))
    };
    tokio::time::timeout(TIMEOUT, fut)
        .await
        .map_err(|_| "timeout".to_owned())?
}

async fn plain_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    tokio::time::timeout(TIMEOUT, s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    out
}

fn keys_of(v: &Value) -> Vec<(String, Vec<u8>)> {
    v["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("no keys in {v}"))
        .iter()
        .map(|k| {
            (
                k["key_ID"].as_str().unwrap().to_owned(),
                base64::engine::general_purpose::STANDARD
                    .decode(k["key"].as_str().unwrap())
                    .unwrap(),
            )
        })
        .collect()
}

/// Deterministic key material (seeded from the test name).
fn key_bytes(i: u32) -> Vec<u8> {
    let mut x = 0x7f4a_7c15u32 ^ i.wrapping_mul(0x9e37_79b9) ^ 0x6b6d_6531; // "kme1"
    (0..32)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_kmes_deliver_identical_keys_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_test_pki(dir.path().join("pki")).unwrap();
    let a = Kme::serve(config(
        &pki,
        "KME_A",
        "KME_B",
        Side::Master,
        dir.path().join("a.keys"),
    ))
    .await
    .unwrap();
    let b_path = dir.path().join("b.keys");
    let mut b = Kme::serve(config(&pki, "KME_B", "KME_A", Side::Slave, b_path.clone()))
        .await
        .unwrap();
    let link = Uuid::from_u128(0x51);
    for i in 0..10 {
        let id = derive_key_id(link, 0, i);
        a.append_confirmed(id, &key_bytes(i), "SAE_A", "SAE_B")
            .unwrap();
        b.append_confirmed(id, &key_bytes(i), "SAE_A", "SAE_B")
            .unwrap();
    }

    // Status as the master SAE.
    let (s, v) = https(
        a.api_addr,
        &pki,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/status",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            s,
            v["stored_key_count"].as_u64(),
            v["source_KME_ID"].as_str()
        ),
        (200, Some(10), Some("KME_A"))
    );

    // Master SAE gets 3 keys at KME_A; slave SAE gets the same by ID at KME_B.
    let (s, v) = https(
        a.api_addr,
        &pki,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys?number=3",
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{v}");
    let enc = keys_of(&v);
    assert_eq!(enc.len(), 3);
    for (i, (id, k)) in enc.iter().enumerate() {
        assert_eq!(id, &derive_key_id(link, 0, i as u32).to_string());
        assert_eq!(k, &key_bytes(i as u32));
    }
    let ids: Vec<Value> = enc
        .iter()
        .map(|(id, _)| serde_json::json!({ "key_ID": id }))
        .collect();
    let body = serde_json::json!({ "key_IDs": ids }).to_string();
    let (s, v) = https(
        b.api_addr,
        &pki,
        Some("SAE_B"),
        "POST",
        "/api/v1/keys/SAE_A/dec_keys",
        Some(body.clone()),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(keys_of(&v), enc, "identical keys for the same key IDs");
    // Never twice.
    let (s, v) = https(
        b.api_addr,
        &pki,
        Some("SAE_B"),
        "POST",
        "/api/v1/keys/SAE_A/dec_keys",
        Some(body),
    )
    .await
    .unwrap();
    assert_eq!(s, 400, "{v}");
    let (s, v) = https(
        a.api_addr,
        &pki,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys?number=1",
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 200);
    assert_eq!(
        keys_of(&v)[0].0,
        derive_key_id(link, 0, 3).to_string(),
        "next key, not a repeat"
    );

    // A third SAE with its own valid certificate is refused at both KMEs.
    let (s, v) = https(
        a.api_addr,
        &pki,
        Some("SAE_C"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys",
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 401, "{v}");
    let q = format!(
        "/api/v1/keys/SAE_A/dec_keys?key_ID={}",
        derive_key_id(link, 0, 5)
    );
    let (s, v) = https(b.api_addr, &pki, Some("SAE_C"), "GET", &q, None)
        .await
        .unwrap();
    assert_eq!(s, 401, "{v}");
    // The slave SAE cannot pull keys as if it were the master.
    let (s, _) = https(
        a.api_addr,
        &pki,
        Some("SAE_B"),
        "GET",
        "/api/v1/keys/SAE_A/enc_keys",
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 401);
    // No client certificate: refused at the TLS layer, no HTTP response.
    let r = https(
        a.api_addr,
        &pki,
        None,
        "GET",
        "/api/v1/keys/SAE_B/status",
        None,
    )
    .await;
    assert!(
        r.is_err(),
        "client without certificate got a response: {r:?}"
    );
    // Malformed request over the wire: 400 with the error body.
    let (s, v) = https(
        a.api_addr,
        &pki,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys?number=x",
        None,
    )
    .await
    .unwrap();
    assert_eq!(s, 400);
    assert!(v["message"].is_string());

    // Operations endpoints.
    a.set_link_state(LinkState {
        link_up: true,
        alarms: vec![],
        qber: Some(0.021),
        key_rate_bps: Some(1234.5),
        blocks_done: 7,
        ..Default::default()
    });
    // The TLS refusal is counted by the server task right after it sends its
    // alert; poll until it shows. The bound (60 s) only stops a hang: 2 s,
    // as before, could pass on a loaded machine before the task ran.
    let mut m = String::new();
    for _ in 0..3000 {
        m = plain_get(a.ops_addr.unwrap(), "/metrics").await;
        if m.contains("qkd_kme_tls_refused_total{kme=\"KME_A\"} 1\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(m.starts_with("HTTP/1.1 200"), "{m}");
    assert!(m.contains("qkd_kme_stored_keys{kme=\"KME_A\"} 6\n"), "{m}");
    assert!(
        m.contains("qkd_kme_delivered_keys_total{kme=\"KME_A\"} 4\n"),
        "{m}"
    );
    assert!(
        m.contains("qkd_link_qber{kme=\"KME_A\",basis=\"z\"} 0.021\n"),
        "{m}"
    );
    assert!(
        m.contains("qkd_kme_tls_refused_total{kme=\"KME_A\"} 1\n"),
        "{m}"
    );
    let st = plain_get(a.ops_addr.unwrap(), "/status").await;
    assert!(
        st.contains("\"stored_keys\":6") && st.contains("\"blocks_done\":7"),
        "{st}"
    );

    // Restart the slave-side KME mid-run: no confirmed key lost, none twice.
    b.shutdown().await;
    b = Kme::serve(config(&pki, "KME_B", "KME_A", Side::Slave, b_path))
        .await
        .unwrap();
    assert_eq!(b.status().stored_keys, 7, "10 stored - 3 delivered");
    let q = format!(
        "/api/v1/keys/SAE_A/dec_keys?key_ID={}&key_ID={}",
        derive_key_id(link, 0, 3),
        derive_key_id(link, 0, 9)
    );
    let (s, v) = https(b.api_addr, &pki, Some("SAE_B"), "GET", &q, None)
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(keys_of(&v)[1].1, key_bytes(9));
    let q = format!(
        "/api/v1/keys/SAE_A/dec_keys?key_ID={}",
        derive_key_id(link, 0, 0)
    );
    let (s, _) = https(b.api_addr, &pki, Some("SAE_B"), "GET", &q, None)
        .await
        .unwrap();
    assert_eq!(
        s, 400,
        "key delivered before the restart is not handed out again"
    );
    a.shutdown().await;
    b.shutdown().await;
}

#[test]
fn blocking_wrapper_serves_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_test_pki(dir.path().join("pki")).unwrap();
    let h = Kme::spawn(config(
        &pki,
        "KME_A",
        "KME_B",
        Side::Master,
        dir.path().join("a.keys"),
    ))
    .unwrap();
    h.handle()
        .append_confirmed(Uuid::from_u128(1), &key_bytes(1), "SAE_A", "SAE_B")
        .unwrap();
    let addr = h.handle().api_addr;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (s, v) = rt
        .block_on(https(
            addr,
            &pki,
            Some("SAE_A"),
            "GET",
            "/api/v1/keys/SAE_B/enc_keys",
            None,
        ))
        .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(keys_of(&v)[0].1, key_bytes(1));
    drop(h);
    let r = rt.block_on(https(
        addr,
        &pki,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/status",
        None,
    ));
    assert!(r.is_err(), "server stopped after drop");
}

#[test]
fn pki_key_files_are_private_and_identity_is_the_cn() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pki = make_test_pki(dir.path()).unwrap();
    for n in ["ca", "KME_A", "SAE_C"] {
        assert_eq!(
            std::fs::metadata(pki.key(n)).unwrap().permissions().mode() & 0o777,
            0o600,
            "{n}.key"
        );
    }
    let der = CertificateDer::from_pem_file(pki.cert("SAE_C")).unwrap();
    assert_eq!(
        qkd_kme::server::sae_id_from_cert(der.as_ref()).as_deref(),
        Some("SAE_C")
    );
}
