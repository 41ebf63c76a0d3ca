// SPDX-License-Identifier: MIT OR Apache-2.0
//! Attacks on the fast link: each one ends in an alarm (detections made
//! under it are flagged or fall in alarmed STATUS intervals) or in
//! statistics the key pipeline aborts on (QBER, decoy yields).
//!
//! ```text
//!  Eve ──(attack, slots [start, end))──► Bob's core ─► records + EveTags
//!     check: alarms seen / INVALID flags / QBER / yields; Eve's knowledge
//! ```

mod physics_common;
use physics_common::*;
use qkd_abi::regmap::bob::alarm;
use qkd_sim::physics::rng::seed_from_name;
use qkd_sim::physics::{
    known_detections_without_alarm, run_link, AttackConfig, AttackKind, ClickSource, LinkParams,
};

fn seeded(name: &str) -> LinkParams {
    let s = seed_from_name(name);
    LinkParams {
        alice_seed: s ^ 1,
        bob_seed: s ^ 2,
        physics_seed: s ^ 3,
        ..LinkParams::default()
    }
}

#[test]
fn intercept_resend_gives_quarter_qber() {
    let mut p = seeded("intercept_resend_gives_quarter_qber");
    p.channel.length_km = 10.0;
    p.attack = AttackConfig::always(AttackKind::InterceptResend { fraction: 1.0 });
    let (out, _, _) = run_link(p, 1 << 24).unwrap();
    let s = sift(&out.alice, &out.bob, &out.eve);
    assert!((s.qber_z() - 0.25).abs() < 0.03, "QBER {}", s.qber_z());
    // Eve knows the sifted bits where her basis matched (about half).
    let frac = s.z_known as f64 / (s.z[0] + s.z[1]) as f64;
    assert!(frac > 0.35 && frac < 0.6, "known fraction {frac}");
}

#[test]
fn pns_keeps_signal_rate_but_breaks_decoy_yields() {
    let name = "pns_keeps_signal_rate_but_breaks_decoy_yields";
    let mut p = seeded(name);
    p.channel.length_km = 60.0;
    p.bob.dead_time_slots = 1;
    p.detector.afterpulse_probability = 0.0;
    let slots = 1 << 25;
    let (honest, _, _) = run_link(p.clone(), slots).unwrap();
    p.attack = AttackConfig::always(AttackKind::PhotonNumberSplitting);
    let (pns, _, _) = run_link(p, slots).unwrap();
    let h = sift(&honest.alice, &honest.bob, &honest.eve);
    let e = sift(&pns.alice, &pns.bob, &pns.eve);
    let yield_k = |s: &Sifted, k: usize| (s.z[k] + s.x[k]) as f64;
    // Signal detections unchanged (within statistics) ...
    assert!(
        (yield_k(&e, 0) / yield_k(&h, 0) - 1.0).abs() < 0.06,
        "{} vs {}",
        yield_k(&e, 0),
        yield_k(&h, 0)
    );
    // ... but the decoy yield drops: single photons are blocked more.
    assert!(
        yield_k(&e, 1) / yield_k(&h, 1) < 0.85,
        "{} vs {}",
        yield_k(&e, 1),
        yield_k(&h, 1)
    );
    assert!(e.z_known > 0);
}

fn blinding(kind: AttackKind, name: &str, cw: bool) {
    let mut p = seeded(name);
    let start = 1u64 << 20; // a STATUS boundary
    p.attack = AttackConfig {
        kind,
        start_slot: start,
        end_slot: u64::MAX,
    };
    let (out, stats, tot) = run_link(p, 1 << 22).unwrap();
    assert!(stats.eve_triggers > 100, "{stats:?}");
    assert_ne!(alarms_seen(&out.bob) & alarm::PHOTOCURRENT, 0);
    // Every Eve-known accepted detection is in an alarmed interval, and
    // most detections under attack are INVALID.
    assert_eq!(known_detections_without_alarm(&out.bob, &out.eve), vec![]);
    // CW: every sample is over the threshold, so detections under attack are
    // INVALID. Pulsed: the alarm is live only after a sample that caught a
    // pulse (spec 5.5, no averaging); the sticky bit and AlarmsSeen remain.
    let under: Vec<_> = out.eve.iter().filter(|t| t.slot >= start).collect();
    let invalid = under.iter().filter(|t| t.invalid).count();
    if cw {
        assert!(
            invalid as f64 > 0.95 * under.len() as f64,
            "{invalid} of {}",
            under.len()
        );
    }
    assert!(tot.invalid > 0);
    assert_ne!(tot.alarms_sticky & alarm::PHOTOCURRENT, 0);
    check_accounting(&out.bob);
}

#[test]
fn cw_blinding_raises_photocurrent_alarm() {
    blinding(
        AttackKind::CwBlinding { adc_code: 0xE00 },
        "cw_blinding_raises_photocurrent_alarm",
        true,
    );
}

#[test]
fn pulsed_blinding_is_caught_by_single_samples() {
    blinding(
        AttackKind::PulsedBlinding {
            duty: 0.02,
            peak_adc_code: 0xF00,
            mean_adc_code: 0x200,
        },
        "pulsed_blinding_is_caught_by_single_samples",
        false,
    );
}

#[test]
fn after_gate_attack_clicks_are_never_detections() {
    let mut p = seeded("after_gate_attack_clicks_are_never_detections");
    p.attack = AttackConfig {
        kind: AttackKind::AfterGate,
        start_slot: 1 << 20,
        end_slot: u64::MAX,
    };
    let (out, stats, tot) = run_link(p, 1 << 22).unwrap();
    assert!(stats.eve_triggers > 100);
    assert!(tot.after_gate >= stats.eve_triggers.saturating_sub(tot.dead_time_suppressed));
    assert_ne!(alarms_seen(&out.bob) & alarm::AFTER_GATE, 0);
    assert!(out.eve.iter().all(|t| t.source != ClickSource::EveTrigger));
    assert_eq!(known_detections_without_alarm(&out.bob, &out.eve), vec![]);
}

#[test]
fn common_dead_time_defeats_dead_time_attack() {
    let name = "common_dead_time_defeats_dead_time_attack";
    let mut p = seeded(name);
    p.channel.length_km = 0.0;
    p.detector.apd_recovery_ns = 200.0; // 63 slots of APD recovery
    p.attack = AttackConfig::always(AttackKind::DeadTime {
        period_slots: 314,
        detector: 1,
    });
    // Eve fires again exactly when Bob's gates reopen after her last forced
    // click (period = dead time + 1), so almost every click is hers.
    // With the common dead time (313 slots > APD recovery) no photon click
    // Eve knows survives: only her forced clicks, which carry 50 % errors.
    let (out, _, _) = run_link(p.clone(), 1 << 22).unwrap();
    assert!(out
        .eve
        .iter()
        .filter(|t| t.eve_knows)
        .all(|t| t.source == ClickSource::EveTrigger));
    let s = sift(&out.alice, &out.bob, &out.eve);
    assert!(s.qber_z() > 0.4, "QBER {}", s.qber_z());
    // A dead time shorter than the APD recovery gives the attack back:
    // photon clicks on the other detector, known to Eve.
    p.bob.dead_time_slots = 1;
    let (weak, _, _) = run_link(p, 1 << 22).unwrap();
    let leaked = weak
        .eve
        .iter()
        .filter(|t| t.eve_knows && t.source == ClickSource::Photon)
        .count();
    assert!(leaked > 100, "{leaked}");
}
