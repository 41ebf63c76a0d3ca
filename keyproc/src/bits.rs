// SPDX-License-Identifier: MIT OR Apache-2.0
//! Packed bit vectors (u64 words, bit i at word i/64, bit i%64) and the `Bits`
//! length newtype with checked arithmetic (STYLE.md anti-pattern A4: never
//! float arithmetic on unsigned key lengths). Every `BitVec` is treated as
//! key material: zeroized on drop, `Debug` prints only the length.

use std::fmt;
use zeroize::Zeroize;

/// A number of bits (key lengths, leakage). Arithmetic is checked.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bits(pub u64);

impl Bits {
    /// Zero bits.
    pub const ZERO: Bits = Bits(0);

    /// The count as u64.
    pub fn get(self) -> u64 {
        self.0
    }
    /// `self - rhs`, or `None` when it would be negative.
    pub fn checked_sub(self, rhs: Bits) -> Option<Bits> {
        self.0.checked_sub(rhs.0).map(Bits)
    }
    /// `self + rhs`, or `None` on overflow.
    pub fn checked_add(self, rhs: Bits) -> Option<Bits> {
        self.0.checked_add(rhs.0).map(Bits)
    }
    /// `self + rhs`, saturating (for statistics only, never for key lengths).
    pub fn saturating_add(self, rhs: Bits) -> Bits {
        Bits(self.0.saturating_add(rhs.0))
    }
    /// Number of whole bytes needed to hold this many bits.
    pub fn bytes_ceil(self) -> u64 {
        self.0.div_ceil(8)
    }
}

impl fmt::Debug for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bits", self.0)
    }
}

impl fmt::Display for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bits", self.0)
    }
}

impl From<u64> for Bits {
    fn from(v: u64) -> Self {
        Bits(v)
    }
}

/// Packed bit vector. Bits beyond `len` in the last word are always zero.
#[derive(Clone, PartialEq, Eq)]
pub struct BitVec {
    words: Vec<u64>,
    len: usize,
}

impl Drop for BitVec {
    fn drop(&mut self) {
        self.words.zeroize();
    }
}

impl fmt::Debug for BitVec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BitVec {{ len: {}, bits: <redacted> }}", self.len)
    }
}

impl Default for BitVec {
    fn default() -> Self {
        Self::zeros(0)
    }
}

impl BitVec {
    /// `len` zero bits.
    pub fn zeros(len: usize) -> Self {
        Self {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Build from words; bits beyond `len` are cleared. Returns `None` if
    /// `words` is too short for `len`.
    pub fn from_words(mut words: Vec<u64>, len: usize) -> Option<Self> {
        let need = len.div_ceil(64);
        if words.len() < need {
            words.zeroize();
            return None;
        }
        words.truncate(need);
        let mut v = Self { words, len };
        v.clear_tail();
        Some(v)
    }

    /// Build from bytes, LSB-first within each byte (bit i = byte i/8, bit i%8).
    pub fn from_bytes(bytes: &[u8], len: usize) -> Option<Self> {
        if bytes.len() * 8 < len {
            return None;
        }
        let mut v = Self::zeros(len);
        for (i, chunk) in bytes.chunks(8).enumerate().take(v.words.len()) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            v.words[i] = u64::from_le_bytes(buf);
            buf.zeroize();
        }
        v.clear_tail();
        Some(v)
    }

    /// Bytes, LSB-first within each byte; `ceil(len/8)` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let nbytes = self.len.div_ceil(8);
        let mut out = Vec::with_capacity(nbytes + 8);
        for w in &self.words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.truncate(nbytes);
        out
    }

    /// Build from a bool slice (tests, small vectors).
    pub fn from_bools(bits: &[bool]) -> Self {
        let mut v = Self::zeros(bits.len());
        for (i, &b) in bits.iter().enumerate() {
            if b {
                v.set(i, true);
            }
        }
        v
    }

    /// Uniformly random bits from `rng`.
    pub fn random<R: rand_core::RngCore + ?Sized>(rng: &mut R, len: usize) -> Self {
        let mut v = Self::zeros(len);
        for w in v.words.iter_mut() {
            *w = rng.next_u64();
        }
        v.clear_tail();
        v
    }

    fn clear_tail(&mut self) {
        let r = self.len % 64;
        if r != 0 {
            if let Some(last) = self.words.last_mut() {
                *last &= (1u64 << r) - 1;
            }
        }
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Length as [`Bits`].
    pub fn bits(&self) -> Bits {
        Bits(self.len as u64)
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The packed words (tail bits zero).
    pub fn words(&self) -> &[u64] {
        &self.words
    }
    /// Mutable packed words. Callers must keep tail bits zero.
    pub(crate) fn words_mut(&mut self) -> &mut [u64] {
        &mut self.words
    }

    /// Bit `i`. Panics if out of range (internal indexing invariant).
    #[inline]
    pub fn get(&self, i: usize) -> bool {
        assert!(i < self.len, "bit index {i} out of range {}", self.len);
        (self.words[i >> 6] >> (i & 63)) & 1 == 1
    }

    /// Set bit `i` to `v`.
    #[inline]
    pub fn set(&mut self, i: usize, v: bool) {
        assert!(i < self.len, "bit index {i} out of range {}", self.len);
        let m = 1u64 << (i & 63);
        if v {
            self.words[i >> 6] |= m;
        } else {
            self.words[i >> 6] &= !m;
        }
    }

    /// Flip bit `i`.
    #[inline]
    pub fn flip(&mut self, i: usize) {
        assert!(i < self.len, "bit index {i} out of range {}", self.len);
        self.words[i >> 6] ^= 1u64 << (i & 63);
    }

    /// Number of ones.
    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Parity (XOR) of bits in `[start, end)`.
    #[inline]
    pub fn parity_range(&self, start: usize, end: usize) -> bool {
        debug_assert!(start <= end && end <= self.len);
        if start >= end {
            return false;
        }
        let (ws, we) = (start >> 6, (end - 1) >> 6);
        let lo_mask = !0u64 << (start & 63);
        let hi_mask = !0u64 >> (63 - ((end - 1) & 63));
        if ws == we {
            return (self.words[ws] & lo_mask & hi_mask).count_ones() & 1 == 1;
        }
        let mut acc = (self.words[ws] & lo_mask) ^ (self.words[we] & hi_mask);
        for w in &self.words[ws + 1..we] {
            acc ^= w;
        }
        acc.count_ones() & 1 == 1
    }

    /// Hamming distance to `other` (same length required, else `None`).
    pub fn hamming_distance(&self, other: &BitVec) -> Option<usize> {
        if self.len != other.len {
            return None;
        }
        Some(
            self.words
                .iter()
                .zip(&other.words)
                .map(|(a, b)| (a ^ b).count_ones() as usize)
                .sum(),
        )
    }

    /// The first `len` bits as a new vector (`None` if `len > self.len()`).
    pub fn prefix(&self, len: usize) -> Option<BitVec> {
        if len > self.len {
            return None;
        }
        BitVec::from_words(self.words[..len.div_ceil(64)].to_vec(), len)
    }

    /// Bits `[start, start+len)` as a new vector.
    pub fn slice(&self, start: usize, len: usize) -> Option<BitVec> {
        let end = start.checked_add(len)?;
        if end > self.len {
            return None;
        }
        let mut out = BitVec::zeros(len);
        let shift = start & 63;
        let w0 = start >> 6;
        for (k, o) in out.words.iter_mut().enumerate() {
            let lo = self.words.get(w0 + k).copied().unwrap_or(0) >> shift;
            let hi = if shift == 0 {
                0
            } else {
                self.words.get(w0 + k + 1).copied().unwrap_or(0) << (64 - shift)
            };
            *o = lo | hi;
        }
        out.clear_tail();
        Some(out)
    }

    /// Append all bits of `other`.
    pub fn extend_from(&mut self, other: &BitVec) {
        let old = self.len;
        let new_len = old + other.len;
        self.words.resize(new_len.div_ceil(64), 0);
        let shift = old & 63;
        let w0 = old >> 6;
        for (k, &w) in other.words.iter().enumerate() {
            self.words[w0 + k] |= w << shift;
            if shift != 0 && w0 + k + 1 < self.words.len() {
                self.words[w0 + k + 1] |= w >> (64 - shift);
            }
        }
        self.len = new_len;
        self.clear_tail();
    }

    /// Bit-reversed copy (bit i of the result is bit len-1-i of self).
    pub fn reversed(&self) -> BitVec {
        let mut out = BitVec::zeros(self.len);
        let nw = self.words.len();
        if nw == 0 {
            return out;
        }
        // Reverse whole words, then shift right by the padding.
        let pad = nw * 64 - self.len;
        let mut rev: Vec<u64> = self.words.iter().rev().map(|w| w.reverse_bits()).collect();
        if pad > 0 {
            for k in 0..nw {
                let hi = if k + 1 < nw {
                    rev[k + 1] << (64 - pad)
                } else {
                    0
                };
                rev[k] = (rev[k] >> pad) | hi;
            }
        }
        out.words.copy_from_slice(&rev);
        rev.zeroize();
        out.clear_tail();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_parity(v: &[bool], s: usize, e: usize) -> bool {
        v[s..e].iter().fold(false, |a, &b| a ^ b)
    }

    proptest! {
        #[test]
        fn parity_range_matches_naive(bits in proptest::collection::vec(any::<bool>(), 0..300), a in 0usize..300, b in 0usize..300) {
            let v = BitVec::from_bools(&bits);
            let (s, e) = (a.min(b).min(bits.len()), a.max(b).min(bits.len()));
            prop_assert_eq!(v.parity_range(s, e), naive_parity(&bits, s, e));
        }

        #[test]
        fn slice_extend_reverse_roundtrip(bits in proptest::collection::vec(any::<bool>(), 0..300), more in proptest::collection::vec(any::<bool>(), 0..200), a in 0usize..300) {
            let v = BitVec::from_bools(&bits);
            let s = a.min(bits.len());
            let sl = v.slice(s, bits.len() - s).unwrap();
            prop_assert_eq!(sl, BitVec::from_bools(&bits[s..]));
            let mut w = v.clone();
            w.extend_from(&BitVec::from_bools(&more));
            let mut all = bits.clone();
            all.extend_from_slice(&more);
            prop_assert_eq!(&w, &BitVec::from_bools(&all));
            let rev: Vec<bool> = all.iter().rev().copied().collect();
            prop_assert_eq!(w.reversed(), BitVec::from_bools(&rev));
            prop_assert_eq!(BitVec::from_bytes(&w.to_bytes(), all.len()).unwrap(), w);
        }
    }

    #[test]
    fn debug_is_redacting() {
        let v = BitVec::from_bools(&[true, false, true, true]);
        let s = format!("{v:?}");
        assert_eq!(s, "BitVec { len: 4, bits: <redacted> }");
    }

    #[test]
    fn bits_checked_sub() {
        assert_eq!(Bits(5).checked_sub(Bits(7)), None);
        assert_eq!(Bits(7).checked_sub(Bits(5)), Some(Bits(2)));
        assert_eq!(Bits(u64::MAX).checked_add(Bits(1)), None);
    }
}
