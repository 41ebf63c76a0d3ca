// SPDX-License-Identifier: MIT OR Apache-2.0
//! Hot-path decoder for DETECTION records (qkd-abi `records.rs`, tag 1):
//! one 64-bit word each, `slot[39:0] det[41:40] bin[45:42] basis[46]
//! invalid[47]`, bits [59:48] reserved zero. A word is a valid DETECTION
//! iff its top 16 bits are exactly `0x1000`; the decoder runs until the
//! first word that is not, so anything else goes to the general decoder
//! (`qkd_abi::Record::decode`). A proptest checks both agree.

use qkd_abi::records::SLOT_MASK;
use qkd_abi::symbol::Basis;
use serde::Serialize;

/// A DETECTION with its full 64-bit slot index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SlotDetection {
    /// Full 64-bit slot index (epoch << 40 | low 40 bits).
    pub slot: u64,
    /// Detector (0..=3).
    pub detector: u8,
    /// TDC fine bin (0..=15).
    pub fine_bin: u8,
    /// Bob's basis.
    pub basis: Basis,
    /// Made while an alarm was live: not usable.
    pub invalid: bool,
}

impl Default for SlotDetection {
    fn default() -> Self {
        SlotDetection {
            slot: 0,
            detector: 0,
            fine_bin: 0,
            basis: Basis::Z,
            invalid: false,
        }
    }
}

/// Top 16 bits of every valid DETECTION word (tag 1, reserved bits zero).
pub const DETECTION_TOP16: u64 = 0x1000;

/// Decode one word if it is a valid DETECTION.
#[inline(always)]
pub fn decode_detection(w: u64, epoch_hi: u64) -> Option<SlotDetection> {
    if w >> 48 != DETECTION_TOP16 {
        return None;
    }
    Some(SlotDetection {
        slot: epoch_hi | (w & SLOT_MASK),
        detector: ((w >> 40) & 3) as u8,
        fine_bin: ((w >> 42) & 0xF) as u8,
        basis: if (w >> 46) & 1 != 0 {
            Basis::X
        } else {
            Basis::Z
        },
        invalid: (w >> 47) & 1 != 0,
    })
}

/// Decode the leading run of DETECTION words of `words` into `out`
/// (appended); returns how many words were consumed. `epoch_hi` is the
/// current epoch already shifted left by 40.
pub fn decode_detection_words(words: &[u64], epoch_hi: u64, out: &mut Vec<SlotDetection>) -> usize {
    out.reserve(words.len());
    let start = out.len();
    for &w in words {
        match decode_detection(w, epoch_hi) {
            Some(d) => out.push(d),
            None => break,
        }
    }
    out.len() - start
}

/// As [`decode_detection_words`], over little-endian bytes (whole words
/// only; a trailing partial word is not touched).
pub fn decode_detection_bytes(bytes: &[u8], epoch_hi: u64, out: &mut Vec<SlotDetection>) -> usize {
    out.reserve(bytes.len() / 8);
    let start = out.len();
    for c in bytes.chunks_exact(8) {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        match decode_detection(w, epoch_hi) {
            Some(d) => out.push(d),
            None => break,
        }
    }
    out.len() - start
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_abi::records::Detection;
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
                    Some(SlotDetection {
                        slot: (epoch << 40) | slot,
                        detector,
                        fine_bin,
                        basis,
                        invalid
                    }),
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
            prop_assert_eq!(out, out2);
        }
    }
}
