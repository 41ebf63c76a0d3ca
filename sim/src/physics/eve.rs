// SPDX-License-Identifier: MIT OR Apache-2.0
//! Checking Eve's knowledge against what the key pipeline keeps.
//!
//! The security claim the simulator lets tests verify (DESIGN.md, Attacks):
//! every attack ends in an alarm or an aborted block, never in key bits the
//! attacker knows. [`EveTag`]s say, per DETECTION, whether Eve knows Bob's
//! bit; these helpers relate them to Bob's STATUS alarms and to the slots
//! that ended up in key.

use super::link::EveTag;
use qkd_abi::records::{CounterId, Record, SLOT_MASK};
use std::collections::HashSet;

/// Key bits Eve knows survived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Eve knows {} key bit(s), first at slot {}", slots.len(), slots.first().copied().unwrap_or(0))]
pub struct EveKnowsKeyBits {
    /// Full slot indices of the known key bits.
    pub slots: Vec<u64>,
}

/// Full slot indices of the DETECTIONs whose bit Eve knows.
pub fn eve_known_slots(tags: &[EveTag]) -> HashSet<u64> {
    tags.iter()
        .filter(|t| t.eve_knows)
        .map(|t| t.slot)
        .collect()
}

/// Fail if any slot in `key_slots` (the full slot indices whose bits went
/// into a delivered key) is one whose bit Eve knows.
pub fn check_key_slots_unknown(
    tags: &[EveTag],
    key_slots: impl IntoIterator<Item = u64>,
) -> Result<(), EveKnowsKeyBits> {
    let known = eve_known_slots(tags);
    let mut slots: Vec<u64> = key_slots
        .into_iter()
        .filter(|s| known.contains(s))
        .collect();
    if slots.is_empty() {
        Ok(())
    } else {
        slots.sort_unstable();
        Err(EveKnowsKeyBits { slots })
    }
}

/// Accepted (not INVALID) DETECTIONs whose bit Eve knows and whose STATUS
/// interval saw no alarm: the detections only the key pipeline's
/// estimation (QBER, decoy bounds) can still stop. `bob` is Bob's record
/// stream (with STATUS records), `tags` the matching Eve tags. Detections
/// after the last STATUS are reported too (no alarm evidence yet).
pub fn known_detections_without_alarm(bob: &[Record], tags: &[EveTag]) -> Vec<EveTag> {
    // Interval ends (low 40 bits, made monotone by epochs) with their AlarmsSeen.
    let mut ends: Vec<(u64, u64)> = Vec::new();
    let mut epoch = 0u64;
    for r in bob {
        match r {
            Record::Epoch(e) => epoch = u64::from(*e),
            Record::Status(s) => ends.push((
                (epoch << 40) | (s.slot & SLOT_MASK),
                s.get(CounterId::AlarmsSeen).unwrap_or(0),
            )),
            _ => {}
        }
    }
    tags.iter()
        .filter(|t| t.eve_knows && !t.invalid)
        .filter(|t| {
            // first interval whose end is above the slot
            let i = ends.partition_point(|&(end, _)| end <= t.slot);
            ends.get(i).is_none_or(|&(_, seen)| seen == 0)
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::attack::ClickSource;
    use qkd_abi::records::Status;

    fn tag(slot: u64, knows: bool, invalid: bool) -> EveTag {
        EveTag {
            slot,
            detector: 0,
            invalid,
            eve_knows: knows,
            source: ClickSource::Photon,
        }
    }

    #[test]
    fn key_check_names_the_known_slots() {
        let tags = [
            tag(5, false, false),
            tag(9, true, false),
            tag(12, true, false),
        ];
        assert_eq!(check_key_slots_unknown(&tags, [5, 7]), Ok(()));
        let e = check_key_slots_unknown(&tags, [12, 5, 9]).unwrap_err();
        assert_eq!(e.slots, vec![9, 12]);
        assert_eq!(e.to_string(), "Eve knows 2 key bit(s), first at slot 9");
    }

    #[test]
    fn alarmed_intervals_cover_known_detections() {
        let st = |slot: u64, seen: u64| {
            Record::Status(Status {
                slot,
                counters: vec![(CounterId::AlarmsSeen, seen)],
            })
        };
        // intervals [0,100) clean, [100,200) alarmed; nothing after 200
        let bob = [Record::Epoch(0), st(100, 0), st(200, 2)];
        let tags = [
            tag(50, true, false),
            tag(150, true, false),
            tag(60, true, true),
            tag(250, true, false),
            tag(70, false, false),
        ];
        let left: Vec<u64> = known_detections_without_alarm(&bob, &tags)
            .iter()
            .map(|t| t.slot)
            .collect();
        assert_eq!(left, vec![50, 250]);
    }
}
