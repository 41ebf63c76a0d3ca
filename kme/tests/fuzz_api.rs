//! Fuzz target: the ETSI GS QKD 014 request parsing of the KME API (query
//! strings of `enc_keys`/`dec_keys`/`status`, JSON bodies of the Key
//! request and Key IDs formats, the SAE ID path segment). Any input gets a
//! JSON answer with one of the standard's status codes (200, 400, 401, 503;
//! 404/405 for other paths and methods): never a panic, never a 500, and a
//! 200 carries well-formed keys of the configured size.
//!
//! Default `ProptestConfig`, so
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-kme --test fuzz_api`
//! runs it as a fuzzer.
//!
//! ```text
//!   bytes --> query / body / path --> api::router (oneshot) --> (status, JSON)
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use http_body_util::BodyExt;
use proptest::prelude::*;
use qkd_kme::api::{router, ApiState};
use qkd_kme::{ApiConfig, KeyStore, LinkConfig, LinkState, SaeIdentity, Side, Uuid};
use serde_json::Value;
use tower::ServiceExt;

const KEYS_PER_REFILL: u32 = 512;

struct Fixture {
    _dir: tempfile::TempDir,
    master: Arc<ApiState>,
    slave: Arc<ApiState>,
    rt: tokio::runtime::Runtime,
    next: Mutex<u32>,
}

fn id(i: u32) -> Uuid {
    Uuid::from_u128(0xf00d_0000 + u128::from(i))
}

fn api_state(dir: &Path, name: &str, side: Side) -> Arc<ApiState> {
    let store = KeyStore::open(dir.join(name)).unwrap();
    Arc::new(ApiState {
        config: ApiConfig {
            kme_id: "KME_A".into(),
            peer_kme_id: "KME_B".into(),
            links: vec![LinkConfig {
                master_sae_id: "SAE_A".into(),
                slave_sae_id: "SAE_B".into(),
                local_side: side,
            }],
            key_size_bits: 256,
            max_key_count: 100_000,
            max_key_per_request: 8,
        },
        store: Arc::new(Mutex::new(store)),
        metrics: Default::default(),
        link: Mutex::new(LinkState::default()),
    })
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        };
        let master = api_state(dir.path(), "m.keys", Side::Master);
        let slave = api_state(dir.path(), "s.keys", Side::Slave);
        Fixture {
            _dir: dir,
            master,
            slave,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            next: Mutex::new(0),
        }
    })
}

/// Keeps keys available on both sides (the fuzz consumes them), with IDs
/// `id(0..)` so queries can name real ones.
fn refill(f: &Fixture) {
    for st in [&f.master, &f.slave] {
        let mut store = st.store.lock().unwrap();
        if store.available("SAE_A", "SAE_B", Some(32)) >= 64 {
            continue;
        }
        let mut next = f.next.lock().unwrap();
        let keys: Vec<(Uuid, Vec<u8>)> = (*next..*next + KEYS_PER_REFILL)
            .map(|i| (id(i), vec![(i % 251) as u8 | 1; 32]))
            .collect();
        // Both stores get the same IDs; a side that still has keys skips
        // this refill and gets the next range.
        let r: Vec<(Uuid, &[u8])> = keys.iter().map(|(i, k)| (*i, k.as_slice())).collect();
        store.append_confirmed_batch(&r, "SAE_A", "SAE_B").unwrap();
        *next += KEYS_PER_REFILL;
    }
}

async fn call(
    st: &Arc<ApiState>,
    sae: &str,
    method: &str,
    uri: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    req.extensions_mut().insert(SaeIdentity(sae.to_owned()));
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{method} {uri}: body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, v)
}

fn check_answer(s: u16, v: &Value, what: &str) -> Result<(), TestCaseError> {
    match s {
        200 => {
            if let Some(keys) = v.get("keys") {
                let keys = keys
                    .as_array()
                    .ok_or_else(|| TestCaseError::fail("keys not an array"))?;
                prop_assert!(!keys.is_empty() && keys.len() <= 8, "{}", v);
                for k in keys {
                    let kid = k["key_ID"].as_str().unwrap_or_default();
                    prop_assert!(Uuid::try_parse(kid).is_ok(), "{}", v);
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(k["key"].as_str().unwrap_or_default())
                        .map_err(|e| TestCaseError::fail(format!("{e}: {v}")))?;
                    prop_assert_eq!(bytes.len(), 32);
                }
            } else {
                prop_assert!(v.get("stored_key_count").is_some(), "{}", v);
            }
        }
        400 | 401 | 404 | 405 | 503 => prop_assert!(v["message"].is_string(), "{}", v),
        other => prop_assert!(false, "unexpected status {} for {}: {}", other, what, v),
    }
    Ok(())
}

/// Bytes as a query string or path segment: safe bytes as they are,
/// others percent-encoded (so every decoded byte sequence is reachable).
fn encode(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"=&-_.~%+".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("number=".to_owned()),
        Just("size=".to_owned()),
        Just("key_ID=".to_owned()),
        Just("&".to_owned()),
        Just("=".to_owned()),
        (0u32..1100).prop_map(|i| id(i).to_string()),
        (0u64..20).prop_map(|n| n.to_string()),
        Just("256".to_owned()),
        Just("4294967296".to_owned()),
        "[0-9a-fA-F-]{0,40}",
        prop::collection::vec(any::<u8>(), 0..12).prop_map(|b| encode(&b)),
    ]
}

fn sae() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("SAE_A".to_owned()),
        Just("SAE_B".to_owned()),
        Just("SAE_C".to_owned()),
        any::<String>(),
    ]
}

fn path_sae() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("SAE_A".to_owned()),
        Just("SAE_B".to_owned()),
        prop::collection::vec(any::<u8>(), 1..16).prop_map(|b| encode(&b)),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| n.into()),
        any::<u64>().prop_map(|n| n.into()),
        any::<f64>().prop_map(|x| serde_json::json!(x)),
        (0u32..10).prop_map(|n| n.into()),
        (0u32..1100).prop_map(|i| Value::String(id(i).to_string())),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("number".to_owned()),
            Just("size".to_owned()),
            Just("key_IDs".to_owned()),
            Just("key_ID".to_owned()),
            Just("key_ID_extension".to_owned()),
            Just("key_IDs_extension".to_owned()),
            Just("additional_slave_SAE_IDs".to_owned()),
            Just("extension_mandatory".to_owned()),
            Just("extension_optional".to_owned()),
            any::<String>(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..9).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|v| Value::Object(v.into_iter().collect())),
        ]
    })
}

fn run(
    endpoint: usize,
    method: &str,
    sae: &str,
    path: &str,
    query: Option<&str>,
    body: Vec<u8>,
) -> Result<(), TestCaseError> {
    let f = fixture();
    refill(f);
    let ep = ["status", "enc_keys", "dec_keys"][endpoint];
    let st = if endpoint == 2 { &f.slave } else { &f.master };
    let uri = match query {
        Some(q) => format!("/api/v1/keys/{path}/{ep}?{q}"),
        None => format!("/api/v1/keys/{path}/{ep}"),
    };
    if uri.parse::<axum::http::Uri>().is_err() {
        return Ok(());
    }
    let (s, v) = f.rt.block_on(call(st, sae, method, &uri, body));
    check_answer(s, &v, &format!("{method} {uri}"))
}

proptest! {
    /// Query strings from tokens of the standard's parameters and
    /// arbitrary (percent-encoded) bytes.
    #[test]
    fn query_strings(tokens in prop::collection::vec(token(), 0..8),
                     endpoint in 0usize..3, sae in sae(), path in path_sae()) {
        let q = tokens.concat();
        run(endpoint, "GET", &sae, &path, Some(&q), Vec::new())?;
    }

    /// Arbitrary bytes as a JSON request body of `enc_keys` / `dec_keys`.
    #[test]
    fn json_body_bytes(body in prop::collection::vec(any::<u8>(), 0..300),
                       endpoint in 1usize..3, sae in sae()) {
        run(endpoint, "POST", &sae, if endpoint == 1 { "SAE_B" } else { "SAE_A" }, None, body)?;
    }

    /// Structured JSON bodies near the Key request and Key IDs formats.
    #[test]
    fn json_body_structured(v in json_value(), endpoint in 1usize..3,
                            sae in prop_oneof![Just("SAE_A".to_owned()), Just("SAE_B".to_owned())],
                            wrap_key_ids in any::<bool>()) {
        let v = if wrap_key_ids {
            serde_json::json!({ "key_IDs": v })
        } else {
            v
        };
        run(endpoint, "POST", &sae, if endpoint == 1 { "SAE_B" } else { "SAE_A" }, None, v.to_string().into_bytes())?;
    }
}
