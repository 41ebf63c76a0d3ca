// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared Verilator co-simulation bench for `qkd_alice` / `qkd_bob`: the
//! Verilog comes from `qkd_gateware::generate::verilog` at test time and is
//! Verilated through qkd-sim's cached harness.
//!
//! ```text
//!  Stimulus::drive ──► role inputs ┐
//!  AxiLiteMaster   ──► s_axil_*    ├─ Verilated qkd_<role> ──► m_axis_* ──► StreamSink (back-pressure)
//!  Stimulus::observe ◄─ role outputs┘
//! ```
//! A cycle: drive everything, `eval`, observe everything, rising edge.

#![allow(dead_code)]

use qkd_abi::{GenParams, RegisterMap};
use qkd_sim::verilator::axi::LiteDone;
use qkd_sim::verilator::{
    AxiLiteMaster, AxiLitePorts, Backpressure, BuildOptions, LiteResp, Model, Sim, StreamSink,
};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The Verilated model for `params`, built once per test process.
pub fn model_for(params: GenParams) -> Model {
    static MODELS: OnceLock<Mutex<HashMap<String, Model>>> = OnceLock::new();
    let key = format!("{params:?}");
    let mut m = MODELS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(x) = m.get(&key) {
        return x.clone();
    }
    let t0 = std::time::Instant::now();
    let v = qkd_gateware::generate::verilog(&params).expect("generate Verilog");
    let top = format!("qkd_{}", params.role.name());
    let model = Model::build(&v, &BuildOptions::new(&top))
        .unwrap_or_else(|e| panic!("Verilating {top}: {e}"));
    eprintln!(
        "{top} {params:?}: generated and Verilated (or cached) in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    m.insert(key, model.clone());
    model
}

/// Role-specific inputs and outputs, called every cycle.
pub trait Stimulus {
    /// Set the role's inputs for this cycle.
    fn drive(&mut self, sim: &mut Sim);
    /// Read the role's outputs after `eval` (`cycle` = `sim.cycle()`).
    fn observe(&mut self, sim: &Sim);
}

/// Bench: the Verilated core, AXI4-Lite master and AXI4-Stream sink.
pub struct Bench {
    /// The core.
    pub sim: Sim,
    /// CSR master.
    pub lite: AxiLiteMaster,
    /// Record sink.
    pub sink: StreamSink,
    /// Register map.
    pub map: RegisterMap,
}

impl Bench {
    /// Instantiate the core for `params` with back-pressure `bp`.
    pub fn new(params: GenParams, bp: Backpressure) -> Bench {
        let sim = model_for(params).instantiate().expect("instantiate");
        let lite =
            AxiLiteMaster::new(AxiLitePorts::find(&sim, "s_axil_").expect("AXI4-Lite ports"));
        let sink = StreamSink::new(&sim, "m_axis_", bp).expect("AXI4-Stream ports");
        Bench {
            sim,
            lite,
            sink,
            map: RegisterMap::new(params),
        }
    }

    /// One cycle.
    #[inline]
    pub fn cycle(&mut self, st: &mut impl Stimulus) {
        st.drive(&mut self.sim);
        self.lite.drive(&mut self.sim);
        self.sink.drive(&mut self.sim);
        self.sim.eval();
        st.observe(&self.sim);
        self.lite.observe(&self.sim);
        self.sink.observe(&self.sim);
        self.sim.tick();
    }

    fn finish(&mut self, st: &mut impl Stimulus, what: &str) -> LiteDone {
        for _ in 0..1000 {
            self.cycle(st);
            if let Some(d) = self.lite.take_done() {
                return d;
            }
        }
        panic!("AXI4-Lite {what} did not complete in 1000 cycles");
    }

    fn offset(&self, name: &str) -> u32 {
        self.map
            .register(name)
            .unwrap_or_else(|| panic!("no register {name}"))
            .offset
    }

    /// Write a register by name; returns the cycle (`sim.cycle()`) of the
    /// cycle in which the response arrived.
    pub fn write(&mut self, name: &str, value: u32, st: &mut impl Stimulus) -> u64 {
        let addr = self.offset(name);
        self.lite.start_write(addr, value);
        match self.finish(st, name) {
            LiteDone::Write(LiteResp::Okay) => self.sim.cycle(),
            d => panic!("write {name}: {d:?}"),
        }
    }

    /// Read a register by name.
    pub fn read(&mut self, name: &str, st: &mut impl Stimulus) -> u32 {
        let addr = self.offset(name);
        self.lite.start_read(addr);
        match self.finish(st, name) {
            LiteDone::Read(v, LiteResp::Okay) => v,
            d => panic!("read {name}: {d:?}"),
        }
    }
}

/// SplitMix64 for stimulus (seeded from the test name).
pub fn splitmix(state: &mut u64) -> u64 {
    qkd_sim::verilator::axi::splitmix64(state)
}
