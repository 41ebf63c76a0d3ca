// SPDX-License-Identifier: MIT OR Apache-2.0
//! `postprocessing.reconciliation` end to end: `qkd-host run` on a short
//! link (examples/links/gateware-short.toml: 10 km, blocks of 1e5 sifted Z
//! bits) with blind LDPC reconciliation makes key that matches at both
//! ends, its leak feeding the finite-key step; a link TOML with an unknown
//! reconciliation is refused, naming the key.
#![cfg(feature = "sim")]

use qkd_host::config::{LinkConfig, Reconciliation};
use qkd_host::run::{run, RunOptions};
use qkd_keyproc::ldpc::ReconcilerKind;
use std::path::Path;
use std::process::Command;

fn short_link() -> LinkConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/links/gateware-short.toml");
    LinkConfig::load(&path).expect("examples/links/gateware-short.toml")
}

#[test]
fn run_with_ldpc_makes_matching_key() {
    let mut config = short_link();
    config.postprocessing.reconciliation = Reconciliation::Ldpc;
    let opts = RunOptions {
        config,
        // Two blocks of 1e5 Z bits (one needs ~2.2e7 pulses).
        pulses: 50_000_000,
        seed: 24,
        progress: false,
        attack: Default::default(),
        psk_bytes: qkd_host::run::DEFAULT_RUN_PSK_BYTES,
        devices: Default::default(),
    };
    let (s, keys) = run(&opts).expect("run");
    eprintln!(
        "blocks {} aborted {} secret {} leak {} f {:?} round trips/block {:?} aborts {:?}",
        s.blocks,
        s.aborted_blocks,
        s.secret_bits,
        s.leak_ec_bits,
        s.ec_efficiency,
        s.ec_round_trips_per_block,
        s.abort_reasons
    );
    assert!(s.keys_match, "Alice's and Bob's keys differ");
    assert!(s.blocks >= 2, "{} blocks", s.blocks);
    assert_eq!(s.reconciler_blocks.ldpc, s.blocks);
    assert_eq!(s.reconciler_blocks.cascade, 0);
    assert!(s.secret_bits > 0, "no key: {:?}", s.abort_reasons);
    assert!(!keys.is_empty());
    for (a, b) in &keys {
        assert_eq!(a, b);
    }
    // Blind LDPC: a few round trips per block, and a leak above Cascade's
    // (f > 1) that the finite-key step subtracted.
    let rt = s.ec_round_trips_per_block.expect("blocks ran EC");
    assert!((2.0..=12.0).contains(&rt), "{rt} round trips per block");
    let f = s.ec_efficiency.expect("a completed block");
    assert!(f > 1.1, "f = {f}");
    assert!(s.secret_bits + s.leak_ec_bits <= s.z_bits_in_blocks);
    // The summary's estimates for both reconcilers at this link's RTT.
    assert_eq!(s.reconcilers.len(), 2);
    assert!(s.reconcilers.iter().any(|t| t.kind == ReconcilerKind::Ldpc));
    assert!((0.09..0.11).contains(&s.rtt_ms), "{}", s.rtt_ms);
}

#[test]
fn bad_reconciliation_value_is_refused() {
    let text = "[postprocessing]\nreconciliation = \"turbo\"\n";
    let e = LinkConfig::from_toml_str(text).unwrap_err().to_string();
    assert!(
        e.contains("postprocessing.reconciliation") && e.contains("turbo"),
        "{e}"
    );
    // Through the binary: the planner refuses the file and names the key.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qkd-host"))
        .args(["keyrate", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("postprocessing.reconciliation"), "{err}");
}
