// SPDX-License-Identifier: MIT OR Apache-2.0
//! Toeplitz privacy amplification throughput (input Mbit/s), seed spectrum
//! precomputed, output m = n/2. Targets: >= 25 Mbit/s at n = 1e6 and
//! >= 12 Mbit/s at n = 1e7 (issue 6).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qkd_keyproc::privacy::ToeplitzHasher;
use qkd_keyproc::BitVec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("privacy/toeplitz_fft");
    g.sample_size(10);
    for &n in &[1_000_000usize, 10_000_000] {
        let m = n / 2;
        let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
        let seed = BitVec::random(&mut rng, n + m - 1);
        let x = BitVec::random(&mut rng, n);
        let mut h = ToeplitzHasher::new(&seed, n, m).unwrap();
        println!(
            "toeplitz n={n} m={m}: fft_len = {}, chunks = {}",
            h.fft_len(),
            h.chunk_count()
        );
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(BenchmarkId::new("n", n), |b| b.iter(|| h.hash(&x).unwrap()));
        println!(
            "toeplitz n={n}: max rounding error {:.3e}",
            h.last_max_error()
        );
    }
    g.finish();

    // Moving to a new block's seed: a fresh hasher (plans, buffers and the
    // seed spectrum) against `reseed` of a session's hasher (the seed
    // spectrum only), at a block's n and a typical secret length.
    let mut g = c.benchmark_group("privacy/toeplitz_new_seed");
    g.sample_size(10);
    let (n, m) = (1_000_000usize, 400_000usize);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let seeds = [
        BitVec::random(&mut rng, n + m - 1),
        BitVec::random(&mut rng, n + m - 1),
    ];
    g.bench_function("fresh_hasher", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            ToeplitzHasher::new(&seeds[i % 2], n, m).unwrap()
        })
    });
    let mut h = ToeplitzHasher::new(&seeds[0], n, m).unwrap();
    g.bench_function("reseed", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            h.reseed(&seeds[i % 2], n, m).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
