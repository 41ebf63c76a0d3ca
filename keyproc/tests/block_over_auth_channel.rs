// SPDX-License-Identifier: MIT OR Apache-2.0
//! One key block through every primitive, Alice and Bob in two threads over
//! a Wegman-Carter authenticated channel (TCP on localhost, and in-process).
//!
//! ```text
//!  Alice thread                          Bob thread
//!  serve_reconciliation(responder) <--> Cascade::reconcile(ChannelPeer)
//!  checkpoints (transcript mode)   <-->  checkpoints
//!  VerifyChallenge + tag  ------------>  check + verify (abort on mismatch)
//!  Toeplitz seed          ------------>  ToeplitzHasher
//!  pool.replenish(part of new key)       pool.replenish(same part)
//!  one more authenticated message both ways (pads still in lock-step)
//! ```
//! In-process: per-message MACs; TCP: transcript mode (one pad per checkpoint).
//! Checks: identical final keys, leak accounting equal on both sides,
//! pads consumed in lock-step after replenishing.

use qkd_keyproc::auth::{AuthChannel, KeyPool, Role};
use qkd_keyproc::privacy::ToeplitzHasher;
use qkd_keyproc::reconcile::{serve_reconciliation, ChannelPeer};
use qkd_keyproc::verify::VerifyChallenge;
use qkd_keyproc::{
    BitVec, Cascade, CascadeConfig, CascadeResponder, ClassicalChannel, Frame, InProcChannel,
    Reconciler, SecretKey, TcpChannel,
};
use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};
use std::time::Duration;

const T: Duration = Duration::from_secs(30);
const N: usize = 50_000;
const QBER: f64 = 0.03;
const EPS_COR: f64 = 1e-15;
const MSG_VERIFY: u16 = 0x0301;
const MSG_PA_SEED: u16 = 0x0302;
const MSG_HELLO: u16 = 0x0303;

fn keys(name: &str) -> (BitVec, BitVec, SecretKey) {
    let seed = name
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let alice = BitVec::random(&mut rng, N);
    let mut bob = alice.clone();
    for _ in 0..(QBER * N as f64) as usize {
        bob.flip((rng.next_u64() % N as u64) as usize);
    }
    let mut psk = vec![0u8; 16 + 16 * 64];
    rng.fill_bytes(&mut psk);
    (alice, bob, SecretKey::from_bytes(&psk))
}

fn alice_side<C: ClassicalChannel>(mut ch: AuthChannel<C>, key: BitVec) -> (SecretKey, u64) {
    let mut responder = CascadeResponder::new(key.clone());
    let leaked = serve_reconciliation(&mut ch, &mut responder, T).unwrap();
    // Transcript mode: authenticate both directions of the Cascade exchange
    // (no-ops in per-message mode).
    ch.recv_checkpoint(T).unwrap();
    ch.send_checkpoint().unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let challenge = VerifyChallenge::random(&mut rng, N, EPS_COR).unwrap();
    let mut msg = Vec::new();
    for k in &challenge.hash_keys {
        msg.extend_from_slice(k);
    }
    msg.extend_from_slice(&challenge.tag_bits.to_le_bytes());
    msg.extend_from_slice(&challenge.tag(&key));
    ch.send(&Frame::new(MSG_VERIFY, msg)).unwrap();
    let m = N / 4;
    let seed = BitVec::random(&mut rng, N + m - 1);
    ch.send(&Frame::new(MSG_PA_SEED, seed.to_bytes())).unwrap();
    ch.send_checkpoint().unwrap();
    let out = ToeplitzHasher::new(&seed, N, m)
        .unwrap()
        .hash(&key)
        .unwrap();
    let secret = SecretKey::new(out);
    ch.pool_mut()
        .replenish(&SecretKey::new(secret.bits().prefix(1024).unwrap()));
    ch.send(&Frame::new(MSG_HELLO, b"after replenish".to_vec()))
        .unwrap();
    assert_eq!(ch.recv_type(MSG_HELLO, T).unwrap(), b"ack".to_vec());
    (secret, leaked.get() + u64::from(challenge.tag_bits))
}

fn bob_side<C: ClassicalChannel>(ch: AuthChannel<C>, mut key: BitVec) -> (SecretKey, u64) {
    let mut peer = ChannelPeer {
        channel: ch,
        timeout: T,
    };
    let mut cascade = Cascade::new(CascadeConfig::option8(), [9; 32]);
    let report = cascade.reconcile(&mut key, QBER, &mut peer).unwrap();
    let mut ch = peer.channel;
    ch.send_checkpoint().unwrap();
    ch.recv_checkpoint(T).unwrap();
    let msg = ch.recv_type(MSG_VERIFY, T).unwrap();
    let hash_keys = vec![msg[..16].try_into().unwrap()];
    let tag_bits = u32::from_le_bytes(msg[16..20].try_into().unwrap());
    let challenge = VerifyChallenge {
        hash_keys,
        tag_bits,
    };
    challenge.check(N, EPS_COR).unwrap();
    assert!(
        challenge.verify(&key, &msg[20..]).unwrap(),
        "keys differ after Cascade"
    );
    let m = N / 4;
    let seed_bytes = ch.recv_type(MSG_PA_SEED, T).unwrap();
    let seed = BitVec::from_bytes(&seed_bytes, N + m - 1).unwrap();
    ch.recv_checkpoint(T).unwrap();
    assert_eq!(ch.unverified_received(), 0);
    let out = ToeplitzHasher::new(&seed, N, m)
        .unwrap()
        .hash(&key)
        .unwrap();
    let secret = SecretKey::new(out);
    ch.pool_mut()
        .replenish(&SecretKey::new(secret.bits().prefix(1024).unwrap()));
    assert_eq!(
        ch.recv_type(MSG_HELLO, T).unwrap(),
        b"after replenish".to_vec()
    );
    ch.send(&Frame::new(MSG_HELLO, b"ack".to_vec())).unwrap();
    (secret, report.leaked.get() + u64::from(tag_bits))
}

fn check(name: &str, a: (SecretKey, u64), b: (SecretKey, u64)) {
    assert_eq!(a.0, b.0, "{name}: final keys differ");
    assert_eq!(a.1, b.1, "{name}: leak accounting differs");
    assert_eq!(a.0.len_bits().get(), (N / 4) as u64);
}

#[test]
fn block_over_inproc_auth_channel() {
    let (alice, bob, psk) = keys("block_over_inproc_auth_channel");
    let (ca, cb) = InProcChannel::pair();
    let a = AuthChannel::new(ca, KeyPool::bootstrap(&psk, Role::Initiator).unwrap());
    let b = AuthChannel::new(cb, KeyPool::bootstrap(&psk, Role::Responder).unwrap());
    // Pads needed: ~one per message; replenish after the block. The PSK holds
    // 32 pads per direction, less than Cascade's round trips, so give more.
    let (mut a, mut b) = (a, b);
    let extra = SecretKey::from_bytes(&[0x33; 16 * 4000]);
    a.pool_mut().replenish(&extra);
    b.pool_mut().replenish(&extra);
    let ha = std::thread::spawn(move || alice_side(a, alice));
    let rb = bob_side(b, bob);
    check("inproc", ha.join().unwrap(), rb);
}

/// Transcript (deferred) mode over TCP: the 32 pads per direction of the
/// PSK suffice for the whole block (one pad per checkpoint).
#[test]
fn block_over_tcp_auth_channel_transcript_mode() {
    let (alice, bob, psk) = keys("block_over_tcp_auth_channel");
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let psk2 = psk.clone();
    let ha = std::thread::spawn(move || {
        let c = TcpChannel::connect(addr, T).unwrap();
        let a = AuthChannel::new_deferred(c, KeyPool::bootstrap(&psk2, Role::Initiator).unwrap());
        alice_side(a, alice)
    });
    let (s, _) = l.accept().unwrap();
    let b = AuthChannel::new_deferred(
        TcpChannel::new(s).unwrap(),
        KeyPool::bootstrap(&psk, Role::Responder).unwrap(),
    );
    let rb = bob_side(b, bob);
    check("tcp", ha.join().unwrap(), rb);
}
