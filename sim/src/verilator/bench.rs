// SPDX-License-Identifier: MIT OR Apache-2.0
//! One Verilated core on a bench: the core ([`Sim`]), an AXI4-Lite master
//! on `s_axil_*`, an AXI4-Stream sink on `m_axis_*` and the role's qkd-abi
//! register map, with blocking register access by name (for configuration
//! before START) and a per-cycle step that leaves the core's other inputs
//! to the caller. The cycle order is the one of [`super::axi`]: drive,
//! `eval`, observe, rising edge (AMBA AXI4-Lite, ARM IHI 0022).

use super::axi::LiteDone;
use super::{AxiLiteMaster, AxiLitePorts, Backpressure, Error, LiteResp, Model, Sim, StreamSink};
use qkd_abi::{GenParams, RegisterMap};

/// Cycles a blocking register access may take before it is an error.
pub const BUS_TIMEOUT_CYCLES: u64 = 1000;

/// A Verilated core with its bus models.
#[derive(Debug)]
pub struct CoreBench {
    /// The core.
    pub sim: Sim,
    /// CSR master (`s_axil_*`).
    pub lite: AxiLiteMaster,
    /// Record sink (`m_axis_*`).
    pub sink: StreamSink,
    /// The register map of the generation parameters.
    pub map: RegisterMap,
}

impl CoreBench {
    /// A new instance of `model`, whose register map is the one of
    /// `params`, with back-pressure `bp` on the record stream.
    pub fn new(model: &Model, params: GenParams, bp: Backpressure) -> Result<CoreBench, Error> {
        let sim = model.instantiate()?;
        let lite = AxiLiteMaster::new(AxiLitePorts::find(&sim, "s_axil_")?);
        let sink = StreamSink::new(&sim, "m_axis_", bp)?;
        Ok(CoreBench {
            sim,
            lite,
            sink,
            map: RegisterMap::new(params),
        })
    }

    /// Drive the bus models, `eval`, observe them. The caller has set the
    /// core's other inputs; it may read outputs (and change inputs and
    /// `eval` again) before [`CoreBench::end_cycle`].
    #[inline]
    pub fn begin_cycle(&mut self) {
        self.lite.drive(&mut self.sim);
        self.sink.drive(&mut self.sim);
        self.sim.eval();
    }

    /// Observe the bus models and take the rising edge.
    #[inline]
    pub fn end_cycle(&mut self) {
        self.lite.observe(&self.sim);
        self.sink.observe(&self.sim);
        self.sim.tick();
    }

    /// One cycle with the other inputs as they are.
    pub fn idle_cycle(&mut self) {
        self.begin_cycle();
        self.end_cycle();
    }

    /// Byte offset of register `name`.
    pub fn offset(&self, name: &str) -> Result<u32, Error> {
        self.map
            .register(name)
            .map(|r| r.offset)
            .ok_or_else(|| Error::NoSuchRegister(name.to_string()))
    }

    fn finish(&mut self, op: &'static str, addr: u32) -> Result<LiteDone, Error> {
        for _ in 0..BUS_TIMEOUT_CYCLES {
            self.idle_cycle();
            if let Some(d) = self.lite.take_done() {
                return Ok(d);
            }
        }
        Err(Error::BusTimeout {
            op,
            addr,
            cycles: BUS_TIMEOUT_CYCLES,
        })
    }

    /// Write `value` at byte offset `addr`, clocking the core (other
    /// inputs unchanged) until the response. Returns the cycle
    /// ([`Sim::cycle`]) in which the response arrived.
    pub fn write_at(&mut self, addr: u32, value: u32) -> Result<u64, Error> {
        self.lite.start_write(addr, value);
        match self.finish("write", addr)? {
            LiteDone::Write(LiteResp::Okay) => Ok(self.sim.cycle()),
            d => Err(Error::BusResponse {
                op: "write",
                addr,
                response: format!("{d:?}"),
            }),
        }
    }

    /// Read byte offset `addr` (clocking the core until the response).
    pub fn read_at(&mut self, addr: u32) -> Result<u32, Error> {
        self.lite.start_read(addr);
        match self.finish("read", addr)? {
            LiteDone::Read(v, LiteResp::Okay) => Ok(v),
            d => Err(Error::BusResponse {
                op: "read",
                addr,
                response: format!("{d:?}"),
            }),
        }
    }

    /// Write register `name`.
    pub fn write(&mut self, name: &str, value: u32) -> Result<u64, Error> {
        let a = self.offset(name)?;
        self.write_at(a, value)
    }

    /// Read register `name`.
    pub fn read(&mut self, name: &str) -> Result<u32, Error> {
        let a = self.offset(name)?;
        self.read_at(a)
    }
}
