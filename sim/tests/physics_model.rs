// SPDX-License-Identifier: MIT OR Apache-2.0
//! The fast link's gateware semantics against qkd-model's cycle-stepped
//! golden models (written independently from docs/gateware-spec.md).
//!
//! ```text
//!  FastLink ──trace (raw clicks, ADC samples)──► render APD bits per cycle
//!     │                                               │
//!     │ Bob records (event-driven BobCore)            ▼
//!     └──────────────── == ◄──────────────── qkd_model::bob::BobModel
//!  FastLink Alice stream (Full mode) == qkd_model::alice::AliceModel records
//!  FastLink Alice stream (Sparse) ⊂ Full, and covers every DETECTION slot
//! ```
//! Same raw click pattern in, same records out; configurations stress the
//! dead time, alarms (after-gate, click fraction, no-dark, photocurrent),
//! STATUS boundaries, fiber delay and lane counts.

use qkd_abi::records::Record;
use qkd_model::alice::{AliceInputs, AliceModel};
use qkd_model::bob::{BobInputs, BobModel, BobParams, BobRegs};
use qkd_sim::physics::alice::AliceStreamMode;
use qkd_sim::physics::rng::seed_from_name;
use qkd_sim::physics::{AttackConfig, AttackKind, ChannelParams, FastLink, LinkParams};

/// Replay a trace through the cycle model; returns its records.
fn replay_bob(p: &LinkParams, trace: &qkd_sim::physics::Trace, slots: u64) -> Vec<Record> {
    let lanes = usize::from(p.lanes);
    let os = usize::from(p.bob.oversample);
    let mut m = BobModel::new(BobParams {
        lanes,
        oversample: os,
        detectors: 2,
    })
    .unwrap();
    let b = &p.bob;
    m.regs = BobRegs {
        rng_ctrl: 1,
        rng_seed_lo: p.bob_seed as u32,
        rng_seed_hi: (p.bob_seed >> 32) as u32,
        stream_ctrl: u32::from(b.status_interval_log2),
        bob_ctrl: u32::from(b.detector_enable),
        fiber_delay_slots: b.fiber_delay_slots,
        gate_window: u32::from(b.gate_start_bin) | u32::from(b.gate_end_bin) << 8,
        gate_dead_time_slots: b.dead_time_slots,
        gate_basis_thresh_z: u32::from(b.basis_thresh_z),
        aftergate_limit: b.aftergate_limit,
        aftergate_window_slots: b.aftergate_window_slots,
        photocurrent_threshold: u32::from(b.photocurrent_threshold),
        click_fraction_window_gates: b.click_fraction_window_gates,
        click_fraction_limit: b.click_fraction_limit,
        no_dark_gates: b.no_dark_gates,
        ..BobRegs::reset()
    };
    m.step(&BobInputs {
        cmd: qkd_model::bob::CMD_START,
        ..Default::default()
    });
    let c0 = p.bob_sync_cycle;
    let delay = u64::from(b.fiber_delay_slots);
    let last_cycle = c0 + (slots - 1 + delay) / lanes as u64;
    let (mut ci, mut ai) = (0, 0);
    let per = p.adc_period_cycles;
    for k in 0..=last_cycle {
        let mut apd = [0u128; 2];
        let mut adc = [None, None];
        if k >= c0 {
            let rel = k - c0;
            while ci < trace.clicks.len() {
                let (slot, rc) = trace.clicks[ci];
                let pos = slot + delay;
                if pos / lanes as u64 != rel {
                    break;
                }
                let l = (pos % lanes as u64) as usize;
                apd[usize::from(rc.detector)] |= 1u128 << (l * os + usize::from(rc.fine_bin));
                ci += 1;
            }
            if rel.is_multiple_of(per) {
                adc = [Some(p.adc_baseline_code), Some(p.adc_baseline_code)];
            }
            while ai < trace.adc.len() && trace.adc[ai].0 == rel {
                adc[usize::from(trace.adc[ai].1)] = Some(trace.adc[ai].2);
                ai += 1;
            }
        }
        m.step(&BobInputs {
            apd: &apd,
            sync_in: k == c0,
            adc: &adc,
            ..Default::default()
        });
    }
    assert_eq!(ci, trace.clicks.len(), "every traced click was replayed");
    m.take_records()
}

/// OR of AlarmsSeen over the STATUS records, and the sums of
/// (AfterGate, DeadTimeSuppressed, Invalid).
fn summary(recs: &[Record]) -> (u64, [u64; 3]) {
    use qkd_abi::records::CounterId;
    let mut seen = 0;
    let mut sums = [0; 3];
    for r in recs {
        if let Record::Status(s) = r {
            seen |= s.get(CounterId::AlarmsSeen).unwrap_or(0);
            sums[0] += s.get(CounterId::AfterGate).unwrap_or(0);
            sums[1] += s.get(CounterId::DeadTimeSuppressed).unwrap_or(0);
            sums[2] += s.get(CounterId::Invalid).unwrap_or(0);
        }
    }
    (seen, sums)
}

fn check_bob_against_model(p: LinkParams, slots: u64) -> (u64, [u64; 3]) {
    let mut link = FastLink::new(p.clone()).unwrap();
    link.enable_trace();
    link.run_until(slots);
    link.finish();
    let out = link.take_output();
    let trace = link.take_trace();
    // Pulses are one sample wide; a click in bin 0 right after a click in
    // the last bin of the previous slot would merge (no rising edge).
    for w in trace.clicks.windows(2) {
        let (a, b) = (w[0], w[1]);
        assert!(
            !(b.0 == a.0 + 1
                && a.1.detector == b.1.detector
                && b.1.fine_bin == 0
                && a.1.fine_bin + 1 == p.bob.oversample),
            "merged pulses in trace"
        );
    }
    let model = replay_bob(&p, &trace, slots);
    assert!(!trace.clicks.is_empty());
    for (i, (a, b)) in out.bob.iter().zip(model.iter()).enumerate() {
        assert_eq!(a, b, "record {i} differs");
    }
    assert_eq!(out.bob.len(), model.len(), "record count");
    summary(&model)
}

fn stressed(name: &str) -> LinkParams {
    let mut p = LinkParams {
        channel: ChannelParams::fiber(5.0, 0.2, 0.0),
        ..LinkParams::default()
    };
    p.detector.efficiency = 0.3;
    p.detector.dark_count_per_gate = 1e-3;
    p.detector.afterpulse_probability = 0.2;
    p.detector.afterpulse_time_constant_ns = 20.0;
    p.detector.jitter_rms_ps = 500.0; // jitter tails reach after-gate bins
    p.bob.dead_time_slots = 7;
    p.bob.status_interval_log2 = 9;
    p.bob.aftergate_window_slots = 4000;
    p.bob.aftergate_limit = 2;
    p.bob.click_fraction_window_gates = 256;
    p.bob.click_fraction_limit = 12;
    p.bob.no_dark_gates = 90;
    p.physics_seed = seed_from_name(name);
    p.alice_seed = seed_from_name(name) ^ 1;
    p.bob_seed = seed_from_name(name) ^ 2;
    p
}

#[test]
fn bob_records_equal_cycle_model_with_alarms() {
    let p = stressed("bob_records_equal_cycle_model_with_alarms");
    let (seen, [ag, dts, inv]) = check_bob_against_model(p, 40_000);
    use qkd_abi::regmap::bob::alarm;
    // The stress configuration exercises every click class and the
    // click-statistics alarms.
    let want = u64::from(alarm::AFTER_GATE | alarm::CLICK_FRACTION | alarm::NO_DARK);
    assert_eq!(seen & want, want, "seen {seen:#x}");
    assert!(ag > 0 && dts > 0 && inv > 0, "{ag} {dts} {inv}");
}

#[test]
fn bob_records_equal_cycle_model_with_fiber_delay_and_two_lanes() {
    let mut p = stressed("bob_records_equal_cycle_model_with_fiber_delay_and_two_lanes");
    p.lanes = 2;
    p.bob.lanes = 2;
    p.bob.fiber_delay_slots = 5;
    p.bob_sync_cycle = 3;
    p.bob.dead_time_slots = 0;
    check_bob_against_model(p, 30_016);
}

#[test]
fn bob_records_equal_cycle_model_under_pulsed_blinding_and_after_gate() {
    let mut p = stressed("bob_records_equal_cycle_model_under_pulsed_blinding");
    p.adc_period_cycles = 7;
    p.attack = AttackConfig {
        kind: AttackKind::PulsedBlinding {
            duty: 0.05,
            peak_adc_code: 0xF00,
            mean_adc_code: 0x100,
        },
        start_slot: 8_000,
        end_slot: 20_000,
    };
    let (seen, _) = check_bob_against_model(p.clone(), 30_016);
    assert_ne!(
        seen & u64::from(qkd_abi::regmap::bob::alarm::PHOTOCURRENT),
        0
    );
    p.attack = AttackConfig {
        kind: AttackKind::AfterGate,
        start_slot: 5_000,
        end_slot: 15_000,
    };
    check_bob_against_model(p, 30_016);
}

#[test]
fn bob_records_equal_cycle_model_eight_lanes_dead_time_attack() {
    let mut p = stressed("bob_records_equal_cycle_model_eight_lanes_dead_time_attack");
    p.lanes = 8;
    p.bob.lanes = 8;
    p.bob.oversample = 16;
    p.bob.gate_start_bin = 2;
    p.bob.gate_end_bin = 11;
    p.attack = AttackConfig::always(AttackKind::DeadTime {
        period_slots: 37,
        detector: 1,
    });
    check_bob_against_model(p, 20_032);
}

fn alice_model_records(p: &LinkParams, slots: u64) -> Vec<Record> {
    let lanes = usize::from(p.lanes);
    let mut m = AliceModel::new(lanes).unwrap();
    let (t1, t2, tz) = p.source.thresholds();
    m.regs.rng_ctrl = 1;
    m.regs.rng_seed_lo = p.alice_seed as u32;
    m.regs.rng_seed_hi = (p.alice_seed >> 32) as u32;
    m.regs.stream_ctrl = u32::from(p.alice_status_interval_log2);
    m.regs.alice_ctrl = 1 | u32::from(p.sync_log2) << 8;
    m.regs.decoy_thresh_signal = u32::from(t1);
    m.regs.decoy_thresh_decoy = u32::from(t2);
    m.regs.decoy_thresh_basis_z = u32::from(tz);
    m.step(&AliceInputs {
        cmd: qkd_model::alice::CMD_START,
        ..Default::default()
    });
    for _ in 0..slots / lanes as u64 {
        m.step(&AliceInputs::default());
    }
    m.take_records()
}

#[test]
fn alice_full_stream_equals_model_and_sparse_is_a_covering_subsequence() {
    let name = "alice_full_stream_equals_model_and_sparse_is_a_covering_subsequence";
    let mut p = stressed(name);
    p.sync_log2 = 10;
    p.alice_status_interval_log2 = 11;
    let slots = 1 << 14;
    p.alice_stream = AliceStreamMode::Full;
    let mut full = FastLink::new(p.clone()).unwrap();
    full.run_until(slots);
    let full = full.take_output();
    let model = alice_model_records(&p, slots);
    assert_eq!(full.alice, model);
    p.alice_stream = AliceStreamMode::Sparse;
    let mut sparse = FastLink::new(p).unwrap();
    sparse.run_until(slots);
    let sparse = sparse.take_output();
    // Bob's side does not depend on the mode.
    assert_eq!(sparse.bob, full.bob);
    // Subsequence of the full stream.
    let mut it = full.alice.iter();
    for r in &sparse.alice {
        assert!(
            it.any(|f| f == r),
            "sparse record {r:?} not in order in the full stream"
        );
    }
    // Every DETECTION slot is covered by a kept ALICE_SYMBOLS record.
    let covered: std::collections::HashSet<u64> = sparse
        .alice
        .iter()
        .filter_map(|r| {
            if let Record::AliceSymbols(a) = r {
                Some(a.start_slot / 64)
            } else {
                None
            }
        })
        .collect();
    let mut n = 0;
    for r in &sparse.bob {
        if let Record::Detection(d) = r {
            assert!(
                covered.contains(&(d.slot / 64)),
                "slot {} uncovered",
                d.slot
            );
            n += 1;
        }
    }
    assert!(n > 100);
    assert!(sparse.alice.len() < full.alice.len());
}

#[test]
fn alice_symbols_match_model_symbol_at() {
    use qkd_model::alice::{symbol_at, AliceRegs, RunConfig};
    let p = LinkParams {
        alice_seed: seed_from_name("alice_symbols_match_model_symbol_at"),
        ..LinkParams::default()
    };
    let (t1, t2, tz) = p.source.thresholds();
    let regs = AliceRegs {
        rng_ctrl: 1,
        alice_ctrl: 1 | u32::from(p.sync_log2) << 8,
        decoy_thresh_signal: u32::from(t1),
        decoy_thresh_decoy: u32::from(t2),
        decoy_thresh_basis_z: u32::from(tz),
        ..AliceRegs::reset()
    };
    let cfg = RunConfig::from_regs(usize::from(p.lanes), &regs).unwrap();
    let mut link = FastLink::new(p.clone()).unwrap();
    let mut rng = qkd_sim::physics::rng::SimRng::new(7);
    let mut slot = 0u64;
    for _ in 0..300 {
        slot += rng.below(5_000);
        assert_eq!(
            link.alice_symbol(slot),
            symbol_at(&cfg, p.alice_seed, slot),
            "slot {slot}"
        );
    }
}
