// SPDX-License-Identifier: MIT OR Apache-2.0
//! Stream throughput through the xdma stand-in (issue 5 target: >= 2 GB/s):
//! a writer thread pushes DETECTION records into the FIFO that plays
//! `/dev/xdma0_c2h_0`; the reader is the unmodified xdma backend plus
//! `StreamReader` (1 MiB reads, full decoding and loss accounting).

mod common;

use common::thread_cpu_now;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qkd_abi::records::Detection;
use qkd_abi::symbol::Basis;
use qkd_abi::{GenParams, Record, RegisterMap};
use qkd_driver::stream::{Batch, StreamReader};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CHUNK: usize = 1 << 20;
const PER_ITER: usize = 64 << 20;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let map = RegisterMap::new(GenParams::default_for(qkd_abi::Role::Bob));
    let mut image = vec![0u8; 4096];
    for r in map.registers() {
        image[r.offset as usize..r.offset as usize + 4].copy_from_slice(&r.reset.to_le_bytes());
    }
    std::fs::write(dir.path().join("xdma0_user"), &image).unwrap();
    let fifo = dir.path().join("xdma0_c2h_0");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();

    // One chunk of monotonic detections; the writer repeats it, the slot
    // going backwards at each repeat is reported (and counted) by the reader.
    let mut words = Vec::new();
    for s in 0..(CHUNK / 8) as u64 {
        Record::Detection(Detection {
            slot: s,
            detector: (s % 2) as u8,
            fine_bin: (s % 8) as u8,
            basis: Basis::Z,
            invalid: false,
        })
        .encode(&mut words)
        .unwrap();
    }
    let chunk: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();

    let (go_tx, go_rx) = mpsc::channel::<usize>();
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let _ = nix::fcntl::fcntl(
            f.as_raw_fd(),
            nix::fcntl::FcntlArg::F_SETPIPE_SZ(CHUNK as i32),
        );
        while let Ok(n) = go_rx.recv() {
            let mut left = n;
            while left > 0 {
                let k = left.min(CHUNK);
                f.write_all(&chunk[..k]).unwrap();
                left -= k;
            }
        }
    });

    let mut dev =
        qkd_driver::open(&format!("xdma:{}", dir.path().join("xdma0").display())).unwrap();
    let mut reader = StreamReader::with_read_bytes(dev.take_events().unwrap(), CHUNK);
    let mut batch = Batch::default();
    batch.detections.reserve(CHUNK / 8);

    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Bytes(PER_ITER as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    // Wall time (the writer thread shares the two cores) and the reader
    // thread's CPU time (what one core spends on read + decode).
    for cpu in [false, true] {
        let name = if cpu {
            "xdma_fifo_standin_64MiB_reader_cpu"
        } else {
            "xdma_fifo_standin_64MiB_wall"
        };
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let (t0, c0) = (Instant::now(), thread_cpu_now());
                for _ in 0..iters {
                    go_tx.send(PER_ITER).unwrap();
                    let mut got = 0usize;
                    while got < PER_ITER {
                        reader
                            .fill_batch(&mut batch, Duration::from_secs(5))
                            .unwrap();
                        got += batch.detections.len() * 8;
                    }
                }
                if cpu {
                    thread_cpu_now() - c0
                } else {
                    t0.elapsed()
                }
            })
        });
    }
    g.finish();
    drop(go_tx);
    drop(reader);
    writer.join().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
