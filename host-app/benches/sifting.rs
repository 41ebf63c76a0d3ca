// SPDX-License-Identifier: MIT OR Apache-2.0
//! Sifting throughput (issue 6 target: >= 100 M events/s on one core).
//!
//! An *event* is one DETECTION record entering Bob's sifter; every figure is
//! also given per Alice slot (ALICE_SYMBOLS symbol). Both parties run on the
//! same core, so each figure covers both ends of the protocol.
//!
//! Two shapes, each over a stream of 2^22 slots:
//! - `batch` (the benchmark named `sifting_p*` since the first version):
//!   fresh sifters, the whole stream in one announce/answer round; Alice
//!   ingests her ALICE_SYMBOLS records, Bob his DETECTION records, Bob
//!   announces (encode), Alice decodes and answers (encode), Bob decodes and
//!   applies, both append to their ledgers. Every buffer is new, so this
//!   shape pays the kernel's page faults for all of them.
//! - `stream` (as `qkd-host run` drives the pipeline): persistent sifters,
//!   records pushed in batches of 1040 ALICE_SYMBOLS records (1,048,320
//!   slots, about one STATUS interval of 2^20 slots: Bob announces closed
//!   intervals only, and `qkd-host run` hands the pipelines windows of
//!   2^24 slots; `SIFT_BENCH_RECORDS=64` gives the earlier 64-record
//!   batches) with Bob's detections of the same slots, one announce/answer/apply
//!   round per batch over the wire forms (message buffers reused, as the
//!   `*_into` calls allow; Bob encodes his announcement straight from his
//!   queue, as the pipeline does), ledgers cut into blocks of 2^16 Z bits.
//!
//! In a deployment Alice and Bob are two hosts, each sifting on its own
//! core, so the link sifts as fast as the slower party. The `stream` shape
//! therefore also charges every call to the party that makes it (thread CPU
//! time, `CLOCK_THREAD_CPUTIME_ID`) and reports each party's events/s on
//! one core (`sifting_party_p*/alice`, `/bob`): Bob ingests, announces,
//! encodes, decodes the reply, applies it and cuts his ledger; Alice
//! ingests, decodes the announcement, answers, encodes and cuts hers.
//!
//! Bob's input comes in two forms: `bob` takes the driver stream decoder's
//! batches (`qkd_driver::Batch`: `SlotDetection`s of 16 bytes with full
//! slots, `BobSifter::push_batch`), as `qkd-host run` hands them over;
//! `bob_records` takes the same detections as 40-byte qkd-abi `Record`s
//! (`BobSifter::push_records`), the form before the columnar hand-off.
//! (Moving each run to the next epoch rewrites the batches' slots; that
//! pass stands in for the driver's decoder and is charged to nobody.)

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use nix::time::{clock_gettime, ClockId};
use qkd_abi::records::{AliceSymbols, Detection, Record, SLOT_BITS, SLOT_MASK};
use qkd_abi::symbol::{Basis, Symbol};
use qkd_driver::{Batch, SlotDetection};
use qkd_host::sifting::{AliceSifter, BobSifter, SiftAnnounce, SiftLedger, SiftReply};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const SLOTS: u64 = 1 << 22;
const SYMBOLS_PER_RECORD: usize = 1008;
const RECORDS_PER_BATCH: usize = 1040;
const BLOCK_Z_BITS: u64 = 1 << 16;

fn stream(slots: u64, p_click: f64) -> (Vec<Record>, Vec<Record>) {
    let mut rng = ChaCha20Rng::seed_from_u64(0x51F7);
    let mut alice = vec![];
    let mut bob = vec![];
    let mut syms = vec![];
    for s in 0..slots {
        syms.push(Symbol(rng.random::<u8>() & 0xB)); // classes 0..2 only
        if rng.random_bool(p_click) {
            bob.push(Record::Detection(Detection {
                slot: s,
                detector: rng.random::<u8>() & 1,
                fine_bin: 0,
                basis: Basis::from_bit(rng.random()),
                invalid: false,
            }));
        }
        if syms.len() == SYMBOLS_PER_RECORD {
            alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                s + 1 - SYMBOLS_PER_RECORD as u64,
                &syms,
            )));
            syms.clear();
        }
    }
    (alice, bob)
}

/// Message buffers reused from round to round, as a long-running pipeline
/// keeps them.
#[derive(Default)]
struct Buffers {
    ann_rx: SiftAnnounce,
    reply: SiftReply,
    reply_rx: SiftReply,
    wire: Vec<u8>,
}

/// This thread's CPU time in nanoseconds.
fn thread_cpu_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// Thread CPU time charged to each party (nanoseconds).
#[derive(Default, Clone, Copy)]
struct PartyTimes {
    alice_ns: u64,
    bob_ns: u64,
}

/// Who runs a step.
#[derive(Clone, Copy)]
enum Party {
    Alice,
    Bob,
}

/// The form Bob's detections reach his sifter in.
#[derive(Clone, Copy, PartialEq)]
enum BobInput {
    /// The driver decoder's batches (`push_batch`).
    Batches,
    /// qkd-abi records (`push_records`).
    Records,
}

impl PartyTimes {
    /// Run `f`, charging its thread CPU time to `who` (when measuring).
    fn charge<T>(times: &mut Option<PartyTimes>, who: Party, f: impl FnOnce() -> T) -> T {
        let Some(t) = times else { return f() };
        let t0 = thread_cpu_ns();
        let out = f();
        let dt = thread_cpu_ns().saturating_sub(t0);
        match who {
            Party::Alice => t.alice_ns += dt,
            Party::Bob => t.bob_ns += dt,
        }
        out
    }
}

/// One announce/answer/apply round over the wire forms.
fn round(
    alice: &mut AliceSifter,
    bob: &mut BobSifter,
    la: &mut SiftLedger,
    lb: &mut SiftLedger,
    buf: &mut Buffers,
    times: &mut Option<PartyTimes>,
) {
    let Buffers {
        ann_rx,
        reply,
        reply_rx,
        wire,
    } = buf;
    PartyTimes::charge(times, Party::Bob, || {
        bob.announce_encoded(1 << 20, wire);
    });
    PartyTimes::charge(times, Party::Alice, || {
        SiftAnnounce::decode_into(wire, ann_rx).unwrap();
        alice.answer_into(ann_rx, reply, la);
        reply.encode_into(wire);
    });
    PartyTimes::charge(times, Party::Bob, || {
        SiftReply::decode_into(wire, reply_rx).unwrap();
        bob.apply_reply_into(reply_rx, lb).unwrap();
    });
}

fn sift_all(alice_recs: &[Record], bob_recs: &[Record]) -> (u64, u64) {
    let mut alice = AliceSifter::new();
    let mut bob = BobSifter::with_seed(1);
    let (mut la, mut lb) = (SiftLedger::default(), SiftLedger::default());
    alice.push_records(alice_recs).unwrap();
    bob.push_records(bob_recs);
    round(
        &mut alice,
        &mut bob,
        &mut la,
        &mut lb,
        &mut Buffers::default(),
        &mut None,
    );
    (la.z_count(), lb.z_count())
}

/// Both ends of a running link.
struct Link {
    alice: AliceSifter,
    bob: BobSifter,
    la: SiftLedger,
    lb: SiftLedger,
    buf: Buffers,
    epoch: u32,
    blocks: u64,
}

impl Link {
    fn new() -> Link {
        Link {
            alice: AliceSifter::new(),
            bob: BobSifter::with_seed(1),
            la: SiftLedger::default(),
            lb: SiftLedger::default(),
            buf: Buffers::default(),
            epoch: 0,
            blocks: 0,
        }
    }

    /// The whole stream once more, in the next epoch (slots keep
    /// increasing); with `times`, each party's share of the CPU time is
    /// added to it.
    fn run(&mut self, parts: &mut Parts, input: BobInput, times: Option<&mut PartyTimes>) -> u64 {
        let mut t = times.as_deref().map(|_| PartyTimes::default());
        self.epoch += 1;
        let epoch = [Record::Epoch(self.epoch)];
        self.alice.push_records(&epoch).unwrap();
        self.bob.push_records(&epoch);
        let hi = u64::from(self.epoch) << SLOT_BITS;
        for ((a, b), bb) in parts.records.iter().zip(&mut parts.bob_batches) {
            if input == BobInput::Batches {
                // The decoder's full slots in this epoch (uncharged).
                for d in &mut bb.detections {
                    d.slot = hi | (d.slot & SLOT_MASK);
                }
            }
            // Each party's steps of the round run back to back, so each is
            // charged in one piece (reading a thread CPU clock is a system
            // call, about a microsecond, itself partly charged).
            let Buffers {
                ann_rx,
                reply,
                reply_rx,
                wire,
            } = &mut self.buf;
            let (alice, bob, la, lb) = (&mut self.alice, &mut self.bob, &mut self.la, &mut self.lb);
            PartyTimes::charge(&mut t, Party::Bob, || {
                match input {
                    BobInput::Batches => bob.push_batch(bb),
                    BobInput::Records => bob.push_records(b),
                }
                bob.announce_encoded(1 << 20, wire);
            });
            let blocks_a = PartyTimes::charge(&mut t, Party::Alice, || {
                alice.push_records(a).unwrap();
                SiftAnnounce::decode_into(wire, ann_rx).unwrap();
                alice.answer_into(ann_rx, reply, la);
                reply.encode_into(wire);
                cut_blocks(la)
            });
            let blocks_b = PartyTimes::charge(&mut t, Party::Bob, || {
                SiftReply::decode_into(wire, reply_rx).unwrap();
                bob.apply_reply_into(reply_rx, lb).unwrap();
                cut_blocks(lb)
            });
            assert_eq!(blocks_a, blocks_b);
            self.blocks += blocks_a.len() as u64;
        }
        if let (Some(out), Some(t)) = (times, t) {
            out.alice_ns += t.alice_ns;
            out.bob_ns += t.bob_ns;
        }
        self.blocks
    }
}

/// The stream in the batches the `stream` shape pushes: Alice's and Bob's
/// records, and Bob's detections as the driver's decoder batches them.
struct Parts {
    records: Vec<(Vec<Record>, Vec<Record>)>,
    bob_batches: Vec<Batch>,
}

/// Cut every full block out of a ledger; their last slots.
fn cut_blocks(ledger: &mut SiftLedger) -> Vec<u64> {
    let mut out = vec![];
    while let Some(b) = ledger.cut(BLOCK_Z_BITS) {
        out.push(b.last_slot);
    }
    out
}

/// Split the stream into the batches the `stream` shape pushes.
fn batches(alice: &[Record], bob: &[Record]) -> Parts {
    let per_batch = std::env::var("SIFT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(RECORDS_PER_BATCH);
    let mut records = vec![];
    let mut rest = bob;
    for chunk in alice.chunks(per_batch) {
        let end = (SYMBOLS_PER_RECORD * per_batch * (records.len() + 1)) as u64;
        let n = rest.partition_point(|r| matches!(r, Record::Detection(d) if d.slot < end));
        records.push((chunk.to_vec(), rest[..n].to_vec()));
        rest = &rest[n..];
    }
    let bob_batches = records
        .iter()
        .map(|(_, b)| Batch {
            detections: b
                .iter()
                .filter_map(|r| match r {
                    Record::Detection(d) => Some(SlotDetection::new(
                        d.slot, d.detector, d.fine_bin, d.basis, d.invalid,
                    )),
                    _ => None,
                })
                .collect(),
            ..Batch::default()
        })
        .collect();
    Parts {
        records,
        bob_batches,
    }
}

/// This thread's CPU time (user + system) in seconds, from
/// /proc/thread-self/stat (clock ticks); None off Linux. Printed next to
/// criterion's wall-clock figures because a shared, oversubscribed machine
/// inflates wall time.
fn thread_cpu_s() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn report_cpu(what: &str, slots: u64, dets: u64, mut f: impl FnMut()) {
    let reps = 20;
    let Some(t0) = thread_cpu_s() else { return };
    for _ in 0..reps {
        f();
    }
    let Some(t1) = thread_cpu_s() else { return };
    let per = (t1 - t0).max(0.01) / f64::from(reps);
    println!(
        "{what}: CPU time {:.2} ms per {slots} slots / {dets} detections = {:.1} M slots/s, {:.1} M detections/s",
        per * 1e3,
        slots as f64 / per / 1e6,
        dets as f64 / per / 1e6
    );
}

fn bench(c: &mut Criterion) {
    // SIFT_BENCH_P=0.5 runs one click probability only (for profiling).
    let only: Option<f64> = std::env::var("SIFT_BENCH_P")
        .ok()
        .and_then(|v| v.parse().ok());
    for p_click in [0.005, 0.05, 0.5] {
        if only.is_some_and(|p| p != p_click) {
            continue;
        }
        let (a, b) = stream(SLOTS, p_click);
        let dets = b.len() as u64;
        let mut parts = batches(&a, &b);

        report_cpu(&format!("batch p_click={p_click}"), SLOTS, dets, || {
            criterion::black_box(sift_all(&a, &b));
        });
        let mut link = Link::new();
        report_cpu(&format!("stream p_click={p_click}"), SLOTS, dets, || {
            criterion::black_box(link.run(&mut parts, BobInput::Batches, None));
        });
        let mut g = c.benchmark_group(format!("sifting_p{p_click}"));
        g.sample_size(20);
        g.throughput(Throughput::Elements(dets));
        g.bench_function("per_detection", |bn| bn.iter(|| sift_all(&a, &b)));
        g.finish();
        let mut g = c.benchmark_group(format!("sifting_stream_p{p_click}"));
        g.sample_size(20);
        g.throughput(Throughput::Elements(dets));
        g.bench_function("per_detection", |bn| {
            bn.iter(|| link.run(&mut parts, BobInput::Batches, None))
        });
        g.finish();
        // Each party's share of the stream shape, as thread CPU time.
        let mut g = c.benchmark_group(format!("sifting_party_p{p_click}"));
        g.sample_size(20);
        g.throughput(Throughput::Elements(dets));
        for (name, who, input) in [
            ("alice", Party::Alice, BobInput::Batches),
            ("bob", Party::Bob, BobInput::Batches),
            ("bob_records", Party::Bob, BobInput::Records),
        ] {
            g.bench_function(name, |bn| {
                bn.iter_custom(|iters| {
                    let mut t = PartyTimes::default();
                    for _ in 0..iters {
                        criterion::black_box(link.run(&mut parts, input, Some(&mut t)));
                    }
                    std::time::Duration::from_nanos(match who {
                        Party::Alice => t.alice_ns,
                        Party::Bob => t.bob_ns,
                    })
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
