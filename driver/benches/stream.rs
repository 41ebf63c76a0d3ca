// SPDX-License-Identifier: MIT OR Apache-2.0
//! Stream throughput through the xdma stand-in (issue 5 target: >= 2 GB/s).
//!
//! The measured reader is always the unmodified xdma backend plus
//! `StreamReader` (poll + read straight into the decode buffer, full
//! decoding, continuity checks and loss accounting) on the FIFO that plays
//! `/dev/xdma0_c2h_0`. The stand-in producer is a thread that writes 64 MiB
//! of records per iteration (EPOCH 0, then monotonic DETECTIONs; each
//! iteration is a restart) in 1 MiB blocks into a 1 MiB pipe
//! (`F_SETPIPE_SZ`), either with `write(2)` (the kernel copies into pipe
//! pages) or with `vmsplice(2)` (the pipe references the producer's pages,
//! which never change: no producer-side copy, as with a card's DMA).
//!
//! * `reader_prefilled_1MiB`: the producer fills the pipe, stops, then the
//!   reader drains and decodes it: the reader alone.
//! * `{write,vmsplice}_producer_{wall,reader_cpu}`: both running; wall time
//!   and the reader thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`).
//! * `bare_pipe_{write,vmsplice}_*`: the ceiling of the pipe itself, a plain
//!   `read(2)` loop into a page-aligned buffer with the same sizes.
//!
//! `QKD_BENCH_READ_BYTES` overrides the reader's read size (default 1 MiB).
//! Every iteration sends the stream from its start (EPOCH 0 first, so it is
//! a restart, not a loss); at the end the reader's accounting is checked:
//! every byte decoded, nothing lost, one restart per iteration but the
//! first.

mod common;

use common::thread_cpu_now;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nix::fcntl::{fcntl, vmsplice, FcntlArg, SpliceFFlags};
use qkd_abi::records::Detection;
use qkd_abi::symbol::Basis;
use qkd_abi::{GenParams, Record, RegisterMap};
use qkd_driver::stream::{Batch, StreamReader};
use std::fs::File;
use std::io::{IoSlice, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Producer block and pipe size (the unprivileged maximum,
/// /proc/sys/fs/pipe-max-size).
const BLOCK: usize = 1 << 20;
/// Bytes per iteration (more than the L3 cache, so the vmsplice producer's
/// pages are not all cache-hot).
const PER_ITER: usize = 64 << 20;

fn read_bytes() -> usize {
    std::env::var("QKD_BENCH_READ_BYTES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 20)
}

/// EPOCH 0 then monotonic DETECTIONs, `PER_ITER` bytes.
fn stream_bytes() -> Arc<Vec<u8>> {
    let mut words = Vec::with_capacity(PER_ITER / 8);
    Record::Epoch(0).encode(&mut words).unwrap();
    let mut s = 0u64;
    while words.len() < PER_ITER / 8 {
        s += 1 + (s * 2_654_435_761 % 5);
        Record::Detection(Detection {
            slot: s,
            detector: (s % 4) as u8,
            fine_bin: (s % 16) as u8,
            basis: Basis::from_bit(s.is_multiple_of(3)),
            invalid: false,
        })
        .encode(&mut words)
        .unwrap();
    }
    Arc::new(words.iter().flat_map(|w| w.to_le_bytes()).collect())
}

#[derive(Clone, Copy)]
enum Mode {
    Write,
    Vmsplice,
}

/// Producer thread: for each `(bytes, mode)` received, push `bytes` of the
/// stream (from its start) in `BLOCK` pieces, then acknowledge.
fn spawn_producer(
    pipe: File,
    data: Arc<Vec<u8>>,
) -> (
    mpsc::Sender<(usize, Mode)>,
    mpsc::Receiver<()>,
    std::thread::JoinHandle<()>,
) {
    let (go_tx, go_rx) = mpsc::channel::<(usize, Mode)>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        // The prefilled runs need the whole block to fit in the pipe.
        let size = fcntl(pipe.as_raw_fd(), FcntlArg::F_SETPIPE_SZ(BLOCK as i32))
            .expect("F_SETPIPE_SZ to 1 MiB (see /proc/sys/fs/pipe-max-size)");
        assert!(size as usize >= BLOCK, "pipe size {size}");
        let mut pipe = pipe;
        while let Ok((n, mode)) = go_rx.recv() {
            let mut at = 0;
            while at < n {
                let k = (n - at).min(BLOCK);
                let piece = &data[at..at + k];
                match mode {
                    Mode::Write => pipe.write_all(piece).unwrap(),
                    Mode::Vmsplice => {
                        let mut off = 0;
                        while off < k {
                            // The pages are never written again: the pipe may
                            // keep references to them.
                            let iov = [IoSlice::new(&piece[off..])];
                            off += vmsplice(pipe.as_fd(), &iov, SpliceFFlags::empty()).unwrap();
                        }
                    }
                }
                at += k;
            }
            if done_tx.send(()).is_err() {
                break;
            }
        }
    });
    (go_tx, done_rx, h)
}

fn bench(c: &mut Criterion) {
    let rb = read_bytes();
    let data = stream_bytes();
    let dir = tempfile::tempdir().unwrap();
    let map = RegisterMap::new(GenParams::default_for(qkd_abi::Role::Bob));
    let mut image = vec![0u8; 4096];
    for r in map.registers() {
        image[r.offset as usize..r.offset as usize + 4].copy_from_slice(&r.reset.to_le_bytes());
    }
    std::fs::write(dir.path().join("xdma0_user"), &image).unwrap();
    let fifo = dir.path().join("xdma0_c2h_0");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();

    // The driver opens the c2h FIFO non-blocking first, then the producer.
    let mut dev =
        qkd_driver::open(&format!("xdma:{}", dir.path().join("xdma0").display())).unwrap();
    let mut reader = StreamReader::with_read_bytes(dev.take_events().unwrap(), rb);
    let pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let (go, done, producer) = spawn_producer(pipe, data.clone());
    let mut batch = Batch::default();
    batch.detections.reserve(rb / 8);
    let timeout = Duration::from_secs(5);
    let mut iterations = 0u64;

    let mut g = c.benchmark_group("stream");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(6));

    // Reader alone: the pipe is full before the clock starts.
    g.throughput(Throughput::Bytes(BLOCK as u64));
    for cpu in [false, true] {
        let name = if cpu {
            "reader_prefilled_1MiB_reader_cpu"
        } else {
            "reader_prefilled_1MiB_wall"
        };
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    iterations += 1;
                    let in0 = reader.stats().bytes_in;
                    go.send((BLOCK, Mode::Write)).unwrap();
                    done.recv().unwrap();
                    let (t0, c0) = (Instant::now(), thread_cpu_now());
                    while reader.stats().bytes_in - in0 < BLOCK as u64 {
                        reader.fill_batch(&mut batch, timeout).unwrap();
                    }
                    spent += if cpu {
                        thread_cpu_now() - c0
                    } else {
                        t0.elapsed()
                    };
                }
                spent
            })
        });
    }
    let mut sent = reader.stats().bytes_in;

    // Producer and reader together.
    g.throughput(Throughput::Bytes(PER_ITER as u64));
    for (mode, label) in [(Mode::Write, "write"), (Mode::Vmsplice, "vmsplice")] {
        for cpu in [false, true] {
            let name = format!(
                "{label}_producer_64MiB_{}",
                if cpu { "reader_cpu" } else { "wall" }
            );
            g.bench_function(&name, |b| {
                b.iter_custom(|iters| {
                    let (t0, c0) = (Instant::now(), thread_cpu_now());
                    for _ in 0..iters {
                        go.send((PER_ITER, mode)).unwrap();
                        sent += PER_ITER as u64;
                        while reader.stats().bytes_in < sent {
                            reader.fill_batch(&mut batch, timeout).unwrap();
                        }
                        done.recv().unwrap();
                        iterations += 1;
                    }
                    if cpu {
                        thread_cpu_now() - c0
                    } else {
                        t0.elapsed()
                    }
                })
            });
        }
    }

    // The ceiling: the same pipe sizes, a plain read loop, no decoding.
    let (rx, tx): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
    let (bare_go, bare_done, bare_producer) = spawn_producer(File::from(tx), data.clone());
    let mut buf = vec![0u8; rb + 4096];
    let pad = (4096 - buf.as_ptr() as usize % 4096) % 4096;
    for (mode, label) in [(Mode::Write, "write"), (Mode::Vmsplice, "vmsplice")] {
        for cpu in [false, true] {
            let name = format!(
                "bare_pipe_{label}_64MiB_{}",
                if cpu { "reader_cpu" } else { "wall" }
            );
            g.bench_function(&name, |b| {
                b.iter_custom(|iters| {
                    let (t0, c0) = (Instant::now(), thread_cpu_now());
                    for _ in 0..iters {
                        bare_go.send((PER_ITER, mode)).unwrap();
                        let mut got = 0;
                        while got < PER_ITER {
                            let n =
                                nix::unistd::read(rx.as_raw_fd(), &mut buf[pad..pad + rb]).unwrap();
                            assert!(n > 0, "bare pipe closed");
                            got += n;
                        }
                        bare_done.recv().unwrap();
                    }
                    if cpu {
                        thread_cpu_now() - c0
                    } else {
                        t0.elapsed()
                    }
                })
            });
        }
    }
    g.finish();

    // The accounting was live all along: every byte decoded, nothing lost,
    // one restart per iteration after the first.
    let s = reader.stats();
    assert_eq!(s.bytes_in, sent, "{s:?}");
    assert_eq!(s.bytes_in, s.bytes_decoded, "{s:?}");
    assert!(
        reader.total_loss().is_lossless(),
        "{:?}",
        reader.total_loss()
    );
    assert_eq!(s.restarts + 1, iterations, "{s:?}");
    eprintln!(
        "stream: read size {rb} B; {} bytes decoded in {iterations} iterations, lossless",
        s.bytes_decoded
    );
    drop((go, bare_go));
    drop(reader);
    producer.join().unwrap();
    bare_producer.join().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
