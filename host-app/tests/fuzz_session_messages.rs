// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the session-message decoders of qkd-host that see the peer's
//! bytes: the HELLO (`roles::handshake::Hello`), SYNC / SYNC_REPLY
//! (`roles::parse_sync`) and the sifting messages (`SiftAnnounce`,
//! `SiftReply`), over arbitrary bytes and over mutated valid encodings
//! (flipped bits, cut, extended, spliced bytes). Every decoder returns a
//! value or a typed error, never panics; a valid encoding decodes back to
//! what was encoded; whatever decodes re-encodes to a message that decodes
//! to the same value (fixed-layout messages: to exactly the bytes).
//! The cascade and verification messages are fuzzed in qkd-keyproc
//! (`fuzz_cascade_wire`).
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-host --test fuzz_session_messages`

use proptest::prelude::*;
use qkd_host::roles::handshake::{Hello, HelloError, HELLO_LEN};
use qkd_host::roles::parse_sync;
use qkd_host::sifting::{SiftAnnounce, SiftError, SiftReply};

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: usize, bit: u8 },
    Set { at: usize, value: u8 },
    Cut { at: usize, len: usize },
    Insert { at: usize, bytes: Vec<u8> },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        (
            any::<usize>(),
            prop_oneof![Just(0u8), Just(0x7F), Just(0x80), Just(0xFF), any::<u8>()]
        )
            .prop_map(|(at, value)| Mutation::Set { at, value }),
        (any::<usize>(), 1usize..10).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..10))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
    ]
}

fn mutate(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = b.len();
        match m {
            Mutation::Flip { at, bit } if n > 0 => b[at % n] ^= 1 << bit,
            Mutation::Set { at, value } if n > 0 => b[at % n] = *value,
            Mutation::Cut { at, len } if n > 0 => {
                let at = at % n;
                b.drain(at..(at + len).min(n));
            }
            Mutation::Insert { at, bytes } => {
                let at = at % (n + 1);
                b.splice(at..at, bytes.iter().copied());
            }
            _ => {}
        }
    }
    b
}

fn arb_hello() -> impl Strategy<Value = (Hello, [u8; 16])> {
    (
        any::<bool>(),
        any::<[u8; 16]>(),
        prop_oneof![0u64..100, any::<u64>()],
        any::<u64>(),
        prop::option::of(prop_oneof![0u64..100, 0u64..u64::MAX]),
        any::<[u8; 16]>(),
    )
        .prop_map(|(alice, link, pad_pos, fed_windows, answering, tag)| {
            (
                Hello {
                    alice,
                    link,
                    pad_pos,
                    fed_windows,
                    answering,
                },
                tag,
            )
        })
}

fn arb_announce() -> impl Strategy<Value = SiftAnnounce> {
    (
        prop_oneof![Just(0u64), any::<u64>(), (u64::MAX - 5000)..=u64::MAX],
        prop::collection::vec(
            prop_oneof![4 => 1u64..0x80, 1 => 0x80u64..100_000, 1 => 1u64..(1 << 40)],
            0..150,
        ),
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(|(first, deltas, bits, last)| {
            let mut slots = Vec::with_capacity(deltas.len() + 1);
            let mut s = first;
            slots.push(s);
            for d in deltas {
                match s.checked_add(d) {
                    Some(t) => {
                        s = t;
                        slots.push(s);
                    }
                    None => break,
                }
            }
            let n = slots.len();
            let mut bases_x: Vec<u64> = (0..n.div_ceil(64))
                .map(|i| bits.rotate_left(i as u32))
                .collect();
            if !n.is_multiple_of(64) {
                if let Some(w) = bases_x.last_mut() {
                    *w &= (1u64 << (n % 64)) - 1;
                }
            }
            SiftAnnounce {
                slots,
                bases_x,
                last,
            }
        })
}

fn check_announce(b: &[u8]) -> Result<(), TestCaseError> {
    match SiftAnnounce::decode(b) {
        Ok(a) => {
            prop_assert!(a.slots.windows(2).all(|w| w[0] < w[1]));
            prop_assert_eq!(a.bases_x.len(), a.slots.len().div_ceil(64));
            let e = a.encode();
            // Canonical varints are never longer than what was read.
            prop_assert!(e.len() <= b.len());
            prop_assert_eq!(SiftAnnounce::decode(&e).unwrap(), a.clone());
            let mut reused = SiftAnnounce {
                slots: vec![7; 3],
                bases_x: vec![1; 9],
                last: true,
            };
            SiftAnnounce::decode_into(b, &mut reused).unwrap();
            prop_assert_eq!(reused, a);
        }
        Err(SiftError::Decode { .. }) => {}
        Err(e) => prop_assert!(false, "unexpected error {e}"),
    }
    Ok(())
}

fn check_reply(b: &[u8]) -> Result<(), TestCaseError> {
    match SiftReply::decode(b) {
        Ok(r) => {
            prop_assert!(r.codes.iter().all(|&c| c <= 5));
            let e = r.encode();
            prop_assert!(e.len() <= b.len());
            prop_assert_eq!(SiftReply::decode(&e).unwrap(), r);
        }
        Err(SiftError::Decode { .. }) => {}
        Err(e) => prop_assert!(false, "unexpected error {e}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn hello_round_trips_and_mutations_decode_exactly_or_fail(
        (h, tag) in arb_hello(),
        muts in prop::collection::vec(arb_mutation(), 0..3),
        raw in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let wire = h.encode(&tag);
        prop_assert_eq!(wire.len(), HELLO_LEN);
        let back = Hello::decode(&wire);
        prop_assert!(matches!(back, Ok((ref g, t)) if *g == h && t == tag), "{back:?}");
        for b in [mutate(wire.clone(), &muts), raw] {
            match Hello::decode(&b) {
                Ok((g, t)) => prop_assert_eq!(g.encode(&t), b),
                Err(HelloError::Malformed(_)) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    #[test]
    fn sync_payloads_decode_or_are_refused(
        c in any::<u64>(),
        pending in prop::option::of((0u64..u64::MAX, any::<u32>())),
        muts in prop::collection::vec(arb_mutation(), 0..3),
    ) {
        let mut m = c.to_le_bytes().to_vec();
        let (p, n) = pending.unwrap_or((u64::MAX, 0));
        m.extend_from_slice(&p.to_le_bytes());
        m.extend_from_slice(&n.to_le_bytes());
        prop_assert_eq!(parse_sync(&m), Some((c, pending)));
        let b = mutate(m, &muts);
        match parse_sync(&b) {
            Some((c2, Some((p2, n2)))) => {
                let mut e = c2.to_le_bytes().to_vec();
                e.extend_from_slice(&p2.to_le_bytes());
                e.extend_from_slice(&n2.to_le_bytes());
                prop_assert_eq!(e, b);
            }
            Some((c2, None)) => {
                prop_assert_eq!(b.len(), 20);
                prop_assert_eq!(&b[..8], &c2.to_le_bytes()[..]);
                prop_assert_eq!(&b[8..16], &u64::MAX.to_le_bytes()[..]);
            }
            None => prop_assert_ne!(b.len(), 20),
        }
    }

    #[test]
    fn sift_announce_round_trips_and_mutations_decode_or_fail(
        a in arb_announce(),
        muts in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let wire = a.encode();
        prop_assert_eq!(SiftAnnounce::decode(&wire).unwrap(), a);
        check_announce(&mutate(wire, &muts))?;
    }

    #[test]
    fn sift_reply_round_trips_and_mutations_decode_or_fail(
        codes in prop::collection::vec(0u8..=5, 0..300),
        muts in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let r = SiftReply { codes };
        let wire = r.encode();
        prop_assert_eq!(SiftReply::decode(&wire).unwrap(), r);
        check_reply(&mutate(wire, &muts))?;
    }

    #[test]
    fn sift_decoders_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        // A small count up front, so bodies are reached.
        count in prop::option::of(0u8..0x80),
    ) {
        let mut b = bytes;
        if let Some(c) = count {
            b.insert(0, c);
        }
        check_announce(&b)?;
        check_reply(&b)?;
    }
}
