// SPDX-License-Identifier: MIT OR Apache-2.0
//! Statistics of the Alice model (issue 2 item 4; gateware spec 4.1):
//! intensity, basis and bit frequencies within 5 sigma of the programmed
//! probabilities (binomial sigma = sqrt(N p (1 - p))).
//!
//! ```text
//!   SymbolStream / AliceModel (PRNG source) --symbols--> per-class counts
//!                                                         vs N * p +- 5 sigma
//! ```

use qkd_abi::regmap::alice::mode;
use qkd_abi::symbol::Symbol;
use qkd_model::alice::{AliceInputs, AliceModel, AliceRegs, RunConfig, SymbolStream, CMD_START};
use qkd_model::clicks::seed_from_name;

/// Counts of intensity class 0..=3, basis X, bit 1.
#[derive(Default, Debug)]
struct Counts {
    n: u64,
    class: [u64; 4],
    basis_x: u64,
    bit1: u64,
    /// Joint class x basis for the three protocol classes.
    joint: [[u64; 2]; 3],
}

impl Counts {
    fn add(&mut self, s: Symbol) {
        self.n += 1;
        let c = usize::from(s.code() >> 2);
        self.class[c] += 1;
        let b = usize::from(s.code() >> 1 & 1);
        self.basis_x += b as u64;
        self.bit1 += u64::from(s.code() & 1);
        if c < 3 {
            self.joint[c][b] += 1;
        }
    }
}

fn within_5_sigma(what: &str, count: u64, n: u64, p: f64) {
    let mean = n as f64 * p;
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    let z = (count as f64 - mean) / sigma.max(1e-9);
    assert!(
        z.abs() < 5.0,
        "{what}: {count} of {n}, expected {mean:.0} +- {sigma:.0} (z = {z:.2})"
    );
}

fn check(c: &Counts, r: &AliceRegs) {
    let t1 = f64::from(r.decoy_thresh_signal) / 65536.0;
    let t2 = f64::from(r.decoy_thresh_decoy) / 65536.0;
    let tz = f64::from(r.decoy_thresh_basis_z) / 65536.0;
    let probs = [t1, t2 - t1, 1.0 - t2];
    assert_eq!(c.class[3], 0, "no sync or blank slots in these runs");
    for (k, p) in probs.iter().enumerate() {
        within_5_sigma(&format!("intensity {k}"), c.class[k], c.n, *p);
        for (b, pb) in [tz, 1.0 - tz].iter().enumerate() {
            within_5_sigma(
                &format!("intensity {k} basis {b}"),
                c.joint[k][b],
                c.n,
                p * pb,
            );
        }
    }
    within_5_sigma("basis X", c.basis_x, c.n, 1.0 - tz);
    within_5_sigma("bit 1", c.bit1, c.n, 0.5);
}

fn regs(seed: u64, t1: u32, t2: u32, tz: u32) -> AliceRegs {
    let mut r = AliceRegs::reset();
    r.rng_ctrl = 1;
    r.rng_seed_lo = seed as u32;
    r.rng_seed_hi = (seed >> 32) as u32;
    r.alice_ctrl = mode::RUN; // SYNC_LOG2 = 0: every slot random
    r.decoy_thresh_signal = t1;
    r.decoy_thresh_decoy = t2;
    r.decoy_thresh_basis_z = tz;
    r
}

fn stream_counts(r: &AliceRegs, lanes: usize, n: u64) -> Counts {
    let cfg = RunConfig::from_regs(lanes, r).unwrap();
    let mut s = SymbolStream::new(cfg, r.seed()).unwrap();
    let mut buf = vec![Symbol(0); 4096];
    let mut c = Counts::default();
    while c.n < n {
        s.fill(&mut buf);
        buf.iter().for_each(|&x| c.add(x));
    }
    c
}

/// 10^7 symbols with the reset thresholds (P = 0.31 / 0.51 / 0.18, P(Z) = 0.86).
#[test]
fn ten_million_symbols_match_programmed_probabilities() {
    let r = regs(
        seed_from_name("ten_million_symbols_match_programmed_probabilities"),
        20316,
        53740,
        56361,
    );
    let c = stream_counts(&r, 4, 10_000_000);
    check(&c, &r);
}

/// Other thresholds and lane counts, 2 * 10^6 symbols each.
#[test]
fn other_thresholds_and_lanes() {
    for (lanes, t1, t2, tz) in [
        (1, 32768, 49152, 32768),
        (8, 6554, 13107, 62259),
        (2, 65535, 65535, 1),
    ] {
        let r = regs(
            seed_from_name(&format!("other_thresholds_{lanes}")),
            t1,
            t2,
            tz,
        );
        let c = stream_counts(&r, lanes, 2_000_000);
        check(&c, &r);
    }
}

/// The cycle-stepped model gives the same statistics (10^6 symbols).
#[test]
fn cycle_model_statistics() {
    let r = regs(
        seed_from_name("cycle_model_statistics"),
        20316,
        53740,
        56361,
    );
    let mut m = AliceModel::new(4).unwrap();
    m.regs = r;
    m.step(&AliceInputs {
        cmd: CMD_START,
        ..Default::default()
    });
    let mut c = Counts::default();
    for _ in 0..250_000 {
        let o = m.step(&AliceInputs::default());
        o.symbols[..4].iter().for_each(|&x| c.add(x));
    }
    check(&c, &r);
    assert_eq!(m.symbols_sent(), 1_000_000);
}
