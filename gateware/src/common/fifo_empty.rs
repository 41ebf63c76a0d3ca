// SPDX-License-Identifier: MIT OR Apache-2.0
//! A registered `empty` flag for a rust-hdl `SynchronousFIFO` of depth
//! `2^(NP1 - 1)`, kept beside the FIFO's reader from the writes and reads
//! that take effect: the FIFO's own `empty` compares its read address with
//! a delayed copy of its write address (a compare, then a route from
//! wherever the FIFO's address registers sit), in front of every decision
//! the reader makes on it. This flag is a flip-flop placed with the reader.
//!
//! The FIFO's `empty` is exactly `write address delayed == read address`,
//! where the delayed write address is the write address one cycle late: a
//! write becomes visible to the reader two cycles after it is presented.
//! Counting the entries the reader can see (`visible`: +1 one cycle after
//! each write that takes effect, -1 per read that takes effect) and
//! registering `visible' != 0` gives the same flag, cycle for cycle
//! (`tests/common_fifo_flags.rs` checks it against the FIFO).

use rust_hdl::prelude::*;

/// Visible-entry counter and registered empty flag (`NP1` = address bits + 1).
#[derive(LogicBlock)]
pub struct FifoEmpty<const NP1: usize> {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// An entry is written this cycle (a write that takes effect), active high.
    pub wrote: Signal<In, Bit>,
    /// An entry is read this cycle (a read while `empty` is low), active high.
    pub took: Signal<In, Bit>,
    /// The FIFO's reader sees no entry, registered (equal to the FIFO's
    /// own `empty` in every cycle).
    pub empty: Signal<Out, Bit>,
    visible: DFF<Bits<NP1>>,
    wrote_r: DFF<Bit>,
    // kept as "not empty" so that the power-up value 0 is the empty FIFO
    nonempty_r: DFF<Bit>,
    one: Constant<Bits<NP1>>,
}

impl<const NP1: usize> Default for FifoEmpty<NP1> {
    fn default() -> Self {
        assert!(
            (2..=16).contains(&NP1),
            "FifoEmpty: NP1 {NP1} out of 2..=16"
        );
        Self {
            clock: Default::default(),
            wrote: Default::default(),
            took: Default::default(),
            empty: Default::default(),
            visible: Default::default(),
            wrote_r: Default::default(),
            nonempty_r: Default::default(),
            one: Constant::new(1u64.into()),
        }
    }
}

impl<const NP1: usize> Logic for FifoEmpty<NP1> {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, visible, wrote_r, nonempty_r);
        self.empty.next = !self.nonempty_r.q.val();
        // a write shows at the reader one cycle after it takes effect
        self.wrote_r.d.next = self.wrote.val();
        if self.wrote_r.q.val() & !self.took.val() {
            self.visible.d.next = self.visible.q.val() + 1;
            self.nonempty_r.d.next = true;
        } else if self.took.val() & !self.wrote_r.q.val() {
            self.visible.d.next = self.visible.q.val() - 1;
            self.nonempty_r.d.next = self.visible.q.val() != self.one.val();
        }
    }
}
