// SPDX-License-Identifier: MIT OR Apache-2.0
//! Test PRNG: one xoshiro256+ generator per lane (Blackman and Vigna,
//! "Scrambled linear pseudorandom number generators", ACM TOMS 2021),
//! seeded as in `docs/gateware-spec.md` section 1.
//!
//! The per-lane seeding constants `C[4*lane + j]` (SplitMix64 outputs) are
//! computed at elaboration; the hardware only XORs them with the seed. The
//! output adder `s0 + s3` is fed straight from the state registers and its
//! sum is registered (one 64-bit adder between flip-flops, no chained adds).

use rust_hdl::prelude::*;

/// Output `n` (0-based) of SplitMix64 started from state 0 (spec section 1).
pub fn splitmix64_output(n: usize) -> u64 {
    let mut x: u64 = 0;
    let mut z = 0;
    for _ in 0..=n {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

/// One lane's xoshiro256+ generator.
///
/// Timing: with `load` high in cycle `c`, the state of step 0 is held in
/// cycle `c+1`; with `step` high in cycles `c+1, c+2, ...` the output of
/// step `k` appears on `out` in cycle `c+2+k` (one register after the adder).
#[derive(LogicBlock)]
pub struct Xoshiro256Plus {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// 64-bit seed `S = RNG_SEED_HI:RNG_SEED_LO`, sampled when `load` is high.
    pub seed: Signal<In, Bits<64>>,
    /// Load strobe, active high: `state[j] <= S ^ C[4*lane + j]` at the edge.
    pub load: Signal<In, Bit>,
    /// Step enable, active high: advance the state one step at the edge
    /// (ignored while `load` is high).
    pub step: Signal<In, Bit>,
    /// Registered output `s0 + s3` of the state held in the previous cycle.
    pub out: Signal<Out, Bits<64>>,
    s0: DFF<Bits<64>>,
    s1: DFF<Bits<64>>,
    s2: DFF<Bits<64>>,
    s3: DFF<Bits<64>>,
    sum: DFF<Bits<64>>,
    c0: Constant<Bits<64>>,
    c1: Constant<Bits<64>>,
    c2: Constant<Bits<64>>,
    c3: Constant<Bits<64>>,
    /// `s3 ^ s1` before the rotation.
    x31: Signal<Local, Bits<64>>,
}

impl Xoshiro256Plus {
    /// The generator of lane `lane` (seeding constants `C[4*lane ..= 4*lane+3]`).
    pub fn new(lane: usize) -> Self {
        let c = |j: usize| Constant::new(splitmix64_output(4 * lane + j).into());
        Self {
            clock: Default::default(),
            seed: Default::default(),
            load: Default::default(),
            step: Default::default(),
            out: Default::default(),
            s0: Default::default(),
            s1: Default::default(),
            s2: Default::default(),
            s3: Default::default(),
            sum: Default::default(),
            c0: c(0),
            c1: c(1),
            c2: c(2),
            c3: c(3),
            x31: Default::default(),
        }
    }
}

impl Logic for Xoshiro256Plus {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, s0, s1, s2, s3, sum);
        // ---- Output: one adder straight from the state registers ----
        self.sum.d.next = self.s0.q.val() + self.s3.q.val();
        self.out.next = self.sum.q.val();
        // ---- State update (xoshiro256 linear engine) ----
        self.x31.next = self.s3.q.val() ^ self.s1.q.val();
        if self.load.val() {
            self.s0.d.next = self.seed.val() ^ self.c0.val();
            self.s1.d.next = self.seed.val() ^ self.c1.val();
            self.s2.d.next = self.seed.val() ^ self.c2.val();
            self.s3.d.next = self.seed.val() ^ self.c3.val();
        } else if self.step.val() {
            self.s0.d.next = self.s0.q.val() ^ self.x31.val();
            self.s1.d.next = self.s1.q.val() ^ self.s2.q.val() ^ self.s0.q.val();
            self.s2.d.next = self.s2.q.val() ^ self.s0.q.val() ^ (self.s1.q.val() << 17);
            self.s3.d.next = (self.x31.val() << 45) | (self.x31.val() >> 19);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_first_output_matches_spec() {
        assert_eq!(splitmix64_output(0), 0xE220_A839_7B1D_CDAF);
    }
}
