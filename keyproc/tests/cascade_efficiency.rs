// SPDX-License-Identifier: MIT OR Apache-2.0
//! Cascade efficiency and frame error rate over many random blocks
//! (issue 6 item 4: f = leaked / (n h(QBER)) <= 1.06 at QBER 1-5 % for
//! 1e5-1e6-bit blocks, FER < 1e-3).
//!
//! ```text
//!   ChaCha8(test name) -> Alice key -> flip exactly round(Q n) bits -> Bob key
//!   Bob: Cascade(option8) --ParityRequest--> InMemoryPeer(Alice) --ParityReply--> Bob
//!   check: Bob == Alice (frame error otherwise), leaked bits == responder's count,
//!          mean f over blocks <= bound
//! ```
//! The fast variant runs in the normal suite; the full sample is `#[ignore]`d
//! (run with `cargo test -p qkd-keyproc --release --test cascade_efficiency -- --ignored`).

use qkd_keyproc::reconcile::binary_entropy;
use qkd_keyproc::{BitVec, Cascade, CascadeConfig, InMemoryPeer};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

fn seed_from(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

struct Stats {
    mean_f: f64,
    max_f: f64,
    frame_errors: usize,
    blocks: usize,
    mean_round_trips: f64,
}

fn run(name: &str, config: CascadeConfig, n: usize, qber: f64, blocks: usize) -> Stats {
    let mut rng = ChaCha8Rng::seed_from_u64(seed_from(name));
    let mut cascade = Cascade::new(config, [0x11; 32]);
    let mut peer = InMemoryPeer::new(BitVec::zeros(n));
    let (mut fsum, mut fmax, mut fe, mut rts) = (0.0, 0.0f64, 0, 0u64);
    let errors = (qber * n as f64).round() as usize;
    for _ in 0..blocks {
        let alice = BitVec::random(&mut rng, n);
        let mut bob = alice.clone();
        let mut placed = 0;
        while placed < errors {
            let i = (rng.next_u64() % n as u64) as usize;
            if bob.get(i) == alice.get(i) {
                bob.flip(i);
                placed += 1;
            }
        }
        peer.responder.reset(alice.clone());
        let r = cascade
            .correct(&mut bob, qber, &mut peer)
            .expect("cascade runs");
        assert_eq!(
            r.leaked,
            qkd_keyproc::ReconcileResponder::leaked(&peer.responder)
        );
        let f = r.leaked.get() as f64 / (n as f64 * binary_entropy(qber));
        fsum += f;
        fmax = fmax.max(f);
        rts += u64::from(r.round_trips);
        if bob != alice {
            fe += 1;
        }
    }
    let s = Stats {
        mean_f: fsum / blocks as f64,
        max_f: fmax,
        frame_errors: fe,
        blocks,
        mean_round_trips: rts as f64 / blocks as f64,
    };
    eprintln!(
        "{name}: {} n={n} Q={qber}: mean f {:.4}, max f {:.4}, FER {}/{}, round trips {:.1}",
        config.name(),
        s.mean_f,
        s.max_f,
        s.frame_errors,
        s.blocks,
        s.mean_round_trips
    );
    s
}

#[test]
fn cascade_efficiency_fast_sample() {
    for &q in &[0.01, 0.02, 0.05] {
        let s = run(
            &format!("fast_{q}"),
            CascadeConfig::option8(),
            100_000,
            q,
            3,
        );
        assert_eq!(s.frame_errors, 0);
        assert!(s.mean_f <= 1.07, "f {} at Q {q}", s.mean_f);
    }
}

#[test]
#[ignore = "long: ~minutes in release mode"]
fn cascade_efficiency_full_sample() {
    for &n in &[100_000usize, 1_000_000] {
        let blocks = if n == 100_000 { 3000 } else { 100 };
        for &q in &[0.01, 0.02, 0.03, 0.05] {
            let s = run(
                &format!("full_{n}_{q}"),
                CascadeConfig::option8(),
                n,
                q,
                blocks,
            );
            assert!(s.mean_f <= 1.06, "f {} at n {n} Q {q}", s.mean_f);
            // 0 failures in 3000 blocks bounds the FER below 1e-3 at ~95 % confidence.
            assert!((s.frame_errors as f64) / (blocks as f64) < 1e-3);
        }
    }
}
