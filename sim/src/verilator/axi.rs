// SPDX-License-Identifier: MIT OR Apache-2.0
//! Rust-side bus functional models for a Verilated core: an AXI4-Lite
//! master (ARM IHI 0022, AXI4-Lite subset: one outstanding transaction) and
//! an AXI4-Stream sink (ARM IHI 0051) with programmable back-pressure that
//! also checks the stream handshake rules and reassembles qkd-abi records.
//!
//! Both are per-cycle components. A testbench cycle is:
//! `drive` every component (and the core's other inputs), `sim.eval()`,
//! `observe` every component (a handshake seen here completes at the coming
//! rising edge), then `sim.tick()`.

use super::batch::{CapturedWord, StreamPorts};
use super::model::{PortId, Sim};
use super::Error;
use qkd_abi::records::Record;

/// SplitMix64 step (Steele, Lea, Flood, OOPSLA 2014): the harness's small
/// deterministic generator for back-pressure patterns (qkd-model's).
pub use qkd_model::prng::splitmix64_next as splitmix64;

// ---- AXI4-Lite master ----

/// AXI4-Lite response code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteResp {
    /// 0b00.
    Okay,
    /// 0b01 (not used by AXI4-Lite slaves; reported as is).
    ExOkay,
    /// 0b10.
    SlvErr,
    /// 0b11.
    DecErr,
}

impl LiteResp {
    fn from_bits(b: u64) -> LiteResp {
        match b & 3 {
            0 => LiteResp::Okay,
            1 => LiteResp::ExOkay,
            2 => LiteResp::SlvErr,
            _ => LiteResp::DecErr,
        }
    }
}

/// The AXI4-Lite slave ports of a top, found by name prefix.
#[derive(Debug, Clone, Copy)]
pub struct AxiLitePorts {
    awaddr: PortId,
    awvalid: PortId,
    awready: PortId,
    wdata: PortId,
    wstrb: Option<PortId>,
    wvalid: PortId,
    wready: PortId,
    bresp: PortId,
    bvalid: PortId,
    bready: PortId,
    araddr: PortId,
    arvalid: PortId,
    arready: PortId,
    rdata: PortId,
    rresp: PortId,
    rvalid: PortId,
    rready: PortId,
    awprot: Option<PortId>,
    arprot: Option<PortId>,
}

impl AxiLitePorts {
    /// Ports `<prefix>awaddr`, `<prefix>awvalid`, ... (`wstrb`, `awprot`,
    /// `arprot` optional).
    pub fn find(sim: &Sim, prefix: &str) -> Result<AxiLitePorts, Error> {
        let p = |n: &str| sim.port(&format!("{prefix}{n}"));
        let o = |n: &str| {
            let name = format!("{prefix}{n}");
            if sim.has_port(&name) {
                sim.port(&name).ok()
            } else {
                None
            }
        };
        Ok(AxiLitePorts {
            awaddr: p("awaddr")?,
            awvalid: p("awvalid")?,
            awready: p("awready")?,
            wdata: p("wdata")?,
            wstrb: o("wstrb"),
            wvalid: p("wvalid")?,
            wready: p("wready")?,
            bresp: p("bresp")?,
            bvalid: p("bvalid")?,
            bready: p("bready")?,
            araddr: p("araddr")?,
            arvalid: p("arvalid")?,
            arready: p("arready")?,
            rdata: p("rdata")?,
            rresp: p("rresp")?,
            rvalid: p("rvalid")?,
            rready: p("rready")?,
            awprot: o("awprot"),
            arprot: o("arprot"),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LiteState {
    Idle,
    Write {
        addr: u32,
        data: u32,
        aw_done: bool,
        w_done: bool,
    },
    Read {
        addr: u32,
        ar_done: bool,
    },
}

/// Result of a finished AXI4-Lite transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteDone {
    /// Write response.
    Write(LiteResp),
    /// Read data and response.
    Read(u32, LiteResp),
}

/// AXI4-Lite master: one transaction at a time, address and data offered
/// in the same cycle, `bready`/`rready` held high.
#[derive(Debug)]
pub struct AxiLiteMaster {
    ports: AxiLitePorts,
    state: LiteState,
    done: Option<LiteDone>,
    /// Cycles the current transaction has been waiting.
    waited_cycles: u64,
}

impl AxiLiteMaster {
    /// Master on `ports`.
    pub fn new(ports: AxiLitePorts) -> AxiLiteMaster {
        AxiLiteMaster {
            ports,
            state: LiteState::Idle,
            done: None,
            waited_cycles: 0,
        }
    }
    /// True when no transaction is in flight.
    pub fn idle(&self) -> bool {
        self.state == LiteState::Idle
    }
    /// Start a write (the previous one must be finished).
    pub fn start_write(&mut self, addr: u32, data: u32) {
        debug_assert!(self.idle());
        self.state = LiteState::Write {
            addr,
            data,
            aw_done: false,
            w_done: false,
        };
        self.done = None;
        self.waited_cycles = 0;
    }
    /// Start a read.
    pub fn start_read(&mut self, addr: u32) {
        debug_assert!(self.idle());
        self.state = LiteState::Read {
            addr,
            ar_done: false,
        };
        self.done = None;
        self.waited_cycles = 0;
    }
    /// Take the result of the last finished transaction.
    pub fn take_done(&mut self) -> Option<LiteDone> {
        self.done.take()
    }
    /// Cycles the in-flight transaction has waited.
    pub fn waited_cycles(&self) -> u64 {
        self.waited_cycles
    }
    /// Drive the master's outputs for this cycle.
    pub fn drive(&self, sim: &mut Sim) {
        let p = &self.ports;
        let (awv, wv, arv) = match self.state {
            LiteState::Idle => (false, false, false),
            LiteState::Write {
                addr,
                data,
                aw_done,
                w_done,
            } => {
                sim.set(p.awaddr, u64::from(addr));
                sim.set(p.wdata, u64::from(data));
                (!aw_done, !w_done, false)
            }
            LiteState::Read { addr, ar_done } => {
                sim.set(p.araddr, u64::from(addr));
                (false, false, !ar_done)
            }
        };
        if let Some(s) = p.wstrb {
            sim.set(s, 0xF);
        }
        if let Some(x) = p.awprot {
            sim.set(x, 0);
        }
        if let Some(x) = p.arprot {
            sim.set(x, 0);
        }
        sim.set(p.awvalid, u64::from(awv));
        sim.set(p.wvalid, u64::from(wv));
        sim.set(p.arvalid, u64::from(arv));
        sim.set(p.bready, 1);
        sim.set(p.rready, 1);
    }
    /// Observe handshakes after `eval` (they complete at the coming edge).
    pub fn observe(&mut self, sim: &Sim) {
        let p = &self.ports;
        match &mut self.state {
            LiteState::Idle => {}
            LiteState::Write {
                aw_done, w_done, ..
            } => {
                self.waited_cycles += 1;
                // A response can only follow accepted address and data.
                if *aw_done && *w_done && sim.get(p.bvalid) == 1 {
                    self.done = Some(LiteDone::Write(LiteResp::from_bits(sim.get(p.bresp))));
                    self.state = LiteState::Idle;
                    return;
                }
                if !*aw_done && sim.get(p.awready) == 1 {
                    *aw_done = true;
                }
                if !*w_done && sim.get(p.wready) == 1 {
                    *w_done = true;
                }
            }
            LiteState::Read { ar_done, .. } => {
                self.waited_cycles += 1;
                if *ar_done && sim.get(p.rvalid) == 1 {
                    self.done = Some(LiteDone::Read(
                        sim.get(p.rdata) as u32,
                        LiteResp::from_bits(sim.get(p.rresp)),
                    ));
                    self.state = LiteState::Idle;
                    return;
                }
                if !*ar_done && sim.get(p.arready) == 1 {
                    *ar_done = true;
                }
            }
        }
    }
}

// ---- AXI4-Stream sink ----

/// When the sink asserts `tready`.
#[derive(Debug, Clone, PartialEq)]
pub enum Backpressure {
    /// Always ready (the stream must then equal the model's exactly).
    None,
    /// Never ready (everything after the FIFO fills is dropped).
    Stall,
    /// `ready_cycles` ready, then `stall_cycles` not ready, repeated.
    Periodic {
        /// Ready cycles per period.
        ready_cycles: u32,
        /// Stalled cycles per period.
        stall_cycles: u32,
    },
    /// Ready with probability `p_ready` each cycle, independently.
    Random {
        /// Probability of `tready` per cycle.
        p_ready: f64,
        /// Seed.
        seed: u64,
    },
    /// Alternating ready and stalled bursts with geometric lengths
    /// (two-state Markov chain): long stalls overflow the FIFO.
    Bursts {
        /// Mean ready burst, cycles.
        mean_ready_cycles: f64,
        /// Mean stall burst, cycles.
        mean_stall_cycles: f64,
        /// Seed.
        seed: u64,
    },
}

#[derive(Debug)]
struct BpState {
    rng: u64,
    phase: u64,
    ready: bool,
}

/// One transferred word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamWord {
    /// `tdata`.
    pub data: u64,
    /// `tlast`.
    pub last: bool,
    /// Cycle of the transfer (from [`Sim::cycle`]).
    pub cycle: u64,
}

/// AXI4-Stream sink for the core's record stream (`m_axis_*` by default).
#[derive(Debug)]
pub struct StreamSink {
    tdata: PortId,
    tvalid: PortId,
    tready: PortId,
    tlast: PortId,
    pattern: Backpressure,
    bp: BpState,
    ready_now: bool,
    stalled: Option<(u64, bool)>,
    partial: Vec<u64>,
    partial_cycle: u64,
    /// Every transferred word, if `keep_words`.
    pub words: Vec<StreamWord>,
    /// Keep every word in `words` (off for long runs).
    pub keep_words: bool,
    /// Records with the cycle of their last word.
    pub records: Vec<(Record, u64)>,
    /// Words transferred.
    pub word_count: usize,
    /// Cycles with `tready` high.
    pub ready_cycles: u64,
    /// Cycles observed.
    pub cycles: u64,
    /// First protocol or framing error, if any (the sink keeps going).
    pub error: Option<Error>,
}

impl StreamSink {
    /// Sink on `<prefix>tdata`, `tvalid`, `tready`, `tlast`.
    pub fn new(sim: &Sim, prefix: &str, pattern: Backpressure) -> Result<StreamSink, Error> {
        let seed = match &pattern {
            Backpressure::Random { seed, .. } | Backpressure::Bursts { seed, .. } => *seed,
            _ => 0,
        };
        Ok(StreamSink {
            tdata: sim.port(&format!("{prefix}tdata"))?,
            tvalid: sim.port(&format!("{prefix}tvalid"))?,
            tready: sim.port(&format!("{prefix}tready"))?,
            tlast: sim.port(&format!("{prefix}tlast"))?,
            pattern,
            bp: BpState {
                rng: seed,
                phase: 0,
                ready: true,
            },
            ready_now: false,
            stalled: None,
            partial: Vec::new(),
            partial_cycle: 0,
            words: Vec::new(),
            keep_words: false,
            records: Vec::new(),
            word_count: 0,
            ready_cycles: 0,
            cycles: 0,
            error: None,
        })
    }

    /// Change the back-pressure pattern (e.g. to drain with `None`).
    pub fn set_pattern(&mut self, pattern: Backpressure) {
        if let Backpressure::Random { seed, .. } | Backpressure::Bursts { seed, .. } = &pattern {
            self.bp.rng = *seed;
        }
        self.bp.phase = 0;
        self.bp.ready = true;
        self.pattern = pattern;
    }

    fn uniform(&mut self) -> f64 {
        (splitmix64(&mut self.bp.rng) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn next_ready(&mut self) -> bool {
        match self.pattern.clone() {
            Backpressure::None => true,
            Backpressure::Stall => false,
            Backpressure::Periodic {
                ready_cycles,
                stall_cycles,
            } => {
                let period = u64::from(ready_cycles) + u64::from(stall_cycles);
                let r = period == 0 || self.bp.phase % period < u64::from(ready_cycles);
                self.bp.phase += 1;
                r
            }
            Backpressure::Random { p_ready, .. } => self.uniform() < p_ready,
            Backpressure::Bursts {
                mean_ready_cycles,
                mean_stall_cycles,
                ..
            } => {
                let mean = if self.bp.ready {
                    mean_ready_cycles
                } else {
                    mean_stall_cycles
                };
                if self.uniform() < 1.0 / mean.max(1.0) {
                    self.bp.ready = !self.bp.ready;
                }
                self.bp.ready
            }
        }
    }

    /// Drive `tready` for this cycle.
    pub fn drive(&mut self, sim: &mut Sim) {
        self.ready_now = self.next_ready();
        sim.set(self.tready, u64::from(self.ready_now));
    }

    fn fail(&mut self, why: String, cycle: u64) {
        if self.error.is_none() {
            self.error = Some(Error::Stream {
                word_index: self.word_count,
                cycle,
                why,
            });
        }
    }

    /// Observe the stream after `eval`.
    pub fn observe(&mut self, sim: &Sim) {
        let cycle = sim.cycle();
        self.cycles += 1;
        self.ready_cycles += u64::from(self.ready_now);
        let valid = sim.get(self.tvalid) == 1;
        if !valid {
            if self.stalled.is_some() {
                self.fail(
                    "tvalid dropped before the transfer (AXI4-Stream 2.2.1)".into(),
                    cycle,
                );
            }
            self.stalled = None;
            return;
        }
        let data = sim.get(self.tdata);
        let last = sim.get(self.tlast) == 1;
        if let Some(prev) = self.stalled {
            if prev != (data, last) {
                self.fail(
                    format!(
                        "tdata/tlast changed while stalled: {:#018x} -> {data:#018x}",
                        prev.0
                    ),
                    cycle,
                );
            }
        }
        if !self.ready_now {
            self.stalled = Some((data, last));
            return;
        }
        self.stalled = None;
        self.accept(data, last, cycle);
    }

    /// Whether `tready` is high in every cycle and nothing is stalled, so
    /// a batch run ([`super::batch`]) can capture the stream.
    pub fn always_ready(&self) -> bool {
        self.pattern == Backpressure::None && self.stalled.is_none()
    }

    /// The stream ports, for a batch run.
    pub fn stream_ports(&self) -> StreamPorts {
        StreamPorts {
            tvalid: self.tvalid,
            tdata: self.tdata,
            tlast: self.tlast,
        }
    }

    /// Account for `cycles` cycles of a batch run with `tready` high (see
    /// [`StreamSink::always_ready`]) and take the words transferred in them.
    pub fn accept_batch(&mut self, cycles: u64, words: &[CapturedWord]) {
        debug_assert!(self.always_ready());
        self.cycles += cycles;
        self.ready_cycles += cycles;
        for w in words {
            self.accept(w.data, w.last != 0, w.cycle);
        }
    }

    /// A word transferred in `cycle`.
    fn accept(&mut self, data: u64, last: bool, cycle: u64) {
        if self.keep_words {
            self.words.push(StreamWord { data, last, cycle });
        }
        self.word_count += 1;
        if self.partial.is_empty() {
            self.partial_cycle = cycle;
        }
        self.partial.push(data);
        // Decode as soon as the words make a whole record, then check that
        // tlast marks exactly that word.
        match Record::decode(&self.partial) {
            Ok((rec, used)) => {
                if used != self.partial.len() || !last {
                    let why = format!(
                        "record {:?} is {used} words but tlast is {} on word {}",
                        rec.tag(),
                        if last { "high" } else { "low" },
                        self.partial.len()
                    );
                    self.fail(why, cycle);
                    if last {
                        self.partial.clear();
                    }
                    if !last && used == self.partial.len() {
                        self.partial.clear();
                    }
                    return;
                }
                self.records.push((rec, cycle));
                self.partial.clear();
            }
            Err(e) if e.is_truncated() => {
                if last {
                    self.fail(format!("tlast on an incomplete record: {e}"), cycle);
                    self.partial.clear();
                }
            }
            Err(e) => {
                self.fail(
                    format!(
                        "undecodable record starting at cycle {}: {e}",
                        self.partial_cycle
                    ),
                    cycle,
                );
                self.partial.clear();
            }
        }
    }

    /// Take the collected records (with their cycles).
    pub fn take_records(&mut self) -> Vec<(Record, u64)> {
        std::mem::take(&mut self.records)
    }
}
