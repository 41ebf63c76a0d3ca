//! Operations: the status snapshot (`qkd-host status`), counters, and the
//! Prometheus text exposition format (version 0.0.4) for `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::store::StoreCounts;

/// Link state published by the key pipeline (filled by the host).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkState {
    /// True while the quantum and classical channels are up.
    pub link_up: bool,
    /// Active alarms (short names, e.g. "qber_high", "rng_health").
    pub alarms: Vec<String>,
    /// Quantum bit error rate of the last block (fraction, 0..1).
    pub qber: Option<f64>,
    /// Secret key rate, bits per second, over the last window.
    pub key_rate_bps: Option<f64>,
    /// Blocks completed since start.
    pub blocks_done: u64,
}

/// Counters kept by the server.
#[derive(Debug, Default)]
pub struct Metrics {
    keys_delivered: AtomicU64,
    requests_ok: AtomicU64,
    requests_failed: AtomicU64,
    tls_refused: AtomicU64,
}

impl Metrics {
    /// Counts delivered keys (this server run).
    pub fn add_delivered(&self, n: u64) {
        self.keys_delivered.fetch_add(n, Ordering::Relaxed);
    }
    /// Counts an API response by success.
    pub fn add_request(&self, ok: bool) {
        let c = if ok {
            &self.requests_ok
        } else {
            &self.requests_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a refused TLS handshake.
    pub fn add_tls_refused(&self) {
        self.tls_refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Status snapshot of one KME.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KmeStatus {
    /// This KME's ID.
    pub kme_id: String,
    /// Keys stored and not yet delivered.
    pub stored_keys: u64,
    /// Their total size, bits.
    pub stored_bits: u64,
    /// Store capacity reported to SAEs (`max_key_count`).
    pub max_key_count: u64,
    /// Keys delivered over the store's life (durable).
    pub delivered_keys_total: u64,
    /// Keys delivered by this server run.
    pub delivered_keys_run: u64,
    /// API requests answered with success / with an error.
    pub requests_ok: u64,
    /// API requests answered with an error.
    pub requests_failed: u64,
    /// TLS handshakes refused (no or bad client certificate).
    pub tls_refused: u64,
    /// Store file size, bytes.
    pub store_file_bytes: u64,
    /// Link state from the key pipeline.
    pub link: LinkState,
}

impl KmeStatus {
    /// Assembles a snapshot.
    pub fn new(
        kme_id: &str,
        max_key_count: u64,
        c: StoreCounts,
        m: &Metrics,
        link: LinkState,
    ) -> Self {
        KmeStatus {
            kme_id: kme_id.to_owned(),
            stored_keys: c.stored_keys,
            stored_bits: c.stored_bits,
            max_key_count,
            delivered_keys_total: c.delivered_keys,
            delivered_keys_run: m.keys_delivered.load(Ordering::Relaxed),
            requests_ok: m.requests_ok.load(Ordering::Relaxed),
            requests_failed: m.requests_failed.load(Ordering::Relaxed),
            tls_refused: m.tls_refused.load(Ordering::Relaxed),
            store_file_bytes: c.file_bytes,
            link,
        }
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn prometheus_text(&self) -> String {
        let mut o = String::new();
        let kme = escape_label(&self.kme_id);
        let mut metric = |name: &str, kind: &str, help: &str, v: f64| {
            let _ = writeln!(
                o,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{kme=\"{kme}\"}} {v}"
            );
        };
        metric(
            "qkd_kme_stored_keys",
            "gauge",
            "Keys stored and not yet delivered.",
            self.stored_keys as f64,
        );
        metric(
            "qkd_kme_stored_bits",
            "gauge",
            "Bits of stored, undelivered key.",
            self.stored_bits as f64,
        );
        metric(
            "qkd_kme_max_key_count",
            "gauge",
            "Store capacity reported to SAEs.",
            self.max_key_count as f64,
        );
        metric(
            "qkd_kme_delivered_keys_total",
            "counter",
            "Keys delivered over the store's life.",
            self.delivered_keys_total as f64,
        );
        metric(
            "qkd_kme_requests_ok_total",
            "counter",
            "API requests answered with success.",
            self.requests_ok as f64,
        );
        metric(
            "qkd_kme_requests_failed_total",
            "counter",
            "API requests answered with an error.",
            self.requests_failed as f64,
        );
        metric(
            "qkd_kme_tls_refused_total",
            "counter",
            "TLS handshakes refused.",
            self.tls_refused as f64,
        );
        metric(
            "qkd_kme_store_file_bytes",
            "gauge",
            "Key store file size in bytes.",
            self.store_file_bytes as f64,
        );
        metric(
            "qkd_link_up",
            "gauge",
            "1 while the QKD link is up.",
            u8::from(self.link.link_up) as f64,
        );
        metric(
            "qkd_link_alarms",
            "gauge",
            "Number of active link alarms.",
            self.link.alarms.len() as f64,
        );
        metric(
            "qkd_link_blocks_done_total",
            "counter",
            "Key blocks completed.",
            self.link.blocks_done as f64,
        );
        if let Some(q) = self.link.qber {
            metric(
                "qkd_link_qber",
                "gauge",
                "Quantum bit error rate of the last block (fraction).",
                q,
            );
        }
        if let Some(r) = self.link.key_rate_bps {
            metric(
                "qkd_link_key_rate_bps",
                "gauge",
                "Secret key rate in bits per second.",
                r,
            );
        }
        o
    }
}

/// Escapes a Prometheus label value (backslash, double quote, newline).
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
