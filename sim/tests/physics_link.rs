// SPDX-License-Identifier: MIT OR Apache-2.0
//! The honest fast link against the analytic detection model.
//!
//! ```text
//!  FastLink(50 km, Lim et al. parameters) ─► Alice + Bob records
//!     sift ─► QBER, detection rate  vs  Lim et al. Sec. IV model + dead time
//!     STATUS ─► accounting identity, no alarm; Eve knows nothing
//! ```

mod physics_common;
use physics_common::*;
use qkd_sim::physics::rng::seed_from_name;
use qkd_sim::physics::{run_link, ChannelParams, LinkParams};

fn seeded(name: &str) -> LinkParams {
    let s = seed_from_name(name);
    LinkParams {
        alice_seed: s ^ 1,
        bob_seed: s ^ 2,
        physics_seed: s ^ 3,
        ..LinkParams::default()
    }
}

/// Expected non-suppressed click rate per slot: per-gate click probability
/// `p = sum_k p_k (1 - (1 - p_dc)^2 exp(-mu_k t eta))` (Lim et al. Sec. IV),
/// and a renewal with D dead slots after each click: `p / (1 + p D)`.
fn expected_rate(p: &LinkParams) -> f64 {
    let t = p.channel.transmittance() * p.detector.efficiency;
    let q = 1.0 - p.detector.dark_count_per_gate;
    let pc: f64 = (0..3)
        .map(|k| {
            p.source.probabilities[k] * (1.0 - q * q * (-p.source.intensities_photons[k] * t).exp())
        })
        .sum();
    pc / (1.0 + pc * f64::from(p.bob.dead_time_slots))
}

#[test]
fn honest_link_matches_detection_model_and_qber() {
    let p = seeded("honest_link_matches_detection_model_and_qber");
    let slots = 1 << 26;
    let (out, stats, tot) = run_link(p.clone(), slots).unwrap();
    let rate = (tot.accepted + tot.after_gate + tot.invalid) as f64 / slots as f64;
    let want = expected_rate(&p);
    assert!(
        (rate / want - 1.0).abs() < 0.04,
        "rate {rate:e} vs {want:e}"
    );
    let s = sift(&out.alice, &out.bob, &out.eve);
    let q = s.qber_z();
    // misalignment 0.5 % plus dark counts and afterpulses
    assert!(q > 0.003 && q < 0.012, "QBER {q}");
    assert_eq!(stats.eve_known_detections, 0);
    assert!(out.eve.iter().all(|t| !t.eve_knows));
    assert_eq!(alarms_seen(&out.bob), 0);
    assert!(check_accounting(&out.bob) >= 60);
    assert_eq!(tot.invalid, 0);
}

#[test]
fn distance_lowers_rate_by_the_fiber_loss() {
    let mut p = seeded("distance_lowers_rate_by_the_fiber_loss");
    p.bob.dead_time_slots = 1;
    p.detector.afterpulse_probability = 0.0;
    let slots = 1 << 24;
    let mut rates = Vec::new();
    for km in [25.0, 50.0] {
        p.channel = ChannelParams::fiber(km, 0.2, 0.0);
        let (_, _, tot) = run_link(p.clone(), slots).unwrap();
        let r = tot.accepted as f64 / slots as f64;
        let want = expected_rate(&p);
        assert!((r / want - 1.0).abs() < 0.05, "{km} km: {r:e} vs {want:e}");
        rates.push(r);
    }
    // 25 km more of fiber: 5 dB.
    let ratio = rates[0] / rates[1];
    assert!(
        (ratio / 10f64.powf(0.5) - 1.0).abs() < 0.06,
        "ratio {ratio}"
    );
}

#[test]
fn daylight_background_raises_qber() {
    let mut p = seeded("daylight_background_raises_qber");
    p.channel = ChannelParams::free_space(20.0, 1e-4);
    let (out, _, _) = run_link(p.clone(), 1 << 24).unwrap();
    let s = sift(&out.alice, &out.bob, &out.eve);
    // background 1e-4 per detector vs signal ~ mu t eta = 0.4 * 1e-3: QBER
    // ~ (1e-4) / (4e-4 + 2e-4) ~ 15 %
    assert!(
        s.qber_z() > 0.08 && s.qber_z() < 0.25,
        "QBER {}",
        s.qber_z()
    );
}

#[test]
fn bad_parameters_are_named() {
    let mut p = LinkParams::default();
    p.detector.efficiency = 1.5;
    let e = run_link(p, 64).unwrap_err().to_string();
    assert!(e.contains("detector.efficiency"), "{e}");
}
