// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice golden model (gateware spec sections 1-4 and 6 with `tready` high):
//! decoy-state BB84 symbol selection (Lim, Curty, Walenta, Xu and Zbinden,
//! PRA 89, 022307, 2014: three intensities, biased bases), sync frames built
//! on the 13-chip Barker code, PRBS7 calibration (ITU-T O.150 polynomial
//! x^7 + x^6 + 1), QRNG health tests (NIST SP 800-90B 4.4) and the record
//! stream (EPOCH, ALICE_SYMBOLS, STATUS).
//!
//! Two views: [`AliceModel`], stepped once per fabric cycle with the
//! cycle's inputs (QRNG word, strobes, W1C writes), and [`symbol_at`] /
//! [`SymbolStream`], the PRNG-driven RUN-mode sequence without alarms, for
//! the fast simulated device.

use crate::health::{HealthParams, HealthTests};
use crate::prng::{LanePrngs, Xoshiro256Plus};
use crate::{check_lanes, ModelError, MAX_LANES};
use qkd_abi::records::{AliceSymbols, CounterId, Record, Status, SLOT_BITS, SLOT_MASK};
use qkd_abi::regmap::alice as regs;
use qkd_abi::symbol::Symbol;

/// Symbols per ALICE_SYMBOLS record (spec 4.4, `RECORD_SYMBOLS`).
pub const RECORD_SYMBOLS: u64 = 64;
/// No pulse (intensity class 3, basis 0, bit 0).
pub const BLANK: Symbol = Symbol(0b1100);
/// A pulse at signal level that is not a protocol symbol.
pub const SYNC_MARK: Symbol = Symbol(0b1101);
/// Sync chips: bit `j` set = `SYNC_MARK` in slot `j` of the frame (spec 4.2).
pub const SYNC_CHIPS: u16 = 0x1F35;
/// Slots of a sync frame.
pub const SYNC_FRAME_SLOTS: u64 = 16;
/// Smallest `SYNC_LOG2` that enables sync frames.
pub const SYNC_LOG2_MIN: u32 = 5;
/// Smallest `STATUS_INTERVAL_LOG2` that enables STATUS records.
pub const STATUS_LOG2_MIN: u32 = 6;

/// `ALICE_ALARMS` bit: RCT failed.
pub const ALARM_RNG_RCT: u32 = 1 << 0;
/// `ALICE_ALARMS` bit: APT failed.
pub const ALARM_RNG_APT: u32 = 1 << 1;
/// `ALICE_ALARMS` bit: a record was dropped (never set by this model).
pub const ALARM_STREAM_OVERFLOW: u32 = 1 << 2;
/// `ALICE_ALARMS` bit: QRNG underrun.
pub const ALARM_QRNG_UNDERRUN: u32 = 1 << 3;

/// `ALICE_CMD` strobe bit START.
pub const CMD_START: u32 = 1 << 0;
/// `ALICE_CMD` strobe bit STOP.
pub const CMD_STOP: u32 = 1 << 1;
/// `ALICE_CMD` strobe bit CLEAR_COUNTERS.
pub const CMD_CLEAR_COUNTERS: u32 = 1 << 2;

fn field(reg: &qkd_abi::Register, name: &str, value: u32) -> u32 {
    reg.field(name).map_or(0, |f| f.get(value))
}

/// Alice's programmable registers (raw 32-bit values, as written over the
/// bus). The model reads them every cycle; SOURCE and the seed are latched
/// at START (spec 1, 3 and the register docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AliceRegs {
    /// `RNG_CTRL`.
    pub rng_ctrl: u32,
    /// `RNG_SEED_LO`.
    pub rng_seed_lo: u32,
    /// `RNG_SEED_HI`.
    pub rng_seed_hi: u32,
    /// `RNG_RCT_CUTOFF`.
    pub rng_rct_cutoff: u32,
    /// `RNG_APT_WINDOW`.
    pub rng_apt_window: u32,
    /// `RNG_APT_CUTOFF`.
    pub rng_apt_cutoff: u32,
    /// `STREAM_CTRL`.
    pub stream_ctrl: u32,
    /// `ALICE_CTRL`.
    pub alice_ctrl: u32,
    /// `DECOY_THRESH_SIGNAL`.
    pub decoy_thresh_signal: u32,
    /// `DECOY_THRESH_DECOY`.
    pub decoy_thresh_decoy: u32,
    /// `DECOY_THRESH_BASIS_Z`.
    pub decoy_thresh_basis_z: u32,
}

impl Default for AliceRegs {
    fn default() -> AliceRegs {
        AliceRegs::reset()
    }
}

impl AliceRegs {
    /// Reset values from the qkd-abi map.
    pub fn reset() -> AliceRegs {
        AliceRegs {
            rng_ctrl: regs::RNG_CTRL.reset,
            rng_seed_lo: regs::RNG_SEED_LO.reset,
            rng_seed_hi: regs::RNG_SEED_HI.reset,
            rng_rct_cutoff: regs::RNG_RCT_CUTOFF.reset,
            rng_apt_window: regs::RNG_APT_WINDOW.reset,
            rng_apt_cutoff: regs::RNG_APT_CUTOFF.reset,
            stream_ctrl: regs::STREAM_CTRL.reset,
            alice_ctrl: regs::ALICE_CTRL.reset,
            decoy_thresh_signal: regs::DECOY_THRESH_SIGNAL.reset,
            decoy_thresh_decoy: regs::DECOY_THRESH_DECOY.reset,
            decoy_thresh_basis_z: regs::DECOY_THRESH_BASIS_Z.reset,
        }
    }

    /// Names of the registers this struct holds.
    pub const NAMES: &'static [&'static str] = &[
        "RNG_CTRL",
        "RNG_SEED_LO",
        "RNG_SEED_HI",
        "RNG_RCT_CUTOFF",
        "RNG_APT_WINDOW",
        "RNG_APT_CUTOFF",
        "STREAM_CTRL",
        "ALICE_CTRL",
        "DECOY_THRESH_SIGNAL",
        "DECOY_THRESH_DECOY",
        "DECOY_THRESH_BASIS_Z",
    ];

    /// Build from a lookup by register name (e.g. `CsrBank::rw_lookup`);
    /// names the lookup does not know keep their reset value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<u32>) -> AliceRegs {
        let mut r = AliceRegs::reset();
        for n in Self::NAMES {
            if let Some(v) = lookup(n) {
                // Every name in NAMES is accepted by write().
                let _ = r.write(n, v);
            }
        }
        r
    }

    /// Write a register by name (its RW value as stored: bits outside the
    /// register's fields are kept as written, fields are extracted on use).
    pub fn write(&mut self, name: &str, value: u32) -> Result<(), ModelError> {
        let slot = match name {
            "RNG_CTRL" => &mut self.rng_ctrl,
            "RNG_SEED_LO" => &mut self.rng_seed_lo,
            "RNG_SEED_HI" => &mut self.rng_seed_hi,
            "RNG_RCT_CUTOFF" => &mut self.rng_rct_cutoff,
            "RNG_APT_WINDOW" => &mut self.rng_apt_window,
            "RNG_APT_CUTOFF" => &mut self.rng_apt_cutoff,
            "STREAM_CTRL" => &mut self.stream_ctrl,
            "ALICE_CTRL" => &mut self.alice_ctrl,
            "DECOY_THRESH_SIGNAL" => &mut self.decoy_thresh_signal,
            "DECOY_THRESH_DECOY" => &mut self.decoy_thresh_decoy,
            "DECOY_THRESH_BASIS_Z" => &mut self.decoy_thresh_basis_z,
            _ => return Err(ModelError::UnknownRegister(name.to_string())),
        };
        *slot = value;
        Ok(())
    }

    /// `ALICE_CTRL.MODE` (see `qkd_abi::regmap::alice::mode`).
    pub fn mode(&self) -> u32 {
        field(&regs::ALICE_CTRL, "MODE", self.alice_ctrl)
    }
    /// `ALICE_CTRL.FIXED_SYMBOL`.
    pub fn fixed_symbol(&self) -> Symbol {
        Symbol(field(&regs::ALICE_CTRL, "FIXED_SYMBOL", self.alice_ctrl) as u8)
    }
    /// `ALICE_CTRL.SYNC_LOG2`.
    pub fn sync_log2(&self) -> u32 {
        field(&regs::ALICE_CTRL, "SYNC_LOG2", self.alice_ctrl)
    }
    /// `RNG_CTRL.SOURCE == 1`: the test PRNG.
    pub fn source_prng(&self) -> bool {
        field(&regs::RNG_CTRL, "SOURCE", self.rng_ctrl) == 1
    }
    /// 64-bit seed `RNG_SEED_HI:RNG_SEED_LO`.
    pub fn seed(&self) -> u64 {
        u64::from(self.rng_seed_hi) << 32 | u64::from(self.rng_seed_lo)
    }
    /// Health-test parameters (16-bit fields).
    pub fn health(&self) -> HealthParams {
        HealthParams {
            rct_cutoff: field(&regs::RNG_RCT_CUTOFF, "CUTOFF", self.rng_rct_cutoff),
            apt_window: field(&regs::RNG_APT_WINDOW, "WINDOW", self.rng_apt_window),
            apt_cutoff: field(&regs::RNG_APT_CUTOFF, "CUTOFF", self.rng_apt_cutoff),
        }
    }
    /// `STREAM_CTRL.STATUS_INTERVAL_LOG2`.
    pub fn status_log2(&self) -> u32 {
        field(&regs::STREAM_CTRL, "STATUS_INTERVAL_LOG2", self.stream_ctrl)
    }
    /// The 16-bit selector thresholds.
    pub fn selector(&self) -> Selector {
        let t = |v: u32| field(&regs::DECOY_THRESH_SIGNAL, "THRESH", v) as u16;
        Selector {
            thresh_signal: t(self.decoy_thresh_signal),
            thresh_decoy: t(self.decoy_thresh_decoy),
            thresh_basis_z: t(self.decoy_thresh_basis_z),
        }
    }
}

/// Decoy and basis selector thresholds (spec 4.1), 16-bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selector {
    /// `DECOY_THRESH_SIGNAL`.
    pub thresh_signal: u16,
    /// `DECOY_THRESH_DECOY`.
    pub thresh_decoy: u16,
    /// `DECOY_THRESH_BASIS_Z`.
    pub thresh_basis_z: u16,
}

impl Selector {
    /// The random symbol of a 64-bit word (spec 2 and 4.1).
    #[inline]
    pub fn symbol(&self, r: u64) -> Symbol {
        let r_int = (r >> 48) as u16;
        let r_basis = (r >> 32) as u16;
        let bit = ((r >> 31) & 1) as u8;
        let intensity: u8 = if r_int < self.thresh_signal {
            0
        } else if r_int < self.thresh_decoy {
            1
        } else {
            2
        };
        let basis = u8::from(r_basis >= self.thresh_basis_z);
        Symbol(intensity << 2 | basis << 1 | bit)
    }
}

/// Sync-frame symbol of slot `i` if it is a sync slot (spec 4.2 rule 1).
#[inline]
pub fn sync_symbol(sync_log2: u32, i: u64) -> Option<Symbol> {
    if sync_log2 < SYNC_LOG2_MIN {
        return None;
    }
    let j = if sync_log2 >= 64 {
        i
    } else {
        i & ((1u64 << sync_log2) - 1)
    };
    if j < SYNC_FRAME_SLOTS {
        Some(if (SYNC_CHIPS >> j) & 1 != 0 {
            SYNC_MARK
        } else {
            BLANK
        })
    } else {
        None
    }
}

/// PRBS7 bits `b_0..b_126` (`b_0..b_6 = 1`, `b_n = b_{n-6} ^ b_{n-7}`).
pub const PRBS7: [u8; 127] = {
    let mut b = [0u8; 127];
    let mut n = 0;
    while n < 127 {
        b[n] = if n < 7 { 1 } else { b[n - 6] ^ b[n - 7] };
        n += 1;
    }
    b
};

/// PRBS-mode symbol of slot `i` (spec 4.2): Signal, basis `b_{2i mod 127}`,
/// bit `b_{(2i+1) mod 127}`.
#[inline]
pub fn prbs_symbol(i: u64) -> Symbol {
    let a = ((2 * u128::from(i)) % 127) as usize;
    let b = (a + 1) % 127;
    Symbol(PRBS7[a] << 1 | PRBS7[b])
}

/// What [`symbol_at`] needs: the RUN-mode (or calibration) configuration
/// with the test PRNG as source and no entropy alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunConfig {
    /// LANES.
    pub lanes: usize,
    /// `ALICE_CTRL.MODE`.
    pub mode: u32,
    /// `ALICE_CTRL.FIXED_SYMBOL`.
    pub fixed_symbol: Symbol,
    /// `ALICE_CTRL.SYNC_LOG2`.
    pub sync_log2: u32,
    /// Selector thresholds.
    pub selector: Selector,
}

impl RunConfig {
    /// From register values (mode, sync period and thresholds).
    pub fn from_regs(lanes: usize, r: &AliceRegs) -> Result<RunConfig, ModelError> {
        check_lanes(lanes)?;
        Ok(RunConfig::decode(lanes, r))
    }

    fn decode(lanes: usize, r: &AliceRegs) -> RunConfig {
        RunConfig {
            lanes,
            mode: r.mode(),
            fixed_symbol: r.fixed_symbol(),
            sync_log2: r.sync_log2(),
            selector: r.selector(),
        }
    }

    /// Symbol of slot `i` given its random word `r` and no alarm.
    #[inline]
    pub fn symbol(&self, i: u64, r: u64) -> Symbol {
        match self.mode {
            regs::mode::RUN => {
                sync_symbol(self.sync_log2, i).unwrap_or_else(|| self.selector.symbol(r))
            }
            regs::mode::FIXED => self.fixed_symbol,
            regs::mode::PRBS => prbs_symbol(i),
            _ => BLANK,
        }
    }
}

/// Symbol of slot `slot` of a run started with `seed`, test PRNG as source,
/// no entropy alarm, constant configuration (random access, `O(log slot)`).
pub fn symbol_at(config: &RunConfig, seed: u64, slot: u64) -> Symbol {
    let lanes = config.lanes.max(1) as u64;
    let lane = (slot % lanes) as usize;
    let step = slot / lanes;
    let r = if config.mode == regs::mode::RUN && sync_symbol(config.sync_log2, slot).is_none() {
        crate::prng::lane_word_at(seed, lane, step)
    } else {
        0
    };
    config.symbol(slot, r)
}

/// The sequence of [`symbol_at`] in slot order, fast (sequential PRNG).
#[derive(Debug, Clone)]
pub struct SymbolStream {
    config: RunConfig,
    gens: Vec<Xoshiro256Plus>,
    slot: u64,
}

impl SymbolStream {
    /// Start at slot 0 for `seed`.
    pub fn new(config: RunConfig, seed: u64) -> Result<SymbolStream, ModelError> {
        check_lanes(config.lanes)?;
        Ok(SymbolStream {
            gens: (0..config.lanes)
                .map(|l| Xoshiro256Plus::for_lane(seed, l))
                .collect(),
            config,
            slot: 0,
        })
    }
    /// Start at `slot` (must be a multiple of LANES; it is rounded down).
    pub fn starting_at(
        config: RunConfig,
        seed: u64,
        slot: u64,
    ) -> Result<SymbolStream, ModelError> {
        let mut s = SymbolStream::new(config, seed)?;
        let step = slot / config.lanes as u64;
        for g in &mut s.gens {
            g.jump(step);
        }
        s.slot = step * config.lanes as u64;
        Ok(s)
    }
    /// Index of the next slot.
    pub fn slot(&self) -> u64 {
        self.slot
    }
    /// Fill `out` with the next symbols; `out.len()` must be a multiple of LANES.
    pub fn fill(&mut self, out: &mut [Symbol]) {
        for chunk in out.chunks_mut(self.config.lanes) {
            for (l, o) in chunk.iter_mut().enumerate() {
                let r = self.gens[l].next();
                *o = self.config.symbol(self.slot + l as u64, r);
            }
            self.slot += self.config.lanes as u64;
        }
    }
}

/// Inputs of one fabric cycle.
#[derive(Debug, Clone, Copy, Default)]
pub struct AliceInputs<'a> {
    /// `qrng_data`, one 64-bit word per lane (`L` words; missing words read 0).
    pub qrng_data: &'a [u64],
    /// `qrng_valid`.
    pub qrng_valid: bool,
    /// `ALICE_CMD` strobe bits active in this cycle.
    pub cmd: u32,
    /// `ALICE_ALARMS` W1C mask written in this cycle (takes effect at the
    /// end of the cycle).
    pub alarms_clear: u32,
}

/// Outputs of one fabric cycle (zero latency: the gateware may delay them
/// by a fixed number of cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AliceOutputs {
    /// `symbols`, lane `l` in `symbols[l]` (lanes past L are BLANK).
    pub symbols: [Symbol; MAX_LANES],
    /// `symbols_valid`.
    pub symbols_valid: bool,
    /// `sync_out` (the cycle carries slot 0).
    pub sync_out: bool,
    /// `qrng_ready`.
    pub qrng_ready: bool,
}

/// Counters accumulated over a STATUS interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Interval {
    slots: u64,
    sent: u64,
    alarms_seen: u32,
}

/// Cycle-stepped model of Alice's core with `tready` always high.
#[derive(Debug, Clone)]
pub struct AliceModel {
    lanes: usize,
    /// Register values, read every cycle (SOURCE and seed at START).
    pub regs: AliceRegs,
    running: bool,
    stop_at: Option<u64>,
    cycle: u64,
    source_prng: bool,
    prngs: LanePrngs,
    health: Vec<HealthTests>,
    sticky: u32,
    live: u32,
    pending: Vec<Symbol>,
    epoch: u64,
    interval: Interval,
    qrng_words: u32,
    records: Vec<Record>,
    /// Register values and the run configuration decoded from them.
    decoded: (AliceRegs, RunConfig),
}

impl AliceModel {
    /// Model of a core with `lanes` lanes in its reset state.
    pub fn new(lanes: usize) -> Result<AliceModel, ModelError> {
        check_lanes(lanes)?;
        Ok(AliceModel {
            lanes,
            regs: AliceRegs::reset(),
            running: false,
            stop_at: None,
            cycle: 0,
            source_prng: false,
            prngs: LanePrngs::new(0, lanes),
            health: vec![HealthTests::new(); lanes],
            sticky: 0,
            live: 0,
            pending: Vec::with_capacity(RECORD_SYMBOLS as usize),
            epoch: 0,
            interval: Interval::default(),
            qrng_words: 0,
            records: Vec::new(),
            decoded: (
                AliceRegs::reset(),
                RunConfig::decode(lanes, &AliceRegs::reset()),
            ),
        })
    }

    /// LANES.
    pub fn lanes(&self) -> usize {
        self.lanes
    }
    /// `ALICE_STATE.RUNNING`.
    pub fn running(&self) -> bool {
        self.running
    }
    /// `ALICE_STATE` register value (RUNNING, ENTROPY_OK).
    pub fn state_reg(&self) -> u32 {
        let ok = self.sticky & (ALARM_RNG_RCT | ALARM_RNG_APT) == 0;
        u32::from(self.running) | u32::from(ok) << 1
    }
    /// `ALICE_ALARMS` sticky bits.
    pub fn alarms(&self) -> u32 {
        self.sticky
    }
    /// Alarm bits live in the last stepped cycle.
    pub fn alarms_live(&self) -> u32 {
        self.live
    }
    /// Slot index the next cycle carries if it is running (`k * L`).
    pub fn next_slot(&self) -> u64 {
        self.cycle * self.lanes as u64
    }
    /// `ALICE_SYMBOLS_HI:LO`: slots sent since START.
    pub fn symbols_sent(&self) -> u64 {
        if self.running {
            self.cycle * self.lanes as u64
        } else {
            self.stop_at.unwrap_or(self.cycle * self.lanes as u64)
        }
    }
    /// `RNG_QRNG_WORDS`: QRNG words (cycles with `qrng_valid`) consumed, wrapping.
    pub fn qrng_words(&self) -> u32 {
        self.qrng_words
    }
    /// Records produced so far (not yet taken).
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    /// Take the records produced so far.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    fn push_record(&mut self, slot: u64, r: Record) {
        let e = slot >> SLOT_BITS;
        if e != self.epoch {
            self.epoch = e;
            self.records.push(Record::Epoch(e as u32));
        }
        self.records.push(r);
    }

    fn start(&mut self) {
        self.running = true;
        self.stop_at = None;
        self.cycle = 0;
        self.source_prng = self.regs.source_prng();
        self.prngs = LanePrngs::new(self.regs.seed(), self.lanes);
        self.health.iter_mut().for_each(|h| *h = HealthTests::new());
        self.pending.clear();
        self.interval = Interval::default();
        self.epoch = 0;
        self.records.push(Record::Epoch(0));
    }

    /// Advance one fabric cycle.
    pub fn step(&mut self, inp: &AliceInputs<'_>) -> AliceOutputs {
        let l_n = self.lanes;
        let mut out = AliceOutputs {
            symbols: [BLANK; MAX_LANES],
            symbols_valid: false,
            sync_out: false,
            qrng_ready: false,
        };
        self.live = 0;
        let i0 = self.cycle * l_n as u64;

        // ---- STOP: end at the next record boundary (this cycle's first slot counts) ----
        if self.running && inp.cmd & CMD_STOP != 0 && self.stop_at.is_none() {
            self.stop_at = Some(i0.div_ceil(RECORD_SYMBOLS) * RECORD_SYMBOLS);
        }
        if self.running && self.stop_at.is_some_and(|b| i0 >= b) {
            self.running = false;
        }

        // Alarm events of this cycle: they set sticky bits and win over a
        // W1C clear of the same cycle.
        let mut events = 0u32;
        if self.running {
            let mut fails = 0u32;
            // ---- Random words of this cycle ----
            let mut words = [0u64; MAX_LANES];
            self.prngs.next_words(&mut words[..l_n]);
            let mut underrun = false;
            if !self.source_prng {
                out.qrng_ready = true;
                if inp.qrng_valid {
                    self.qrng_words = self.qrng_words.wrapping_add(1);
                    let hp = self.regs.health();
                    for (l, (w, h)) in words.iter_mut().zip(self.health.iter_mut()).enumerate() {
                        *w = inp.qrng_data.get(l).copied().unwrap_or(0);
                        let r = h.sample(*w, &hp);
                        if r.rct_fail {
                            fails |= ALARM_RNG_RCT;
                        }
                        if r.apt_fail {
                            fails |= ALARM_RNG_APT;
                        }
                    }
                } else {
                    underrun = true;
                }
            }
            let entropy_alarm = (self.sticky | fails) & (ALARM_RNG_RCT | ALARM_RNG_APT);
            self.live = entropy_alarm | if underrun { ALARM_QRNG_UNDERRUN } else { 0 };
            events = fails | (self.live & ALARM_QRNG_UNDERRUN);

            // ---- Symbols ----
            if self.decoded.0 != self.regs {
                self.decoded = (self.regs, RunConfig::decode(l_n, &self.regs));
            }
            let cfg = self.decoded.1;
            let mode = cfg.mode;
            let blank_random = entropy_alarm != 0 || underrun;
            for (l, (o, &w)) in out
                .symbols
                .iter_mut()
                .zip(words.iter())
                .take(l_n)
                .enumerate()
            {
                let i = i0 + l as u64;
                let s = if mode == regs::mode::RUN && blank_random {
                    sync_symbol(cfg.sync_log2, i).unwrap_or(BLANK)
                } else {
                    cfg.symbol(i, w)
                };
                *o = s;
                self.pending.push(s);
                if s.code() >> 2 != 3 {
                    self.interval.sent += 1;
                }
            }
            out.symbols_valid = true;
            out.sync_out = i0 == 0;
            self.interval.slots += l_n as u64;
            self.interval.alarms_seen |= self.live;
            self.cycle += 1;

            // ---- Records ----
            let end = i0 + l_n as u64;
            if end.is_multiple_of(RECORD_SYMBOLS) {
                let start = end - RECORD_SYMBOLS;
                let rec = AliceSymbols::from_symbols(start & SLOT_MASK, &self.pending);
                self.pending.clear();
                self.push_record(start, Record::AliceSymbols(rec));
                let t = self.regs.status_log2();
                if t >= STATUS_LOG2_MIN && end.trailing_zeros() >= t {
                    let st = Status {
                        slot: end & SLOT_MASK,
                        counters: vec![
                            (CounterId::IntervalSlots, self.interval.slots),
                            (CounterId::SymbolsSent, self.interval.sent),
                            (CounterId::SymbolsLost, 0),
                            (CounterId::AlarmsLive, u64::from(self.live)),
                            (CounterId::AlarmsSeen, u64::from(self.interval.alarms_seen)),
                        ],
                    };
                    self.interval = Interval::default();
                    self.push_record(end, Record::Status(st));
                }
            }
        }

        // ---- End of cycle: W1C, then START ----
        if inp.alarms_clear & (ALARM_RNG_RCT | ALARM_RNG_APT) != 0 {
            self.health.iter_mut().for_each(|h| *h = HealthTests::new());
        }
        self.sticky = (self.sticky & !inp.alarms_clear) | events;
        if inp.cmd & CMD_START != 0 {
            self.start();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_abi::regmap::alice::mode;

    fn prng_regs(seed: u64) -> AliceRegs {
        let mut r = AliceRegs::reset();
        r.rng_ctrl = 1;
        r.rng_seed_lo = seed as u32;
        r.rng_seed_hi = (seed >> 32) as u32;
        r
    }

    fn idle() -> AliceInputs<'static> {
        AliceInputs::default()
    }

    fn start(m: &mut AliceModel) {
        m.step(&AliceInputs {
            cmd: CMD_START,
            ..idle()
        });
    }

    #[test]
    fn prbs7_has_period_127_and_64_ones() {
        assert_eq!(PRBS7.iter().filter(|&&b| b == 1).count(), 64);
        // Recurrence also holds across the wrap (period 127).
        for n in 0..127 {
            assert_eq!(
                PRBS7[n],
                PRBS7[(n + 121) % 127] ^ PRBS7[(n + 120) % 127],
                "n={n}"
            );
        }
        // The first bits after the seed ones: b7 = b1^b0 = 0 ... b12 = 0, b13 = b7^b6 = 1.
        assert_eq!(&PRBS7[..14], &[1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn sync_frame_is_barker13_then_three_blanks() {
        let barker = [1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1];
        // Bit 12 down to bit 0 reads the Barker code, so slot j = 12 - n.
        for (n, &c) in barker.iter().enumerate() {
            let s = sync_symbol(5, 12 - n as u64).unwrap();
            assert_eq!(s, if c == 1 { SYNC_MARK } else { BLANK });
        }
        for j in 13..16 {
            assert_eq!(sync_symbol(5, j), Some(BLANK));
        }
        assert_eq!(sync_symbol(5, 16), None);
        assert_eq!(sync_symbol(5, 32), Some(SYNC_MARK));
        assert_eq!(sync_symbol(4, 0), None);
        assert_eq!(sync_symbol(63, 1 << 63), Some(SYNC_MARK));
    }

    #[test]
    fn selector_thresholds_are_strict() {
        let s = Selector {
            thresh_signal: 100,
            thresh_decoy: 200,
            thresh_basis_z: 300,
        };
        let w = |i: u64, b: u64, bit: u64| i << 48 | b << 32 | bit << 31;
        assert_eq!(s.symbol(w(99, 299, 1)), Symbol(0b0001));
        assert_eq!(s.symbol(w(100, 300, 0)), Symbol(0b0110));
        assert_eq!(s.symbol(w(199, 0, 0)), Symbol(0b0100));
        assert_eq!(s.symbol(w(200, 0xFFFF, 1)), Symbol(0b1011));
        assert_eq!(s.symbol(w(0xFFFF, 0, 0) | 0x7FFF_FFFF), Symbol(0b1000));
    }

    #[test]
    fn run_mode_matches_symbol_at_and_stream() {
        for lanes in [1usize, 2, 4, 8] {
            let seed = 0xDEAD_BEEF_0000_0000 | lanes as u64;
            let mut r = prng_regs(seed);
            r.alice_ctrl = mode::RUN | 6 << 8;
            let mut m = AliceModel::new(lanes).unwrap();
            m.regs = r;
            start(&mut m);
            let cfg = RunConfig::from_regs(lanes, &r).unwrap();
            let mut stream = SymbolStream::new(cfg, seed).unwrap();
            let mut buf = vec![Symbol(0); lanes];
            for k in 0..300u64 {
                let o = m.step(&idle());
                assert!(o.symbols_valid);
                assert_eq!(o.sync_out, k == 0);
                stream.fill(&mut buf);
                for (l, (&got, &want)) in o.symbols.iter().zip(buf.iter()).enumerate() {
                    let i = k * lanes as u64 + l as u64;
                    assert_eq!(got, want, "lanes {lanes} slot {i}");
                    if i.is_multiple_of(97) {
                        assert_eq!(symbol_at(&cfg, seed, i), want);
                    }
                }
            }
            let mut late = SymbolStream::starting_at(cfg, seed, 64 * lanes as u64).unwrap();
            let mut b2 = vec![Symbol(0); lanes];
            late.fill(&mut b2);
            assert_eq!(b2[0], symbol_at(&cfg, seed, 64 * lanes as u64));
        }
    }

    #[test]
    fn records_epoch_symbols_status_in_order() {
        let mut m = AliceModel::new(4).unwrap();
        m.regs = prng_regs(7);
        m.regs.stream_ctrl = 7; // STATUS every 128 slots
        m.regs.alice_ctrl = mode::RUN | 7 << 8; // sync every 128
        start(&mut m);
        let mut syms = Vec::new();
        for _ in 0..64 {
            let o = m.step(&idle());
            syms.extend_from_slice(&o.symbols[..4]);
        }
        let recs = m.take_records();
        assert_eq!(recs.len(), 1 + 4 + 2);
        assert_eq!(recs[0], Record::Epoch(0));
        let Record::AliceSymbols(a) = &recs[1] else {
            panic!("{:?}", recs[1])
        };
        assert_eq!(a.start_slot, 0);
        assert_eq!(a.count, 64);
        assert_eq!(a.symbols().collect::<Vec<_>>(), syms[..64]);
        let Record::AliceSymbols(b) = &recs[2] else {
            panic!()
        };
        assert_eq!(b.start_slot, 64);
        let Record::Status(s) = &recs[3] else {
            panic!("{:?}", recs[3])
        };
        assert_eq!(s.slot, 128);
        let sent = syms[..128].iter().filter(|s| s.code() >> 2 != 3).count() as u64;
        assert_eq!(
            s.counters,
            vec![
                (CounterId::IntervalSlots, 128),
                (CounterId::SymbolsSent, sent),
                (CounterId::SymbolsLost, 0),
                (CounterId::AlarmsLive, 0),
                (CounterId::AlarmsSeen, 0),
            ]
        );
        assert_eq!(sent, 128 - 16, "one 16-slot sync frame per 128 slots");
        assert!(matches!(&recs[6], Record::Status(s) if s.slot == 256));
    }

    #[test]
    fn stop_ends_at_next_record_boundary() {
        let mut m = AliceModel::new(4).unwrap();
        m.regs = prng_regs(1);
        start(&mut m);
        for _ in 0..20 {
            m.step(&idle()); // slots 0..80
        }
        // STOP in the cycle carrying slots 80..84: boundary 128 -> 12 more cycles.
        let mut valid = 0;
        let o = m.step(&AliceInputs {
            cmd: CMD_STOP,
            ..idle()
        });
        valid += usize::from(o.symbols_valid);
        for _ in 0..30 {
            valid += usize::from(m.step(&idle()).symbols_valid);
        }
        assert_eq!(valid, 12);
        assert!(!m.running());
        assert_eq!(m.symbols_sent(), 128);
        let n = m
            .records()
            .iter()
            .filter(|r| matches!(r, Record::AliceSymbols(_)))
            .count();
        assert_eq!(n, 2);
        // STOP exactly on a boundary: that cycle sends nothing.
        start(&mut m);
        for _ in 0..16 {
            m.step(&idle());
        }
        let o = m.step(&AliceInputs {
            cmd: CMD_STOP,
            ..idle()
        });
        assert!(!o.symbols_valid);
        assert_eq!(m.symbols_sent(), 64);
    }

    #[test]
    fn modes_off_fixed_prbs() {
        let mut m = AliceModel::new(2).unwrap();
        m.regs = prng_regs(3);
        m.regs.alice_ctrl = mode::OFF;
        start(&mut m);
        let o = m.step(&idle());
        assert!(o.symbols_valid);
        assert_eq!(&o.symbols[..2], &[BLANK, BLANK]);
        m.regs.alice_ctrl = mode::FIXED | 0b0110 << 4;
        let o = m.step(&idle());
        assert_eq!(&o.symbols[..2], &[Symbol(0b0110); 2]);
        m.regs.alice_ctrl = mode::PRBS | 5 << 8; // PRBS ignores sync frames
        let o = m.step(&idle());
        assert_eq!(&o.symbols[..2], &[prbs_symbol(4), prbs_symbol(5)]);
        // Slot 4: basis b_8 = 0, bit b_9 = 0; slot 3: b_6 = 1, b_7 = 0.
        assert_eq!(prbs_symbol(4), Symbol(0b0000));
        assert_eq!(prbs_symbol(3), Symbol(0b0010));
        assert_eq!(prbs_symbol(127), prbs_symbol(0));
        // Not running: blank, not valid.
        let mut idle_m = AliceModel::new(2).unwrap();
        let o = idle_m.step(&idle());
        assert!(!o.symbols_valid && o.symbols[0] == BLANK);
    }

    #[test]
    fn stuck_qrng_raises_rct_and_blanks_until_cleared() {
        let mut m = AliceModel::new(4).unwrap();
        m.regs.alice_ctrl = mode::RUN; // no sync frames
        start(&mut m);
        let good = [1u64 << 63, 2 << 48, 3 << 48, 4 << 48];
        let stuck = [0x5555u64 << 48; 4];
        // RCT cutoff 6: the sixth identical sample fails, in that very cycle.
        for k in 0..8 {
            let o = m.step(&AliceInputs {
                qrng_data: &stuck,
                qrng_valid: true,
                ..idle()
            });
            let blank = o.symbols[..4].iter().all(|&s| s == BLANK);
            assert_eq!(blank, k >= 5, "cycle {k}");
            assert!(o.qrng_ready);
        }
        assert_eq!(m.alarms() & ALARM_RNG_RCT, ALARM_RNG_RCT);
        assert_eq!(m.state_reg() & 2, 0, "ENTROPY_OK low");
        // Healthy words: still blank while the sticky bit is set.
        let o = m.step(&AliceInputs {
            qrng_data: &good,
            qrng_valid: true,
            alarms_clear: ALARM_RNG_RCT | ALARM_RNG_APT,
            ..idle()
        });
        assert!(
            o.symbols[..4].iter().all(|&s| s == BLANK),
            "clear takes effect after the cycle"
        );
        assert_eq!(m.alarms() & ALARM_RNG_RCT, 0);
        let o = m.step(&AliceInputs {
            qrng_data: &good,
            qrng_valid: true,
            ..idle()
        });
        // Lane 0: r_int = 0x8000 in [T1, T2) = decoy, r_basis = 0 < T_Z = Z, bit 0.
        assert_eq!(o.symbols[0], Symbol(0b0100));
        // Lane 1: r_int = 2 < T1 = signal.
        assert_eq!(o.symbols[1], Symbol(0b0000));
    }

    #[test]
    fn underrun_blanks_only_that_cycle() {
        let mut m = AliceModel::new(1).unwrap();
        m.regs.alice_ctrl = mode::RUN;
        m.regs.decoy_thresh_signal = 0x8000;
        start(&mut m);
        let w = [0u64];
        let o = m.step(&AliceInputs {
            qrng_data: &w,
            qrng_valid: true,
            ..idle()
        });
        assert_eq!(o.symbols[0], Symbol(0), "signal, Z, 0");
        let o = m.step(&idle());
        assert_eq!(o.symbols[0], BLANK);
        assert!(o.symbols_valid);
        assert_eq!(m.alarms(), ALARM_QRNG_UNDERRUN);
        let w2 = [1u64 << 48];
        let o = m.step(&AliceInputs {
            qrng_data: &w2,
            qrng_valid: true,
            ..idle()
        });
        assert_eq!(o.symbols[0], Symbol(0));
        assert_eq!(m.alarms_live(), 0);
        assert_eq!(m.qrng_words(), 2);
    }

    #[test]
    fn status_counts_blanks_and_alarms() {
        let mut m = AliceModel::new(4).unwrap();
        m.regs.alice_ctrl = mode::RUN;
        m.regs.stream_ctrl = 6;
        start(&mut m);
        for k in 0..32u64 {
            // Distinct words every cycle (low bits), so the health tests pass.
            let w = [1u64 << 40 | k, 2 << 40 | k, 3 << 40 | k, 4 << 40 | k];
            m.step(&AliceInputs {
                qrng_data: &w,
                qrng_valid: k != 3,
                ..idle()
            });
        }
        let recs = m.take_records();
        let st: Vec<&Status> = recs
            .iter()
            .filter_map(|r| {
                if let Record::Status(s) = r {
                    Some(s)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(st.len(), 2);
        assert_eq!(
            st[0].get(CounterId::SymbolsSent),
            Some(60),
            "one underrun cycle blanks 4 slots"
        );
        assert_eq!(
            st[0].get(CounterId::AlarmsSeen),
            Some(u64::from(ALARM_QRNG_UNDERRUN))
        );
        assert_eq!(st[0].get(CounterId::AlarmsLive), Some(0));
        assert_eq!(st[1].get(CounterId::SymbolsSent), Some(64));
        assert_eq!(st[1].get(CounterId::AlarmsSeen), Some(0));
        assert_eq!(m.alarms(), ALARM_QRNG_UNDERRUN, "sticky until cleared");
        assert_eq!(m.qrng_words(), 31);
    }

    #[test]
    fn epoch_precedes_first_record_with_new_high_bits() {
        let mut m = AliceModel::new(4).unwrap();
        start(&mut m);
        let rec = |slot: u64| {
            Record::AliceSymbols(AliceSymbols::from_symbols(slot & SLOT_MASK, &[BLANK; 64]))
        };
        m.push_record((1 << 40) - 64, rec((1 << 40) - 64));
        m.push_record(1 << 40, rec(1 << 40));
        m.push_record((1 << 40) + 64, rec((1 << 40) + 64));
        assert_eq!(
            m.take_records(),
            vec![
                Record::Epoch(0),
                rec((1 << 40) - 64),
                Record::Epoch(1),
                rec(1 << 40),
                rec((1 << 40) + 64)
            ]
        );
    }
}
