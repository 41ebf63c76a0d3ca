// SPDX-License-Identifier: MIT OR Apache-2.0
//! End-to-end tests of the block pipeline (issue 6) on synthetic record streams.
//!
//! ```text
//!  synthetic source ──ALICE_SYMBOLS──▶ AlicePipeline ◀─┐ AuthChannel (Wegman-Carter)
//!        │ (intensity, basis, bit      (thread A)       │   over InProcChannel
//!        │  per slot, Lim's p_k)                        │   [optional Tamper in between]
//!        └──DETECTION (D_k, QBER)───▶ BobPipeline ◀────┘
//!                                     (thread B)
//! ```
//! Checks: identical keys at both ends; 10 % bit flips abort; tampered
//! traffic aborts; blocks below the needed size report NotEnoughData.

mod synthetic;

use qkd_abi::records::SLOT_BITS;
use qkd_host::config::Reconciliation;
use qkd_host::pipeline::{random_psk, AbortReason, AlicePipeline, BlockOutcome, BobPipeline};
use qkd_keyproc::auth::{AuthChannel, KeyPool, Role};
use qkd_keyproc::channel::{ChannelError, ClassicalChannel, Frame, InProcChannel};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::time::Duration;
use synthetic::{config, link, seed_of};

/// Flips one payload byte of the `target`-th frame sent through it.
struct Tamper<C> {
    inner: C,
    sent: usize,
    target: usize,
}

impl<C: ClassicalChannel> ClassicalChannel for Tamper<C> {
    fn send(&mut self, frame: &Frame) -> Result<(), ChannelError> {
        let mut f = frame.clone();
        if self.sent == self.target && !f.payload.is_empty() {
            let i = f.payload.len() / 2;
            f.payload[i] ^= 0x01;
        }
        self.sent += 1;
        self.inner.send(&f)
    }
    fn recv(&mut self, timeout: Duration) -> Result<Frame, ChannelError> {
        self.inner.recv(timeout)
    }
}

/// Run `blocks` rounds on both ends in two threads; returns each side's
/// outcomes and keys (as bytes).
#[allow(clippy::type_complexity)]
fn run<CA, CB>(
    mut alice: AlicePipeline<CA>,
    mut bob: BobPipeline<CB>,
    blocks: usize,
) -> (
    (Vec<BlockOutcome>, Vec<Vec<u8>>),
    (Vec<BlockOutcome>, Vec<Vec<u8>>),
)
where
    CA: ClassicalChannel + Send + 'static,
    CB: ClassicalChannel + Send + 'static,
{
    let ta = std::thread::spawn(move || {
        let out: Vec<BlockOutcome> = (0..blocks).map(|_| alice.run_block()).collect();
        let mut keys = vec![];
        while let Some((_, k)) = alice.keys().pop() {
            keys.push(k.to_bytes().to_vec());
        }
        (out, keys)
    });
    let tb = std::thread::spawn(move || {
        let out: Vec<BlockOutcome> = (0..blocks).map(|_| bob.run_block()).collect();
        let mut keys = vec![];
        while let Some((_, k)) = bob.keys().pop() {
            keys.push(k.to_bytes().to_vec());
        }
        (out, keys)
    });
    (
        ta.join().expect("alice thread"),
        tb.join().expect("bob thread"),
    )
}

fn pipelines<CA: ClassicalChannel, CB: ClassicalChannel>(
    name: &str,
    block_bits: u64,
    ca: CA,
    cb: CB,
) -> (AlicePipeline<CA>, BobPipeline<CB>) {
    let psk = random_psk(seed_of(name), 1 << 16);
    let pa = KeyPool::bootstrap(&psk, Role::Initiator).unwrap();
    let pb = KeyPool::bootstrap(&psk, Role::Responder).unwrap();
    let cfg = config(block_bits, seed_of(name));
    (
        AlicePipeline::new(cfg.clone(), AuthChannel::new_deferred(ca, pa)),
        BobPipeline::new(cfg, AuthChannel::new_deferred(cb, pb)),
    )
}

#[test]
fn two_blocks_give_identical_keys() {
    let name = "two_blocks_give_identical_keys";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    let (mut alice, mut bob) = pipelines(name, 200_000, ca, cb);
    // Start near an epoch boundary so that slot reconstruction is exercised.
    let start = (3u64 << SLOT_BITS) - 1_000_000;
    let (ar, br) = link(0.02).generate(&mut rng, start, 15_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 3);
    for (a, b) in ao.iter().zip(&bo) {
        let (BlockOutcome::Key(sa), BlockOutcome::Key(sb)) = (a, b) else {
            if matches!(a, BlockOutcome::NotEnoughData { .. })
                && matches!(b, BlockOutcome::NotEnoughData { .. })
            {
                continue;
            }
            panic!("alice {a:?}\nbob {b:?}");
        };
        println!("block summary (Alice): {sa:?}");
        assert_eq!(sa.secret_bits, sb.secret_bits);
        assert_eq!(sa.leak_ec_bits, sb.leak_ec_bits);
        assert_eq!(
            (sa.n_z, sa.n_x, sa.m_x, sa.m_z),
            (sb.n_z, sb.n_x, sb.m_x, sb.m_z)
        );
        assert_eq!(sa.n_z.iter().sum::<u64>(), 200_000);
        let qz = sa.m_z.unwrap().iter().sum::<u64>() as f64 / 200_000.0;
        assert!((0.015..0.025).contains(&qz), "QBER_Z {qz}");
        assert!(sa.secret_bits > 10_000, "{sa:?}");
        assert_eq!(sa.delivered_bits + sa.auth_replenished_bits, sa.secret_bits);
        let f = sa.leak_ec_bits as f64 / (200_000.0 * h(qz));
        assert!(f < 1.5, "EC efficiency {f}");
    }
    assert_eq!(
        ao.iter()
            .filter(|o| matches!(o, BlockOutcome::Key(_)))
            .count(),
        2,
        "{ao:?}"
    );
    assert!(matches!(ao[2], BlockOutcome::NotEnoughData { .. }));
    assert!(!ak.is_empty());
    assert_eq!(ak, bk, "keys differ");
    // Keys of different blocks are not equal (fresh randomness).
    assert_ne!(ak[0], ak[1]);
}

#[test]
fn reconciliation_mismatch_ends_the_session_at_both_ends() {
    let name = "reconciliation_mismatch_ends_the_session_at_both_ends";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let psk = random_psk(seed_of(name), 1 << 16);
    let pa = KeyPool::bootstrap(&psk, Role::Initiator).unwrap();
    let pb = KeyPool::bootstrap(&psk, Role::Responder).unwrap();
    let mut cfg_a = config(200_000, seed_of(name));
    cfg_a.reconciliation = Reconciliation::Cascade;
    let mut cfg_b = cfg_a.clone();
    cfg_b.reconciliation = Reconciliation::Ldpc;
    let (ca, cb) = InProcChannel::pair();
    let mut alice = AlicePipeline::new(cfg_a, AuthChannel::new_deferred(ca, pa));
    let mut bob = BobPipeline::new(cfg_b, AuthChannel::new_deferred(cb, pb));
    let (ar, br) = link(0.02).generate(&mut rng, 0, 15_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 2);
    assert!(ak.is_empty() && bk.is_empty());
    for (who, o) in [("alice", &ao), ("bob", &bo)] {
        let reason = o[0].abort_reason().cloned();
        let Some(AbortReason::ReconcilerMismatch { alice, bob }) = &reason else {
            panic!("{who}: {reason:?}");
        };
        assert_eq!((alice.as_str(), bob.as_str()), ("cascade", "ldpc"));
        assert!(reason
            .unwrap()
            .to_string()
            .contains("postprocessing.reconciliation"));
        // The session is over: the next block does not start.
        assert_eq!(
            o[1].abort_reason(),
            Some(&AbortReason::SessionBroken),
            "{who}"
        );
    }
}

fn h(x: f64) -> f64 {
    -x * x.log2() - (1.0 - x) * (1.0 - x).log2()
}

#[test]
fn ten_percent_bit_flips_abort() {
    let name = "ten_percent_bit_flips_abort";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    let (mut alice, mut bob) = pipelines(name, 200_000, ca, cb);
    let (ar, br) = link(0.10).generate(&mut rng, 0, 8_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 1);
    let (BlockOutcome::Aborted(sa), BlockOutcome::Aborted(sb)) = (&ao[0], &bo[0]) else {
        panic!("expected aborts: {ao:?} {bo:?}");
    };
    assert!(ak.is_empty() && bk.is_empty());
    let qx = sa.m_x.iter().sum::<u64>() as f64 / sa.n_x.iter().sum::<u64>() as f64;
    assert!((0.09..0.11).contains(&qx), "{qx}");
    for s in [sa, sb] {
        assert!(
            matches!(s.abort, Some(AbortReason::Estimation(_))),
            "abort must come from the finite-key bound: {:?}",
            s.abort
        );
    }
}

#[test]
fn tampered_traffic_aborts() {
    let name = "tampered_traffic_aborts";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    // Bob's 3rd frame: announce (0), test bits (1), first Cascade request (2).
    let cb = Tamper {
        inner: cb,
        sent: 0,
        target: 2,
    };
    let (mut alice, mut bob) = pipelines(name, 100_000, ca, cb);
    let (ar, br) = link(0.02).generate(&mut rng, 0, 4_000_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, ak), (bo, bk)) = run(alice, bob, 1);
    assert!(ak.is_empty() && bk.is_empty());
    let ra = ao[0].abort_reason().cloned();
    let rb = bo[0].abort_reason().cloned();
    assert!(
        matches!(&ra, Some(AbortReason::Channel(m)) if m.contains("MAC mismatch")),
        "alice: {ra:?}"
    );
    assert!(matches!(rb, Some(AbortReason::Channel(_))), "bob: {rb:?}");
}

#[test]
fn too_little_data_is_not_an_abort() {
    let name = "too_little_data_is_not_an_abort";
    let mut rng = ChaCha20Rng::seed_from_u64(seed_of(name));
    let (ca, cb) = InProcChannel::pair();
    let (mut alice, mut bob) = pipelines(name, 100_000, ca, cb);
    let (ar, br) = link(0.02).generate(&mut rng, 0, 200_000);
    alice.push_records(&ar).unwrap();
    bob.push_records(&br);
    let ((ao, _), (bo, _)) = run(alice, bob, 2);
    for o in ao.iter().chain(&bo) {
        let BlockOutcome::NotEnoughData { z_bits_waiting } = o else {
            panic!("{o:?}")
        };
        assert!(*z_bits_waiting > 1000 && *z_bits_waiting < 100_000);
    }
}
