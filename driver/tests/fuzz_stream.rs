// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the event-stream reader (`qkd_driver::stream::StreamReader`) over
//! an arbitrary byte [`EventSource`]: valid records with extreme fields
//! (the last epoch, slots at the top of the 40-bit range, huge GAPs),
//! mutated valid encodings (bit flips, cut and inserted bytes that shift
//! the word alignment) and raw bytes, served in arbitrary read lengths with
//! timeouts and transient source errors in between, through readers of any
//! read size. Whatever the card sends, the reader never panics, every byte
//! is decoded or counted as discarded, the stream ends, and the result is
//! the same as decoding the bytes in one piece.
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-driver --test fuzz_stream`
//! (the unit proptests in `src/stream.rs` cover well-formed streams split
//! into reads; this target adds the extremes, the mutations and source
//! errors.)

use proptest::prelude::*;
use qkd_abi::records::*;
use qkd_abi::symbol::{Basis, Symbol};
use qkd_driver::stream::{Batch, StreamDecoder, StreamReader, MAX_ERRORS_PER_BATCH};
use qkd_driver::{Error, EventSource, Result};
use std::time::Duration;

/// What the source does on one read.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Serve at most this many bytes (0: a timeout).
    Bytes(usize),
    /// A transient source error (the reader must stay usable).
    Fail,
}

/// Serves `data` following `steps` (cycled), then ends.
struct FuzzSource {
    data: Vec<u8>,
    pos: usize,
    steps: Vec<Step>,
    i: usize,
}

impl EventSource for FuzzSource {
    fn read_bytes(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize> {
        if self.pos >= self.data.len() {
            return Err(Error::StreamEnded {
                path: "<fuzz>".into(),
            });
        }
        let step = self.steps[self.i % self.steps.len()];
        self.i += 1;
        match step {
            Step::Fail => Err(Error::DeviceGone { offset: 0 }),
            Step::Bytes(want) => {
                let n = want.min(buf.len()).min(self.data.len() - self.pos);
                buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
                self.pos += n;
                Ok(n)
            }
        }
    }
}

fn slot() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(SLOT_MASK),
        (SLOT_MASK - 2048)..=SLOT_MASK,
        0..=SLOT_MASK
    ]
}

fn arb_record() -> impl Strategy<Value = Record> {
    prop_oneof![
        (slot(), 0u8..4, 0u8..16, any::<bool>(), any::<bool>()).prop_map(|(slot, d, b, x, inv)| {
            Record::Detection(Detection {
                slot,
                detector: d,
                fine_bin: b,
                basis: Basis::from_bit(x),
                invalid: inv,
            })
        }),
        (
            slot(),
            prop_oneof![1usize..40, Just(MAX_SYMBOLS_PER_RECORD)]
        )
            .prop_map(|(s, n)| {
                let v: Vec<Symbol> = (0..n).map(|i| Symbol((i % 16) as u8)).collect();
                Record::AliceSymbols(AliceSymbols::from_symbols(s, &v))
            }),
        (
            slot(),
            prop_oneof![
                Just(0u64),
                Just(STATUS_VALUE_MAX),
                0u64..5000,
                0..=STATUS_VALUE_MAX
            ],
            0usize..6
        )
            .prop_map(|(end, len, k)| {
                let mut counters = vec![(CounterId::IntervalSlots, len)];
                counters.extend((0..k).map(|i| (CounterId::Clicks((i % 4) as u8), i as u64)));
                Record::Status(Status {
                    slot: end,
                    counters,
                })
            }),
        (
            slot(),
            prop_oneof![Just(u64::MAX), Just(0u64), any::<u64>(), 0u64..4096],
            prop_oneof![Just(GAP_RECORDS_MAX), 0..=GAP_RECORDS_MAX]
        )
            .prop_map(|(f, n, r)| Record::Gap(Gap {
                first_slot: f,
                lost_slots: n,
                lost_records: r
            })),
        prop_oneof![
            Just(EPOCH_MAX),
            Just(EPOCH_MAX - 1),
            Just(0u32),
            0..=EPOCH_MAX
        ]
        .prop_map(Record::Epoch),
    ]
}

fn bytes_of(recs: &[Record]) -> Vec<u8> {
    let mut w = Vec::new();
    for r in recs {
        r.encode(&mut w).unwrap();
    }
    words_to_le_bytes(&w)
}

/// One piece of the fuzzed stream.
fn arb_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(arb_record(), 1..6).prop_map(|r| bytes_of(&r)),
        // A DETECTION run (the hot path) from an arbitrary slot.
        1 => (slot(), 1u64..200, 1u64..4).prop_map(|(s0, n, step)| {
            let recs: Vec<Record> = (0..n)
                .map(|i| {
                    Record::Detection(Detection {
                        slot: s0.wrapping_add(i * step) & SLOT_MASK,
                        detector: (i % 4) as u8,
                        fine_bin: 0,
                        basis: Basis::from_bit(i % 2 == 0),
                        invalid: false,
                    })
                })
                .collect();
            bytes_of(&recs)
        }),
        1 => prop::collection::vec(any::<u8>(), 1..64),
        // A word with a valid tag and an arbitrary body.
        1 => (1u64..6, any::<u64>())
            .prop_map(|(t, b)| ((t << TAG_SHIFT) | (b & ((1 << TAG_SHIFT) - 1))).to_le_bytes().to_vec()),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Cut { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ]
}

fn mutate(data: &mut Vec<u8>, m: &Mutation) {
    let n = data.len();
    match m {
        Mutation::Flip { at, bit } if n > 0 => data[at % n] ^= 1 << bit,
        Mutation::Cut { at, len } if n > 0 => {
            let at = at % n;
            let end = (at + len).min(n);
            data.drain(at..end);
        }
        Mutation::Insert { at, bytes } => {
            let at = at % (n + 1);
            data.splice(at..at, bytes.iter().copied());
        }
        _ => {}
    }
}

fn merge(all: &mut Batch, b: Batch) {
    let off = all.detections.len();
    all.detections.extend(b.detections);
    all.records.extend(b.records.into_iter().map(|mut r| {
        r.detections_before += off;
        r
    }));
    all.loss.gap_records += b.loss.gap_records;
    all.loss.lost_slots = all.loss.lost_slots.saturating_add(b.loss.lost_slots);
    all.loss.lost_records += b.loss.lost_records;
    all.loss.decode_errors += b.loss.decode_errors;
    all.loss.discarded_bytes += b.loss.discarded_bytes;
    all.loss.unexplained_slots = all
        .loss
        .unexplained_slots
        .saturating_add(b.loss.unexplained_slots);
    all.loss.lost_ranges.extend(b.loss.lost_ranges);
    all.loss.discontinuities.extend(b.loss.discontinuities);
    all.errors.extend(b.errors);
}

proptest! {
    #[test]
    fn any_stream_in_any_reads_is_decoded_or_counted(
        pieces in prop::collection::vec(arb_piece(), 0..10),
        muts in prop::collection::vec(arb_mutation(), 0..4),
        steps in prop::collection::vec(
            prop_oneof![
                1 => Just(Step::Bytes(0)),
                1 => Just(Step::Fail),
                4 => (1usize..24).prop_map(Step::Bytes),
                2 => (1usize..5000).prop_map(Step::Bytes),
            ],
            1..10,
        ),
        read_bytes in prop_oneof![1usize..64, 64usize..10_000],
    ) {
        let mut data: Vec<u8> = pieces.concat();
        for m in &muts {
            mutate(&mut data, m);
        }

        // Reference: the whole stream in one piece.
        let mut one = StreamDecoder::new(data.len());
        let mut want = Batch::default();
        one.feed(&data, &mut want);
        one.finish(&mut want);
        let s = one.stats();
        prop_assert_eq!(s.bytes_in, data.len() as u64);
        prop_assert_eq!(s.bytes_in, s.bytes_decoded + s.bytes_discarded);
        prop_assert_eq!(one.pending_bytes(), 0);
        prop_assert_eq!(want.loss.discarded_bytes, s.bytes_discarded);

        let mut steps = steps;
        if !steps.iter().any(|s| matches!(s, Step::Bytes(n) if *n > 0)) {
            steps.push(Step::Bytes(8));
        }
        let src = FuzzSource { data: data.clone(), pos: 0, steps, i: 0 };
        let mut r = StreamReader::with_read_bytes(src, read_bytes);
        let mut got = Batch::default();
        let mut ended = false;
        for _ in 0..(data.len() + 2) * 40 {
            match r.next_batch(Duration::ZERO) {
                Ok(b) => {
                    let end = b.end_of_stream;
                    merge(&mut got, b);
                    if end {
                        ended = true;
                        break;
                    }
                }
                Err(Error::DeviceGone { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
        prop_assert!(ended, "the stream must end");
        let after_end = matches!(r.next_batch(Duration::ZERO), Err(Error::StreamEnded { .. }));
        prop_assert!(after_end, "a read after the end must say the stream ended");
        prop_assert_eq!(r.stats(), one.stats());
        prop_assert_eq!(&got.detections, &want.detections);
        prop_assert_eq!(&got.records, &want.records);
        prop_assert_eq!(got.loss.decode_errors, want.loss.decode_errors);
        prop_assert_eq!(got.loss.discarded_bytes, want.loss.discarded_bytes);
        prop_assert_eq!(got.loss.lost_slots, want.loss.lost_slots);
        prop_assert_eq!(got.loss.unexplained_slots, want.loss.unexplained_slots);
        if want.errors.len() < MAX_ERRORS_PER_BATCH {
            prop_assert_eq!(&got.errors, &want.errors);
        }
        prop_assert_eq!(r.total_loss(), one.total_loss());
    }
}
