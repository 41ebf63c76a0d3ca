// SPDX-License-Identifier: MIT OR Apache-2.0
//! Throughput of the Alice model: `cargo run --release -p qkd-model --example alice_speed`.

use qkd_abi::symbol::Symbol;
use qkd_model::alice::{AliceInputs, AliceModel, AliceRegs, RunConfig, SymbolStream, CMD_START};
use std::time::Instant;

fn main() {
    let mut r = AliceRegs::reset();
    r.rng_ctrl = 1;
    let cfg = RunConfig::from_regs(4, &r).expect("4 lanes");
    let mut s = SymbolStream::new(cfg, 1).expect("stream");
    let mut buf = vec![Symbol(0); 1 << 16];
    let n = 200u64 << 20;
    let t = Instant::now();
    let mut acc = 0u64;
    for _ in 0..(n >> 16) {
        s.fill(&mut buf);
        acc += u64::from(buf[17].0);
    }
    let dt = t.elapsed().as_secs_f64();
    println!("SymbolStream: {:.1} M slots/s ({acc})", n as f64 / dt / 1e6);

    let mut m = AliceModel::new(4).expect("4 lanes");
    m.regs = r;
    m.step(&AliceInputs {
        cmd: CMD_START,
        ..Default::default()
    });
    let cycles = 20_000_000u64;
    let t = Instant::now();
    for k in 0..cycles {
        let o = m.step(&AliceInputs::default());
        acc += u64::from(o.symbols[0].0);
        if k % 4096 == 0 {
            m.take_records();
        }
    }
    let dt = t.elapsed().as_secs_f64();
    println!(
        "AliceModel::step: {:.1} M slots/s ({acc})",
        (cycles * 4) as f64 / dt / 1e6
    );
}
