// SPDX-License-Identifier: MIT OR Apache-2.0
//! Sifting throughput (issue 6 target: >= 100 M events/s on one core).
//!
//! One iteration = the whole sifting path for a stream: Alice ingests her
//! ALICE_SYMBOLS records, Bob his DETECTION records, Bob announces
//! (encode), Alice decodes and answers (encode), Bob decodes and applies,
//! both append to their ledgers. Reported per Alice slot and per detection.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use qkd_abi::records::{AliceSymbols, Detection, Record};
use qkd_abi::symbol::{Basis, Symbol};
use qkd_host::sifting::{AliceSifter, BobSifter, SiftAnnounce, SiftLedger, SiftReply};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

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
        if syms.len() == 1008 {
            alice.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                s + 1 - 1008,
                &syms,
            )));
            syms.clear();
        }
    }
    (alice, bob)
}

fn sift_all(alice_recs: &[Record], bob_recs: &[Record]) -> (u64, u64) {
    let mut alice = AliceSifter::new();
    let mut bob = BobSifter::with_seed(1);
    let (mut la, mut lb) = (SiftLedger::default(), SiftLedger::default());
    alice.push_records(alice_recs).unwrap();
    bob.push_records(bob_recs);
    let ann = bob.announce(usize::MAX);
    let wire = ann.encode();
    let ann = SiftAnnounce::decode(&wire).unwrap();
    let (reply, a) = alice.answer(&ann);
    let wire = reply.encode();
    let reply = SiftReply::decode(&wire).unwrap();
    let b = bob.apply_reply(&reply).unwrap();
    la.extend(a);
    lb.extend(b);
    (la.z_count(), lb.z_count())
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

fn bench(c: &mut Criterion) {
    let slots = 1u64 << 22;
    for p_click in [0.05, 0.5] {
        let (a, b) = stream(slots, p_click);
        let dets = b.len() as u64;
        if let Some(t0) = thread_cpu_s() {
            let reps = 20;
            for _ in 0..reps {
                criterion::black_box(sift_all(&a, &b));
            }
            if let Some(t1) = thread_cpu_s() {
                let per = (t1 - t0).max(0.01) / f64::from(reps);
                println!(
                    "sifting p_click={p_click}: CPU time {:.1} ms per {slots} slots / {dets} detections = {:.1} M slots/s, {:.1} M detections/s",
                    per * 1e3,
                    slots as f64 / per / 1e6,
                    dets as f64 / per / 1e6
                );
            }
        }
        let mut g = c.benchmark_group(format!("sifting_p{p_click}"));
        g.sample_size(20);
        g.throughput(Throughput::Elements(slots));
        g.bench_function("per_slot", |bn| {
            bn.iter_batched(|| (), |_| sift_all(&a, &b), BatchSize::SmallInput)
        });
        g.throughput(Throughput::Elements(dets));
        g.bench_function("per_detection", |bn| {
            bn.iter_batched(|| (), |_| sift_all(&a, &b), BatchSize::SmallInput)
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
