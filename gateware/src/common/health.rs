// SPDX-License-Identifier: MIT OR Apache-2.0
//! QRNG online health tests of one lane: repetition count test and
//! adaptive proportion test (NIST SP 800-90B, sections 4.4.1 and 4.4.2),
//! as specified in `docs/gateware-spec.md` section 3.
//!
//! The fail outputs are combinational for the sample of the current cycle,
//! so that the alarm applies to the very cycle whose sample failed.

use rust_hdl::prelude::*;

/// Health tests over one lane's 64-bit samples. Counters are 16 bits and
/// saturate at 0xFFFF.
#[derive(LogicBlock)]
pub struct HealthTests {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// This cycle's 64-bit sample (lane's QRNG word).
    pub sample: Signal<In, Bits<64>>,
    /// Sample valid, active high: the sample is accepted and tested.
    pub valid: Signal<In, Bit>,
    /// Synchronous clear of both tests' state (next sample starts a new run
    /// and a new window), active high; has priority over `valid`.
    pub clear: Signal<In, Bit>,
    /// RCT cutoff C (`RNG_RCT_CUTOFF`), samples.
    pub rct_cutoff: Signal<In, Bits<16>>,
    /// APT window W (`RNG_APT_WINDOW`), samples.
    pub apt_window: Signal<In, Bits<16>>,
    /// APT cutoff (`RNG_APT_CUTOFF`), samples.
    pub apt_cutoff: Signal<In, Bits<16>>,
    /// Repetition count test fails on this cycle's sample (combinational).
    pub rct_fail: Signal<Out, Bit>,
    /// Adaptive proportion test fails on this cycle's sample (combinational).
    pub apt_fail: Signal<Out, Bit>,
    have_last: DFF<Bit>,
    last: DFF<Bits<64>>,
    rct_count: DFF<Bits<16>>,
    apt_ref: DFF<Bits<64>>,
    apt_pos: DFF<Bits<16>>,
    apt_count: DFF<Bits<16>>,
    rct_next: Signal<Local, Bits<16>>,
    apt_next: Signal<Local, Bits<16>>,
    apt_pos_next: Signal<Local, Bits<16>>,
    /// `rct_count` + 1 saturating at 0xFFFF, kept in a register (same
    /// updates as `rct_count`) so the cutoff comparison starts at flip-flops.
    rct_inc: DFFWithInit<Bits<16>>,
    /// `apt_count` + 1 (wrapping; used only when `apt_count` != 0xFFFF).
    apt_inc: DFFWithInit<Bits<16>>,
    rct_ge_inc: Signal<Local, Bit>,
    apt_ge_inc: Signal<Local, Bit>,
    apt_ge_same: Signal<Local, Bit>,
    one_ge: Signal<Local, Bit>,
    rct_eq: Signal<Local, Bit>,
    apt_eq: Signal<Local, Bit>,
}

impl Default for HealthTests {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            sample: Default::default(),
            valid: Default::default(),
            clear: Default::default(),
            rct_cutoff: Default::default(),
            apt_window: Default::default(),
            apt_cutoff: Default::default(),
            rct_fail: Default::default(),
            apt_fail: Default::default(),
            have_last: Default::default(),
            last: Default::default(),
            rct_count: Default::default(),
            apt_ref: Default::default(),
            apt_pos: Default::default(),
            apt_count: Default::default(),
            rct_next: Default::default(),
            apt_next: Default::default(),
            apt_pos_next: Default::default(),
            rct_ge_inc: Default::default(),
            apt_ge_inc: Default::default(),
            apt_ge_same: Default::default(),
            one_ge: Default::default(),
            rct_eq: Default::default(),
            apt_eq: Default::default(),
            // count 0 after power-up: count + 1 = 1
            rct_inc: DFFWithInit::new(1.into()),
            apt_inc: DFFWithInit::new(1.into()),
        }
    }
}

impl Logic for HealthTests {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, have_last, last, rct_count, apt_ref, apt_pos, apt_count, rct_inc, apt_inc
        );
        // ---- Repetition count test (4.4.1) ----
        // The cutoff comparisons are made on the candidate counts, in
        // parallel with the 64-bit sample comparison, which then only
        // selects a result (same function, shorter path).
        self.rct_eq.next = self.have_last.q.val() & (self.sample.val() == self.last.q.val());
        if self.rct_eq.val() {
            self.rct_next.next = self.rct_inc.q.val();
        } else {
            self.rct_next.next = 1.into();
        }
        self.rct_ge_inc.next = self.rct_inc.q.val() >= self.rct_cutoff.val();
        self.one_ge.next = self.rct_cutoff.val() <= 1;
        // ---- Adaptive proportion test (4.4.2) ----
        self.apt_eq.next =
            (self.sample.val() == self.apt_ref.q.val()) & (self.apt_count.q.val() != 0xFFFF);
        if self.apt_pos.q.val() == 0 {
            self.apt_next.next = 1.into();
            self.apt_pos_next.next = 1.into();
        } else {
            self.apt_pos_next.next = self.apt_pos.q.val() + 1;
            if self.apt_eq.val() {
                self.apt_next.next = self.apt_count.q.val() + 1;
            } else {
                self.apt_next.next = self.apt_count.q.val();
            }
        }
        self.apt_ge_inc.next = self.apt_inc.q.val() >= self.apt_cutoff.val();
        self.apt_ge_same.next = self.apt_count.q.val() >= self.apt_cutoff.val();
        // fail = valid & !clear & (next count >= cutoff), by cases of next
        self.rct_fail.next = false;
        self.apt_fail.next = false;
        if self.valid.val() & !self.clear.val() {
            if self.rct_eq.val() {
                self.rct_fail.next = self.rct_ge_inc.val();
            } else {
                self.rct_fail.next = self.one_ge.val();
            }
            if self.apt_pos.q.val() == 0 {
                self.apt_fail.next = self.apt_cutoff.val() <= 1;
            } else if self.apt_eq.val() {
                self.apt_fail.next = self.apt_ge_inc.val();
            } else {
                self.apt_fail.next = self.apt_ge_same.val();
            }
        }
        // ---- State ----
        if self.clear.val() {
            self.have_last.d.next = false;
            self.rct_count.d.next = 0.into();
            self.rct_inc.d.next = 1.into();
            self.apt_pos.d.next = 0.into();
            self.apt_count.d.next = 0.into();
            self.apt_inc.d.next = 1.into();
        } else if self.valid.val() {
            // rct_inc/apt_inc follow the new counts (+1, see the fields)
            if self.rct_eq.val() {
                if self.rct_inc.q.val() != 0xFFFF {
                    self.rct_inc.d.next = self.rct_inc.q.val() + 1;
                }
            } else {
                self.rct_inc.d.next = 2.into();
            }
            if self.apt_pos.q.val() == 0 {
                self.apt_inc.d.next = 2.into();
            } else if self.apt_eq.val() {
                self.apt_inc.d.next = self.apt_inc.q.val() + 1;
            }
            self.have_last.d.next = true;
            self.last.d.next = self.sample.val();
            self.rct_count.d.next = self.rct_next.val();
            self.apt_count.d.next = self.apt_next.val();
            if self.apt_pos.q.val() == 0 {
                self.apt_ref.d.next = self.sample.val();
            }
            if self.apt_pos_next.val() >= self.apt_window.val() {
                self.apt_pos.d.next = 0.into();
            } else {
                self.apt_pos.d.next = self.apt_pos_next.val();
            }
        }
    }
}
