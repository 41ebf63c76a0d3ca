// SPDX-License-Identifier: MIT OR Apache-2.0
//! The gateware's per-lane test PRNG (docs/gateware-spec.md sections 1, 2,
//! 4.1, 4.2, 5.4): one xoshiro256+ generator per lane (Blackman and Vigna,
//! ACM TOMS 2021) seeded as `S XOR C[4l + j]` with `C` the SplitMix64
//! sequence from 0, stepped once per fabric cycle; plus Alice's symbol and
//! Bob's basis derived from the 64-bit word of a slot.
//!
//! The state is kept lane-parallel (`s[j][l]`) so that one cycle's step of
//! all lanes vectorises; the fast link advances it cycle by cycle and reads
//! a word only where a slot is actually needed.

use super::rng::splitmix64;
use qkd_abi::symbol::{Basis, Intensity, Symbol};

/// Most lanes supported (LANES is 1, 2, 4 or 8).
pub const MAX_LANES: usize = 8;

/// The lane generators of one core, positioned at a cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanePrng {
    s: [[u64; MAX_LANES]; 4],
    lanes: usize,
    cycle: u64,
}

#[inline(always)]
fn step_n<const N: usize>(s: &mut [[u64; MAX_LANES]; 4]) {
    let [s0, s1, s2, s3] = s;
    for l in 0..N {
        let t = s1[l] << 17;
        s2[l] ^= s0[l];
        s3[l] ^= s1[l];
        s1[l] ^= s2[l];
        s0[l] ^= s3[l];
        s2[l] ^= t;
        s3[l] = s3[l].rotate_left(45);
    }
}

fn advance_n<const N: usize>(s: &mut [[u64; MAX_LANES]; 4], k: u64) {
    for _ in 0..k {
        step_n::<N>(s);
    }
}

impl LanePrng {
    /// Seeded at START (cycle 0) from the 64-bit seed `RNG_SEED_HI:LO`.
    /// `lanes` must be 1, 2, 4 or 8 (other values are clamped to 8 lanes
    /// of which the first `lanes` are used).
    pub fn new(seed: u64, lanes: usize) -> LanePrng {
        let lanes = lanes.clamp(1, MAX_LANES);
        let mut s = [[0u64; MAX_LANES]; 4];
        let mut x = 0u64;
        for l in 0..MAX_LANES {
            for row in s.iter_mut() {
                row[l] = seed ^ splitmix64(&mut x);
            }
        }
        LanePrng { s, lanes, cycle: 0 }
    }

    /// The cycle whose words [`LanePrng::word`] returns.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Output word of lane `l` at the current cycle: `s0 + s3` before the step.
    #[inline]
    pub fn word(&self, l: usize) -> u64 {
        self.s[0][l].wrapping_add(self.s[3][l])
    }

    /// Advance `k` cycles (one step of every lane per cycle).
    pub fn advance(&mut self, k: u64) {
        match self.lanes {
            1 => advance_n::<1>(&mut self.s, k),
            2 => advance_n::<2>(&mut self.s, k),
            3 | 4 => advance_n::<4>(&mut self.s, k),
            _ => advance_n::<8>(&mut self.s, k),
        }
        self.cycle += k;
    }

    /// Advance to `cycle` (no-op if already there or past it).
    #[inline]
    pub fn advance_to(&mut self, cycle: u64) {
        if cycle > self.cycle {
            self.advance(cycle - self.cycle);
        }
    }
}

/// Alice's symbol-selection settings in RUN mode (spec 4.1, 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AliceSelect {
    /// `DECOY_THRESH_SIGNAL` (16-bit).
    pub thresh_signal: u16,
    /// `DECOY_THRESH_DECOY` (16-bit, >= signal).
    pub thresh_decoy: u16,
    /// `DECOY_THRESH_BASIS_Z` (16-bit).
    pub thresh_basis_z: u16,
    /// `ALICE_CTRL.SYNC_LOG2` (sync frames when >= 5).
    pub sync_log2: u8,
}

/// The sync pattern word: bit j set = SYNC_MARK in sync slot j (spec 4.2).
pub const SYNC_PATTERN: u16 = 0x1F35;
/// Non-random blank symbol (no pulse).
pub const BLANK: Symbol = Symbol(0b1100);
/// Non-random sync mark (signal-level pulse).
pub const SYNC_MARK: Symbol = Symbol(0b1101);

impl AliceSelect {
    /// Whether slot `i` is a sync slot, and its symbol if so.
    #[inline]
    pub fn sync_symbol(&self, slot: u64) -> Option<Symbol> {
        if self.sync_log2 >= 5 && self.sync_log2 < 64 {
            let j = slot & ((1u64 << self.sync_log2) - 1);
            if j < 16 {
                return Some(if (SYNC_PATTERN >> j) & 1 == 1 { SYNC_MARK } else { BLANK });
            }
        }
        None
    }

    /// Random symbol from a 64-bit word (spec 4.1).
    #[inline]
    pub fn random_symbol(&self, r: u64) -> Symbol {
        let r_int = (r >> 48) as u16;
        let r_basis = (r >> 32) as u16;
        let bit = (r >> 31) & 1 == 1;
        let intensity = if r_int < self.thresh_signal {
            Intensity::Signal
        } else if r_int < self.thresh_decoy {
            Intensity::Decoy
        } else {
            Intensity::Vacuum
        };
        let basis = if r_basis < self.thresh_basis_z { Basis::Z } else { Basis::X };
        Symbol::new(intensity, basis, bit)
    }

    /// Symbol of slot `slot` with random word `r` (RUN mode, healthy entropy).
    #[inline]
    pub fn symbol(&self, slot: u64, r: u64) -> Symbol {
        self.sync_symbol(slot).unwrap_or_else(|| self.random_symbol(r))
    }

    /// Number of sync slots among slots `0..n`.
    pub fn sync_slots_before(&self, n: u64) -> u64 {
        if self.sync_log2 < 5 || self.sync_log2 >= 64 {
            return 0;
        }
        let p = 1u64 << self.sync_log2;
        (n / p) * 16 + (n % p).min(16)
    }
}

/// Bob's basis from a slot's random word (spec 5.4): `r_basis < thresh` is Z.
#[inline]
pub fn bob_basis(r: u64, thresh_z: u16) -> Basis {
    if ((r >> 32) as u16) < thresh_z {
        Basis::Z
    } else {
        Basis::X
    }
}

/// Slow reference: the word of slot `slot` for `lanes` lanes, by stepping a
/// fresh generator (for tests and for Alice's host-side symbol look-up).
pub fn word_at(seed: u64, lanes: usize, slot: u64) -> u64 {
    let mut p = LanePrng::new(seed, lanes);
    let l = lanes.clamp(1, MAX_LANES);
    p.advance(slot / l as u64);
    p.word((slot % l as u64) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent scalar xoshiro256+ written from the spec text.
    fn scalar_words(seed: u64, lane: usize, n: usize) -> Vec<u64> {
        let mut c = Vec::new();
        let mut x = 0u64;
        for _ in 0..4 * (lane + 1) {
            c.push(splitmix64(&mut x));
        }
        let mut s = [seed ^ c[4 * lane], seed ^ c[4 * lane + 1], seed ^ c[4 * lane + 2], seed ^ c[4 * lane + 3]];
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(s[0].wrapping_add(s[3]));
            let t = s[1] << 17;
            s[2] ^= s[0];
            s[3] ^= s[1];
            s[1] ^= s[2];
            s[0] ^= s[3];
            s[2] ^= t;
            s[3] = s[3].rotate_left(45);
        }
        out
    }

    #[test]
    fn lane_parallel_generator_matches_scalar_reference() {
        for lanes in [1usize, 2, 4, 8] {
            let seed = 0x1234_5678_9ABC_DEF0;
            let mut p = LanePrng::new(seed, lanes);
            let refs: Vec<Vec<u64>> = (0..lanes).map(|l| scalar_words(seed, l, 50)).collect();
            for k in 0..50 {
                for (l, r) in refs.iter().enumerate() {
                    assert_eq!(p.word(l), r[k], "lanes {lanes} lane {l} step {k}");
                }
                p.advance(1);
            }
        }
    }

    #[test]
    fn symbol_fields_follow_spec_thresholds() {
        let sel = AliceSelect { thresh_signal: 100, thresh_decoy: 200, thresh_basis_z: 300, sync_log2: 0 };
        let w = |int: u16, basis: u16, bit: u64| (u64::from(int) << 48) | (u64::from(basis) << 32) | (bit << 31);
        assert_eq!(sel.symbol(5, w(99, 299, 1)), Symbol::new(Intensity::Signal, Basis::Z, true));
        assert_eq!(sel.symbol(5, w(100, 300, 0)), Symbol::new(Intensity::Decoy, Basis::X, false));
        assert_eq!(sel.symbol(5, w(200, 0, 0)), Symbol::new(Intensity::Vacuum, Basis::Z, false));
    }

    #[test]
    fn sync_frame_carries_barker_pattern() {
        let sel = AliceSelect { thresh_signal: 0, thresh_decoy: 0, thresh_basis_z: 0, sync_log2: 6 };
        let marks: Vec<bool> = (0..16).map(|j| sel.sync_symbol(64 + j) == Some(SYNC_MARK)).collect();
        // 0x1F35: bits 0,2,4,5,8,9,10,11,12 set.
        let want = [true, false, true, false, true, true, false, false, true, true, true, true, true, false, false, false];
        assert_eq!(marks, want);
        assert_eq!(sel.sync_symbol(80), None);
        assert_eq!(sel.sync_slots_before(64 + 10), 16 + 10);
        assert_eq!(sel.sync_slots_before(200), 3 * 16 + 8);
    }
}
