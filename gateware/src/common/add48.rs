// SPDX-License-Identifier: MIT OR Apache-2.0
//! Wrapping add of a 48-bit counter and an 8-bit per-cycle increment,
//! `(a + b) mod 2^48`, for Bob's STATUS interval sums (gateware spec 5.6:
//! slots, gates, accepted, after-gate, dead-time and invalid counts).
//!
//! A carry-select add (Bedrij, IRE Trans. Electronic Computers EC-11,
//! 1962), as `sat_add.rs`: the low byte's 9-bit sum selects either the high
//! 40 bits or their increment, made from `a` alone, so the increment's
//! carry does not ripple through a 48-bit chain behind the logic that
//! chooses `b`. Combinational; its user registers the result.

use rust_hdl::prelude::*;

/// Combinational `(a + b) mod 2^48`.
#[derive(LogicBlock, Default)]
pub struct Add48x8 {
    /// The counter.
    pub a: Signal<In, Bits<48>>,
    /// The increment.
    pub b: Signal<In, Bits<8>>,
    /// `a + b`, wrapping.
    pub sum: Signal<Out, Bits<48>>,
    lo: Signal<Local, Bits<9>>,
    hi_inc: Signal<Local, Bits<40>>,
}

impl Logic for Add48x8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.lo.next =
            bit_cast::<9, 8>(self.a.val().get_bits::<8>(0)) + bit_cast::<9, 8>(self.b.val());
        self.hi_inc.next = self.a.val().get_bits::<40>(8) + 1;
        if self.lo.val().get_bit(8) {
            self.sum.next = (bit_cast::<48, 40>(self.hi_inc.val()) << 8)
                | bit_cast::<48, 8>(self.lo.val().get_bits::<8>(0));
        } else {
            self.sum.next = (bit_cast::<48, 40>(self.a.val().get_bits::<40>(8)) << 8)
                | bit_cast::<48, 8>(self.lo.val().get_bits::<8>(0));
        }
    }
}
