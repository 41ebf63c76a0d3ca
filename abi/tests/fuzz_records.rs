// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the record decoder (`Record::decode`) with mutated valid encodings
//! and arbitrary bytes: flipped bits, truncated and extended record
//! sequences, headers with valid tags and arbitrary bodies. Whatever the
//! words, decoding returns a record or a typed [`DecodeError`], never
//! panics; a record that decodes re-encodes to exactly the words it
//! consumed; a truncated valid record is reported as truncated.
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-abi --test fuzz_records`
//! (`records_prop.rs` holds the plain round trip and the unmutated
//! arbitrary-word property.)

use proptest::prelude::*;
use qkd_abi::records::*;
use qkd_abi::symbol::{Basis, Symbol};

fn arb_record() -> impl Strategy<Value = Record> {
    let det = (0..=SLOT_MASK, 0u8..4, 0u8..16, any::<bool>(), any::<bool>()).prop_map(
        |(slot, d, b, x, inv)| {
            Record::Detection(Detection {
                slot,
                detector: d,
                fine_bin: b,
                basis: Basis::from_bit(x),
                invalid: inv,
            })
        },
    );
    let syms = (
        0..=SLOT_MASK,
        prop::collection::vec(0u8..16, 1..=MAX_SYMBOLS_PER_RECORD),
    )
        .prop_map(|(s, v)| {
            let v: Vec<Symbol> = v.into_iter().map(Symbol).collect();
            Record::AliceSymbols(AliceSymbols::from_symbols(s, &v))
        });
    let status = (
        0..=SLOT_MASK,
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    CounterId::IntervalSlots,
                    CounterId::Gates,
                    CounterId::SymbolsLost,
                    CounterId::Clicks(2),
                    CounterId::PhotocurrentMax(0),
                ]),
                prop_oneof![Just(0u64), Just(STATUS_VALUE_MAX), 0..=STATUS_VALUE_MAX],
            ),
            0..=MAX_STATUS_COUNTERS,
        ),
    )
        .prop_map(|(slot, counters)| Record::Status(Status { slot, counters }));
    let gap = (0..=SLOT_MASK, any::<u64>(), 0..=GAP_RECORDS_MAX).prop_map(|(f, n, r)| {
        Record::Gap(Gap {
            first_slot: f,
            lost_slots: n,
            lost_records: r,
        })
    });
    let epoch = prop_oneof![Just(EPOCH_MAX), 0..=EPOCH_MAX].prop_map(Record::Epoch);
    prop_oneof![det, syms, status, gap, epoch]
}

/// One mutation of a word sequence.
#[derive(Debug, Clone)]
enum Mutation {
    /// XOR a word with a mask (one bit, the tag nibble, or anything).
    Flip { at: usize, mask: u64 },
    /// Cut the sequence to this many words.
    Truncate { at: usize },
    /// Insert arbitrary words.
    Insert { at: usize, words: Vec<u64> },
    /// Replace a word by one with a valid tag and an arbitrary body.
    Header { at: usize, tag: u8, body: u64 },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), (0u32..64).prop_map(|b| 1u64 << b))
            .prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), (0u64..16).prop_map(|t| t << TAG_SHIFT))
            .prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        (any::<usize>(), any::<u64>()).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        (any::<usize>(), prop::collection::vec(any::<u64>(), 1..4))
            .prop_map(|(at, words)| Mutation::Insert { at, words }),
        (any::<usize>(), 0u8..16, any::<u64>()).prop_map(|(at, tag, body)| Mutation::Header {
            at,
            tag,
            body
        }),
    ]
}

fn apply(words: &mut Vec<u64>, m: &Mutation) {
    let n = words.len();
    match m {
        Mutation::Flip { at, mask } if n > 0 => words[at % n] ^= mask,
        Mutation::Truncate { at } => words.truncate(at % (n + 1)),
        Mutation::Insert { at, words: w } => {
            let at = at % (n + 1);
            words.splice(at..at, w.iter().copied());
        }
        Mutation::Header { at, tag, body } if n > 0 => {
            words[at % n] = (u64::from(*tag) << TAG_SHIFT) | (body & ((1 << TAG_SHIFT) - 1));
        }
        _ => {}
    }
}

/// Decode `words` front to back as the stream decoder does (skip one word
/// on a non-truncation error). Checks every decoded record re-encodes to
/// exactly the words consumed; returns the records.
fn decode_all(words: &[u64]) -> Result<Vec<Record>, TestCaseError> {
    let mut at = 0;
    let mut out = Vec::new();
    while at < words.len() {
        match Record::decode(&words[at..]) {
            Ok((r, n)) => {
                prop_assert!(n >= 1 && n == r.len_words() && at + n <= words.len());
                let back = r.to_words();
                prop_assert!(back.is_ok(), "decoded record does not encode: {:?}", back);
                prop_assert_eq!(&back.unwrap()[..], &words[at..at + n]);
                out.push(r);
                at += n;
            }
            Err(e) if e.is_truncated() => {
                // Only the end of the input can be a truncation.
                let is_tail = matches!(e, DecodeError::Truncated { needed, available, .. }
                    if available == words.len() - at && needed > available);
                prop_assert!(is_tail, "{e}");
                break;
            }
            Err(e) => {
                // Typed, with a message naming what is wrong.
                prop_assert!(!e.to_string().is_empty());
                at += 1;
            }
        }
    }
    Ok(out)
}

proptest! {
    #[test]
    fn mutated_valid_encodings_decode_or_give_typed_errors(
        recs in prop::collection::vec(arb_record(), 1..6),
        muts in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let mut words = Vec::new();
        for r in &recs {
            r.encode(&mut words).unwrap();
        }
        let clean = words.clone();
        for m in &muts {
            apply(&mut words, m);
        }
        let got = decode_all(&words)?;
        if words == clean {
            prop_assert_eq!(got, recs);
        }
    }

    #[test]
    fn truncated_valid_record_is_reported_truncated(
        r in arb_record(),
        cut in any::<usize>(),
    ) {
        let words = r.to_words().unwrap();
        let cut = cut % words.len();
        let e = Record::decode(&words[..cut]).unwrap_err();
        prop_assert!(e.is_truncated(), "{e}");
    }

    #[test]
    fn arbitrary_bytes_give_records_or_typed_errors(
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
        // Force valid tags onto some words, so bodies are checked too.
        tags in prop::collection::vec((any::<usize>(), 0u8..6), 0..8),
    ) {
        let mut words = words_from_le_bytes(&bytes);
        prop_assert_eq!(words.len(), bytes.len() / 8);
        for (at, t) in tags {
            if !words.is_empty() {
                let n = words.len();
                words[at % n] = (words[at % n] & ((1 << TAG_SHIFT) - 1)) | u64::from(t) << TAG_SHIFT;
            }
        }
        decode_all(&words)?;
    }
}
