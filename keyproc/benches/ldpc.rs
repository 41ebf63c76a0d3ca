// SPDX-License-Identifier: MIT OR Apache-2.0
//! Cascade (option 8) and blind LDPC side by side: efficiency f =
//! leak / (n h(QBER)), frame (block) error rate, round trips and Mbit/s of
//! reconciled key per core (both parties in one thread), at n = 1e5 and
//! 1e6 and QBER 1, 2, 3, 5, 8 %. Errors are Bernoulli(QBER).
//! `cargo bench -p qkd-keyproc --bench ldpc` (LDPC_BENCH_BLOCKS = blocks
//! per case for the f / FER columns, default 4).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qkd_keyproc::ldpc::{Ldpc, LdpcConfig, LdpcResponder};
use qkd_keyproc::reconcile::{binary_entropy, LocalPeer, Reconciler};
use qkd_keyproc::{BitVec, Cascade, CascadeConfig, CascadeResponder};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::time::Duration;

fn noisy_pair(rng: &mut ChaCha8Rng, n: usize, q: f64) -> (BitVec, BitVec) {
    let alice = BitVec::random(rng, n);
    let mut bob = alice.clone();
    for i in 0..n {
        if (rng.next_u64() as f64) < q * u64::MAX as f64 {
            bob.flip(i);
        }
    }
    (alice, bob)
}

#[allow(clippy::large_enum_variant)]
enum Side {
    Cascade(Cascade, LocalPeer<CascadeResponder>),
    Ldpc(Ldpc, LocalPeer<LdpcResponder>),
}

impl Side {
    fn new(kind: &str) -> Self {
        match kind {
            "cascade" => Side::Cascade(
                Cascade::new(CascadeConfig::option8(), [0x42; 32]),
                LocalPeer {
                    responder: CascadeResponder::new(BitVec::zeros(0)),
                },
            ),
            _ => Side::Ldpc(
                Ldpc::new(LdpcConfig::default()),
                LocalPeer {
                    responder: LdpcResponder::with_seed(BitVec::zeros(0), [0x43; 32]),
                },
            ),
        }
    }
    /// Reconcile one pair: Some((leak, round trips)) or None on a reported failure.
    fn run(&mut self, alice: &BitVec, bob: &mut BitVec, q: f64) -> Option<(u64, u32)> {
        let r = match self {
            Side::Cascade(c, p) => {
                p.responder.reset(alice.clone());
                c.reconcile(bob, q, p)
            }
            Side::Ldpc(c, p) => {
                p.responder.reset(alice.clone());
                c.reconcile(bob, q, p)
            }
        };
        r.ok().map(|r| (r.leaked.get(), r.round_trips))
    }
}

fn bench(c: &mut Criterion) {
    let blocks: usize = std::env::var("LDPC_BENCH_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    println!("| kind | n | QBER | f | block errors | round trips |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for &n in &[100_000usize, 1_000_000] {
        for &q in &[0.01f64, 0.02, 0.03, 0.05, 0.08] {
            for kind in ["cascade", "ldpc"] {
                let mut rng = ChaCha8Rng::seed_from_u64(n as u64 ^ q.to_bits());
                let pairs: Vec<(BitVec, BitVec)> =
                    (0..blocks).map(|_| noisy_pair(&mut rng, n, q)).collect();
                let mut side = Side::new(kind);
                let (mut leak, mut rts, mut errs, mut ok) = (0u64, 0u64, 0usize, 0usize);
                for (a, b) in &pairs {
                    let mut bob = b.clone();
                    match side.run(a, &mut bob, q) {
                        Some((l, r)) if &bob == a => {
                            leak += l;
                            rts += u64::from(r);
                            ok += 1;
                        }
                        _ => errs += 1,
                    }
                }
                println!(
                    "| {kind} | {n} | {q} | {:.3} | {errs}/{blocks} | {:.1} |",
                    leak as f64 / (ok.max(1) * n) as f64 / binary_entropy(q),
                    rts as f64 / ok.max(1) as f64
                );
                g.throughput(Throughput::Elements(n as u64));
                let mut i = 0usize;
                g.bench_function(
                    BenchmarkId::new(format!("{kind}/n={n}"), format!("qber={q}")),
                    |bch| {
                        bch.iter(|| {
                            let (a, b) = &pairs[i % pairs.len()];
                            i += 1;
                            let mut bob = b.clone();
                            side.run(a, &mut bob, q)
                        })
                    },
                );
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
