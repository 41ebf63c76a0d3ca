// SPDX-License-Identifier: MIT OR Apache-2.0
//! Bob's active basis choice (gateware spec 2 and 5.4): lane `l` measures
//! in Z when `r_basis = r[47:32] < GATE_BASIS_THRESH_Z`, else in X, from
//! the lane's random word of the cycle (test PRNG step or QRNG chunk).

use rust_hdl::prelude::*;

/// Per-lane basis from per-lane random words (combinational).
#[derive(LogicBlock)]
pub struct BasisChoice {
    /// Random word per lane (`r`).
    pub words: Vec<Signal<In, Bits<64>>>,
    /// `GATE_BASIS_THRESH_Z`, in 2^-16 units.
    pub thresh_z: Signal<In, Bits<16>>,
    /// Basis per lane, bit `l`: 1 = X, 0 = Z.
    pub basis: Signal<Out, Bits<8>>,
}

impl BasisChoice {
    /// For `lanes` lanes (1..=8).
    pub fn new(lanes: usize) -> Self {
        assert!(
            (1..=8).contains(&lanes),
            "BasisChoice: lanes {lanes} out of 1..=8"
        );
        Self {
            words: (0..lanes).map(|_| Default::default()).collect(),
            thresh_z: Default::default(),
            basis: Default::default(),
        }
    }
}

impl Logic for BasisChoice {
    #[hdl_gen]
    fn update(&mut self) {
        self.basis.next = 0.into();
        for l in 0..self.words.len() {
            self.basis.next = self.basis.val().replace_bit(
                l,
                self.words[l].val().get_bits::<16>(32) >= self.thresh_z.val(),
            );
        }
    }
}
