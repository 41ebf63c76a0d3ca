// SPDX-License-Identifier: MIT OR Apache-2.0
//! Throughput of the Bob model with random clicks:
//! `cargo run --release -p qkd-model --example bob_speed`.

use qkd_model::bob::{BobInputs, BobModel, BobParams, BobRegs, CMD_START};
use qkd_model::clicks::{ClickConfig, ClickGen};
use std::time::Instant;

fn main() {
    let p = BobParams::default();
    let mut regs = BobRegs::reset();
    regs.rng_ctrl = 1;
    let mut cfg = ClickConfig::quiet(p.lanes, p.oversample, p.detectors);
    cfg.click_prob_per_slot = 0.02;
    cfg.adc_period_cycles = 16;
    let mut g = ClickGen::new(cfg, 1).expect("generator");
    let cycles = 2_000_000usize;
    let stim: Vec<_> = (0..cycles).map(|_| g.next_cycle()).collect();
    let mut m = BobModel::new(p).expect("model");
    m.regs = regs;
    m.step(&BobInputs {
        cmd: CMD_START,
        ..Default::default()
    });
    let t = Instant::now();
    let mut n = 0usize;
    for (k, s) in stim.iter().enumerate() {
        m.step(&BobInputs {
            apd: &s.apd[..2],
            adc: &s.adc[..2],
            sync_in: k == 0,
            ..Default::default()
        });
        if k % 4096 == 0 {
            n += m.take_records().len();
        }
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "BobModel::step: {:.2} M cycles/s ({:.1} M slots/s, {n} records)",
        cycles as f64 / dt / 1e6,
        (cycles * p.lanes) as f64 / dt / 1e6
    );
}
