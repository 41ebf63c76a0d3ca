// SPDX-License-Identifier: MIT OR Apache-2.0
//! Tests of the Verilator harness on a tiny hand-written core
//! (`tests/fixtures/tiny_core.v`).
//!
//! ```text
//!  Rust test ──AxiLiteMaster──▶ s_axil_* ┐
//!            ──set/get──────▶ wide_in/out ├─ tiny_core (Verilated, dlopen'ed)
//!  StreamSink ◀── m_axis_* (back-pressure)┘
//! ```
//! Checks: port discovery, wide ports, cache reuse, CSR read/write/SLVERR,
//! stream framing and handshake under every back-pressure pattern, VCD.

use qkd_abi::records::Record;
use qkd_sim::verilator::axi::LiteDone;
use qkd_sim::verilator::{
    AxiLiteMaster, AxiLitePorts, Backpressure, BuildOptions, Direction, LiteResp, Model, Sim,
    StreamSink,
};

const TINY: &str = include_str!("fixtures/tiny_core.v");

fn model() -> Model {
    Model::build(TINY, &BuildOptions::new("tiny_core")).expect("build tiny_core")
}

struct Bench {
    sim: Sim,
    lite: AxiLiteMaster,
    sink: StreamSink,
}

impl Bench {
    fn new(bp: Backpressure) -> Bench {
        let sim = model().instantiate().unwrap();
        let lite = AxiLiteMaster::new(AxiLitePorts::find(&sim, "s_axil_").unwrap());
        let sink = StreamSink::new(&sim, "m_axis_", bp).unwrap();
        Bench { sim, lite, sink }
    }
    fn cycle(&mut self) {
        self.lite.drive(&mut self.sim);
        self.sink.drive(&mut self.sim);
        self.sim.eval();
        self.lite.observe(&self.sim);
        self.sink.observe(&self.sim);
        self.sim.tick();
    }
    fn finish(&mut self) -> LiteDone {
        for _ in 0..100 {
            self.cycle();
            if let Some(d) = self.lite.take_done() {
                return d;
            }
        }
        panic!("AXI4-Lite transaction did not finish");
    }
    fn write(&mut self, addr: u32, data: u32) -> LiteResp {
        self.lite.start_write(addr, data);
        match self.finish() {
            LiteDone::Write(r) => r,
            d => panic!("{d:?}"),
        }
    }
    fn read(&mut self, addr: u32) -> (u32, LiteResp) {
        self.lite.start_read(addr);
        match self.finish() {
            LiteDone::Read(v, r) => (v, r),
            d => panic!("{d:?}"),
        }
    }
}

#[test]
fn ports_are_discovered_with_widths_and_the_cache_is_reused() {
    let m = model();
    let find = |n: &str| m.ports().iter().find(|p| p.name == n).unwrap().clone();
    assert_eq!(find("wide_in").width_bits, 100);
    assert_eq!(find("wide_out").dir, Direction::Output);
    assert_eq!(find("cycles").width_bits, 64);
    assert_eq!(find("s_axil_bresp").width_bits, 2);
    let again = qkd_sim::verilator::build::build(TINY, &BuildOptions::new("tiny_core")).unwrap();
    assert!(again.cached, "second build must come from the cache");
    assert!(again.elapsed.as_secs() < 2);
}

#[test]
fn wide_ports_and_clock_behave() {
    let mut sim = model().instantiate().unwrap();
    let wi = sim.port("wide_in").unwrap();
    let wo = sim.port("wide_out").unwrap();
    let cy = sim.port("cycles").unwrap();
    sim.set_words(wi, &[0x0123_4567, 0x89AB_CDEF, 0xDEAD_BEEF, 0xFFFF_FFFF]);
    sim.eval();
    // 100 bits: the top word keeps 4 bits.
    assert_eq!(
        sim.get_words(wo),
        vec![!0x0123_4567, !0x89AB_CDEF, !0xDEAD_BEEF, 0]
    );
    assert_eq!(sim.get(cy), 0);
    sim.tick_n(1000);
    sim.tick();
    assert_eq!(sim.get(cy), 1001);
    assert_eq!(sim.cycle(), 1001);
    assert!(sim.port("no_such_port").is_err());
}

#[test]
fn axi_lite_reads_writes_and_slverr() {
    let mut b = Bench::new(Backpressure::None);
    assert_eq!(b.read(0x4), (0x51CD_0001, LiteResp::Okay));
    assert_eq!(b.write(0x8, 0xCAFE_F00D), LiteResp::Okay);
    assert_eq!(b.read(0x8), (0xCAFE_F00D, LiteResp::Okay));
    assert_eq!(b.write(0x20, 1), LiteResp::SlvErr);
    assert_eq!(b.read(0x20).1, LiteResp::SlvErr);
    assert_eq!(b.read(0x0), (0, LiteResp::Okay));
}

fn stream_run(bp: Backpressure, cycles: u64) -> (Bench, Vec<(Record, u64)>) {
    let mut b = Bench::new(bp);
    b.sink.keep_words = true;
    assert_eq!(b.write(0x0, 1), LiteResp::Okay);
    for _ in 0..cycles {
        b.cycle();
    }
    if let Some(e) = &b.sink.error {
        panic!("stream error: {e}");
    }
    let recs = b.sink.take_records();
    (b, recs)
}

fn check_counting_stream(recs: &[(Record, u64)]) {
    assert!(!recs.is_empty());
    for (k, (r, _)) in recs.iter().enumerate() {
        let k = k as u64;
        match r {
            Record::Gap(g) => {
                assert_eq!(k % 4, 3, "GAP at {k}");
                assert_eq!((g.first_slot, g.lost_records, g.lost_slots), (k, 1, k));
            }
            Record::Detection(d) => {
                assert_ne!(k % 4, 3);
                assert_eq!(d.slot, k);
            }
            r => panic!("unexpected {r:?}"),
        }
    }
}

#[test]
fn stream_without_backpressure_transfers_every_cycle() {
    let (b, recs) = stream_run(Backpressure::None, 1000);
    check_counting_stream(&recs);
    // 4 records = 5 words per 5 cycles.
    assert!(b.sink.word_count >= 995, "{}", b.sink.word_count);
}

#[test]
fn stream_under_every_backpressure_pattern_keeps_framing() {
    let patterns = [
        Backpressure::Periodic {
            ready_cycles: 3,
            stall_cycles: 5,
        },
        Backpressure::Random {
            p_ready: 0.3,
            seed: 0x5EED_0001,
        },
        Backpressure::Bursts {
            mean_ready_cycles: 20.0,
            mean_stall_cycles: 50.0,
            seed: 0x5EED_0002,
        },
    ];
    for bp in patterns {
        let (b, recs) = stream_run(bp.clone(), 20_000);
        check_counting_stream(&recs);
        let frac = b.sink.ready_cycles as f64 / b.sink.cycles as f64;
        let want = match bp {
            Backpressure::Periodic { .. } => 3.0 / 8.0,
            Backpressure::Random { p_ready, .. } => p_ready,
            Backpressure::Bursts { .. } => 20.0 / 70.0,
            _ => unreachable!(),
        };
        assert!((frac - want).abs() < 0.05, "{bp:?}: ready fraction {frac}");
        // The core always has data: every ready cycle after the enable moves a word.
        assert!(b.sink.word_count as f64 > 0.95 * b.sink.ready_cycles as f64 - 20.0);
    }
    let (b, recs) = stream_run(Backpressure::Stall, 100);
    assert!(recs.is_empty() && b.sink.word_count == 0);
}

#[test]
fn vcd_trace_on_request() {
    let opts = BuildOptions::new("tiny_core").trace(true);
    let m = Model::build(TINY, &opts).unwrap();
    assert!(m.has_trace());
    let out = tempfile::tempdir().unwrap();
    let vcd = out.path().join("tiny.vcd");
    {
        let mut sim = m.instantiate().unwrap();
        if sim.vcd_path().is_none() {
            sim.trace_to(&vcd, 50).unwrap();
        }
        sim.tick_n(100);
    }
    let path = std::env::var_os("QKD_VCD")
        .map(std::path::PathBuf::from)
        .unwrap_or(vcd);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("$enddefinitions"));
    assert!(text.contains(" cycles "), "signal names in the VCD header");
    // Limited to 50 cycles = 100 half-cycle samples, plus the initial one.
    assert!(text.contains("\n#100\n") && !text.contains("\n#101\n"));
    // Without --trace, tracing is refused with a clear error.
    let mut plain = model().instantiate().unwrap();
    if !model().has_trace() {
        assert!(plain.trace_to(&out.path().join("x.vcd"), 10).is_err());
    }
}
