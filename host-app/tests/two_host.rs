// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host alice` and `qkd-host bob` as two processes on loopback (issue
//! 8): `sim:` devices sharing one seeded simulated fiber, the authenticated
//! TCP classical channel, the two-phase key commit, the durable key stores
//! and the ETSI GS QKD 014 API over mutual TLS.
//!
//! ```text
//!  SAE_A --enc_keys--> qkd-host alice (KME_A) <==TCP==> qkd-host bob (KME_B) <--dec_keys-- SAE_B
//! ```

use base64::Engine as _;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qkd-host");
/// Short link: 10 km, blocks of 5e5 Z bits (about 2.6e8 pulses each with
/// the simulated detector's dead time), three blocks.
const PULSES: u64 = 800_000_000;
const WINDOW: u64 = 1 << 25;

/// The tests run one at a time: each spawns two processes that simulate and
/// post-process a link at full speed, and on a 2-core CI machine five such
/// pairs at once made startup lines miss their deadlines.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

fn qkd(args: &[&str]) {
    let out = Command::new(BIN).args(args).output().expect("run qkd-host");
    assert!(
        out.status.success(),
        "qkd-host {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
        qkd(&["certs", "--out", &p("pki")]);
        qkd(&["psk", "--out", &p("psk.key"), "--bytes", "262144"]);
        let mut cfg = qkd_host::config::LinkConfig::default();
        cfg.channel.length_km = 10.0;
        cfg.postprocessing.block_bits = 5e5;
        // Test-size blocks: looser epsilons than the defaults so that a
        // block of 5e5 bits has key (plumbing test, not a security setting).
        cfg.postprocessing.eps_sec = 1e-4;
        cfg.postprocessing.eps_cor = 1e-9;
        std::fs::write(dir.path().join("link.toml"), toml::to_string(&cfg).unwrap()).unwrap();
        Setup { dir }
    }
    fn path(&self, n: &str) -> PathBuf {
        self.dir.path().join(n)
    }
    fn s(&self, n: &str) -> String {
        self.path(n).to_str().unwrap().to_owned()
    }
}

/// A running role; its stdout lines arrive on `lines`.
struct RoleProc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for RoleProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RoleProc {
    fn spawn(setup: &Setup, role: &str, addr_flag: &str, addr: &str, seed: &str) -> RoleProc {
        Self::spawn_with(setup, role, addr_flag, addr, seed, PULSES, None, &[])
    }

    #[allow(clippy::too_many_arguments)]
    fn spawn_with(
        setup: &Setup,
        role: &str,
        addr_flag: &str,
        addr: &str,
        seed: &str,
        pulses: u64,
        crash_at: Option<&str>,
        extra: &[&str],
    ) -> RoleProc {
        let mut child = role_command(setup, role, addr_flag, addr, seed, pulses, extra)
            .env("QKD_HOST_CRASH_AT", crash_at.unwrap_or(""))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
        RoleProc { child, lines }
    }
}

/// The command line of a role (the arguments of [`RoleProc::spawn_with`]).
fn role_command(
    setup: &Setup,
    role: &str,
    addr_flag: &str,
    addr: &str,
    seed: &str,
    pulses: u64,
    extra: &[&str],
) -> Command {
    let (kme, peer) = if role == "alice" {
        ("KME_A", "KME_B")
    } else {
        ("KME_B", "KME_A")
    };
    let mut c = Command::new(BIN);
    c.args([
        role,
        "--device",
        &format!("sim:{role}?link=t"),
        addr_flag,
        addr,
        "--psk",
        &setup.s("psk.key"),
        "--config",
        &setup.s("link.toml"),
        "--state-dir",
        &setup.s(role),
        "--seed",
        seed,
        "--pulses",
        &pulses.to_string(),
        "--window-pulses",
        &WINDOW.to_string(),
        "--kme-listen",
        "127.0.0.1:0",
        "--ops-listen",
        "127.0.0.1:0",
        "--tls-cert",
        &setup.s(&format!("pki/{kme}.pem")),
        "--tls-key",
        &setup.s(&format!("pki/{kme}.key")),
        "--client-ca",
        &setup.s("pki/ca.pem"),
        "--kme-id",
        kme,
        "--peer-kme-id",
        peer,
        "--recv-timeout",
        "20",
    ])
    .args(if extra.contains(&"--reconnect-timeout") {
        &[][..]
    } else {
        &["--reconnect-timeout", "40"][..]
    })
    .args(extra)
    .env("RUST_LOG", "info");
    c
}

impl RoleProc {
    /// Wait for a stdout line containing `what`; returns the text after it.
    fn wait_line(&self, what: &str, timeout: Duration) -> String {
        let t0 = Instant::now();
        loop {
            let left = timeout.saturating_sub(t0.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    if let Some(i) = l.find(what) {
                        return l[i + what.len()..].trim().to_owned();
                    }
                }
                Err(_) => panic!("no '{what}' line within {timeout:?}"),
            }
        }
    }

    fn addrs(&self) -> (SocketAddr, SocketAddr) {
        let kme = self.wait_line("kme listening on", Duration::from_secs(60));
        let ops = self.wait_line("ops listening on", Duration::from_secs(30));
        (kme.parse().unwrap(), ops.parse().unwrap())
    }
}

fn ops_status(ops: SocketAddr) -> Value {
    let mut s = std::net::TcpStream::connect(ops).unwrap();
    write!(
        s,
        "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut r = String::new();
    s.read_to_string(&mut r).unwrap();
    serde_json::from_str(r.split_once("\r\n\r\n").unwrap().1).unwrap()
}

fn tls_client(pki: &Path, sae: Option<&str>) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(pki.join("ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match sae {
        Some(s) => {
            let chain = CertificateDer::pem_file_iter(pki.join(format!("{s}.pem")))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(pki.join(format!("{s}.key"))).unwrap();
            b.with_client_auth_cert(chain, key).unwrap()
        }
        None => b.with_no_client_auth(),
    })
}

/// One HTTPS GET; Err when TLS fails.
fn https_get(
    addr: SocketAddr,
    pki: &Path,
    sae: Option<&str>,
    path: &str,
) -> Result<(u16, Value), String> {
    let conn = rustls::ClientConnection::new(
        tls_client(pki, sae),
        rustls::pki_types::ServerName::try_from("localhost").unwrap(),
    )
    .map_err(|e| e.to_string())?;
    let tcp = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // The server may close without close_notify.
        Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e.to_string()),
    }
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let code: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or("no status code")?;
    let v = serde_json::from_str(body).map_err(|e| format!("not JSON ({e}): {body}"))?;
    Ok((code, v))
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

fn enc_keys(kme: SocketAddr, pki: &Path, n: usize) -> Vec<(String, Vec<u8>)> {
    let (code, v) = https_get(
        kme,
        pki,
        Some("SAE_A"),
        &format!("/api/v1/keys/SAE_B/enc_keys?number={n}"),
    )
    .unwrap();
    assert_eq!(code, 200, "{v}");
    keys_of(&v)
}

fn dec_keys(kme: SocketAddr, pki: &Path, ids: &[String]) -> (u16, Value) {
    let q: Vec<String> = ids.iter().map(|i| format!("key_ID={i}")).collect();
    https_get(
        kme,
        pki,
        Some("SAE_B"),
        &format!("/api/v1/keys/SAE_A/dec_keys?{}", q.join("&")),
    )
    .unwrap()
}

/// Poll both roles' status until both report the link down after having
/// committed at least `blocks` blocks.
fn wait_done(ops: &[SocketAddr], blocks: u64, timeout: Duration) -> Vec<Value> {
    let t0 = Instant::now();
    loop {
        let st: Vec<Value> = ops.iter().map(|o| ops_status(*o)).collect();
        let done = st.iter().all(|s| {
            s["link"]["link_up"] == false
                && s["link"]["blocks_done"].as_u64().unwrap_or(0) >= blocks
        });
        if done {
            return st;
        }
        assert!(
            t0.elapsed() < timeout,
            "link not done in {timeout:?}: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn two_processes_commit_identical_keys_and_serve_them() {
    let _serial = serial();
    let t0 = Instant::now();
    let s = Setup::new();
    let pki = s.path("pki");
    let alice = RoleProc::spawn(&s, "alice", "--listen", "127.0.0.1:0", "21");
    let (a_kme, a_ops) = alice.addrs();
    let chan = alice.wait_line("classical channel listening on", Duration::from_secs(60));
    let bob = RoleProc::spawn(&s, "bob", "--connect", &chan, "21");
    let (b_kme, b_ops) = bob.addrs();
    let st = wait_done(&[a_ops, b_ops], 1, Duration::from_secs(120));
    let (na, nb) = (
        st[0]["stored_keys"].as_u64().unwrap(),
        st[1]["stored_keys"].as_u64().unwrap(),
    );
    eprintln!(
        "two hosts: {} blocks, {na} keys each side, {:.1} s",
        st[0]["link"]["blocks_done"],
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(na, nb, "both stores hold the same number of keys");
    assert!(na >= 4, "{na} keys");
    assert_eq!(st[0]["link"]["blocks_done"], st[1]["link"]["blocks_done"]);

    // Master SAE's enc_keys and slave SAE's dec_keys give identical keys.
    let a = enc_keys(a_kme, &pki, 3);
    assert_eq!(a.len(), 3);
    assert!(a.iter().all(|(_, k)| k.len() == 32));
    let ids: Vec<String> = a.iter().map(|(i, _)| i.clone()).collect();
    let (code, v) = dec_keys(b_kme, &pki, &ids);
    assert_eq!(code, 200, "{v}");
    assert_eq!(keys_of(&v), a, "Bob's keys differ from Alice's");
    // Never twice: the same IDs again are refused, the next enc_keys are new.
    let (code, _) = dec_keys(b_kme, &pki, &ids);
    assert_eq!(code, 400);
    let b = enc_keys(a_kme, &pki, 1);
    assert!(!ids.contains(&b[0].0));
    // A third SAE with its own valid certificate is refused; so is a
    // client without a certificate (at the TLS handshake).
    let (code, _) = https_get(
        a_kme,
        &pki,
        Some("SAE_C"),
        "/api/v1/keys/SAE_B/enc_keys?number=1",
    )
    .unwrap();
    assert_eq!(code, 401);
    assert!(https_get(b_kme, &pki, None, "/api/v1/keys/SAE_A/status").is_err());
    // The slave SAE cannot call enc_keys at its own KME.
    let (code, _) = https_get(
        b_kme,
        &pki,
        Some("SAE_B"),
        "/api/v1/keys/SAE_A/enc_keys?number=1",
    )
    .unwrap();
    assert_eq!(code, 401);
    // `qkd-host status` against a running role whose link has ended: it
    // prints the status and exits 5 (link down).
    let out = Command::new(BIN)
        .args(["status", "--ops", &a_ops.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("KME_A") && text.contains("link                down"),
        "{text}"
    );
    eprintln!("{text}");
}

/// Every key of `ids` fetched in requests of at most 128.
fn dec_all(kme: SocketAddr, pki: &Path, ids: &[String]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for c in ids.chunks(128) {
        let (code, v) = dec_keys(kme, pki, c);
        assert_eq!(code, 200, "{v}");
        out.extend(keys_of(&v));
    }
    out
}

#[test]
fn killing_and_restarting_alice_loses_no_key_and_repeats_none() {
    let _serial = serial();
    let t0 = Instant::now();
    let s = Setup::new();
    let pki = s.path("pki");
    let alice = RoleProc::spawn(&s, "alice", "--listen", "127.0.0.1:0", "33");
    let (a_kme, a_ops) = alice.addrs();
    let chan = alice.wait_line("classical channel listening on", Duration::from_secs(60));
    let bob = RoleProc::spawn(&s, "bob", "--connect", &chan, "33");
    let (b_kme, b_ops) = bob.addrs();
    // After the first committed block, the master SAE takes two keys.
    let t = Instant::now();
    while ops_status(a_ops)["stored_keys"].as_u64().unwrap_or(0) < 2 {
        assert!(t.elapsed() < Duration::from_secs(60), "no key in 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let first = enc_keys(a_kme, &pki, 2);
    let first_ids: Vec<String> = first.iter().map(|(i, _)| i.clone()).collect();
    // Kill Alice mid-run (SIGKILL) and start her again on the same port
    // with the same state directory.
    drop(alice);
    let alice = RoleProc::spawn(&s, "alice", "--listen", &chan, "33");
    let (a_kme, a_ops) = alice.addrs();
    let st = wait_done(&[a_ops, b_ops], 2, Duration::from_secs(150));
    eprintln!(
        "restart: {} blocks, {:.1} s",
        st[0]["link"]["blocks_done"],
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(st[0]["link"]["blocks_done"], st[1]["link"]["blocks_done"]);
    // The keys delivered before the kill are still Bob's to decrypt, and
    // equal to what the master SAE got.
    assert_eq!(dec_all(b_kme, &pki, &first_ids), first);
    // Everything else: each key once, identical on both sides, none lost.
    let a_left = ops_status(a_ops)["stored_keys"].as_u64().unwrap();
    let b_left = ops_status(b_ops)["stored_keys"].as_u64().unwrap();
    assert_eq!(a_left, b_left, "stores differ in size after the restart");
    assert!(a_left > 0);
    let mut rest = Vec::new();
    while rest.len() < a_left as usize {
        let n = (a_left as usize - rest.len()).min(128);
        rest.extend(enc_keys(a_kme, &pki, n));
    }
    let ids: Vec<String> = rest.iter().map(|(i, _)| i.clone()).collect();
    let mut uniq = ids.clone();
    uniq.extend(first_ids.iter().cloned());
    uniq.sort();
    uniq.dedup();
    assert_eq!(
        uniq.len(),
        ids.len() + first_ids.len(),
        "a key ID was handed out twice"
    );
    assert_eq!(dec_all(b_kme, &pki, &ids), rest);
    assert_eq!(ops_status(a_ops)["stored_keys"], 0);
    assert_eq!(ops_status(b_ops)["stored_keys"], 0);
    let (code, _) = https_get(
        a_kme,
        &pki,
        Some("SAE_A"),
        "/api/v1/keys/SAE_B/enc_keys?number=1",
    )
    .unwrap();
    assert_eq!(code, 503, "an empty store has no key to give");
}

/// Drain both KMEs completely: every key once, identical on both sides.
fn assert_stores_identical(
    a_kme: SocketAddr,
    a_ops: SocketAddr,
    b_kme: SocketAddr,
    b_ops: SocketAddr,
    pki: &Path,
) -> usize {
    drain_both(a_kme, a_ops, b_kme, b_ops, pki).0
}

/// [`assert_stores_identical`], also returning the key IDs served (each
/// checked to be served once).
fn drain_both(
    a_kme: SocketAddr,
    a_ops: SocketAddr,
    b_kme: SocketAddr,
    b_ops: SocketAddr,
    pki: &Path,
) -> (usize, Vec<String>) {
    let a_left = ops_status(a_ops)["stored_keys"].as_u64().unwrap() as usize;
    let b_left = ops_status(b_ops)["stored_keys"].as_u64().unwrap() as usize;
    assert_eq!(a_left, b_left, "the stores differ in size");
    let mut all = Vec::new();
    while all.len() < a_left {
        all.extend(enc_keys(a_kme, pki, (a_left - all.len()).min(128)));
    }
    let ids: Vec<String> = all.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(
        dec_all(b_kme, pki, &ids),
        all,
        "Bob's keys differ from Alice's"
    );
    assert_eq!(ops_status(b_ops)["stored_keys"], 0);
    assert_eq!(ops_status(a_ops)["stored_keys"], 0);
    let mut uniq = ids.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), ids.len(), "a key ID was served twice");
    (a_left, ids)
}

/// Start offset and length of the last record of a key store file
/// (`kme/src/store.rs`: an 8-byte header, then records `kind:u8
/// rec_len:u32 ...` with `rec_len` the whole record).
fn last_record(store: &[u8]) -> (usize, usize) {
    let mut at = 8;
    let mut last = None;
    while at + 5 <= store.len() {
        let len = u32::from_le_bytes(store[at + 1..at + 5].try_into().unwrap()) as usize;
        assert!(len >= 9 && at + len <= store.len(), "store file not whole");
        last = Some((at, len));
        at += len;
    }
    last.expect("a record in the store")
}

/// A torn key store append: the crashed role appended block 0 to its store
/// and died before `pool.committed` recorded it; its store file is then
/// cut at `cut(record_start, record_len)` (a power cut that kept part of
/// the append). The block's key IDs from the pending file.
fn tear_store(state: &Path, cut: fn(usize, usize) -> usize) -> Vec<String> {
    let st = qkd_host::linkstate::StateDir::open(state).unwrap();
    let p = st.load_pending().unwrap().expect("block 0 still pending");
    assert_eq!(p.block, 0);
    let qkd_host::linkstate::LinkEpoch::Known(epoch) = st.load_committed().unwrap().unwrap().epoch
    else {
        panic!("no link epoch in {}", state.display())
    };
    let ns = qkd_host::roles::key_id_namespace(qkd_host::roles::link_uuid("qkd-link"), epoch);
    let ids = (0..p.units.len() as u32)
        .map(|i| qkd_kme::derive_key_id(ns, 0, i).to_string())
        .collect();
    let path = state.join("keys.qkdstore");
    let bytes = std::fs::read(&path).unwrap();
    let (start, len) = last_record(&bytes);
    assert_eq!(start + len, bytes.len());
    let to = cut(start, len);
    eprintln!(
        "store of {}: record {start}+{len}, cut at {to}",
        state.display()
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(to as u64)
        .unwrap();
    ids
}

/// Issue 18: a block's append to the key store torn by a crash (inside the
/// record, at its start, one byte short of its end) at Alice or at Bob, or
/// whole but not yet in `pool.committed`, then the crashed role restarted:
/// the store cuts a torn record, the restart compares the block's contents
/// (not its first key ID) and appends it again or finds it already there,
/// and both stores drain to the same keys: every key of block 0 at both
/// ends, none missing, none served twice.
#[test]
fn torn_store_append_at_either_end_restarts_to_identical_stores() {
    let _serial = serial();
    let t0 = Instant::now();
    for (crasher, seed, cut) in [
        (
            "alice",
            "41",
            (|s, l| s + l / 2) as fn(usize, usize) -> usize,
        ),
        ("bob", "42", |s, _| s),
        ("alice", "43", |s, l| s + l),
        ("bob", "44", |s, l| s + l - 1),
    ] {
        let block0 = std::cell::RefCell::new(Vec::new());
        let (n, _, served) = crash_in_commit_then(crasher, "appended:0", seed, |st| {
            *block0.borrow_mut() = tear_store(st, cut)
        });
        let block0 = block0.into_inner();
        assert!(!block0.is_empty());
        assert!(n >= block0.len());
        for id in &block0 {
            assert!(
                served.contains(id),
                "{crasher}: key {id} of block 0 missing"
            );
        }
    }
    eprintln!("torn append tests: {:.1} s", t0.elapsed().as_secs_f64());
}

/// A role pair on loopback: Alice on a free port, Bob connected to her,
/// both with `seed`, `pulses` and the `extra` flags.
struct Pair {
    alice: RoleProc,
    bob: RoleProc,
    a_kme: SocketAddr,
    a_ops: SocketAddr,
    b_kme: SocketAddr,
    b_ops: SocketAddr,
}

fn spawn_pair(s: &Setup, seed: &str, pulses: u64, extra: &[&str]) -> Pair {
    let alice = RoleProc::spawn_with(
        s,
        "alice",
        "--listen",
        "127.0.0.1:0",
        seed,
        pulses,
        None,
        extra,
    );
    let (a_kme, a_ops) = alice.addrs();
    let chan = alice.wait_line("classical channel listening on", Duration::from_secs(60));
    let bob = RoleProc::spawn_with(s, "bob", "--connect", &chan, seed, pulses, None, extra);
    let (b_kme, b_ops) = bob.addrs();
    Pair {
        alice,
        bob,
        a_kme,
        a_ops,
        b_kme,
        b_ops,
    }
}

/// Issue 18: a link started over under the same `--link-name` (both state
/// directories wiped, a new pre-shared key, the same seed and so the same
/// physics and block numbers) draws a new link epoch, so none of the first
/// run's key IDs is issued again for a different key.
#[test]
fn a_link_started_over_under_the_same_name_never_reissues_a_key_id() {
    let _serial = serial();
    let t0 = Instant::now();
    let s = Setup::new();
    let pki = s.path("pki");
    let pulses = 300_000_000;
    let run = || {
        let p = spawn_pair(&s, "51", pulses, &[]);
        wait_done(&[p.a_ops, p.b_ops], 1, Duration::from_secs(150));
        drain_both(p.a_kme, p.a_ops, p.b_kme, p.b_ops, &pki).1
    };
    let first = run();
    for d in ["alice", "bob"] {
        std::fs::remove_dir_all(s.path(d)).unwrap();
    }
    std::fs::remove_file(s.path("psk.key")).unwrap();
    qkd(&["psk", "--out", &s.s("psk.key"), "--bytes", "262144"]);
    let second = run();
    assert!(!first.is_empty() && !second.is_empty());
    let first: std::collections::HashSet<_> = first.into_iter().collect();
    let again: Vec<_> = second.iter().filter(|id| first.contains(*id)).collect();
    assert!(
        again.is_empty(),
        "{} of {} key IDs of the first run issued again: {:?}",
        again.len(),
        second.len(),
        &again[..again.len().min(3)]
    );
    eprintln!(
        "link started over: {} + {} keys, no ID twice, {:.1} s",
        first.len(),
        second.len(),
        t0.elapsed().as_secs_f64()
    );
}

/// Issue 18: a key store at its `--max-key-count` holds the next key block
/// at both ends instead of failing. Both roles stay up well past the
/// reconnect timeout, the status says "paused" and why; once the
/// applications fetch keys the held block commits, and both stores drain
/// to the same keys, none lost, none twice.
#[test]
fn a_full_key_store_holds_the_block_until_keys_are_fetched() {
    let _serial = serial();
    let t0 = Instant::now();
    let s = Setup::new();
    let pki = s.path("pki");
    // Seed 61 at 5.6e8 pulses: two key blocks; the store takes the first
    // (FULL_STORE_KEYS or fewer keys) but not both.
    let max = FULL_STORE_KEYS.to_string();
    let extra = ["--max-key-count", &max, "--reconnect-timeout", "4"];
    let Pair {
        mut alice,
        mut bob,
        a_kme,
        a_ops,
        b_kme,
        b_ops,
    } = spawn_pair(&s, "61", 560_000_000, &extra);
    let held = |ops| {
        let st = ops_status(ops);
        let l = &st["link"];
        (l["state"] == "paused"
            && l["state_reason"]
                .as_str()
                .is_some_and(|r| r.contains("key store full")))
        .then(|| st.clone())
    };
    let t = Instant::now();
    let (sa, sb) = loop {
        if let (Some(a), Some(b)) = (held(a_ops), held(b_ops)) {
            break (a, b);
        }
        assert!(
            t.elapsed() < Duration::from_secs(150),
            "no hold: {} / {}",
            ops_status(a_ops),
            ops_status(b_ops)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("held: {}", sa["link"]["state_reason"]);
    assert_eq!(sa["link"]["blocks_done"], 1, "{sa}");
    assert_eq!(sb["link"]["blocks_done"], 1, "{sb}");
    // Held for twice the reconnect timeout: both still serve, still paused.
    std::thread::sleep(Duration::from_secs(8));
    assert!(alice.child.try_wait().unwrap().is_none(), "alice exited");
    assert!(bob.child.try_wait().unwrap().is_none(), "bob exited");
    assert!(held(a_ops).is_some() && held(b_ops).is_some());
    // The applications fetch the first block's keys: the held block commits
    // (as soon as Bob's store has room, so the stores are not compared
    // empty here).
    let n0 = sa["stored_keys"].as_u64().unwrap() as usize;
    assert_eq!(sb["stored_keys"].as_u64().unwrap() as usize, n0);
    assert!(n0 > 0 && n0 <= FULL_STORE_KEYS as usize, "{n0}");
    let mut first = Vec::new();
    while first.len() < n0 {
        first.extend(enc_keys(a_kme, &pki, (n0 - first.len()).min(128)));
    }
    let ids0: Vec<String> = first.iter().map(|(i, _)| i.clone()).collect();
    assert_eq!(dec_all(b_kme, &pki, &ids0), first, "Bob's keys differ");
    let st = wait_done(&[a_ops, b_ops], 2, Duration::from_secs(150));
    assert_eq!(st[0]["link"]["state"], "down", "{}", st[0]);
    let (n1, ids1) = drain_both(a_kme, a_ops, b_kme, b_ops, &pki);
    assert!(
        n0 + n1 > FULL_STORE_KEYS as usize,
        "the second block did not need the hold"
    );
    let all: std::collections::HashSet<_> = ids0.iter().chain(&ids1).collect();
    assert_eq!(all.len(), n0 + n1, "a key ID served twice");
    eprintln!(
        "full store: {n0} keys, then {n1} after the hold, {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// Keys the store of [`a_full_key_store_holds_the_block_until_keys_are_fetched`]
/// takes.
const FULL_STORE_KEYS: u64 = 1000;

/// A crash inside the two-phase commit, then a restart of the crashed role
/// on the same state directory (and port, for Alice).
fn crash_in_commit(crasher: &str, point: &str, seed: &str) -> (usize, String) {
    let (n, summary, _) = crash_in_commit_then(crasher, point, seed, |_| {});
    (n, summary)
}

/// [`crash_in_commit`] with `damage` applied to the crashed role's state
/// directory before the restart. Returns the keys drained from each store,
/// Alice's summary line and the key IDs served.
fn crash_in_commit_then(
    crasher: &str,
    point: &str,
    seed: &str,
    damage: impl FnOnce(&Path),
) -> (usize, String, Vec<String>) {
    let s = Setup::new();
    let pki = s.path("pki");
    let pulses = 560_000_000;
    let a_crash = (crasher == "alice").then_some(point);
    let b_crash = (crasher == "bob").then_some(point);
    let alice = RoleProc::spawn_with(
        &s,
        "alice",
        "--listen",
        "127.0.0.1:0",
        seed,
        pulses,
        a_crash,
        &[],
    );
    let (a_kme, a_ops) = alice.addrs();
    let chan = alice.wait_line("classical channel listening on", Duration::from_secs(60));
    let mut bob = RoleProc::spawn_with(&s, "bob", "--connect", &chan, seed, pulses, b_crash, &[]);
    let (mut b_kme, mut b_ops) = bob.addrs();
    let mut alice = alice;
    let (mut a_kme, mut a_ops) = (a_kme, a_ops);
    let crashed = if crasher == "alice" {
        &mut alice.child
    } else {
        &mut bob.child
    };
    let status = crashed.wait().unwrap();
    assert_eq!(status.code(), Some(86), "{crasher} did not stop at {point}");
    damage(&s.path(crasher));
    if crasher == "alice" {
        alice = RoleProc::spawn_with(&s, "alice", "--listen", &chan, seed, pulses, None, &[]);
        (a_kme, a_ops) = alice.addrs();
    } else {
        bob = RoleProc::spawn_with(&s, "bob", "--connect", &chan, seed, pulses, None, &[]);
        (b_kme, b_ops) = bob.addrs();
    }
    wait_done(&[a_ops, b_ops], 1, Duration::from_secs(150));
    let summary = alice.wait_line("{\"sessions\"", Duration::from_secs(60));
    let (n, ids) = drain_both(a_kme, a_ops, b_kme, b_ops, &pki);
    (n, summary, ids)
}

#[test]
fn crash_inside_the_commit_ends_with_the_key_in_both_stores_or_neither() {
    let _serial = serial();
    let t0 = Instant::now();
    // Alice stored block 0 and died before telling Bob: Bob commits it at
    // the next session.
    let (n, _) = crash_in_commit("alice", "committed:0", "41");
    assert!(n > 0);
    // Bob made the key but died before it was durable: Alice discards it.
    let (_, summary) = crash_in_commit("bob", "key:0", "42");
    assert!(summary.contains("\"discarded_blocks\":1"), "{summary}");
    eprintln!("crash tests: {:.1} s", t0.elapsed().as_secs_f64());
}

#[test]
fn detector_alarm_stops_key_production_and_shows_in_status() {
    let _serial = serial();
    let s = Setup::new();
    let Pair {
        alice,
        bob,
        a_ops,
        b_ops,
        ..
    } = spawn_pair(&s, "51", 300_000_000, &["--attack", "cw-blinding"]);
    let summary = bob.wait_line("{\"sessions\"", Duration::from_secs(90));
    assert!(summary.contains("\"committed_blocks\":0"), "{summary}");
    let st = ops_status(b_ops);
    let alarms = st["link"]["alarms"].as_array().unwrap();
    assert!(
        alarms
            .iter()
            .any(|a| a.as_str().unwrap().starts_with("detector_alarm_latched")),
        "{st}"
    );
    assert_eq!(st["stored_keys"], 0);
    alice.wait_line("{\"sessions\"", Duration::from_secs(30));
    assert_eq!(ops_status(a_ops)["stored_keys"], 0);
}

/// A TCP relay between Bob and Alice whose open connections the test can
/// cut (both directions shut down), as a network drop would.
struct Relay {
    addr: SocketAddr,
    open: Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn new(to: SocketAddr) -> Relay {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let open = Arc::new(std::sync::Mutex::new(Vec::new()));
        let o = open.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(c) = c else { break };
                let Ok(s) = std::net::TcpStream::connect(to) else {
                    continue;
                };
                o.lock()
                    .unwrap()
                    .extend([c.try_clone().unwrap(), s.try_clone().unwrap()]);
                for (mut from, mut to) in [(c.try_clone().unwrap(), s.try_clone().unwrap()), (s, c)]
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Relay { addr, open }
    }

    /// Cut every connection open now; later ones are relayed again.
    fn cut(&self) -> usize {
        let mut v = self.open.lock().unwrap();
        for s in v.iter() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        let n = v.len() / 2;
        v.clear();
        n
    }
}

#[test]
fn a_dropped_connection_reconnects_and_resumes_with_identical_keys() {
    let _serial = serial();
    let t0 = Instant::now();
    let s = Setup::new();
    let pki = s.path("pki");
    let alice = RoleProc::spawn(&s, "alice", "--listen", "127.0.0.1:0", "61");
    let (a_kme, a_ops) = alice.addrs();
    let chan = alice.wait_line("classical channel listening on", Duration::from_secs(60));
    let relay = Relay::new(chan.parse().unwrap());
    let bob = RoleProc::spawn(&s, "bob", "--connect", &relay.addr.to_string(), "61");
    let (b_kme, b_ops) = bob.addrs();
    // Cut the classical channel once the first block is committed, while
    // the next one is under way; both processes stay up.
    let t = Instant::now();
    while ops_status(a_ops)["stored_keys"].as_u64().unwrap_or(0) == 0 {
        assert!(t.elapsed() < Duration::from_secs(90), "no key in 90 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(relay.cut(), 1, "one connection was open");
    let st = wait_done(&[a_ops, b_ops], 2, Duration::from_secs(150));
    assert_eq!(st[0]["link"]["blocks_done"], st[1]["link"]["blocks_done"]);
    let sessions: u64 = alice
        .wait_line("{\"sessions\":", Duration::from_secs(60))
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        sessions >= 2,
        "Bob did not reconnect: {sessions} session(s)"
    );
    // Nothing lost or doubled: both stores hold the same keys.
    let n = assert_stores_identical(a_kme, a_ops, b_kme, b_ops, &pki);
    assert!(n > 0);
    eprintln!(
        "dropped connection: {sessions} sessions, {} blocks, {n} keys, {:.1} s",
        st[0]["link"]["blocks_done"],
        t0.elapsed().as_secs_f64()
    );
}

/// A relay that flips one bit of byte `byte` of the first frame Bob sends
/// on the first connection (his HELLO), then relays every later byte and
/// connection unchanged.
fn flip_relay(to: SocketAddr, byte: usize) -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut first = true;
        for c in l.incoming() {
            let Ok(mut c) = c else { break };
            let Ok(mut s) = std::net::TcpStream::connect(to) else {
                continue;
            };
            if std::mem::take(&mut first) {
                // 7-byte frame header + 62-byte HELLO.
                let mut hello = [0u8; 69];
                if c.read_exact(&mut hello).is_err() {
                    continue;
                }
                hello[byte % 69] ^= 0x04;
                let _ = s.write_all(&hello);
            }
            for (mut from, mut to) in [(c.try_clone().unwrap(), s.try_clone().unwrap()), (s, c)] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    addr
}

/// Bob without a KME (quick to start and kill), with extra flags.
fn bare_bob(s: &Setup, connect: &str, seed: &str) -> Child {
    Command::new(BIN)
        .args([
            "bob",
            "--device",
            "sim:bob?link=t",
            "--connect",
            connect,
            "--psk",
            &s.s("psk.key"),
            "--config",
            &s.s("link.toml"),
            "--state-dir",
            &s.s("bob"),
            "--seed",
            seed,
            "--pulses",
            &PULSES.to_string(),
            "--window-pulses",
            &WINDOW.to_string(),
            "--recv-timeout",
            "20",
            "--reconnect-timeout",
            "40",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn bob")
}

fn wait_link(ops: SocketAddr, up: bool, timeout: Duration) {
    let t0 = Instant::now();
    while ops_status(ops)["link"]["link_up"] != up {
        assert!(t0.elapsed() < timeout, "link_up never became {up}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn forged_and_flipped_hellos_and_twenty_restarts_still_make_key() {
    let _serial = serial();
    let t0 = Instant::now();
    let s = Setup::new();
    let pki = s.path("pki");
    let alice = RoleProc::spawn(&s, "alice", "--listen", "127.0.0.1:0", "71");
    let (a_kme, a_ops) = alice.addrs();
    let chan: SocketAddr = alice
        .wait_line("classical channel listening on", Duration::from_secs(60))
        .parse()
        .unwrap();
    // A forged HELLO: right length and link-independent fields, made-up tag,
    // a far pad position; then plain garbage and an oversized frame.
    let mut forged = b"QKDH\x02\x01".to_vec();
    forged.extend_from_slice(&[0u8; 16]);
    for v in [1u64 << 40, 7, u64::MAX] {
        forged.extend_from_slice(&v.to_le_bytes());
    }
    forged.extend_from_slice(&[0x5A; 16]);
    for payload in [forged, vec![0xFF; 10]] {
        let mut c = std::net::TcpStream::connect(chan).unwrap();
        let mut frame = vec![1u8, 0x01, 0x08];
        frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        frame.extend_from_slice(&payload);
        c.write_all(&frame).unwrap();
        let mut sink = Vec::new();
        let _ = c.read_to_end(&mut sink); // Alice drops the connection.
    }
    let mut c = std::net::TcpStream::connect(chan).unwrap();
    c.write_all(&[1, 0x01, 0x08, 0xFF, 0xFF, 0xFF, 0x0F])
        .unwrap();
    let mut sink = Vec::new();
    let _ = c.read_to_end(&mut sink);
    // A genuine Bob HELLO with one bit flipped on the way, then the same
    // Bob through the same relay unchanged: he re-sends his HELLO.
    let relay = flip_relay(chan, 7 + 30);
    let mut bob = bare_bob(&s, &relay.to_string(), "71");
    wait_link(a_ops, true, Duration::from_secs(60));
    let _ = bob.kill();
    let _ = bob.wait();
    wait_link(a_ops, false, Duration::from_secs(30));
    // Twenty restarts of Bob, each killed as soon as the session is up.
    for _ in 0..20 {
        let mut bob = bare_bob(&s, &chan.to_string(), "71");
        wait_link(a_ops, true, Duration::from_secs(60));
        let _ = bob.kill();
        let _ = bob.wait();
        wait_link(a_ops, false, Duration::from_secs(30));
    }
    assert_eq!(ops_status(a_ops)["link"]["blocks_done"], 0);
    // Now a Bob that stays: the link makes key.
    let bob = RoleProc::spawn(&s, "bob", "--connect", &chan.to_string(), "71");
    let (b_kme, b_ops) = bob.addrs();
    let st = wait_done(&[a_ops, b_ops], 2, Duration::from_secs(180));
    assert_eq!(st[0]["link"]["blocks_done"], st[1]["link"]["blocks_done"]);
    let n = assert_stores_identical(a_kme, a_ops, b_kme, b_ops, &pki);
    assert!(n > 0, "no key after the restarts");
    eprintln!(
        "forged/flipped HELLOs + 20 restarts: {} blocks, {n} keys, {:.1} s",
        st[0]["link"]["blocks_done"],
        t0.elapsed().as_secs_f64()
    );
}

#[test]
fn an_exhausted_pad_pool_pauses_and_exits_with_code_7() {
    let _serial = serial();
    let s = Setup::new();
    // The smallest pre-shared key, and a link whose blocks all abort (25 %
    // misalignment): each abort spends a pad per direction, none refills.
    qkd(&[
        "psk",
        "--out",
        &s.s("small.key"),
        "--bytes",
        &qkd_host::budget::MIN_PSK_BYTES.to_string(),
    ]);
    std::fs::rename(s.path("small.key"), s.path("psk.key")).unwrap();
    let mut cfg: qkd_host::config::LinkConfig =
        toml::from_str(&std::fs::read_to_string(s.path("link.toml")).unwrap()).unwrap();
    cfg.detector.misalignment_error = 0.25;
    std::fs::write(s.path("link.toml"), toml::to_string(&cfg).unwrap()).unwrap();
    let extra = ["--reconnect-timeout", "4"];
    let mut alice = RoleProc::spawn_with(
        &s,
        "alice",
        "--listen",
        "127.0.0.1:0",
        "81",
        PULSES,
        None,
        &extra,
    );
    let (_, a_ops) = alice.addrs();
    let chan = alice.wait_line("classical channel listening on", Duration::from_secs(60));
    let mut bob = RoleProc::spawn_with(&s, "bob", "--connect", &chan, "81", PULSES, None, &extra);
    let t0 = Instant::now();
    let mut saw_pause = false;
    while t0.elapsed() < Duration::from_secs(120) {
        if let Ok(Some(code)) = alice.child.try_wait() {
            assert_eq!(code.code(), Some(7), "Alice's exit code");
            break;
        }
        if let Ok(st) = std::panic::catch_unwind(|| ops_status(a_ops)) {
            let alarms = st["link"]["alarms"].to_string();
            saw_pause |= alarms.contains("paused");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(saw_pause, "the status never showed the pause");
    let code = alice.child.wait().unwrap().code();
    assert_eq!(code, Some(7), "Alice must exit 7 (paused for lack of key)");
    let code = bob.child.wait().unwrap().code();
    assert_eq!(code, Some(7), "Bob must exit 7 (paused for lack of key)");
}

/// Issue 18: a state file that is damaged or lost, or a key store that is
/// lost or older than `pool.committed`, stops the role at start (exit 6,
/// key store or state directory) with an error naming the file and what to
/// do; never silently worked around (no re-read of the pre-shared key, no
/// empty store). With the files restored the role starts.
#[test]
fn damaged_or_lost_state_files_are_refused_at_start_naming_the_file() {
    use qkd_host::linkstate::{LastStored, StateDir};
    let _serial = serial();
    let s = Setup::new();
    // A first start bootstraps the state directory: progress,
    // pool.committed and an empty key store.
    let alice = RoleProc::spawn(&s, "alice", "--listen", "127.0.0.1:0", "5");
    alice.wait_line("classical channel listening on", Duration::from_secs(60));
    drop(alice);
    let dir = s.path("alice");
    let file = |n: &str| dir.join(n);
    let saved: Vec<(&str, Vec<u8>)> = ["pool.committed", "progress", "keys.qkdstore"]
        .into_iter()
        .map(|n| (n, std::fs::read(file(n)).unwrap()))
        .collect();
    let restore = || {
        for (n, b) in &saved {
            std::fs::write(file(n), b).unwrap();
        }
    };
    let refused = |case: &str, wants: &[&str]| {
        let out = role_command(&s, "alice", "--listen", "127.0.0.1:0", "5", PULSES, &[])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(6), "{case}: {err}");
        for w in wants {
            assert!(err.contains(w), "{case}: no '{w}' in: {err}");
        }
    };
    // A flipped byte in pool.committed: its CRC.
    let mut b = saved[0].1.clone();
    b[20] ^= 0x01;
    std::fs::write(file("pool.committed"), &b).unwrap();
    refused(
        "flipped pool.committed",
        &[
            "pool.committed",
            "checksum mismatch",
            "restore it from a backup",
        ],
    );
    // pool.committed lost: the pre-shared key is not read again.
    std::fs::remove_file(file("pool.committed")).unwrap();
    refused(
        "lost pool.committed",
        &[
            "no pool.committed",
            "refusing to re-read the pre-shared key",
        ],
    );
    restore();
    // progress lost: pads could be used twice.
    std::fs::remove_file(file("progress")).unwrap();
    refused(
        "lost progress",
        &["progress", "missing", "never be used twice"],
    );
    restore();
    // A truncated pool.pending.
    std::fs::write(file("pool.pending"), b"QKDPEND2\x01").unwrap();
    refused(
        "truncated pool.pending",
        &["pool.pending", "two-phase commit"],
    );
    std::fs::remove_file(file("pool.pending")).unwrap();
    // pool.committed says block 0 is in the key store.
    let st = StateDir::open(&dir).unwrap();
    let mut c = st.load_committed().unwrap().unwrap();
    c.next_block = 1;
    c.last_stored = LastStored::Block(0);
    st.store_committed(&c).unwrap();
    // ... and the store is lost,
    std::fs::remove_file(file("keys.qkdstore")).unwrap();
    refused(
        "lost key store",
        &["keys.qkdstore is missing", "Restore the key store"],
    );
    assert!(!file("keys.qkdstore").exists(), "no empty store created");
    // ... or an older copy without block 0.
    std::fs::write(file("keys.qkdstore"), &saved[2].1).unwrap();
    refused(
        "older key store",
        &["keys.qkdstore", "has no block", "older copy"],
    );
    restore();
    let alice = RoleProc::spawn(&s, "alice", "--listen", "127.0.0.1:0", "5");
    alice.wait_line("classical channel listening on", Duration::from_secs(60));
}
