// SPDX-License-Identifier: MIT OR Apache-2.0
//! Tumbling-window event-count alarm (gateware spec 5.5), used for Bob's
//! after-gate protection (Wiechers et al., NJP 13, 013043, 2011: bright
//! pulses after the gate make the APD click in the attacker's choice) and
//! for the click-fraction blinding watchdog.
//!
//! Windows of `window_cycles` cycles start at sync; `live` (used in cycle
//! `c`) is `events counted in the current window before c > limit`. The
//! comparison is registered (made for the count's next value, without an
//! adder in front of the compare), so `limit` is taken one cycle before
//! the cycle whose `live` it decides. The end of a window is found by
//! comparing the cycle counter with `window_cycles - 1` kept in a register
//! (no incrementer in front of the compare), so a new `window_cycles`
//! applies one cycle after it is presented (it is configured before START).

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
    gap: Signal<Local, Bits<34>>,
    near: Signal<Local, Bit>,
    add_live: Signal<Local, Bit>,
    add: SatAdd32x8,
    last_of_window: Signal<Local, Bit>,
    window_m1: DFF<Bits<32>>,
}

impl Logic for WindowAlarm {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, count, cycle, live_r, window_m1);
        // registered compare: live_r holds `count > limit` for the count now
        // in the register, decided from the count's next value
        self.live.next = self.live_r.q.val();
        // count + events, saturated (carry-select: no 32-bit ripple)
        self.add.a.next = self.count.q.val();
        self.add.b.next = self.events.val();
        // cycle + 1 >= W  <=>  cycle >= W - 1 (W >= 1; W = 0 behaves as 1)
        self.window_m1.d.next = self.window_cycles.val() - 1;
        if !self.window_cycles.val().any() {
            self.window_m1.d.next = 0.into();
        }
        self.last_of_window.next = self.cycle.q.val() >= self.window_m1.q.val();
        self.next_count.next = self.count.q.val();
        if self.enable.val() {
            if self.last_of_window.val() {
                self.next_count.next = 0.into();
                self.cycle.d.next = 0.into();
            } else {
                self.cycle.d.next = self.cycle.q.val() + 1;
                self.next_count.next = self.add.sum.val();
            }
        }
        if self.clear.val() {
            self.next_count.next = 0.into();
            self.cycle.d.next = 0.into();
        }
        self.count.d.next = self.next_count.val();
        // `min(count + events, 2^32 - 1) > limit` without an adder behind
        // the events: with gap = limit - count (from registers only, in
        // parallel with the events' popcount), it is gap < 0, or
        // 0 <= gap < 256 and events > gap (an 8-bit compare). Saturation
        // only matters for limit = 2^32 - 1, which nothing exceeds.
        self.gap.next =
            bit_cast::<34, 32>(self.limit.val()) - bit_cast::<34, 32>(self.count.q.val());
        self.near.next = !self.gap.val().get_bits::<26>(8).any() & !self.limit.val().all();
        self.add_live.next = self.gap.val().get_bit(33)
            | (self.near.val() & (self.events.val() > self.gap.val().get_bits::<8>(0)));
        self.live_r.d.next = self.count.q.val() > self.limit.val();
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
