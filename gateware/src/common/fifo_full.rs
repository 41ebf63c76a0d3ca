// SPDX-License-Identifier: MIT OR Apache-2.0
//! A registered `full` flag for a rust-hdl `SynchronousFIFO` of depth
//! `2^(NP1 - 1)`, kept beside the FIFO from the writes and reads that take
//! effect: the FIFO's own `full` compares its address registers (a few LUT
//! levels and a route to wherever the addresses are placed), which put
//! them in front of every admission decision that waits on it.
//!
//! The FIFO's write-side `full` is exactly `write address - read address ==
//! depth` (its write address runs at most one ahead of the delayed copy
//! its `empty` uses), so counting the occupancy `used` (+1 per write that
//! takes effect, -1 per read that takes effect) and registering
//! `used' == depth` gives the same flag, from a flip-flop. A user may also
//! count a write from the cycle that reserves its entry, if the write
//! follows later: the flag then counts reserved entries, and the FIFO
//! never overflows.

use rust_hdl::prelude::*;

/// Occupancy counter and registered full flag (`NP1` = address bits + 1).
#[derive(LogicBlock)]
pub struct FifoFull<const NP1: usize> {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// An entry is written (or reserved) this cycle, active high. Only
    /// when `full` is low.
    pub wrote: Signal<In, Bit>,
    /// An entry is read this cycle (a read of a non-empty FIFO), active high.
    pub took: Signal<In, Bit>,
    /// The FIFO holds (or has reserved) all its entries, registered.
    pub full: Signal<Out, Bit>,
    used: DFF<Bits<NP1>>,
    full_r: DFF<Bit>,
    last: Constant<Bits<NP1>>,
}

impl<const NP1: usize> Default for FifoFull<NP1> {
    fn default() -> Self {
        assert!((2..=16).contains(&NP1), "FifoFull: NP1 {NP1} out of 2..=16");
        Self {
            clock: Default::default(),
            wrote: Default::default(),
            took: Default::default(),
            full: Default::default(),
            used: Default::default(),
            full_r: Default::default(),
            last: Constant::new(((1u64 << (NP1 - 1)) - 1).into()),
        }
    }
}

impl<const NP1: usize> Logic for FifoFull<NP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, used, full_r);
        self.full.next = self.full_r.q.val();
        if self.wrote.val() & !self.took.val() {
            self.used.d.next = self.used.q.val() + 1;
            self.full_r.d.next = self.used.q.val() == self.last.val();
        } else if self.took.val() & !self.wrote.val() {
            self.used.d.next = self.used.q.val() - 1;
            self.full_r.d.next = false;
        }
    }
}
