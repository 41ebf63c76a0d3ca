// SPDX-License-Identifier: MIT OR Apache-2.0
//! The QRNG health tests (`qkd_gateware::common::health`, both timings)
//! against the SP 800-90B golden model `qkd_model::health`, cycle by cycle:
//! seeded sample streams over a three-word alphabet (so runs and window
//! matches are frequent), gaps in `valid`, random clears, small cutoffs and
//! windows; and 65536 equal samples, which reach the 16-bit limits of the
//! APT count (the last sample of a 65535-sample window) and of the RCT run
//! count (saturated).
//!
//! ```text
//!  sample, valid, clear ──► HealthTests ──► rct_fail, apt_fail
//!                       └─► model::HealthTests::sample (reset on clear)
//! ```

mod bob_harness;

use bob_harness::{seed_of, settle, SplitMix64};
use qkd_gateware::common::health::HealthTests;
use qkd_model::health::{HealthParams, HealthResult, HealthTests as Golden};
use rust_hdl::prelude::*;

struct Step {
    sample: u64,
    valid: bool,
    clear: bool,
}

/// Runs `steps` through the block and returns the fail outputs that belong
/// to each step (the next cycle's outputs when `pipelined`).
fn run_block(pipelined: bool, p: &HealthParams, steps: &[Step]) -> Vec<HealthResult> {
    let mut uut = if pipelined {
        HealthTests::pipelined()
    } else {
        HealthTests::default()
    };
    uut.clock.connect();
    uut.sample.connect();
    uut.valid.connect();
    uut.clear.connect();
    uut.rct_cutoff.connect();
    uut.apt_window.connect();
    uut.apt_cutoff.connect();
    uut.connect_all();
    uut.rct_cutoff.next = u64::from(p.rct_cutoff).into();
    uut.apt_window.next = u64::from(p.apt_window).into();
    uut.apt_cutoff.next = u64::from(p.apt_cutoff).into();
    let edge = |uut: &mut HealthTests| {
        uut.clock.next = true.into();
        settle(uut);
        uut.clock.next = false.into();
        settle(uut);
    };
    // the cutoffs pass the input registers and the registered compares
    // (two cycles); start from a clear
    uut.clear.next = true;
    uut.valid.next = false;
    for _ in 0..3 {
        settle(&mut uut);
        edge(&mut uut);
    }
    let mut out = Vec::with_capacity(steps.len());
    let lag = usize::from(pipelined);
    for k in 0..steps.len() + lag {
        let s = steps.get(k).unwrap_or(&Step {
            sample: 0,
            valid: false,
            clear: false,
        });
        uut.sample.next = s.sample.into();
        uut.valid.next = s.valid;
        uut.clear.next = s.clear;
        settle(&mut uut);
        if k >= lag {
            out.push(HealthResult {
                rct_fail: uut.rct_fail.val(),
                apt_fail: uut.apt_fail.val(),
            });
        }
        edge(&mut uut);
    }
    out
}

/// What SP 800-90B says for each step (no result for untested samples).
fn run_golden(p: &HealthParams, steps: &[Step]) -> Vec<HealthResult> {
    let mut g = Golden::new();
    steps
        .iter()
        .map(|s| {
            if s.clear {
                // the clearing cycle's sample is tested against the old
                // state, then the state resets (AMBIGUITIES 1: the failure
                // wins over the clear)
                let r = if s.valid {
                    g.sample(s.sample, p)
                } else {
                    HealthResult::default()
                };
                g = Golden::new();
                r
            } else if s.valid {
                g.sample(s.sample, p)
            } else {
                HealthResult::default()
            }
        })
        .collect()
}

fn check(name: &str, p: &HealthParams, steps: &[Step]) {
    let want = run_golden(p, steps);
    for pipelined in [false, true] {
        let got = run_block(pipelined, p, steps);
        if let Some(k) = (0..steps.len()).find(|&k| got[k] != want[k]) {
            panic!(
                "{name} (pipelined {pipelined}, {p:?}): step {k} (sample {:#x}, valid {}, clear {}): block {:?}, model {:?}",
                steps[k].sample, steps[k].valid, steps[k].clear, got[k], want[k]
            );
        }
    }
}

#[test]
fn random_streams_match_the_sp800_90b_model() {
    let mut rng = SplitMix64(seed_of("random_streams_match_the_sp800_90b_model"));
    let mut next = move || rng.next_u64();
    let alphabet = [0u64, 0xDEAD_BEEF_0123_4567, u64::MAX];
    let mut failures = HealthResult::default();
    for run in 0..24 {
        let p = HealthParams {
            rct_cutoff: (next() % 7) as u32,
            apt_window: (next() % 24) as u32,
            apt_cutoff: (next() % 14) as u32,
        };
        let steps: Vec<Step> = (0..600)
            .map(|_| {
                let r = next();
                Step {
                    sample: alphabet[(r % 3) as usize],
                    valid: (r >> 8) % 10 < 8,
                    clear: (r >> 16) % 100 == 0,
                }
            })
            .collect();
        for w in run_golden(&p, &steps) {
            failures.rct_fail |= w.rct_fail;
            failures.apt_fail |= w.apt_fail;
        }
        check(&format!("run {run}"), &p, &steps);
    }
    assert!(
        failures.rct_fail && failures.apt_fail,
        "the streams must make both tests fail somewhere"
    );
}

#[test]
fn full_window_of_equal_samples_and_saturated_run_count() {
    // One window of 65535 equal samples: the APT count reaches 0xFFFF on
    // the last one, where the cutoff 0xFFFF is met; one more equal sample
    // saturates the RCT's 16-bit run count (it still fails) and opens a
    // new APT window.
    let p = HealthParams {
        rct_cutoff: 0xFFFF,
        apt_window: 0xFFFF,
        apt_cutoff: 0xFFFF,
    };
    let mut steps: Vec<Step> = (0..0xFFFF)
        .map(|_| Step {
            sample: 7,
            valid: true,
            clear: false,
        })
        .collect();
    steps.push(Step {
        sample: 7,
        valid: true,
        clear: false,
    });
    let want = run_golden(&p, &steps);
    assert!(want[0xFFFE].apt_fail && want[0xFFFE].rct_fail);
    check("saturation", &p, &steps);
}
