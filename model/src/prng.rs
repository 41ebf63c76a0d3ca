// SPDX-License-Identifier: MIT OR Apache-2.0
//! Test PRNG of both roles (gateware spec section 1): per-lane xoshiro256+
//! (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
//! ACM TOMS 47(4), 2021) seeded by XOR with SplitMix64 constants (Steele,
//! Lea and Flood, "Fast splittable pseudorandom number generators",
//! OOPSLA 2014).
//!
//! Besides the sequential generator this module provides a GF(2) jump-ahead
//! ([`Xoshiro256Plus::jump`]) so that the state at any step `k` can be
//! computed in `O(log k)` matrix-vector products, for random access to slots.

use std::sync::OnceLock;

/// SplitMix64 increment ("golden gamma").
pub const SPLITMIX64_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64 output mixer (Stafford variant 13) of the incremented state `z`.
pub const fn splitmix64_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One SplitMix64 step: advance `state` by the gamma and return the mixed
/// output (Steele, Lea and Flood 2014, Fig. 2). The one implementation of
/// the generator for the models, the simulator and the test harnesses.
#[inline]
pub fn splitmix64_next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(SPLITMIX64_GAMMA);
    splitmix64_mix(*state)
}

/// `C[n]`: the `n`-th output (0-based) of SplitMix64 started from state 0
/// (spec section 1). `C[0] = 0xE220A8397B1DCDAF`.
pub const fn seed_constant(n: u64) -> u64 {
    splitmix64_mix(SPLITMIX64_GAMMA.wrapping_mul(n.wrapping_add(1)))
}

/// The initial state of lane `lane` for 64-bit seed `seed`:
/// `state[j] = seed XOR C[4*lane + j]` (spec section 1).
pub const fn lane_seed_state(seed: u64, lane: usize) -> [u64; 4] {
    let b = 4 * lane as u64;
    [
        seed ^ seed_constant(b),
        seed ^ seed_constant(b + 1),
        seed ^ seed_constant(b + 2),
        seed ^ seed_constant(b + 3),
    ]
}

/// One xoshiro256+ generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xoshiro256Plus {
    /// The 256-bit state `s0..s3`.
    pub s: [u64; 4],
}

impl Xoshiro256Plus {
    /// From a raw state.
    pub const fn from_state(s: [u64; 4]) -> Xoshiro256Plus {
        Xoshiro256Plus { s }
    }

    /// Lane `lane`'s generator for `seed`, at step 0.
    pub const fn for_lane(seed: u64, lane: usize) -> Xoshiro256Plus {
        Xoshiro256Plus {
            s: lane_seed_state(seed, lane),
        }
    }

    /// Output of the current step (`s0 + s3`), without stepping.
    #[inline]
    pub const fn peek(&self) -> u64 {
        self.s[0].wrapping_add(self.s[3])
    }

    /// Advance the state by one step (the linear engine only).
    #[inline]
    pub fn step(&mut self) {
        let s = &mut self.s;
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
    }

    /// Output of this step, then step (the reference `next()`).
    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        let r = self.peek();
        self.step();
        r
    }

    /// Advance by `steps` steps in `O(log steps)` GF(2) matrix-vector
    /// products (the engine is linear over GF(2)^256).
    pub fn jump(&mut self, steps: u64) {
        let powers = jump_powers();
        let mut k = steps;
        let mut j = 0;
        while k != 0 {
            if k & 1 != 0 {
                self.s = powers[j].apply(&self.s);
            }
            k >>= 1;
            j += 1;
        }
    }
}

/// A 256x256 matrix over GF(2), stored by columns (column `j` is the image
/// of the unit state with only bit `j` set; bit `j` = word `j/64`, bit `j%64`).
#[derive(Clone)]
struct Gf2Matrix {
    cols: Vec<[u64; 4]>,
}

impl Gf2Matrix {
    fn apply(&self, v: &[u64; 4]) -> [u64; 4] {
        let mut out = [0u64; 4];
        for (w, &word) in v.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let c = &self.cols[64 * w + b];
                out[0] ^= c[0];
                out[1] ^= c[1];
                out[2] ^= c[2];
                out[3] ^= c[3];
            }
        }
        out
    }

    fn square(&self) -> Gf2Matrix {
        Gf2Matrix {
            cols: self.cols.iter().map(|c| self.apply(c)).collect(),
        }
    }
}

/// `T^(2^j)` for `j = 0..64`, where `T` is one engine step.
fn jump_powers() -> &'static [Gf2Matrix] {
    static POWERS: OnceLock<Vec<Gf2Matrix>> = OnceLock::new();
    POWERS.get_or_init(|| {
        let cols = (0..256)
            .map(|j| {
                let mut s = [0u64; 4];
                s[j / 64] = 1 << (j % 64);
                let mut g = Xoshiro256Plus::from_state(s);
                g.step();
                g.s
            })
            .collect();
        let mut v = vec![Gf2Matrix { cols }];
        for j in 1..64 {
            let next = v[j - 1].square();
            v.push(next);
        }
        v
    })
}

/// The word of lane `lane` at step `step` for `seed` (random access).
pub fn lane_word_at(seed: u64, lane: usize, step: u64) -> u64 {
    let mut g = Xoshiro256Plus::for_lane(seed, lane);
    g.jump(step);
    g.peek()
}

/// The `L` per-lane generators of one core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanePrngs {
    gens: Vec<Xoshiro256Plus>,
}

impl LanePrngs {
    /// Seeded for `lanes` lanes at step 0 (the state loaded at START).
    pub fn new(seed: u64, lanes: usize) -> LanePrngs {
        LanePrngs {
            gens: (0..lanes)
                .map(|l| Xoshiro256Plus::for_lane(seed, l))
                .collect(),
        }
    }
    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.gens.len()
    }
    /// Produce this step's word of every lane into `out[..lanes]`, then step.
    #[inline]
    pub fn next_words(&mut self, out: &mut [u64]) {
        for (o, g) in out.iter_mut().zip(self.gens.iter_mut()) {
            *o = g.next();
        }
    }
    /// Advance every lane by `steps`.
    pub fn jump(&mut self, steps: u64) {
        for g in &mut self.gens {
            g.jump(steps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Known answers computed with the published reference C code
    // (prng.di.unimi.it/splitmix64.c and xoshiro256plus.c) compiled with gcc.
    const C_REF: [u64; 8] = [
        0xE220_A839_7B1D_CDAF,
        0x6E78_9E6A_A1B9_65F4,
        0x06C4_5D18_8009_454F,
        0xF88B_B8A8_724C_81EC,
        0x1B39_896A_51A8_749B,
        0x53CB_9F0C_747E_A2EA,
        0x2C82_9ABE_1F45_32E1,
        0xC584_133A_C916_AB3C,
    ];

    #[test]
    fn splitmix64_constants_match_reference() {
        for (n, c) in C_REF.iter().enumerate() {
            assert_eq!(seed_constant(n as u64), *c, "C[{n}]");
        }
    }

    #[test]
    fn xoshiro256plus_matches_reference_from_1234() {
        let mut g = Xoshiro256Plus::from_state([1, 2, 3, 4]);
        let want = [
            0x0000_0000_0000_0005,
            0x0000_C000_0000_0007,
            0x0000_C000_1800_0007,
            0x8001_6000_1804_0302,
            0x8061_9000_2404_0305,
            0xC061_7014_120F_0583,
        ];
        for (i, w) in want.iter().enumerate() {
            assert_eq!(g.next(), *w, "output {i}");
        }
        for _ in 6..1000 {
            g.next();
        }
        assert_eq!(g.next(), 0xEF95_8A30_A0B5_BAED);
    }

    #[test]
    fn lane_seeding_matches_reference() {
        let seed = 0x0123_4567_89AB_CDEF;
        let mut p = LanePrngs::new(seed, 2);
        let mut w = [0u64; 2];
        let want = [
            [0xDCAC_EB2E_EE9D_4C43, 0xDEC2_226B_18C1_2047],
            [0x3273_DE7A_861C_3ED6, 0x8D90_1305_56F2_884F],
            [0x121D_9E56_1E3B_F5D8, 0xC816_A7DA_4B44_16C7],
        ];
        for row in want {
            p.next_words(&mut w);
            assert_eq!(w, row);
        }
    }

    #[test]
    fn jump_equals_stepping() {
        let mut a = Xoshiro256Plus::for_lane(42, 3);
        let mut b = a;
        for k in [0u64, 1, 2, 3, 7, 64, 1000, 12345] {
            let mut c = a;
            for _ in 0..k {
                c.step();
            }
            let mut d = a;
            d.jump(k);
            assert_eq!(c, d, "jump({k})");
        }
        b.jump(1000);
        for _ in 0..1000 {
            a.step();
        }
        assert_eq!(a, b);
        assert_eq!(lane_word_at(42, 3, 1000), a.peek());
    }
}
