// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd-host run` end to end under every attack the simulator knows: the
//! whole chain (physics + gateware semantics -> sim: devices -> driver
//! stream reader -> sifting -> estimation -> Cascade -> verification ->
//! privacy amplification over the authenticated channel).
//!
//! The simulator knows which of Bob's valid detections Eve knows the bit of.
//! Security means: every attack ends in an alarm (key production stopped)
//! or in aborted blocks, and any key that is produced is no longer than the
//! sifted bits Eve does not know, minus what error correction disclosed.
#![cfg(feature = "sim")]

use qkd_host::config::LinkConfig;
use qkd_host::run::{run, RunOptions, RunSummary};
use qkd_sim::physics::{AttackConfig, AttackKind};

const PULSES: u64 = 700_000_000;

fn link(attack: &str, seed: u64) -> RunSummary {
    let mut config = LinkConfig::default();
    config.channel.length_km = 10.0;
    config.postprocessing.block_bits = 1e6;
    let kind: AttackKind = attack.parse().expect("attack name");
    let opts = RunOptions {
        config,
        pulses: PULSES,
        seed,
        progress: false,
        attack: AttackConfig::always(kind),
        psk_bytes: qkd_host::run::DEFAULT_RUN_PSK_BYTES,
        devices: Default::default(),
    };
    let (s, keys) = run(&opts).expect("run");
    eprintln!(
        "{attack}: blocks {} aborted {} secret {} alarms {:#x} eve-known {} (sifted candidates {}) aborts {:?}",
        s.blocks,
        s.aborted_blocks,
        s.secret_bits,
        s.alarms,
        s.eve_known_valid_detections,
        s.eve_known_sifted_candidates,
        s.abort_reasons
    );
    assert!(s.keys_match, "{attack}: Alice's and Bob's keys differ");
    assert_eq!(
        keys.iter().map(|(a, _)| a.len_bits().0).sum::<u64>(),
        s.delivered_bits,
        "{attack}: the keys handed out do not add up to the bits reported delivered"
    );
    assert!(s.delivered_bits <= s.secret_bits);
    // The security check, with the simulator's truth.
    if s.secret_bits > 0 {
        assert!(
            s.secret_bits + s.leak_ec_bits + s.eve_known_sifted_candidates <= s.z_bits_in_blocks,
            "{attack}: {} secret bits + {} leaked + {} known to Eve > {} sifted Z bits",
            s.secret_bits,
            s.leak_ec_bits,
            s.eve_known_sifted_candidates,
            s.z_bits_in_blocks
        );
    }
    s
}

#[test]
fn honest_link_makes_key_eve_does_not_know() {
    let s = link("none", 11);
    assert!(s.secret_bits > 100_000, "{} secret bits", s.secret_bits);
    assert!(s.delivered_bits > 0, "authentication ate the whole key");
    assert_eq!(s.aborted_blocks, 0, "{:?}", s.abort_reasons);
    assert_eq!(s.alarms, 0);
    assert_eq!(s.eve_known_valid_detections, 0);
    let q = s.qber.z.expect("a completed block has a QBER");
    assert!(q < 0.02, "QBER {q}");
}

#[test]
fn intercept_resend_aborts() {
    let s = link("intercept-resend:0.3", 12);
    assert!(s.eve_known_valid_detections > 0);
    assert!(s.aborted_blocks > 0);
    assert_eq!(s.secret_bits, 0);
}

#[test]
fn pns_key_is_bounded_by_what_eve_does_not_know() {
    // The decoy-state bound on single-photon events is what keeps this key
    // secret: Eve knows every multi-photon bit she let through.
    let s = link("pns", 13);
    assert!(s.eve_known_sifted_candidates > 0);
    assert!(s.blocks > 0);
}

#[test]
fn cw_blinding_stops_key_production() {
    let s = link("cw-blinding", 14);
    assert_ne!(s.alarms, 0);
    assert_eq!(s.secret_bits, 0);
    assert!(s.alarm_latched_at_slot.is_some());
}

#[test]
fn pulsed_blinding_stops_key_production() {
    // Pulsed blinding keeps most photocurrent samples low: the gateware only
    // flags the detections at the samples that caught a pulse, the rest are
    // valid and known to Eve. The alarm latch discards them all.
    let s = link("pulsed-blinding", 15);
    assert_ne!(s.alarms, 0);
    assert!(s.eve_known_valid_detections > 0);
    assert_eq!(s.eve_known_sifted_candidates, 0);
    assert_eq!(s.secret_bits, 0);
}

#[test]
fn after_gate_attack_stops_key_production() {
    let s = link("after-gate", 16);
    assert_ne!(s.alarms, 0);
    assert_eq!(s.eve_known_valid_detections, 0);
    assert_eq!(s.secret_bits, 0);
}

#[test]
fn dead_time_attack_aborts() {
    let s = link("dead-time", 17);
    assert!(s.eve_known_valid_detections > 0);
    assert_eq!(s.secret_bits, 0);
}
