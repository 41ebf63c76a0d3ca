// SPDX-License-Identifier: MIT OR Apache-2.0
//! Fuzz the authenticated channel (`qkd_keyproc::auth::AuthChannel`) as a
//! man in the middle: genuine traffic of one end, in per-message and in
//! transcript (checkpoint) mode, is intercepted as raw frames, then bits
//! are flipped, frames cut, extended, replaced by arbitrary bytes,
//! retyped, replayed, swapped or dropped before the other end receives
//! them. The receiver never panics; it returns exactly the genuine
//! messages while nothing was changed, a typed error at the first change
//! (per-message mode) and refuses everything after it; in transcript mode
//! no checkpoint verifies once anything before it was changed. Also: tag
//! checks at arbitrary pad positions, and pool import of arbitrary bytes.
//!
//! `PROPTEST_CASES=1000000 cargo test --release -p qkd-keyproc --test fuzz_auth`

use proptest::prelude::*;
use qkd_keyproc::auth::{AuthChannel, AuthError, KeyPool, Role, MSG_CHECKPOINT, TAG_LEN};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame, InProcChannel};
use qkd_keyproc::key::SecretKey;
use std::time::Duration;

const Z: Duration = Duration::ZERO;

fn psk(seed: u8, pads: usize) -> SecretKey {
    let b: Vec<u8> = (0..16 + 16 * pads)
        .map(|i| (i as u8).wrapping_mul(151).wrapping_add(seed))
        .collect();
    SecretKey::from_bytes(&b)
}

#[derive(Debug, Clone)]
enum Mitm {
    Flip {
        i: usize,
        at: usize,
        bit: u8,
    },
    Cut {
        i: usize,
        len: usize,
    },
    Extend {
        i: usize,
        bytes: Vec<u8>,
    },
    Replace {
        i: usize,
        bytes: Vec<u8>,
    },
    Retype {
        i: usize,
        t: u16,
    },
    /// Insert a copy of frame `j` before position `i`.
    Replay {
        i: usize,
        j: usize,
    },
    Swap {
        i: usize,
        j: usize,
    },
    Drop {
        i: usize,
    },
}

fn arb_mitm() -> impl Strategy<Value = Mitm> {
    let i = any::<usize>();
    prop_oneof![
        3 => (i, any::<usize>(), 0u8..8).prop_map(|(i, at, bit)| Mitm::Flip { i, at, bit }),
        1 => (i, any::<usize>()).prop_map(|(i, len)| Mitm::Cut { i, len }),
        1 => (i, prop::collection::vec(any::<u8>(), 1..20)).prop_map(|(i, bytes)| Mitm::Extend { i, bytes }),
        1 => (i, prop::collection::vec(any::<u8>(), 0..60)).prop_map(|(i, bytes)| Mitm::Replace { i, bytes }),
        1 => (i, prop_oneof![Just(MSG_CHECKPOINT), any::<u16>()]).prop_map(|(i, t)| Mitm::Retype { i, t }),
        1 => (i, any::<usize>()).prop_map(|(i, j)| Mitm::Replay { i, j }),
        1 => (i, any::<usize>()).prop_map(|(i, j)| Mitm::Swap { i, j }),
        1 => i.prop_map(|i| Mitm::Drop { i }),
    ]
}

fn apply(frames: &mut Vec<Vec<u8>>, m: &Mitm) {
    let n = frames.len();
    if n == 0 {
        return;
    }
    match m {
        Mitm::Flip { i, at, bit } => {
            let f = &mut frames[i % n];
            if !f.is_empty() {
                let k = at % f.len();
                f[k] ^= 1 << bit;
            }
        }
        Mitm::Cut { i, len } => {
            let f = &mut frames[i % n];
            let l = len % (f.len() + 1);
            f.truncate(l);
        }
        Mitm::Extend { i, bytes } => frames[i % n].extend_from_slice(bytes),
        Mitm::Replace { i, bytes } => frames[i % n] = bytes.clone(),
        Mitm::Retype { i, t } => {
            let f = &mut frames[i % n];
            if f.len() >= 3 {
                f[1..3].copy_from_slice(&t.to_le_bytes());
            }
        }
        Mitm::Replay { i, j } => {
            let c = frames[j % n].clone();
            frames.insert(i % (n + 1), c);
        }
        Mitm::Swap { i, j } => frames.swap(i % n, j % n),
        Mitm::Drop { i } => {
            frames.remove(i % n);
        }
    }
}

/// One step of the sender's script.
#[derive(Debug, Clone)]
enum Send {
    Msg(u16, Vec<u8>),
    Checkpoint,
}

fn arb_script(transcript: bool) -> impl Strategy<Value = Vec<Send>> {
    let msg = (
        prop_oneof![Just(0u16), 1u16..16, 0u16..0xFFFF],
        prop::collection::vec(any::<u8>(), 0..80),
    )
        .prop_map(|(t, p)| Send::Msg(t, p));
    if transcript {
        prop::collection::vec(prop_oneof![3 => msg, 1 => Just(Send::Checkpoint)], 1..8)
            .prop_map(|mut v| {
                v.push(Send::Checkpoint);
                v
            })
            .boxed()
    } else {
        prop::collection::vec(msg, 1..8).boxed()
    }
}

fn ok_error(e: &ChannelError) -> bool {
    matches!(
        e,
        ChannelError::Frame(_)
            | ChannelError::Auth(
                AuthError::BadMac { .. }
                    | AuthError::Replayed { .. }
                    | AuthError::Reordered { .. }
                    | AuthError::Truncated { .. }
                    | AuthError::PoolExhausted { .. }
            )
    )
}

/// Send the script, intercept, tamper with `mitm`, deliver, receive.
fn run(
    transcript: bool,
    script: &[Send],
    mitm: &[Mitm],
    pads: usize,
    seed: u8,
) -> Result<(), TestCaseError> {
    let k = psk(seed, pads);
    let mk = |c, r| {
        let pool = KeyPool::bootstrap(&k, r).unwrap();
        if transcript {
            AuthChannel::new_deferred(c, pool)
        } else {
            AuthChannel::new(c, pool)
        }
    };
    let (x, mut wire_in) = InProcChannel::pair();
    let (mut wire_out, y) = InProcChannel::pair();
    let mut a = mk(x, Role::Initiator);
    let mut b = mk(y, Role::Responder);
    // Genuine traffic and what each frame is.
    let mut genuine = Vec::new();
    let mut sent = Vec::new();
    for s in script {
        let r = match s {
            Send::Msg(t, p) => a.send(&Frame::new(*t, p.clone())),
            Send::Checkpoint => a.send_checkpoint(),
        };
        match r {
            Ok(()) => {
                genuine.push(wire_in.recv_raw(Z).unwrap());
                sent.push(s.clone());
            }
            // The sender refuses its own reserved type, and runs out of pads.
            Err(ChannelError::UnexpectedType {
                got: MSG_CHECKPOINT,
                ..
            }) => {}
            Err(ChannelError::Auth(AuthError::PoolExhausted { .. })) => break,
            Err(e) => prop_assert!(false, "sender: {e}"),
        }
    }
    let mut wire = genuine.clone();
    for m in mitm {
        apply(&mut wire, m);
    }
    for f in &wire {
        wire_out.send_raw(f.clone()).unwrap();
    }
    let mut failed = false;
    let mut prefix_genuine = true;
    for (j, f) in wire.iter().enumerate() {
        prefix_genuine &= genuine.get(j) == Some(f);
        let got = if transcript {
            b.recv_frame_or_checkpoint(Z)
        } else {
            b.recv(Z).map(Some)
        };
        if failed {
            let poisoned = matches!(got, Err(ChannelError::Auth(AuthError::Poisoned)));
            prop_assert!(poisoned, "after a failure: {got:?}");
            continue;
        }
        match got {
            Ok(r) if prefix_genuine => match (&sent[j], r) {
                (Send::Msg(t, p), Some(fr)) => {
                    prop_assert_eq!(fr, Frame::new(*t, p.clone()));
                }
                (Send::Checkpoint, None) => {}
                (s, r) => prop_assert!(false, "sent {s:?}, received {r:?}"),
            },
            // Transcript mode hands out unverified messages; a changed one
            // must fail at the next checkpoint.
            Ok(Some(_)) if transcript => {}
            Ok(r) => prop_assert!(false, "a changed frame was accepted: {r:?}"),
            Err(e) => {
                prop_assert!(ok_error(&e), "untyped failure {e:?}");
                let exhausted = matches!(e, ChannelError::Auth(AuthError::PoolExhausted { .. }));
                prop_assert!(
                    !prefix_genuine || exhausted,
                    "a genuine frame was refused: {e}"
                );
                if exhausted {
                    break;
                }
                failed = true;
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn per_message_mode_refuses_every_change(
        script in arb_script(false),
        mitm in prop::collection::vec(arb_mitm(), 0..3),
        pads in prop_oneof![1 => 0usize..6, 4 => Just(40usize)],
        seed in any::<u8>(),
    ) {
        run(false, &script, &mitm, pads, seed)?;
    }

    #[test]
    fn transcript_mode_never_verifies_a_changed_transcript(
        script in arb_script(true),
        mitm in prop::collection::vec(arb_mitm(), 0..3),
        pads in prop_oneof![1 => 0usize..6, 4 => Just(40usize)],
        seed in any::<u8>(),
    ) {
        run(true, &script, &mitm, pads, seed)?;
    }

    #[test]
    fn arbitrary_frames_give_typed_errors(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 1..4),
        version_ok in any::<bool>(),
        transcript in any::<bool>(),
    ) {
        let k = psk(3, 8);
        let (mut x, y) = InProcChannel::pair();
        let pool = KeyPool::bootstrap(&k, Role::Responder).unwrap();
        let mut b = if transcript { AuthChannel::new_deferred(y, pool) } else { AuthChannel::new(y, pool) };
        for mut f in frames {
            if version_ok && !f.is_empty() {
                f[0] = 1;
            }
            x.send_raw(f).unwrap();
            match b.recv_frame_or_checkpoint(Z) {
                Ok(None) => prop_assert!(false, "a forged checkpoint verified"),
                // Transcript mode: an unverified message (no tag to check).
                Ok(Some(_)) => prop_assert!(transcript),
                Err(e) => prop_assert!(
                    ok_error(&e) || matches!(e, ChannelError::Auth(AuthError::Poisoned)),
                    "{e:?}"
                ),
            }
        }
    }

    #[test]
    fn tag_checks_at_any_position_never_panic(
        pos in prop_oneof![0u64..20, any::<u64>()],
        t in any::<u16>(),
        body in prop::collection::vec(any::<u8>(), 0..64),
        tag in prop::collection::vec(any::<u8>(), 0..20),
        flip in any::<usize>(),
        pool_bytes in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        let k = psk(9, 10);
        let alice = KeyPool::bootstrap(&k, Role::Initiator).unwrap();
        let bob = KeyPool::bootstrap(&k, Role::Responder).unwrap();
        prop_assert!(bob.verify_at(pos, t, &body, &tag).is_err());
        if let Ok(good) = alice.tag_at(pos, t, &body) {
            prop_assert_eq!(bob.verify_at(pos, t, &body, &good), Ok(()));
            let mut bad = good;
            bad[flip % TAG_LEN] ^= 1 << (flip % 8);
            prop_assert_eq!(bob.verify_at(pos, t, &body, &bad), Err(AuthError::BadMac { seq: pos }));
            prop_assert!(bob.verify_at(pos.wrapping_add(1), t, &body, &good).is_err());
        }
        match KeyPool::import(&pool_bytes) {
            Ok(p) => prop_assert_eq!(&p.export()[..], &pool_bytes[..]),
            Err(e) => {
                let bad_state = matches!(e, AuthError::BadPoolState { .. });
                prop_assert!(bad_state, "{e}");
            }
        }
        let exported = alice.export();
        let back = KeyPool::import(&exported).unwrap();
        prop_assert_eq!(&back.export()[..], &exported[..]);
    }
}
