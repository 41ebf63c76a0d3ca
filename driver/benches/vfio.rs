// SPDX-License-Identifier: MIT OR Apache-2.0
//! Records/s and bytes/s through the `vfio:` path (the XDMA C2H descriptor
//! ring driven by `vfio::c2h::C2hStream`) against the engine model of
//! tests/xdma_model, beside the `xdma:` path (`XdmaStream` on the FIFO
//! stand-in of /dev/xdma0_c2h_0 fed by a write(2) thread).
//!
//! Both readers are the unmodified backend plus `StreamReader` with 1 MiB
//! reads, full decoding, continuity checks and loss accounting; each
//! iteration moves 32 MiB (EPOCH 0, then 4 Mi DETECTIONs, one 8-byte record
//! each, so records/s = bytes/s / 8) and checks every record arrived and
//! nothing was lost. On the vfio side the "card" is a thread stepping the
//! model, which copies the pre-encoded stream into host memory in 256 KiB
//! steps: a memory-bound figure for the driver's ring handling, not a PCIe
//! figure. `*_reader_cpu` is the reader thread's CPU time
//! (`CLOCK_THREAD_CPUTIME_ID`), wall time shown by the others.

mod common;
#[path = "../tests/xdma_model/mod.rs"]
mod xdma_model;

use common::thread_cpu_now;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qkd_abi::records::Detection;
use qkd_abi::symbol::Basis;
use qkd_abi::Record;
use qkd_driver::stream::StreamReader;
use qkd_driver::vfio::c2h::{C2hStream, RingConfig};
use qkd_driver::xdma::XdmaStream;
use qkd_driver::EventSource;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use xdma_model::{host_memory, spawn_card, BytesAxis, ModelBar, Xdma};

const PER_ITER: usize = 32 << 20;
const READ: usize = 1 << 20;

fn stream_bytes() -> Arc<Vec<u8>> {
    let mut words = Vec::with_capacity(PER_ITER / 8);
    Record::Epoch(0).encode(&mut words).unwrap();
    let mut s = 0u64;
    while words.len() < PER_ITER / 8 {
        Record::Detection(Detection {
            slot: s,
            detector: (s % 4) as u8,
            fine_bin: (s % 16) as u8,
            basis: Basis::from_bit(s.is_multiple_of(3)),
            invalid: false,
        })
        .encode(&mut words)
        .unwrap();
        s += 1;
    }
    Arc::new(words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

/// Read the whole stream; returns (wall, reader thread CPU).
fn drain<S: EventSource>(r: &mut StreamReader<S>, t0: Instant) -> (Duration, Duration) {
    let c0 = thread_cpu_now();
    let want = (PER_ITER / 8 - 1) as u64;
    let mut got = 0u64;
    while got < want {
        let b = r.next_batch(Duration::from_secs(5)).unwrap();
        assert!(b.loss.is_lossless());
        got += b.detections.len() as u64;
        assert!(!b.end_of_stream || got == want);
    }
    assert_eq!(got, want);
    (t0.elapsed(), thread_cpu_now() - c0)
}

fn vfio_once(data: &Arc<Vec<u8>>) -> (Duration, Duration) {
    let cfg = RingConfig::default();
    let mem = host_memory(cfg.layout().total_bytes);
    let x = Arc::new(Mutex::new(Xdma::new(
        mem.clone(),
        Box::new(BytesAxis::new(data.clone())),
    )));
    let s = C2hStream::new(ModelBar(x.clone()), mem, cfg).unwrap();
    let mut r = StreamReader::with_read_bytes(s, READ);
    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let card = spawn_card(x, 256 << 10, Duration::ZERO, stop.clone());
    let t = drain(&mut r, t0);
    stop.store(true, Ordering::Relaxed);
    card.join().unwrap();
    t
}

fn xdma_once(data: &Arc<Vec<u8>>) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xdma0_c2h_0");
    nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    let s = XdmaStream::open(&path).unwrap();
    let mut r = StreamReader::with_read_bytes(s, READ);
    let t0 = Instant::now();
    let writer = {
        let (path, data) = (path.clone(), data.clone());
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
            for block in data.chunks(1 << 20) {
                f.write_all(block).unwrap();
            }
        })
    };
    let t = drain(&mut r, t0);
    writer.join().unwrap();
    t
}

fn bench(c: &mut Criterion) {
    let data = stream_bytes();
    let mut g = c.benchmark_group("c2h_32MiB");
    g.throughput(Throughput::Bytes(PER_ITER as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    type Once = fn(&Arc<Vec<u8>>) -> (Duration, Duration);
    for (name, once) in [
        ("vfio_xdma_model", vfio_once as Once),
        ("xdma_standin_fifo", xdma_once),
    ] {
        g.bench_function(format!("{name}_wall"), |b| {
            b.iter_custom(|n| (0..n).map(|_| once(&data).0).sum())
        });
        g.bench_function(format!("{name}_reader_cpu"), |b| {
            b.iter_custom(|n| (0..n).map(|_| once(&data).1).sum())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
