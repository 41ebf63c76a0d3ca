//! ETSI GS QKD 014 v1.1.1 REST API (section 5: Get status, Get key, Get key
//! with key IDs; section 6: data formats Status, Key request, Key IDs, Key
//! container, Error): the axum router, independent of the transport.
//!
//! The calling SAE's identity is an [`SaeIdentity`] request extension put
//! there by the TLS layer from the client certificate; a request without one
//! is refused with 401. Every response body is JSON: the standard's data
//! formats on success, its Error format (`{"message", "details"}`) otherwise.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::ops::{LinkState, Metrics};
use crate::store::{KeyStore, StoreError};

/// Identity of the calling SAE, taken from its client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaeIdentity(pub String);

/// Which SAE of a link this KME serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// This KME serves the link's master SAE (`enc_keys`).
    Master,
    /// This KME serves the link's slave SAE (`dec_keys`).
    Slave,
}

/// One QKD link as seen by this KME: a pair of SAEs and the local side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkConfig {
    /// SAE that calls `enc_keys` at the master-side KME.
    pub master_sae_id: String,
    /// SAE that calls `dec_keys` at the slave-side KME.
    pub slave_sae_id: String,
    /// Which of the two this KME serves.
    pub local_side: Side,
}

/// API parameters (reported in the Status data format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiConfig {
    /// This KME's ID (`source_KME_ID`).
    pub kme_id: String,
    /// The peer KME's ID (`target_KME_ID`).
    pub peer_kme_id: String,
    /// Links served.
    pub links: Vec<LinkConfig>,
    /// Size of every key handed out, bits (a multiple of 8). Keys in the
    /// store of another size are not served.
    pub key_size_bits: u32,
    /// `max_key_count` reported in Status.
    pub max_key_count: u32,
    /// Largest `number` in one request.
    pub max_key_per_request: u32,
}

/// State shared by the handlers.
#[derive(Debug)]
pub struct ApiState {
    /// API parameters.
    pub config: ApiConfig,
    /// The key store (synchronous; used from `spawn_blocking`).
    pub store: Arc<Mutex<KeyStore>>,
    /// Counters.
    pub metrics: Metrics,
    /// Link state published by the key pipeline.
    pub link: Mutex<LinkState>,
}

// ---- Data formats (ETSI GS QKD 014 section 6) ----

/// Status data format (6.1).
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub source_KME_ID: String,
    pub target_KME_ID: String,
    pub master_SAE_ID: String,
    pub slave_SAE_ID: String,
    pub key_size: u32,
    pub stored_key_count: u32,
    pub max_key_count: u32,
    pub max_key_per_request: u32,
    pub max_key_size: u32,
    pub min_key_size: u32,
    pub max_SAE_ID_count: u32,
}

/// Key request data format (6.2).
#[allow(non_snake_case)]
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct KeyRequest {
    pub number: Option<u32>,
    pub size: Option<u32>,
    pub additional_slave_SAE_IDs: Option<Vec<String>>,
    pub extension_mandatory: Option<Vec<serde_json::Map<String, Value>>>,
    pub extension_optional: Option<Vec<serde_json::Map<String, Value>>>,
}

/// One entry of the Key IDs data format (6.4).
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KeyIdEntry {
    pub key_ID: String,
    pub key_ID_extension: Option<Value>,
}

/// Key IDs data format (6.4).
#[allow(non_snake_case)]
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KeyIds {
    pub key_IDs: Vec<KeyIdEntry>,
    pub key_IDs_extension: Option<Value>,
}

/// One key of the Key container (6.3). `key` is base64 (RFC 4648).
#[allow(non_snake_case)]
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    pub key_ID: String,
    pub key: String,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyEntry {{ key_ID: {}, key: [REDACTED] }}", self.key_ID)
    }
}

impl Drop for KeyEntry {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

/// Key container data format (6.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyContainer {
    pub keys: Vec<KeyEntry>,
}

/// Error data format (6.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// HTTP status (not serialised).
    #[serde(skip)]
    pub status: u16,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<Value>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>, detail: Option<String>) -> Self {
        let details = detail
            .map(|d| vec![serde_json::json!({ "reason": d })])
            .unwrap_or_default();
        ApiError {
            status: status.as_u16(),
            message: message.into(),
            details,
        }
    }
    fn bad_request(message: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, Some(detail.into()))
    }
    fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            Some(detail.into()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

// ---- Router ----

/// The ETSI GS QKD 014 router. Expects an [`SaeIdentity`] extension on every
/// request (inserted by the TLS server; tests insert it directly).
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/api/v1/keys/{slave_sae_id}/status", get(get_status))
        .route(
            "/api/v1/keys/{slave_sae_id}/enc_keys",
            get(get_enc_keys).post(post_enc_keys),
        )
        .route(
            "/api/v1/keys/{master_sae_id}/dec_keys",
            get(get_dec_keys).post(post_dec_keys),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "Not found", None) })
        .method_not_allowed_fallback(|m: Method| async move {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Method {m} not allowed"),
                None,
            )
        })
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            count_response,
        ))
        .with_state(state)
}

async fn count_response(State(st): State<Arc<ApiState>>, r: Response) -> Response {
    st.metrics.add_request(r.status().is_success());
    r
}

fn caller(id: Option<Extension<SaeIdentity>>) -> Result<String, ApiError> {
    id.map(|Extension(SaeIdentity(s))| s)
        .ok_or_else(|| ApiError::unauthorized("no client certificate identity"))
}

fn path_sae(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    p.map(|Path(s)| s)
        .map_err(|e| ApiError::bad_request("Invalid SAE ID in path", e.body_text()))
}

fn body_json<T: serde::de::DeserializeOwned>(
    b: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let b = b.map_err(|e| ApiError::bad_request("Unreadable request body", e.body_text()))?;
    serde_json::from_slice(&b)
        .map_err(|e| ApiError::bad_request("Malformed JSON request body", e.to_string()))
}

/// Parses a query string into (name, value) pairs, refusing repeated names
/// other than `allow_repeat`.
fn query_pairs(
    q: Option<String>,
    allowed: &[&str],
    allow_repeat: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q.as_deref().unwrap_or(""))
        .map_err(|e| ApiError::bad_request("Malformed query string", e.to_string()))?;
    for (i, (k, _)) in pairs.iter().enumerate() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad_request(
                "Unknown query parameter",
                format!("parameter {k:?} is not supported"),
            ));
        }
        if k != allow_repeat && pairs[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(ApiError::bad_request(
                "Repeated query parameter",
                format!("parameter {k:?} given twice"),
            ));
        }
    }
    Ok(pairs)
}

fn parse_u32(name: &str, v: &str) -> Result<u32, ApiError> {
    v.parse::<u32>().map_err(|_| {
        ApiError::bad_request(
            format!("Invalid {name}"),
            format!("{name} must be an unsigned integer, got {v:?}"),
        )
    })
}

/// Finds the link where `caller` is the master and `slave` the slave, served
/// on the master side here.
fn master_link<'a>(
    cfg: &'a ApiConfig,
    caller: &str,
    slave: &str,
) -> Result<&'a LinkConfig, ApiError> {
    cfg.links
        .iter()
        .find(|l| {
            l.local_side == Side::Master && l.master_sae_id == caller && l.slave_sae_id == slave
        })
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "SAE {caller:?} may not request keys for SAE {slave:?} at this KME"
            ))
        })
}

fn slave_link<'a>(
    cfg: &'a ApiConfig,
    caller: &str,
    master: &str,
) -> Result<&'a LinkConfig, ApiError> {
    cfg.links
        .iter()
        .find(|l| {
            l.local_side == Side::Slave && l.slave_sae_id == caller && l.master_sae_id == master
        })
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "SAE {caller:?} may not request keys from SAE {master:?} at this KME"
            ))
        })
}

async fn with_store<T: Send + 'static>(
    st: &Arc<ApiState>,
    f: impl FnOnce(&mut KeyStore) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = st.store.clone();
    let r = tokio::task::spawn_blocking(move || {
        let mut g = store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal error", None))?;
    r.map_err(store_error)
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotEnoughKeys { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not enough keys available",
            Some(e.to_string()),
        ),
        StoreError::StoreFull { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Key store full",
            Some(e.to_string()),
        ),
        StoreError::UnknownKeyId(_) | StoreError::RepeatedKeyId(_) => {
            ApiError::bad_request("Key not found", e.to_string())
        }
        other => {
            tracing::error!(error = %other, "key store failure");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Key store failure", None)
        }
    }
}

fn container(st: &ApiState, keys: Vec<crate::store::DeliveredKey>) -> KeyContainer {
    let b64 = base64::engine::general_purpose::STANDARD;
    st.metrics.add_delivered(keys.len() as u64);
    KeyContainer {
        keys: keys
            .iter()
            .map(|k| KeyEntry {
                key_ID: k.key_id.to_string(),
                key: b64.encode(k.key.expose()),
            })
            .collect(),
    }
}

// ---- Handlers ----

async fn get_status(
    State(st): State<Arc<ApiState>>,
    id: Option<Extension<SaeIdentity>>,
    path: Result<Path<String>, PathRejection>,
) -> ApiResult<Status> {
    let caller = caller(id)?;
    let other = path_sae(path)?;
    let cfg = &st.config;
    let link = master_link(cfg, &caller, &other)
        .or_else(|_| slave_link(cfg, &caller, &other))?
        .clone();
    let key_bytes = (cfg.key_size_bits / 8) as usize;
    let (m, s) = (link.master_sae_id.clone(), link.slave_sae_id.clone());
    let stored = with_store(&st, move |store| {
        Ok(store.available(&m, &s, Some(key_bytes)))
    })
    .await?;
    Ok(Json(Status {
        source_KME_ID: cfg.kme_id.clone(),
        target_KME_ID: cfg.peer_kme_id.clone(),
        master_SAE_ID: link.master_sae_id,
        slave_SAE_ID: link.slave_sae_id,
        key_size: cfg.key_size_bits,
        stored_key_count: u32::try_from(stored).unwrap_or(u32::MAX),
        max_key_count: cfg.max_key_count,
        max_key_per_request: cfg.max_key_per_request,
        max_key_size: cfg.key_size_bits,
        min_key_size: cfg.key_size_bits,
        max_SAE_ID_count: 0,
    }))
}

async fn get_enc_keys(
    State(st): State<Arc<ApiState>>,
    id: Option<Extension<SaeIdentity>>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> ApiResult<KeyContainer> {
    let caller = caller(id)?;
    let slave = path_sae(path)?;
    let mut req = KeyRequest::default();
    for (k, v) in query_pairs(q, &["number", "size"], "")? {
        match k.as_str() {
            "number" => req.number = Some(parse_u32("number", &v)?),
            _ => req.size = Some(parse_u32("size", &v)?),
        }
    }
    enc_keys(st, caller, slave, req).await
}

async fn post_enc_keys(
    State(st): State<Arc<ApiState>>,
    id: Option<Extension<SaeIdentity>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<KeyContainer> {
    let caller = caller(id)?;
    let slave = path_sae(path)?;
    let req: KeyRequest = body_json(body)?;
    enc_keys(st, caller, slave, req).await
}

async fn enc_keys(
    st: Arc<ApiState>,
    caller: String,
    slave: String,
    req: KeyRequest,
) -> ApiResult<KeyContainer> {
    let cfg = &st.config;
    let link = master_link(cfg, &caller, &slave)?.clone();
    let number = req.number.unwrap_or(1);
    let size = req.size.unwrap_or(cfg.key_size_bits);
    if number == 0 || number > cfg.max_key_per_request {
        return Err(ApiError::bad_request(
            "Invalid number",
            format!(
                "number must be 1..={}, got {number}",
                cfg.max_key_per_request
            ),
        ));
    }
    if size != cfg.key_size_bits {
        return Err(ApiError::bad_request(
            "Requested key size not supported",
            format!("size must be {} bits, got {size}", cfg.key_size_bits),
        ));
    }
    if req
        .additional_slave_SAE_IDs
        .as_ref()
        .is_some_and(|v| !v.is_empty())
    {
        return Err(ApiError::bad_request(
            "additional_slave_SAE_IDs not supported",
            "max_SAE_ID_count is 0 (no key multicast)",
        ));
    }
    if let Some(ext) = req
        .extension_mandatory
        .as_ref()
        .and_then(|v| v.iter().flat_map(|m| m.keys()).next())
    {
        return Err(ApiError::bad_request(
            "Not all mandatory extension parameters are supported",
            format!("extension {ext:?} is not supported"),
        ));
    }
    let key_bytes = (size / 8) as usize;
    let (m, s) = (link.master_sae_id.clone(), link.slave_sae_id.clone());
    let keys = with_store(&st, move |store| {
        store.take_oldest(&m, &s, number as usize, key_bytes)
    })
    .await?;
    tracing::info!(master_sae = %link.master_sae_id, slave_sae = %link.slave_sae_id, keys = keys.len(), "enc_keys delivered");
    Ok(Json(container(&st, keys)))
}

async fn get_dec_keys(
    State(st): State<Arc<ApiState>>,
    id: Option<Extension<SaeIdentity>>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> ApiResult<KeyContainer> {
    let caller = caller(id)?;
    let master = path_sae(path)?;
    let ids: Vec<String> = query_pairs(q, &["key_ID"], "key_ID")?
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    dec_keys(st, caller, master, ids).await
}

async fn post_dec_keys(
    State(st): State<Arc<ApiState>>,
    id: Option<Extension<SaeIdentity>>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<KeyContainer> {
    let caller = caller(id)?;
    let master = path_sae(path)?;
    let req: KeyIds = body_json(body)?;
    if let Some(ext) = req
        .key_IDs
        .iter()
        .find(|k| k.key_ID_extension.as_ref().is_some_and(|v| !v.is_null()))
    {
        return Err(ApiError::bad_request(
            "key_ID_extension not supported",
            format!("key_ID {:?}", ext.key_ID),
        ));
    }
    let ids = req.key_IDs.into_iter().map(|k| k.key_ID).collect();
    dec_keys(st, caller, master, ids).await
}

async fn dec_keys(
    st: Arc<ApiState>,
    caller: String,
    master: String,
    ids: Vec<String>,
) -> ApiResult<KeyContainer> {
    let cfg = &st.config;
    let link = slave_link(cfg, &caller, &master)?.clone();
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "No key_ID given",
            "at least one key_ID is required",
        ));
    }
    if ids.len() > cfg.max_key_per_request as usize {
        return Err(ApiError::bad_request(
            "Too many key_IDs",
            format!(
                "at most {} key_IDs per request, got {}",
                cfg.max_key_per_request,
                ids.len()
            ),
        ));
    }
    let uuids = ids
        .iter()
        .map(|s| {
            Uuid::try_parse(s).map_err(|_| {
                ApiError::bad_request("Invalid key_ID", format!("{s:?} is not a UUID"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (m, s) = (link.master_sae_id.clone(), link.slave_sae_id.clone());
    let keys = with_store(&st, move |store| store.take_by_ids(&m, &s, &uuids)).await?;
    tracing::info!(master_sae = %link.master_sae_id, slave_sae = %link.slave_sae_id, keys = keys.len(), "dec_keys delivered");
    Ok(Json(container(&st, keys)))
}
