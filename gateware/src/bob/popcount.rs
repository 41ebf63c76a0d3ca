// SPDX-License-Identifier: MIT OR Apache-2.0
//! Population count of a 32-bit vector (number of ones, 0..=32) for Bob's
//! class counts (gateware spec 5.3, 5.6), as a tree of bit-parallel
//! ("SWAR") additions written out as full adders: step `s` adds
//! neighbouring fields of width `2^(s-1)` into fields of width `2^s`
//! (Warren, *Hacker's Delight*, 2nd ed., section 5-1, with the field
//! additions done by boolean full adders instead of word adders). The
//! logic is pure boolean: synthesis maps it to LUTs and folds constant
//! zero inputs away, with no carry chain and no chain of incrementers.

use rust_hdl::prelude::*;

/// Number of temporaries of the tree (generated, see the module doc).
const TEMPS: usize = 73;

/// Combinational 32-bit population count.
#[derive(LogicBlock)]
pub struct Popcount32 {
    /// Input bits.
    pub x: Signal<In, Bits<32>>,
    /// Number of ones in `x`.
    pub n: Signal<Out, Bits<8>>,
    /// Low-field masks per step.
    k: Vec<Constant<Bits<32>>>,
    /// Bit 0 of each output field per step.
    kb: Vec<Constant<Bits<32>>>,
    t: Vec<Signal<Local, Bits<32>>>,
}

impl Default for Popcount32 {
    fn default() -> Self {
        let mask = |period: usize, width: usize| -> u64 {
            (0..32)
                .step_by(period)
                .map(|b| ((1u64 << width) - 1) << b)
                .sum()
        };
        Self {
            x: Default::default(),
            n: Default::default(),
            k: (1..=5)
                .map(|s| Constant::new(mask(2 << (s - 1), 1 << (s - 1)).into()))
                .collect(),
            kb: (1..=5)
                .map(|s| Constant::new(mask(2 << (s - 1), 1).into()))
                .collect(),
            t: (0..TEMPS).map(|_| Default::default()).collect(),
        }
    }
}

impl Logic for Popcount32 {
    #[hdl_gen]
    fn update(&mut self) {
        self.t[0].next = self.x.val() & self.k[0].val();
        self.t[1].next = (self.x.val() >> 1) & self.k[0].val();
        self.t[2].next = self.t[0].val() ^ self.t[1].val();
        self.t[3].next = self.t[0].val() & self.t[1].val();
        self.t[4].next = self.t[2].val() | (self.t[3].val() << 1);
        self.t[5].next = self.t[4].val() & self.k[1].val();
        self.t[6].next = (self.t[4].val() >> 2) & self.k[1].val();
        self.t[7].next = (self.t[5].val() >> 0) & self.kb[1].val();
        self.t[8].next = (self.t[6].val() >> 0) & self.kb[1].val();
        self.t[9].next = (self.t[5].val() >> 1) & self.kb[1].val();
        self.t[10].next = (self.t[6].val() >> 1) & self.kb[1].val();
        self.t[11].next = self.t[7].val() ^ self.t[8].val();
        self.t[12].next = self.t[7].val() & self.t[8].val();
        self.t[13].next = self.t[9].val() ^ self.t[10].val() ^ self.t[12].val();
        self.t[14].next = (self.t[9].val() & self.t[10].val())
            | (self.t[9].val() & self.t[12].val())
            | (self.t[10].val() & self.t[12].val());
        self.t[15].next = self.t[11].val() | (self.t[13].val() << 1) | (self.t[14].val() << 2);
        self.t[16].next = self.t[15].val() & self.k[2].val();
        self.t[17].next = (self.t[15].val() >> 4) & self.k[2].val();
        self.t[18].next = (self.t[16].val() >> 0) & self.kb[2].val();
        self.t[19].next = (self.t[17].val() >> 0) & self.kb[2].val();
        self.t[20].next = (self.t[16].val() >> 1) & self.kb[2].val();
        self.t[21].next = (self.t[17].val() >> 1) & self.kb[2].val();
        self.t[22].next = (self.t[16].val() >> 2) & self.kb[2].val();
        self.t[23].next = (self.t[17].val() >> 2) & self.kb[2].val();
        self.t[24].next = self.t[18].val() ^ self.t[19].val();
        self.t[25].next = self.t[18].val() & self.t[19].val();
        self.t[26].next = self.t[20].val() ^ self.t[21].val() ^ self.t[25].val();
        self.t[27].next = (self.t[20].val() & self.t[21].val())
            | (self.t[20].val() & self.t[25].val())
            | (self.t[21].val() & self.t[25].val());
        self.t[28].next = self.t[22].val() ^ self.t[23].val() ^ self.t[27].val();
        self.t[29].next = (self.t[22].val() & self.t[23].val())
            | (self.t[22].val() & self.t[27].val())
            | (self.t[23].val() & self.t[27].val());
        self.t[30].next = self.t[24].val()
            | (self.t[26].val() << 1)
            | (self.t[28].val() << 2)
            | (self.t[29].val() << 3);
        self.t[31].next = self.t[30].val() & self.k[3].val();
        self.t[32].next = (self.t[30].val() >> 8) & self.k[3].val();
        self.t[33].next = (self.t[31].val() >> 0) & self.kb[3].val();
        self.t[34].next = (self.t[32].val() >> 0) & self.kb[3].val();
        self.t[35].next = (self.t[31].val() >> 1) & self.kb[3].val();
        self.t[36].next = (self.t[32].val() >> 1) & self.kb[3].val();
        self.t[37].next = (self.t[31].val() >> 2) & self.kb[3].val();
        self.t[38].next = (self.t[32].val() >> 2) & self.kb[3].val();
        self.t[39].next = (self.t[31].val() >> 3) & self.kb[3].val();
        self.t[40].next = (self.t[32].val() >> 3) & self.kb[3].val();
        self.t[41].next = self.t[33].val() ^ self.t[34].val();
        self.t[42].next = self.t[33].val() & self.t[34].val();
        self.t[43].next = self.t[35].val() ^ self.t[36].val() ^ self.t[42].val();
        self.t[44].next = (self.t[35].val() & self.t[36].val())
            | (self.t[35].val() & self.t[42].val())
            | (self.t[36].val() & self.t[42].val());
        self.t[45].next = self.t[37].val() ^ self.t[38].val() ^ self.t[44].val();
        self.t[46].next = (self.t[37].val() & self.t[38].val())
            | (self.t[37].val() & self.t[44].val())
            | (self.t[38].val() & self.t[44].val());
        self.t[47].next = self.t[39].val() ^ self.t[40].val() ^ self.t[46].val();
        self.t[48].next = (self.t[39].val() & self.t[40].val())
            | (self.t[39].val() & self.t[46].val())
            | (self.t[40].val() & self.t[46].val());
        self.t[49].next = self.t[41].val()
            | (self.t[43].val() << 1)
            | (self.t[45].val() << 2)
            | (self.t[47].val() << 3)
            | (self.t[48].val() << 4);
        self.t[50].next = self.t[49].val() & self.k[4].val();
        self.t[51].next = (self.t[49].val() >> 16) & self.k[4].val();
        self.t[52].next = (self.t[50].val() >> 0) & self.kb[4].val();
        self.t[53].next = (self.t[51].val() >> 0) & self.kb[4].val();
        self.t[54].next = (self.t[50].val() >> 1) & self.kb[4].val();
        self.t[55].next = (self.t[51].val() >> 1) & self.kb[4].val();
        self.t[56].next = (self.t[50].val() >> 2) & self.kb[4].val();
        self.t[57].next = (self.t[51].val() >> 2) & self.kb[4].val();
        self.t[58].next = (self.t[50].val() >> 3) & self.kb[4].val();
        self.t[59].next = (self.t[51].val() >> 3) & self.kb[4].val();
        self.t[60].next = (self.t[50].val() >> 4) & self.kb[4].val();
        self.t[61].next = (self.t[51].val() >> 4) & self.kb[4].val();
        self.t[62].next = self.t[52].val() ^ self.t[53].val();
        self.t[63].next = self.t[52].val() & self.t[53].val();
        self.t[64].next = self.t[54].val() ^ self.t[55].val() ^ self.t[63].val();
        self.t[65].next = (self.t[54].val() & self.t[55].val())
            | (self.t[54].val() & self.t[63].val())
            | (self.t[55].val() & self.t[63].val());
        self.t[66].next = self.t[56].val() ^ self.t[57].val() ^ self.t[65].val();
        self.t[67].next = (self.t[56].val() & self.t[57].val())
            | (self.t[56].val() & self.t[65].val())
            | (self.t[57].val() & self.t[65].val());
        self.t[68].next = self.t[58].val() ^ self.t[59].val() ^ self.t[67].val();
        self.t[69].next = (self.t[58].val() & self.t[59].val())
            | (self.t[58].val() & self.t[67].val())
            | (self.t[59].val() & self.t[67].val());
        self.t[70].next = self.t[60].val() ^ self.t[61].val() ^ self.t[69].val();
        self.t[71].next = (self.t[60].val() & self.t[61].val())
            | (self.t[60].val() & self.t[69].val())
            | (self.t[61].val() & self.t[69].val());
        self.t[72].next = self.t[62].val()
            | (self.t[64].val() << 1)
            | (self.t[66].val() << 2)
            | (self.t[68].val() << 3)
            | (self.t[70].val() << 4)
            | (self.t[71].val() << 5);
        self.n.next = self.t[72].val().get_bits::<8>(0);
    }
}
