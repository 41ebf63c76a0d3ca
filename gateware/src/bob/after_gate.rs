// SPDX-License-Identifier: MIT OR Apache-2.0
//! Tumbling-window event-count alarm (gateware spec 5.5), used for Bob's
//! after-gate protection (Wiechers et al., NJP 13, 013043, 2011: bright
//! pulses after the gate make the APD click in the attacker's choice) and
//! for the click-fraction blinding watchdog.
//!
//! Windows of `window_cycles` cycles start at sync; `live` (used in cycle
//! `c`) is `events counted in the current window before c > limit`. The
//! comparison is registered (made for the count's next value) and split
//! over two cycles so that no long carry chain sits in front of it:
//!
//! * cycle c-1: `gap = limit - count` (34 bits, registers only) is reduced
//!   to its sign, "0 <= gap < 512" and its low 9 bits, registered with the
//!   events added in c-1 (`added`); when the count restarts at 0 the base
//!   is `limit` itself and nothing is added;
//! * cycle c: the gap now is `gap_lo - added` (a 10-bit subtract from
//!   registers, in parallel with the events' popcount), and the count
//!   after c exceeds the limit when the base is negative, or it is near
//!   and the events exceed that gap (an 8-bit compare).
//!
//! So `limit` is taken two cycles before the cycle whose `live` it decides
//! (it is configured before START). The window's last cycle is a
//! register too, decided for the cycle counter's next value by comparing
//! it with `window_cycles - 2` kept in a register (no compare in front of
//! the count), so a new `window_cycles` applies two cycles after it is
//! presented; at `clear` (START) the value presented is used.

use crate::common::sat_add::SatAdd32x8;
use rust_hdl::prelude::*;

/// Count events over tumbling windows of cycles; live when over the limit.
#[derive(LogicBlock, Default)]
pub struct WindowAlarm {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Start over (at START): empty window at cycle 0, active high.
    pub clear: Signal<In, Bit>,
    /// This cycle belongs to the windows (running and synced), active high.
    pub enable: Signal<In, Bit>,
    /// Events in this cycle.
    pub events: Signal<In, Bits<8>>,
    /// Window length in cycles (>= 1).
    pub window_cycles: Signal<In, Bits<32>>,
    /// Events tolerated per window.
    pub limit: Signal<In, Bits<32>>,
    /// Live alarm for this cycle (from events of earlier cycles), active high.
    pub live: Signal<Out, Bit>,
    count: DFF<Bits<32>>,
    cycle: DFF<Bits<32>>,
    live_r: DFF<Bit>,
    next_count: Signal<Local, Bits<32>>,
    restart: Signal<Local, Bit>,
    gap: Signal<Local, Bits<34>>,
    // base of the compare: limit - count one cycle ago (or limit after a
    // restart) as sign, near (0 <= base < 512) and low 9 bits
    base_neg: DFF<Bit>,
    base_near: DFF<Bit>,
    base_lo: DFF<Bits<9>>,
    // events added to the count one cycle ago (0 when none were)
    added: DFF<Bits<8>>,
    // limit - count now, when base_near: base_lo - added in [-255, 511]
    gap_now: Signal<Local, Bits<10>>,
    over_now: Signal<Local, Bit>,
    add_live: Signal<Local, Bit>,
    add: SatAdd32x8,
    last_of_window: Signal<Local, Bit>,
    // `cycle >= window_cycles - 1` for the cycle counter now in its register
    last_r: DFF<Bit>,
    window_m1: DFF<Bits<32>>,
    window_m2: DFF<Bits<32>>,
    window_le1: DFF<Bit>,
}

impl Logic for WindowAlarm {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, count, cycle, live_r, last_r, window_m1, window_m2, window_le1, base_neg,
            base_near, base_lo, added
        );
        // registered compare: live_r holds `count > limit` for the count now
        // in the register, decided from the count's next value
        self.live.next = self.live_r.q.val();
        // count + events, saturated (carry-select: no 32-bit ripple)
        self.add.a.next = self.count.q.val();
        self.add.b.next = self.events.val();
        // the window's last cycle, registered: cycle >= W - 1 (W >= 1; W = 0
        // behaves as 1), decided for the counter's next value from
        // registers (cycle + 1 >= W - 1 <=> cycle >= W - 2)
        self.window_m1.d.next = self.window_cycles.val() - 1;
        self.window_m2.d.next = self.window_cycles.val() - 2;
        self.window_le1.d.next = self.window_cycles.val() <= 1;
        if self.window_cycles.val() <= 2 {
            self.window_m2.d.next = 0.into();
        }
        if !self.window_cycles.val().any() {
            self.window_m1.d.next = 0.into();
        }
        self.last_of_window.next = self.last_r.q.val();
        self.next_count.next = self.count.q.val();
        self.restart.next = false;
        self.added.d.next = 0.into();
        if self.enable.val() {
            if self.last_of_window.val() {
                self.restart.next = true;
            } else {
                self.cycle.d.next = self.cycle.q.val() + 1;
                self.next_count.next = self.add.sum.val();
                self.added.d.next = self.events.val();
            }
        }
        if self.clear.val() {
            self.restart.next = true;
        }
        if self.restart.val() {
            self.next_count.next = 0.into();
            self.cycle.d.next = 0.into();
            self.added.d.next = 0.into();
        }
        // (a window_cycles written while the windows are held applies
        // before they go on: the compare is then made for the counter as it is)
        self.last_r.d.next = self.cycle.q.val() >= self.window_m1.q.val();
        if self.enable.val() {
            if self.last_of_window.val() {
                self.last_r.d.next = self.window_le1.q.val();
            } else {
                self.last_r.d.next = self.cycle.q.val() >= self.window_m2.q.val();
            }
        }
        if self.clear.val() {
            // (START: from the value presented, not yet in window_le1)
            self.last_r.d.next = self.window_cycles.val() <= 1;
        }
        self.count.d.next = self.next_count.val();
        // cycle c-1: the base for the next cycle's compare. Saturation of
        // the count only matters for limit = 2^32 - 1, which nothing
        // exceeds (near is held false for it).
        self.gap.next =
            bit_cast::<34, 32>(self.limit.val()) - bit_cast::<34, 32>(self.count.q.val());
        self.base_neg.d.next = self.gap.val().get_bit(33);
        self.base_near.d.next = !self.gap.val().get_bits::<25>(9).any() & !self.limit.val().all();
        self.base_lo.d.next = self.gap.val().get_bits::<9>(0);
        if self.restart.val() {
            self.base_neg.d.next = false;
            self.base_near.d.next = !self.limit.val().get_bits::<23>(9).any();
            self.base_lo.d.next = self.limit.val().get_bits::<9>(0);
        }
        // cycle c: limit - count now = base - added (when near); the count
        // after this cycle exceeds the limit when that is negative, or when
        // it is below 256 and the events exceed it
        self.gap_now.next =
            bit_cast::<10, 9>(self.base_lo.q.val()) - bit_cast::<10, 8>(self.added.q.val());
        self.over_now.next =
            self.base_neg.q.val() | (self.base_near.q.val() & self.gap_now.val().get_bit(9));
        self.add_live.next = self.over_now.val()
            | (self.base_near.q.val()
                & !self.gap_now.val().get_bits::<2>(8).any()
                & (self.events.val() > self.gap_now.val().get_bits::<8>(0)));
        self.live_r.d.next = self.over_now.val();
        if self.enable.val() {
            if self.last_of_window.val() {
                self.live_r.d.next = false;
            } else {
                self.live_r.d.next = self.add_live.val();
            }
        }
        if self.clear.val() {
            self.live_r.d.next = false;
        }
    }
}
