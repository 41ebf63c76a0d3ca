// SPDX-License-Identifier: MIT OR Apache-2.0
//! What an operator sees of a running role pair (issue 19): with `RUST_LOG`
//! unset the roles log at INFO (session up, each block's key and commit),
//! without colour codes when stderr is not a terminal; `/metrics` on the
//! ops port carries the link's series (state, pads, secret and delivered
//! bits, blocks, QBER, decoy estimates, alarms, store fill, certificate
//! expiry) with the values the role reports in `/status`.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qkd-host");
/// One block of 5e5 Z bits at 10 km takes about 2.6e8 pulses.
const PULSES: u64 = 360_000_000;

fn qkd(args: &[&str]) {
    let out = Command::new(BIN).args(args).output().expect("run qkd-host");
    assert!(
        out.status.success(),
        "qkd-host {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Role {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: std::path::PathBuf,
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(dir: &std::path::Path, role: &str, addr_flag: &str, addr: &str) -> Role {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let (kme, peer) = if role == "alice" {
        ("KME_A", "KME_B")
    } else {
        ("KME_B", "KME_A")
    };
    let log = dir.join(format!("{role}.log"));
    let mut child = Command::new(BIN)
        .args([
            role,
            "--device",
            &format!("sim:{role}?link=live"),
            addr_flag,
            addr,
            "--psk",
            &p("psk.key"),
            "--config",
            &p("link.toml"),
            "--state-dir",
            &p(role),
            "--seed",
            "11",
            "--pulses",
            &PULSES.to_string(),
            "--kme-listen",
            "127.0.0.1:0",
            "--ops-listen",
            "127.0.0.1:0",
            "--tls-cert",
            &p(&format!("pki/{kme}.pem")),
            "--tls-key",
            &p(&format!("pki/{kme}.key")),
            "--client-ca",
            &p("pki/ca.pem"),
            "--kme-id",
            kme,
            "--peer-kme-id",
            peer,
        ])
        .env_remove("RUST_LOG")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("spawn qkd-host");
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    Role { child, lines, log }
}

impl Role {
    fn wait_line(&self, what: &str) -> String {
        let t0 = Instant::now();
        let timeout = Duration::from_secs(120);
        loop {
            match self
                .lines
                .recv_timeout(timeout.saturating_sub(t0.elapsed()))
            {
                Ok(l) => {
                    if let Some(i) = l.find(what) {
                        return l[i + what.len()..].trim().to_owned();
                    }
                }
                Err(_) => panic!(
                    "no '{what}' line within {timeout:?}; log:\n{}",
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                ),
            }
        }
    }
}

fn http_get(ops: SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(ops).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    r.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// The value of Alice's series `name` with exactly the labels `kme="KME_A"`
/// and `labels` (`""` for no more, else `,a="b"`).
fn metric(text: &str, name: &str, labels: &str) -> Option<f64> {
    let head = format!("{name}{{kme=\"KME_A\"{labels}}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(head.as_str()))
        .map(|v| v.trim().parse::<f64>().unwrap())
}

#[test]
fn a_role_pair_logs_at_info_and_metrics_show_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    qkd(&["certs", "--out", &p("pki")]);
    qkd(&["psk", "--out", &p("psk.key"), "--bytes", "262144"]);
    let mut cfg = qkd_host::config::LinkConfig::default();
    cfg.channel.length_km = 10.0;
    cfg.postprocessing.block_bits = 5e5;
    // Test-size blocks: looser epsilons than the defaults so that a block
    // of 5e5 bits has key (plumbing test, not a security setting).
    cfg.postprocessing.eps_sec = 1e-4;
    cfg.postprocessing.eps_cor = 1e-9;
    std::fs::write(dir.path().join("link.toml"), toml::to_string(&cfg).unwrap()).unwrap();

    let alice = spawn(dir.path(), "alice", "--listen", "127.0.0.1:0");
    let ops: SocketAddr = alice.wait_line("ops listening on").parse().unwrap();
    let listen = alice.wait_line("classical channel listening on");
    let bob = spawn(dir.path(), "bob", "--connect", &listen);
    let _ = bob.wait_line("ops listening on");

    let t0 = Instant::now();
    let status = loop {
        let v: Value = serde_json::from_str(&http_get(ops, "/status")).unwrap();
        if v["link"]["blocks_done"].as_u64().unwrap_or(0) >= 1 {
            break v;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no block committed in 300 s: {v}\n{}",
            std::fs::read_to_string(&alice.log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let m = http_get(ops, "/metrics");
    let link = &status["link"];
    // One block, then the simulated streams end and the link goes down.
    let up = metric(&m, "qkd_link_up", "").expect("qkd_link_up");
    assert!(up == 0.0 || up == 1.0, "{m}");
    assert_eq!(
        metric(&m, "qkd_link_blocks_done_total", ""),
        link["blocks_done"].as_f64(),
        "{m}"
    );
    let secret = metric(&m, "qkd_link_secret_bits_total", "").unwrap();
    let delivered = metric(&m, "qkd_link_delivered_bits_total", "").unwrap();
    assert!(
        secret > 0.0 && delivered > 0.0 && delivered <= secret,
        "{m}"
    );
    for (name, labels) in [
        ("qkd_link_blocks_aborted_total", ""),
        ("qkd_link_qber", ",basis=\"z\""),
        ("qkd_link_qber", ",basis=\"x\""),
        ("qkd_link_phase_error_bound", ""),
        ("qkd_link_single_photon_z_detections", ""),
        ("qkd_link_vacuum_z_detections", ""),
        ("qkd_link_auth_pads", ",direction=\"send\""),
        ("qkd_link_auth_pads", ",direction=\"recv\""),
        ("qkd_link_alarms", ""),
        ("qkd_kme_stored_keys", ""),
        ("qkd_kme_store_fill_ratio", ""),
    ] {
        assert!(
            metric(&m, name, labels).is_some(),
            "no {name}{labels} in /metrics:\n{m}"
        );
    }
    let qz = metric(&m, "qkd_link_qber", ",basis=\"z\"").unwrap();
    assert!(qz > 0.0 && qz < 0.05, "QBER Z {qz}");
    // `qkd-host certs` signs for years: the expiry is far ahead.
    let expiry = metric(&m, "qkd_kme_cert_expiry_seconds", "").expect("certificate expiry");
    assert!(expiry > 365.0 * 86_400.0, "{expiry}");

    drop(bob);
    drop(alice);
    let log = std::fs::read_to_string(dir.path().join("alice.log")).unwrap();
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log file:\n{log}"
    );
    for what in [
        "INFO",
        "session up",
        "key produced; pending commit",
        "secret_bits=",
        "block committed",
        "KME certificate valid",
    ] {
        assert!(log.contains(what), "no '{what}' in Alice's log:\n{log}");
    }
    assert!(!log.contains("DEBUG"), "DEBUG lines by default:\n{log}");
}
