//! ETSI GS QKD 014 router tests through tower's `oneshot` (no network):
//! authorisation, the standard's data formats, error bodies, and proptest of
//! the request parsing (query strings, JSON bodies, paths).
//!
//! ```text
//!   Request + SaeIdentity ext --> api::router --> (status, JSON body)
//!                                     |
//!                                 KeyStore (temp file, SAE_A -> SAE_B keys)
//! ```

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use base64::Engine as _;
use http_body_util::BodyExt;
use proptest::prelude::*;
use qkd_kme::api::{router, ApiState};
use qkd_kme::{ApiConfig, KeyStore, LinkConfig, LinkState, SaeIdentity, Side, Uuid};
use serde_json::Value;
use tower::ServiceExt;

fn key(i: u32) -> Vec<u8> {
    (0..32u32).map(|j| (i * 131 + j * 17) as u8).collect()
}
fn id(i: u32) -> Uuid {
    Uuid::from_u128(0xabc0_0000 + u128::from(i))
}

fn state(side: Side, n_keys: u32) -> (tempfile::TempDir, Arc<ApiState>) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = KeyStore::open(dir.path().join("k.keys")).unwrap();
    for i in 0..n_keys {
        store
            .append_confirmed(id(i), &key(i), "SAE_A", "SAE_B")
            .unwrap();
    }
    let st = ApiState {
        config: ApiConfig {
            kme_id: "KME_A".into(),
            peer_kme_id: "KME_B".into(),
            links: vec![LinkConfig {
                master_sae_id: "SAE_A".into(),
                slave_sae_id: "SAE_B".into(),
                local_side: side,
            }],
            key_size_bits: 256,
            max_key_count: 1000,
            max_key_per_request: 8,
        },
        store: Arc::new(Mutex::new(store)),
        metrics: Default::default(),
        link: Mutex::new(LinkState::default()),
    };
    (dir, Arc::new(st))
}

async fn call(
    st: &Arc<ApiState>,
    sae: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req.body(Body::from(body.unwrap_or("").to_owned())).unwrap();
    if let Some(s) = sae {
        req.extensions_mut().insert(SaeIdentity(s.to_owned()));
    }
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

fn assert_error(status: u16, v: &Value, want: u16) {
    assert_eq!(status, want, "{v}");
    assert!(v["message"].is_string(), "error body has a message: {v}");
    if let Some(d) = v.get("details") {
        assert!(d.is_array(), "details is an array: {v}");
    }
}

fn decode_keys(v: &Value) -> Vec<(Uuid, Vec<u8>)> {
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let id = Uuid::parse_str(k["key_ID"].as_str().unwrap()).unwrap();
            let key = base64::engine::general_purpose::STANDARD
                .decode(k["key"].as_str().unwrap())
                .unwrap();
            (id, key)
        })
        .collect()
}

#[tokio::test]
async fn status_fields_per_standard() {
    let (_d, st) = state(Side::Master, 3);
    let (s, v) = call(&st, Some("SAE_A"), "GET", "/api/v1/keys/SAE_B/status", None).await;
    assert_eq!(s, 200, "{v}");
    let want = serde_json::json!({
        "source_KME_ID": "KME_A", "target_KME_ID": "KME_B",
        "master_SAE_ID": "SAE_A", "slave_SAE_ID": "SAE_B",
        "key_size": 256, "stored_key_count": 3, "max_key_count": 1000,
        "max_key_per_request": 8, "max_key_size": 256, "min_key_size": 256,
        "max_SAE_ID_count": 0
    });
    assert_eq!(v, want);
    let (s, v) = call(&st, Some("SAE_C"), "GET", "/api/v1/keys/SAE_B/status", None).await;
    assert_error(s, &v, 401);
}

#[tokio::test]
async fn enc_keys_get_and_post_deliver_each_key_once() {
    let (_d, st) = state(Side::Master, 5);
    let (s, v) = call(
        &st,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys?number=2&size=256",
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(decode_keys(&v), vec![(id(0), key(0)), (id(1), key(1))]);
    let (s, v) = call(
        &st,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys",
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        decode_keys(&v),
        vec![(id(2), key(2))],
        "default number is 1"
    );
    let body = r#"{"number": 2, "size": 256, "additional_slave_SAE_IDs": [], "extension_optional": [{"x": 1}]}"#;
    let (s, v) = call(
        &st,
        Some("SAE_A"),
        "POST",
        "/api/v1/keys/SAE_B/enc_keys",
        Some(body),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(decode_keys(&v), vec![(id(3), key(3)), (id(4), key(4))]);
    let (s, v) = call(
        &st,
        Some("SAE_A"),
        "GET",
        "/api/v1/keys/SAE_B/enc_keys",
        None,
    )
    .await;
    assert_error(s, &v, 503);
}

#[tokio::test]
async fn authorisation_follows_link_roles() {
    let (_d, master) = state(Side::Master, 3);
    let (_d2, slave) = state(Side::Slave, 3);
    // Third SAE, the slave calling enc_keys, a missing identity: refused.
    for (st, sae, uri) in [
        (&master, Some("SAE_C"), "/api/v1/keys/SAE_B/enc_keys"),
        (&master, Some("SAE_B"), "/api/v1/keys/SAE_A/enc_keys"),
        (&master, None, "/api/v1/keys/SAE_B/enc_keys"),
        (&slave, Some("SAE_A"), "/api/v1/keys/SAE_B/enc_keys"),
        (
            &slave,
            Some("SAE_C"),
            &format!("/api/v1/keys/SAE_A/dec_keys?key_ID={}", id(0)),
        ),
        (
            &master,
            Some("SAE_B"),
            &format!("/api/v1/keys/SAE_A/dec_keys?key_ID={}", id(0)),
        ),
    ] {
        let (s, v) = call(st, sae, "GET", uri, None).await;
        assert_error(s, &v, 401);
    }
    assert_eq!(
        slave
            .store
            .lock()
            .unwrap()
            .available("SAE_A", "SAE_B", None),
        3,
        "nothing consumed"
    );
    let (s, v) = call(
        &slave,
        Some("SAE_B"),
        "GET",
        &format!("/api/v1/keys/SAE_A/dec_keys?key_ID={}", id(1)),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(decode_keys(&v), vec![(id(1), key(1))]);
    let body = format!(
        r#"{{"key_IDs": [{{"key_ID": "{}"}}, {{"key_ID": "{}"}}]}}"#,
        id(2),
        id(0)
    );
    let (s, v) = call(
        &slave,
        Some("SAE_B"),
        "POST",
        "/api/v1/keys/SAE_A/dec_keys",
        Some(&body),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(decode_keys(&v), vec![(id(2), key(2)), (id(0), key(0))]);
    let (s, v) = call(
        &slave,
        Some("SAE_B"),
        "GET",
        &format!("/api/v1/keys/SAE_A/dec_keys?key_ID={}", id(1)),
        None,
    )
    .await;
    assert_error(s, &v, 400);
}

#[tokio::test]
async fn malformed_requests_get_400_with_error_body() {
    let (_d, master) = state(Side::Master, 3);
    let (_d2, slave) = state(Side::Slave, 3);
    let enc = "/api/v1/keys/SAE_B/enc_keys";
    let dec = "/api/v1/keys/SAE_A/dec_keys";
    for (st, method, uri, body) in [
        (&master, "GET", format!("{enc}?number=abc"), None),
        (&master, "GET", format!("{enc}?number=-1"), None),
        (&master, "GET", format!("{enc}?number=0"), None),
        (&master, "GET", format!("{enc}?number=9"), None),
        (&master, "GET", format!("{enc}?size=100"), None),
        (&master, "GET", format!("{enc}?number=1&number=2"), None),
        (&master, "GET", format!("{enc}?bogus=1"), None),
        (&master, "GET", format!("{enc}?number=%ZZ"), None),
        (&master, "POST", enc.to_owned(), Some("{")),
        (&master, "POST", enc.to_owned(), Some("[]")),
        (
            &master,
            "POST",
            enc.to_owned(),
            Some(r#"{"number": "two"}"#),
        ),
        (
            &master,
            "POST",
            enc.to_owned(),
            Some(r#"{"number": 1, "additional_slave_SAE_IDs": ["SAE_C"]}"#),
        ),
        (
            &master,
            "POST",
            enc.to_owned(),
            Some(r#"{"extension_mandatory": [{"abc": true}]}"#),
        ),
        (&slave, "GET", dec.to_owned(), None),
        (&slave, "GET", format!("{dec}?key_ID=not-a-uuid"), None),
        (
            &slave,
            "GET",
            format!("{dec}?key_ID={}&key_ID={}", id(0), id(0)),
            None,
        ),
        (&slave, "POST", dec.to_owned(), Some(r#"{"key_IDs": []}"#)),
        (&slave, "POST", dec.to_owned(), Some(r#"{"key_IDs": "x"}"#)),
        (
            &slave,
            "POST",
            dec.to_owned(),
            Some(r#"{"key_IDs": [{"key_ID": 5}]}"#),
        ),
        (&slave, "POST", dec.to_owned(), Some("")),
    ] {
        let (s, v) = call(
            st,
            Some(if std::ptr::eq(st, &master) {
                "SAE_A"
            } else {
                "SAE_B"
            }),
            method,
            &uri,
            body,
        )
        .await;
        assert_eq!(s, 400, "{method} {uri} {body:?}: {v}");
        assert_error(s, &v, 400);
    }
    assert_eq!(
        master
            .store
            .lock()
            .unwrap()
            .available("SAE_A", "SAE_B", None),
        3,
        "nothing consumed"
    );
    assert_eq!(
        slave
            .store
            .lock()
            .unwrap()
            .available("SAE_A", "SAE_B", None),
        3,
        "nothing consumed"
    );
    let (s, v) = call(&master, Some("SAE_A"), "GET", "/api/v1/nothing", None).await;
    assert_error(s, &v, 404);
    let (s, v) = call(&master, Some("SAE_A"), "DELETE", enc, None).await;
    assert_error(s, &v, 405);
}

fn query_strategy() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("number".to_owned()),
        Just("size".to_owned()),
        Just("key_ID".to_owned()),
        "[a-zA-Z_%=&]{0,8}"
    ];
    let value = prop_oneof![
        (0u64..20).prop_map(|n| n.to_string()),
        Just("256".to_owned()),
        Just(id(1).to_string()),
        "[ -~]{0,12}".prop_map(|s| s.replace(['#', ' '], "")),
        "-?[0-9]{1,25}",
    ];
    prop::collection::vec((name, value), 0..4).prop_map(|v| {
        v.iter()
            .map(|(k, x)| format!("{k}={x}"))
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn json_strategy() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| n.into()),
        (0u32..10).prop_map(|n| n.into()),
        Just(Value::String(id(2).to_string())),
        "[ -~]{0,8}".prop_map(Value::String),
    ];
    let val = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("key_ID".to_owned()),
                        Just("number".to_owned()),
                        "[a-z]{1,4}"
                    ],
                    inner
                ),
                0..3
            )
            .prop_map(|v| Value::Object(v.into_iter().collect())),
        ]
    });
    let field = prop_oneof![
        Just("number"),
        Just("size"),
        Just("additional_slave_SAE_IDs"),
        Just("extension_mandatory"),
        Just("extension_optional"),
        Just("key_IDs"),
        Just("zzz")
    ];
    prop_oneof![
        prop::collection::vec((field, val.clone()), 0..4).prop_map(|v| Value::Object(
            v.into_iter().map(|(k, x)| (k.to_owned(), x)).collect()
        )
        .to_string()),
        val.prop_map(|v| v.to_string()),
        "[ -~]{0,24}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any query string or JSON body: no panic, a JSON success or a JSON
    /// error with one of the standard's status codes.
    #[test]
    fn request_parsing_never_panics(
        q in query_strategy(),
        body in json_strategy(),
        endpoint in 0usize..3,
        post in any::<bool>(),
        sae in prop_oneof![Just("SAE_A".to_owned()), Just("SAE_B".to_owned()), Just("SAE_C".to_owned()), "[A-Z_]{1,6}"],
        path_sae in prop_oneof![Just("SAE_A".to_owned()), Just("SAE_B".to_owned()), "[a-zA-Z0-9%_.-]{1,10}"],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let side = if endpoint == 2 { Side::Slave } else { Side::Master };
            let (_d, st) = state(side, 4);
            let ep = ["status", "enc_keys", "dec_keys"][endpoint];
            let (method, uri, b) = if post && endpoint > 0 {
                ("POST", format!("/api/v1/keys/{path_sae}/{ep}"), Some(body.as_str()))
            } else {
                ("GET", format!("/api/v1/keys/{path_sae}/{ep}?{q}"), None)
            };
            let Ok(_) = uri.parse::<axum::http::Uri>() else { return Ok(()) };
            let (s, v) = call(&st, Some(sae.as_str()), method, &uri, b).await;
            match s {
                200 => prop_assert!(v.get("keys").is_some() || v.get("stored_key_count").is_some(), "{}", v),
                400 | 401 | 404 | 503 => prop_assert!(v["message"].is_string(), "{}", v),
                other => prop_assert!(false, "unexpected status {} for {} {}: {}", other, method, uri, v),
            }
            Ok(())
        })?;
    }
}
