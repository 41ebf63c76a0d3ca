// SPDX-License-Identifier: MIT OR Apache-2.0
//! Record-stream checker of `docs/gateware-spec.md` section 6: the emitted
//! stream must be the golden model's stream with some records removed,
//! where every maximal run of removed records is replaced, at its position,
//! by exactly one GAP that counts it (`first_slot` = slot of the first
//! removed record, `lost_records` = run length, saturating at 2^20 - 1,
//! `lost_slots` per role). The emitted stream may stop early (records still
//! queued, or a GAP still pending, when the simulation ends).

use qkd_abi::records::{Record, GAP_RECORDS_MAX, SLOT_MASK};

/// How `lost_slots` of a GAP is computed (spec section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapSlots {
    /// Alice: the slots covered by the removed ALICE_SYMBOLS records.
    AliceSymbolCount,
    /// Bob: last removed record's slot - first removed record's slot + 1.
    BobSpan,
}

/// Summary of a successful check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckSummary {
    /// Records matched one to one.
    pub matched: usize,
    /// GAP records checked.
    pub gaps: usize,
    /// Model records covered by GAPs.
    pub removed: usize,
    /// Model records after the end of the emitted stream (still queued).
    pub not_yet_emitted: usize,
}

/// The first place where the streams disagree.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("stream mismatch at emitted record {dut_index} (cycle {cycle}), model record {model_index}: {why}\n  emitted: {dut:?}\n  model:   {model:?}")]
pub struct StreamMismatch {
    /// Index in the emitted stream.
    pub dut_index: usize,
    /// Cycle at which the emitted record ended (0 if unknown).
    pub cycle: u64,
    /// Index in the model stream.
    pub model_index: usize,
    /// The emitted record.
    pub dut: Option<Record>,
    /// The model record at that position.
    pub model: Option<Record>,
    /// What is wrong.
    pub why: String,
}

/// Slot carried by a record (EPOCH: the first slot of its epoch, low bits).
pub fn record_slot(r: &Record) -> u64 {
    match r {
        Record::Detection(d) => d.slot,
        Record::AliceSymbols(a) => a.start_slot,
        Record::Status(s) => s.slot,
        Record::Gap(g) => g.first_slot,
        Record::Epoch(e) => (u64::from(*e) << 40) & SLOT_MASK,
    }
}

fn lost_slots(run: &[Record], mode: GapSlots) -> u64 {
    match mode {
        GapSlots::AliceSymbolCount => run
            .iter()
            .map(|r| match r {
                Record::AliceSymbols(a) => u64::from(a.count),
                _ => 0,
            })
            .sum(),
        GapSlots::BobSpan => match (run.first(), run.last()) {
            (Some(f), Some(l)) => (record_slot(l).wrapping_sub(record_slot(f)) & SLOT_MASK) + 1,
            _ => 0,
        },
    }
}

/// Check `dut` (records with their cycles) against `model`.
pub fn check_stream(
    model: &[Record],
    dut: &[(Record, u64)],
    mode: GapSlots,
) -> Result<CheckSummary, Box<StreamMismatch>> {
    let mut sum = CheckSummary::default();
    let mut j = 0usize;
    let mut i = 0usize;
    let mism = |i: usize, j: usize, why: String| Box::new(StreamMismatch {
        dut_index: i,
        cycle: dut.get(i).map_or(0, |d| d.1),
        model_index: j,
        dut: dut.get(i).map(|d| d.0.clone()),
        model: model.get(j).cloned(),
        why,
    });
    while i < dut.len() {
        let (rec, _) = &dut[i];
        if model.get(j) == Some(rec) {
            i += 1;
            j += 1;
            sum.matched += 1;
            continue;
        }
        let Record::Gap(g) = rec else {
            return Err(mism(
                i,
                j,
                if j >= model.len() {
                    "the core emitted more records than the model".into()
                } else {
                    "records differ".into()
                },
            ));
        };
        if j >= model.len() {
            return Err(mism(i, j, "GAP after the end of the model stream".into()));
        }
        if g.lost_records == 0 {
            return Err(mism(i, j, "GAP with lost_records = 0".into()));
        }
        // Length of the removed run.
        let n = if g.lost_records < GAP_RECORDS_MAX {
            g.lost_records as usize
        } else {
            // Saturated: the run ends where the next emitted record matches.
            match dut.get(i + 1) {
                Some((next, _)) => match model[j..]
                    .iter()
                    .skip(GAP_RECORDS_MAX as usize)
                    .position(|m| m == next)
                {
                    Some(p) => GAP_RECORDS_MAX as usize + p,
                    None => {
                        return Err(mism(
                            i,
                            j,
                            "saturated GAP not followed by a model record".into(),
                        ))
                    }
                },
                None => model.len() - j,
            }
        };
        if j + n > model.len() {
            return Err(mism(
                i,
                j,
                format!(
                    "GAP counts {n} records but only {} model records remain",
                    model.len() - j
                ),
            ));
        }
        let run = &model[j..j + n];
        let first = record_slot(&run[0]);
        if g.first_slot != first {
            return Err(mism(
                i,
                j,
                format!(
                    "GAP first_slot {} but the first removed record has slot {first}",
                    g.first_slot
                ),
            ));
        }
        let want = lost_slots(run, mode);
        if g.lost_slots != want {
            return Err(mism(
                i,
                j,
                format!(
                    "GAP lost_slots {} but the {n} removed records give {want}",
                    g.lost_slots
                ),
            ));
        }
        // Maximality: the next emitted record must be the next model record
        // (another GAP cannot follow a GAP directly).
        if let Some((next, _)) = dut.get(i + 1) {
            if model.get(j + n) != Some(next) {
                return Err(mism(
                    i + 1,
                    j + n,
                    format!("record after a GAP of {n} records is not the next model record"),
                ));
            }
        }
        sum.gaps += 1;
        sum.removed += n;
        i += 1;
        j += n;
    }
    sum.not_yet_emitted = model.len() - j;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_abi::records::{Detection, Gap};
    use qkd_abi::symbol::Basis;

    fn det(slot: u64) -> Record {
        Record::Detection(Detection {
            slot,
            detector: 0,
            fine_bin: 3,
            basis: Basis::Z,
            invalid: false,
        })
    }
    fn gap(first_slot: u64, lost_records: u32, lost_slots: u64) -> Record {
        Record::Gap(Gap {
            first_slot,
            lost_slots,
            lost_records,
        })
    }
    fn c(v: Vec<Record>) -> Vec<(Record, u64)> {
        v.into_iter().map(|r| (r, 0)).collect()
    }

    #[test]
    fn equal_and_prefix_streams_pass() {
        let m = vec![Record::Epoch(0), det(5), det(9), det(20)];
        let s = check_stream(&m, &c(m.clone()), GapSlots::BobSpan).unwrap();
        assert_eq!(s.matched, 4);
        let s = check_stream(&m, &c(m[..2].to_vec()), GapSlots::BobSpan).unwrap();
        assert_eq!(s.not_yet_emitted, 2);
    }

    #[test]
    fn gap_must_count_the_removed_run() {
        let m = vec![Record::Epoch(0), det(5), det(9), det(20), det(30)];
        let ok = c(vec![Record::Epoch(0), gap(5, 2, 5), det(20), det(30)]);
        assert_eq!(check_stream(&m, &ok, GapSlots::BobSpan).unwrap().removed, 2);
        for bad in [
            vec![Record::Epoch(0), gap(5, 2, 4), det(20)], // wrong lost_slots
            vec![Record::Epoch(0), gap(9, 2, 5), det(20)], // wrong first_slot
            vec![Record::Epoch(0), gap(5, 1, 1), det(20)], // run not maximal
            vec![Record::Epoch(0), gap(5, 1, 1), gap(9, 1, 1)], // two GAPs for one run
            vec![Record::Epoch(0), det(9)],                // silent drop
            vec![Record::Epoch(0), det(5), det(9), det(20), det(30), det(31)], // extra
        ] {
            let e = check_stream(&m, &c(bad.clone()), GapSlots::BobSpan);
            assert!(e.is_err(), "{bad:?} accepted");
        }
        let e =
            check_stream(&m, &c(vec![Record::Epoch(0), det(9)]), GapSlots::BobSpan).unwrap_err();
        assert_eq!((e.dut_index, e.model_index), (1, 1));
    }

    #[test]
    fn trailing_gap_may_end_the_stream() {
        let m = vec![Record::Epoch(0), det(5), det(9)];
        let s = check_stream(
            &m,
            &c(vec![Record::Epoch(0), gap(5, 2, 5)]),
            GapSlots::BobSpan,
        )
        .unwrap();
        assert_eq!(s.removed, 2);
    }
}
