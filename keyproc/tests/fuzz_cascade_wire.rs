// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the cascade and verification messages the peer sends: the
//! `ParityRequest` / `ParityReply` decoders, the cascade responder fed
//! arbitrary and mutated requests, and `VerifyChallenge::decode_with_tag`.
//! Arbitrary bytes and mutated valid encodings (flipped bits, bytes set to
//! extremes, cuts, insertions) give a value or a typed error, never a
//! panic; valid encodings decode to what was encoded; whatever decodes
//! re-encodes to exactly the bytes it came from; the responder answers
//! exactly the parities asked for, or refuses the request.
//! (The LDPC messages are in `fuzz_ldpc_wire.rs`.)
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-keyproc --test fuzz_cascade_wire`

use proptest::prelude::*;
use qkd_keyproc::cascade::{CascadeSetup, ParityQuery, ParityReply, ParityRequest};
use qkd_keyproc::reconcile::{ReconcileError, ReconcileResponder};
use qkd_keyproc::verify::VerifyChallenge;
use qkd_keyproc::{BitVec, CascadeResponder};

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
            prop_oneof![Just(0u8), Just(1), Just(0xFF), any::<u8>()]
        )
            .prop_map(|(at, value)| Mutation::Set { at, value }),
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Mutation::Cut { at, len }),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..12))
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

fn arb_query(n: u32) -> impl Strategy<Value = ParityQuery> {
    let small = n.max(1);
    prop_oneof![
        (0u16..4, 0..small, 0..small).prop_map(|(pass, first, count)| ParityQuery::Blocks {
            pass,
            first,
            count
        }),
        (0u16..4, 0..small, 0..=small).prop_map(|(pass, start, end)| ParityQuery::Range {
            pass,
            start,
            end
        }),
        (any::<u16>(), any::<u32>(), any::<u32>())
            .prop_map(|(pass, first, count)| ParityQuery::Blocks { pass, first, count }),
        (any::<u16>(), any::<u32>(), any::<u32>())
            .prop_map(|(pass, start, end)| ParityQuery::Range { pass, start, end }),
    ]
}

fn arb_request(n: u32) -> impl Strategy<Value = ParityRequest> {
    (
        prop::option::of((
            prop_oneof![Just(n), any::<u32>()],
            any::<[u8; 32]>(),
            prop::collection::vec(prop_oneof![1u32..64, Just(0u32), any::<u32>()], 0..6),
        )),
        prop::collection::vec(arb_query(n), 0..8),
        any::<bool>(),
    )
        .prop_map(|(setup, queries, done)| ParityRequest {
            setup: setup.map(|(n, seed, block_sizes)| CascadeSetup {
                n,
                seed,
                block_sizes,
            }),
            queries,
            done,
        })
}

fn key(n: usize, seed: u8) -> BitVec {
    let bytes: Vec<u8> = (0..n.div_ceil(8))
        .map(|i| (i as u8).wrapping_mul(73).wrapping_add(seed))
        .collect();
    BitVec::from_bytes(&bytes, n).unwrap()
}

fn check_request(b: &[u8]) -> Result<Option<ParityRequest>, TestCaseError> {
    match ParityRequest::decode(b) {
        Ok(r) => {
            prop_assert_eq!(&r.encode()[..], b);
            Ok(Some(r))
        }
        Err(e) => {
            prop_assert!(!e.to_string().is_empty());
            Ok(None)
        }
    }
}

fn check_reply(b: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(r) = ParityReply::decode(b) {
        prop_assert_eq!(&r.encode()[..], b);
    }
    Ok(())
}

proptest! {
    #[test]
    fn requests_round_trip_and_mutations_decode_exactly_or_fail(
        req in arb_request(1000),
        muts in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let wire = req.encode();
        prop_assert_eq!(ParityRequest::decode(&wire).unwrap(), req);
        check_request(&mutate(wire, &muts))?;
    }

    #[test]
    fn replies_round_trip_and_mutations_decode_exactly_or_fail(
        n in 0usize..300,
        seed in any::<u8>(),
        leaked in any::<u64>(),
        muts in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let r = ParityReply { parities: key(n, seed), responder_leaked: leaked };
        let wire = r.encode();
        prop_assert_eq!(ParityReply::decode(&wire).unwrap(), r);
        check_reply(&mutate(wire, &muts))?;
    }

    #[test]
    fn responder_answers_what_is_asked_or_refuses(
        n in prop_oneof![1u32..64, 64u32..3000],
        seed in any::<u8>(),
        first in arb_request(1000),
        reqs in prop::collection::vec((arb_request(1000), prop::collection::vec(arb_mutation(), 0..3)), 1..4),
        with_setup in any::<bool>(),
    ) {
        let mut resp = CascadeResponder::new(key(n as usize, seed));
        // Mostly start with a setup the responder accepts, so queries are reached.
        let mut first = first;
        if with_setup {
            first.setup = Some(CascadeSetup { n, seed: [seed; 32], block_sizes: vec![8, 16, 32, 7] });
        }
        let mut wires = vec![first.encode()];
        wires.extend(reqs.into_iter().map(|(r, m)| mutate(r.encode(), &m)));
        for w in wires {
            let parsed = check_request(&w)?;
            let leaked_before = resp.leaked().0;
            match resp.respond(&w) {
                Ok(reply) => {
                    let req = parsed.expect("a request the responder answered decodes");
                    let r = ParityReply::decode(&reply).unwrap();
                    prop_assert_eq!(r.parities.len(), req.parity_count());
                    let base = if req.setup.is_some() { 0 } else { leaked_before };
                    prop_assert_eq!(r.responder_leaked, base + req.parity_count() as u64);
                }
                Err(ReconcileError::BadRequest(_) | ReconcileError::Decode(_)) => {}
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_give_values_or_typed_errors(
        bytes in prop::collection::vec(any::<u8>(), 0..120),
        kind in prop::option::of(prop_oneof![Just(0xC1u8), Just(0xC2u8)]),
    ) {
        let mut b = bytes;
        if let Some(k) = kind {
            b.insert(0, k);
        }
        check_request(&b)?;
        check_reply(&b)?;
        if let Ok((c, tag)) = VerifyChallenge::decode_with_tag(&b) {
            prop_assert_eq!(&c.encode_with_tag(&tag)[..], &b[..]);
        }
        let mut resp = CascadeResponder::new(key(500, 1));
        let _ = resp.respond(&b);
    }

    #[test]
    fn verify_challenges_round_trip_and_mutations_decode_exactly_or_fail(
        keys in prop::collection::vec(any::<[u8; 16]>(), 1..5),
        tag_bits in prop_oneof![1u32..200, Just(0u32)],
        tag_seed in any::<u8>(),
        muts in prop::collection::vec(arb_mutation(), 0..4),
    ) {
        let c = VerifyChallenge { hash_keys: keys, tag_bits };
        let tag: Vec<u8> = (0..tag_bits.div_ceil(8)).map(|i| (i as u8) ^ tag_seed).collect();
        let wire = c.encode_with_tag(&tag);
        let back = VerifyChallenge::decode_with_tag(&wire);
        prop_assert!(matches!(&back, Ok((d, t)) if d.hash_keys == c.hash_keys && d.tag_bits == c.tag_bits && *t == tag), "{back:?}");
        let m = mutate(wire, &muts);
        if let Ok((d, t)) = VerifyChallenge::decode_with_tag(&m) {
            prop_assert_eq!(d.encode_with_tag(&t), m);
        }
    }
}
