// SPDX-License-Identifier: MIT OR Apache-2.0
//! Record decoding speed on one core (issue 5 target: >= 500 M records/s):
//! the hot-path DETECTION decoder into a preallocated batch, the full
//! `StreamDecoder` (carry, continuity checks) on the same words, and
//! `qkd_abi::Record::decode` for reference.

mod common;

use common::ThreadCpu;
use criterion::measurement::Measurement;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use qkd_abi::records::Detection;
use qkd_abi::symbol::Basis;
use qkd_abi::Record;
use qkd_driver::fastdec::{decode_detection_words, SlotDetection};
use qkd_driver::stream::{Batch, StreamDecoder};

/// Records per pass: 64 KiB of words, one default Linux pipe buffer.
const N: usize = 1 << 13;

fn words() -> Vec<u64> {
    let mut w = Vec::with_capacity(N);
    let mut slot = 0u64;
    for i in 0..N as u64 {
        slot += 1 + (i * 2_654_435_761 % 7);
        Record::Detection(Detection {
            slot,
            detector: (i % 4) as u8,
            fine_bin: (i % 16) as u8,
            basis: Basis::from_bit(i % 3 == 0),
            invalid: false,
        })
        .encode(&mut w)
        .unwrap();
    }
    w
}

fn bench<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let w = words();
    let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(N as u64));

    let mut out: Vec<SlotDetection> = Vec::with_capacity(N);
    g.bench_function("fastdec_detections_preallocated", |b| {
        b.iter(|| {
            out.clear();
            black_box(decode_detection_words(black_box(&w), 0, &mut out))
        })
    });

    let mut dec = StreamDecoder::new(bytes.len());
    let mut batch = Batch::default();
    batch.detections.reserve(N);
    g.bench_function("stream_decoder_detections", |b| {
        b.iter(|| {
            batch.clear();
            // Fresh EPOCH-less restart is not needed: slots only need to be
            // monotonic within one pass; a new pass reports one DetectionOrder
            // entry, which is part of the measured work.
            dec.feed(black_box(&bytes), &mut batch);
            black_box(batch.detections.len())
        })
    });

    g.bench_function("abi_record_decode", |b| {
        b.iter(|| {
            let mut n = 0usize;
            let mut i = 0;
            while i < w.len() {
                let (r, used) = Record::decode(&w[i..]).unwrap();
                black_box(&r);
                i += used;
                n += 1;
            }
            n
        })
    });
    g.finish();
}

fn wall(c: &mut Criterion) {
    bench(c, "decode_wall");
}

fn cpu(c: &mut Criterion<ThreadCpu>) {
    bench(c, "decode_thread_cpu");
}

criterion_group!(wall_benches, wall);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = cpu
}
criterion_main!(wall_benches, cpu_benches);
