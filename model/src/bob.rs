// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob golden model (gateware spec sections 1-3, 5 and 6 with `tready`
//! high): oversampled first-rising-edge TDC, slot alignment to `sync_in`,
//! common dead time against the dead-time attack (Weier et al., NJP 13,
//! 073024, 2011), after-gate protection (Wiechers et al., NJP 13, 013043,
//! 2011), blinding monitors (Lydersen et al., Nat. Photon. 4, 686, 2010),
//! QRNG health tests (NIST SP 800-90B 4.4) and the record stream (EPOCH,
//! DETECTION, STATUS).
//!
//! [`BobModel::step`] models one fabric cycle with zero latency.

use crate::health::{HealthParams, HealthTests};
use crate::prng::LanePrngs;
use crate::{check_lanes, ModelError, MAX_LANES};
use qkd_abi::records::{CounterId, Detection, Record, Status, SLOT_BITS, SLOT_MASK};
use qkd_abi::regmap::bob as regs;
use qkd_abi::symbol::Basis;

pub use qkd_abi::regmap::bob::alarm;

/// Most detectors.
pub const MAX_DETECTORS: usize = 4;
/// Smallest `STATUS_INTERVAL_LOG2` that enables STATUS records.
pub const STATUS_LOG2_MIN: u32 = 6;
/// `BOB_CMD` strobe bit START.
pub const CMD_START: u32 = 1 << 0;
/// `BOB_CMD` strobe bit STOP.
pub const CMD_STOP: u32 = 1 << 1;
/// `BOB_CMD` strobe bit CLEAR_COUNTERS.
pub const CMD_CLEAR_COUNTERS: u32 = 1 << 2;
/// Alarm bits that make clicks invalid (all but STREAM_OVERFLOW, spec 5.5).
pub const INVALIDATING_ALARMS: u32 = alarm::AFTER_GATE
    | alarm::PHOTOCURRENT
    | alarm::CLICK_FRACTION
    | alarm::NO_DARK
    | alarm::RNG_RCT
    | alarm::RNG_APT;
const RNG_ALARMS: u32 = alarm::RNG_RCT | alarm::RNG_APT;

fn field(reg: &qkd_abi::Register, name: &str, value: u32) -> u32 {
    reg.field(name).map_or(0, |f| f.get(value))
}

/// Generation parameters of Bob's core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BobParams {
    /// LANES: 1, 2, 4 or 8.
    pub lanes: usize,
    /// OVERSAMPLE: 4, 8 or 16 samples per slot.
    pub oversample: usize,
    /// DETECTORS: 1 to 4.
    pub detectors: usize,
}

impl BobParams {
    /// Check the parameters.
    pub fn validate(&self) -> Result<(), ModelError> {
        check_lanes(self.lanes)?;
        if !matches!(self.oversample, 4 | 8 | 16) {
            return Err(ModelError::Oversample(self.oversample));
        }
        if !(1..=MAX_DETECTORS).contains(&self.detectors) {
            return Err(ModelError::Detectors(self.detectors));
        }
        Ok(())
    }
    /// APD samples per detector per cycle (`L*OS`, at most 128).
    pub fn samples_per_cycle(&self) -> usize {
        self.lanes * self.oversample
    }
}

impl Default for BobParams {
    fn default() -> BobParams {
        BobParams {
            lanes: 4,
            oversample: 8,
            detectors: 2,
        }
    }
}

/// Bob's programmable registers (raw 32-bit values). Read every cycle,
/// except SOURCE and the seed (latched at START) and the fiber delay
/// (latched at sync).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BobRegs {
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
    /// `BOB_CTRL`.
    pub bob_ctrl: u32,
    /// `BOB_FIBER_DELAY_SLOTS`.
    pub fiber_delay_slots: u32,
    /// `GATE_WINDOW`.
    pub gate_window: u32,
    /// `GATE_DEAD_TIME_SLOTS`.
    pub gate_dead_time_slots: u32,
    /// `GATE_BASIS_THRESH_Z`.
    pub gate_basis_thresh_z: u32,
    /// `AFTERGATE_LIMIT`.
    pub aftergate_limit: u32,
    /// `AFTERGATE_WINDOW_SLOTS`.
    pub aftergate_window_slots: u32,
    /// `PHOTOCURRENT_THRESHOLD`.
    pub photocurrent_threshold: u32,
    /// `CLICK_FRACTION_WINDOW_GATES`.
    pub click_fraction_window_gates: u32,
    /// `CLICK_FRACTION_LIMIT`.
    pub click_fraction_limit: u32,
    /// `NO_DARK_GATES`.
    pub no_dark_gates: u32,
}

impl Default for BobRegs {
    fn default() -> BobRegs {
        BobRegs::reset()
    }
}

impl BobRegs {
    /// Reset values from the qkd-abi map.
    pub fn reset() -> BobRegs {
        BobRegs {
            rng_ctrl: regs::RNG_CTRL.reset,
            rng_seed_lo: regs::RNG_SEED_LO.reset,
            rng_seed_hi: regs::RNG_SEED_HI.reset,
            rng_rct_cutoff: regs::RNG_RCT_CUTOFF.reset,
            rng_apt_window: regs::RNG_APT_WINDOW.reset,
            rng_apt_cutoff: regs::RNG_APT_CUTOFF.reset,
            stream_ctrl: regs::STREAM_CTRL.reset,
            bob_ctrl: regs::BOB_CTRL.reset,
            fiber_delay_slots: regs::BOB_FIBER_DELAY_SLOTS.reset,
            gate_window: regs::GATE_WINDOW.reset,
            gate_dead_time_slots: regs::GATE_DEAD_TIME_SLOTS.reset,
            gate_basis_thresh_z: regs::GATE_BASIS_THRESH_Z.reset,
            aftergate_limit: regs::AFTERGATE_LIMIT.reset,
            aftergate_window_slots: regs::AFTERGATE_WINDOW_SLOTS.reset,
            photocurrent_threshold: regs::PHOTOCURRENT_THRESHOLD.reset,
            click_fraction_window_gates: regs::CLICK_FRACTION_WINDOW_GATES.reset,
            click_fraction_limit: regs::CLICK_FRACTION_LIMIT.reset,
            no_dark_gates: regs::NO_DARK_GATES.reset,
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
        "BOB_CTRL",
        "BOB_FIBER_DELAY_SLOTS",
        "GATE_WINDOW",
        "GATE_DEAD_TIME_SLOTS",
        "GATE_BASIS_THRESH_Z",
        "AFTERGATE_LIMIT",
        "AFTERGATE_WINDOW_SLOTS",
        "PHOTOCURRENT_THRESHOLD",
        "CLICK_FRACTION_WINDOW_GATES",
        "CLICK_FRACTION_LIMIT",
        "NO_DARK_GATES",
    ];

    /// Build from a lookup by register name (e.g. `CsrBank::rw_lookup`);
    /// names the lookup does not know keep their reset value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<u32>) -> BobRegs {
        let mut r = BobRegs::reset();
        for n in Self::NAMES {
            if let Some(v) = lookup(n) {
                // Every name in NAMES is accepted by write().
                let _ = r.write(n, v);
            }
        }
        r
    }

    /// Write a register by name.
    pub fn write(&mut self, name: &str, value: u32) -> Result<(), ModelError> {
        let slot = match name {
            "RNG_CTRL" => &mut self.rng_ctrl,
            "RNG_SEED_LO" => &mut self.rng_seed_lo,
            "RNG_SEED_HI" => &mut self.rng_seed_hi,
            "RNG_RCT_CUTOFF" => &mut self.rng_rct_cutoff,
            "RNG_APT_WINDOW" => &mut self.rng_apt_window,
            "RNG_APT_CUTOFF" => &mut self.rng_apt_cutoff,
            "STREAM_CTRL" => &mut self.stream_ctrl,
            "BOB_CTRL" => &mut self.bob_ctrl,
            "BOB_FIBER_DELAY_SLOTS" => &mut self.fiber_delay_slots,
            "GATE_WINDOW" => &mut self.gate_window,
            "GATE_DEAD_TIME_SLOTS" => &mut self.gate_dead_time_slots,
            "GATE_BASIS_THRESH_Z" => &mut self.gate_basis_thresh_z,
            "AFTERGATE_LIMIT" => &mut self.aftergate_limit,
            "AFTERGATE_WINDOW_SLOTS" => &mut self.aftergate_window_slots,
            "PHOTOCURRENT_THRESHOLD" => &mut self.photocurrent_threshold,
            "CLICK_FRACTION_WINDOW_GATES" => &mut self.click_fraction_window_gates,
            "CLICK_FRACTION_LIMIT" => &mut self.click_fraction_limit,
            "NO_DARK_GATES" => &mut self.no_dark_gates,
            _ => return Err(ModelError::UnknownRegister(name.to_string())),
        };
        *slot = value;
        Ok(())
    }

    /// `RNG_CTRL.SOURCE == 1`: the test PRNG.
    pub fn source_prng(&self) -> bool {
        field(&regs::RNG_CTRL, "SOURCE", self.rng_ctrl) == 1
    }
    /// 64-bit seed.
    pub fn seed(&self) -> u64 {
        u64::from(self.rng_seed_hi) << 32 | u64::from(self.rng_seed_lo)
    }
    /// Health-test parameters.
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
    /// `BOB_CTRL.DETECTOR_ENABLE`.
    pub fn detector_enable(&self) -> u32 {
        field(&regs::BOB_CTRL, "DETECTOR_ENABLE", self.bob_ctrl)
    }
    /// `GATE_WINDOW.START_BIN`.
    pub fn start_bin(&self) -> u32 {
        field(&regs::GATE_WINDOW, "START_BIN", self.gate_window)
    }
    /// `GATE_WINDOW.END_BIN`.
    pub fn end_bin(&self) -> u32 {
        field(&regs::GATE_WINDOW, "END_BIN", self.gate_window)
    }
    /// `GATE_DEAD_TIME_SLOTS.SLOTS`.
    pub fn dead_time_slots(&self) -> u64 {
        field(
            &regs::GATE_DEAD_TIME_SLOTS,
            "SLOTS",
            self.gate_dead_time_slots,
        )
        .into()
    }
    /// `GATE_BASIS_THRESH_Z.THRESH`.
    pub fn basis_thresh_z(&self) -> u16 {
        field(
            &regs::GATE_BASIS_THRESH_Z,
            "THRESH",
            self.gate_basis_thresh_z,
        ) as u16
    }
    /// `AFTERGATE_LIMIT.COUNT`.
    pub fn aftergate_limit(&self) -> u64 {
        field(&regs::AFTERGATE_LIMIT, "COUNT", self.aftergate_limit).into()
    }
    /// `PHOTOCURRENT_THRESHOLD.ADC`.
    pub fn photocurrent_threshold(&self) -> u16 {
        field(
            &regs::PHOTOCURRENT_THRESHOLD,
            "ADC",
            self.photocurrent_threshold,
        ) as u16
    }
}

/// Field values decoded from [`BobRegs`] (cached while the registers do not change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Decoded {
    health: HealthParams,
    status_log2: u32,
    detector_enable: u32,
    start_bin: u32,
    end_bin: u32,
    dead_slots: u64,
    basis_thresh_z: u16,
    aftergate_limit: u64,
    photocurrent_threshold: u16,
}

impl Decoded {
    fn new(r: &BobRegs) -> Decoded {
        Decoded {
            health: r.health(),
            status_log2: r.status_log2(),
            detector_enable: r.detector_enable(),
            start_bin: r.start_bin(),
            end_bin: r.end_bin(),
            dead_slots: r.dead_time_slots(),
            basis_thresh_z: r.basis_thresh_z(),
            aftergate_limit: r.aftergate_limit(),
            photocurrent_threshold: r.photocurrent_threshold(),
        }
    }
}

/// Basis of a random word (spec 5.4): `Z if r_basis < thresh else X`.
#[inline]
pub fn basis_of(r: u64, thresh_z: u16) -> Basis {
    Basis::from_bit((r >> 32) as u16 >= thresh_z)
}

/// Bob's basis of lane `lane` in cycle `k` since START with the test PRNG
/// seeded by `seed` (random access, for fast simulation).
pub fn basis_at(seed: u64, lane: usize, k: u64, thresh_z: u16) -> Basis {
    basis_of(crate::prng::lane_word_at(seed, lane, k), thresh_z)
}

/// Per lane, the first rising edge of one detector's samples (spec 5.1).
///
/// `samples` holds `L*OS` bits (bit `l*OS + s` = sample `s` of lane `l`),
/// `prev_last` the last sample of the previous cycle. Returns the fine bin
/// of each lane's raw click (`None` = no click) and this cycle's last sample.
/// Unsupported sizes (`L*OS` of 0 or above 128, `OS > 16`) give no clicks.
pub fn first_rising_edges(
    samples: u128,
    prev_last: bool,
    lanes: usize,
    oversample: usize,
) -> ([Option<u8>; MAX_LANES], bool) {
    let mut out = [None; MAX_LANES];
    let n = lanes * oversample;
    if n == 0 || n > 128 || lanes > MAX_LANES || oversample > 16 {
        // Not a supported generation (see BobParams::validate): no clicks.
        return (out, prev_last);
    }
    let mask = if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    };
    let a = samples & mask;
    let prev = (a << 1) | u128::from(prev_last);
    let edges = a & !prev;
    let lane_mask = (1u128 << oversample) - 1;
    for (l, o) in out.iter_mut().enumerate().take(lanes) {
        let e = (edges >> (l * oversample)) & lane_mask;
        if e != 0 {
            *o = Some(e.trailing_zeros() as u8);
        }
    }
    (out, (a >> (n - 1)) & 1 != 0)
}

/// How a raw click was classified (spec 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClickClass {
    /// Inside the common dead time.
    DeadTimeSuppressed,
    /// Fine bin outside the gate window.
    AfterGate,
    /// An alarm was live or the cycle was a QRNG underrun.
    Invalid,
    /// A detection.
    Accepted,
}

/// One raw click on an enabled detector in a processed slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClickEvent {
    /// Full 64-bit slot index.
    pub slot: u64,
    /// Lane that carried the slot.
    pub lane: u8,
    /// Detector.
    pub detector: u8,
    /// Fine bin (first rising edge sample).
    pub fine_bin: u8,
    /// Classification.
    pub class: ClickClass,
}

/// Inputs of one fabric cycle.
#[derive(Debug, Clone, Copy, Default)]
pub struct BobInputs<'a> {
    /// `apd_d{d}`: per detector, `L*OS` samples (bit `l*OS + s`). Missing
    /// detectors read 0.
    pub apd: &'a [u128],
    /// `sync_in`.
    pub sync_in: bool,
    /// `qrng_data`, one word per lane.
    pub qrng_data: &'a [u64],
    /// `qrng_valid`.
    pub qrng_valid: bool,
    /// `adc_d{d}` with `adc_valid_d{d}`: per detector, `Some(sample)` when
    /// valid (12-bit).
    pub adc: &'a [Option<u16>],
    /// `BOB_CMD` strobe bits active in this cycle.
    pub cmd: u32,
    /// `BOB_ALARMS` W1C mask written in this cycle.
    pub alarms_clear: u32,
}

/// Outputs of one fabric cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BobOutputs {
    /// `gate_en`: bit `l*ND + d`.
    pub gate_en: u32,
    /// `basis_out`: bit `l`, 1 = X.
    pub basis_out: u8,
    /// `qrng_ready`.
    pub qrng_ready: bool,
}

/// The counters block (`GATES`, `ACCEPTED`, ..., `CLICKS_Dd`), since START
/// or CLEAR_COUNTERS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BobCounters {
    /// `GATES_HI:LO`: processed slots with at least one gate open.
    pub gates: u64,
    /// `ACCEPTED` (32-bit wrapping in the CSR).
    pub accepted: u64,
    /// `AFTER_GATE`.
    pub after_gate: u64,
    /// `DEAD_TIME_SUPPRESSED`.
    pub dead_time_suppressed: u64,
    /// `INVALID`.
    pub invalid: u64,
    /// `CLICKS_Dd`.
    pub clicks: [u64; MAX_DETECTORS],
}

/// Accumulators of one STATUS interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Interval {
    slots: u64,
    counts: BobCounters,
    photocurrent_max: [u16; MAX_DETECTORS],
    alarms_seen: u32,
}

/// State of the click-statistics alarms (spec 5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Watchdogs {
    ag_count: u64,
    ag_pos: u64,
    cf_count: u64,
    cf_pos: u64,
    no_dark_run: u64,
}

/// Cycle-stepped model of Bob's core with `tready` always high.
#[derive(Debug, Clone)]
pub struct BobModel {
    params: BobParams,
    /// Register values.
    pub regs: BobRegs,
    running: bool,
    synced: bool,
    /// Cycles since START (PRNG step of the next cycle).
    cycle: u64,
    /// Cycles since sync (`c - c0` of the next cycle).
    since_sync: u64,
    fiber_delay: u64,
    source_prng: bool,
    prngs: LanePrngs,
    health: Vec<HealthTests>,
    prev_last: [bool; MAX_DETECTORS],
    dead_until: u64,
    wd: Watchdogs,
    over: [bool; MAX_DETECTORS],
    photocurrent_last: [u16; MAX_DETECTORS],
    sticky: u32,
    live: u32,
    live_end: u32,
    counters: BobCounters,
    interval: Interval,
    epoch: u64,
    qrng_words: u32,
    records: Vec<Record>,
    clicks: Vec<ClickEvent>,
    decoded: (BobRegs, Decoded),
}

impl BobModel {
    /// Model of a core in its reset state.
    pub fn new(params: BobParams) -> Result<BobModel, ModelError> {
        params.validate()?;
        Ok(BobModel {
            params,
            regs: BobRegs::reset(),
            running: false,
            synced: false,
            cycle: 0,
            since_sync: 0,
            fiber_delay: 0,
            source_prng: false,
            prngs: LanePrngs::new(0, params.lanes),
            health: vec![HealthTests::new(); params.lanes],
            prev_last: [false; MAX_DETECTORS],
            dead_until: 0,
            wd: Watchdogs::default(),
            over: [false; MAX_DETECTORS],
            photocurrent_last: [0; MAX_DETECTORS],
            sticky: 0,
            live: 0,
            live_end: 0,
            counters: BobCounters::default(),
            interval: Interval::default(),
            epoch: 0,
            qrng_words: 0,
            records: Vec::new(),
            clicks: Vec::new(),
            decoded: (BobRegs::reset(), Decoded::new(&BobRegs::reset())),
        })
    }

    /// Generation parameters.
    pub fn params(&self) -> BobParams {
        self.params
    }
    /// `BOB_STATE.RUNNING`.
    pub fn running(&self) -> bool {
        self.running
    }
    /// `BOB_STATE.SYNCED`.
    pub fn synced(&self) -> bool {
        self.synced
    }
    /// `BOB_STATE` register value after the last cycle (ALARM_LIVE = the live
    /// bits as of the end of that cycle, i.e. those the next cycle uses,
    /// RNG bits from the sticky register).
    pub fn state_reg(&self) -> u32 {
        u32::from(self.running) | u32::from(self.synced) << 1 | (self.live_end & 0x7F) << 8
    }
    /// `BOB_ALARMS` sticky bits.
    pub fn alarms(&self) -> u32 {
        self.sticky
    }
    /// Alarm bits live in (used by) the last stepped cycle.
    pub fn alarms_live(&self) -> u32 {
        self.live
    }
    /// Alarm bits live at the end of the last stepped cycle.
    pub fn alarms_live_end(&self) -> u32 {
        self.live_end
    }
    /// The counters block.
    pub fn counters(&self) -> BobCounters {
        self.counters
    }
    /// `PHOTOCURRENT_LAST_Dd`.
    pub fn photocurrent_last(&self) -> [u16; MAX_DETECTORS] {
        self.photocurrent_last
    }
    /// `RNG_QRNG_WORDS`.
    pub fn qrng_words(&self) -> u32 {
        self.qrng_words
    }
    /// Running cycles since START (the PRNG step of the next cycle).
    pub fn cycles_since_start(&self) -> u64 {
        self.cycle
    }
    /// Processing cycles since sync (`c - c0` of the next cycle).
    pub fn cycles_since_sync(&self) -> u64 {
        self.since_sync
    }
    /// Current `dead_until` (slot index, exclusive).
    pub fn dead_until(&self) -> u64 {
        self.dead_until
    }
    /// Records produced so far (not yet taken).
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    /// Take the records produced so far.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }
    /// Raw clicks of the last stepped cycle and their classes, in
    /// classification order (slot, then detector).
    pub fn last_clicks(&self) -> &[ClickEvent] {
        &self.clicks
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
        self.synced = false;
        self.cycle = 0;
        self.since_sync = 0;
        self.source_prng = self.regs.source_prng();
        self.prngs = LanePrngs::new(self.regs.seed(), self.params.lanes);
        self.health.iter_mut().for_each(|h| *h = HealthTests::new());
        self.dead_until = 0;
        self.wd = Watchdogs::default();
        self.counters = BobCounters::default();
        self.interval = Interval::default();
        self.epoch = 0;
    }

    /// Live bits of the click-statistics watchdogs from their state.
    fn watchdog_live(&self) -> u32 {
        if !self.synced {
            return 0;
        }
        let r = &self.regs;
        let mut v = 0;
        if self.wd.ag_count > self.decoded.1.aftergate_limit {
            v |= alarm::AFTER_GATE;
        }
        if self.wd.cf_count > u64::from(r.click_fraction_limit) {
            v |= alarm::CLICK_FRACTION;
        }
        if self.wd.no_dark_run >= u64::from(r.no_dark_gates) {
            v |= alarm::NO_DARK;
        }
        v
    }

    fn photocurrent_live(&self) -> u32 {
        if self.over.iter().any(|&o| o) {
            alarm::PHOTOCURRENT
        } else {
            0
        }
    }

    /// Advance one fabric cycle.
    pub fn step(&mut self, inp: &BobInputs<'_>) -> BobOutputs {
        let p = self.params;
        let (l_n, nd) = (p.lanes, p.detectors);
        let mut out = BobOutputs::default();
        self.clicks.clear();
        if self.decoded.0 != self.regs {
            self.decoded = (self.regs, Decoded::new(&self.regs));
        }
        let dc = self.decoded.1;

        // ---- TDC (free running) ----
        let mut bins = [[None; MAX_LANES]; MAX_DETECTORS];
        for (d, b) in bins.iter_mut().enumerate().take(nd) {
            let a = inp.apd.get(d).copied().unwrap_or(0);
            let (e, last) = first_rising_edges(a, self.prev_last[d], l_n, p.oversample);
            *b = e;
            self.prev_last[d] = last;
        }

        // ---- Sync ----
        if self.running && !self.synced && inp.sync_in {
            self.synced = true;
            self.since_sync = 0;
            self.fiber_delay = u64::from(self.regs.fiber_delay_slots);
            self.dead_until = 0;
            self.records.push(Record::Epoch(0));
        }

        // ---- Random words and health tests ----
        let mut words = [0u64; MAX_LANES];
        let mut fails = 0u32;
        let mut underrun = false;
        if self.running {
            self.prngs.next_words(&mut words[..l_n]);
            if !self.source_prng {
                out.qrng_ready = true;
                for (l, w) in words.iter_mut().enumerate().take(l_n) {
                    *w = inp.qrng_data.get(l).copied().unwrap_or(0);
                }
                if inp.qrng_valid {
                    self.qrng_words = self.qrng_words.wrapping_add(1);
                    let hp = dc.health;
                    for (w, h) in words.iter().zip(self.health.iter_mut()) {
                        let r = h.sample(*w, &hp);
                        if r.rct_fail {
                            fails |= alarm::RNG_RCT;
                        }
                        if r.apt_fail {
                            fails |= alarm::RNG_APT;
                        }
                    }
                } else {
                    underrun = true;
                }
            }
            let tz = dc.basis_thresh_z;
            for (l, w) in words.iter().enumerate().take(l_n) {
                if basis_of(*w, tz) == Basis::X {
                    out.basis_out |= 1 << l;
                }
            }
        }

        // ---- Live alarms of this cycle (events of earlier cycles; RNG: this one too) ----
        let live =
            self.watchdog_live() | self.photocurrent_live() | ((self.sticky | fails) & RNG_ALARMS);
        self.live = live;
        let invalidate = live & INVALIDATING_ALARMS != 0 || underrun;

        // ---- Gates, classification, records ----
        let processing = self.running && self.synced;
        let enable = dc.detector_enable & ((1 << nd) - 1);
        let (start_bin, end_bin) = (dc.start_bin, dc.end_bin);
        let dead_slots = dc.dead_slots;
        let dead_start = self.dead_until;
        let mut processed = 0u64;
        let mut first_i = None;
        let mut last_i = 0u64;
        let mut raw_in_cycle = 0u64;
        let mut ag_in_cycle = 0u64;
        if processing {
            let base = self.since_sync * l_n as u64;
            for l in 0..l_n {
                let pos = base + l as u64;
                if pos < self.fiber_delay {
                    continue;
                }
                let i = pos - self.fiber_delay;
                processed += 1;
                first_i.get_or_insert(i);
                last_i = i;
                if enable != 0 && i >= dead_start {
                    for d in 0..nd {
                        if enable >> d & 1 != 0 {
                            out.gate_en |= 1 << (l * nd + d);
                        }
                    }
                    self.counters.gates += 1;
                    self.interval.counts.gates += 1;
                }
                let suppressed = i < self.dead_until;
                let mut any = false;
                for (d, b) in bins.iter().enumerate().take(nd) {
                    let Some(bin) = b[l] else { continue };
                    if enable >> d & 1 == 0 {
                        continue;
                    }
                    any = true;
                    raw_in_cycle += 1;
                    let class = if suppressed {
                        ClickClass::DeadTimeSuppressed
                    } else if u32::from(bin) < start_bin || u32::from(bin) > end_bin {
                        ClickClass::AfterGate
                    } else if invalidate {
                        ClickClass::Invalid
                    } else {
                        ClickClass::Accepted
                    };
                    for c in [&mut self.counters, &mut self.interval.counts] {
                        c.clicks[d] += 1;
                        match class {
                            ClickClass::DeadTimeSuppressed => c.dead_time_suppressed += 1,
                            ClickClass::AfterGate => c.after_gate += 1,
                            ClickClass::Invalid => c.invalid += 1,
                            ClickClass::Accepted => c.accepted += 1,
                        }
                    }
                    if class == ClickClass::AfterGate {
                        ag_in_cycle += 1;
                    }
                    self.clicks.push(ClickEvent {
                        slot: i,
                        lane: l as u8,
                        detector: d as u8,
                        fine_bin: bin,
                        class,
                    });
                    if matches!(class, ClickClass::Accepted | ClickClass::Invalid) {
                        let det = Detection {
                            slot: i & SLOT_MASK,
                            detector: d as u8,
                            fine_bin: bin,
                            basis: Basis::from_bit(out.basis_out >> l & 1 != 0),
                            invalid: class == ClickClass::Invalid,
                        };
                        self.push_record(i, Record::Detection(det));
                    }
                }
                if any && !suppressed {
                    self.dead_until = i + 1 + dead_slots;
                }
            }
            self.interval.slots += processed;
        }

        // ---- Photocurrent ADC (every cycle) ----
        let thr = dc.photocurrent_threshold;
        for d in 0..nd {
            if let Some(Some(x)) = inp.adc.get(d) {
                let x = x & 0xFFF;
                self.over[d] = x > thr;
                self.photocurrent_last[d] = x;
                if processing {
                    self.interval.photocurrent_max[d] = self.interval.photocurrent_max[d].max(x);
                }
            }
        }

        // ---- Watchdog state update (end of cycle) ----
        if processing {
            let r = &self.regs;
            let ag_w = (u64::from(r.aftergate_window_slots) / l_n as u64).max(1);
            let cf_w = (u64::from(r.click_fraction_window_gates) / l_n as u64).max(1);
            self.wd.ag_count += ag_in_cycle;
            self.wd.ag_pos += 1;
            if self.wd.ag_pos >= ag_w {
                self.wd.ag_pos = 0;
                self.wd.ag_count = 0;
            }
            self.wd.cf_count += raw_in_cycle;
            self.wd.cf_pos += 1;
            if self.wd.cf_pos >= cf_w {
                self.wd.cf_pos = 0;
                self.wd.cf_count = 0;
            }
            if raw_in_cycle > 0 {
                self.wd.no_dark_run = 0;
            } else {
                self.wd.no_dark_run += processed;
            }
        }

        // ---- Sticky alarms, W1C ----
        let events = fails | (live & !RNG_ALARMS);
        if inp.alarms_clear & RNG_ALARMS != 0 {
            self.health.iter_mut().for_each(|h| *h = HealthTests::new());
        }
        self.sticky = (self.sticky & !inp.alarms_clear) | events;
        self.live_end =
            self.watchdog_live() | self.photocurrent_live() | (self.sticky & RNG_ALARMS);
        if processing {
            self.interval.alarms_seen |= live;
        }

        // ---- STATUS ----
        if let (true, Some(first)) = (processing, first_i) {
            let t = dc.status_log2;
            if t >= STATUS_LOG2_MIN {
                let end = last_i + 1;
                // Some multiple b of 2^t with first < b <= end = i_last + 1:
                // the cycle ends an interval or crosses into the next one.
                if (end >> t) != (first >> t) {
                    self.emit_status(end);
                }
            }
        }

        // ---- Commands (end of cycle) ----
        if self.running {
            self.cycle += 1;
            if self.synced {
                self.since_sync += 1;
            }
        }
        if inp.cmd & CMD_CLEAR_COUNTERS != 0 {
            self.counters = BobCounters::default();
        }
        if inp.cmd & CMD_STOP != 0 {
            self.running = false;
        }
        if inp.cmd & CMD_START != 0 {
            self.start();
        }
        out
    }

    fn emit_status(&mut self, end: u64) {
        let nd = self.params.detectors;
        let iv = self.interval;
        let mut c = vec![
            (CounterId::IntervalSlots, iv.slots),
            (CounterId::Gates, iv.counts.gates),
        ];
        c.extend((0..nd).map(|d| (CounterId::Clicks(d as u8), iv.counts.clicks[d])));
        c.extend([
            (CounterId::Accepted, iv.counts.accepted),
            (CounterId::AfterGate, iv.counts.after_gate),
            (
                CounterId::DeadTimeSuppressed,
                iv.counts.dead_time_suppressed,
            ),
            (CounterId::Invalid, iv.counts.invalid),
        ]);
        c.extend((0..nd).map(|d| {
            (
                CounterId::PhotocurrentMax(d as u8),
                u64::from(iv.photocurrent_max[d]),
            )
        }));
        c.extend([
            (CounterId::AlarmsLive, u64::from(self.live_end)),
            (
                CounterId::AlarmsSeen,
                u64::from(iv.alarms_seen | self.live_end),
            ),
        ]);
        self.interval = Interval::default();
        self.push_record(
            end,
            Record::Status(Status {
                slot: end & SLOT_MASK,
                counters: c,
            }),
        );
    }
}

/// Check the accounting identity of a Bob STATUS record (spec 5.3):
/// `sum_d Clicks(d) = Accepted + AfterGate + DeadTimeSuppressed + Invalid`.
/// Returns the two sides.
pub fn status_accounting(s: &Status) -> (u64, u64) {
    let mut raw = 0;
    let mut classified = 0;
    for &(id, v) in &s.counters {
        match id {
            CounterId::Clicks(_) => raw += v,
            CounterId::Accepted
            | CounterId::AfterGate
            | CounterId::DeadTimeSuppressed
            | CounterId::Invalid => classified += v,
            _ => {}
        }
    }
    (raw, classified)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: BobParams = BobParams {
        lanes: 4,
        oversample: 8,
        detectors: 2,
    };

    /// PRNG source, no STATUS, gate window [1, 5], dead time 3 slots.
    fn regs() -> BobRegs {
        let mut r = BobRegs::reset();
        r.rng_ctrl = 1;
        r.stream_ctrl = 0;
        r.gate_window = 5 << 8 | 1;
        r.gate_dead_time_slots = 3;
        r
    }

    /// A click with its rising edge at `bin` in `lane` (a 1-sample pulse).
    fn pulse(lane: usize, bin: usize) -> u128 {
        1u128 << (lane * 8 + bin)
    }

    struct Bench {
        m: BobModel,
    }

    impl Bench {
        fn new(r: BobRegs) -> Bench {
            let mut m = BobModel::new(P).unwrap();
            m.regs = r;
            m.step(&BobInputs {
                cmd: CMD_START,
                ..Default::default()
            });
            Bench { m }
        }
        fn cycle(&mut self, apd: [u128; 2], sync: bool) -> BobOutputs {
            self.m.step(&BobInputs {
                apd: &apd,
                sync_in: sync,
                ..Default::default()
            })
        }
        fn classes(&self) -> Vec<(u64, u8, ClickClass)> {
            self.m
                .last_clicks()
                .iter()
                .map(|c| (c.slot, c.detector, c.class))
                .collect()
        }
    }

    #[test]
    fn tdc_first_rising_edge_per_lane() {
        // Lane 0: samples 2..5 high -> bin 2. Lane 1: high from sample 0,
        // continuing lane 0? No: lane 0's last sample (7) is 0, so bin 0.
        let a: u128 = 0b0011_1100 | 0b0000_0001 << 8;
        let (e, last) = first_rising_edges(a, false, 4, 8);
        assert_eq!(&e[..4], &[Some(2), Some(0), None, None]);
        assert!(!last);
        // A level high across the lane boundary is not a new edge.
        let a: u128 = 0b1000_0000 | 0b0000_0011 << 8;
        let (e, _) = first_rising_edges(a, false, 4, 8);
        assert_eq!(&e[..2], &[Some(7), None]);
        // Across the cycle boundary: previous cycle ended high.
        let (e, _) = first_rising_edges(1, true, 4, 8);
        assert_eq!(e[0], None);
        let (e, _) = first_rising_edges(1, false, 4, 8);
        assert_eq!(e[0], Some(0));
        // Two edges in one slot: only the first counts.
        let (e, _) = first_rising_edges(0b1010_0100, false, 4, 8);
        assert_eq!(e[0], Some(2));
        // OVERSAMPLE 16 x 8 lanes uses all 128 bits.
        let (e, last) = first_rising_edges(1u128 << 127, false, 8, 16);
        assert_eq!(e[7], Some(15));
        assert!(last);
    }

    #[test]
    fn model_tdc_carries_last_sample_across_cycles() {
        let mut b = Bench::new(regs());
        b.cycle([0, 0], true);
        b.cycle([1u128 << 31, 0], false); // lane 3 bin 7: after-gate click, slot 7
        b.cycle([1, 0], false); // still high: no edge in slot 8
        assert!(b.m.last_clicks().is_empty());
        b.cycle([0, 0], false);
        b.cycle([1 << 1, 0], false); // slot 16 bin 1, accepted (dead time over)
        assert_eq!(b.classes(), vec![(16, 0, ClickClass::Accepted)]);
    }

    #[test]
    fn slots_align_to_sync_with_fiber_delay() {
        let mut r = regs();
        r.fiber_delay_slots = 5;
        let mut b = Bench::new(r);
        // Before sync: nothing gated, clicks ignored.
        let o = b.cycle([pulse(0, 2), 0], false);
        assert_eq!(o.gate_en, 0);
        assert!(!b.m.synced());
        let o = b.cycle([pulse(3, 2), 0], true); // c0: positions 0..3 -> i < 0
        assert!(b.m.synced());
        assert_eq!(o.gate_en, 0);
        assert!(b.m.last_clicks().is_empty());
        assert_eq!(b.m.take_records(), vec![Record::Epoch(0)]);
        // c0+1: positions 4..7 -> slots -1, 0, 1, 2 on lanes 0..3.
        let o = b.cycle([pulse(0, 2) | pulse(1, 2), 0], false);
        assert_eq!(o.gate_en, 0b11_11_11_00);
        assert_eq!(b.classes(), vec![(0, 0, ClickClass::Accepted)]);
        let recs = b.m.take_records();
        assert_eq!(recs.len(), 1);
        let Record::Detection(d) = recs[0] else {
            panic!()
        };
        assert_eq!(
            (d.slot, d.detector, d.fine_bin, d.invalid),
            (0, 0, 2, false)
        );
        assert_eq!(d.basis, Basis::from_bit(o.basis_out >> 1 & 1 != 0));
    }

    #[test]
    fn common_dead_time_suppresses_every_detector() {
        let mut b = Bench::new(regs());
        // Slot 1 (lane 1) det 0 accepted -> dead_until = 1 + 1 + 3 = 5.
        // Slot 2 det 1, slot 3 det 0 suppressed.
        b.cycle([pulse(1, 3) | pulse(3, 3), pulse(2, 3)], true);
        assert_eq!(
            b.classes(),
            vec![
                (1, 0, ClickClass::Accepted),
                (2, 1, ClickClass::DeadTimeSuppressed),
                (3, 0, ClickClass::DeadTimeSuppressed)
            ]
        );
        assert_eq!(b.m.dead_until(), 5);
        // Next cycle, slots 4..7: gates use dead_until at cycle start (5):
        // slot 4 has no gate; slot 4 click suppressed (does not extend),
        // slot 5 accepted.
        let o = b.cycle([pulse(0, 3) | pulse(1, 3), pulse(1, 4)], false);
        assert_eq!(o.gate_en, 0b11_11_11_00);
        assert_eq!(
            b.classes(),
            vec![
                (4, 0, ClickClass::DeadTimeSuppressed),
                (5, 0, ClickClass::Accepted),
                (5, 1, ClickClass::Accepted)
            ]
        );
        assert_eq!(b.m.dead_until(), 9);
        let c = b.m.counters();
        assert_eq!(c.accepted, 3);
        assert_eq!(c.dead_time_suppressed, 3);
        assert_eq!(c.clicks[0] + c.clicks[1], 6);
        // Gates: slots 0..3 all open (dead_until 0 at cycle start), then 5..7.
        assert_eq!(c.gates, 4 + 3);
    }

    #[test]
    fn after_gate_and_invalid_clicks_start_the_dead_time_too() {
        let mut b = Bench::new(regs());
        // Slot 0 bin 0 < START_BIN 1: after-gate; slot 2 suppressed.
        b.cycle([pulse(0, 0), pulse(2, 2)], true);
        assert_eq!(
            b.classes(),
            vec![
                (0, 0, ClickClass::AfterGate),
                (2, 1, ClickClass::DeadTimeSuppressed)
            ]
        );
        assert_eq!(b.m.dead_until(), 4);
        // Bin 6 > END_BIN 5 on slot 4 and bin 5 (inside) on det 1, same slot: both classified.
        b.cycle([pulse(0, 6), pulse(0, 5)], false);
        assert_eq!(
            b.classes(),
            vec![(4, 0, ClickClass::AfterGate), (4, 1, ClickClass::Accepted)]
        );
        assert!(b
            .m
            .take_records()
            .iter()
            .all(|r| !matches!(r, Record::Detection(d) if d.fine_bin == 6)));
    }

    #[test]
    fn disabled_detectors_are_ignored() {
        let mut r = regs();
        r.bob_ctrl = 0b10;
        let mut b = Bench::new(r);
        let o = b.cycle([pulse(0, 2), 0], true);
        assert_eq!(o.gate_en, 0b10_10_10_10);
        assert!(b.m.last_clicks().is_empty());
        assert_eq!(b.m.counters().clicks[0], 0);
        r.bob_ctrl = 0;
        b.m.regs = r;
        let o = b.cycle([0, pulse(0, 2)], false);
        assert_eq!(o.gate_en, 0);
        assert_eq!(b.m.counters().gates, 4, "no gate open: not a gate");
    }

    #[test]
    fn after_gate_burst_raises_alarm_and_invalidates() {
        let mut r = regs();
        r.gate_dead_time_slots = 0;
        r.aftergate_limit = 2;
        r.aftergate_window_slots = 16; // 4 cycles
        let mut b = Bench::new(r);
        // Three after-gate clicks in cycle c0 (limit 2).
        b.cycle([pulse(0, 7) | pulse(2, 7), pulse(1, 7)], true);
        assert_eq!(b.m.alarms_live() & alarm::AFTER_GATE, 0);
        // Live from the next cycle: an in-window click is invalid.
        b.cycle([pulse(0, 3), 0], false);
        assert_eq!(b.m.alarms_live(), alarm::AFTER_GATE);
        assert_eq!(b.classes(), vec![(4, 0, ClickClass::Invalid)]);
        assert_ne!(b.m.alarms() & alarm::AFTER_GATE, 0);
        let recs = b.m.take_records();
        assert!(matches!(recs.last(), Some(Record::Detection(d)) if d.invalid && d.slot == 4));
        b.cycle([0, 0], false);
        b.cycle([0, 0], false);
        // New window (cycle c0 + 4): count restarts, alarm no longer live.
        b.cycle([pulse(0, 3), 0], false);
        assert_eq!(b.m.alarms_live(), 0);
        assert_eq!(b.classes(), vec![(16, 0, ClickClass::Accepted)]);
        // Sticky stays until W1C.
        assert_ne!(b.m.alarms() & alarm::AFTER_GATE, 0);
        b.m.step(&BobInputs {
            alarms_clear: alarm::AFTER_GATE,
            ..Default::default()
        });
        assert_eq!(b.m.alarms(), 0);
    }

    #[test]
    fn photocurrent_step_invalidates_following_detections() {
        let mut b = Bench::new(regs());
        b.cycle([0, 0], true);
        // A sample just above threshold in this cycle: live from the next one.
        let adc = [Some(0x401u16), None];
        b.m.step(&BobInputs {
            apd: &[pulse(0, 2), 0],
            adc: &adc,
            ..Default::default()
        });
        assert_eq!(b.classes(), vec![(4, 0, ClickClass::Accepted)]);
        b.cycle([pulse(0, 2), 0], false);
        assert_eq!(b.classes(), vec![(8, 0, ClickClass::Invalid)]);
        assert_eq!(b.m.alarms_live(), alarm::PHOTOCURRENT);
        // A sample at the threshold (not above) clears `over`.
        let adc = [Some(0x400u16), None];
        b.m.step(&BobInputs {
            adc: &adc,
            ..Default::default()
        });
        b.cycle([pulse(0, 2), 0], false);
        assert_eq!(b.classes(), vec![(16, 0, ClickClass::Accepted)]);
        assert_eq!(b.m.photocurrent_last()[0], 0x400);
    }

    #[test]
    fn blinding_click_on_every_gate_raises_click_fraction() {
        let mut r = regs();
        r.gate_dead_time_slots = 0;
        r.click_fraction_window_gates = 64; // 16 cycles
        r.click_fraction_limit = 10;
        let mut b = Bench::new(r);
        let all = pulse(0, 2) | pulse(1, 2) | pulse(2, 2) | pulse(3, 2);
        let mut first_live = None;
        for c in 0..16 {
            b.cycle([all, 0], c == 0);
            if first_live.is_none() && b.m.alarms_live() & alarm::CLICK_FRACTION != 0 {
                first_live = Some(c);
            }
        }
        // 4 clicks per cycle: 12 > 10 after three cycles -> live in the fourth.
        assert_eq!(first_live, Some(3));
        assert_eq!(b.m.counters().accepted, 12);
        assert_eq!(b.m.counters().invalid, 64 - 12);
    }

    #[test]
    fn no_dark_counts_raise_no_dark() {
        let mut r = regs();
        r.no_dark_gates = 40;
        let mut b = Bench::new(r);
        b.cycle([pulse(0, 2), 0], true);
        for c in 0..10 {
            b.cycle([0, 0], false);
            assert_eq!(b.m.alarms_live(), 0, "cycle {c}: run {}", 4 * c);
        }
        b.cycle([pulse(0, 2), 0], false);
        assert_eq!(b.m.alarms_live(), alarm::NO_DARK);
        assert_eq!(b.classes()[0].2, ClickClass::Invalid);
        b.cycle([0, 0], false);
        assert_eq!(b.m.alarms_live(), 0, "the click reset the run");
    }

    #[test]
    fn qrng_underrun_and_health_alarm_make_clicks_invalid() {
        let mut r = regs();
        r.rng_ctrl = 0;
        let mut b = Bench::new(r);
        let w = [1u64, 2, 3, 4];
        b.m.step(&BobInputs {
            apd: &[pulse(0, 2), 0],
            sync_in: true,
            qrng_data: &w,
            qrng_valid: true,
            ..Default::default()
        });
        assert_eq!(b.classes(), vec![(0, 0, ClickClass::Accepted)]);
        b.cycle([pulse(0, 2), 0], false); // underrun
        assert_eq!(b.classes(), vec![(4, 0, ClickClass::Invalid)]);
        assert_eq!(b.m.alarms(), 0, "an underrun is not a Bob alarm");
        // Stuck words: RCT (cutoff 6) fails on the 6th, in that very cycle.
        let stuck = [9u64; 4];
        for k in 0..6 {
            b.m.step(&BobInputs {
                apd: &[pulse(0, 2), 0],
                qrng_data: &stuck,
                qrng_valid: true,
                ..Default::default()
            });
            let want = if k == 5 {
                ClickClass::Invalid
            } else {
                ClickClass::Accepted
            };
            assert_eq!(b.classes()[0].2, want, "cycle {k}");
        }
        assert_eq!(b.m.alarms() & alarm::RNG_RCT, alarm::RNG_RCT);
    }

    #[test]
    fn status_records_count_the_interval() {
        let mut r = regs();
        r.stream_ctrl = 6; // every 64 slots
        r.fiber_delay_slots = 2; // boundaries fall mid-cycle
        let mut b = Bench::new(r);
        let mut slot_clicks = 0;
        for c in 0..40u64 {
            let apd = if c % 3 == 0 {
                pulse(2, 2) | pulse(3, 0)
            } else {
                0
            };
            b.cycle([apd, pulse(1, 4)], c == 0);
            slot_clicks += b.m.last_clicks().len();
        }
        let recs = b.m.take_records();
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
        // Processed slots: 40*4 - 2 = 158 -> boundaries at 64 and 128 in
        // cycles whose last slot is 65 and 129.
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].slot, 66);
        assert_eq!(st[0].get(CounterId::IntervalSlots), Some(66));
        assert_eq!(st[1].slot, 130);
        assert_eq!(st[1].get(CounterId::IntervalSlots), Some(64));
        let mut total = 0;
        for s in &st {
            let (raw, cls) = status_accounting(s);
            assert_eq!(raw, cls);
            total += raw;
            let ids: Vec<CounterId> = s.counters.iter().map(|c| c.0).collect();
            assert_eq!(
                ids,
                vec![
                    CounterId::IntervalSlots,
                    CounterId::Gates,
                    CounterId::Clicks(0),
                    CounterId::Clicks(1),
                    CounterId::Accepted,
                    CounterId::AfterGate,
                    CounterId::DeadTimeSuppressed,
                    CounterId::Invalid,
                    CounterId::PhotocurrentMax(0),
                    CounterId::PhotocurrentMax(1),
                    CounterId::AlarmsLive,
                    CounterId::AlarmsSeen,
                ]
            );
        }
        assert!(total > 0 && total <= slot_clicks as u64);
    }

    #[test]
    fn stop_restart_and_clear_counters() {
        let mut b = Bench::new(regs());
        b.cycle([pulse(0, 2), 0], true);
        assert_eq!(b.m.counters().accepted, 1);
        b.m.step(&BobInputs {
            cmd: CMD_CLEAR_COUNTERS,
            ..Default::default()
        });
        assert_eq!(b.m.counters(), BobCounters::default());
        // STOP: its own cycle is still processed, the next is not.
        b.m.step(&BobInputs {
            apd: &[pulse(0, 2), 0],
            cmd: CMD_STOP,
            ..Default::default()
        });
        assert_eq!(b.classes(), vec![(8, 0, ClickClass::Accepted)]);
        assert!(!b.m.running());
        let o = b.cycle([pulse(0, 2), 0], true);
        assert_eq!((o.gate_en, o.basis_out), (0, 0));
        assert!(b.m.last_clicks().is_empty());
        assert_eq!(b.m.state_reg() & 3, 0b10, "SYNCED stays, RUNNING low");
        // START again: waits for a new sync, slot 0 restarts.
        b.m.take_records();
        b.m.step(&BobInputs {
            cmd: CMD_START,
            ..Default::default()
        });
        assert_eq!(b.m.state_reg() & 3, 0b01);
        b.cycle([0, 0], false);
        b.cycle([pulse(2, 2), 0], true);
        assert_eq!(b.classes(), vec![(2, 0, ClickClass::Accepted)]);
        assert_eq!(b.m.records()[0], Record::Epoch(0));
    }

    #[test]
    fn rng_alarm_clear_resets_the_tests_and_live_bits() {
        let mut r = regs();
        r.rng_ctrl = 0;
        let mut b = Bench::new(r);
        let stuck = [5u64; 4];
        let q = |b: &mut Bench, clear: u32| {
            b.m.step(&BobInputs {
                apd: &[pulse(0, 2), 0],
                qrng_data: &stuck,
                qrng_valid: true,
                sync_in: true,
                alarms_clear: clear,
                ..Default::default()
            });
        };
        for _ in 0..6 {
            q(&mut b, 0);
        }
        assert_eq!(b.m.alarms(), alarm::RNG_RCT);
        assert_eq!(b.m.state_reg() >> 8, alarm::RNG_RCT);
        // Clear: the clearing cycle still fails (B = 7 >= 6): the failure wins.
        q(&mut b, alarm::RNG_RCT);
        assert_eq!(b.m.alarms(), alarm::RNG_RCT);
        // Clear again: the tests restart, so five more identical words pass.
        q(&mut b, alarm::RNG_RCT);
        for k in 0..5 {
            q(&mut b, 0);
            assert_eq!(b.m.alarms(), 0, "word {k} after the clear");
            assert_eq!(b.classes()[0].2, ClickClass::Accepted);
        }
        q(&mut b, 0);
        assert_eq!(b.m.alarms(), alarm::RNG_RCT);
    }

    #[test]
    fn basis_out_follows_the_prng_from_start() {
        let mut b = Bench::new(regs());
        for k in 0..20u64 {
            let o = b.cycle([0, 0], k == 5);
            for l in 0..4 {
                let want = basis_at(0, l, k, regs().basis_thresh_z());
                assert_eq!(
                    Basis::from_bit(o.basis_out >> l & 1 != 0),
                    want,
                    "cycle {k} lane {l}"
                );
            }
        }
    }
}
