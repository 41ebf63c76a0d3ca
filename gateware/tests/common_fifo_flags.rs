// SPDX-License-Identifier: MIT OR Apache-2.0
//! The registered FIFO flags (`common::fifo_full`, `common::fifo_empty`)
//! beside a rust-hdl `SynchronousFIFO` fed with seeded random writes and
//! reads: each flag must equal the FIFO's own flag in every cycle, and the
//! data must come out in order, for several write/read mixes (filling the
//! FIFO, draining it, and single-entry ping-pong).
//!
//! ```text
//!  write, read ──► SynchronousFIFO ──► full, empty
//!              └─► FifoFull, FifoEmpty ──► full, empty (must match)
//! ```

mod bob_harness;

use bob_harness::{seed_of, settle, tick, SplitMix64};
use qkd_gateware::common::fifo_empty::FifoEmpty;
use qkd_gateware::common::fifo_full::FifoFull;
use rust_hdl::prelude::*;

/// A depth-8 FIFO with the two registered flags kept from its traffic.
#[derive(LogicBlock, Default)]
struct Flags {
    clock: Signal<In, Clock>,
    write: Signal<In, Bit>,
    read: Signal<In, Bit>,
    data_in: Signal<In, Bits<8>>,
    data_out: Signal<Out, Bits<8>>,
    fifo_full: Signal<Out, Bit>,
    fifo_empty: Signal<Out, Bit>,
    reg_full: Signal<Out, Bit>,
    reg_empty: Signal<Out, Bit>,
    fifo: SynchronousFIFO<Bits<8>, 3, 4, 1>,
    full: FifoFull<4>,
    empty: FifoEmpty<4>,
}

impl Logic for Flags {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, fifo, full, empty);
        self.fifo.write.next = self.write.val();
        self.fifo.read.next = self.read.val();
        self.fifo.data_in.next = self.data_in.val();
        self.data_out.next = self.fifo.data_out.val();
        self.fifo_full.next = self.fifo.full.val();
        self.fifo_empty.next = self.fifo.empty.val();
        self.full.wrote.next = self.write.val() & !self.fifo.full.val();
        self.full.took.next = self.read.val() & !self.fifo.empty.val();
        self.empty.wrote.next = self.write.val() & !self.fifo.full.val();
        self.empty.took.next = self.read.val() & !self.fifo.empty.val();
        self.reg_full.next = self.full.full.val();
        self.reg_empty.next = self.empty.empty.val();
    }
}

/// Run `cycles` cycles writing with probability `p_write`/256 and reading
/// with `p_read`/256; returns how many entries went through.
fn run(name: &str, p_write: u64, p_read: u64, cycles: usize) -> usize {
    let mut uut = Flags::default();
    uut.clock.connect();
    uut.write.connect();
    uut.read.connect();
    uut.data_in.connect();
    uut.connect_all();
    let clk: fn(&mut Flags) -> &mut Signal<In, Clock> = |u| &mut u.clock;
    let mut rng = SplitMix64(seed_of(name));
    let mut model = std::collections::VecDeque::new();
    let mut next_byte = 0u8;
    let mut moved = 0;
    for cycle in 0..cycles {
        let z = rng.next_u64();
        uut.write.next = z & 0xFF < p_write;
        uut.read.next = (z >> 8) & 0xFF < p_read;
        uut.data_in.next = u64::from(next_byte).into();
        settle(&mut uut);
        assert_eq!(
            uut.reg_empty.val(),
            uut.fifo_empty.val(),
            "{name}: empty differs in cycle {cycle}"
        );
        assert_eq!(
            uut.reg_full.val(),
            uut.fifo_full.val(),
            "{name}: full differs in cycle {cycle}"
        );
        if uut.read.val() & !uut.fifo_empty.val() {
            let want: u8 = model
                .pop_front()
                .expect("FIFO read with no entry in the model");
            assert_eq!(
                uut.data_out.val().to_u64(),
                u64::from(want),
                "{name}: cycle {cycle}"
            );
            moved += 1;
        }
        if uut.write.val() & !uut.fifo_full.val() {
            model.push_back(next_byte);
            next_byte = next_byte.wrapping_add(1);
        }
        tick(&mut uut, clk);
    }
    moved
}

#[test]
fn registered_flags_match_the_fifo() {
    // (writes, reads) per 256: filling, draining, balanced, ping-pong
    for (p_write, p_read) in [(200, 40), (40, 200), (128, 128), (256, 256), (20, 256)] {
        let moved = run(
            &format!("registered_flags_match_the_fifo_{p_write}_{p_read}"),
            p_write,
            p_read,
            4000,
        );
        assert!(moved > 100, "only {moved} entries went through");
    }
}
