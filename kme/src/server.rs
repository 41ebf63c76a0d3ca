//! The KME server: HTTPS with mutual TLS (rustls, ring provider, TLS 1.2 and
//! 1.3) serving the ETSI GS QKD 014 router, and an optional plain-HTTP
//! operations listener (`/metrics`, `/status`) meant for loopback.
//!
//! The SAE identity is the client certificate's subject CN (or, without a CN,
//! its first DNS subject alternative name), after rustls has verified the
//! chain against the configured CA. Clients without a certificate fail the
//! handshake.
//!
//! Connections are bounded ([`ServerLimits`]): a TLS handshake timeout, a
//! header-read timeout (hyper's, also covering the wait for the next request
//! on a kept-alive connection), an idle timeout (no byte read or written),
//! a global connection cap and a per-client cap counted both per source IP
//! (before the handshake) and per SAE identity (after it). A refused
//! connection is closed without an answer; refusals and timeouts are
//! counted in [`ConnectionCounts`].

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::http::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use uuid::Uuid;

use crate::api::{self, ApiConfig, ApiState, SaeIdentity};
use crate::ops::{KmeStatus, LinkState, Metrics};
use crate::store::{KeyStore, StoreError};

/// Time allowed for a TLS handshake (default of [`ServerLimits`]).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeouts and connection caps of the HTTPS listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerLimits {
    /// Time allowed for the TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// Time allowed to receive a request's head, counted from when the
    /// server starts waiting for it (also between kept-alive requests).
    pub header_read_timeout: Duration,
    /// A connection with no byte read or written for this long is closed.
    pub idle_timeout: Duration,
    /// Largest number of open connections.
    pub max_connections: usize,
    /// Largest number of open connections per source IP address, and per
    /// SAE identity (client certificate).
    pub max_connections_per_client: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            tls_handshake_timeout: TLS_HANDSHAKE_TIMEOUT,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 256,
            max_connections_per_client: 16,
        }
    }
}

impl ServerLimits {
    fn check(&self) -> Result<(), KmeError> {
        let zero = Duration::ZERO;
        if self.tls_handshake_timeout == zero
            || self.header_read_timeout == zero
            || self.idle_timeout == zero
        {
            return Err(KmeError::Config("server timeouts must be positive".into()));
        }
        if self.max_connections == 0 || self.max_connections_per_client == 0 {
            return Err(KmeError::Config(
                "connection caps must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Connection counters of the HTTPS listener (this server run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ConnectionCounts {
    /// Connections open now.
    pub open: u64,
    /// Connections accepted and served.
    pub accepted: u64,
    /// Refused because `max_connections` were open.
    pub refused_global_cap: u64,
    /// Refused because the source IP or SAE had `max_connections_per_client` open.
    pub refused_client_cap: u64,
    /// Closed because a request head did not arrive in `header_read_timeout`.
    pub header_timeouts: u64,
    /// Closed after `idle_timeout` without traffic.
    pub idle_timeouts: u64,
}

#[derive(Debug, Default)]
struct ConnStats {
    open: AtomicU64,
    accepted: AtomicU64,
    refused_global_cap: AtomicU64,
    refused_client_cap: AtomicU64,
    header_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
}

impl ConnStats {
    fn snapshot(&self) -> ConnectionCounts {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ConnectionCounts {
            open: l(&self.open),
            accepted: l(&self.accepted),
            refused_global_cap: l(&self.refused_global_cap),
            refused_client_cap: l(&self.refused_client_cap),
            header_timeouts: l(&self.header_timeouts),
            idle_timeouts: l(&self.idle_timeouts),
        }
    }
}

/// Open connections per client key; a [`Slot`] gives its place back on drop.
#[derive(Debug)]
struct PerClient<K: Hash + Eq + Clone> {
    cap: usize,
    open: Mutex<HashMap<K, usize>>,
}

#[derive(Debug)]
struct Slot<K: Hash + Eq + Clone> {
    owner: Arc<PerClient<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone> PerClient<K> {
    fn new(cap: usize) -> Arc<Self> {
        Arc::new(PerClient {
            cap,
            open: Mutex::new(HashMap::new()),
        })
    }
    fn acquire(self: &Arc<Self>, key: K) -> Option<Slot<K>> {
        let mut m = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(key.clone()).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(Slot {
            owner: self.clone(),
            key,
        })
    }
}

impl<K: Hash + Eq + Clone> Drop for Slot<K> {
    fn drop(&mut self) {
        let mut m = self.owner.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

/// Global cap: a slot held for the connection's life.
#[derive(Debug)]
struct GlobalSlot {
    open: Arc<AtomicUsize>,
    stats: Arc<ConnStats>,
}

impl GlobalSlot {
    fn acquire(open: &Arc<AtomicUsize>, cap: usize, stats: &Arc<ConnStats>) -> Option<Self> {
        let r = open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < cap).then_some(n + 1)
        });
        r.ok().map(|_| {
            stats.open.fetch_add(1, Ordering::Relaxed);
            GlobalSlot {
                open: open.clone(),
                stats: stats.clone(),
            }
        })
    }
}

impl Drop for GlobalSlot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
        self.stats.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Wraps a stream and records the time of its last byte read or written.
struct Activity<T> {
    inner: T,
    epoch: Instant,
    last_ms: Arc<AtomicU64>,
}

impl<T> Activity<T> {
    fn touch(&self) {
        self.last_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Activity<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Activity<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Resolves once `last_ms` is older than `idle`.
async fn idle_expired(epoch: Instant, last_ms: &AtomicU64, idle: Duration) {
    loop {
        let last = Duration::from_millis(last_ms.load(Ordering::Relaxed));
        let now = epoch.elapsed();
        let quiet = now.saturating_sub(last);
        if quiet >= idle {
            return;
        }
        tokio::time::sleep(idle - quiet).await;
    }
}

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmeError {
    /// Reading a PEM file failed.
    #[error("reading {what} from {path}")]
    Pem {
        /// What the file holds.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The TLS configuration was refused by rustls.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The client verifier could not be built from the CA.
    #[error("client certificate verifier")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
    /// Binding a listener failed.
    #[error("binding {addr}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The key store failed.
    #[error("key store")]
    Store(#[from] StoreError),
    /// Starting the runtime of the blocking wrapper failed.
    #[error("starting tokio runtime")]
    Runtime(#[source] std::io::Error),
    /// Invalid configuration.
    #[error("invalid KME configuration: {0}")]
    Config(String),
}

/// PEM files for the server side of mutual TLS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFiles {
    /// CA certificate(s) that sign the SAE client certificates.
    pub client_ca_pem: PathBuf,
    /// This KME's certificate chain.
    pub server_cert_pem: PathBuf,
    /// This KME's private key (PKCS#8, SEC1 or PKCS#1).
    pub server_key_pem: PathBuf,
}

/// Everything needed to run a KME.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmeConfig {
    /// API parameters (KME IDs, links, key size, limits).
    pub api: ApiConfig,
    /// HTTPS listen address (port 0 for an ephemeral port).
    pub listen: SocketAddr,
    /// Optional plain-HTTP listener for `/metrics` and `/status`; must be a
    /// loopback address.
    pub ops_listen: Option<SocketAddr>,
    /// TLS files.
    pub tls: TlsFiles,
    /// Key store file.
    pub store_path: PathBuf,
}

fn load_certs(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, KmeError> {
    let err = |source| KmeError::Pem {
        what,
        path: path.to_owned(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    if certs.is_empty() {
        return Err(KmeError::Config(format!(
            "no certificate in {}",
            path.display()
        )));
    }
    Ok(certs)
}

/// Builds the rustls server configuration requiring a client certificate
/// signed by `client_ca_pem`.
pub fn server_tls_config(tls: &TlsFiles) -> Result<rustls::ServerConfig, KmeError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in load_certs(&tls.client_ca_pem, "client CA certificate")? {
        roots.add(c)?;
    }
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;
    let chain = load_certs(&tls.server_cert_pem, "server certificate")?;
    let key =
        PrivateKeyDer::from_pem_file(&tls.server_key_pem).map_err(|source| KmeError::Pem {
            what: "server private key",
            path: tls.server_key_pem.clone(),
            source,
        })?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// SAE ID from a verified client certificate: subject CN, else first DNS SAN.
pub fn sae_id_from_cert(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    if let Some(cn) = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
    {
        return Some(cn.to_owned());
    }
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
        _ => None,
    })
}

/// The KME server entry point.
#[derive(Debug)]
pub struct Kme;

/// A running KME. Dropping it does not stop the server; call `shutdown`.
#[derive(Debug)]
pub struct KmeHandle {
    /// Bound HTTPS address.
    pub api_addr: SocketAddr,
    /// Bound operations address, if any.
    pub ops_addr: Option<SocketAddr>,
    state: Arc<ApiState>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    conns: Arc<ConnStats>,
}

impl Kme {
    /// Opens the store at `config.store_path` and serves it with the
    /// default [`ServerLimits`].
    pub async fn serve(config: KmeConfig) -> Result<KmeHandle, KmeError> {
        Self::serve_with_limits(config, ServerLimits::default()).await
    }

    /// Opens the store at `config.store_path` and serves it.
    pub async fn serve_with_limits(
        config: KmeConfig,
        limits: ServerLimits,
    ) -> Result<KmeHandle, KmeError> {
        let path = config.store_path.clone();
        let store = tokio::task::spawn_blocking(move || KeyStore::open(path))
            .await
            .map_err(|e| KmeError::Config(format!("store open task failed: {e}")))??;
        Self::serve_store(config, store, limits).await
    }

    /// Serves an already opened store with the default [`ServerLimits`].
    pub async fn serve_with_store(
        config: KmeConfig,
        store: KeyStore,
    ) -> Result<KmeHandle, KmeError> {
        Self::serve_store(config, store, ServerLimits::default()).await
    }

    /// Serves an already opened store. The store's `max_key_count` is set
    /// from `config.api.max_key_count`: appends beyond it are refused with
    /// [`StoreError::StoreFull`].
    pub async fn serve_store(
        config: KmeConfig,
        mut store: KeyStore,
        limits: ServerLimits,
    ) -> Result<KmeHandle, KmeError> {
        limits.check()?;
        if config.api.max_key_count == 0 {
            return Err(KmeError::Config("max_key_count is 0".into()));
        }
        store.set_max_key_count(Some(config.api.max_key_count.into()));
        if config.api.key_size_bits == 0 || !config.api.key_size_bits.is_multiple_of(8) {
            return Err(KmeError::Config(format!(
                "key_size_bits {} is not a positive multiple of 8",
                config.api.key_size_bits
            )));
        }
        if config.api.max_key_per_request == 0 {
            return Err(KmeError::Config("max_key_per_request is 0".into()));
        }
        if let Some(a) = config.ops_listen {
            if !a.ip().is_loopback() {
                return Err(KmeError::Config(format!(
                    "ops_listen {a} is not a loopback address"
                )));
            }
        }
        let acceptor = TlsAcceptor::from(Arc::new(server_tls_config(&config.tls)?));
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| KmeError::Bind {
                addr: config.listen,
                source,
            })?;
        let api_addr = listener.local_addr().map_err(|source| KmeError::Bind {
            addr: config.listen,
            source,
        })?;
        let state = Arc::new(ApiState {
            config: config.api.clone(),
            store: Arc::new(Mutex::new(store)),
            metrics: Metrics::default(),
            link: Mutex::new(LinkState::default()),
        });
        let (stop, stop_rx) = watch::channel(false);
        let conns = Arc::new(ConnStats::default());
        let mut tasks = vec![tokio::spawn(accept_loop(
            listener,
            acceptor,
            state.clone(),
            stop_rx.clone(),
            limits,
            conns.clone(),
        ))];
        let mut ops_addr = None;
        if let Some(addr) = config.ops_listen {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|source| KmeError::Bind { addr, source })?;
            ops_addr = Some(
                l.local_addr()
                    .map_err(|source| KmeError::Bind { addr, source })?,
            );
            let router = ops_router(state.clone());
            let mut rx = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                let r = axum::serve(l, router)
                    .with_graceful_shutdown(async move { stopped(&mut rx).await })
                    .await;
                if let Err(e) = r {
                    tracing::error!(error = %e, "ops listener failed");
                }
            }));
        }
        tracing::info!(kme_id = %config.api.kme_id, %api_addr, ?ops_addr, "KME serving");
        Ok(KmeHandle {
            api_addr,
            ops_addr,
            state,
            stop,
            tasks,
            conns,
        })
    }

    /// Blocking wrapper: runs the server on its own 2-thread tokio runtime.
    pub fn spawn(config: KmeConfig) -> Result<BlockingKmeHandle, KmeError> {
        Self::spawn_with_limits(config, ServerLimits::default())
    }

    /// [`Kme::spawn`] with explicit [`ServerLimits`].
    pub fn spawn_with_limits(
        config: KmeConfig,
        limits: ServerLimits,
    ) -> Result<BlockingKmeHandle, KmeError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("qkd-kme")
            .enable_all()
            .build()
            .map_err(KmeError::Runtime)?;
        let handle = rt.block_on(Self::serve_with_limits(config, limits))?;
        Ok(BlockingKmeHandle {
            rt: Some(rt),
            handle: Some(handle),
        })
    }
}

impl KmeHandle {
    /// Appends a confirmed key to the served store (fsynced before return).
    pub fn append_confirmed(
        &self,
        key_id: Uuid,
        key: &[u8],
        master_sae: &str,
        slave_sae: &str,
    ) -> Result<(), StoreError> {
        let mut g = self.state.store.lock().unwrap_or_else(|p| p.into_inner());
        g.append_confirmed(key_id, key, master_sae, slave_sae)
    }

    /// The served store, for callers that batch appends.
    pub fn store(&self) -> Arc<Mutex<KeyStore>> {
        self.state.store.clone()
    }

    /// Connection counters of the HTTPS listener.
    pub fn connection_counts(&self) -> ConnectionCounts {
        self.conns.snapshot()
    }

    /// Publishes the link state shown by `/status` and `/metrics`.
    pub fn set_link_state(&self, link: LinkState) {
        *self.state.link.lock().unwrap_or_else(|p| p.into_inner()) = link;
    }

    /// Status snapshot.
    pub fn status(&self) -> KmeStatus {
        snapshot(&self.state)
    }

    /// Stops accepting, closes connections, and waits for the tasks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

/// [`KmeHandle`] with its own runtime; shuts down on drop.
#[derive(Debug)]
pub struct BlockingKmeHandle {
    rt: Option<tokio::runtime::Runtime>,
    handle: Option<KmeHandle>,
}

impl BlockingKmeHandle {
    /// The async handle (addresses, store, status).
    pub fn handle(&self) -> &KmeHandle {
        self.handle.as_ref().expect("present until drop")
    }
}

impl Drop for BlockingKmeHandle {
    fn drop(&mut self) {
        if let (Some(rt), Some(h)) = (self.rt.take(), self.handle.take()) {
            rt.block_on(h.shutdown());
            rt.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

fn snapshot(st: &ApiState) -> KmeStatus {
    let counts = st.store.lock().unwrap_or_else(|p| p.into_inner()).counts();
    let link = st.link.lock().unwrap_or_else(|p| p.into_inner()).clone();
    KmeStatus::new(
        &st.config.kme_id,
        st.config.max_key_count.into(),
        counts,
        &st.metrics,
        link,
    )
}

fn ops_router(state: Arc<ApiState>) -> axum::Router {
    use axum::response::IntoResponse;
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/metrics",
            get(
                |axum::extract::State(st): axum::extract::State<Arc<ApiState>>| async move {
                    let body = tokio::task::spawn_blocking(move || snapshot(&st).prometheus_text())
                        .await
                        .unwrap_or_default();
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        body,
                    )
                },
            ),
        )
        .route(
            "/status",
            get(
                |axum::extract::State(st): axum::extract::State<Arc<ApiState>>| async move {
                    let s = tokio::task::spawn_blocking(move || snapshot(&st)).await;
                    match s {
                        Ok(s) => axum::Json(s).into_response(),
                        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                    }
                },
            ),
        )
        .with_state(state)
}

/// Resolves once shutdown is requested (or the handle is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<ApiState>,
    mut stop: watch::Receiver<bool>,
    limits: ServerLimits,
    conns: Arc<ConnStats>,
) {
    let router = api::router(state.clone());
    let open = Arc::new(AtomicUsize::new(0));
    let per_ip: Arc<PerClient<IpAddr>> = PerClient::new(limits.max_connections_per_client);
    let per_sae: Arc<PerClient<String>> = PerClient::new(limits.max_connections_per_client);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = stopped(&mut stop) => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(global) = GlobalSlot::acquire(&open, limits.max_connections, &conns) else {
            conns.refused_global_cap.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, max = limits.max_connections, "connection refused: global cap reached");
            drop(tcp);
            continue;
        };
        let Some(ip_slot) = per_ip.acquire(peer.ip()) else {
            conns.refused_client_cap.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, max = limits.max_connections_per_client, "connection refused: per-client cap reached for this address");
            drop(tcp);
            continue;
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let state = state.clone();
        let per_sae = per_sae.clone();
        let conns = conns.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _slots = (global, ip_slot);
            let tls = match tokio::time::timeout(limits.tls_handshake_timeout, acceptor.accept(tcp))
                .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    state.metrics.add_tls_refused();
                    tracing::info!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    state.metrics.add_tls_refused();
                    tracing::info!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let sae = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|c| sae_id_from_cert(c.as_ref()));
            let Some(sae) = sae else {
                state.metrics.add_tls_refused();
                tracing::info!(%peer, "client certificate has no CN or DNS name");
                return;
            };
            let Some(_sae_slot) = per_sae.acquire(sae.clone()) else {
                conns.refused_client_cap.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%peer, sae_id = %sae, max = limits.max_connections_per_client,
                    "connection refused: per-client cap reached for this SAE");
                return;
            };
            conns.accepted.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, sae_id = %sae, "SAE connected");
            let identity = SaeIdentity(sae);
            let svc = tower::ServiceExt::map_request(
                router,
                move |mut req: Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(identity.clone());
                    req
                },
            );
            let epoch = Instant::now();
            let last_ms = Arc::new(AtomicU64::new(0));
            let io = Activity {
                inner: tls,
                epoch,
                last_ms: last_ms.clone(),
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(io), TowerToHyperService::new(svc));
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => if let Err(e) = r {
                    if e.is_timeout() {
                        conns.header_timeouts.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(%peer, "connection closed: request head not received in time");
                    } else {
                        tracing::debug!(%peer, error = %e, "connection ended with error");
                    }
                },
                _ = idle_expired(epoch, &last_ms, limits.idle_timeout) => {
                    conns.idle_timeouts.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%peer, "connection closed: idle");
                },
                _ = stopped(&mut stop) => {},
            }
        });
    }
}
