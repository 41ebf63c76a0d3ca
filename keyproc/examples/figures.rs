// SPDX-License-Identifier: MIT OR Apache-2.0
//! Benchmark figures measured in *thread CPU time* (CLOCK_THREAD_CPUTIME_ID),
//! so that they stay meaningful on a shared, overloaded machine where
//! criterion's wall-clock numbers are not. Prints medians.
//! Run: `cargo run -p qkd-keyproc --release --example figures`.

use qkd_keyproc::auth::wc_tag;
use qkd_keyproc::privacy::ToeplitzHasher;
use qkd_keyproc::reconcile::binary_entropy;
use qkd_keyproc::verify::poly_hash;
use qkd_keyproc::{BitVec, Cascade, CascadeConfig, InMemoryPeer};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

fn cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the valid timespec we pass.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime failed");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

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

fn main() {
    let which: Vec<String> = std::env::args().skip(1).collect();
    let want = |s: &str| which.is_empty() || which.iter().any(|w| w == s);
    if want("cascade") {
        let t0 = cpu_s();
        let sh = qkd_keyproc::cascade::Shuffle::new(&[1; 32], 1, 1_000_000);
        println!(
            "shuffle generation n=1e6: {:.1} ms CPU per pass (perm + inverse)",
            (cpu_s() - t0) * 1e3
        );
        drop(sh);
        for config in [CascadeConfig::option7(), CascadeConfig::option8()] {
            for &n in &[100_000usize, 1_000_000] {
                for &q in &[0.01f64, 0.02, 0.05] {
                    let blocks = if n == 100_000 { 21 } else { 5 };
                    let mut rng = ChaCha8Rng::seed_from_u64(n as u64 ^ q.to_bits());
                    let mut cascade = Cascade::new(config, [0x42; 32]);
                    let mut peer = InMemoryPeer::new(BitVec::zeros(n));
                    // Warm-up block fills both shuffle caches.
                    let (a, mut b) = noisy_pair(&mut rng, n, q);
                    peer.responder.reset(a);
                    cascade.correct(&mut b, q, &mut peer).expect("cascade");
                    let (mut times, mut fsum, mut rts, mut fe) = (Vec::new(), 0.0, 0u64, 0);
                    for _ in 0..blocks {
                        let (a, mut b) = noisy_pair(&mut rng, n, q);
                        peer.responder.reset(a.clone());
                        let t0 = cpu_s();
                        let r = cascade.correct(&mut b, q, &mut peer).expect("cascade");
                        times.push(cpu_s() - t0);
                        fsum += r.leaked.get() as f64 / (n as f64 * binary_entropy(q));
                        rts += u64::from(r.round_trips);
                        fe += usize::from(b != a);
                    }
                    let t = median(times);
                    println!(
                        "cascade {:16} n={n:>8} Q={q:.2}: {:7.2} Mbit/s (median CPU {:.1} ms), f = {:.4}, round trips {:.0}, frame errors {fe}/{blocks}",
                        config.name(),
                        n as f64 / t / 1e6,
                        t * 1e3,
                        fsum / blocks as f64,
                        rts as f64 / blocks as f64
                    );
                }
            }
        }
    }
    if want("privacy") {
        for &(n, reps) in &[(1_000_000usize, 7), (10_000_000, 3)] {
            let m = n / 2;
            let mut rng = ChaCha8Rng::seed_from_u64(n as u64);
            let seed = BitVec::random(&mut rng, n + m - 1);
            let x = BitVec::random(&mut rng, n);
            let t0 = cpu_s();
            let mut h = ToeplitzHasher::new(&seed, n, m).expect("hasher");
            let setup = cpu_s() - t0;
            let mut times = Vec::new();
            for _ in 0..reps {
                let t0 = cpu_s();
                std::hint::black_box(h.hash(&x).expect("hash"));
                times.push(cpu_s() - t0);
            }
            let t = median(times);
            println!(
                "toeplitz n={n:>9} m={m:>8} fft_len={}: {:6.2} Mbit/s input (median CPU {:.1} ms; seed spectrum setup {:.1} ms), max rounding error {:.2e}",
                h.fft_len(),
                n as f64 / t / 1e6,
                t * 1e3,
                setup * 1e3,
                h.last_max_error()
            );
        }
    }
    if want("mac") {
        let msg = vec![0x5au8; 16 << 20];
        let mut times = Vec::new();
        for _ in 0..7 {
            let t0 = cpu_s();
            std::hint::black_box(wc_tag(&[7; 16], &[9; 16], 3, 42, &msg));
            times.push(cpu_s() - t0);
        }
        let t = median(times);
        println!(
            "wegman-carter MAC 16 MiB: {:.2} GB/s (median CPU {:.2} ms)",
            msg.len() as f64 / t / 1e9,
            t * 1e3
        );
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let key = BitVec::random(&mut rng, 8 * (16 << 20));
        let mut times = Vec::new();
        for _ in 0..7 {
            let t0 = cpu_s();
            std::hint::black_box(poly_hash(&[7; 16], &key));
            times.push(cpu_s() - t0);
        }
        let t = median(times);
        println!(
            "verification hash 16 MiB: {:.2} GB/s (median CPU {:.2} ms)",
            (16 << 20) as f64 / t / 1e9,
            t * 1e3
        );
    }
}
