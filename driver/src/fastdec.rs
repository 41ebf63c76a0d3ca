// SPDX-License-Identifier: MIT OR Apache-2.0
//! Hot-path decoder for DETECTION records (qkd-abi `records.rs`, tag 1):
//! one 64-bit word each, `slot[39:0] det[41:40] bin[45:42] basis[46]
//! invalid[47]`, bits [59:48] reserved zero. A word is a valid DETECTION
//! iff its top 16 bits are exactly `0x1000`; the decoder runs until the
//! first word that is not, so anything else goes to the general decoder
//! (`qkd_abi::Record::decode`). A proptest checks both agree.

use qkd_abi::records::{Detection, SLOT_MASK};
use qkd_abi::symbol::Basis;
use serde::Serialize;

/// A DETECTION with its full 64-bit slot index.
///
/// Stored compactly: the slot and the record's bits [47:40] (detector,
/// fine bin, basis, invalid) as one byte, so decoding is two stores per
/// record; the accessors unpack the fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SlotDetection {
    /// Full 64-bit slot index (epoch << 40 | low 40 bits).
    pub slot: u64,
    bits: u8,
}

impl SlotDetection {
    /// Build from fields (detector and fine bin are masked to 2 and 4 bits).
    pub fn new(
        slot: u64,
        detector: u8,
        fine_bin: u8,
        basis: Basis,
        invalid: bool,
    ) -> SlotDetection {
        SlotDetection {
            slot,
            bits: (detector & 3)
                | (fine_bin & 0xF) << 2
                | (basis as u8) << 6
                | u8::from(invalid) << 7,
        }
    }
    /// Detector that clicked (0..=3).
    pub fn detector(&self) -> u8 {
        self.bits & 3
    }
    /// TDC fine bin (0..=15).
    pub fn fine_bin(&self) -> u8 {
        (self.bits >> 2) & 0xF
    }
    /// Bob's basis.
    pub fn basis(&self) -> Basis {
        Basis::from_bit(self.bits & 0x40 != 0)
    }
    /// Made while an alarm was live: not usable.
    pub fn invalid(&self) -> bool {
        self.bits & 0x80 != 0
    }
    /// The record's bits [47:40] as one byte: detector in bits 1:0, fine
    /// bin in 5:2, basis ([`SlotDetection::PACKED_BASIS_X`]) in 6, invalid
    /// ([`SlotDetection::PACKED_INVALID`]) in 7: what a hot loop reads
    /// instead of unpacking the fields one by one.
    #[inline(always)]
    pub fn packed(&self) -> u8 {
        self.bits
    }
    /// [`SlotDetection::packed`]: the basis bit (set: X).
    pub const PACKED_BASIS_X: u8 = 0x40;
    /// [`SlotDetection::packed`]: the invalid bit.
    pub const PACKED_INVALID: u8 = 0x80;
    /// The qkd-abi record (low 40 bits of the slot).
    pub fn to_record(&self) -> Detection {
        Detection {
            slot: self.slot & SLOT_MASK,
            detector: self.detector(),
            fine_bin: self.fine_bin(),
            basis: self.basis(),
            invalid: self.invalid(),
        }
    }
}

impl std::fmt::Debug for SlotDetection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotDetection")
            .field("slot", &self.slot)
            .field("detector", &self.detector())
            .field("fine_bin", &self.fine_bin())
            .field("basis", &self.basis())
            .field("invalid", &self.invalid())
            .finish()
    }
}

impl Serialize for SlotDetection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SlotDetection", 5)?;
        st.serialize_field("slot", &self.slot)?;
        st.serialize_field("detector", &self.detector())?;
        st.serialize_field("fine_bin", &self.fine_bin())?;
        st.serialize_field("basis", &self.basis())?;
        st.serialize_field("invalid", &self.invalid())?;
        st.end()
    }
}

/// Top 16 bits of every valid DETECTION word (tag 1, reserved bits zero).
pub const DETECTION_TOP16: u64 = 0x1000;

/// Decode one word if it is a valid DETECTION.
#[inline(always)]
pub fn decode_detection(w: u64, epoch_hi: u64) -> Option<SlotDetection> {
    is_detection(w).then(|| decode_valid(w, epoch_hi))
}

/// Decode one word known to be a valid DETECTION (no check).
#[inline(always)]
fn decode_valid(w: u64, epoch_hi: u64) -> SlotDetection {
    // Bits [47:40] are det[1:0] bin[5:2] basis[6] invalid[7] of the byte.
    SlotDetection {
        slot: epoch_hi | (w & SLOT_MASK),
        bits: (w >> 40) as u8,
    }
}

#[inline(always)]
fn is_detection(w: u64) -> bool {
    w >> 48 == DETECTION_TOP16
}

/// Length of the leading run of valid DETECTION words in `words`. Checks
/// 8 words at a time without an early exit (vectorisable), then finishes
/// word by word.
#[inline]
fn run_len_words(words: &[u64]) -> usize {
    let mut n = 0;
    for c in words.chunks_exact(8) {
        if !c.iter().fold(true, |ok, &w| ok & is_detection(w)) {
            break;
        }
        n += 8;
    }
    n + words[n..].iter().take_while(|&&w| is_detection(w)).count()
}

/// As [`run_len_words`], over little-endian bytes.
#[inline]
fn run_len_bytes(bytes: &[u8]) -> usize {
    let mut n = 0;
    for c in bytes.chunks_exact(64) {
        if !c
            .chunks_exact(8)
            .fold(true, |ok, w| ok & is_detection(le_word(w)))
        {
            break;
        }
        n += 8;
    }
    n + bytes[8 * n..]
        .chunks_exact(8)
        .take_while(|w| is_detection(le_word(w)))
        .count()
}

/// Decode the leading run of DETECTION words of `words` into `out`
/// (appended); returns how many words were consumed. `epoch_hi` is the
/// current epoch already shifted left by 40.
pub fn decode_detection_words(words: &[u64], epoch_hi: u64, out: &mut Vec<SlotDetection>) -> usize {
    let n = run_len_words(words);
    // Exact-size iterator: `extend` writes without per-element capacity checks.
    out.extend(words[..n].iter().map(|&w| decode_valid(w, epoch_hi)));
    n
}

#[inline(always)]
fn le_word(c: &[u8]) -> u64 {
    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

/// As [`decode_detection_words`], over little-endian bytes (whole words
/// only; a trailing partial word is not touched).
pub fn decode_detection_bytes(bytes: &[u8], epoch_hi: u64, out: &mut Vec<SlotDetection>) -> usize {
    let n = run_len_bytes(bytes);
    out.extend(
        bytes[..8 * n]
            .chunks_exact(8)
            .map(|c| decode_valid(le_word(c), epoch_hi)),
    );
    n
}

/// As [`decode_detection_bytes`], also checking in the same pass that the
/// slots never go below `prev_slot` nor backwards; returns (words
/// consumed, sorted).
pub fn decode_detection_bytes_ordered(
    bytes: &[u8],
    epoch_hi: u64,
    prev_slot: u64,
    out: &mut Vec<SlotDetection>,
) -> (usize, bool) {
    let n = run_len_bytes(bytes);
    let mut prev = prev_slot;
    let mut sorted = true;
    out.extend(bytes[..8 * n].chunks_exact(8).map(|c| {
        let d = decode_valid(le_word(c), epoch_hi);
        sorted &= d.slot >= prev;
        prev = d.slot;
        d
    }));
    (n, sorted)
}

/// `w ^ DETECTION_WORD_TOP` has its top 16 bits clear iff `w` is a valid
/// DETECTION word.
const DETECTION_WORD_TOP: u64 = DETECTION_TOP16 << 48;
const TOP16_MASK: u64 = 0xFFFF << 48;

/// Decode the leading run of valid DETECTION words of `bytes` (whole words
/// only) into `out`, in one pass, 8 words at a time: the 8 words are
/// loaded once, checked branch-free (a word is valid iff
/// `(w ^ 0x1000 << 48) & 0xFFFF << 48 == 0`), order-checked (slots are
/// below 2^40, so `low_i - low_{i-1}`, wrapping, has bit 63 set iff
/// `low_i < low_{i-1}`; OR-accumulated) and decoded. Returns the words
/// consumed and whether the run's slots never decrease from one record to
/// the next (the first record is not compared with anything before it).
pub fn decode_detection_run(
    bytes: &[u8],
    epoch_hi: u64,
    out: &mut Vec<SlotDetection>,
) -> (usize, bool) {
    let Some(first) = bytes.get(..8).map(le_word) else {
        return (0, true);
    };
    let mut prev_low = first & SLOT_MASK;
    let mut down = 0u64;
    let mut n = 0;
    out.reserve(bytes.len() / 8);
    for c in bytes.chunks_exact(64) {
        let w: [u64; 8] = std::array::from_fn(|i| le_word(&c[8 * i..8 * i + 8]));
        let bad = w.iter().fold(0, |a, &x| a | (x ^ DETECTION_WORD_TOP));
        if bad & TOP16_MASK != 0 {
            break;
        }
        for &x in &w {
            let low = x & SLOT_MASK;
            down |= low.wrapping_sub(prev_low);
            prev_low = low;
        }
        out.extend(w.iter().map(|&x| decode_valid(x, epoch_hi)));
        n += 8;
    }
    for c in bytes[8 * n..].chunks_exact(8) {
        let x = le_word(c);
        if !is_detection(x) {
            break;
        }
        let low = x & SLOT_MASK;
        down |= low.wrapping_sub(prev_low);
        prev_low = low;
        out.push(decode_valid(x, epoch_hi));
        n += 1;
    }
    (n, down >> 63 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_abi::Record;

    fn agrees(w: u64, epoch: u64) {
        let fast = decode_detection(w, epoch << 40);
        match Record::decode(&[w]) {
            Ok((
                Record::Detection(Detection {
                    slot,
                    detector,
                    fine_bin,
                    basis,
                    invalid,
                }),
                1,
            )) => {
                assert_eq!(
                    fast,
                    Some(SlotDetection::new(
                        (epoch << 40) | slot,
                        detector,
                        fine_bin,
                        basis,
                        invalid
                    )),
                    "word {w:#018x}"
                );
                // The packed byte, read against the ABI decoder's fields.
                let b = fast.map(|d| d.packed()).unwrap_or_default();
                assert_eq!(b & 3, detector, "word {w:#018x}");
                assert_eq!(
                    b & SlotDetection::PACKED_BASIS_X != 0,
                    basis == Basis::X,
                    "word {w:#018x}"
                );
                assert_eq!(
                    b & SlotDetection::PACKED_INVALID != 0,
                    invalid,
                    "word {w:#018x}"
                );
            }
            _ => assert_eq!(fast, None, "word {w:#018x}"),
        }
    }

    proptest! {
        #[test]
        fn fast_decoder_agrees_with_abi_decode(w in any::<u64>(), epoch in 0u64..(1 << 24)) {
            agrees(w, epoch);
        }

        #[test]
        fn fast_decoder_agrees_on_detection_like_words(low in 0u64..(1 << 48), resv in prop::sample::select(vec![0u64, 0, 0, 1, 0x800]), tag in 0u64..16) {
            agrees(tag << 60 | resv << 48 | low, 3);
        }

        /// The fused decoder agrees with the word-by-word one and
        /// with a plain order check, over long runs, stopped anywhere.
        #[test]
        fn fused_run_decoder_agrees(
            steps in prop::collection::vec(prop_oneof![
                8 => (0u64..9).prop_map(|d| d as i64),
                1 => -5i64..0,
            ], 0..1600),
            start in 0u64..(1 << 40),
            stop in prop::option::of((0usize..1600, prop_oneof![any::<u64>(), Just(1u64 << 60 | 1 << 48)])),
            tail in 0usize..8,
            epoch in 0u64..(1 << 24),
        ) {
            let mut slot = start as i64;
            let mut ws: Vec<u64> = steps.iter().map(|&d| {
                slot = (slot + d).rem_euclid(1 << 40);
                1u64 << 60 | (slot as u64) | ((d as u64 & 0xFF) << 40)
            }).collect();
            if let Some((at, w)) = stop {
                let at = at.min(ws.len());
                ws.insert(at, w);
            }
            let mut bytes: Vec<u8> = ws.iter().flat_map(|w| w.to_le_bytes()).collect();
            bytes.extend(std::iter::repeat_n(0x10, tail));
            let mut want = Vec::new();
            let n = decode_detection_words(&ws, epoch << 40, &mut want);
            let mut got = vec![SlotDetection::default()]; // appends
            let (m, sorted) = decode_detection_run(&bytes, epoch << 40, &mut got);
            prop_assert_eq!(m, n);
            prop_assert_eq!(&got[1..], &want[..]);
            prop_assert_eq!(sorted, want.windows(2).all(|w| w[0].slot <= w[1].slot));
        }

        #[test]
        fn run_stops_at_first_non_detection(ws in prop::collection::vec(prop_oneof![any::<u64>(), (0u64..(1<<48)).prop_map(|l| 1u64 << 60 | l)], 0..64)) {
            let mut out = Vec::new();
            let n = decode_detection_words(&ws, 0, &mut out);
            prop_assert_eq!(n, out.len());
            prop_assert!(ws[..n].iter().all(|&w| decode_detection(w, 0).is_some()));
            if n < ws.len() {
                prop_assert!(decode_detection(ws[n], 0).is_none());
            }
            let bytes: Vec<u8> = ws.iter().flat_map(|w| w.to_le_bytes()).collect();
            let mut out2 = Vec::new();
            prop_assert_eq!(decode_detection_bytes(&bytes, 0, &mut out2), n);
            prop_assert_eq!(&out, &out2);
            let mut out3 = Vec::new();
            let (n3, sorted) = decode_detection_bytes_ordered(&bytes, 0, 5, &mut out3);
            prop_assert_eq!(n3, n);
            prop_assert_eq!(&out3, &out);
            let want_sorted = out.first().is_none_or(|d| d.slot >= 5) && out.windows(2).all(|w| w[0].slot <= w[1].slot);
            prop_assert_eq!(sorted, want_sorted);
        }
    }
}
