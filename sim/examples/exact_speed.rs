// SPDX-License-Identifier: MIT OR Apache-2.0
//! Speed of the exact mode (`sim+verilator:`): the Verilated `qkd_alice`
//! and `qkd_bob` with the physics between them ([`ExactLink`]), default
//! link, run in chunks of 2^22 slots as the `sim+verilator:` device does,
//! timed by this thread's CPU time (the link runs in one thread).
//!
//! ```text
//! qkd-gateware generate --role both --out DIR
//! QKD_VERILOG_DIR=DIR cargo run --release -p qkd-sim --example exact_speed -- [PULSES] [REPEATS]
//! ```
//!
//! Prints one line per repeat (pulses/s and core cycles/s per CPU second,
//! Alice's and Bob's cycles added as `run --json` counts them) and the
//! medians. Verilation (or the cache lookup) and START are not timed.

use qkd_sim::physics::LinkParams;
use qkd_sim::verilator::{ExactLink, ExactVerilog};

const CHUNK_SLOTS: u64 = 1 << 22;

fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let pulses: u64 = args.next().map_or(1 << 22, |s| s.parse().expect("PULSES"));
    let repeats: usize = args.next().map_or(3, |s| s.parse().expect("REPEATS"));
    let verilog = ExactVerilog::locate(None).expect("QKD_VERILOG_DIR");
    let (mut pps, mut cps) = (Vec::new(), Vec::new());
    for r in 0..repeats {
        let mut link = ExactLink::new(LinkParams::default(), &verilog).expect("exact link");
        let t0 = thread_cpu_seconds();
        let mut end = 0;
        let mut records = 0usize;
        while end < pulses {
            end = (end + CHUNK_SLOTS).min(pulses);
            link.run_until(end).expect("run");
            let o = link.take_output();
            records += o.alice.len() + o.bob.len();
        }
        link.finish().expect("finish");
        let o = link.take_output();
        records += o.alice.len() + o.bob.len();
        let cpu = thread_cpu_seconds() - t0;
        let cycles = 2 * link.bob_cycles();
        let (p, c) = (pulses as f64 / cpu, cycles as f64 / cpu);
        println!(
            "run {r}: {pulses} pulses, {cycles} core cycles, {records} records, CPU {cpu:.3} s: \
             {p:.3e} pulses/s, {c:.3e} core cycles/s"
        );
        pps.push(p);
        cps.push(c);
    }
    println!(
        "median: {:.3e} pulses/s, {:.3e} core cycles/s per CPU second",
        median(pps),
        median(cps)
    );
}
