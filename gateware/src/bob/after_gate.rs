// SPDX-License-Identifier: MIT OR Apache-2.0
//! Tumbling-window event-count alarm (gateware spec 5.5), used for Bob's
//! after-gate protection (Wiechers et al., NJP 13, 013043, 2011: bright
//! pulses after the gate make the APD click in the attacker's choice) and
//! for the click-fraction blinding watchdog.
//!
//! Windows of `window_cycles` cycles start at sync; `live` (used in cycle
//! `c`) is `events counted in the current window before c > limit`.
//!
//! The block keeps the tolerance left, `rem = limit - count`, instead of
//! the count: it is loaded with `limit` when a window starts, loses each
//! cycle's events, and holds once negative (the count is over the limit
//! for the rest of the window). The live bit of the next cycle is then
//! `rem < 0`, or `0 <= rem < 256` and `events > rem` (an 8-bit compare),
//! from the register and the events, with no 32-bit subtraction or
//! comparison in front of it; `rem - events` is a carry-select subtract
//! (the high bits' decrement is made from the register). The limit is
//! therefore taken when a window starts (at START and at each window's
//! end; it is configured before START). `limit = 2^32 - 1` never alarms
//! (a saturating count never exceeds it). The end of a window is found by
//! comparing the cycle counter with `window_cycles - 1` kept in a register
//! (no incrementer in front of the compare), so a new `window_cycles`
//! applies one cycle after it is presented.

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
    /// `limit - count` (two's complement, 34 bits), held once negative.
    rem: DFF<Bits<34>>,
    /// `rem`'s bits 8.. minus one (the high part after a borrow).
    rem_hi_m1: Signal<Local, Bits<26>>,
    /// `rem`'s low byte minus the events, with the borrow in bit 8.
    rem_lo: Signal<Local, Bits<9>>,
    rem_sub: Signal<Local, Bits<34>>,
    limit_max: DFF<Bit>,
    cycle: DFF<Bits<32>>,
    live_r: DFF<Bit>,
    near: Signal<Local, Bit>,
    add_live: Signal<Local, Bit>,
    last_of_window: Signal<Local, Bit>,
    window_m1: DFF<Bits<32>>,
}

impl Logic for WindowAlarm {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, rem, limit_max, cycle, live_r, window_m1);
        self.live.next = self.live_r.q.val() & !self.limit_max.q.val();
        self.limit_max.d.next = self.limit.val().all();
        // cycle + 1 >= W  <=>  cycle >= W - 1 (W >= 1; W = 0 behaves as 1)
        self.window_m1.d.next = self.window_cycles.val() - 1;
        if !self.window_cycles.val().any() {
            self.window_m1.d.next = 0.into();
        }
        self.last_of_window.next = self.cycle.q.val() >= self.window_m1.q.val();
        // rem - events, carry-select: the low byte's borrow picks the high
        // bits or their decrement
        self.rem_hi_m1.next = self.rem.q.val().get_bits::<26>(8) - 1;
        self.rem_lo.next = bit_cast::<9, 8>(self.rem.q.val().get_bits::<8>(0))
            - bit_cast::<9, 8>(self.events.val());
        if self.rem_lo.val().get_bit(8) {
            self.rem_sub.next = (bit_cast::<34, 26>(self.rem_hi_m1.val()) << 8)
                | bit_cast::<34, 8>(self.rem_lo.val().get_bits::<8>(0));
        } else {
            self.rem_sub.next = (bit_cast::<34, 26>(self.rem.q.val().get_bits::<26>(8)) << 8)
                | bit_cast::<34, 8>(self.rem_lo.val().get_bits::<8>(0));
        }
        // the next live bit: count + events > limit <=> rem - events < 0
        self.near.next = !self.rem.q.val().get_bits::<26>(8).any();
        self.add_live.next = self.rem.q.val().get_bit(33)
            | (self.near.val() & (self.events.val() > self.rem.q.val().get_bits::<8>(0)));
        self.live_r.d.next = self.rem.q.val().get_bit(33);
        if self.enable.val() {
            if self.last_of_window.val() {
                self.cycle.d.next = 0.into();
                self.rem.d.next = bit_cast::<34, 32>(self.limit.val());
                self.live_r.d.next = false;
            } else {
                self.cycle.d.next = self.cycle.q.val() + 1;
                if !self.rem.q.val().get_bit(33) {
                    self.rem.d.next = self.rem_sub.val();
                }
                self.live_r.d.next = self.add_live.val();
            }
        }
        if self.clear.val() {
            self.cycle.d.next = 0.into();
            self.rem.d.next = bit_cast::<34, 32>(self.limit.val());
            self.live_r.d.next = false;
        }
    }
}
