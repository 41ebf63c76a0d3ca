// SPDX-License-Identifier: MIT OR Apache-2.0
//! Simulation speed of the `qkd_alice` core, one workload, two simulators:
//! the generated Verilog Verilated through qkd-sim's harness, and
//! rust-hdl's own event simulator on the same `AliceTop` (4 lanes, PRNG
//! source, RUN mode, STATUS records, `tready` always high). Reports fabric
//! cycles/s, symbols/s (slots with `symbols_valid`) and the ratio.
//!
//! `cargo bench -p qkd-gateware --bench sim_speed` (env `QKD_BENCH_VTOR_CYCLES`,
//! `QKD_BENCH_RHDL_CYCLES` to change the run lengths).

#[path = "../tests/alice_harness/mod.rs"]
mod alice_harness;

use alice_harness::Alice4;
use qkd_abi::{GenParams, RegisterMap};
use qkd_sim::verilator::axi::LiteDone;
use qkd_sim::verilator::{
    AxiLiteMaster, AxiLitePorts, Backpressure, BuildOptions, Model, StreamSink,
};
use std::time::Instant;

const SETUP: [(&str, u32); 6] = [
    ("RNG_CTRL", 1),
    ("RNG_SEED_LO", 0x1234_5678),
    ("STREAM_CTRL", 12),
    ("ALICE_CTRL", 1 | (10 << 8)),
    ("DECOY_THRESH_SIGNAL", 0x9000),
    ("DECOY_THRESH_DECOY", 0xE000),
];

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Returns (cycles, symbols, seconds, records).
fn verilator_run(cycles: u64) -> (u64, u64, f64, usize) {
    let params = GenParams::alice(4);
    let map = RegisterMap::new(params);
    let t_build = Instant::now();
    let v = qkd_gateware::generate::verilog(&params).expect("generate");
    let model = Model::build(&v, &BuildOptions::new("qkd_alice").trace(false)).expect("verilate");
    eprintln!(
        "verilator: generate + build (or cache) {:.1} s",
        t_build.elapsed().as_secs_f64()
    );
    let mut sim = model.instantiate().expect("instantiate");
    let mut lite = AxiLiteMaster::new(AxiLitePorts::find(&sim, "s_axil_").unwrap());
    let mut sink = StreamSink::new(&sim, "m_axis_", Backpressure::None).unwrap();
    let sv = sim.port("symbols_valid").unwrap();
    let qv = sim.port("qrng_valid").unwrap();
    sim.set(qv, 0);
    let mut writes: Vec<(u32, u32)> = SETUP
        .iter()
        .map(|(n, v)| (map.register(n).unwrap().offset, *v))
        .collect();
    writes.push((map.register("ALICE_CMD").unwrap().offset, 1));
    for (addr, val) in writes {
        lite.start_write(addr, val);
        loop {
            lite.drive(&mut sim);
            sink.drive(&mut sim);
            sim.eval();
            lite.observe(&sim);
            sink.observe(&sim);
            sim.tick();
            if let Some(d) = lite.take_done() {
                assert!(matches!(d, LiteDone::Write(_)));
                break;
            }
        }
    }
    let t0 = Instant::now();
    let mut symbols = 0u64;
    for _ in 0..cycles {
        sink.drive(&mut sim);
        sim.eval();
        symbols += 4 * sim.get(sv);
        sink.observe(&sim);
        sim.tick();
    }
    (
        cycles,
        symbols,
        t0.elapsed().as_secs_f64(),
        sink.records.len(),
    )
}

fn rust_hdl_run(cycles: u64) -> (u64, u64, f64, usize) {
    let mut s = Alice4::new();
    for (n, v) in SETUP {
        s.write(n, v);
    }
    s.write("ALICE_CMD", 1);
    let sym0 = s.symbols.len();
    let t0 = Instant::now();
    s.run(cycles);
    let secs = t0.elapsed().as_secs_f64();
    (
        cycles,
        (s.symbols.len() - sym0) as u64,
        secs,
        s.records().len(),
    )
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent; keep it quick then.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n_v = env_u64(
        "QKD_BENCH_VTOR_CYCLES",
        if quick { 10_000 } else { 5_000_000 },
    );
    let n_r = env_u64("QKD_BENCH_RHDL_CYCLES", if quick { 200 } else { 5_000 });
    let (cv, sv, tv, rv) = verilator_run(n_v);
    let (cr, sr, tr, rr) = rust_hdl_run(n_r);
    let v_rate = sv as f64 / tv;
    let r_rate = sr as f64 / tr;
    println!("| simulator | fabric cycles | symbols | records | seconds | cycles/s | symbols/s |");
    println!("|-----------|---------------|---------|---------|---------|----------|-----------|");
    println!(
        "| Verilator 5 (harness, per-cycle FFI) | {cv} | {sv} | {rv} | {tv:.2} | {:.3e} | {v_rate:.3e} |",
        cv as f64 / tv
    );
    println!(
        "| rust-hdl 0.46 simulate() | {cr} | {sr} | {rr} | {tr:.2} | {:.3e} | {r_rate:.3e} |",
        cr as f64 / tr
    );
    println!("Verilator / rust-hdl speed ratio: {:.0}x", v_rate / r_rate);
}
