// SPDX-License-Identifier: MIT OR Apache-2.0
//! Back-pressure checker (gateware spec section 6): the emitted record
//! stream must be the model's stream (with `tready` high) with runs of
//! records removed, each maximal run replaced at its position by exactly one
//! GAP that counts it (first slot, lost records, lost slots).
//!
//! STATUS fields that depend on back-pressure are compared as the spec
//! implies: Alice's `SymbolsLost` must equal the slots of the interval's
//! dropped ALICE_SYMBOLS records, and the STREAM_OVERFLOW bit of
//! `AlarmsLive`/`AlarmsSeen` is not compared. [`apply_drops`] is the
//! reference dropper used to test the checker (and by fast simulation).

use qkd_abi::records::CounterId;
use qkd_abi::records::{Gap, Record, Status, GAP_RECORDS_MAX, SLOT_BITS, SLOT_MASK};
use qkd_abi::Role;

/// Why an emitted stream is not the model's stream with GAP-replaced runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamMismatch {
    /// Record `emitted_index` differs from the model record it must equal.
    #[error("emitted record {emitted_index} is {emitted:?}, but model record {model_index} is {model:?}")]
    Differ {
        /// Index in the emitted list.
        emitted_index: usize,
        /// Index in the model list.
        model_index: usize,
        /// The emitted record.
        emitted: Box<Record>,
        /// The model record (`None`: the model list ended).
        model: Option<Box<Record>>,
    },
    /// A GAP's field does not count the run of model records it replaces.
    #[error(
        "GAP at emitted record {emitted_index} (replacing model records {model_index}..): {field} is {got}, expected {expected}; GAP {gap:?}, first removed {first_removed:?}"
    )]
    GapField {
        /// Index of the GAP in the emitted list.
        emitted_index: usize,
        /// Index of the first removed model record.
        model_index: usize,
        /// Which field is wrong.
        field: &'static str,
        /// Value in the GAP.
        got: u64,
        /// Value implied by the model.
        expected: u64,
        /// The GAP.
        gap: Gap,
        /// The first removed model record (`None`: the model list ended).
        first_removed: Option<Box<Record>>,
    },
    /// Two GAPs in a row (a run must be replaced by exactly one GAP).
    #[error("emitted records {emitted_index} and {} are both GAPs", emitted_index + 1)]
    DoubleGap {
        /// Index of the first GAP.
        emitted_index: usize,
    },
    /// The model list contains a GAP (models run with `tready` high).
    #[error("model record {model_index} is a GAP; model streams never drop")]
    GapInModel {
        /// Index in the model list.
        model_index: usize,
    },
    /// The emitted list ended before the model list (strict check only).
    #[error("emitted stream ends after {emitted_len} records; model records {model_index}.. ({missing} records) are missing, first {first:?}")]
    MissingTail {
        /// Length of the emitted list.
        emitted_len: usize,
        /// First model record not accounted for.
        model_index: usize,
        /// Number of missing model records.
        missing: usize,
        /// That record.
        first: Box<Record>,
    },
}

/// Summary of a successful check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckReport {
    /// GAP records seen.
    pub gaps: usize,
    /// Model records removed (replaced by GAPs).
    pub removed: usize,
    /// Model records past the end of the emitted list (prefix check only).
    pub tail: usize,
}

/// Which STREAM_OVERFLOW bit a role's STATUS alarm counters use.
fn overflow_bit(role: Role) -> u64 {
    match role {
        Role::Alice => u64::from(crate::alice::ALARM_STREAM_OVERFLOW),
        Role::Bob => u64::from(qkd_abi::regmap::bob::alarm::STREAM_OVERFLOW),
    }
}

/// Full 64-bit slot of each model record (EPOCH(e): `e << 40`), tracking
/// the epochs in the list.
pub fn full_slots(model: &[Record]) -> Vec<u64> {
    let mut epoch = 0u64;
    model
        .iter()
        .map(|r| {
            let low = match r {
                Record::Epoch(e) => {
                    epoch = u64::from(*e);
                    return epoch << SLOT_BITS;
                }
                Record::Detection(d) => d.slot,
                Record::AliceSymbols(a) => a.start_slot,
                Record::Status(s) => s.slot,
                Record::Gap(g) => g.first_slot,
            };
            epoch << SLOT_BITS | (low & SLOT_MASK)
        })
        .collect()
}

/// The GAP that replaces the run `model[from..to]` (`to > from`).
fn gap_for(model: &[Record], slots: &[u64], from: usize, to: usize, role: Role) -> Gap {
    let lost_slots = match role {
        Role::Alice => model[from..to]
            .iter()
            .map(|r| match r {
                Record::AliceSymbols(a) => u64::from(a.count),
                _ => 0,
            })
            .sum(),
        Role::Bob => slots[to - 1].wrapping_sub(slots[from]).wrapping_add(1),
    };
    Gap {
        first_slot: slots[from] & SLOT_MASK,
        lost_slots,
        lost_records: u32::try_from(to - from)
            .unwrap_or(u32::MAX)
            .min(GAP_RECORDS_MAX),
    }
}

/// Per model index, the Alice `SymbolsLost` a STATUS at that index must
/// carry given which model records were removed.
struct LossTracker {
    lost_in_interval: u64,
}

impl LossTracker {
    fn removed(&mut self, r: &Record) {
        if let Record::AliceSymbols(a) = r {
            self.lost_in_interval += u64::from(a.count);
        }
    }
}

/// `model` STATUS with the back-pressure-dependent fields adjusted to what
/// the emitted STATUS must carry (Alice SymbolsLost) and the overflow bit
/// cleared in both.
fn status_matches(model: &Status, emitted: &Status, lost: u64, role: Role) -> bool {
    if model.slot != emitted.slot || model.counters.len() != emitted.counters.len() {
        return false;
    }
    let ob = overflow_bit(role);
    model
        .counters
        .iter()
        .zip(&emitted.counters)
        .all(|(&(mi, mv), &(ei, ev))| {
            mi == ei
                && match mi {
                    CounterId::SymbolsLost if role == Role::Alice => ev == lost,
                    CounterId::AlarmsLive | CounterId::AlarmsSeen => mv & !ob == ev & !ob,
                    _ => mv == ev,
                }
        })
}

fn records_match(model: &Record, emitted: &Record, lost: u64, role: Role) -> bool {
    match (model, emitted) {
        (Record::Status(m), Record::Status(e)) => status_matches(m, e, lost, role),
        _ => model == emitted,
    }
}

fn check_impl(
    model: &[Record],
    emitted: &[Record],
    role: Role,
    strict: bool,
) -> Result<CheckReport, StreamMismatch> {
    if let Some(i) = model.iter().position(|r| matches!(r, Record::Gap(_))) {
        return Err(StreamMismatch::GapInModel { model_index: i });
    }
    let slots = full_slots(model);
    let mut rep = CheckReport::default();
    let mut loss = LossTracker {
        lost_in_interval: 0,
    };
    let (mut m, mut e) = (0usize, 0usize);
    while e < emitted.len() {
        if let Record::Gap(g) = &emitted[e] {
            if matches!(emitted.get(e + 1), Some(Record::Gap(_))) {
                return Err(StreamMismatch::DoubleGap { emitted_index: e });
            }
            let n = g.lost_records as usize;
            let gap_err = |field, got: u64, expected: u64| StreamMismatch::GapField {
                emitted_index: e,
                model_index: m,
                field,
                got,
                expected,
                gap: *g,
                first_removed: model.get(m).cloned().map(Box::new),
            };
            if n == 0 || m + n > model.len() {
                return Err(gap_err("lost_records", n as u64, (model.len() - m) as u64));
            }
            let mut to = m + n;
            if g.lost_records == GAP_RECORDS_MAX {
                // Saturated: the run continues until the next emitted record matches.
                if let Some(next) = emitted.get(e + 1) {
                    while to < model.len()
                        && !records_match(&model[to], next, loss.lost_in_interval, role)
                    {
                        to += 1;
                    }
                }
            }
            for r in &model[m..to] {
                loss.removed(r);
                if matches!(r, Record::Status(_)) {
                    loss.lost_in_interval = 0;
                }
            }
            let want = gap_for(model, &slots, m, to, role);
            if want.first_slot != g.first_slot {
                return Err(gap_err("first_slot", g.first_slot, want.first_slot));
            }
            if want.lost_slots != g.lost_slots {
                return Err(gap_err("lost_slots", g.lost_slots, want.lost_slots));
            }
            rep.gaps += 1;
            rep.removed += to - m;
            m = to;
            e += 1;
            continue;
        }
        let ok = model
            .get(m)
            .is_some_and(|mr| records_match(mr, &emitted[e], loss.lost_in_interval, role));
        if !ok {
            return Err(StreamMismatch::Differ {
                emitted_index: e,
                model_index: m,
                emitted: Box::new(emitted[e].clone()),
                model: model.get(m).cloned().map(Box::new),
            });
        }
        if matches!(model[m], Record::Status(_)) {
            loss.lost_in_interval = 0;
        }
        m += 1;
        e += 1;
    }
    rep.tail = model.len() - m;
    if strict && rep.tail != 0 {
        return Err(StreamMismatch::MissingTail {
            emitted_len: emitted.len(),
            model_index: m,
            missing: rep.tail,
            first: Box::new(model[m].clone()),
        });
    }
    Ok(rep)
}

/// Check that `emitted` is `model` with GAP-replaced runs and nothing
/// missing at the end.
pub fn check_stream(
    model: &[Record],
    emitted: &[Record],
    role: Role,
) -> Result<CheckReport, StreamMismatch> {
    check_impl(model, emitted, role, true)
}

/// As [`check_stream`], but model records past the end of `emitted` (still
/// in flight, or a trailing run whose GAP is still pending) are allowed and
/// counted in [`CheckReport::tail`].
pub fn check_stream_prefix(
    model: &[Record],
    emitted: &[Record],
    role: Role,
) -> Result<CheckReport, StreamMismatch> {
    check_impl(model, emitted, role, false)
}

/// Reference dropper: remove the model records whose `drop[i]` is true,
/// replace each maximal run by one GAP (spec 6), and set Alice's STATUS
/// `SymbolsLost` accordingly. A trailing run gets its GAP only if
/// `flush_gap` (in the core, the GAP waits for the next record).
pub fn apply_drops(model: &[Record], drop: &[bool], role: Role, flush_gap: bool) -> Vec<Record> {
    let slots = full_slots(model);
    let mut out = Vec::with_capacity(model.len());
    let mut run_start: Option<usize> = None;
    let mut lost = 0u64;
    for (i, r) in model.iter().enumerate() {
        if drop.get(i).copied().unwrap_or(false) {
            run_start.get_or_insert(i);
            if let Record::AliceSymbols(a) = r {
                lost += u64::from(a.count);
            }
            if matches!(r, Record::Status(_)) {
                lost = 0;
            }
            continue;
        }
        if let Some(s) = run_start.take() {
            out.push(Record::Gap(gap_for(model, &slots, s, i, role)));
        }
        match r {
            Record::Status(st) => {
                let mut st = st.clone();
                if role == Role::Alice {
                    for c in &mut st.counters {
                        if c.0 == CounterId::SymbolsLost {
                            c.1 = lost;
                        }
                    }
                }
                lost = 0;
                out.push(Record::Status(st));
            }
            _ => out.push(r.clone()),
        }
    }
    if let (Some(s), true) = (run_start, flush_gap) {
        out.push(Record::Gap(gap_for(model, &slots, s, model.len(), role)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_abi::records::{AliceSymbols, Detection};
    use qkd_abi::symbol::{Basis, Symbol};

    /// A Bob-like model stream: EPOCH(0), DETECTIONs with increasing slots,
    /// STATUS records now and then.
    fn bob_stream(steps: &[(u8, u8)]) -> Vec<Record> {
        let mut v = vec![Record::Epoch(0)];
        let mut slot = 0u64;
        for &(dt, kind) in steps {
            slot += u64::from(dt) + 1;
            if kind < 200 {
                v.push(Record::Detection(Detection {
                    slot,
                    detector: kind & 3,
                    fine_bin: kind >> 4,
                    basis: Basis::from_bit(kind & 4 != 0),
                    invalid: kind & 8 != 0,
                }));
            } else {
                v.push(Record::Status(Status {
                    slot,
                    counters: vec![
                        (CounterId::IntervalSlots, slot),
                        (CounterId::AlarmsSeen, u64::from(kind)),
                    ],
                }));
            }
        }
        v
    }

    /// An Alice-like model stream: EPOCH(0), ALICE_SYMBOLS of 64, STATUS every 4.
    fn alice_stream(n: usize) -> Vec<Record> {
        let mut v = vec![Record::Epoch(0)];
        for k in 0..n as u64 {
            let syms: Vec<Symbol> = (0..64).map(|i| Symbol(((k * 7 + i) % 12) as u8)).collect();
            v.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                64 * k,
                &syms,
            )));
            if k % 4 == 3 {
                v.push(Record::Status(Status {
                    slot: 64 * (k + 1),
                    counters: vec![
                        (CounterId::IntervalSlots, 256),
                        (CounterId::SymbolsSent, 200),
                        (CounterId::SymbolsLost, 0),
                        (CounterId::AlarmsLive, 0),
                        (CounterId::AlarmsSeen, 0),
                    ],
                }));
            }
        }
        v
    }

    #[test]
    fn identical_streams_pass() {
        let m = alice_stream(10);
        assert_eq!(
            check_stream(&m, &m, Role::Alice),
            Ok(CheckReport::default())
        );
    }

    #[test]
    fn alice_gap_counts_symbol_slots_and_status_symbols_lost() {
        let m = alice_stream(8);
        // Drop ALICE_SYMBOLS k = 1 and 2 (model indices 2, 3).
        let mut drop = vec![false; m.len()];
        drop[2] = true;
        drop[3] = true;
        let e = apply_drops(&m, &drop, Role::Alice, true);
        let Record::Gap(g) = e[2] else {
            panic!("{:?}", e[2])
        };
        assert_eq!(
            g,
            Gap {
                first_slot: 64,
                lost_slots: 128,
                lost_records: 2
            }
        );
        let Record::Status(s) = &e[4] else {
            panic!("{:?}", e[4])
        };
        assert_eq!(s.get(CounterId::SymbolsLost), Some(128));
        assert_eq!(check_stream(&m, &e, Role::Alice).unwrap().removed, 2);
        // The unadjusted STATUS (SymbolsLost 0) is rejected.
        let mut bad = e.clone();
        bad[4] = m[5].clone();
        assert!(matches!(
            check_stream(&m, &bad, Role::Alice),
            Err(StreamMismatch::Differ {
                emitted_index: 4,
                ..
            })
        ));
    }

    #[test]
    fn overflow_bit_is_not_compared() {
        let m = bob_stream(&[(3, 1), (5, 250)]);
        let flip = |bits: u64| {
            let mut e = m.clone();
            if let Record::Status(s) = &mut e[2] {
                s.counters[1].1 ^= bits;
            }
            e
        };
        assert!(check_stream(&m, &flip(1 << 6), Role::Bob).is_ok());
        assert!(check_stream(&m, &flip(1 << 6 | 1), Role::Bob).is_err());
    }

    #[test]
    fn prefix_check_allows_a_pending_tail() {
        let m = bob_stream(&[(1, 1), (2, 2), (3, 3)]);
        let mut drop = vec![false; m.len()];
        drop[3] = true;
        let e = apply_drops(&m, &drop, Role::Bob, false);
        assert_eq!(e.len(), 3);
        assert_eq!(check_stream_prefix(&m, &e, Role::Bob).unwrap().tail, 1);
        assert!(matches!(
            check_stream(&m, &e, Role::Bob),
            Err(StreamMismatch::MissingTail {
                model_index: 3,
                missing: 1,
                ..
            })
        ));
        let e = apply_drops(&m, &drop, Role::Bob, true);
        assert!(check_stream(&m, &e, Role::Bob).is_ok());
    }

    #[test]
    fn error_names_index_and_both_records() {
        let m = bob_stream(&[(1, 1), (2, 2)]);
        let e = vec![m[0].clone(), m[2].clone()];
        let err = check_stream(&m, &e, Role::Bob).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("emitted record 1") && msg.contains("model record 1"),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("{:?}", m[1])) && msg.contains(&format!("{:?}", m[2])),
            "{msg}"
        );
    }

    fn steps() -> impl Strategy<Value = Vec<(u8, u8)>> {
        prop::collection::vec((any::<u8>(), any::<u8>()), 2..60)
    }

    proptest! {
        #![proptest_config(crate::proptest_config("stream_check", 256))]
        #[test]
        fn dropped_streams_pass(s in steps(), seed in any::<u64>()) {
            let m = bob_stream(&s);
            let drop: Vec<bool> = (0..m.len()).map(|i| (seed >> (i % 64)) & 1 == 1 && i % 5 != 0).collect();
            let e = apply_drops(&m, &drop, Role::Bob, true);
            let rep = check_stream(&m, &e, Role::Bob).unwrap();
            prop_assert_eq!(rep.removed, drop.iter().filter(|&&d| d).count());
        }

        #[test]
        fn dropped_alice_streams_pass(n in 1usize..30, seed in any::<u64>()) {
            let m = alice_stream(n);
            let drop: Vec<bool> = (0..m.len()).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
            let e = apply_drops(&m, &drop, Role::Alice, true);
            prop_assert!(check_stream(&m, &e, Role::Alice).is_ok());
        }

        #[test]
        fn silent_drop_is_caught(s in steps(), seed in any::<u64>(), pick in any::<prop::sample::Index>()) {
            let m = bob_stream(&s);
            let drop: Vec<bool> = (0..m.len()).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
            let e = apply_drops(&m, &drop, Role::Bob, true);
            // Remove one non-GAP record without accounting for it.
            let cand: Vec<usize> = (0..e.len()).filter(|&i| !matches!(e[i], Record::Gap(_))).collect();
            prop_assume!(!cand.is_empty());
            let mut bad = e.clone();
            bad.remove(cand[pick.index(cand.len())]);
            prop_assert!(check_stream(&m, &bad, Role::Bob).is_err());
        }

        #[test]
        fn wrong_gap_count_is_caught(s in steps(), seed in any::<u64>(), delta in 1u32..4, up in any::<bool>()) {
            let m = bob_stream(&s);
            let drop: Vec<bool> = (0..m.len()).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
            let e = apply_drops(&m, &drop, Role::Bob, true);
            let gi = e.iter().position(|r| matches!(r, Record::Gap(_)));
            prop_assume!(gi.is_some());
            let gi = gi.unwrap_or(0);
            let mut bad = e.clone();
            if let Record::Gap(g) = &mut bad[gi] {
                g.lost_records = if up { g.lost_records + delta } else { g.lost_records.saturating_sub(delta) };
            }
            prop_assert!(check_stream(&m, &bad, Role::Bob).is_err());
            let mut bad = e.clone();
            if let Record::Gap(g) = &mut bad[gi] {
                g.lost_slots += u64::from(delta);
            }
            prop_assert!(check_stream(&m, &bad, Role::Bob).is_err());
        }

        #[test]
        fn reordering_is_caught(s in steps(), seed in any::<u64>(), pick in any::<prop::sample::Index>()) {
            let m = bob_stream(&s);
            let drop: Vec<bool> = (0..m.len()).map(|i| (seed >> (i % 64)) & 1 == 1).collect();
            let e = apply_drops(&m, &drop, Role::Bob, true);
            prop_assume!(e.len() >= 2);
            let i = pick.index(e.len() - 1);
            prop_assume!(e[i] != e[i + 1]);
            let mut bad = e.clone();
            bad.swap(i, i + 1);
            prop_assert!(check_stream(&m, &bad, Role::Bob).is_err());
        }
    }
}
