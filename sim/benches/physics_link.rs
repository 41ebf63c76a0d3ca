// SPDX-License-Identifier: MIT OR Apache-2.0
//! Simulated pulses (slots) per second of the fast link (`sim:`), one core.
//!
//! Two measurements per distance: wall time (criterion's default) and the
//! thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), which is what "one core"
//! means on a shared machine. Throughput is in slots (pulses).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use qkd_sim::physics::{FastLink, LinkParams};
use std::time::Duration;

const SLOTS: u64 = 1 << 26;

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn link(km: f64) -> FastLink {
    let mut p = LinkParams::default();
    p.channel.length_km = km;
    FastLink::new(p).expect("valid default link")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fast_link");
    g.throughput(Throughput::Elements(SLOTS));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    for km in [0.0, 50.0, 100.0] {
        g.bench_with_input(BenchmarkId::new("wall", km), &km, |b, &km| {
            let mut l = link(km);
            b.iter(|| {
                let end = l.slots() + SLOTS;
                l.run_until(end);
                l.take_output()
            })
        });
        g.bench_with_input(BenchmarkId::new("cpu", km), &km, |b, &km| {
            let mut l = link(km);
            b.iter_custom(|iters| {
                let t0 = thread_cpu_time();
                for _ in 0..iters {
                    let end = l.slots() + SLOTS;
                    l.run_until(end);
                    std::hint::black_box(l.take_output());
                }
                thread_cpu_time() - t0
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
