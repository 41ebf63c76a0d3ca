// SPDX-License-Identifier: MIT OR Apache-2.0
//! Cascade throughput (Mbit/s of reconciled key, both parties in one thread),
//! with efficiency f and round trips printed per case. Target: f <= 1.06 at
//! >= 10 Mbit/s for QBER 1-5 %, 1e5-1e6 bits (issue 6).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qkd_keyproc::reconcile::binary_entropy;
use qkd_keyproc::{BitVec, Cascade, CascadeConfig, InMemoryPeer};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

fn noisy_pair(rng: &mut ChaCha8Rng, n: usize, qber: f64) -> (BitVec, BitVec) {
    let alice = BitVec::random(rng, n);
    let mut bob = alice.clone();
    let errors = (qber * n as f64).round() as usize;
    let mut placed = 0;
    while placed < errors {
        let i = (rng.next_u64() % n as u64) as usize;
        if bob.get(i) == alice.get(i) {
            bob.flip(i);
            placed += 1;
        }
    }
    (alice, bob)
}

fn bench(c: &mut Criterion) {
    let config = match std::env::var("CASCADE_VARIANT").as_deref() {
        Ok("option7") => CascadeConfig::option7(),
        _ => CascadeConfig::option8(),
    };
    let mut g = c.benchmark_group(format!("cascade/{}", config.name()));
    g.sample_size(10);
    for &n in &[100_000usize, 1_000_000] {
        for &q in &[0.01f64, 0.02, 0.05] {
            let mut rng = ChaCha8Rng::seed_from_u64(n as u64 ^ q.to_bits());
            // Pre-generate blocks; report mean f and round trips over them.
            let blocks: Vec<(BitVec, BitVec)> =
                (0..8).map(|_| noisy_pair(&mut rng, n, q)).collect();
            let mut cascade = Cascade::new(config, [0x42; 32]);
            let mut peer = InMemoryPeer::new(blocks[0].0.clone());
            let (mut f_sum, mut rt_sum, mut fails) = (0.0, 0u64, 0);
            for (a, b) in &blocks {
                let mut bob = b.clone();
                peer.responder.reset(a.clone());
                let r = cascade.correct(&mut bob, q, &mut peer).unwrap();
                f_sum += r.leaked.get() as f64 / (n as f64 * binary_entropy(q));
                rt_sum += u64::from(r.round_trips);
                fails += usize::from(&bob != a);
            }
            println!(
                "cascade {} n={n} qber={q}: f = {:.4}, round trips = {:.1}, frame errors {fails}/{}",
                config.name(),
                f_sum / blocks.len() as f64,
                rt_sum as f64 / blocks.len() as f64,
                blocks.len()
            );
            g.throughput(Throughput::Elements(n as u64));
            let mut i = 0usize;
            g.bench_function(
                BenchmarkId::new(format!("n={n}"), format!("qber={q}")),
                |bch| {
                    bch.iter(|| {
                        let (a, b) = &blocks[i % blocks.len()];
                        i += 1;
                        let mut bob = b.clone();
                        peer.responder.reset(a.clone());
                        cascade.correct(&mut bob, q, &mut peer).unwrap()
                    })
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
