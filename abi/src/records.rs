// SPDX-License-Identifier: MIT OR Apache-2.0
//! Stream records: what the cores send to the host over the AXI4-Stream /
//! PCIe DMA channel.
//!
//! Every record is one or more little-endian 64-bit words. The first word
//! carries a 4-bit type tag in bits [63:60]; tags 0x0 and 0xF are never
//! used, so idle fill (all zeros) and bus garbage (all ones) are rejected.
//! Slot (symbol) indices are 64-bit counts since START; records carry the
//! low [`SLOT_BITS`] bits and an EPOCH record carries the high bits, sent at
//! START and whenever the low part wraps.
//!
//! | tag | record        | words      | header layout (bits)                                          |
//! |-----|---------------|------------|---------------------------------------------------------------|
//! | 1   | DETECTION     | 1          | slot[39:0] det[41:40] bin[45:42] basis[46] invalid[47]         |
//! | 2   | ALICE_SYMBOLS | 1+ceil(n/16) | start slot[39:0] n[49:40]; payload: symbol i at word i/16, bits 4(i%16)+3..4(i%16) |
//! | 3   | STATUS        | 1+k        | slot[39:0] (interval end, exclusive) k[47:40]; payload: id[63:56] value[55:0] |
//! | 4   | GAP           | 2          | first lost slot[39:0] lost records[59:40]; payload: lost slots (64 bits) |
//! | 5   | EPOCH         | 1          | slot index >> 40 in [23:0]                                     |
//!
//! All bits not listed are reserved and must be zero; decoders reject them.

use crate::symbol::{Basis, Symbol};
use serde::Serialize;

/// Bit position of the 4-bit type tag.
pub const TAG_SHIFT: u32 = 60;
/// Low bits of the slot index carried by records.
pub const SLOT_BITS: u32 = 40;
/// Mask of [`SLOT_BITS`].
pub const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
/// Most symbols in one ALICE_SYMBOLS record.
pub const MAX_SYMBOLS_PER_RECORD: usize = 1023;
/// Symbols per ALICE_SYMBOLS payload word.
pub const SYMBOLS_PER_WORD: usize = 16;
/// Most counters in one STATUS record.
pub const MAX_STATUS_COUNTERS: usize = 255;
/// Largest STATUS counter value (56 bits).
pub const STATUS_VALUE_MAX: u64 = (1 << 56) - 1;
/// Saturation value of GAP's lost-record count (20 bits).
pub const GAP_RECORDS_MAX: u32 = (1 << 20) - 1;
/// Largest EPOCH value (24 bits).
pub const EPOCH_MAX: u32 = (1 << 24) - 1;

/// Record type tags (bits [63:60] of the first word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[repr(u8)]
pub enum Tag {
    /// A click accepted by Bob.
    Detection = 1,
    /// A run of Alice's symbols.
    AliceSymbols = 2,
    /// Periodic counters and alarms.
    Status = 3,
    /// Records lost to back-pressure.
    Gap = 4,
    /// High bits of the slot index.
    Epoch = 5,
}

impl Tag {
    /// From the 4-bit tag value.
    pub fn from_u4(t: u8) -> Option<Tag> {
        Some(match t {
            1 => Tag::Detection,
            2 => Tag::AliceSymbols,
            3 => Tag::Status,
            4 => Tag::Gap,
            5 => Tag::Epoch,
            _ => return None,
        })
    }
    /// The tag of a header word, if it is a known one.
    pub fn of_word(w: u64) -> Option<Tag> {
        Tag::from_u4((w >> TAG_SHIFT) as u8)
    }
    /// Upper-case record name.
    pub fn name(self) -> &'static str {
        match self {
            Tag::Detection => "DETECTION",
            Tag::AliceSymbols => "ALICE_SYMBOLS",
            Tag::Status => "STATUS",
            Tag::Gap => "GAP",
            Tag::Epoch => "EPOCH",
        }
    }
}

/// Bob's DETECTION record: one accepted click.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Detection {
    /// Low 40 bits of the slot index.
    pub slot: u64,
    /// Detector that clicked (0..=3).
    pub detector: u8,
    /// TDC fine bin of the first rising edge (0..=15).
    pub fine_bin: u8,
    /// Bob's measurement basis in this slot.
    pub basis: Basis,
    /// An alarm was live: the host must not use this detection.
    pub invalid: bool,
}

/// Alice's ALICE_SYMBOLS record: `count` consecutive symbols from `start_slot`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct AliceSymbols {
    /// Low 40 bits of the first symbol's slot index.
    pub start_slot: u64,
    /// Number of symbols (1..=1023).
    pub count: u16,
    /// Packed payload: symbol i in word i/16, nibble i%16 (LSB first).
    pub packed: Vec<u64>,
}

impl AliceSymbols {
    /// Build from unpacked symbols.
    pub fn from_symbols(start_slot: u64, symbols: &[Symbol]) -> AliceSymbols {
        let mut packed = vec![0u64; symbols.len().div_ceil(SYMBOLS_PER_WORD)];
        for (i, s) in symbols.iter().enumerate() {
            packed[i / SYMBOLS_PER_WORD] |= u64::from(s.code()) << (4 * (i % SYMBOLS_PER_WORD));
        }
        AliceSymbols {
            start_slot,
            count: symbols.len() as u16,
            packed,
        }
    }
    /// Symbol `i` (0-based within the record); `None` past `count`.
    pub fn symbol(&self, i: usize) -> Option<Symbol> {
        if i >= usize::from(self.count) {
            return None;
        }
        let w = self.packed.get(i / SYMBOLS_PER_WORD)?;
        Some(Symbol(((w >> (4 * (i % SYMBOLS_PER_WORD))) & 0xF) as u8))
    }
    /// Iterate the symbols.
    pub fn symbols(&self) -> impl Iterator<Item = Symbol> + '_ {
        (0..usize::from(self.count)).filter_map(|i| self.symbol(i))
    }
}

/// Counter identifiers of STATUS payload words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CounterId {
    /// Slots covered by this STATUS interval.
    IntervalSlots,
    /// Gates applied (Bob) in the interval.
    Gates,
    /// Accepted clicks (DETECTION records).
    Accepted,
    /// Clicks outside the gate window.
    AfterGate,
    /// Clicks discarded in the common dead time.
    DeadTimeSuppressed,
    /// Clicks made while an alarm was live.
    Invalid,
    /// Live alarm bits at the end of the interval (Bob: `bob::alarm`, Alice: `ALICE_ALARMS` bits).
    AlarmsLive,
    /// Alarm bits seen at any time during the interval.
    AlarmsSeen,
    /// Symbols sent by Alice.
    SymbolsSent,
    /// Symbols whose records were lost (Alice).
    SymbolsLost,
    /// Raw clicks (first rising edges) on detector d.
    Clicks(u8),
    /// Largest photocurrent ADC sample on detector d.
    PhotocurrentMax(u8),
}

impl CounterId {
    /// 8-bit wire code.
    pub fn code(self) -> u8 {
        match self {
            CounterId::IntervalSlots => 0x01,
            CounterId::Gates => 0x02,
            CounterId::Accepted => 0x03,
            CounterId::AfterGate => 0x04,
            CounterId::DeadTimeSuppressed => 0x05,
            CounterId::Invalid => 0x06,
            CounterId::AlarmsLive => 0x07,
            CounterId::AlarmsSeen => 0x08,
            CounterId::SymbolsSent => 0x09,
            CounterId::SymbolsLost => 0x0A,
            CounterId::Clicks(d) => 0x10 | (d & 3),
            CounterId::PhotocurrentMax(d) => 0x20 | (d & 3),
        }
    }
    /// From the 8-bit wire code.
    pub fn from_code(c: u8) -> Option<CounterId> {
        Some(match c {
            0x01 => CounterId::IntervalSlots,
            0x02 => CounterId::Gates,
            0x03 => CounterId::Accepted,
            0x04 => CounterId::AfterGate,
            0x05 => CounterId::DeadTimeSuppressed,
            0x06 => CounterId::Invalid,
            0x07 => CounterId::AlarmsLive,
            0x08 => CounterId::AlarmsSeen,
            0x09 => CounterId::SymbolsSent,
            0x0A => CounterId::SymbolsLost,
            0x10..=0x13 => CounterId::Clicks(c & 3),
            0x20..=0x23 => CounterId::PhotocurrentMax(c & 3),
            _ => return None,
        })
    }
}

/// STATUS record: counters over the interval ending (exclusive) at `slot`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Status {
    /// Low 40 bits of the slot index that ends the interval (exclusive).
    pub slot: u64,
    /// Counters, in wire order (at most 255, values < 2^56).
    pub counters: Vec<(CounterId, u64)>,
}

impl Status {
    /// Value of a counter, if present.
    pub fn get(&self, id: CounterId) -> Option<u64> {
        self.counters
            .iter()
            .find(|(c, _)| *c == id)
            .map(|(_, v)| *v)
    }
}

/// GAP record: records lost to back-pressure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Gap {
    /// Low 40 bits of the first slot whose records were lost.
    pub first_slot: u64,
    /// Number of consecutive slots whose records were lost.
    pub lost_slots: u64,
    /// Records lost (saturates at 2^20 - 1).
    pub lost_records: u32,
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Record {
    /// See [`Detection`].
    Detection(Detection),
    /// See [`AliceSymbols`].
    AliceSymbols(AliceSymbols),
    /// See [`Status`].
    Status(Status),
    /// See [`Gap`].
    Gap(Gap),
    /// High 24 bits of the slot index (`slot >> 40`) from here on.
    Epoch(u32),
}

/// Why a record could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field's value does not fit its width or range.
    #[error("{record}.{field} = {value} is out of range (max {max})")]
    FieldOutOfRange {
        /// Record name.
        record: &'static str,
        /// Field name.
        field: &'static str,
        /// Offending value.
        value: u64,
        /// Largest allowed value.
        max: u64,
    },
}

/// Why words could not be decoded as a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The header's tag is not a known record type.
    #[error("unknown record tag {tag:#x} in word {word:#018x}")]
    UnknownTag {
        /// The 4-bit tag.
        tag: u8,
        /// The whole word.
        word: u64,
    },
    /// Reserved bits are set.
    #[error("{record} word {index} has reserved bits {bits:#018x} set")]
    ReservedBits {
        /// Record name.
        record: &'static str,
        /// Word index within the record.
        index: usize,
        /// The offending bits.
        bits: u64,
    },
    /// A field holds a value the format forbids.
    #[error("{record}.{field} = {value} is out of range")]
    FieldOutOfRange {
        /// Record name.
        record: &'static str,
        /// Field name.
        field: &'static str,
        /// Offending value.
        value: u64,
    },
    /// The record continues past the end of the input.
    #[error("{record} needs {needed} words, only {available} available")]
    Truncated {
        /// Record name.
        record: &'static str,
        /// Words the record needs.
        needed: usize,
        /// Words available.
        available: usize,
    },
    /// No input at all.
    #[error("no words to decode")]
    Empty,
}

impl DecodeError {
    /// True when more input may complete the record (the header was valid).
    pub fn is_truncated(&self) -> bool {
        matches!(self, DecodeError::Truncated { .. } | DecodeError::Empty)
    }
}

fn check(
    record: &'static str,
    field: &'static str,
    value: u64,
    max: u64,
) -> Result<u64, EncodeError> {
    if value > max {
        Err(EncodeError::FieldOutOfRange {
            record,
            field,
            value,
            max,
        })
    } else {
        Ok(value)
    }
}

fn tagged(tag: Tag, body: u64) -> u64 {
    (u64::from(tag as u8) << TAG_SHIFT) | body
}

impl Record {
    /// The record's tag.
    pub fn tag(&self) -> Tag {
        match self {
            Record::Detection(_) => Tag::Detection,
            Record::AliceSymbols(_) => Tag::AliceSymbols,
            Record::Status(_) => Tag::Status,
            Record::Gap(_) => Tag::Gap,
            Record::Epoch(_) => Tag::Epoch,
        }
    }

    /// Number of 64-bit words the record occupies on the wire.
    pub fn len_words(&self) -> usize {
        match self {
            Record::Detection(_) | Record::Epoch(_) => 1,
            Record::AliceSymbols(a) => 1 + usize::from(a.count).div_ceil(SYMBOLS_PER_WORD),
            Record::Status(s) => 1 + s.counters.len(),
            Record::Gap(_) => 2,
        }
    }

    /// Append the record's words to `out`. Nothing is appended on error.
    pub fn encode(&self, out: &mut Vec<u64>) -> Result<(), EncodeError> {
        match self {
            Record::Detection(d) => {
                let slot = check("DETECTION", "slot", d.slot, SLOT_MASK)?;
                let det = check("DETECTION", "detector", d.detector.into(), 3)?;
                let bin = check("DETECTION", "fine_bin", d.fine_bin.into(), 15)?;
                out.push(tagged(
                    Tag::Detection,
                    slot | det << 40
                        | bin << 42
                        | (d.basis as u64) << 46
                        | u64::from(d.invalid) << 47,
                ));
            }
            Record::AliceSymbols(a) => {
                let slot = check("ALICE_SYMBOLS", "start_slot", a.start_slot, SLOT_MASK)?;
                let n = usize::from(a.count);
                check(
                    "ALICE_SYMBOLS",
                    "count",
                    n as u64,
                    MAX_SYMBOLS_PER_RECORD as u64,
                )?;
                if n == 0 {
                    return Err(EncodeError::FieldOutOfRange {
                        record: "ALICE_SYMBOLS",
                        field: "count",
                        value: 0,
                        max: MAX_SYMBOLS_PER_RECORD as u64,
                    });
                }
                let words = n.div_ceil(SYMBOLS_PER_WORD);
                check(
                    "ALICE_SYMBOLS",
                    "packed.len",
                    a.packed.len() as u64,
                    words as u64,
                )?;
                out.push(tagged(Tag::AliceSymbols, slot | (n as u64) << 40));
                for i in 0..words {
                    let mut w = a.packed.get(i).copied().unwrap_or(0);
                    let used = (n - i * SYMBOLS_PER_WORD).min(SYMBOLS_PER_WORD);
                    if used < SYMBOLS_PER_WORD {
                        w &= (1u64 << (4 * used)) - 1;
                    }
                    out.push(w);
                }
            }
            Record::Status(s) => {
                let slot = check("STATUS", "slot", s.slot, SLOT_MASK)?;
                let k = check(
                    "STATUS",
                    "counters.len",
                    s.counters.len() as u64,
                    MAX_STATUS_COUNTERS as u64,
                )?;
                for (_, v) in &s.counters {
                    check("STATUS", "counter value", *v, STATUS_VALUE_MAX)?;
                }
                out.push(tagged(Tag::Status, slot | k << 40));
                out.extend(
                    s.counters
                        .iter()
                        .map(|(c, v)| u64::from(c.code()) << 56 | v),
                );
            }
            Record::Gap(g) => {
                let slot = check("GAP", "first_slot", g.first_slot, SLOT_MASK)?;
                let r = check(
                    "GAP",
                    "lost_records",
                    g.lost_records.into(),
                    GAP_RECORDS_MAX.into(),
                )?;
                out.push(tagged(Tag::Gap, slot | r << 40));
                out.push(g.lost_slots);
            }
            Record::Epoch(e) => {
                let e = check("EPOCH", "epoch", u64::from(*e), EPOCH_MAX.into())?;
                out.push(tagged(Tag::Epoch, e));
            }
        }
        Ok(())
    }

    /// Encode into a fresh vector of words.
    pub fn to_words(&self) -> Result<Vec<u64>, EncodeError> {
        let mut v = Vec::with_capacity(self.len_words());
        self.encode(&mut v)?;
        Ok(v)
    }

    /// Decode one record from the start of `words`; returns it and the
    /// number of words it used.
    pub fn decode(words: &[u64]) -> Result<(Record, usize), DecodeError> {
        let Some(&h) = words.first() else {
            return Err(DecodeError::Empty);
        };
        let t = (h >> TAG_SHIFT) as u8;
        let tag = Tag::from_u4(t).ok_or(DecodeError::UnknownTag { tag: t, word: h })?;
        let body = h & ((1 << TAG_SHIFT) - 1);
        let reserved = |mask_used: u64| -> Result<(), DecodeError> {
            let bits = body & !mask_used;
            if bits != 0 {
                Err(DecodeError::ReservedBits {
                    record: tag.name(),
                    index: 0,
                    bits,
                })
            } else {
                Ok(())
            }
        };
        let need = |n: usize| -> Result<(), DecodeError> {
            if words.len() < n {
                Err(DecodeError::Truncated {
                    record: tag.name(),
                    needed: n,
                    available: words.len(),
                })
            } else {
                Ok(())
            }
        };
        match tag {
            Tag::Detection => {
                reserved((1 << 48) - 1)?;
                Ok((
                    Record::Detection(Detection {
                        slot: body & SLOT_MASK,
                        detector: ((body >> 40) & 3) as u8,
                        fine_bin: ((body >> 42) & 0xF) as u8,
                        basis: Basis::from_bit(body >> 46 & 1 != 0),
                        invalid: body >> 47 & 1 != 0,
                    }),
                    1,
                ))
            }
            Tag::AliceSymbols => {
                reserved((1 << 50) - 1)?;
                let n = ((body >> 40) & 0x3FF) as usize;
                if n == 0 {
                    return Err(DecodeError::FieldOutOfRange {
                        record: tag.name(),
                        field: "count",
                        value: 0,
                    });
                }
                let pw = n.div_ceil(SYMBOLS_PER_WORD);
                need(1 + pw)?;
                let packed = words[1..=pw].to_vec();
                let tail = n % SYMBOLS_PER_WORD;
                if tail != 0 {
                    let bits = packed[pw - 1] & !((1u64 << (4 * tail)) - 1);
                    if bits != 0 {
                        return Err(DecodeError::ReservedBits {
                            record: tag.name(),
                            index: pw,
                            bits,
                        });
                    }
                }
                Ok((
                    Record::AliceSymbols(AliceSymbols {
                        start_slot: body & SLOT_MASK,
                        count: n as u16,
                        packed,
                    }),
                    1 + pw,
                ))
            }
            Tag::Status => {
                reserved((1 << 48) - 1)?;
                let k = ((body >> 40) & 0xFF) as usize;
                need(1 + k)?;
                let mut counters = Vec::with_capacity(k);
                for &w in &words[1..=k] {
                    let code = (w >> 56) as u8;
                    let id = CounterId::from_code(code).ok_or(DecodeError::FieldOutOfRange {
                        record: tag.name(),
                        field: "counter id",
                        value: code.into(),
                    })?;
                    counters.push((id, w & STATUS_VALUE_MAX));
                }
                Ok((
                    Record::Status(Status {
                        slot: body & SLOT_MASK,
                        counters,
                    }),
                    1 + k,
                ))
            }
            Tag::Gap => {
                need(2)?;
                Ok((
                    Record::Gap(Gap {
                        first_slot: body & SLOT_MASK,
                        lost_records: (body >> 40) as u32 & GAP_RECORDS_MAX,
                        lost_slots: words[1],
                    }),
                    2,
                ))
            }
            Tag::Epoch => {
                reserved(u64::from(EPOCH_MAX))?;
                Ok((Record::Epoch(body as u32), 1))
            }
        }
    }
}

/// Decode a little-endian byte buffer into words (trailing partial word ignored).
pub fn words_from_le_bytes(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            u64::from_le_bytes(b)
        })
        .collect()
}

/// Encode words as little-endian bytes.
pub fn words_to_le_bytes(words: &[u64]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::{Intensity, Symbol};

    #[test]
    fn detection_layout_matches_table() {
        let r = Record::Detection(Detection {
            slot: 0x12_3456_789A,
            detector: 2,
            fine_bin: 5,
            basis: Basis::X,
            invalid: true,
        });
        let w = r.to_words().unwrap();
        assert_eq!(
            w,
            vec![0x1000_0000_0000_0000 | 0x12_3456_789A | 2 << 40 | 5 << 42 | 1 << 46 | 1 << 47]
        );
    }

    #[test]
    fn symbols_pack_lsb_first() {
        let syms: Vec<Symbol> = (0..17).map(|i| Symbol((i % 16) as u8)).collect();
        let r = Record::AliceSymbols(AliceSymbols::from_symbols(7, &syms));
        let w = r.to_words().unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w[0], 0x2000_0000_0000_0000 | 17 << 40 | 7);
        assert_eq!(w[1], 0xFEDC_BA98_7654_3210);
        assert_eq!(w[2], 0);
        let (back, n) = Record::decode(&w).unwrap();
        assert_eq!(n, 3);
        assert_eq!(back, r);
        let Record::AliceSymbols(a) = back else {
            panic!()
        };
        assert_eq!(a.symbol(16), Some(Symbol(0)));
        assert_eq!(a.symbol(17), None);
        assert_eq!(Symbol::new(Intensity::Signal, Basis::Z, false), Symbol(0));
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(
            Record::decode(&[0]),
            Err(DecodeError::UnknownTag { tag: 0, .. })
        ));
        assert!(matches!(
            Record::decode(&[u64::MAX]),
            Err(DecodeError::UnknownTag { tag: 0xF, .. })
        ));
        assert!(matches!(
            Record::decode(&[0x1000_0000_0000_0000 | 1 << 50]),
            Err(DecodeError::ReservedBits { .. })
        ));
        let e = Record::decode(&[0x4000_0000_0000_0000]).unwrap_err();
        assert!(e.is_truncated());
        let bad = Record::Detection(Detection {
            slot: 1 << 40,
            detector: 0,
            fine_bin: 0,
            basis: Basis::Z,
            invalid: false,
        });
        assert!(matches!(
            bad.to_words(),
            Err(EncodeError::FieldOutOfRange { field: "slot", .. })
        ));
        assert_eq!(Record::decode(&[]), Err(DecodeError::Empty));
    }
}
