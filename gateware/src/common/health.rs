// SPDX-License-Identifier: MIT OR Apache-2.0
//! QRNG online health tests of one lane: repetition count test and
//! adaptive proportion test (NIST SP 800-90B, sections 4.4.1 and 4.4.2),
//! as specified in `docs/gateware-spec.md` section 3.
//!
//! Two timings: [`HealthTests::default`] gives fail outputs that are
//! combinational for the sample of the current cycle, so that the alarm
//! applies to the very cycle whose sample failed. [`HealthTests::pipelined`]
//! registers the two 64-bit sample comparisons (and `valid`/`clear`) first
//! and updates the counts one cycle later: its fail outputs refer to the
//! previous cycle's sample and start at flip-flops (same test results, one
//! cycle later; used where the 64-bit compare and the cross-lane alarm OR
//! do not fit in one clock period).

use rust_hdl::prelude::*;

/// Health tests over one lane's 64-bit samples. Counters are 16 bits and
/// saturate at 0xFFFF. The per-sample state that does not depend on the
/// counts (previous sample, APT reference and window position) is updated
/// in the sample's cycle; the counts and fail outputs in the same cycle
/// (default) or one cycle later (`pipelined`).
#[derive(LogicBlock)]
pub struct HealthTests {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// This cycle's 64-bit sample (lane's QRNG word).
    pub sample: Signal<In, Bits<64>>,
    /// Sample valid, active high: the sample is accepted and tested.
    pub valid: Signal<In, Bit>,
    /// Synchronous clear of both tests' state (next sample starts a new run
    /// and a new window), active high. A valid sample of the clearing
    /// cycle is still tested, against the state before the clear (its
    /// failure wins over the clear: model/AMBIGUITIES.md 1 and 22); it does
    /// not enter the new state.
    pub clear: Signal<In, Bit>,
    /// RCT cutoff C (`RNG_RCT_CUTOFF`), samples.
    pub rct_cutoff: Signal<In, Bits<16>>,
    /// APT window W (`RNG_APT_WINDOW`), samples.
    pub apt_window: Signal<In, Bits<16>>,
    /// APT cutoff (`RNG_APT_CUTOFF`), samples.
    pub apt_cutoff: Signal<In, Bits<16>>,
    /// Repetition count test fails on this cycle's sample (default,
    /// combinational) or on the previous cycle's sample (`pipelined`).
    pub rct_fail: Signal<Out, Bit>,
    /// Adaptive proportion test fails on this cycle's sample (default,
    /// combinational) or on the previous cycle's sample (`pipelined`).
    pub apt_fail: Signal<Out, Bit>,
    /// Counts and fail outputs one cycle after the sample (see the module).
    pipelined: Constant<Bit>,
    have_last: DFF<Bit>,
    last: DFF<Bits<64>>,
    apt_ref: DFF<Bits<64>>,
    apt_pos: DFF<Bits<16>>,
    apt_count: DFF<Bits<16>>,
    apt_next: Signal<Local, Bits<16>>,
    apt_pos_next: Signal<Local, Bits<16>>,
    /// Sample-cycle results, registered (used when `pipelined`).
    take_r: DFF<Bit>,
    clear_r: DFF<Bit>,
    rct_eq_r: DFF<Bit>,
    apt_same_r: DFF<Bit>,
    apt_first_r: DFF<Bit>,
    /// What the count stage works on: this cycle's (default) or the
    /// registered values (`pipelined`).
    take_s: Signal<Local, Bit>,
    clear_s: Signal<Local, Bit>,
    rct_eq_s: Signal<Local, Bit>,
    apt_same_s: Signal<Local, Bit>,
    apt_first_s: Signal<Local, Bit>,
    apt_same: Signal<Local, Bit>,
    apt_first: Signal<Local, Bit>,
    /// The RCT count (`B`) + 1 saturating at 0xFFFF, kept in a register
    /// instead of the count so the cutoff comparison starts at flip-flops.
    rct_inc: DFFWithInit<Bits<16>>,
    /// `apt_count` + 1 (wrapping; used only when `apt_count` != 0xFFFF).
    apt_inc: DFFWithInit<Bits<16>>,
    rct_ge_inc: Signal<Local, Bit>,
    apt_ge_inc: Signal<Local, Bit>,
    apt_ge_same: Signal<Local, Bit>,
    one_ge: Signal<Local, Bit>,
    apt_one_ge: Signal<Local, Bit>,
    /// The five cutoff comparisons on the new state, registered (used when
    /// `pipelined`, so that a fail output is a few gates from flip-flops).
    rct_ge_inc_r: DFF<Bit>,
    apt_ge_inc_r: DFF<Bit>,
    apt_ge_same_r: DFF<Bit>,
    one_ge_r: DFF<Bit>,
    apt_one_ge_r: DFF<Bit>,
    /// The APT failure for the next cycle (`pipelined`), registered for
    /// both outcomes of the sample comparison (`apt_same_r`), which then
    /// only selects one: the fail output is one LUT from flip-flops.
    apt_fail_same_r: DFF<Bit>,
    rct_cut_in: DFF<Bits<16>>,
    apt_cut_in: DFF<Bits<16>>,
    apt_win_in: DFF<Bits<16>>,
    apt_fail_diff_r: DFF<Bit>,
    /// Cutoffs minus one, registered: `x + 1 >= C` iff `x >= C - 1` (C >= 1),
    /// so the comparisons for an incremented count need no adder.
    rct_cut_m1: DFF<Bits<16>>,
    apt_cut_m1: DFF<Bits<16>>,
    rct_cut_zero: DFF<Bit>,
    apt_cut_zero: DFF<Bit>,
    rct_eq: Signal<Local, Bit>,
    apt_eq: Signal<Local, Bit>,
}

impl Default for HealthTests {
    fn default() -> Self {
        Self::with_timing(false)
    }
}

impl HealthTests {
    /// Counts and fail outputs one cycle after the sample (see the module).
    pub fn pipelined() -> Self {
        Self::with_timing(true)
    }

    fn with_timing(pipelined: bool) -> Self {
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
            pipelined: Constant::new(pipelined),
            have_last: Default::default(),
            last: Default::default(),
            apt_ref: Default::default(),
            apt_pos: Default::default(),
            apt_count: Default::default(),
            apt_next: Default::default(),
            apt_pos_next: Default::default(),
            rct_ge_inc: Default::default(),
            apt_ge_inc: Default::default(),
            apt_ge_same: Default::default(),
            one_ge: Default::default(),
            apt_one_ge: Default::default(),
            rct_ge_inc_r: Default::default(),
            apt_ge_inc_r: Default::default(),
            apt_ge_same_r: Default::default(),
            one_ge_r: Default::default(),
            apt_one_ge_r: Default::default(),
            apt_fail_same_r: Default::default(),
            rct_cut_in: Default::default(),
            apt_cut_in: Default::default(),
            apt_win_in: Default::default(),
            apt_fail_diff_r: Default::default(),
            rct_cut_m1: Default::default(),
            apt_cut_m1: Default::default(),
            rct_cut_zero: Default::default(),
            apt_cut_zero: Default::default(),
            rct_eq: Default::default(),
            apt_eq: Default::default(),
            take_r: Default::default(),
            clear_r: Default::default(),
            rct_eq_r: Default::default(),
            apt_same_r: Default::default(),
            apt_first_r: Default::default(),
            take_s: Default::default(),
            clear_s: Default::default(),
            rct_eq_s: Default::default(),
            apt_same_s: Default::default(),
            apt_first_s: Default::default(),
            apt_same: Default::default(),
            apt_first: Default::default(),
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
            self,
            clock,
            rct_cut_in,
            apt_cut_in,
            apt_win_in,
            have_last,
            last,
            apt_ref,
            apt_pos,
            apt_count,
            rct_inc,
            apt_inc,
            take_r,
            clear_r,
            rct_eq_r,
            apt_same_r,
            apt_first_r,
            rct_ge_inc_r,
            apt_ge_inc_r,
            apt_ge_same_r,
            one_ge_r,
            apt_one_ge_r,
            apt_fail_same_r,
            apt_fail_diff_r,
            rct_cut_m1,
            apt_cut_m1,
            rct_cut_zero,
            apt_cut_zero
        );
        // the cutoffs and the window, registered here first (their CSR
        // cells may sit far away and feed every lane; they are configured
        // before START)
        self.rct_cut_in.d.next = self.rct_cutoff.val();
        self.apt_cut_in.d.next = self.apt_cutoff.val();
        self.apt_win_in.d.next = self.apt_window.val();
        // ---- Sample cycle: comparisons and count-independent state ----
        self.apt_first.next = self.apt_pos.q.val() == 0;
        self.apt_same.next = self.sample.val() == self.apt_ref.q.val();
        self.rct_eq.next = self.have_last.q.val() & (self.sample.val() == self.last.q.val());
        if self.apt_first.val() {
            self.apt_pos_next.next = 1.into();
        } else {
            self.apt_pos_next.next = self.apt_pos.q.val() + 1;
        }
        if self.clear.val() {
            self.have_last.d.next = false;
            self.apt_pos.d.next = 0.into();
        } else if self.valid.val() {
            self.have_last.d.next = true;
            self.last.d.next = self.sample.val();
            if self.apt_first.val() {
                self.apt_ref.d.next = self.sample.val();
            }
            if self.apt_pos_next.val() >= self.apt_win_in.q.val() {
                self.apt_pos.d.next = 0.into();
            } else {
                self.apt_pos.d.next = self.apt_pos_next.val();
            }
        }
        // (a clearing cycle's sample is tested too; the state update below
        // gives the clear priority)
        self.take_r.d.next = self.valid.val();
        self.clear_r.d.next = self.clear.val();
        self.rct_eq_r.d.next = self.rct_eq.val();
        self.apt_same_r.d.next = self.apt_same.val();
        self.apt_first_r.d.next = self.apt_first.val();
        if self.pipelined.val() {
            self.take_s.next = self.take_r.q.val();
            self.clear_s.next = self.clear_r.q.val();
            self.rct_eq_s.next = self.rct_eq_r.q.val();
            self.apt_same_s.next = self.apt_same_r.q.val();
            self.apt_first_s.next = self.apt_first_r.q.val();
        } else {
            self.take_s.next = self.valid.val();
            self.clear_s.next = self.clear.val();
            self.rct_eq_s.next = self.rct_eq.val();
            self.apt_same_s.next = self.apt_same.val();
            self.apt_first_s.next = self.apt_first.val();
        }
        // ---- Count stage: repetition count test (4.4.1) ----
        // The cutoff comparisons are made on the candidate counts (count + 1
        // kept in registers), in parallel with the sample comparison, which
        // then only selects a result.
        if self.pipelined.val() {
            self.rct_ge_inc.next = self.rct_ge_inc_r.q.val();
            self.one_ge.next = self.one_ge_r.q.val();
            self.apt_ge_inc.next = self.apt_ge_inc_r.q.val();
            self.apt_ge_same.next = self.apt_ge_same_r.q.val();
            self.apt_one_ge.next = self.apt_one_ge_r.q.val();
        } else {
            self.rct_ge_inc.next = self.rct_inc.q.val() >= self.rct_cut_in.q.val();
            self.one_ge.next = self.rct_cut_in.q.val() <= 1;
            self.apt_ge_inc.next = self.apt_inc.q.val() >= self.apt_cut_in.q.val();
            self.apt_ge_same.next = self.apt_count.q.val() >= self.apt_cut_in.q.val();
            self.apt_one_ge.next = self.apt_cut_in.q.val() <= 1;
        }
        // ---- Count stage: adaptive proportion test (4.4.2) ----
        self.apt_eq.next = self.apt_same_s.val() & (self.apt_count.q.val() != 0xFFFF);
        if self.apt_first_s.val() {
            self.apt_next.next = 1.into();
        } else if self.apt_eq.val() {
            self.apt_next.next = self.apt_count.q.val() + 1;
        } else {
            self.apt_next.next = self.apt_count.q.val();
        }
        // fail = taken & (next count >= cutoff), by cases of next
        self.rct_fail.next = false;
        self.apt_fail.next = false;
        if self.take_s.val() {
            if self.rct_eq_s.val() {
                self.rct_fail.next = self.rct_ge_inc.val();
            } else {
                self.rct_fail.next = self.one_ge.val();
            }
            if self.pipelined.val() {
                // (the same cases, made a cycle ahead: see the end)
                if self.apt_same_s.val() {
                    self.apt_fail.next = self.apt_fail_same_r.q.val();
                } else {
                    self.apt_fail.next = self.apt_fail_diff_r.q.val();
                }
            } else if self.apt_first_s.val() {
                self.apt_fail.next = self.apt_one_ge.val();
            } else if self.apt_same_s.val() {
                // count + 1 >= cutoff, or the count is saturated at 2^16 - 1
                // (then count >= cutoff holds): no saturation compare of the
                // count sits in front of the failure
                self.apt_fail.next = self.apt_ge_inc.val() | self.apt_ge_same.val();
            } else {
                self.apt_fail.next = self.apt_ge_same.val();
            }
        }
        // ---- Count stage: state (rct_inc/apt_inc = new counts + 1) ----
        if self.clear_s.val() {
            self.rct_inc.d.next = 1.into();
            self.apt_count.d.next = 0.into();
            self.apt_inc.d.next = 1.into();
        } else if self.take_s.val() {
            if self.rct_eq_s.val() {
                if self.rct_inc.q.val() != 0xFFFF {
                    self.rct_inc.d.next = self.rct_inc.q.val() + 1;
                }
            } else {
                self.rct_inc.d.next = 2.into();
            }
            if self.apt_first_s.val() {
                self.apt_inc.d.next = 2.into();
            } else if self.apt_eq.val() {
                self.apt_inc.d.next = self.apt_inc.q.val() + 1;
            }
            self.apt_count.d.next = self.apt_next.val();
        }
        // The comparisons for the next sample (pipelined): on the new counts,
        // by the same cases as the state update, each made on registers in
        // parallel (x + 1 >= C as x >= C - 1); a cutoff write applies within
        // three cycles (the input register, then these).
        self.rct_cut_m1.d.next = self.rct_cut_in.q.val() - 1;
        self.apt_cut_m1.d.next = self.apt_cut_in.q.val() - 1;
        self.rct_cut_zero.d.next = self.rct_cut_in.q.val() == 0;
        self.apt_cut_zero.d.next = self.apt_cut_in.q.val() == 0;
        self.one_ge_r.d.next = self.rct_cut_in.q.val() <= 1;
        self.apt_one_ge_r.d.next = self.apt_cut_in.q.val() <= 1;
        if self.clear_s.val() {
            // counts 0, count + 1 = 1
            self.rct_ge_inc_r.d.next = self.rct_cut_in.q.val() <= 1;
            self.apt_ge_inc_r.d.next = self.apt_cut_in.q.val() <= 1;
            self.apt_ge_same_r.d.next = self.apt_cut_in.q.val() == 0;
        } else if self.take_s.val() {
            if self.rct_eq_s.val() {
                // rct_inc + 1, saturating (0xFFFF >= any cutoff either way)
                self.rct_ge_inc_r.d.next =
                    self.rct_cut_zero.q.val() | (self.rct_inc.q.val() >= self.rct_cut_m1.q.val());
            } else {
                self.rct_ge_inc_r.d.next = self.rct_cut_in.q.val() <= 2;
            }
            if self.apt_first_s.val() {
                self.apt_ge_inc_r.d.next = self.apt_cut_in.q.val() <= 2;
                self.apt_ge_same_r.d.next = self.apt_cut_in.q.val() <= 1;
            } else if self.apt_eq.val() {
                // new count = apt_inc, new apt_inc = apt_inc + 1
                self.apt_ge_inc_r.d.next =
                    self.apt_cut_zero.q.val() | (self.apt_inc.q.val() >= self.apt_cut_m1.q.val());
                self.apt_ge_same_r.d.next = self.apt_inc.q.val() >= self.apt_cut_in.q.val();
            } else {
                self.apt_ge_inc_r.d.next = self.apt_inc.q.val() >= self.apt_cut_in.q.val();
                self.apt_ge_same_r.d.next = self.apt_count.q.val() >= self.apt_cut_in.q.val();
            }
        } else {
            self.rct_ge_inc_r.d.next = self.rct_inc.q.val() >= self.rct_cut_in.q.val();
            self.apt_ge_inc_r.d.next = self.apt_inc.q.val() >= self.apt_cut_in.q.val();
            self.apt_ge_same_r.d.next = self.apt_count.q.val() >= self.apt_cut_in.q.val();
        }
        // The APT failure of the next cycle by the cases of the count stage,
        // from the inputs of the registers it is made of there (`take_s`
        // still gates it: fail = take & (same ? fail_same : fail_diff))
        if self.apt_first_r.d.val() {
            self.apt_fail_same_r.d.next = self.apt_one_ge_r.d.val();
            self.apt_fail_diff_r.d.next = self.apt_one_ge_r.d.val();
        } else {
            self.apt_fail_same_r.d.next = self.apt_ge_inc_r.d.val() | self.apt_ge_same_r.d.val();
            self.apt_fail_diff_r.d.next = self.apt_ge_same_r.d.val();
        }
    }
}
