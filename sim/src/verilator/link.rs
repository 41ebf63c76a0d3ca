// SPDX-License-Identifier: MIT OR Apache-2.0
//! The exact link (`sim+verilator:`): the Verilated `qkd_alice` and
//! `qkd_bob` tops with the fast link's physics between them.
//!
//! ```text
//!  FastLink physics (same seeds, same chunks as sim:) ──trace: raw clicks, ADC samples──┐
//!    │ symbols it assumed ══ qkd_alice symbols port (every slot)                        ▼
//!    │ Bob's gate/basis it assumed ══ qkd_bob gate_en / basis_out (every cycle)   APD sample vectors,
//!  qkd_alice ──m_axis──► Alice's records          qkd_bob ◄── apd_d*, adc_d*, sync_in ┘
//!                                                    └──m_axis──► Bob's records
//! ```
//!
//! The physics engine is [`FastLink`] (its own record streams are
//! discarded): it decides every raw click from Alice's symbols, Bob's basis
//! and Bob's gates, which are the gateware's. The exact link renders each
//! raw click as a one-sample pulse at its TDC fine bin in the detector's
//! `apd_d*` vector (`docs/gateware-spec.md` 5.1), each photocurrent sample
//! on `adc_d*`/`adc_valid_d*` (5.5), `sync_in` at Bob's sync cycle (5.2),
//! and checks, cycle by cycle, that the cores agree with what the physics
//! assumed: Alice's `symbols` (4.2, 4.3), Bob's `basis_out` (5.4) and
//! `gate_en` (5.4, with the dead time of 5.3 recomputed from the clicks).
//! Any disagreement is an [`ExactError`]. The record streams come only from
//! the cores' AXI4-Stream masters (always ready, as in `sim:`).
//!
//! Both cores are configured through their AXI4-Lite CSRs exactly as the
//! fast link assumes (test PRNG and seeds, thresholds, STATUS interval,
//! sync frames, dead time, gate window, alarm limits, fiber delay), then
//! started. A run ends like `sim:`: Alice's records through the last
//! simulated slot (ALICE_SYMBOLS starting below it, STATUS at most it),
//! Bob's through the cycle that carries the last slot.

use super::{Backpressure, Batch, BuildOptions, CoreBench, Error as VError, Model, PortId};
use crate::physics::bob::RawClick;
use crate::physics::link::{FastLink, LinkOutput, LinkParams, Trace};
use crate::physics::prng::{bob_basis, AliceSelect, LanePrng};
use crate::physics::SimError;
use qkd_abi::records::{Record, SLOT_BITS, SLOT_MASK};
use qkd_abi::regmap::Access;
use qkd_abi::symbol::Basis;
use qkd_abi::{GenParams, Role};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// Environment variable naming the directory of the generated Verilog.
pub const VERILOG_DIR_ENV: &str = "QKD_VERILOG_DIR";

/// Cycles after START within which a core must start running.
const START_TIMEOUT_CYCLES: u64 = 1000;
/// Latency of Bob's `gate_en`/`basis_out`: the core shows cycle `c`'s
/// values in cycle `c + 1` (stage P, as the co-simulation test
/// `gateware/tests/verilator_bob.rs` compares them).
const BOB_OUTPUT_LATENCY: usize = 1;
/// Bob's record stream is drained when a record of a later cycle has
/// arrived or the stream has been idle this long after the last slot's
/// cycle.
const DRAIN_IDLE_CYCLES: u64 = 256;
/// Longest drain before it is an error.
const DRAIN_MAX_CYCLES: u64 = 1 << 20;
/// Cycles per call into the shim while the bus is idle (buffers of a few
/// tens of kB per core).
const BATCH_CYCLES: u64 = 4096;

/// Errors of the exact link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExactError {
    /// No place to find the generated Verilog was given.
    #[error(
        "sim+verilator needs the generated Verilog: give verilog_dir=DIR in the URI or set \
         {VERILOG_DIR_ENV}=DIR, where DIR holds qkd_alice.v and qkd_bob.v (or alice/qkd_alice.v \
         and bob/qkd_bob.v as `qkd-gateware generate --role both --out DIR` writes them)"
    )]
    NoVerilogDir,
    /// The Verilog of a top is not in the directory.
    #[error(
        "no {file} in {dir} (looked for {tried}); write it with `qkd-gateware generate --role \
         {role} --out DIR`"
    )]
    MissingVerilog {
        /// The role whose top is missing.
        role: &'static str,
        /// The file name looked for.
        file: String,
        /// The directory given.
        dir: PathBuf,
        /// The paths tried, comma separated.
        tried: String,
    },
    /// A Verilog file could not be read.
    #[error("reading {path}")]
    ReadVerilog {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The link parameters are invalid.
    #[error("link parameters")]
    Params(#[source] SimError),
    /// Verilating, loading or driving a core failed (bus, stream framing).
    #[error("Verilated qkd_{role}")]
    Verilator {
        /// The role.
        role: &'static str,
        /// Cause.
        #[source]
        source: VError,
    },
    /// The Verilated top was generated for other parameters.
    #[error(
        "Verilated qkd_{role}: port {port} is {found} bits wide, the link needs {expected} ({why})"
    )]
    Generation {
        /// The role.
        role: &'static str,
        /// The port checked.
        port: &'static str,
        /// Its width.
        found: u32,
        /// The width the link parameters need.
        expected: u32,
        /// Which parameter.
        why: &'static str,
    },
    /// A core did not start after its START strobe.
    #[error("qkd_{role} did not start within {cycles} cycles of its START write ({what})")]
    NoStart {
        /// The role.
        role: &'static str,
        /// Cycles waited.
        cycles: u64,
        /// What was watched.
        what: &'static str,
    },
    /// Alice's symbols port differs from the symbols the physics used.
    #[error(
        "qkd_alice symbols of slots {first_slot}..{}: core {core:#x} (sync_out {core_sync}), \
         physics {physics:#x} (sync_out {physics_sync})", first_slot + u64::from(*lanes)
    )]
    AliceSymbols {
        /// First slot of the cycle.
        first_slot: u64,
        /// Lanes.
        lanes: u8,
        /// Packed core symbols (lane `l` in bits `4l..4l+4`).
        core: u64,
        /// Packed physics symbols.
        physics: u64,
        /// Core's `sync_out`.
        core_sync: bool,
        /// Expected `sync_out`.
        physics_sync: bool,
    },
    /// Bob's `gate_en` or `basis_out` differs from what the physics assumed.
    #[error("qkd_bob {port} of cycle {cycle} since START: core {core:#x}, physics {physics:#x}")]
    BobOutput {
        /// `gate_en` or `basis_out`.
        port: &'static str,
        /// Cycle since the START strobe.
        cycle: u64,
        /// Core value.
        core: u64,
        /// Value the physics assumed.
        physics: u64,
    },
    /// Two clicks of one detector in adjacent samples cannot be rendered as
    /// two rising edges (the physics' APD recovery forbids this).
    #[error("detector {detector}: clicks in slot {slot} bin 0 and in the last bin of the slot before merge into one pulse")]
    MergedPulses {
        /// Slot of the second click.
        slot: u64,
        /// Detector.
        detector: u8,
    },
    /// A raw click or photocurrent sample reached Bob's side after the
    /// model cycle that carries it had been run (it would be rendered in
    /// a later cycle than the physics decided it): the link ran the core
    /// ahead of the physics.
    #[error(
        "qkd_bob {what} of model cycle {due} since START arrived in cycle {now}, after its cycle \
         was run (the link ran the core ahead of the physics)"
    )]
    LateTrace {
        /// `click of slot N` or `photocurrent sample`.
        what: String,
        /// Model cycle that carries it.
        due: u64,
        /// Model cycle being run.
        now: u64,
    },
    /// A core's record stream did not drain.
    #[error("qkd_{role}: the records of the last slots were not out after {cycles} cycles")]
    Drain {
        /// The role.
        role: &'static str,
        /// Cycles waited.
        cycles: u64,
    },
}

fn verr(role: &'static str) -> impl FnOnce(VError) -> ExactError {
    move |source| ExactError::Verilator { role, source }
}

/// The generated Verilog of both tops.
#[derive(Clone, PartialEq, Eq)]
pub struct ExactVerilog {
    /// `qkd_alice.v` (module `qkd_alice`).
    pub alice: String,
    /// `qkd_bob.v` (module `qkd_bob`).
    pub bob: String,
}

impl std::fmt::Debug for ExactVerilog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactVerilog")
            .field("alice_bytes", &self.alice.len())
            .field("bob_bytes", &self.bob.len())
            .finish()
    }
}

impl ExactVerilog {
    /// Read `qkd_alice.v` and `qkd_bob.v` from `dir` (or from `dir/alice/`
    /// and `dir/bob/`, the layout of `qkd-gateware generate --role both`).
    pub fn from_dir(dir: &Path) -> Result<ExactVerilog, ExactError> {
        let read = |role: &'static str| -> Result<String, ExactError> {
            let file = format!("qkd_{role}.v");
            let tried = [dir.join(&file), dir.join(role).join(&file)];
            for p in &tried {
                if p.is_file() {
                    return std::fs::read_to_string(p).map_err(|source| ExactError::ReadVerilog {
                        path: p.clone(),
                        source,
                    });
                }
            }
            Err(ExactError::MissingVerilog {
                role,
                file,
                dir: dir.to_path_buf(),
                tried: tried
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        };
        Ok(ExactVerilog {
            alice: read("alice")?,
            bob: read("bob")?,
        })
    }

    /// From the URI option `verilog_dir` if given, else from
    /// `$QKD_VERILOG_DIR`.
    pub fn locate(dir_option: Option<&str>) -> Result<ExactVerilog, ExactError> {
        match dir_option {
            Some(d) => ExactVerilog::from_dir(Path::new(d)),
            None => match std::env::var_os(VERILOG_DIR_ENV) {
                Some(d) if !d.is_empty() => ExactVerilog::from_dir(Path::new(&d)),
                _ => Err(ExactError::NoVerilogDir),
            },
        }
    }
}

/// Register values read from a core over AXI4-Lite: `(byte offset, value)`.
pub type RegSnapshot = Vec<(u32, u32)>;

/// Background register reads while the core runs: one AXI4-Lite read at a
/// time, interleaved with the stimulus (reads of RO/W1C registers have no
/// side effect, except that reading a `_LO` half latches its `_HI`).
#[derive(Debug, Default)]
struct RegReader {
    queue: VecDeque<u32>,
    in_flight: Option<u32>,
    values: RegSnapshot,
}

impl RegReader {
    fn step(&mut self, b: &mut CoreBench) {
        if let Some(addr) = self.in_flight {
            if let Some(d) = b.lite.take_done() {
                if let super::axi::LiteDone::Read(v, super::LiteResp::Okay) = d {
                    self.values.push((addr, v));
                }
                self.in_flight = None;
            }
        }
        if self.in_flight.is_none() && b.lite.idle() {
            if let Some(a) = self.queue.pop_front() {
                b.lite.start_read(a);
                self.in_flight = Some(a);
            }
        }
    }

    fn busy(&self) -> bool {
        !self.queue.is_empty() || self.in_flight.is_some()
    }

    /// Queue a read of every status register (RO and W1C) if the previous
    /// round is done.
    fn refresh(&mut self, b: &CoreBench) {
        if self.queue.is_empty() && self.in_flight.is_none() {
            let mut regs: Vec<_> = b
                .map
                .registers()
                .filter(|r| matches!(r.access, Access::RO | Access::W1C))
                .map(|r| r.offset)
                .collect();
            regs.sort_unstable();
            self.queue.extend(regs);
        }
    }
}

/// Releases a core's records in stream order once the simulated end slot
/// has passed them (a core may emit records of later slots before the
/// physics has simulated them, e.g. Alice's records lead her symbols).
#[derive(Debug, Default)]
struct OutFilter {
    /// Epoch (`slot >> 40`) in effect after the released records.
    epoch: u64,
    /// Records not yet released.
    held: VecDeque<Record>,
    /// A record has been released (the stream's opening EPOCH(0), sent at
    /// START or sync, is released at once).
    started: bool,
}

/// Position of a record on the slot axis (the end of what it reports):
/// released once the end slot reaches it. `None` for EPOCH.
fn position(r: &Record, epoch: u64) -> Option<u64> {
    let full = |low: u64| (epoch << SLOT_BITS) | (low & SLOT_MASK);
    match r {
        Record::Epoch(_) => None,
        Record::AliceSymbols(a) => Some(full(a.start_slot) + u64::from(a.count)),
        Record::Status(s) => Some(full(s.slot)),
        Record::Detection(d) => Some(full(d.slot) + 1),
        Record::Gap(g) => Some(full(g.first_slot) + 1),
    }
}

impl OutFilter {
    /// Add `new`, then move to `out` the leading held records whose
    /// position is at most `limit` (with the EPOCH records before them).
    fn release(&mut self, new: Vec<Record>, limit: u64, out: &mut Vec<Record>) {
        self.held.extend(new);
        let mut e = self.epoch;
        let mut n_out = 0;
        for (i, r) in self.held.iter().enumerate() {
            if let Record::Epoch(x) = r {
                e = u64::from(*x);
                if i == 0 && !self.started {
                    n_out = 1;
                }
                continue;
            }
            match position(r, e) {
                Some(p) if p <= limit => n_out = i + 1,
                _ => break,
            }
        }
        for r in self.held.drain(..n_out) {
            if let Record::Epoch(x) = r {
                self.epoch = u64::from(x);
            }
            self.started = true;
            out.push(r);
        }
    }

    /// Whether a held record lies beyond `limit` (so everything up to
    /// `limit` has been emitted).
    fn has_beyond(&self, limit: u64) -> bool {
        let mut e = self.epoch;
        for r in &self.held {
            if let Record::Epoch(x) = r {
                e = u64::from(*x);
                continue;
            }
            if position(r, e).is_some_and(|p| p > limit) {
                return true;
            }
        }
        false
    }
}

/// Every readable register (RO, RW, W1C) read over the bus (before START).
fn read_all(b: &mut CoreBench, role: &'static str) -> Result<RegSnapshot, ExactError> {
    let offs: Vec<u32> = b
        .map
        .registers()
        .filter(|r| r.access != Access::Strobe)
        .map(|r| r.offset)
        .collect();
    let mut out = Vec::with_capacity(offs.len());
    for a in offs {
        out.push((a, b.read_at(a).map_err(verr(role))?));
    }
    Ok(out)
}

fn write_all(
    b: &mut CoreBench,
    role: &'static str,
    regs: &[(&'static str, u32)],
) -> Result<(), ExactError> {
    for (n, v) in regs {
        b.write(n, *v).map_err(verr(role))?;
    }
    Ok(())
}

fn port(b: &CoreBench, role: &'static str, name: &str) -> Result<PortId, ExactError> {
    b.sim.port(name).map_err(verr(role))
}

fn check_width(
    role: &'static str,
    port: &'static str,
    p: PortId,
    expected: u32,
    why: &'static str,
) -> Result<(), ExactError> {
    if p.width_bits() != expected {
        return Err(ExactError::Generation {
            role,
            port,
            found: p.width_bits(),
            expected,
            why,
        });
    }
    Ok(())
}

/// Idle QRNG inputs (both cores run on their test PRNG).
fn idle_qrng(b: &mut CoreBench) {
    if let Ok(q) = b.sim.port("qrng_valid") {
        b.sim.set(q, 0);
    }
}

/// Take the sink's records (or its first framing error).
fn sink_records(b: &mut CoreBench, role: &'static str) -> Result<Vec<Record>, ExactError> {
    if let Some(e) = b.sink.error.take() {
        return Err(ExactError::Verilator { role, source: e });
    }
    Ok(b.sink.take_records().into_iter().map(|(r, _)| r).collect())
}

// ---- Alice ----

struct AliceSide {
    b: CoreBench,
    symbols: PortId,
    symbols_valid: PortId,
    sync_out: PortId,
    lanes: u64,
    sel: AliceSelect,
    /// Alice's test PRNG as the physics steps it (one step per valid cycle).
    prng: LanePrng,
    /// `symbols_valid` cycles seen (slots sent = this x lanes).
    valid_cycles: u64,
    waited: u64,
    regs: RegReader,
    out: OutFilter,
    /// `symbols_valid`, `symbols`, `sync_out` sampled per cycle, stream
    /// captured.
    batch: Batch,
}

impl AliceSide {
    const ROLE: &'static str = "alice";

    fn new(model: &Model, p: &LinkParams) -> Result<AliceSide, ExactError> {
        let role = Self::ROLE;
        let mut b = CoreBench::new(model, GenParams::alice(p.lanes), Backpressure::None)
            .map_err(verr(role))?;
        let symbols = port(&b, role, "symbols")?;
        check_width(
            role,
            "symbols",
            symbols,
            4 * u32::from(p.lanes),
            "4 x LANES",
        )?;
        let symbols_valid = port(&b, role, "symbols_valid")?;
        let sync_out = port(&b, role, "sync_out")?;
        idle_qrng(&mut b);
        for _ in 0..4 {
            b.idle_cycle();
        }
        let values = read_all(&mut b, role)?;
        let sel = p.alice_select();
        let seed = p.alice_seed;
        write_all(
            &mut b,
            role,
            &[
                ("RNG_CTRL", 1),
                ("RNG_SEED_LO", seed as u32),
                ("RNG_SEED_HI", (seed >> 32) as u32),
                ("STREAM_CTRL", u32::from(p.alice_status_interval_log2)),
                ("ALICE_CTRL", 1 | u32::from(p.sync_log2) << 8),
                ("DECOY_THRESH_SIGNAL", u32::from(sel.thresh_signal)),
                ("DECOY_THRESH_DECOY", u32::from(sel.thresh_decoy)),
                ("DECOY_THRESH_BASIS_Z", u32::from(sel.thresh_basis_z)),
                ("ALICE_CMD", 1),
            ],
        )?;
        let batch = Batch::new(
            &[symbols_valid, symbols, sync_out],
            Some(b.sink.stream_ports()),
        );
        Ok(AliceSide {
            b,
            symbols,
            symbols_valid,
            sync_out,
            lanes: u64::from(p.lanes),
            sel,
            prng: LanePrng::new(seed, usize::from(p.lanes)),
            valid_cycles: 0,
            waited: 0,
            regs: RegReader {
                values,
                ..RegReader::default()
            },
            out: OutFilter::default(),
            batch,
        })
    }

    fn step(&mut self) -> Result<(), ExactError> {
        self.regs.step(&mut self.b);
        self.b.begin_cycle();
        let valid = self.b.sim.get(self.symbols_valid) == 1;
        let core = self.b.sim.get(self.symbols);
        let core_sync = self.b.sim.get(self.sync_out) == 1;
        self.check(valid, core, core_sync)?;
        self.b.end_cycle();
        Ok(())
    }

    /// Check one cycle's `symbols_valid`, `symbols` and `sync_out` against
    /// the physics' symbols.
    #[inline]
    fn check(&mut self, valid: bool, core: u64, core_sync: bool) -> Result<(), ExactError> {
        if valid {
            let first_slot = self.valid_cycles * self.lanes;
            let mut physics = 0u64;
            for l in 0..self.lanes {
                let s = self.sel.symbol(first_slot + l, self.prng.word(l as usize));
                physics |= u64::from(s.code()) << (4 * l);
            }
            let physics_sync = first_slot == 0;
            if core != physics || core_sync != physics_sync {
                return Err(ExactError::AliceSymbols {
                    first_slot,
                    lanes: self.lanes as u8,
                    core,
                    physics,
                    core_sync,
                    physics_sync,
                });
            }
            self.prng.advance(1);
            self.valid_cycles += 1;
        } else if self.valid_cycles == 0 {
            self.waited += 1;
            if self.waited > START_TIMEOUT_CYCLES {
                return Err(ExactError::NoStart {
                    role: Self::ROLE,
                    cycles: START_TIMEOUT_CYCLES,
                    what: "symbols_valid",
                });
            }
        }
        Ok(())
    }

    /// Whether the next cycles can run in batches: no register access in
    /// flight or queued, the stream always ready.
    fn can_batch(&self) -> bool {
        !self.regs.busy() && self.b.lite.idle() && self.b.sink.always_ready()
    }

    /// The cycles [`AliceSide::step`] would run to send the slots below
    /// `end`, in batches of at most [`BATCH_CYCLES`] (each a lower bound
    /// of the cycles still needed: one slot group per valid cycle).
    fn run_batched(&mut self, end: u64) -> Result<(), ExactError> {
        self.b.lite.drive(&mut self.b.sim);
        self.b.sink.drive(&mut self.b.sim);
        while self.valid_cycles * self.lanes < end {
            let left = (end - self.valid_cycles * self.lanes).div_ceil(self.lanes);
            let n = left.min(BATCH_CYCLES) as u32;
            self.b.sim.run(n, &mut self.batch);
            for i in 0..n as usize {
                let s = &self.batch.samples[3 * i..3 * i + 3];
                let (valid, core, sync) = (s[0] == 1, s[1], s[2] == 1);
                self.check(valid, core, sync)?;
            }
            self.b.sink.accept_batch(u64::from(n), &self.batch.words);
        }
        Ok(())
    }

    /// Run until the symbols of every slot below `end` are out and
    /// checked; release the records through `end`.
    fn run_until(&mut self, end: u64, out: &mut Vec<Record>) -> Result<(), ExactError> {
        while self.valid_cycles * self.lanes < end {
            if self.can_batch() {
                self.run_batched(end)?;
            } else {
                self.step()?;
            }
        }
        let recs = sink_records(&mut self.b, Self::ROLE)?;
        self.out.release(recs, end, out);
        self.regs.refresh(&self.b);
        Ok(())
    }

    /// Run until every record through `end` is out (a record beyond it has
    /// arrived), release them and drop the rest.
    fn finish(&mut self, end: u64, out: &mut Vec<Record>) -> Result<(), ExactError> {
        self.run_until(end, out)?;
        let mut waited = 0;
        while !self.out.has_beyond(end) {
            self.step()?;
            let recs = sink_records(&mut self.b, Self::ROLE)?;
            self.out.release(recs, end, out);
            waited += 1;
            if waited > DRAIN_MAX_CYCLES {
                return Err(ExactError::Drain {
                    role: Self::ROLE,
                    cycles: waited,
                });
            }
        }
        self.out.held.clear();
        // A last complete round of register reads, after the end.
        while self.regs.busy() {
            self.step()?;
        }
        self.regs.refresh(&self.b);
        while self.regs.busy() {
            self.step()?;
        }
        Ok(())
    }
}

// ---- Bob ----

struct BobSide {
    b: CoreBench,
    apd: Vec<PortId>,
    adc: Vec<PortId>,
    adc_valid: Vec<PortId>,
    sync_in: PortId,
    gate_en: PortId,
    basis_out: PortId,
    lanes: u64,
    oversample: u32,
    nd: usize,
    delay: u64,
    /// Model cycle (since START) of `sync_in`.
    c0: u64,
    adc_period: u64,
    adc_baseline: u16,
    dead_slots: u64,
    enable: u8,
    thresh_z: u16,
    /// Next model cycle (cycles since the START strobe).
    k: u64,
    clicks: VecDeque<(u64, RawClick)>,
    adc_q: VecDeque<(u64, u8, u16)>,
    last_click: [Option<(u64, u8)>; 2],
    /// Common dead time (spec 5.3), recomputed from the clicks.
    dead_until: u64,
    /// Bob's test PRNG at step `k`.
    prng: LanePrng,
    /// Expected `(cycle, gate_en, basis_out)` waiting for the core's output.
    expect: VecDeque<(u64, u64, u64)>,
    /// The START write's response has not arrived yet.
    start_pending: bool,
    /// The core is inside model cycle 0: the cycle in which RUNNING was
    /// found has its bus models driven and evaluated, but neither its
    /// physics inputs nor its clock edge yet. [`BobSide::model_cycle`]
    /// completes it once the physics has delivered that cycle's clicks
    /// (`sync_in` may be in cycle 0, `bob_sync_cycle = 0`, and so may
    /// clicks).
    mid_cycle: bool,
    regs: RegReader,
    out: OutFilter,
    /// Physics inputs written on change, `gate_en` and `basis_out`
    /// sampled per cycle, stream captured.
    batch: Batch,
    /// Batch slots of `apd_d*`, `adc_d*`, `adc_valid_d*` (per detector)
    /// and `sync_in`.
    slots: BobSlots,
    /// `(gate_en, basis_out)` the physics assumed in each cycle of the
    /// batch being run.
    planned: Vec<(u64, u64)>,
}

/// Batch input slots of Bob's physics ports.
#[derive(Debug, Clone, Copy)]
struct BobSlots {
    apd: [usize; 2],
    adc: [usize; 2],
    adc_valid: [usize; 2],
    sync_in: usize,
}

/// Physics inputs of one model cycle and the outputs the physics assumed.
#[derive(Debug, Clone, Copy)]
struct BobCycle {
    apd: [u128; 2],
    adc: [Option<u16>; 2],
    sync: bool,
    gate: u64,
    basis: u64,
}

impl BobSide {
    const ROLE: &'static str = "bob";

    fn new(model: &Model, p: &LinkParams) -> Result<BobSide, ExactError> {
        let role = Self::ROLE;
        let c = &p.bob;
        let nd = 2usize;
        let mut b = CoreBench::new(
            model,
            GenParams::bob(p.lanes, c.oversample, nd as u8),
            Backpressure::None,
        )
        .map_err(verr(role))?;
        let apd = b.sim.indexed_ports("apd_d").map_err(verr(role))?;
        let adc = b.sim.indexed_ports("adc_d").map_err(verr(role))?;
        let adc_valid = b.sim.indexed_ports("adc_valid_d").map_err(verr(role))?;
        if apd.len() != nd || adc.len() != nd || adc_valid.len() != nd {
            return Err(ExactError::Generation {
                role,
                port: "apd_d*",
                found: apd.len() as u32,
                expected: nd as u32,
                why: "number of ports = DETECTORS",
            });
        }
        let lanes = u32::from(p.lanes);
        check_width(
            role,
            "apd_d0",
            apd[0],
            lanes * u32::from(c.oversample),
            "LANES x OVERSAMPLE",
        )?;
        let gate_en = port(&b, role, "gate_en")?;
        check_width(
            role,
            "gate_en",
            gate_en,
            lanes * nd as u32,
            "LANES x DETECTORS",
        )?;
        let basis_out = port(&b, role, "basis_out")?;
        let sync_in = port(&b, role, "sync_in")?;
        let qrng_ready = port(&b, role, "qrng_ready")?;
        idle_qrng(&mut b);
        for _ in 0..4 {
            b.idle_cycle();
        }
        let values = read_all(&mut b, role)?;
        let seed = p.bob_seed;
        write_all(
            &mut b,
            role,
            &[
                ("RNG_CTRL", 1),
                ("RNG_SEED_LO", seed as u32),
                ("RNG_SEED_HI", (seed >> 32) as u32),
                ("STREAM_CTRL", u32::from(c.status_interval_log2)),
                ("BOB_CTRL", u32::from(c.detector_enable)),
                ("BOB_FIBER_DELAY_SLOTS", c.fiber_delay_slots),
                (
                    "GATE_WINDOW",
                    u32::from(c.gate_start_bin) | u32::from(c.gate_end_bin) << 8,
                ),
                ("GATE_DEAD_TIME_SLOTS", c.dead_time_slots),
                ("GATE_BASIS_THRESH_Z", u32::from(c.basis_thresh_z)),
                ("AFTERGATE_LIMIT", c.aftergate_limit),
                ("AFTERGATE_WINDOW_SLOTS", c.aftergate_window_slots),
                (
                    "PHOTOCURRENT_THRESHOLD",
                    u32::from(c.photocurrent_threshold),
                ),
                ("CLICK_FRACTION_WINDOW_GATES", c.click_fraction_window_gates),
                ("CLICK_FRACTION_LIMIT", c.click_fraction_limit),
                ("NO_DARK_GATES", c.no_dark_gates),
            ],
        )?;
        let mut batch = Batch::new(&[gate_en, basis_out], Some(b.sink.stream_ports()));
        let slots = BobSlots {
            apd: [batch.input(apd[0]), batch.input(apd[1])],
            adc: [batch.input(adc[0]), batch.input(adc[1])],
            adc_valid: [batch.input(adc_valid[0]), batch.input(adc_valid[1])],
            sync_in: batch.input(sync_in),
        };
        let mut bob = BobSide {
            b,
            apd,
            adc,
            adc_valid,
            sync_in,
            gate_en,
            basis_out,
            lanes: u64::from(p.lanes),
            oversample: u32::from(c.oversample),
            nd,
            delay: u64::from(c.fiber_delay_slots),
            c0: p.bob_sync_cycle,
            adc_period: p.adc_period_cycles.max(1),
            adc_baseline: p.adc_baseline_code,
            dead_slots: u64::from(c.dead_time_slots),
            enable: c.detector_enable & ((1u8 << nd) - 1),
            thresh_z: c.basis_thresh_z,
            k: 0,
            clicks: VecDeque::new(),
            adc_q: VecDeque::new(),
            last_click: [None; 2],
            dead_until: 0,
            prng: LanePrng::new(seed, usize::from(p.lanes)),
            expect: VecDeque::new(),
            start_pending: true,
            mid_cycle: false,
            regs: RegReader {
                values,
                ..RegReader::default()
            },
            out: OutFilter::default(),
            batch,
            slots,
            planned: Vec::new(),
        };
        // START through the bus while watching RUNNING (`qrng_ready`, high
        // from the cycle after the strobe): that cycle is model cycle 0. It
        // is left open (no physics inputs, no clock edge): its clicks come
        // with the first `run_until`.
        let cmd = bob.b.offset("BOB_CMD").map_err(verr(role))?;
        bob.b.lite.start_write(cmd, 1);
        bob.zero_inputs();
        for _ in 0..START_TIMEOUT_CYCLES {
            bob.b.begin_cycle();
            if bob.b.sim.get(qrng_ready) == 1 {
                bob.mid_cycle = true;
                return Ok(bob);
            }
            bob.b.end_cycle();
        }
        Err(ExactError::NoStart {
            role,
            cycles: START_TIMEOUT_CYCLES,
            what: "qrng_ready (RUNNING)",
        })
    }

    fn zero_inputs(&mut self) {
        for d in 0..self.nd {
            self.b.sim.set_u128(self.apd[d], 0);
            self.b.sim.set(self.adc[d], 0);
            self.b.sim.set(self.adc_valid[d], 0);
        }
        self.b.sim.set(self.sync_in, 0);
    }

    /// One model cycle `k`: inputs from the physics, outputs checked
    /// against what the physics assumed. The physics must have delivered
    /// the clicks and samples of cycle `k` (see [`BobSide::cycles_below`]).
    fn model_cycle(&mut self) -> Result<(), ExactError> {
        // cycle 0 was begun at START detection (bus models driven, evaluated)
        let begun = std::mem::take(&mut self.mid_cycle);
        if self.start_pending {
            if let Some(d) = self.b.lite.take_done() {
                if d != super::axi::LiteDone::Write(super::LiteResp::Okay) {
                    return Err(ExactError::Verilator {
                        role: Self::ROLE,
                        source: VError::BusResponse {
                            op: "write",
                            addr: 0,
                            response: format!("BOB_CMD START: {d:?}"),
                        },
                    });
                }
                self.start_pending = false;
            }
        } else if !begun {
            self.regs.step(&mut self.b);
        }
        let k = self.k;
        let c = self.physics_cycle(k)?;
        for d in 0..self.nd {
            self.b.sim.set_u128(self.apd[d], c.apd[d]);
            self.b
                .sim
                .set(self.adc[d], u64::from(c.adc[d].unwrap_or(0)));
            self.b
                .sim
                .set(self.adc_valid[d], u64::from(c.adc[d].is_some()));
        }
        self.b.sim.set(self.sync_in, u64::from(c.sync));
        self.batch.forget();
        if begun {
            self.b.sim.eval();
        } else {
            self.b.begin_cycle();
        }
        let g = self.b.sim.get(self.gate_en);
        let bo = self.b.sim.get(self.basis_out);
        self.check_outputs(k, g, bo)?;
        self.expect.push_back((k, c.gate, c.basis));
        self.b.end_cycle();
        self.prng.advance(1);
        self.k += 1;
        Ok(())
    }

    /// Compare the core's `gate_en` and `basis_out` of model cycle `k`
    /// (those of cycle `k - LATENCY`) with what the physics assumed.
    #[inline]
    fn check_outputs(&mut self, k: u64, g: u64, bo: u64) -> Result<(), ExactError> {
        if let Some(&(ke, ge, be)) = self.expect.front() {
            if ke + BOB_OUTPUT_LATENCY as u64 == k {
                self.expect.pop_front();
                for (port, core, physics) in [("gate_en", g, ge), ("basis_out", bo, be)] {
                    if core != physics {
                        return Err(ExactError::BobOutput {
                            port,
                            cycle: ke,
                            core,
                            physics,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the next cycles can run in batches: START answered, no
    /// register access in flight or queued, the stream always ready.
    fn can_batch(&self) -> bool {
        !self.mid_cycle
            && !self.start_pending
            && !self.regs.busy()
            && self.b.lite.idle()
            && self.b.sink.always_ready()
    }

    /// Model cycles `self.k..stop` in batches of at most [`BATCH_CYCLES`]:
    /// the physics' inputs and expectations of a batch first (stopping at
    /// the first physics error), then one call into the shim, then the
    /// checks, in the order [`BobSide::model_cycle`] makes them.
    fn run_batched(&mut self, stop: u64) -> Result<(), ExactError> {
        self.b.lite.drive(&mut self.b.sim);
        self.b.sink.drive(&mut self.b.sim);
        while self.k < stop {
            let k0 = self.k;
            let n = (stop - k0).min(BATCH_CYCLES) as u32;
            self.planned.clear();
            let mut failed = None;
            for i in 0..n {
                match self.physics_cycle(k0 + u64::from(i)) {
                    Ok(c) => {
                        let s = self.slots;
                        for d in 0..self.nd {
                            self.batch.set(i, s.apd[d], c.apd[d]);
                            self.batch
                                .set(i, s.adc[d], u128::from(c.adc[d].unwrap_or(0)));
                            self.batch
                                .set(i, s.adc_valid[d], u128::from(c.adc[d].is_some()));
                        }
                        self.batch.set(i, s.sync_in, u128::from(c.sync));
                        self.planned.push((c.gate, c.basis));
                        self.prng.advance(1);
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            let m = self.planned.len();
            self.b.sim.run(m as u32, &mut self.batch);
            for i in 0..m {
                let k = k0 + i as u64;
                let (g, bo) = (self.batch.samples[2 * i], self.batch.samples[2 * i + 1]);
                self.check_outputs(k, g, bo)?;
                let (ge, be) = self.planned[i];
                self.expect.push_back((k, ge, be));
            }
            self.b.sink.accept_batch(m as u64, &self.batch.words);
            self.k = k0 + m as u64;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Model cycles up to `stop`, batched where possible.
    fn run_to(&mut self, stop: u64) -> Result<(), ExactError> {
        while self.k < stop {
            if self.can_batch() {
                self.run_batched(stop)?;
            } else {
                self.model_cycle()?;
            }
        }
        Ok(())
    }

    /// The physics' inputs of model cycle `k` and the `gate_en` and
    /// `basis_out` it assumes: takes the cycle's clicks and photocurrent
    /// samples and updates the dead time (spec 5.1, 5.3-5.5). The PRNG
    /// must be at step `k`.
    fn physics_cycle(&mut self, k: u64) -> Result<BobCycle, ExactError> {
        let l_n = self.lanes;
        let os = self.oversample;
        let mut apd = [0u128; 2];
        let mut adc: [Option<u16>; 2] = [None, None];
        let mut gate = 0u64;
        if k >= self.c0 {
            let rel = k - self.c0;
            // Gates from the dead time at the start of the cycle (5.4).
            for l in 0..l_n {
                let pos = rel * l_n + l;
                if pos < self.delay || pos - self.delay < self.dead_until {
                    continue;
                }
                for d in 0..self.nd {
                    if self.enable >> d & 1 != 0 {
                        gate |= 1 << (l as usize * self.nd + d);
                    }
                }
            }
            // Raw clicks of this cycle, slot order (5.1, 5.3).
            let mut live_slot: Option<u64> = None;
            while let Some(&(slot, rc)) = self.clicks.front() {
                let pos = slot + self.delay;
                if pos / l_n > rel {
                    break;
                }
                if pos / l_n < rel {
                    return Err(ExactError::LateTrace {
                        what: format!("click of slot {slot}"),
                        due: self.c0 + pos / l_n,
                        now: k,
                    });
                }
                self.clicks.pop_front();
                let d = usize::from(rc.detector & 1);
                let bin = u32::from(rc.fine_bin);
                if bin == 0 && slot > 0 && self.last_click[d] == Some((slot - 1, (os - 1) as u8)) {
                    return Err(ExactError::MergedPulses {
                        slot,
                        detector: rc.detector,
                    });
                }
                self.last_click[d] = Some((slot, rc.fine_bin));
                apd[d] |= 1u128 << ((pos % l_n) as u32 * os + bin);
                if self.enable >> d & 1 != 0 && slot >= self.dead_until {
                    live_slot = Some(slot);
                }
                let next_same_slot = self.clicks.front().is_some_and(|c| c.0 == slot);
                if !next_same_slot {
                    if let Some(s) = live_slot.take() {
                        self.dead_until = s + 1 + self.dead_slots;
                    }
                }
            }
            // Photocurrent: baseline every period from sync, the physics'
            // samples replace it (5.5).
            if rel.is_multiple_of(self.adc_period) {
                adc = [Some(self.adc_baseline); 2];
            }
            while let Some(&(c, d, v)) = self.adc_q.front() {
                if c > rel {
                    break;
                }
                if c < rel {
                    return Err(ExactError::LateTrace {
                        what: "photocurrent sample".into(),
                        due: self.c0 + c,
                        now: k,
                    });
                }
                self.adc_q.pop_front();
                adc[usize::from(d & 1)] = Some(v);
            }
        }
        let mut basis = 0u64;
        for l in 0..l_n as usize {
            if bob_basis(self.prng.word(l), self.thresh_z) == Basis::X {
                basis |= 1 << l;
            }
        }
        Ok(BobCycle {
            apd,
            adc,
            sync: k == self.c0,
            gate,
            basis,
        })
    }

    /// First model cycle after the cycles whose slots are all below `end`.
    fn cycles_below(&self, end: u64) -> u64 {
        self.c0 + (end + self.delay) / self.lanes
    }

    fn absorb(&mut self, t: Trace) {
        self.clicks.extend(t.clicks);
        self.adc_q.extend(t.adc);
    }

    fn run_until(&mut self, end: u64, out: &mut Vec<Record>) -> Result<(), ExactError> {
        let stop = self.cycles_below(end);
        self.run_to(stop)?;
        let recs = sink_records(&mut self.b, Self::ROLE)?;
        self.out.release(recs, end, out);
        self.regs.refresh(&self.b);
        Ok(())
    }

    /// Run the cycle that carries slot `end - 1`, then drain the stream
    /// and release the records of the cycles run (STATUS up to the last
    /// cycle's end slot).
    fn finish(&mut self, end: u64, out: &mut Vec<Record>) -> Result<(), ExactError> {
        let (stop, limit) = if end == 0 {
            (self.k, 0)
        } else {
            let rel_last = (end - 1 + self.delay) / self.lanes;
            (
                self.c0 + rel_last + 1,
                ((rel_last + 1) * self.lanes).saturating_sub(self.delay),
            )
        };
        self.run_to(stop)?;
        // Drained when a record of a later cycle has arrived (records come
        // in order) or the stream has been idle for a while.
        let mut idle = 0;
        let mut n = 0;
        loop {
            let recs = sink_records(&mut self.b, Self::ROLE)?;
            self.out.release(recs, limit, out);
            if idle >= DRAIN_IDLE_CYCLES || self.out.has_beyond(limit) {
                break;
            }
            let words = self.b.sink.word_count;
            self.model_cycle()?;
            idle = if self.b.sink.word_count == words {
                idle + 1
            } else {
                0
            };
            n += 1;
            if n > DRAIN_MAX_CYCLES {
                return Err(ExactError::Drain {
                    role: Self::ROLE,
                    cycles: n,
                });
            }
        }
        self.out.held.clear();
        // A last complete round of register reads, after the end (the
        // counters are final then).
        while self.regs.busy() {
            self.model_cycle()?;
        }
        self.regs.refresh(&self.b);
        while self.regs.busy() {
            self.model_cycle()?;
        }
        Ok(())
    }
}

// ---- The link ----

fn build_model(verilog: &str, top: &'static str) -> Result<Model, ExactError> {
    let role = if top == "qkd_alice" { "alice" } else { "bob" };
    Model::build(verilog, &BuildOptions::new(top)).map_err(verr(role))
}

/// The exact link: drive it like [`FastLink`] (`run_until`, `finish`,
/// `take_output`); every step can fail with the first disagreement.
pub struct ExactLink {
    p: LinkParams,
    fast: FastLink,
    alice: AliceSide,
    bob: BobSide,
    out: LinkOutput,
}

impl std::fmt::Debug for ExactLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExactLink")
            .field("slots", &self.fast.slots())
            .field("bob_cycles", &self.bob.k)
            .finish_non_exhaustive()
    }
}

impl ExactLink {
    /// Verilate (or take from the cache) both tops, configure them through
    /// their CSRs for `p` and start them.
    pub fn new(p: LinkParams, verilog: &ExactVerilog) -> Result<ExactLink, ExactError> {
        p.validate().map_err(ExactError::Params)?;
        // The physics engine; its own Alice stream is not used (sparse is
        // cheaper; the Bob side and the physics do not depend on it).
        let mut fp = p.clone();
        fp.alice_stream = crate::physics::alice::AliceStreamMode::Sparse;
        let mut fast = FastLink::new(fp).map_err(ExactError::Params)?;
        fast.enable_trace();
        // Both Verilator builds at once (two cores; each is cached).
        let (am, bm) = std::thread::scope(|s| {
            let a = s.spawn(|| build_model(&verilog.alice, "qkd_alice"));
            let b = build_model(&verilog.bob, "qkd_bob");
            let a = a.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            (a, b)
        });
        let alice = AliceSide::new(&am?, &p)?;
        let bob = BobSide::new(&bm?, &p)?;
        Ok(ExactLink {
            p,
            fast,
            alice,
            bob,
            out: LinkOutput::default(),
        })
    }

    /// The parameters.
    pub fn params(&self) -> &LinkParams {
        &self.p
    }

    /// Slots simulated so far.
    pub fn slots(&self) -> u64 {
        self.fast.slots()
    }

    /// Bob's model cycles (since START) run so far.
    pub fn bob_cycles(&self) -> u64 {
        self.bob.k
    }

    fn absorb(&mut self) {
        let o = self.fast.take_output();
        self.out.eve.extend(o.eve);
        let t = self.fast.take_trace();
        self.bob.absorb(t);
    }

    /// Simulate every slot below `end_slot` (rounded up to a multiple of
    /// 64, as [`FastLink::run_until`]) and run both cores through them.
    pub fn run_until(&mut self, end_slot: u64) -> Result<(), ExactError> {
        self.fast.run_until(end_slot);
        self.absorb();
        let e = self.fast.slots();
        self.alice.run_until(e, &mut self.out.alice)?;
        self.bob.run_until(e, &mut self.out.bob)?;
        Ok(())
    }

    /// End the run at the slots simulated so far: drain both cores'
    /// records through the last slot (as [`FastLink::finish`]).
    pub fn finish(&mut self) -> Result<(), ExactError> {
        self.fast.finish();
        self.absorb();
        let e = self.fast.slots();
        self.alice.finish(e, &mut self.out.alice)?;
        self.bob.finish(e, &mut self.out.bob)?;
        Ok(())
    }

    /// Take the records (from the cores) and Eve's tags (from the physics,
    /// one per DETECTION record) produced so far.
    pub fn take_output(&mut self) -> LinkOutput {
        std::mem::take(&mut self.out)
    }

    /// Register values read from a core over AXI4-Lite since the last
    /// call: at open every readable register (header included), then the
    /// RO and W1C registers, re-read round after round while it runs.
    pub fn take_register_reads(&mut self, role: Role) -> RegSnapshot {
        let r = match role {
            Role::Alice => &mut self.alice.regs,
            Role::Bob => &mut self.bob.regs,
        };
        std::mem::take(&mut r.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_abi::records::{AliceSymbols, Detection, Status};

    fn syms(start: u64) -> Record {
        Record::AliceSymbols(AliceSymbols {
            start_slot: start,
            count: 64,
            packed: vec![0; 4],
        })
    }

    fn status(slot: u64) -> Record {
        Record::Status(Status {
            slot,
            counters: vec![],
        })
    }

    fn det(slot: u64) -> Record {
        Record::Detection(Detection {
            slot,
            detector: 0,
            fine_bin: 1,
            basis: Basis::Z,
            invalid: false,
        })
    }

    #[test]
    fn out_filter_releases_in_order_through_the_limit_and_holds_the_rest() {
        let mut f = OutFilter::default();
        let mut out = Vec::new();
        f.release(
            vec![Record::Epoch(0), syms(0), syms(64), status(128), syms(128)],
            128,
            &mut out,
        );
        assert_eq!(out, vec![Record::Epoch(0), syms(0), syms(64), status(128)]);
        assert!(f.has_beyond(128));
        assert!(!f.has_beyond(192));
        out.clear();
        f.release(vec![det(200)], 192, &mut out);
        assert_eq!(out, vec![syms(128)], "the detection at 200 is held");
        out.clear();
        f.release(vec![], 201, &mut out);
        assert_eq!(out, vec![det(200)]);
    }

    #[test]
    fn out_filter_epochs_travel_with_their_record_and_extend_slots() {
        let mut f = OutFilter::default();
        let mut out = Vec::new();
        // Bob: EPOCH(0) at sync is released alone; EPOCH(1) waits for its
        // record, whose full slot is 2^40 + 5.
        f.release(vec![Record::Epoch(0)], 0, &mut out);
        assert_eq!(out, vec![Record::Epoch(0)]);
        out.clear();
        f.release(vec![Record::Epoch(1), det(5)], 1 << 40, &mut out);
        assert!(out.is_empty());
        f.release(vec![], (1 << 40) + 6, &mut out);
        assert_eq!(out, vec![Record::Epoch(1), det(5)]);
    }

    #[test]
    fn missing_verilog_names_the_file_and_the_generate_command() {
        let dir = std::env::temp_dir().join(format!("qkd-exact-none-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let e = ExactVerilog::from_dir(&dir).unwrap_err().to_string();
        assert!(
            e.contains("qkd_alice.v") && e.contains("qkd-gateware generate"),
            "{e}"
        );
        std::fs::write(dir.join("qkd_alice.v"), "module qkd_alice(); endmodule\n").unwrap();
        std::fs::create_dir_all(dir.join("bob")).unwrap();
        let e = ExactVerilog::from_dir(&dir).unwrap_err().to_string();
        assert!(
            e.contains("qkd_bob.v") && e.contains("bob/qkd_bob.v"),
            "{e}"
        );
        std::fs::write(dir.join("bob/qkd_bob.v"), "module qkd_bob(); endmodule\n").unwrap();
        let v = ExactVerilog::locate(Some(dir.to_str().unwrap())).unwrap();
        assert!(v.alice.contains("qkd_alice") && v.bob.contains("qkd_bob"));
        std::fs::remove_dir_all(&dir).unwrap();
        let none = ExactError::NoVerilogDir.to_string();
        assert!(none.contains("verilog_dir=DIR") && none.contains(VERILOG_DIR_ENV));
    }
}
