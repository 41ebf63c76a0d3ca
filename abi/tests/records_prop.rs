//! Property tests of the record codec: round-trip, and no panic on any input.

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
    let ids = prop::sample::select(vec![
        CounterId::IntervalSlots,
        CounterId::Gates,
        CounterId::Accepted,
        CounterId::AfterGate,
        CounterId::DeadTimeSuppressed,
        CounterId::Invalid,
        CounterId::AlarmsLive,
        CounterId::AlarmsSeen,
        CounterId::SymbolsSent,
        CounterId::SymbolsLost,
        CounterId::Clicks(0),
        CounterId::Clicks(3),
        CounterId::PhotocurrentMax(1),
    ]);
    let status = (
        0..=SLOT_MASK,
        prop::collection::vec((ids, 0..=STATUS_VALUE_MAX), 0..20),
    )
        .prop_map(|(slot, counters)| Record::Status(Status { slot, counters }));
    let gap = (0..=SLOT_MASK, any::<u64>(), 0..=GAP_RECORDS_MAX).prop_map(|(f, n, r)| {
        Record::Gap(Gap {
            first_slot: f,
            lost_slots: n,
            lost_records: r,
        })
    });
    let epoch = (0..=EPOCH_MAX).prop_map(Record::Epoch);
    prop_oneof![det, syms, status, gap, epoch]
}

proptest! {
    #[test]
    fn round_trip(recs in prop::collection::vec(arb_record(), 1..8)) {
        let mut words = vec![];
        for r in &recs {
            r.encode(&mut words).unwrap();
        }
        let mut at = 0;
        for r in &recs {
            let (back, n) = Record::decode(&words[at..]).unwrap();
            prop_assert_eq!(&back, r);
            prop_assert_eq!(n, r.len_words());
            at += n;
        }
        prop_assert_eq!(at, words.len());
        // The byte form round-trips too.
        prop_assert_eq!(words_from_le_bytes(&words_to_le_bytes(&words)), words);
    }

    #[test]
    fn arbitrary_words_never_panic(words in prop::collection::vec(any::<u64>(), 0..64)) {
        let mut at = 0;
        while at < words.len() {
            match Record::decode(&words[at..]) {
                Ok((r, n)) => {
                    prop_assert!(n >= 1 && n == r.len_words());
                    // Whatever decodes re-encodes to the same words.
                    prop_assert_eq!(&r.to_words().unwrap()[..], &words[at..at + n]);
                    at += n;
                }
                Err(e) if e.is_truncated() => break,
                Err(_) => at += 1,
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let words = words_from_le_bytes(&bytes);
        let _ = Record::decode(&words);
    }
}
