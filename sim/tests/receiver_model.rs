// SPDX-License-Identifier: MIT OR Apache-2.0
//! The closed-form receiver model (`physics::receiver`, what the planner
//! uses) against the fast link's own clicks, per intensity class.
//!
//! ```text
//!  FastLink ─► Alice's symbols + Bob's DETECTIONs ─► sifted Z/X detections and
//!     errors per intensity (double clicks: error 1/2)  vs  expected_rates(...)
//! ```

use qkd_abi::records::Record;
use qkd_abi::symbol::Basis;
use qkd_sim::physics::receiver::expected_rates;
use qkd_sim::physics::rng::seed_from_name;
use qkd_sim::physics::{run_link, ChannelParams, LinkParams};
use std::collections::HashMap;

/// Per intensity: sifted detections (bases equal) and errors (double
/// clicks count 1/2).
fn tally(alice: &[Record], bob: &[Record]) -> ([f64; 3], [f64; 3]) {
    let mut syms = HashMap::new();
    for r in alice {
        if let Record::AliceSymbols(a) = r {
            for (i, s) in a.symbols().enumerate() {
                syms.insert(a.start_slot + i as u64, s);
            }
        }
    }
    let mut by_slot: Vec<(u64, u8, Basis)> = Vec::new();
    for r in bob {
        if let Record::Detection(d) = r {
            assert!(!d.invalid);
            by_slot.push((d.slot, d.detector, d.basis));
        }
    }
    let (mut n, mut e) = ([0.0; 3], [0.0; 3]);
    let mut i = 0;
    while i < by_slot.len() {
        let (slot, det, basis) = by_slot[i];
        let double = by_slot.get(i + 1).is_some_and(|x| x.0 == slot);
        i += if double { 2 } else { 1 };
        let a = syms[&slot];
        let Some(k) = a.intensity().index() else {
            continue;
        };
        if a.basis() != basis {
            continue;
        }
        n[k] += 1.0;
        e[k] += if double {
            0.5
        } else {
            f64::from(u8::from(u8::from(a.bit()) != det))
        };
    }
    (n, e)
}

fn check(name: &str, p: LinkParams, slots: u64) {
    let p = LinkParams {
        physics_seed: seed_from_name(name),
        ..p
    };
    let model = expected_rates(&p.receiver_inputs());
    let (out, _, tot) = run_link(p.clone(), slots).unwrap();
    let (n, e) = tally(&out.alice, &out.bob);
    let qz = p.source.basis_z_probability;
    let p_match = qz * qz + (1.0 - qz) * (1.0 - qz);
    for k in 0..2 {
        let want_n = slots as f64 * p.source.probabilities[k] * p_match * model.detection[k];
        let sd = want_n.sqrt();
        assert!(
            (n[k] - want_n).abs() < 4.0 * sd + 0.01 * want_n,
            "{name}: intensity {k}: {} sifted detections, model {want_n:.0}",
            n[k]
        );
        let (q, want_q) = (e[k] / n[k], model.error[k] / model.detection[k]);
        let sd_q = (want_q * (1.0 - want_q) / n[k]).sqrt();
        assert!(
            (q - want_q).abs() < 4.0 * sd_q + 0.02 * want_q,
            "{name}: intensity {k}: QBER {q:.5}, model {want_q:.5}"
        );
        eprintln!(
            "{name}: k {k}: detections {:.0} vs {want_n:.0} ({:.4}); QBER {q:.5} vs {want_q:.5} ({:.4})",
            n[k],
            n[k] / want_n,
            q / want_q
        );
    }
    let clicks = (tot.accepted + tot.after_gate) as f64 / slots as f64;
    eprintln!(
        "{name}: click slots per slot {clicks:.5e} (model {:.5e} counts slots)",
        model.clicks_per_slot
    );
}

fn link(km: f64, dead_time_ns: f64, afterpulse: f64) -> LinkParams {
    let d = qkd_sim::physics::DetectorParams {
        dead_time_ns,
        afterpulse_probability: afterpulse,
        ..Default::default()
    };
    LinkParams::new(Default::default(), ChannelParams::fiber(km, 0.2, 0.0), d)
}

// Afterpulses nearly all survive a one-slot dead time; the APD recovery
// (4 slots) leaves one detector ready for 2 slots after each click.
#[test]
fn zero_km_one_slot_dead_time_ten_percent_afterpulses() {
    check(
        "zero_km_one_slot_dead_time_ten_percent_afterpulses",
        link(0.0, 3.2, 0.10),
        1 << 22,
    );
}

// Dead time of half the afterpulse time constant: part survive.
#[test]
fn dead_time_comparable_to_the_afterpulse_time_constant() {
    check(
        "dead_time_comparable_to_the_afterpulse_time_constant",
        link(5.0, 100.0, 0.10),
        1 << 23,
    );
}

// The defaults at 25 km: 1 us dead time hides almost every afterpulse.
#[test]
fn default_detector_at_25_km() {
    check(
        "default_detector_at_25_km",
        link(25.0, 1000.0, 0.04),
        1 << 24,
    );
}

/// Distinct slots with a DETECTION in `[lo, hi)`.
fn detection_slots(bob: &[Record], lo: u64, hi: u64) -> u64 {
    let mut last = u64::MAX;
    let mut n = 0;
    for r in bob {
        if let Record::Detection(d) = r {
            if d.slot >= lo && d.slot < hi && d.slot != last {
                n += 1;
                last = d.slot;
            }
        }
    }
    n
}

// A channel schedule: the transmittance steps from 0.1 to 0.01 halfway;
// each half clicks at the model's rate for its transmittance.
#[test]
fn schedule_changes_the_transmittance_during_the_run() {
    use qkd_sim::physics::link::ChannelSchedule;
    let half = 1u64 << 22;
    let mut p = link(0.0, 1000.0, 0.0);
    p.physics_seed = seed_from_name("schedule_changes_the_transmittance_during_the_run");
    p.schedule = Some(ChannelSchedule {
        step_slots: half,
        mean: vec![0.1, 0.01].into(),
        background: Vec::new().into(),
        log_variance: 0.0,
        rho: 0.0,
    });
    let (out, _, _) = run_link(p.clone(), 2 * half).unwrap();
    for (i, t) in [0.1, 0.01].into_iter().enumerate() {
        let mut inp = p.receiver_inputs();
        inp.transmittance = t;
        let want = expected_rates(&inp).clicks_per_slot * half as f64;
        let got = detection_slots(&out.bob, i as u64 * half, (i as u64 + 1) * half) as f64;
        assert!(
            (got - want).abs() < 4.0 * want.sqrt() + 0.01 * want,
            "step {i}: {got} click slots, model {want:.0}"
        );
    }
}

// Log-normal fading with unit mean: the click rate is the model averaged
// over the fading law (Gauss-Hermite), below the unfaded rate where the
// dead time saturates (Jensen).
#[test]
fn fading_averages_the_click_rate_over_the_lognormal_law() {
    use qkd_sim::physics::free_space::lognormal_quadrature;
    use qkd_sim::physics::link::ChannelSchedule;
    let slots = 1u64 << 24;
    let mut p = link(0.0, 1000.0, 0.0);
    p.physics_seed = seed_from_name("fading_averages_the_click_rate");
    let s2 = 0.5f64.ln_1p();
    p.schedule = Some(ChannelSchedule {
        step_slots: 1 << 13,
        mean: vec![0.05].into(),
        background: Vec::new().into(),
        log_variance: s2,
        rho: 0.5,
    });
    let (out, _, _) = run_link(p.clone(), slots).unwrap();
    let got = detection_slots(&out.bob, 0, slots) as f64;
    let mut inp = p.receiver_inputs();
    let mut want = 0.0;
    for (fade, w) in lognormal_quadrature(s2) {
        inp.transmittance = (0.05 * fade).min(1.0);
        want += w * expected_rates(&inp).clicks_per_slot;
    }
    want *= slots as f64;
    inp.transmittance = 0.05;
    let flat = expected_rates(&inp).clicks_per_slot * slots as f64;
    // 2048 fading steps: the sample mean of the fade has a spread of about
    // sqrt(0.5 / 2048 * (1 + rho) / (1 - rho)) ~ 2.7 %.
    assert!(
        (got / want - 1.0).abs() < 0.06,
        "{got} click slots, model {want:.0} (no fading {flat:.0})"
    );
    assert!(want < flat);
}
