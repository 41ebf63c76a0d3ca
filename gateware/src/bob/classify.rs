// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's click classification (gateware spec 5.3, 5.4): raw clicks on
//! enabled detectors in processed slots become dead-time-suppressed,
//! after-gate (fine bin outside `[START_BIN, END_BIN]`), invalid (an alarm
//! live or a QRNG underrun) or accepted, in slot order then detector order,
//! with the common dead time of [`DeadTime`]; it also drives the gates and
//! counts every class for the STATUS accounting identity
//! `sum_d Clicks(d) = Accepted + AfterGate + DeadTimeSuppressed + Invalid`.
//!
//! Two stages: in stage P (combinational from the inputs and the dead-time
//! state) the raw clicks, the dead-time chain, the gate window and the gate
//! enables; the per-click class bits are then registered (the after-gate
//! bits ready-made, and the raw-click total already counted, as those
//! counts feed alarms), and in stage Q
//! (one cycle later) the invalid decision (`bad`, a stage Q input) and the
//! counts are combinational from those registers. `gate_en` is stage P;
//! every other output is stage Q.

use crate::bob::dead_time::DeadTime;
use crate::bob::popcount::Popcount32;
use crate::bob::vec_of as v;
use rust_hdl::prelude::*;

/// Classifier of one cycle's raw clicks.
#[derive(LogicBlock)]
pub struct Classifier {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Forget the dead time (START, sync), active high.
    pub restart: Signal<In, Bit>,
    /// TDC clicks per detector, lane bit `l`.
    pub click: Vec<Signal<In, Bits<8>>>,
    /// TDC fine fine_bins per detector, lane `l` at `4*l..4*l+4`.
    pub fine_bins: Vec<Signal<In, Bits<32>>>,
    /// `click` of the next cycle (the TDC's `click_next`).
    pub click_next: Vec<Signal<In, Bits<8>>>,
    /// `enable` of the next cycle (the CSR's `q_next`).
    pub enable_next: Signal<In, Bits<4>>,
    /// Processed slot per lane (running, synced, `i >= 0`), active high (stage P).
    pub processed: Signal<In, Bits<8>>,
    /// `processed` of the next cycle.
    pub processed_next: Signal<In, Bits<8>>,
    /// `BOB_CTRL.DETECTOR_ENABLE`, bit `d`.
    pub enable: Signal<In, Bits<4>>,
    /// `GATE_WINDOW.START_BIN`.
    pub start_bin: Signal<In, Bits<8>>,
    /// `GATE_WINDOW.END_BIN` (inclusive).
    pub end_bin: Signal<In, Bits<8>>,
    /// `GATE_DEAD_TIME_SLOTS`.
    pub dead_slots: Signal<In, Bits<16>>,
    /// An invalidating alarm is live or the cycle is a QRNG underrun, active
    /// high (stage Q: for the cycle whose class bits are in the registers).
    pub bad: Signal<In, Bit>,
    /// Clicks that become DETECTION records, bit `4*l + d` (stage Q).
    pub record: Signal<Out, Bits<32>>,
    /// Gate enables, bit `4*l + d` (stage P; the `qkd_bob` wrapper packs them to `l*ND + d`).
    pub gate_en: Signal<Out, Bits<32>>,
    /// Raw clicks per detector in this cycle.
    pub n_raw: Vec<Signal<Out, Bits<8>>>,
    /// Raw clicks over all detectors.
    pub n_raw_all: Signal<Out, Bits<8>>,
    /// Accepted clicks.
    pub n_accepted: Signal<Out, Bits<8>>,
    /// Clicks that become DETECTION records (accepted + invalid, whatever `bad` is).
    pub n_records: Signal<Out, Bits<8>>,
    /// After-gate clicks.
    pub n_after_gate: Signal<Out, Bits<8>>,
    /// Dead-time-suppressed clicks.
    pub n_dead: Signal<Out, Bits<8>>,
    /// Invalid clicks.
    pub n_invalid: Signal<Out, Bits<8>>,
    /// Processed slots with at least one gate open (`Gates`).
    pub n_gates: Signal<Out, Bits<8>>,
    /// Processed slots.
    pub n_processed: Signal<Out, Bits<8>>,
    dead: DeadTime,
    det_mask: Constant<Bits<4>>,
    // ---- Stage P ----
    raw: Vec<Signal<Local, Bits<8>>>,
    in_window: Vec<Signal<Local, Bits<4>>>,
    window: Signal<Local, Bits<32>>,
    bin: Signal<Local, Bits<8>>,
    bin4: Signal<Local, Bits<4>>,
    /// Lane `l` has a click on an enabled detector in a processed slot,
    /// registered a cycle ahead from `click_next`, `enable_next` and
    /// `processed_next` (the dead-time chain then starts at flip-flops of
    /// its own, placed beside it).
    any_acc: DFF<Bits<8>>,
    any_en_next: Signal<Local, Bits<8>>,
    gated: Signal<Local, Bits<8>>,
    // ---- Stage P -> Q registers ----
    q_raw: Vec<DFF<Bits<8>>>,
    q_blocked: DFF<Bits<8>>,
    q_window: DFF<Bits<32>>,
    q_processed: DFF<Bits<8>>,
    q_gated: DFF<Bits<8>>,
    /// After-gate class bits, registered themselves (their count feeds the
    /// after-gate alarm, so it starts at flip-flops).
    q_ag: DFF<Bits<32>>,
    ag: Signal<Local, Bits<32>>,
    // ---- Stage Q ----
    n_record: Signal<Local, Bits<8>>,
    raw8: Signal<Local, Bits<8>>,
    /// Class bits, bit `4*l + d`.
    c_raw: Signal<Local, Bits<32>>,
    c_dead: Signal<Local, Bits<32>>,
    /// Lanes blocked, spread to bits `4*l + d`.
    blocked4: Signal<Local, Bits<32>>,
    pc_raw: Vec<Popcount32>,
    /// Raw clicks over all detectors, counted in stage P from the raw bits
    /// (`p_raw`, bit `4*l + d`) and registered: `n_raw_all` (behind it the
    /// click-fraction watchdog's compare) starts at flip-flops.
    pc_all: Popcount32,
    p_raw: Signal<Local, Bits<32>>,
    q_n_raw_all: DFF<Bits<8>>,
    /// `p_raw` registered: the stage Q raw class bits (`c_raw`).
    q_p_raw: DFF<Bits<32>>,
    pc_dead: Popcount32,
    pc_ag: Popcount32,
    pc_rec: Popcount32,
    pc_proc: Popcount32,
    pc_gates: Popcount32,
}

impl Classifier {
    /// A classifier for `lanes` lanes (1..=8) and `detectors` detectors (1..=4).
    pub fn new(lanes: usize, detectors: usize) -> Self {
        assert!(
            (1..=4).contains(&detectors),
            "Classifier: detectors {detectors} out of 1..=4"
        );
        Self {
            clock: Default::default(),
            restart: Default::default(),
            click: v(detectors),
            click_next: v(detectors),
            enable_next: Default::default(),
            fine_bins: v(detectors),
            processed: Default::default(),
            processed_next: Default::default(),
            enable: Default::default(),
            start_bin: Default::default(),
            end_bin: Default::default(),
            dead_slots: Default::default(),
            bad: Default::default(),
            record: Default::default(),
            gate_en: Default::default(),
            n_raw: v(detectors),
            n_raw_all: Default::default(),
            n_accepted: Default::default(),
            n_records: Default::default(),
            n_after_gate: Default::default(),
            n_dead: Default::default(),
            n_invalid: Default::default(),
            n_gates: Default::default(),
            n_processed: Default::default(),
            dead: DeadTime::new(lanes),
            det_mask: Constant::new(((1u64 << detectors) - 1).into()),
            raw: v(detectors),
            in_window: v(lanes),
            window: Default::default(),
            bin: Default::default(),
            bin4: Default::default(),
            any_acc: Default::default(),
            any_en_next: Default::default(),
            gated: Default::default(),
            q_raw: v(detectors),
            q_blocked: Default::default(),
            q_window: Default::default(),
            q_processed: Default::default(),
            q_gated: Default::default(),
            q_ag: Default::default(),
            ag: Default::default(),
            n_record: Default::default(),
            raw8: Default::default(),
            c_raw: Default::default(),
            c_dead: Default::default(),
            blocked4: Default::default(),
            pc_raw: v(detectors),
            pc_all: Default::default(),
            p_raw: Default::default(),
            q_n_raw_all: Default::default(),
            q_p_raw: Default::default(),
            pc_dead: Default::default(),
            pc_ag: Default::default(),
            pc_rec: Default::default(),
            pc_proc: Default::default(),
            pc_gates: Default::default(),
        }
    }
}

impl Logic for Classifier {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, dead);
        // (the popcounts are combinational: no clock)
        dff_setup!(
            self,
            clock,
            q_blocked,
            q_window,
            q_processed,
            q_gated,
            q_ag,
            any_acc,
            q_n_raw_all,
            q_p_raw
        );
        // ---- Stage P: raw clicks (enabled detectors, processed slots) ----
        for d in 0..self.click.len() {
            self.q_raw[d].clock.next = self.clock.val();
            self.raw[d].next = 0.into();
            for l in 0..self.in_window.len() {
                self.raw[d].next = self.raw[d].val().replace_bit(
                    l,
                    self.click[d].val().get_bit(l)
                        & self.enable.val().get_bit(d)
                        & self.processed.val().get_bit(l),
                );
            }
            self.q_raw[d].d.next = self.raw[d].val();
        }
        self.window.next = 0.into();
        self.p_raw.next = 0.into();
        for l in 0..self.in_window.len() {
            for d in 0..self.click.len() {
                self.p_raw.next = self
                    .p_raw
                    .val()
                    .replace_bit(4 * l + d, self.raw[d].val().get_bit(l));
            }
        }
        self.pc_all.x.next = self.p_raw.val();
        self.q_n_raw_all.d.next = self.pc_all.n.val();
        self.q_p_raw.d.next = self.p_raw.val();
        for l in 0..self.in_window.len() {
            self.in_window[l].next = 0.into();
            for d in 0..self.click.len() {
                self.bin4.next = self.fine_bins[d].val().get_bits::<4>(4 * l);
                self.bin.next = bit_cast::<8, 4>(self.bin4.val());
                self.in_window[l].next = self.in_window[l].val().replace_bit(
                    d,
                    (self.bin.val() >= self.start_bin.val())
                        & (self.bin.val() <= self.end_bin.val()),
                );
                self.window.next = self
                    .window
                    .val()
                    .replace_bit(4 * l + d, self.in_window[l].val().get_bit(d));
            }
        }
        // ---- Stage P: common dead time and gates ----
        self.dead.restart.next = self.restart.val();
        self.dead.dead_slots.next = self.dead_slots.val();
        // any_acc[l] = OR_d raw[d][l], from the register a cycle ahead
        self.any_en_next.next = 0.into();
        for d in 0..self.click.len() {
            if self.enable_next.val().get_bit(d) {
                self.any_en_next.next = self.any_en_next.val() | self.click_next[d].val();
            }
        }
        self.any_acc.d.next = self.any_en_next.val() & self.processed_next.val();
        self.dead.any_click.next = self.any_acc.q.val();
        self.gate_en.next = 0.into();
        self.gated.next = 0.into();
        for l in 0..self.in_window.len() {
            for d in 0..self.click.len() {
                self.gate_en.next = self.gate_en.val().replace_bit(
                    4 * l + d,
                    self.processed.val().get_bit(l)
                        & self.enable.val().get_bit(d)
                        & self.dead.open.val().get_bit(l),
                );
            }
            self.gated.next = self.gated.val().replace_bit(
                l,
                self.processed.val().get_bit(l)
                    & self.dead.open.val().get_bit(l)
                    & (self.enable.val() & self.det_mask.val()).any(),
            );
        }
        self.q_window.d.next = self.window.val();
        // after-gate: a raw click the dead time lets through, outside the window
        self.ag.next = 0.into();
        for l in 0..self.in_window.len() {
            for d in 0..self.click.len() {
                self.ag.next = self.ag.val().replace_bit(
                    4 * l + d,
                    self.raw[d].val().get_bit(l)
                        & !self.dead.blocked.val().get_bit(l)
                        & !self.window.val().get_bit(4 * l + d),
                );
            }
        }
        self.q_ag.d.next = self.ag.val();
        self.q_blocked.d.next = self.dead.blocked.val();
        self.q_processed.d.next = self.processed.val();
        self.q_gated.d.next = self.gated.val();
        // ---- Stage Q: classes and counts from the registered class bits ----
        self.c_raw.next = self.q_p_raw.q.val();
        self.blocked4.next = 0.into();
        for l in 0..self.in_window.len() {
            for d in 0..self.click.len() {
                self.blocked4.next = self
                    .blocked4
                    .val()
                    .replace_bit(4 * l + d, self.q_blocked.q.val().get_bit(l));
            }
        }
        self.c_dead.next = self.c_raw.val() & self.blocked4.val();
        self.record.next = self.c_raw.val() & !self.blocked4.val() & self.q_window.q.val();
        for d in 0..self.click.len() {
            self.raw8.next = self.q_raw[d].q.val();
            self.pc_raw[d].x.next = bit_cast::<32, 8>(self.raw8.val());
            self.n_raw[d].next = self.pc_raw[d].n.val();
        }
        self.n_raw_all.next = self.q_n_raw_all.q.val();
        self.pc_dead.x.next = self.c_dead.val();
        self.n_dead.next = self.pc_dead.n.val();
        self.pc_ag.x.next = self.q_ag.q.val();
        self.n_after_gate.next = self.pc_ag.n.val();
        self.pc_rec.x.next = self.record.val();
        self.n_record.next = self.pc_rec.n.val();
        self.pc_proc.x.next = bit_cast::<32, 8>(self.q_processed.q.val());
        self.n_processed.next = self.pc_proc.n.val();
        self.pc_gates.x.next = bit_cast::<32, 8>(self.q_gated.q.val());
        self.n_gates.next = self.pc_gates.n.val();
        self.n_records.next = self.n_record.val();
        self.n_accepted.next = self.n_record.val();
        self.n_invalid.next = 0.into();
        if self.bad.val() {
            self.n_accepted.next = 0.into();
            self.n_invalid.next = self.n_record.val();
        }
    }
}
