//! Operations: the status snapshot (`qkd-host status`), counters, and the
//! Prometheus text exposition format (version 0.0.4) for `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::store::StoreCounts;

/// Phase of the link as an operator sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPhase {
    /// No session with the peer (starting, reconnecting, or ended).
    #[default]
    Down,
    /// Session up, blocks being processed.
    Up,
    /// Session up but key production paused (e.g. too few authentication
    /// pads left to run a block).
    Paused,
}

impl LinkPhase {
    /// Lower-case name (`down`, `up`, `paused`).
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPhase::Down => "down",
            LinkPhase::Up => "up",
            LinkPhase::Paused => "paused",
        }
    }
}

/// Link state published by the key pipeline (filled by the host).
///
/// Every field has a default so that a publisher fills what it knows
/// (`LinkState { link_up: true, ..Default::default() }`); `None` means
/// "not known yet" and is left out of `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkState {
    /// True while the quantum and classical channels are up.
    pub link_up: bool,
    /// Phase with reason; when `None` it follows `link_up` (up or down).
    pub state: Option<LinkPhase>,
    /// Why the link is down or paused (e.g. "reconnecting: connection
    /// reset", "pads exhausted: 3 send pads left").
    pub state_reason: Option<String>,
    /// Active alarms (short names, e.g. "qber_high", "rng_health").
    pub alarms: Vec<String>,
    /// Quantum bit error rate of the last block (fraction, 0..1); the Z
    /// (key) basis signal intensity.
    pub qber: Option<f64>,
    /// QBER of the X (test) basis of the last block (fraction, 0..1).
    pub qber_x: Option<f64>,
    /// Upper bound on the phase-error rate of the single-photon Z events
    /// of the last block (Lim et al., PRA 89, 022307, 2014, Eq. 2).
    pub phase_error_bound: Option<f64>,
    /// Lower bound on the single-photon Z detections of the last block,
    /// s_Z1 (Lim et al. 2014, Eq. 2).
    pub single_photon_z_detections: Option<f64>,
    /// Lower bound on the vacuum Z detections of the last block, s_Z0.
    pub vacuum_z_detections: Option<f64>,
    /// Secret key rate, bits per second, over the last window.
    pub key_rate_bps: Option<f64>,
    /// Blocks completed since start.
    pub blocks_done: u64,
    /// Blocks aborted since start (QBER too high, verification failed,
    /// no key after the finite-key bound, ...).
    pub blocks_aborted: u64,
    /// Secret bits produced by privacy amplification since start.
    pub secret_bits_total: u64,
    /// Secret bits delivered to the key store since start (secret bits
    /// less those used to refill the authentication pads).
    pub delivered_bits_total: u64,
    /// Authentication pads left for sending (one pad per tag).
    pub send_pads: Option<u64>,
    /// Authentication pads left for verifying received tags.
    pub recv_pads: Option<u64>,
    /// Seconds until this KME's TLS certificate expires (negative once it
    /// has expired).
    pub cert_expiry_seconds: Option<i64>,
}

impl LinkState {
    /// The phase: `state` when set, else up or down from `link_up`.
    pub fn phase(&self) -> LinkPhase {
        self.state.unwrap_or(if self.link_up {
            LinkPhase::Up
        } else {
            LinkPhase::Down
        })
    }
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

    /// Prometheus text exposition format 0.0.4: one `# HELP` and `# TYPE`
    /// line per metric family, then its samples, each labelled with the
    /// KME ID. Unknown values (`None`) are left out.
    pub fn prometheus_text(&self) -> String {
        let mut e = Exposition::new(&self.kme_id);
        let l = &self.link;
        e.gauge(
            "qkd_kme_stored_keys",
            "Keys stored and not yet delivered.",
            &[(&[], Some(self.stored_keys as f64))],
        );
        e.gauge(
            "qkd_kme_stored_bits",
            "Bits of stored, undelivered key.",
            &[(&[], Some(self.stored_bits as f64))],
        );
        e.gauge(
            "qkd_kme_max_key_count",
            "Store capacity reported to SAEs.",
            &[(&[], Some(self.max_key_count as f64))],
        );
        e.gauge(
            "qkd_kme_store_fill_ratio",
            "Stored keys over the store capacity (0..1).",
            &[(
                &[],
                (self.max_key_count > 0)
                    .then(|| self.stored_keys as f64 / self.max_key_count as f64),
            )],
        );
        e.counter(
            "qkd_kme_delivered_keys_total",
            "Keys delivered over the store's life.",
            self.delivered_keys_total,
        );
        e.counter(
            "qkd_kme_requests_ok_total",
            "API requests answered with success.",
            self.requests_ok,
        );
        e.counter(
            "qkd_kme_requests_failed_total",
            "API requests answered with an error.",
            self.requests_failed,
        );
        e.counter(
            "qkd_kme_tls_refused_total",
            "TLS handshakes refused.",
            self.tls_refused,
        );
        e.gauge(
            "qkd_kme_store_file_bytes",
            "Key store file size in bytes.",
            &[(&[], Some(self.store_file_bytes as f64))],
        );
        e.gauge(
            "qkd_kme_cert_expiry_seconds",
            "Seconds until this KME's TLS certificate expires.",
            &[(&[], l.cert_expiry_seconds.map(|s| s as f64))],
        );
        e.gauge(
            "qkd_link_up",
            "1 while the QKD link is up (paused counts as up).",
            &[(&[], Some(f64::from(u8::from(l.phase() != LinkPhase::Down))))],
        );
        let phase = l.phase();
        let state = |p: LinkPhase| Some(f64::from(u8::from(p == phase)));
        e.gauge(
            "qkd_link_state",
            "1 for the link's current state (up, down, paused), 0 for the others.",
            &[
                (&[("state", "up")], state(LinkPhase::Up)),
                (&[("state", "down")], state(LinkPhase::Down)),
                (&[("state", "paused")], state(LinkPhase::Paused)),
            ],
        );
        e.gauge(
            "qkd_link_alarms",
            "Number of active link alarms.",
            &[(&[], Some(l.alarms.len() as f64))],
        );
        let alarms: Vec<[(&str, &str); 1]> =
            l.alarms.iter().map(|a| [("alarm", a.as_str())]).collect();
        let alarm_refs: Vec<Sample> = alarms.iter().map(|k| (&k[..], Some(1.0))).collect();
        if !alarm_refs.is_empty() {
            e.gauge(
                "qkd_link_alarm_active",
                "1 for each active link alarm, by name.",
                &alarm_refs,
            );
        }
        e.counter(
            "qkd_link_blocks_done_total",
            "Key blocks completed.",
            l.blocks_done,
        );
        e.counter(
            "qkd_link_blocks_aborted_total",
            "Key blocks aborted.",
            l.blocks_aborted,
        );
        e.counter(
            "qkd_link_secret_bits_total",
            "Secret bits produced by privacy amplification.",
            l.secret_bits_total,
        );
        e.counter(
            "qkd_link_delivered_bits_total",
            "Secret bits delivered to the key store.",
            l.delivered_bits_total,
        );
        e.gauge(
            "qkd_link_qber",
            "Quantum bit error rate of the last block by basis (fraction).",
            &[(&[("basis", "z")], l.qber), (&[("basis", "x")], l.qber_x)],
        );
        e.gauge(
            "qkd_link_phase_error_bound",
            "Upper bound on the single-photon phase-error rate of the last block.",
            &[(&[], l.phase_error_bound)],
        );
        e.gauge(
            "qkd_link_single_photon_z_detections",
            "Lower bound on the single-photon Z detections of the last block (s_Z1).",
            &[(&[], l.single_photon_z_detections)],
        );
        e.gauge(
            "qkd_link_vacuum_z_detections",
            "Lower bound on the vacuum Z detections of the last block (s_Z0).",
            &[(&[], l.vacuum_z_detections)],
        );
        e.gauge(
            "qkd_link_key_rate_bps",
            "Secret key rate in bits per second.",
            &[(&[], l.key_rate_bps)],
        );
        e.gauge(
            "qkd_link_auth_pads",
            "Authentication pads left, by direction.",
            &[
                (&[("direction", "send")], l.send_pads.map(|v| v as f64)),
                (&[("direction", "recv")], l.recv_pads.map(|v| v as f64)),
            ],
        );
        e.out
    }
}

/// Extra labels of a sample (beyond `kme`).
type Labels<'a> = &'a [(&'a str, &'a str)];
/// A sample: its extra labels and its value (`None`: unknown, left out).
type Sample<'a> = (Labels<'a>, Option<f64>);

/// Writer of the text exposition format for one KME.
struct Exposition {
    kme: String,
    out: String,
}

impl Exposition {
    fn new(kme_id: &str) -> Self {
        Exposition {
            kme: escape_label(kme_id),
            out: String::new(),
        }
    }

    fn counter(&mut self, name: &str, help: &str, v: u64) {
        self.family(name, "counter", help, &[(&[], Some(v as f64))]);
    }

    fn gauge(&mut self, name: &str, help: &str, samples: &[Sample]) {
        self.family(name, "gauge", help, samples);
    }

    /// One family; left out entirely when it has no known sample.
    fn family(&mut self, name: &str, kind: &str, help: &str, samples: &[Sample]) {
        if samples.iter().all(|(_, v)| v.is_none()) {
            return;
        }
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in samples {
            let Some(v) = v else { continue };
            let _ = write!(self.out, "{name}{{kme=\"{}\"", self.kme);
            for (k, val) in labels.iter() {
                let _ = write!(self.out, ",{k}=\"{}\"", escape_label(val));
            }
            let _ = writeln!(self.out, "}} {}", format_value(*v));
        }
    }
}

/// A sample value as the text format spells it (`+Inf`, `-Inf`, `NaN`).
fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

/// Escapes a Prometheus label value (backslash, double quote, newline).
fn escape_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(link: LinkState) -> KmeStatus {
        KmeStatus::new(
            "KME \"A\"",
            100,
            StoreCounts {
                stored_keys: 25,
                stored_bits: 6400,
                delivered_keys: 3,
                file_bytes: 999,
            },
            &Metrics::default(),
            link,
        )
    }

    /// Checks the text format's grammar: every family has one HELP and one
    /// TYPE line before its samples, no family appears twice, every sample
    /// line is `name{labels} value` with a parseable value.
    fn check_grammar(text: &str) -> Vec<(String, String, f64)> {
        let mut seen = std::collections::HashSet::new();
        let mut current: Option<String> = None;
        let mut samples = Vec::new();
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap().to_string();
                assert!(seen.insert(name.clone()), "family {name} twice");
                let ty = lines.next().expect("TYPE after HELP");
                assert!(
                    ty == format!("# TYPE {name} gauge") || ty == format!("# TYPE {name} counter"),
                    "{ty}"
                );
                current = Some(name);
                continue;
            }
            let fam = current.as_deref().expect("sample before HELP");
            let (name_labels, value) = line.rsplit_once(' ').expect("sample has a value");
            let (name, labels) = name_labels.split_once('{').expect("labels");
            assert_eq!(name, fam, "{line}");
            assert!(labels.ends_with('}'), "{line}");
            let v: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().unwrap_or_else(|_| panic!("value in {line}")),
            };
            samples.push((name.to_string(), labels.to_string(), v));
        }
        samples
    }

    #[test]
    fn metrics_follow_the_text_format_and_carry_the_link_series() {
        let link = LinkState {
            link_up: true,
            state: Some(LinkPhase::Paused),
            state_reason: Some("pads exhausted".into()),
            alarms: vec!["qber_high".into()],
            qber: Some(0.021),
            qber_x: Some(0.03),
            phase_error_bound: Some(0.05),
            single_photon_z_detections: Some(4.5e5),
            vacuum_z_detections: Some(1.0e3),
            key_rate_bps: Some(f64::INFINITY),
            blocks_done: 7,
            blocks_aborted: 2,
            secret_bits_total: 70_000,
            delivered_bits_total: 65_000,
            send_pads: Some(40),
            recv_pads: Some(39),
            cert_expiry_seconds: Some(-5),
        };
        let text = status(link).prometheus_text();
        let s = check_grammar(&text);
        let get = |name: &str, extra: &str| {
            let labels = format!("kme=\"KME \\\"A\\\"\"{extra}}}");
            s.iter()
                .find(|(n, l, _)| n == name && *l == labels)
                .map(|x| x.2)
                .unwrap_or_else(|| panic!("{name} {labels} missing in\n{text}"))
        };
        assert_eq!(get("qkd_link_state", ",state=\"paused\""), 1.0);
        assert_eq!(get("qkd_link_state", ",state=\"up\""), 0.0);
        assert_eq!(get("qkd_link_up", ""), 1.0);
        assert_eq!(get("qkd_link_qber", ",basis=\"z\""), 0.021);
        assert_eq!(get("qkd_link_qber", ",basis=\"x\""), 0.03);
        assert_eq!(get("qkd_link_auth_pads", ",direction=\"send\""), 40.0);
        assert_eq!(get("qkd_link_auth_pads", ",direction=\"recv\""), 39.0);
        assert_eq!(get("qkd_link_blocks_aborted_total", ""), 2.0);
        assert_eq!(get("qkd_link_secret_bits_total", ""), 70_000.0);
        assert_eq!(get("qkd_link_delivered_bits_total", ""), 65_000.0);
        assert_eq!(get("qkd_link_phase_error_bound", ""), 0.05);
        assert_eq!(get("qkd_link_single_photon_z_detections", ""), 4.5e5);
        assert_eq!(get("qkd_link_alarm_active", ",alarm=\"qber_high\""), 1.0);
        assert_eq!(get("qkd_kme_store_fill_ratio", ""), 0.25);
        assert_eq!(get("qkd_kme_cert_expiry_seconds", ""), -5.0);
        assert_eq!(get("qkd_link_key_rate_bps", ""), f64::INFINITY);
    }

    #[test]
    fn unknown_values_are_left_out_and_phase_follows_link_up() {
        let text = status(LinkState::default()).prometheus_text();
        check_grammar(&text);
        assert!(!text.contains("qkd_link_qber"), "{text}");
        assert!(!text.contains("qkd_link_auth_pads"), "{text}");
        assert!(text.contains(",state=\"down\"} 1\n"), "{text}");
        let up = LinkState {
            link_up: true,
            ..Default::default()
        };
        assert_eq!(up.phase(), LinkPhase::Up);
    }
}
