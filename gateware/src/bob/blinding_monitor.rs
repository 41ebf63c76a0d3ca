// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's blinding monitor (gateware spec 5.5): per-sample photocurrent
//! threshold (CW and pulsed blinding, Lydersen et al., Nat. Photon. 4, 686,
//! 2010: pulsed blinding evades averaging monitors, so every sample is
//! compared on its own), a click-fraction watchdog (blinded detectors
//! click on demand) and a no-dark-count watchdog (blinded detectors never
//! dark-count). All outputs are live states for this cycle computed from
//! events of earlier cycles; the no-dark comparison is registered (made on
//! the run's next value, so `no_dark_gates` is taken one cycle early).

use crate::bob::after_gate::WindowAlarm;
use crate::bob::vec_of as v;
use crate::common::sat_add::SatAdd32x8;
use rust_hdl::prelude::*;

/// Photocurrent, click-fraction and no-dark-count watchdogs.
#[derive(LogicBlock)]
pub struct BlindingMonitor {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Start over (at START), active high.
    pub clear: Signal<In, Bit>,
    /// This cycle is running and synced, active high.
    pub enable: Signal<In, Bit>,
    /// Photocurrent ADC sample per detector, 12-bit code.
    pub adc: Vec<Signal<In, Bits<12>>>,
    /// ADC sample valid per detector, active high.
    pub adc_valid: Vec<Signal<In, Bit>>,
    /// `PHOTOCURRENT_THRESHOLD`, 12-bit ADC code.
    pub threshold: Signal<In, Bits<12>>,
    /// Raw clicks in this cycle (all enabled detectors, processed slots).
    pub raw_clicks: Signal<In, Bits<8>>,
    /// Processed slots in this cycle.
    pub processed: Signal<In, Bits<8>>,
    /// Click-fraction window in cycles (>= 1).
    pub cf_window_cycles: Signal<In, Bits<32>>,
    /// `CLICK_FRACTION_LIMIT`.
    pub cf_limit: Signal<In, Bits<32>>,
    /// `NO_DARK_GATES`.
    pub no_dark_gates: Signal<In, Bits<32>>,
    /// PHOTOCURRENT alarm live, active high.
    pub photocurrent_live: Signal<Out, Bit>,
    /// CLICK_FRACTION alarm live, active high.
    pub click_fraction_live: Signal<Out, Bit>,
    /// NO_DARK alarm live, active high.
    pub no_dark_live: Signal<Out, Bit>,
    /// Last valid ADC sample per detector (`PHOTOCURRENT_LAST_Dd`).
    pub last: Vec<Signal<Out, Bits<12>>>,
    over: Vec<DFF<Bit>>,
    last_r: Vec<DFF<Bits<12>>>,
    any_over: Vec<Signal<Local, Bit>>,
    run: DFF<Bits<32>>,
    run_add: SatAdd32x8,
    next_run: Signal<Local, Bits<32>>,
    nd_diff: Signal<Local, Bits<34>>,
    nd_low: Signal<Local, Bits<9>>,
    nd_sat: Signal<Local, Bits<9>>,
    nd_add_live: Signal<Local, Bit>,
    nd_live_r: DFF<Bit>,
    fraction: WindowAlarm,
}

impl BlindingMonitor {
    /// A monitor for `detectors` detectors (1..=4).
    pub fn new(detectors: usize) -> Self {
        assert!(
            (1..=4).contains(&detectors),
            "BlindingMonitor: detectors {detectors} out of 1..=4"
        );
        Self {
            clock: Default::default(),
            clear: Default::default(),
            enable: Default::default(),
            adc: v(detectors),
            adc_valid: v(detectors),
            threshold: Default::default(),
            raw_clicks: Default::default(),
            processed: Default::default(),
            cf_window_cycles: Default::default(),
            cf_limit: Default::default(),
            no_dark_gates: Default::default(),
            photocurrent_live: Default::default(),
            click_fraction_live: Default::default(),
            no_dark_live: Default::default(),
            last: v(detectors),
            over: v(detectors),
            last_r: v(detectors),
            any_over: v(detectors + 1),
            run: Default::default(),
            run_add: Default::default(),
            next_run: Default::default(),
            nd_diff: Default::default(),
            nd_low: Default::default(),
            nd_sat: Default::default(),
            nd_add_live: Default::default(),
            nd_live_r: Default::default(),
            fraction: Default::default(),
        }
    }
}

impl Logic for BlindingMonitor {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, run, nd_live_r);
        clock!(self, clock, fraction);
        // ---- Photocurrent: each valid sample against the threshold ----
        self.any_over[0].next = false;
        for d in 0..self.over.len() {
            self.over[d].clock.next = self.clock.val();
            self.last_r[d].clock.next = self.clock.val();
            self.over[d].d.next = self.over[d].q.val();
            self.last_r[d].d.next = self.last_r[d].q.val();
            if self.adc_valid[d].val() {
                self.over[d].d.next = self.adc[d].val() > self.threshold.val();
                self.last_r[d].d.next = self.adc[d].val();
            }
            self.last[d].next = self.last_r[d].q.val();
            self.any_over[d + 1].next = self.any_over[d].val() | self.over[d].q.val();
        }
        self.photocurrent_live.next = false;
        for d in 0..self.over.len() {
            self.photocurrent_live.next = self.any_over[d + 1].val();
        }
        // ---- Click fraction: raw clicks per tumbling window ----
        self.fraction.clear.next = self.clear.val();
        self.fraction.enable.next = self.enable.val();
        self.fraction.events.next = self.raw_clicks.val();
        self.fraction.window_cycles.next = self.cf_window_cycles.val();
        self.fraction.limit.next = self.cf_limit.val();
        self.click_fraction_live.next = self.fraction.live.val();
        // ---- No dark count: processed slots since the last raw click ----
        // (registered compare on the run's next value)
        self.no_dark_live.next = self.nd_live_r.q.val();
        // run + processed, saturated (carry-select: no 32-bit ripple)
        self.run_add.a.next = self.run.q.val();
        self.run_add.b.next = self.processed.val();
        self.next_run.next = self.run.q.val();
        if self.enable.val() {
            if self.raw_clicks.val().any() {
                self.next_run.next = 0.into();
            } else {
                self.next_run.next = self.run_add.sum.val();
            }
        }
        if self.clear.val() {
            self.next_run.next = 0.into();
        }
        self.run.d.next = self.next_run.val();
        // `next_run >= no_dark_gates` without an adder in front of the
        // compare: diff = run - no_dark_gates (registers only); run +
        // processed >= gates <=> diff + processed >= 0 (diff >= 0, or diff
        // in [-256, -1] and its low byte + processed >= 256); saturation
        // gives 2^32 - 1 >= gates.
        self.nd_diff.next =
            bit_cast::<34, 32>(self.run.q.val()) - bit_cast::<34, 32>(self.no_dark_gates.val());
        self.nd_low.next = bit_cast::<9, 8>(self.nd_diff.val().get_bits::<8>(0))
            + bit_cast::<9, 8>(self.processed.val());
        self.nd_sat.next = bit_cast::<9, 8>(self.run.q.val().get_bits::<8>(0))
            + bit_cast::<9, 8>(self.processed.val());
        self.nd_add_live.next = !self.nd_diff.val().get_bit(33)
            | (self.nd_diff.val().get_bits::<26>(8).all() & self.nd_low.val().get_bit(8))
            | (self.run.q.val().get_bits::<24>(8).all() & self.nd_sat.val().get_bit(8));
        self.nd_live_r.d.next = self.run.q.val() >= self.no_dark_gates.val();
        if self.enable.val() {
            if self.raw_clicks.val().any() {
                self.nd_live_r.d.next = !self.no_dark_gates.val().any();
            } else {
                self.nd_live_r.d.next = self.nd_add_live.val();
            }
        }
        if self.clear.val() {
            self.nd_live_r.d.next = !self.no_dark_gates.val().any();
        }
    }
}
