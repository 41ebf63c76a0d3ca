// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob model under random and attack click patterns (gateware spec 5).
//!
//! ```text
//!   ClickGen --apd/adc--> BobModel --records--> checks
//!                           |  last_clicks()
//!                           +--> dead-time / accounting / alarm properties
//! ```
//! Checks: the accounting identity in every STATUS, DETECTION records equal
//! the accepted and invalid clicks, the common dead time spacing, and that
//! each attack pattern raises its alarm.

use proptest::prelude::*;
use qkd_abi::records::{CounterId, Record};
use qkd_abi::Role;
use qkd_model::bob::{
    alarm, status_accounting, BobInputs, BobModel, BobParams, BobRegs, ClickClass, ClickEvent,
    CMD_START,
};
use qkd_model::clicks::{seed_from_name, ClickConfig, ClickGen, Episodes};
use qkd_model::stream_check::{apply_drops, check_stream};

struct Run {
    records: Vec<Record>,
    clicks: Vec<ClickEvent>,
    live: Vec<u32>,
    model: BobModel,
}

fn run(p: BobParams, regs: BobRegs, mut gen: ClickGen, cycles: usize, sync_at: usize) -> Run {
    let mut m = BobModel::new(p).unwrap();
    m.regs = regs;
    m.step(&BobInputs {
        cmd: CMD_START,
        ..Default::default()
    });
    let mut clicks = vec![];
    let mut live = vec![];
    for c in 0..cycles {
        let s = gen.next_cycle();
        m.step(&BobInputs {
            apd: &s.apd[..p.detectors],
            adc: &s.adc[..p.detectors],
            sync_in: c == sync_at,
            ..Default::default()
        });
        clicks.extend_from_slice(m.last_clicks());
        live.push(m.alarms_live());
    }
    Run {
        records: m.take_records(),
        clicks,
        live,
        model: m,
    }
}

fn base_regs(dead: u32, status_log2: u32) -> BobRegs {
    let mut r = BobRegs::reset();
    r.rng_ctrl = 1;
    r.rng_seed_lo = 0x1234;
    r.stream_ctrl = status_log2;
    r.gate_window = 6 << 8 | 1;
    r.gate_dead_time_slots = dead;
    r.no_dark_gates = 1 << 20;
    r
}

fn check_invariants(r: &Run, dead: u64) {
    // Accounting identity in every STATUS.
    for rec in &r.records {
        if let Record::Status(s) = rec {
            let (raw, cls) = status_accounting(s);
            assert_eq!(raw, cls, "accounting identity in {s:?}");
        }
    }
    // DETECTION records are exactly the accepted and invalid clicks, in order.
    let dets: Vec<(u64, u8, u8, bool)> = r
        .records
        .iter()
        .filter_map(|x| match x {
            Record::Detection(d) => Some((d.slot, d.detector, d.fine_bin, d.invalid)),
            _ => None,
        })
        .collect();
    let want: Vec<(u64, u8, u8, bool)> = r
        .clicks
        .iter()
        .filter(|c| matches!(c.class, ClickClass::Accepted | ClickClass::Invalid))
        .map(|c| {
            (
                c.slot,
                c.detector,
                c.fine_bin,
                c.class == ClickClass::Invalid,
            )
        })
        .collect();
    assert_eq!(dets, want);
    // Common dead time: a non-suppressed click's slot is more than D after the
    // previous non-suppressed click's slot (or the same slot); suppressed
    // clicks lie within D slots after one.
    let mut last: Option<u64> = None;
    for c in &r.clicks {
        match (c.class, last) {
            (ClickClass::DeadTimeSuppressed, Some(s)) => {
                assert!(c.slot > s && c.slot <= s + dead, "{c:?} after {s}")
            }
            (ClickClass::DeadTimeSuppressed, None) => {
                panic!("suppressed click {c:?} without a previous click")
            }
            (_, Some(s)) if c.slot != s => {
                assert!(c.slot > s + dead, "{c:?} within dead time of {s}")
            }
            _ => {}
        }
        if c.class != ClickClass::DeadTimeSuppressed {
            last = Some(c.slot);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        rng_seed: proptest::test_runner::RngSeed::Fixed(qkd_model::clicks::seed_from_name("random_patterns_keep_the_invariants")),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]
    #[test]
    fn random_patterns_keep_the_invariants(
        seed in any::<u64>(),
        lanes in prop::sample::select(vec![1usize, 2, 4, 8]),
        os in prop::sample::select(vec![4usize, 8, 16]),
        det in 1usize..=4,
        dead in 0u32..20,
        prob in 0.0f64..0.3,
        ag in 0.0f64..0.5,
        delay in 0u32..11,
    ) {
        let p = BobParams { lanes, oversample: os, detectors: det };
        let mut regs = base_regs(dead, 6);
        regs.fiber_delay_slots = delay;
        regs.gate_window = ((os as u32 - 2) << 8) | 1;
        regs.aftergate_limit = 3;
        regs.aftergate_window_slots = 64;
        let mut cfg = ClickConfig::quiet(lanes, os, det);
        cfg.click_prob_per_slot = prob;
        cfg.after_gate_fraction = ag;
        cfg.gate_bins = (1, os as u8 - 2);
        cfg.collision_prob = 0.3;
        cfg.collision_span_slots = dead + 2;
        cfg.pulse_width_samples = (1, os as u32 + 2);
        cfg.adc_period_cycles = 7;
        cfg.blinding = Episodes { start_prob_per_cycle: 0.01, len_cycles: (5, 50) };
        cfg.no_dark = Episodes { start_prob_per_cycle: 0.01, len_cycles: (5, 50) };
        cfg.adc_step = Episodes { start_prob_per_cycle: 0.005, len_cycles: (1, 20) };
        let r = run(p, regs, ClickGen::new(cfg, seed).unwrap(), 600, 3);
        check_invariants(&r, u64::from(dead));
        let c = r.model.counters();
        prop_assert_eq!(
            c.clicks.iter().sum::<u64>(),
            c.accepted + c.after_gate + c.dead_time_suppressed + c.invalid
        );
    }
}

#[test]
fn blinding_episode_raises_click_fraction_and_invalidates() {
    let p = BobParams::default();
    let mut regs = base_regs(0, 8);
    regs.click_fraction_window_gates = 256;
    regs.click_fraction_limit = 40;
    let mut cfg = ClickConfig::quiet(4, 8, 2);
    cfg.gate_bins = (1, 6);
    cfg.pulse_width_samples = (1, 2);
    let mut g = ClickGen::new(cfg, seed_from_name("blinding_episode")).unwrap();
    g.force_blinding(2000);
    let r = run(p, regs, g, 1000, 0);
    assert!(r.live.iter().any(|l| l & alarm::CLICK_FRACTION != 0));
    assert_ne!(r.model.alarms() & alarm::CLICK_FRACTION, 0);
    assert!(
        r.clicks
            .iter()
            .filter(|c| c.class == ClickClass::Invalid)
            .count()
            > 2000
    );
    check_invariants(&r, 0);
    let seen = r.records.iter().any(|x| matches!(x, Record::Status(s) if s.get(CounterId::AlarmsSeen).unwrap_or(0) as u32 & alarm::CLICK_FRACTION != 0));
    assert!(seen);
}

#[test]
fn no_dark_episode_raises_no_dark() {
    let p = BobParams::default();
    let mut regs = base_regs(3, 8);
    regs.no_dark_gates = 400;
    let mut cfg = ClickConfig::quiet(4, 8, 2);
    cfg.click_prob_per_slot = 0.05;
    let mut g = ClickGen::new(cfg, seed_from_name("no_dark_episode")).unwrap();
    let mut m_live = vec![];
    let first = run(p, regs, g.clone(), 300, 0);
    assert!(
        first.live.iter().all(|l| l & alarm::NO_DARK == 0),
        "dark counts keep NO_DARK off"
    );
    g.force_no_dark(200);
    let r = run(p, regs, g, 300, 0);
    m_live.extend(r.live.iter().copied());
    // 400 gates = 100 cycles without a click.
    let first_live = m_live.iter().position(|l| l & alarm::NO_DARK != 0).unwrap();
    assert_eq!(first_live, 100);
    check_invariants(&r, 3);
}

#[test]
fn photocurrent_step_flags_following_detections_invalid() {
    let p = BobParams::default();
    let regs = base_regs(0, 7);
    let mut cfg = ClickConfig::quiet(4, 8, 2);
    cfg.click_prob_per_slot = 0.1;
    cfg.adc_period_cycles = 1;
    let mut g = ClickGen::new(cfg, seed_from_name("photocurrent_step")).unwrap();
    // 100 quiet cycles, then a step for the rest.
    let mut m = BobModel::new(p).unwrap();
    m.regs = regs;
    m.step(&BobInputs {
        cmd: CMD_START,
        ..Default::default()
    });
    for c in 0..300 {
        if c == 100 {
            g.force_adc_step(1000);
        }
        let s = g.next_cycle();
        m.step(&BobInputs {
            apd: &s.apd[..2],
            adc: &s.adc[..2],
            sync_in: c == 0,
            ..Default::default()
        });
        for k in m.last_clicks() {
            if k.class == ClickClass::AfterGate || k.class == ClickClass::DeadTimeSuppressed {
                continue;
            }
            // The step sample arrives in cycle 100; live from cycle 101.
            let want = if c > 100 {
                ClickClass::Invalid
            } else {
                ClickClass::Accepted
            };
            assert_eq!(k.class, want, "cycle {c}");
        }
    }
    let recs = m.take_records();
    let pmax = recs.iter().filter_map(|x| match x {
        Record::Status(s) => s.get(CounterId::PhotocurrentMax(0)),
        _ => None,
    });
    assert!(pmax.clone().any(|v| v == 0xC00) && pmax.clone().any(|v| v < 0x400));
}

#[test]
fn after_gate_train_raises_alarm_without_detections_from_it() {
    let p = BobParams::default();
    let mut regs = base_regs(2, 8);
    regs.aftergate_limit = 5;
    regs.aftergate_window_slots = 400;
    let mut cfg = ClickConfig::quiet(4, 8, 2);
    cfg.click_prob_per_slot = 0.02;
    cfg.after_gate_fraction = 1.0;
    cfg.gate_bins = (1, 6);
    cfg.pulse_width_samples = (1, 1);
    let r = run(
        p,
        regs,
        ClickGen::new(cfg, seed_from_name("after_gate_train")).unwrap(),
        2000,
        0,
    );
    assert!(r.live.iter().any(|l| l & alarm::AFTER_GATE != 0));
    assert!(
        !r.records.iter().any(|x| matches!(x, Record::Detection(_))),
        "after-gate clicks never become detections"
    );
    assert!(
        r.clicks
            .iter()
            .filter(|c| c.class == ClickClass::AfterGate)
            .count()
            > 50
    );
    check_invariants(&r, 2);
}

/// The stream checker accepts the model's own stream with GAP-replaced runs
/// (including a run that starts with the EPOCH) and rejects a silent drop.
#[test]
fn model_stream_with_drops_passes_the_checker() {
    let p = BobParams::default();
    let regs = base_regs(5, 6);
    let mut cfg = ClickConfig::quiet(4, 8, 2);
    cfg.click_prob_per_slot = 0.05;
    let r = run(
        p,
        regs,
        ClickGen::new(cfg, seed_from_name("model_stream_with_drops")).unwrap(),
        2000,
        2,
    );
    let m = &r.records;
    assert!(m.len() > 300);
    let seed = seed_from_name("drop pattern");
    let drop: Vec<bool> = (0..m.len())
        .map(|i| i < 3 || (seed.rotate_left(i as u32 % 64) & 7) == 0)
        .collect();
    let e = apply_drops(m, &drop, Role::Bob, true);
    let rep = check_stream(m, &e, Role::Bob).unwrap();
    assert_eq!(rep.removed, drop.iter().filter(|&&d| d).count());
    let mut bad = e.clone();
    let i = bad
        .iter()
        .rposition(|x| matches!(x, Record::Detection(_)))
        .unwrap();
    bad.remove(i);
    assert!(check_stream(m, &bad, Role::Bob).is_err());
}
