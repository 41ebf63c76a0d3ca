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
            ends.get(i).map_or(true, |&(_, seen)| seen == 0)
        })
        .copied()
        .collect()
}
