// SPDX-License-Identifier: MIT OR Apache-2.0
//! Wegman-Carter MAC (POLYVAL + one-time pad) and verification-hash
//! throughput in bytes/s. Target >= 1 GB/s (issue 6).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qkd_keyproc::auth::wc_tag;
use qkd_keyproc::verify::poly_hash;
use qkd_keyproc::BitVec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("mac");
    let msg = vec![0x5au8; 1 << 20];
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("wegman_carter_1MiB", |b| {
        b.iter(|| wc_tag(&[7; 16], &[9; 16], 3, 42, &msg))
    });
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let key = BitVec::random(&mut rng, 8 << 20);
    g.bench_function("verify_hash_1MiB", |b| b.iter(|| poly_hash(&[7; 16], &key)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
