// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's gateware processing, event driven: exactly the semantics of
//! docs/gateware-spec.md sections 5.2-5.6 (slot alignment, click
//! classification with the common dead time, gate counting, alarms with
//! cycle granularity, STATUS accounting, EPOCH records), but visiting only
//! the cycles that carry a raw click or a non-baseline photocurrent sample.
//! Event-free stretches are accounted in O(1) per piece (a piece ends where
//! a STATUS is due or a live alarm bit can change).
//!
//! The common dead time follows Weier et al., NJP 13, 073024 (2011); the
//! photocurrent monitor answers Lydersen et al., Nat. Photon. 4, 686 (2010);
//! the after-gate check answers Wiechers et al., NJP 13, 013043 (2011).

use super::detector::GateWindow;
use qkd_abi::records::{
    CounterId, Detection, Record, Status, SLOT_BITS, SLOT_MASK, STATUS_VALUE_MAX,
};
use qkd_abi::regmap::bob::{self as regs, alarm};
use qkd_abi::symbol::Basis;

/// Bob's register settings that the processing depends on (names follow
/// `abi/src/regmap/bob.rs`; defaults are the register reset values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BobConfig {
    /// LANES (slots per fabric cycle).
    pub lanes: u32,
    /// OVERSAMPLE (TDC fine bins per slot).
    pub oversample: u8,
    /// DETECTORS (generation parameter).
    pub detectors: u8,
    /// `BOB_CTRL.DETECTOR_ENABLE` mask.
    pub detector_enable: u8,
    /// `BOB_FIBER_DELAY_SLOTS`.
    pub fiber_delay_slots: u32,
    /// `GATE_WINDOW.START_BIN`.
    pub gate_start_bin: u8,
    /// `GATE_WINDOW.END_BIN` (inclusive).
    pub gate_end_bin: u8,
    /// `GATE_DEAD_TIME_SLOTS`.
    pub dead_time_slots: u32,
    /// `GATE_BASIS_THRESH_Z`.
    pub basis_thresh_z: u16,
    /// `AFTERGATE_LIMIT`.
    pub aftergate_limit: u32,
    /// `AFTERGATE_WINDOW_SLOTS`.
    pub aftergate_window_slots: u32,
    /// `PHOTOCURRENT_THRESHOLD` (12-bit ADC code).
    pub photocurrent_threshold: u16,
    /// `CLICK_FRACTION_WINDOW_GATES`.
    pub click_fraction_window_gates: u32,
    /// `CLICK_FRACTION_LIMIT`.
    pub click_fraction_limit: u32,
    /// `NO_DARK_GATES`.
    pub no_dark_gates: u32,
    /// `STREAM_CTRL.STATUS_INTERVAL_LOG2` (STATUS when >= 6).
    pub status_interval_log2: u8,
}

impl Default for BobConfig {
    fn default() -> BobConfig {
        let gate = GateWindow::default();
        BobConfig {
            lanes: 4,
            oversample: gate.oversample,
            detectors: 2,
            detector_enable: (regs::BOB_CTRL.reset & 0xF) as u8,
            fiber_delay_slots: regs::BOB_FIBER_DELAY_SLOTS.reset,
            gate_start_bin: gate.start_bin,
            gate_end_bin: gate.end_bin,
            dead_time_slots: regs::GATE_DEAD_TIME_SLOTS.reset & 0xFFFF,
            basis_thresh_z: regs::GATE_BASIS_THRESH_Z.reset as u16,
            aftergate_limit: regs::AFTERGATE_LIMIT.reset & 0xFFFF,
            aftergate_window_slots: regs::AFTERGATE_WINDOW_SLOTS.reset,
            photocurrent_threshold: (regs::PHOTOCURRENT_THRESHOLD.reset & 0xFFF) as u16,
            click_fraction_window_gates: regs::CLICK_FRACTION_WINDOW_GATES.reset,
            click_fraction_limit: regs::CLICK_FRACTION_LIMIT.reset,
            no_dark_gates: regs::NO_DARK_GATES.reset,
            status_interval_log2: (regs::STREAM_CTRL.reset & 0x3F) as u8,
        }
    }
}

impl BobConfig {
    /// The TDC gate window these registers set.
    pub fn gate_window(&self) -> GateWindow {
        GateWindow {
            oversample: self.oversample,
            start_bin: self.gate_start_bin,
            end_bin: self.gate_end_bin,
        }
    }
}

/// What the gateware made of one raw click (spec 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClickClass {
    /// Inside the common dead time.
    DeadTimeSuppressed,
    /// Fine bin outside the gate window.
    AfterGate,
    /// An alarm was live: DETECTION record with the INVALID flag.
    Invalid,
    /// DETECTION record.
    Accepted,
    /// On a disabled (or non-existent) detector: ignored, not counted.
    Ignored,
}

/// One raw click: first rising edge of a detector within a slot (spec 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RawClick {
    /// Detector index.
    pub detector: u8,
    /// TDC fine bin (0..OVERSAMPLE).
    pub fine_bin: u8,
}

/// Running totals as Bob's COUNTERS block and alarm registers show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BobTotals {
    /// Gates since START (`GATES_LO/HI`).
    pub gates: u64,
    /// Processed slots since sync.
    pub slots: u64,
    /// Accepted clicks.
    pub accepted: u64,
    /// After-gate clicks.
    pub after_gate: u64,
    /// Dead-time-suppressed clicks.
    pub dead_time_suppressed: u64,
    /// Invalid clicks.
    pub invalid: u64,
    /// Raw clicks per detector.
    pub clicks: [u64; 4],
    /// Sticky alarm bits (`BOB_ALARMS`).
    pub alarms_sticky: u32,
    /// Last ADC sample per detector (`PHOTOCURRENT_LAST_Dd`).
    pub photocurrent_last: [u16; 4],
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    win: u64,
    count: u64,
}

#[derive(Debug, Clone, Default)]
struct Interval {
    slots: u64,
    gates: u64,
    clicks: [u64; 4],
    accepted: u64,
    after_gate: u64,
    suppressed: u64,
    invalid: u64,
    pc_max: [u16; 4],
    seen: u32,
}

#[derive(Debug, Clone, Copy)]
struct OpenCycle {
    c: u64,
    dead_start: u64,
    live: u32,
    ag_pending: u64,
    cf_pending: u64,
    raw: bool,
    adc: [Option<u16>; 4],
}

/// Alarm bits that make a click invalid (STREAM_OVERFLOW does not).
pub const INVALIDATING: u32 = !alarm::STREAM_OVERFLOW;

/// Bob's processing core. Feed it events in non-decreasing cycle order and
/// slot order: [`BobCore::slot_clicks`], [`BobCore::adc_sample`]; close
/// with [`BobCore::finish_before_cycle`]. Records accumulate in
/// [`BobCore::records`] (drain with [`BobCore::take_records`]).
#[derive(Debug, Clone)]
pub struct BobCore {
    cfg: BobConfig,
    lanes: u64,
    delay: u64,
    gates_any: bool,
    period_log2: Option<u32>,
    w_ag: u64,
    w_cf: u64,
    adc_period: u64,
    adc_phase: u64,
    adc_baseline: u16,
    // state
    next_cycle: u64,
    open: Option<OpenCycle>,
    dead_until: u64,
    ag: Window,
    cf: Window,
    last_raw_cycle: Option<u64>,
    over: [bool; 4],
    iv: Interval,
    epoch: Option<u32>,
    totals: BobTotals,
    records: Vec<Record>,
}

impl BobCore {
    /// A core just synced (cycle 0 = the sync cycle `c0`). Baseline ADC
    /// samples (value `adc_baseline_code`) are taken every
    /// `adc_period_cycles` cycles at cycles `c % period == 0`; other values
    /// come from [`BobCore::adc_sample`]. Emits `EPOCH(0)`.
    pub fn new(cfg: BobConfig, adc_period_cycles: u64, adc_baseline_code: u16) -> BobCore {
        let lanes = u64::from(cfg.lanes.max(1));
        let nd = cfg.detectors.clamp(1, 4);
        let t = u32::from(cfg.status_interval_log2);
        let mut core = BobCore {
            cfg,
            lanes,
            delay: u64::from(cfg.fiber_delay_slots),
            gates_any: cfg.detector_enable & ((1u8 << nd) - 1) != 0,
            period_log2: if (6..=40).contains(&t) { Some(t) } else { None },
            w_ag: (u64::from(cfg.aftergate_window_slots) / lanes).max(1),
            w_cf: (u64::from(cfg.click_fraction_window_gates) / lanes).max(1),
            adc_period: adc_period_cycles.max(1),
            adc_phase: 0,
            adc_baseline: adc_baseline_code & 0xFFF,
            next_cycle: 0,
            open: None,
            dead_until: 0,
            ag: Window::default(),
            cf: Window::default(),
            last_raw_cycle: None,
            over: [false; 4],
            iv: Interval::default(),
            epoch: None,
            totals: BobTotals::default(),
            records: Vec::new(),
        };
        core.emit_epoch(0);
        core
    }

    /// The configuration.
    pub fn config(&self) -> &BobConfig {
        &self.cfg
    }

    /// Cycle (relative to `c0`) that carries slot `slot`.
    #[inline]
    pub fn cycle_of(&self, slot: u64) -> u64 {
        (slot + self.delay) / self.lanes
    }

    /// Number of processed slots in cycles `0..c` (`P(c)`).
    #[inline]
    fn proc_before(&self, c: u64) -> u64 {
        (c * self.lanes).saturating_sub(self.delay)
    }

    fn detector_enabled(&self, d: u8) -> bool {
        d < self.cfg.detectors.clamp(1, 4) && (self.cfg.detector_enable >> d) & 1 == 1
    }

    /// Whether detector `d`'s gate is open in slot `slot` (spec 5.4), given
    /// the events fed so far (all of them in earlier cycles or earlier slots).
    #[inline]
    pub fn gate_open(&self, slot: u64, d: u8) -> bool {
        if !self.detector_enabled(d) {
            return false;
        }
        let dead = match self.open {
            Some(o) if o.c == self.cycle_of(slot) => o.dead_start,
            _ => self.dead_until,
        };
        slot >= dead
    }

    /// The first slot at or after `slot` whose gates can be open given the
    /// events so far (the end of the current dead time, with the
    /// start-of-cycle rule of spec 5.4).
    #[inline]
    pub fn next_open_slot(&self, slot: u64) -> u64 {
        match self.open {
            Some(o) if o.c == self.cycle_of(slot) => {
                if slot >= o.dead_start {
                    slot
                } else if self.cycle_of(o.dead_start) == o.c {
                    o.dead_start
                } else {
                    self.dead_until.max(self.proc_before(o.c + 1))
                }
            }
            _ => slot.max(self.dead_until),
        }
    }

    /// Current `dead_until` (exclusive slot index).
    pub fn dead_until(&self) -> u64 {
        self.dead_until
    }

    /// Totals (register view).
    pub fn totals(&self) -> &BobTotals {
        &self.totals
    }

    /// Live alarm bits as `BOB_STATE.ALARM_LIVE` shows them after the events
    /// fed so far (the state the next cycle uses).
    pub fn alarms_live(&self) -> u32 {
        let c = self.open.map_or(self.next_cycle, |o| o.c + 1);
        self.live_peek(c)
    }

    /// Records emitted so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Take the records emitted so far.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    // ---- Alarm state ----

    /// Live bits in cycle `c`, from committed events of cycles `< c`
    /// (valid when every cycle `< c` is finished).
    fn live_peek(&self, c: u64) -> u32 {
        let mut live = 0;
        if c / self.w_ag == self.ag.win && self.ag.count > u64::from(self.cfg.aftergate_limit) {
            live |= alarm::AFTER_GATE;
        }
        if c / self.w_cf == self.cf.win && self.cf.count > u64::from(self.cfg.click_fraction_limit)
        {
            live |= alarm::CLICK_FRACTION;
        }
        if self.over.iter().any(|&o| o) {
            live |= alarm::PHOTOCURRENT;
        }
        let run_start = self.last_raw_cycle.map_or(0, |lc| lc + 1);
        let run = if c > run_start {
            self.proc_before(c) - self.proc_before(run_start)
        } else {
            0
        };
        if run >= u64::from(self.cfg.no_dark_gates) {
            live |= alarm::NO_DARK;
        }
        live
    }

    /// First cycle `> c` at which the live bits could change without an
    /// event (window ends of a live window alarm, NO_DARK threshold, a
    /// baseline ADC sample that flips `over`). `u64::MAX` if none.
    fn next_change_after(&self, c: u64) -> u64 {
        let mut n = u64::MAX;
        let live = self.live_peek(c);
        if live & alarm::AFTER_GATE != 0 {
            n = n.min((c / self.w_ag + 1) * self.w_ag);
        }
        if live & alarm::CLICK_FRACTION != 0 {
            n = n.min((c / self.w_cf + 1) * self.w_cf);
        }
        if live & alarm::NO_DARK == 0 {
            // smallest c' with P(c') - P(run_start) >= M
            let run_start = self.last_raw_cycle.map_or(0, |lc| lc + 1);
            let need = u64::from(self.cfg.no_dark_gates) + self.proc_before(run_start) + self.delay;
            let cc = need.div_ceil(self.lanes).max(run_start);
            if cc > c {
                n = n.min(cc);
            }
        }
        let base_over = self.adc_baseline > self.cfg.photocurrent_threshold;
        if self
            .over
            .iter()
            .take(usize::from(self.cfg.detectors.clamp(1, 4)))
            .any(|&o| o != base_over)
        {
            // next sample cycle >= c; it takes effect one cycle later
            let s = self.next_sample_cycle(c);
            n = n.min(s.saturating_add(1));
        }
        n
    }

    #[inline]
    fn next_sample_cycle(&self, c: u64) -> u64 {
        let r = (c + self.adc_period - self.adc_phase % self.adc_period) % self.adc_period;
        if r == 0 {
            c
        } else {
            c + self.adc_period - r
        }
    }

    // ---- Records ----

    fn emit_epoch(&mut self, e: u32) {
        if self.epoch != Some(e) {
            self.epoch = Some(e);
            self.records.push(Record::Epoch(e));
        }
    }

    fn emit_at(&mut self, slot_full: u64, rec: Record) {
        self.emit_epoch((slot_full >> SLOT_BITS) as u32);
        self.records.push(rec);
    }

    // ---- Cycle bookkeeping ----

    /// Account event-free cycles `next_cycle..end`.
    fn roll_to(&mut self, end: u64) {
        while self.next_cycle < end {
            let a = self.next_cycle;
            let live = self.live_peek(a);
            // piece end: alarm change, STATUS cycle (inclusive), end
            let mut b = end.min(self.next_change_after(a));
            let status_cycle = self.next_status_cycle(a);
            if let Some(sc) = status_cycle {
                b = b.min(sc + 1);
            }
            let (lo, hi) = (self.proc_before(a), self.proc_before(b));
            self.iv.slots += hi - lo;
            self.totals.slots += hi - lo;
            if self.gates_any {
                let g = hi.saturating_sub(lo.max(self.dead_until));
                self.iv.gates += g;
                self.totals.gates += g;
            }
            self.iv.seen |= live;
            self.totals.alarms_sticky |= live;
            // baseline ADC samples in [a, b)
            let s = self.next_sample_cycle(a);
            if s < b {
                let nd = usize::from(self.cfg.detectors.clamp(1, 4));
                let base = self.adc_baseline;
                let over = base > self.cfg.photocurrent_threshold;
                for d in 0..nd {
                    self.iv.pc_max[d] = self.iv.pc_max[d].max(base);
                    self.totals.photocurrent_last[d] = base;
                    self.over[d] = over;
                }
            }
            self.next_cycle = b;
            if status_cycle == Some(b - 1) {
                self.emit_status(b - 1);
            }
        }
    }

    /// First cycle `>= c` whose processed slots cross a STATUS boundary.
    fn next_status_cycle(&self, c: u64) -> Option<u64> {
        let t = self.period_log2?;
        let p = 1u64 << t;
        let lo = self.proc_before(c);
        // boundary m = next multiple of p strictly above lo
        let m = (lo / p + 1) * p;
        // cycle whose processed range (lo_c, hi_c] contains m: smallest c' with P(c'+1) >= m
        let cc = (m + self.delay).div_ceil(self.lanes) - 1;
        Some(cc.max(c))
    }

    fn status_due(&self, c: u64) -> bool {
        let Some(t) = self.period_log2 else {
            return false;
        };
        let (lo, hi) = (self.proc_before(c), self.proc_before(c + 1));
        hi > lo && (hi >> t) > (lo >> t)
    }

    fn emit_status(&mut self, c: u64) {
        if !self.status_due(c) {
            return;
        }
        let hi = self.proc_before(c + 1);
        let live_end = self.live_peek(c + 1);
        self.totals.alarms_sticky |= live_end;
        let nd = self.cfg.detectors.clamp(1, 4);
        let iv = std::mem::take(&mut self.iv);
        let sat = |v: u64| v.min(STATUS_VALUE_MAX);
        let mut counters = vec![
            (CounterId::IntervalSlots, sat(iv.slots)),
            (CounterId::Gates, sat(iv.gates)),
        ];
        for d in 0..nd {
            counters.push((CounterId::Clicks(d), sat(iv.clicks[usize::from(d)])));
        }
        counters.push((CounterId::Accepted, sat(iv.accepted)));
        counters.push((CounterId::AfterGate, sat(iv.after_gate)));
        counters.push((CounterId::DeadTimeSuppressed, sat(iv.suppressed)));
        counters.push((CounterId::Invalid, sat(iv.invalid)));
        for d in 0..nd {
            counters.push((
                CounterId::PhotocurrentMax(d),
                u64::from(iv.pc_max[usize::from(d)]),
            ));
        }
        counters.push((CounterId::AlarmsLive, u64::from(live_end)));
        counters.push((CounterId::AlarmsSeen, u64::from(iv.seen | live_end)));
        self.emit_at(
            hi,
            Record::Status(Status {
                slot: hi & SLOT_MASK,
                counters,
            }),
        );
    }

    /// Open cycle `c` for events (finishing everything before it).
    fn open_cycle(&mut self, c: u64) -> &mut OpenCycle {
        if self.open.is_some_and(|o| o.c != c) {
            self.close_open();
        }
        if self.open.is_none() {
            self.roll_to(c);
            let live = self.live_peek(c);
            let (lo, hi) = (self.proc_before(c), self.proc_before(c + 1));
            self.iv.slots += hi - lo;
            self.totals.slots += hi - lo;
            if self.gates_any {
                let g = hi.saturating_sub(lo.max(self.dead_until));
                self.iv.gates += g;
                self.totals.gates += g;
            }
            self.iv.seen |= live;
            self.totals.alarms_sticky |= live;
            self.open = Some(OpenCycle {
                c,
                dead_start: self.dead_until,
                live,
                ag_pending: 0,
                cf_pending: 0,
                raw: false,
                adc: [None; 4],
            });
        }
        match self.open.as_mut() {
            Some(o) => o,
            None => unreachable!("cycle opened above"),
        }
    }

    fn close_open(&mut self) {
        let Some(o) = self.open.take() else { return };
        let c = o.c;
        for (w, pend, wl) in [
            (&mut self.ag, o.ag_pending, self.w_ag),
            (&mut self.cf, o.cf_pending, self.w_cf),
        ] {
            if w.win != c / wl {
                w.win = c / wl;
                w.count = 0;
            }
            w.count += pend;
        }
        if o.raw {
            self.last_raw_cycle = Some(c);
        }
        let nd = usize::from(self.cfg.detectors.clamp(1, 4));
        let is_sample = self.next_sample_cycle(c) == c;
        for d in 0..nd {
            let v = match o.adc[d] {
                Some(v) => Some(v),
                None if is_sample => Some(self.adc_baseline),
                None => None,
            };
            if let Some(v) = v {
                self.iv.pc_max[d] = self.iv.pc_max[d].max(v);
                self.totals.photocurrent_last[d] = v;
                self.over[d] = v > self.cfg.photocurrent_threshold;
            }
        }
        self.next_cycle = c + 1;
        self.emit_status(c);
    }

    // ---- Events ----

    /// A photocurrent ADC sample of detector `d` in cycle `c` (replaces the
    /// baseline sample if `c` is a sample cycle; adds one otherwise).
    pub fn adc_sample(&mut self, c: u64, d: u8, value: u16) {
        if c < self.next_cycle || usize::from(d) >= 4 {
            return;
        }
        let o = self.open_cycle(c);
        o.adc[usize::from(d)] = Some(value & 0xFFF);
    }

    /// The raw clicks of slot `slot` (sorted by detector, at most one per
    /// detector), with Bob's basis in that slot. Returns the class of each
    /// click, in input order. Slots must come in increasing order.
    pub fn slot_clicks(
        &mut self,
        slot: u64,
        clicks: &[RawClick],
        basis: Basis,
        out: &mut Vec<ClickClass>,
    ) {
        out.clear();
        let c = self.cycle_of(slot);
        if c < self.next_cycle {
            out.extend(clicks.iter().map(|_| ClickClass::Ignored));
            return;
        }
        let (start, end) = (self.cfg.gate_start_bin, self.cfg.gate_end_bin);
        let dead = self.dead_until;
        let dead_slots = u64::from(self.cfg.dead_time_slots);
        let nd = self.cfg.detectors.clamp(1, 4);
        let en_mask = self.cfg.detector_enable & ((1u8 << nd) - 1);
        let o = self.open_cycle(c);
        let live = o.live & INVALIDATING;
        let mut any_live_click = false;
        for k in clicks {
            if k.detector >= 4 || (en_mask >> k.detector) & 1 == 0 {
                out.push(ClickClass::Ignored);
                continue;
            }
            o.raw = true;
            o.cf_pending += 1;
            let cls = if slot < dead {
                ClickClass::DeadTimeSuppressed
            } else {
                any_live_click = true;
                if k.fine_bin < start || k.fine_bin > end {
                    o.ag_pending += 1;
                    ClickClass::AfterGate
                } else if live != 0 {
                    ClickClass::Invalid
                } else {
                    ClickClass::Accepted
                }
            };
            out.push(cls);
        }
        if any_live_click {
            self.dead_until = slot + 1 + dead_slots;
        }
        for (k, cls) in clicks.iter().zip(out.iter()) {
            let d = usize::from(k.detector & 3);
            match cls {
                ClickClass::Ignored => continue,
                ClickClass::DeadTimeSuppressed => {
                    self.iv.suppressed += 1;
                    self.totals.dead_time_suppressed += 1;
                }
                ClickClass::AfterGate => {
                    self.iv.after_gate += 1;
                    self.totals.after_gate += 1;
                }
                ClickClass::Invalid | ClickClass::Accepted => {
                    let invalid = *cls == ClickClass::Invalid;
                    if invalid {
                        self.iv.invalid += 1;
                        self.totals.invalid += 1;
                    } else {
                        self.iv.accepted += 1;
                        self.totals.accepted += 1;
                    }
                    self.emit_at(
                        slot,
                        Record::Detection(Detection {
                            slot: slot & SLOT_MASK,
                            detector: k.detector,
                            fine_bin: k.fine_bin,
                            basis,
                            invalid,
                        }),
                    );
                }
            }
            self.iv.clicks[d] += 1;
            self.totals.clicks[d] += 1;
        }
    }

    /// Finish every cycle before `c` (emitting the STATUS records due).
    pub fn finish_before_cycle(&mut self, c: u64) {
        if self.open.is_some_and(|o| o.c < c) {
            self.close_open();
        }
        self.roll_to(c);
    }

    /// Finish every cycle that carries a slot below `end_slot`.
    pub fn finish_before_slot(&mut self, end_slot: u64) {
        let c = if end_slot == 0 {
            0
        } else {
            self.cycle_of(end_slot - 1) + 1
        };
        self.finish_before_cycle(c);
    }
}
