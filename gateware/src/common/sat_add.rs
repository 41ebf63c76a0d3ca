// SPDX-License-Identifier: MIT OR Apache-2.0
//! Saturating add of a 32-bit counter and an 8-bit per-cycle increment,
//! `min(a + b, 2^32 - 1)`, for counters that must not wrap (Bob's
//! after-gate window count and no-dark-count run, gateware spec 5.5).
//!
//! Written as a carry-select add (Bedrij, IRE Trans. Electronic Computers
//! EC-11, 1962): the low byte's 9-bit sum selects either the high 24 bits
//! or their increment, and the increment is computed from `a` alone, so
//! the carry of `b` does not ripple through the 32-bit chain. The block is
//! combinational; its user registers the result.

use rust_hdl::prelude::*;

/// Combinational `min(a + b, 2^32 - 1)`.
#[derive(LogicBlock, Default)]
pub struct SatAdd32x8 {
    /// The counter.
    pub a: Signal<In, Bits<32>>,
    /// The increment.
    pub b: Signal<In, Bits<8>>,
    /// `a + b`, saturated at `2^32 - 1`.
    pub sum: Signal<Out, Bits<32>>,
    lo: Signal<Local, Bits<9>>,
    hi_inc: Signal<Local, Bits<25>>,
    wide: Signal<Local, Bits<33>>,
}

impl Logic for SatAdd32x8 {
    #[hdl_gen]
    fn update(&mut self) {
        self.lo.next =
            bit_cast::<9, 8>(self.a.val().get_bits::<8>(0)) + bit_cast::<9, 8>(self.b.val());
        self.hi_inc.next = bit_cast::<25, 24>(self.a.val().get_bits::<24>(8)) + 1;
        if self.lo.val().get_bit(8) {
            self.wide.next = (bit_cast::<33, 25>(self.hi_inc.val()) << 8)
                | bit_cast::<33, 8>(self.lo.val().get_bits::<8>(0));
        } else {
            self.wide.next = (bit_cast::<33, 24>(self.a.val().get_bits::<24>(8)) << 8)
                | bit_cast::<33, 8>(self.lo.val().get_bits::<8>(0));
        }
        if self.wide.val().get_bit(32) {
            self.sum.next = 0xFFFF_FFFF_u64.into();
        } else {
            self.sum.next = bit_cast::<32, 33>(self.wide.val());
        }
    }
}
