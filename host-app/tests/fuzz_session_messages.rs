// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the session-message decoders of qkd-host that see the peer's
//! bytes: the HELLO (`roles::handshake::Hello`), SYNC / SYNC_REPLY /
//! SYNC_DONE (`roles::parse_sync`, `parse_sync_done`), the sifting messages
//! (`SiftAnnounce`, `SiftReply`) and the block messages
//! (`block_messages`: ESTIMATE, VERIFY, VERIFY_RESULT, BLOCK_ACK), over
//! arbitrary bytes and over mutated valid encodings
//! (flipped bits, cut, extended, spliced bytes). Every decoder returns a
//! value or a typed error, never panics; a valid encoding decodes back to
//! what was encoded; whatever decodes re-encodes to a message that decodes
//! to the same value (fixed-layout messages: to exactly the bytes).
//! The cascade and verification messages are fuzzed in qkd-keyproc
//! (`fuzz_cascade_wire`).
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-host --test fuzz_session_messages`

use proptest::prelude::*;
use qkd_host::block_messages::{
    decode_block_ack, Estimate, MessageError, Verdict, Verify, VerifyResult, BLOCK_ACK,
};
use qkd_host::config::Reconciliation;
use qkd_host::roles::commit::Sync;
use qkd_host::roles::handshake::{Hello, HelloError, HELLO_LEN};
use qkd_host::roles::{parse_sync, parse_sync_done};
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
        any::<[u8; 16]>(),
    )
        .prop_map(
            |(alice, link, pad_pos, fed_windows, answering, tag, epoch)| {
                (
                    Hello {
                        alice,
                        link,
                        // Only Alice's HELLO carries the link epoch.
                        epoch: if alice { epoch } else { [0; 16] },
                        pad_pos,
                        fed_windows,
                        answering,
                    },
                    tag,
                )
            },
        )
}

fn arb_block_message() -> impl Strategy<Value = Vec<u8>> {
    let estimate = (
        any::<[u64; 3]>(),
        prop_oneof![Just(Verdict::Ok), Just(Verdict::Abort)],
        prop_oneof![
            Just(Reconciliation::Cascade),
            Just(Reconciliation::Ldpc),
            Just(Reconciliation::Auto)
        ],
    )
        .prop_map(|(m_x, verdict, reconciliation)| {
            Estimate {
                m_x,
                verdict,
                reconciliation,
            }
            .encode()
        });
    let verify = (
        prop::collection::vec(any::<[u8; 16]>(), 0..6),
        prop_oneof![0u32..300, any::<u32>().prop_map(|t| t % 4096)],
        any::<[u64; 3]>(),
        any::<u8>(),
    )
        .prop_map(|(hash_keys, tag_bits, m_z, fill)| {
            Verify {
                hash_keys,
                tag_bits,
                tag: vec![fill; (tag_bits as usize).div_ceil(8)],
                m_z,
            }
            .encode()
        });
    let result = prop_oneof![
        Just(VerifyResult::Mismatch),
        Just(VerifyResult::NoKey),
        Just(VerifyResult::PaFailed),
        (any::<u64>(), prop::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(secret_bits, seed)| VerifyResult::Key { secret_bits, seed }),
    ]
    .prop_map(|r| r.encode());
    prop_oneof![estimate, verify, result, Just(BLOCK_ACK.to_vec())]
}

/// Each block-message decoder on `b`: a value that re-encodes to exactly
/// `b`, or a typed refusal whose reason matches the bytes (layouts written
/// here from the spec in `block_messages`).
fn check_block_decoders(b: &[u8]) -> Result<(), TestCaseError> {
    match Estimate::decode(b) {
        Ok(e) => prop_assert_eq!(e.encode(), b),
        Err(MessageError::Truncated(_)) => prop_assert!(b.len() < 26),
        Err(MessageError::Trailing { extra, .. }) => prop_assert_eq!(extra, b.len() - 26),
        Err(MessageError::Field {
            field: "verdict",
            value,
            ..
        }) => {
            prop_assert!(value > 1 && u64::from(b[24]) == value);
        }
        Err(MessageError::Field { field, value, .. }) => {
            prop_assert_eq!(field, "reconciliation");
            prop_assert!(b[24] <= 1 && value > 2 && u64::from(b[25]) == value);
        }
        Err(e) => prop_assert!(false, "ESTIMATE: {e}"),
    }
    match Verify::decode(b) {
        Ok(v) => {
            prop_assert_eq!(v.tag.len(), (v.tag_bits as usize).div_ceil(8));
            prop_assert_eq!(v.encode(), b);
        }
        Err(MessageError::Field { field, .. }) => {
            prop_assert_eq!(field, "tag_bits");
            prop_assert!(u64::from_le_bytes(b[1..9].try_into().unwrap()) > u64::from(u32::MAX));
        }
        Err(MessageError::Truncated(_) | MessageError::Trailing { .. }) => {
            // Only a length that the header does not give is refused.
            if b.len() >= 9 {
                let tag_bits = u64::from_le_bytes(b[1..9].try_into().unwrap());
                let want = 9 + 16 * b[0] as u64 + tag_bits.div_ceil(8) + 24;
                prop_assert_ne!(want, b.len() as u64);
            }
        }
        Err(e) => prop_assert!(false, "VERIFY: {e}"),
    }
    match VerifyResult::decode(b) {
        Ok(r) => prop_assert_eq!(r.encode(), b),
        Err(MessageError::Field { field, value, .. }) => {
            prop_assert_eq!(field, "code");
            prop_assert!(value > 3);
        }
        Err(MessageError::Truncated(_)) => {
            prop_assert!(b.is_empty() || (b[0] == 1 && b.len() < 9))
        }
        Err(MessageError::Trailing { .. }) => prop_assert!(b[0] != 1 && b.len() > 1),
        Err(e) => prop_assert!(false, "VERIFY_RESULT: {e}"),
    }
    prop_assert_eq!(decode_block_ack(b).is_ok(), b == BLOCK_ACK);
    Ok(())
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
        room in any::<bool>(),
        muts in prop::collection::vec(arb_mutation(), 0..3),
    ) {
        // The wire form written from the spec: committed u64, pending block
        // u64 (u64::MAX: none, then 0 keys), keys u32, room u8 (0 or 1).
        let mut m = c.to_le_bytes().to_vec();
        let (p, n) = pending.unwrap_or((u64::MAX, 0));
        m.extend_from_slice(&p.to_le_bytes());
        m.extend_from_slice(&n.to_le_bytes());
        m.push(u8::from(room));
        let want = Sync { committed: c, pending, room };
        prop_assert_eq!(parse_sync(&m), Some(want));
        prop_assert_eq!(want.encode(), m.clone());
        let b = mutate(m, &muts);
        match parse_sync(&b) {
            // Only canonical encodings decode.
            Some(s) => prop_assert_eq!(s.encode(), b),
            None => prop_assert!(
                b.len() != 21
                    || b[20] > 1
                    || (b[8..16] == u64::MAX.to_le_bytes() && b[16..20] != [0; 4]),
                "refused a well-formed SYNC {b:?}"
            ),
        }
    }

    #[test]
    fn sync_done_payloads_decode_or_are_refused(
        b in prop::collection::vec(any::<u8>(), 0..12),
    ) {
        match parse_sync_done(&b) {
            Some((c, flags)) => {
                prop_assert_eq!(b.len(), 9);
                prop_assert_eq!(&b[..8], &c.to_le_bytes()[..]);
                prop_assert!(flags <= 3);
                prop_assert_eq!(b[8], flags);
            }
            None => prop_assert!(b.len() != 9 || b[8] > 3),
        }
    }

    #[test]
    fn block_messages_decode_exactly_or_are_refused_with_the_reason(
        wire in arb_block_message(),
        muts in prop::collection::vec(arb_mutation(), 0..4),
        raw in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        check_block_decoders(&wire)?;
        check_block_decoders(&mutate(wire, &muts))?;
        check_block_decoders(&raw)?;
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
