// SPDX-License-Identifier: MIT OR Apache-2.0
//! The record stream (`qkd_gateware::common::stream`, both input timings)
//! against the back-pressure rule of the gateware spec, section 6, checked
//! here from the spec: the emitted records are the input records in order,
//! each either whole or dropped whole, and every maximal run of dropped
//! records (and producer-reported losses) is replaced, just before the next
//! emitted record, by exactly one GAP that counts it: first slot, number of
//! records, slots spanned (`LostSlots::Span`). The statistics outputs
//! (`records`, `gaps`, `lost_slots`) must agree with the emitted stream.
//!
//! ```text
//!  records, losses ──► RecordStream ──► AXI4-Stream (tready pattern)
//!                                       └─► checked against the inputs
//! ```
//!
//! One test fills the FIFO, then the 4-entry GAP queue, with the consumer
//! stalled, so records that would fit are dropped because no GAP can be
//! queued for them (the admission's `gapq_full` term); seeded random runs
//! mix record lengths, losses and stall patterns.

mod bob_harness;

use bob_harness::{seed_of, tick, SplitMix64};
use qkd_gateware::common::stream::{LostSlots, RecordStream, STREAM_FIFO_WORDS};
use rust_hdl::prelude::*;

/// One thing the producer presents.
#[derive(Debug, Clone, Copy)]
enum Item {
    /// A record of `len` words about slot `slot` (one slot).
    Record { id: u64, len: u64, slot: u64 },
    /// `records` records the producer lost, from slot `slot`, `slots` slots.
    Lost { slot: u64, slots: u64, records: u64 },
}

impl Item {
    fn slot(&self) -> u64 {
        match *self {
            Item::Record { slot, .. } | Item::Lost { slot, .. } => slot,
        }
    }
    fn end_slot(&self) -> u64 {
        match *self {
            Item::Record { slot, .. } => slot + 1,
            Item::Lost { slot, slots, .. } => slot + slots,
        }
    }
    fn records(&self) -> u64 {
        match *self {
            Item::Record { .. } => 1,
            Item::Lost { records, .. } => records,
        }
    }
}

const HEADER_TAG: u64 = 0xA << 60;
const BODY_TAG: u64 = 0xB << 60;
const GAP_TAG: u64 = 4 << 60;

fn word(id: u64, index: u64) -> u64 {
    if index == 0 {
        HEADER_TAG | (id << 20)
    } else {
        BODY_TAG | (id << 20) | index
    }
}

/// What the consumer saw, and the block's statistics at the end.
struct Run {
    words: Vec<(u64, bool)>,
    records: u64,
    gaps: u64,
    lost_slots: u64,
}

/// One cycle of producer input.
#[derive(Default, Clone, Copy)]
struct Cycle {
    valid: bool,
    first: bool,
    last: bool,
    data: u64,
    len: u64,
    slot: u64,
    slots: u64,
    lost: bool,
    lost_records: u64,
}

/// The producer's cycles for `items`, with `idle(i)` idle cycles before
/// item `i` and a word gap after word `w` of a record when `gap(i, w)`.
fn schedule(
    items: &[Item],
    mut idle: impl FnMut(usize) -> usize,
    mut gap: impl FnMut(usize, u64) -> bool,
) -> Vec<Cycle> {
    let mut cycles = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let idle_end = cycles.len() + idle(i);
        cycles.resize(idle_end, Cycle::default());
        match *item {
            Item::Record { id, len, slot } => {
                for w in 0..len {
                    cycles.push(Cycle {
                        valid: true,
                        first: w == 0,
                        last: w + 1 == len,
                        data: word(id, w),
                        len,
                        slot,
                        slots: 1,
                        ..Cycle::default()
                    });
                    if w + 1 < len && gap(i, w) {
                        cycles.push(Cycle::default());
                    }
                }
            }
            Item::Lost {
                slot,
                slots,
                records,
            } => cycles.push(Cycle {
                lost: true,
                lost_records: records,
                slot,
                slots,
                ..Cycle::default()
            }),
        }
    }
    cycles
}

/// Drives `cycles` into a fresh stream (then `drain` idle cycles), with
/// `tready(cycle)` as the consumer.
fn run_stream(
    registered: bool,
    cycles: &[Cycle],
    drain: usize,
    mut tready: impl FnMut(usize) -> bool,
) -> Run {
    let mut uut = if registered {
        RecordStream::registered(LostSlots::Span)
    } else {
        RecordStream::new(LostSlots::Span)
    };
    uut.clock.connect();
    uut.clear.connect();
    uut.clear_counters.connect();
    uut.in_data.connect();
    uut.in_valid.connect();
    uut.in_first.connect();
    uut.in_last.connect();
    uut.in_len.connect();
    uut.in_slot.connect();
    uut.in_slots.connect();
    uut.in_lost.connect();
    uut.in_lost_records.connect();
    uut.tready.connect();
    uut.connect_all();
    let mut words = Vec::new();
    let idle = Cycle::default();
    for n in 0..cycles.len() + drain {
        let c = cycles.get(n).unwrap_or(&idle);
        uut.clear.next = false;
        uut.clear_counters.next = false;
        uut.in_data.next = c.data.into();
        uut.in_valid.next = c.valid;
        uut.in_first.next = c.first;
        uut.in_last.next = c.last;
        uut.in_len.next = c.len.into();
        uut.in_slot.next = c.slot.into();
        uut.in_slots.next = c.slots.into();
        uut.in_lost.next = c.lost;
        uut.in_lost_records.next = c.lost_records.into();
        let ready = tready(n);
        uut.tready.next = ready;
        bob_harness::settle(&mut uut);
        if ready && uut.tvalid.val() {
            words.push((uut.tdata.val().to_u64(), uut.tlast.val()));
        }
        tick(&mut uut, |u| &mut u.clock);
    }
    bob_harness::settle(&mut uut);
    Run {
        words,
        records: uut.records.val().to_u64(),
        gaps: uut.gaps.val().to_u64(),
        lost_slots: uut.lost_slots.val().to_u64(),
    }
}

/// What the check found: emitted data records and GAPs, and the items
/// still pending (dropped after the last emitted record).
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    emitted: usize,
    gaps: usize,
    /// The records counted by each GAP, in order.
    gap_records: Vec<u64>,
    pending_items: usize,
}

/// Checks the consumer's words against `items` by the spec's rule.
fn check(items: &[Item], run: &Run) -> Summary {
    // group words into records
    let mut recs: Vec<Vec<u64>> = Vec::new();
    let mut cur = Vec::new();
    for &(w, last) in &run.words {
        cur.push(w);
        if last {
            recs.push(std::mem::take(&mut cur));
        }
    }
    assert!(cur.is_empty(), "stream ends inside a record: {cur:x?}");
    let mut next = 0usize; // next input item not yet accounted for
    let mut pending_gap: Option<(u64, u64, u64)> = None;
    let mut s = Summary {
        emitted: 0,
        gaps: 0,
        gap_records: Vec::new(),
        pending_items: 0,
    };
    let mut lost_slots = 0u64;
    for (k, r) in recs.iter().enumerate() {
        if r[0] >> 60 == GAP_TAG >> 60 {
            assert_eq!(r.len(), 2, "emitted record {k}: a GAP has two words");
            assert!(
                pending_gap.is_none(),
                "emitted records {k}: two GAPs in a row"
            );
            let records = (r[0] >> 40) & 0xF_FFFF;
            pending_gap = Some((r[0] & ((1 << 40) - 1), records, r[1]));
            s.gaps += 1;
            s.gap_records.push(records);
            continue;
        }
        let id = (r[0] >> 20) & 0xFF_FFFF;
        assert_eq!(
            r[0] >> 60,
            HEADER_TAG >> 60,
            "emitted record {k}: bad header {:#x}",
            r[0]
        );
        // the items skipped before this record form the dropped run
        let pos = items[next..]
            .iter()
            .position(|it| matches!(it, Item::Record { id: i, .. } if *i == id))
            .unwrap_or_else(|| panic!("emitted record {k} (id {id}) is not a later input"))
            + next;
        let run_items = &items[next..pos];
        match (pending_gap.take(), run_items.is_empty()) {
            (None, true) => {}
            (Some(g), true) => panic!("emitted record {k}: GAP {g:?} before a record with no run"),
            (None, false) => panic!(
                "emitted record {k} (id {id}): {} items dropped without a GAP",
                run_items.len()
            ),
            (Some((first, records, slots)), false) => {
                let want_records = run_items
                    .iter()
                    .map(Item::records)
                    .sum::<u64>()
                    .min(0xF_FFFF);
                let want_first = run_items[0].slot() & ((1 << 40) - 1);
                let want_slots = run_items.last().unwrap().end_slot() - run_items[0].slot();
                assert_eq!(
                    (first, records, slots),
                    (want_first, want_records, want_slots),
                    "emitted record {k}: GAP (first, records, slots) for items {next}..{pos}"
                );
            }
        }
        lost_slots += run_items
            .iter()
            .map(|it| it.end_slot() - it.slot())
            .sum::<u64>();
        let Item::Record { len, .. } = items[pos] else {
            unreachable!()
        };
        let want: Vec<u64> = (0..len).map(|w| word(id, w)).collect();
        assert_eq!(r, &want, "emitted record {k} (id {id}) is not whole");
        s.emitted += 1;
        next = pos + 1;
    }
    assert!(pending_gap.is_none(), "the stream ends with a GAP");
    s.pending_items = items.len() - next;
    lost_slots += items[next..]
        .iter()
        .map(|it| it.end_slot() - it.slot())
        .sum::<u64>();
    assert_eq!(run.records as usize, recs.len(), "records counter");
    assert_eq!(run.gaps as usize, s.gaps, "gaps counter");
    assert_eq!(run.lost_slots, lost_slots, "lost_slots counter");
    s
}

/// Consumer stalled while the FIFO fills and seven dropped/admitted pairs
/// arrive: the first admitted records each queue a GAP until the GAPs fill
/// the 4-entry queue (and, with the registered input, the register the
/// queue's head is prefetched into: five GAPs); the next admitted record
/// finds no room for its GAP and joins the run, as does everything after it
/// until the consumer drains; one more record then carries the last GAP.
#[test]
fn gap_queue_full_drops_records_that_fit() {
    let warm_records = 1500u64;
    let fill_records = 100u64; // 5 words each: 500 of the 512 words
    let mut items = Vec::new();
    let mut slot = 1000u64;
    let mut id = 0u64;
    let mut push_record = |items: &mut Vec<Item>, len: u64, slot: &mut u64| {
        items.push(Item::Record {
            id,
            len,
            slot: *slot,
        });
        id += 1;
        *slot += 7;
    };
    // warm-up with the consumer ready: fill/free see every combination of
    // admission and release (a miscount of one word per event would leave
    // no room, or overrun the FIFO, by the stall)
    for k in 0..warm_records {
        push_record(&mut items, 1 + (k * 7) % 5, &mut slot);
    }
    for _ in 0..fill_records {
        push_record(&mut items, 5, &mut slot);
    }
    for _ in 0..7 {
        push_record(&mut items, 200, &mut slot); // cannot fit: dropped
        push_record(&mut items, 1, &mut slot); // fits
    }
    let stalled_items = items.len();
    push_record(&mut items, 1, &mut slot); // after the drain
    assert!(fill_records * 5 + 7 < STREAM_FIFO_WORDS);
    for (registered, held) in [(false, 4), (true, 5)] {
        let warm_cycles = schedule(&items[..warm_records as usize], |_| 0, |_, _| false).len();
        let mut cycles = schedule(&items[..stalled_items], |_| 0, |_, _| false);
        let stall_until = cycles.len() + 10;
        let drain_at = stall_until + 2000;
        cycles.resize(drain_at, Cycle::default());
        cycles.extend(schedule(&items[stalled_items..], |_| 0, |_, _| false));
        let run = run_stream(registered, &cycles, 200, |n| {
            n < warm_cycles + 5 || n >= stall_until
        });
        let s = check(&items, &run);
        assert_eq!(
            s,
            Summary {
                emitted: (warm_records + fill_records) as usize + held + 1,
                gaps: held + 1,
                gap_records: [vec![1; held], vec![2 * (7 - held as u64)]].concat(),
                pending_items: 0,
            },
            "registered input: {registered}"
        );
    }
}

/// With the consumer always ready and at most one word per cycle in, no
/// record is ever dropped.
#[test]
fn ready_consumer_loses_nothing() {
    let mut rng = SplitMix64(seed_of("ready_consumer_loses_nothing"));
    let mut slot = 0u64;
    let items: Vec<Item> = (0..400)
        .map(|id| {
            slot += 1 + rng.next_u64() % 50;
            Item::Record {
                id,
                len: 1 + rng.next_u64() % 12,
                slot,
            }
        })
        .collect();
    for registered in [false, true] {
        let cycles = schedule(&items, |_| 0, |_, _| false);
        let run = run_stream(registered, &cycles, 50, |_| true);
        let s = check(&items, &run);
        assert_eq!((s.emitted, s.gaps), (items.len(), 0));
    }
}

/// Seeded random producers (lengths 1..=255, losses, word gaps) against a
/// consumer that alternates ready, random and long stalls.
#[test]
fn random_back_pressure_keeps_the_gap_rule() {
    for seed_no in 0..3u64 {
        let mut rng = SplitMix64(seed_of("random_back_pressure_keeps_the_gap_rule") ^ seed_no);
        let mut slot = rng.next_u64() % (1 << 41);
        let mut items = Vec::new();
        for id in 0..600u64 {
            slot += 1 + rng.next_u64() % 100;
            if rng.next_u64().is_multiple_of(10) {
                let slots = 1 + rng.next_u64() % 64;
                items.push(Item::Lost {
                    slot,
                    slots,
                    records: 1 + rng.next_u64() % 255,
                });
                slot += slots;
            }
            let len = match rng.next_u64() % 8 {
                0 => 1 + rng.next_u64() % 255,
                _ => 1 + rng.next_u64() % 6,
            };
            items.push(Item::Record { id, len, slot });
        }
        let idles: Vec<usize> = (0..items.len())
            .map(|_| (rng.next_u64() % 4) as usize)
            .collect();
        let cycles = schedule(
            &items,
            |i| idles[i],
            |i, w| (i as u64 ^ w).is_multiple_of(13),
        );
        // consumer: phases of always ready, coin flips and stalls
        let mut pattern = Vec::with_capacity(cycles.len() + 4000);
        while pattern.len() < cycles.len() + 4000 {
            let n = 50 + (rng.next_u64() % 1500) as usize;
            let kind = rng.next_u64() % 3;
            for _ in 0..n {
                pattern.push(match kind {
                    0 => true,
                    1 => rng.next_u64() & 1 == 1,
                    _ => false,
                });
            }
        }
        // the drain is always ready
        let stop = cycles.len();
        for registered in [false, true] {
            let run = run_stream(registered, &cycles, 3000, |n| n >= stop || pattern[n]);
            let s = check(&items, &run);
            assert!(
                s.gaps > 3 && s.emitted > 100,
                "seed {seed_no}: back-pressure exercised ({s:?})"
            );
        }
    }
}
