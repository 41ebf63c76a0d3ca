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
use qkd_abi::symbol::{Basis, Symbol};

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

#[inline(always)]
fn advance_n<const N: usize>(s: &mut [[u64; MAX_LANES]; 4], k: u64) {
    let mut x = *s;
    for _ in 0..k {
        step_n::<N>(&mut x);
    }
    *s = x;
}

#[inline(always)]
fn advance_pair_n<const N: usize>(
    a: &mut [[u64; MAX_LANES]; 4],
    b: &mut [[u64; MAX_LANES]; 4],
    k: u64,
) {
    let (mut x, mut y) = (*a, *b);
    for _ in 0..k {
        step_n::<N>(&mut x);
        step_n::<N>(&mut y);
    }
    *a = x;
    *b = y;
}

/// Runtime-dispatched stepping kernels: the same Rust code compiled with
/// AVX2 enabled when the CPU has it (4 lanes fit one 256-bit register).
mod kernels {
    use super::{advance_n, advance_pair_n, MAX_LANES};
    type State = [[u64; MAX_LANES]; 4];

    /// Explicit AVX2 kernel: `G` generators of 4 lanes each (lanes 0..4 of
    /// every state word in one 256-bit register), stepped `k` times.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn advance4_avx2<const G: usize>(states: [&mut State; G], k: u64) {
        use std::arch::x86_64::*;
        let mut v = [[_mm256_setzero_si256(); 4]; G];
        for (g, st) in states.iter().enumerate() {
            for j in 0..4 {
                // SAFETY: `st[j]` has 8 u64 = 64 bytes; the unaligned load
                // reads its first 32 bytes.
                v[g][j] = unsafe { _mm256_loadu_si256(st[j].as_ptr().cast()) };
            }
        }
        for _ in 0..k {
            for x in v.iter_mut() {
                let t = _mm256_slli_epi64::<17>(x[1]);
                x[2] = _mm256_xor_si256(x[2], x[0]);
                x[3] = _mm256_xor_si256(x[3], x[1]);
                x[1] = _mm256_xor_si256(x[1], x[2]);
                x[0] = _mm256_xor_si256(x[0], x[3]);
                x[2] = _mm256_xor_si256(x[2], t);
                x[3] =
                    _mm256_or_si256(_mm256_slli_epi64::<45>(x[3]), _mm256_srli_epi64::<19>(x[3]));
            }
        }
        for (g, st) in states.into_iter().enumerate() {
            for j in 0..4 {
                // SAFETY: as for the load: 32 bytes inside `st[j]`.
                unsafe { _mm256_storeu_si256(st[j].as_mut_ptr().cast(), v[g][j]) };
            }
        }
    }

    /// AVX2: words `s0 + s3` of 4 lanes for `out.len() / 4` cycles from
    /// a copy of `st` (which does not move).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn peek4_avx2(st: &State, out: &mut [u64]) {
        use std::arch::x86_64::*;
        let mut x = [_mm256_setzero_si256(); 4];
        for (j, v) in x.iter_mut().enumerate() {
            // SAFETY: 32 bytes inside the 64-byte row `st[j]`.
            *v = unsafe { _mm256_loadu_si256(st[j].as_ptr().cast()) };
        }
        for chunk in out.chunks_exact_mut(4) {
            let w = _mm256_add_epi64(x[0], x[3]);
            // SAFETY: `chunk` holds exactly 4 u64 = 32 bytes.
            unsafe { _mm256_storeu_si256(chunk.as_mut_ptr().cast(), w) };
            let t = _mm256_slli_epi64::<17>(x[1]);
            x[2] = _mm256_xor_si256(x[2], x[0]);
            x[3] = _mm256_xor_si256(x[3], x[1]);
            x[1] = _mm256_xor_si256(x[1], x[2]);
            x[0] = _mm256_xor_si256(x[0], x[3]);
            x[2] = _mm256_xor_si256(x[2], t);
            x[3] = _mm256_or_si256(_mm256_slli_epi64::<45>(x[3]), _mm256_srli_epi64::<19>(x[3]));
        }
    }

    /// Fast path of [`super::LanePrng::peek_words`] for 4 lanes; false if
    /// not taken (no AVX2).
    pub(super) fn peek4(st: &State, out: &mut [u64]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() && out.len().is_multiple_of(4) {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            unsafe { peek4_avx2(st, out) };
            return true;
        }
        let _ = (st, out);
        false
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn advance_avx2<const N: usize>(s: &mut State, k: u64) {
        if N == 4 {
            advance4_avx2::<1>([s], k)
        } else {
            advance_n::<N>(s, k)
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn advance_pair_avx2<const N: usize>(a: &mut State, b: &mut State, k: u64) {
        if N == 4 {
            advance4_avx2::<2>([a, b], k)
        } else {
            advance_pair_n::<N>(a, b, k)
        }
    }

    #[inline]
    fn has_avx2() -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            std::arch::is_x86_feature_detected!("avx2")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }

    pub(super) fn advance<const N: usize>(s: &mut State, k: u64) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            unsafe { advance_avx2::<N>(s, k) };
            return;
        }
        advance_n::<N>(s, k)
    }

    pub(super) fn advance_pair<const N: usize>(a: &mut State, b: &mut State, k: u64) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: the CPU supports AVX2 (checked at run time just above).
            unsafe { advance_pair_avx2::<N>(a, b, k) };
            return;
        }
        advance_pair_n::<N>(a, b, k)
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

    /// The words of the next `out.len() / lanes` cycles in slot order
    /// (`out[k * lanes + l]` = lane `l` at cycle `self.cycle() + k`),
    /// computed on a copy: `self` does not move.
    pub fn peek_words(&self, out: &mut [u64]) {
        if self.lanes == 4 && kernels::peek4(&self.s, out) {
            return;
        }
        let mut x = self.s;
        let n = self.lanes;
        for chunk in out.chunks_mut(n) {
            for (l, o) in chunk.iter_mut().enumerate() {
                *o = x[0][l].wrapping_add(x[3][l]);
            }
            let [s0, s1, s2, s3] = &mut x;
            for l in 0..n {
                let t = s1[l] << 17;
                s2[l] ^= s0[l];
                s3[l] ^= s1[l];
                s1[l] ^= s2[l];
                s0[l] ^= s3[l];
                s2[l] ^= t;
                s3[l] = s3[l].rotate_left(45);
            }
        }
    }

    /// Advance `k` cycles (one step of every lane per cycle).
    pub fn advance(&mut self, k: u64) {
        match self.lanes {
            1 => kernels::advance::<1>(&mut self.s, k),
            2 => kernels::advance::<2>(&mut self.s, k),
            3 | 4 => kernels::advance::<4>(&mut self.s, k),
            _ => kernels::advance::<8>(&mut self.s, k),
        }
        self.cycle += k;
    }

    /// Advance `self` by `ka` and `other` by `kb` cycles, interleaving the
    /// common part (two independent dependency chains run in parallel).
    /// Both must have the same number of lanes.
    pub fn advance_pair(&mut self, ka: u64, other: &mut LanePrng, kb: u64) {
        let k = ka.min(kb);
        if k > 0 && self.lanes == other.lanes {
            match self.lanes {
                1 => kernels::advance_pair::<1>(&mut self.s, &mut other.s, k),
                2 => kernels::advance_pair::<2>(&mut self.s, &mut other.s, k),
                3 | 4 => kernels::advance_pair::<4>(&mut self.s, &mut other.s, k),
                _ => kernels::advance_pair::<8>(&mut self.s, &mut other.s, k),
            }
            self.cycle += k;
            other.cycle += k;
            self.advance(ka - k);
            other.advance(kb - k);
        } else {
            self.advance(ka);
            other.advance(kb);
        }
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
                return Some(if (SYNC_PATTERN >> j) & 1 == 1 {
                    SYNC_MARK
                } else {
                    BLANK
                });
            }
        }
        None
    }

    /// Random symbol from a 64-bit word (spec 4.1), branch-free.
    #[inline]
    pub fn random_symbol(&self, r: u64) -> Symbol {
        let r_int = (r >> 48) as u16;
        let r_basis = (r >> 32) as u16;
        let bit = ((r >> 31) & 1) as u8;
        let int = u8::from(r_int >= self.thresh_signal) + u8::from(r_int >= self.thresh_decoy);
        let basis = u8::from(r_basis >= self.thresh_basis_z);
        Symbol(int << 2 | basis << 1 | bit)
    }

    /// Whether the `len` slots from `start` hold sync slots.
    #[inline]
    pub fn block_has_sync(&self, start: u64, len: u64) -> bool {
        if self.sync_log2 < 5 || self.sync_log2 >= 64 {
            return false;
        }
        let p = 1u64 << self.sync_log2;
        let off = start % p;
        off < 16 || off + len > p
    }

    /// Symbol of slot `slot` with random word `r` (RUN mode, healthy entropy).
    #[inline]
    pub fn symbol(&self, slot: u64, r: u64) -> Symbol {
        self.sync_symbol(slot)
            .unwrap_or_else(|| self.random_symbol(r))
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
    use qkd_abi::symbol::Intensity;

    /// Independent scalar xoshiro256+ written from the spec text.
    fn scalar_words(seed: u64, lane: usize, n: usize) -> Vec<u64> {
        let mut c = Vec::new();
        let mut x = 0u64;
        for _ in 0..4 * (lane + 1) {
            c.push(splitmix64(&mut x));
        }
        let mut s = [
            seed ^ c[4 * lane],
            seed ^ c[4 * lane + 1],
            seed ^ c[4 * lane + 2],
            seed ^ c[4 * lane + 3],
        ];
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
    fn peek_words_matches_stepping() {
        let mut p = LanePrng::new(9, 4);
        p.advance(5);
        let mut w = [0u64; 64];
        p.peek_words(&mut w);
        for k in 0..16 {
            for l in 0..4 {
                assert_eq!(w[k * 4 + l], p.word(l));
            }
            p.advance(1);
        }
    }

    #[test]
    fn paired_advance_equals_separate_advance() {
        let (mut a, mut b) = (LanePrng::new(1, 4), LanePrng::new(2, 4));
        let (mut a2, mut b2) = (a.clone(), b.clone());
        a.advance_pair(100, &mut b, 37);
        a2.advance(100);
        b2.advance(37);
        assert_eq!((a, b), (a2, b2));
    }

    #[test]
    fn symbol_fields_follow_spec_thresholds() {
        let sel = AliceSelect {
            thresh_signal: 100,
            thresh_decoy: 200,
            thresh_basis_z: 300,
            sync_log2: 0,
        };
        let w = |int: u16, basis: u16, bit: u64| {
            (u64::from(int) << 48) | (u64::from(basis) << 32) | (bit << 31)
        };
        assert_eq!(
            sel.symbol(5, w(99, 299, 1)),
            Symbol::new(Intensity::Signal, Basis::Z, true)
        );
        assert_eq!(
            sel.symbol(5, w(100, 300, 0)),
            Symbol::new(Intensity::Decoy, Basis::X, false)
        );
        assert_eq!(
            sel.symbol(5, w(200, 0, 0)),
            Symbol::new(Intensity::Vacuum, Basis::Z, false)
        );
    }

    #[test]
    fn sync_frame_carries_barker_pattern() {
        let sel = AliceSelect {
            thresh_signal: 0,
            thresh_decoy: 0,
            thresh_basis_z: 0,
            sync_log2: 6,
        };
        let marks: Vec<bool> = (0..16)
            .map(|j| sel.sync_symbol(64 + j) == Some(SYNC_MARK))
            .collect();
        // 0x1F35: bits 0,2,4,5,8,9,10,11,12 set.
        let want = [
            true, false, true, false, true, true, false, false, true, true, true, true, true,
            false, false, false,
        ];
        assert_eq!(marks, want);
        assert_eq!(sel.sync_symbol(80), None);
        assert_eq!(sel.sync_slots_before(64 + 10), 16 + 10);
        assert_eq!(sel.sync_slots_before(200), 3 * 16 + 8);
    }
}
