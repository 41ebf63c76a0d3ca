// SPDX-License-Identifier: MIT OR Apache-2.0
//! Alice's side of the fast link: her symbols from the test PRNG (spec 1,
//! 2, 4.1, 4.2, RUN mode, no entropy alarm) and her record stream (spec
//! 4.4): `EPOCH(0)`, one ALICE_SYMBOLS record per 64 slots, STATUS every
//! `2^t` slots.
//!
//! Two stream modes (see README.md, "Alice's compressed stream"):
//! * [`AliceStreamMode::Full`]: every record, exactly as the hardware.
//! * [`AliceStreamMode::Sparse`]: the subsequence of the full stream made of
//!   the EPOCH and STATUS records and the ALICE_SYMBOLS records that contain
//!   a slot in which Bob reported a DETECTION (accepted or invalid). Each
//!   kept record is identical to the hardware's record, so a slot-indexed
//!   join (sifting) gives the same result on both streams.

use super::prng::{AliceSelect, LanePrng};
use qkd_abi::records::{AliceSymbols, CounterId, Record, Status, SLOT_BITS, SLOT_MASK};
use qkd_abi::symbol::Symbol;

/// Slots per ALICE_SYMBOLS record (`RECORD_SYMBOLS`, spec 4.4).
pub const RECORD_SYMBOLS: u64 = 64;

/// Which ALICE_SYMBOLS records the fast link emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AliceStreamMode {
    /// Only the records covering Bob's DETECTION slots (plus EPOCH/STATUS).
    #[default]
    Sparse,
    /// Every record (hardware-identical; slow for long runs).
    Full,
}

/// Alice's symbol source and record stream.
#[derive(Debug, Clone)]
pub struct AliceStream {
    sel: AliceSelect,
    lanes: u64,
    status_log2: Option<u32>,
    mode: AliceStreamMode,
    /// PRNG at the first cycle of block `block`.
    prng: LanePrng,
    block: u64,
    /// Next block whose record may still be emitted.
    next_emit: u64,
    /// Next STATUS boundary (multiple of 2^t) and the previous one.
    next_status: u64,
    prev_status: u64,
    epoch: Option<u32>,
    records: Vec<Record>,
    symbols_sent: u64,
}

impl AliceStream {
    /// Alice after START with test-PRNG seed `seed`. `status_log2` is
    /// `STREAM_CTRL.STATUS_INTERVAL_LOG2` (STATUS when >= 6).
    pub fn new(
        sel: AliceSelect,
        seed: u64,
        lanes: usize,
        status_log2: u8,
        mode: AliceStreamMode,
    ) -> AliceStream {
        let prng = LanePrng::new(seed, lanes);
        let t = u32::from(status_log2);
        let status_log2 = if (6..=40).contains(&t) { Some(t) } else { None };
        let mut a = AliceStream {
            sel,
            lanes: prng.lanes() as u64,
            status_log2,
            mode,
            prng,
            block: 0,
            next_emit: 0,
            next_status: status_log2.map_or(u64::MAX, |t| 1u64 << t),
            prev_status: 0,
            epoch: None,
            records: Vec::new(),
            symbols_sent: 0,
        };
        a.push(0, Record::Epoch(0));
        a
    }

    /// The selector settings.
    pub fn select(&self) -> &AliceSelect {
        &self.sel
    }

    fn push(&mut self, slot_full: u64, r: Record) {
        let e = (slot_full >> SLOT_BITS) as u32;
        if self.epoch != Some(e) {
            self.epoch = Some(e);
            self.records.push(Record::Epoch(e));
        }
        if !matches!(r, Record::Epoch(_)) {
            self.records.push(r);
        }
    }

    fn cycles_per_block(&self) -> u64 {
        RECORD_SYMBOLS / self.lanes
    }

    /// Move the block PRNG to block `b` (never backwards), emitting the
    /// records of skipped blocks in full mode.
    fn seek_block(&mut self, b: u64) {
        while self.block < b {
            if self.mode == AliceStreamMode::Full && self.next_emit <= self.block {
                self.emit_block(self.block);
            }
            let skip = if self.mode == AliceStreamMode::Full {
                1
            } else {
                b - self.block
            };
            self.prng.advance(skip * self.cycles_per_block());
            self.block += skip;
        }
    }

    /// Move to the block of `slot` while advancing `other` (Bob's PRNG) to
    /// `other_cycle`, interleaving both generators' steps.
    pub fn seek_paired(&mut self, slot: u64, other: &mut LanePrng, other_cycle: u64) {
        let b = slot / RECORD_SYMBOLS;
        let kb = other_cycle.saturating_sub(other.cycle());
        if self.mode == AliceStreamMode::Sparse && b > self.block {
            let ka = (b - self.block) * self.cycles_per_block();
            self.prng.advance_pair(ka, other, kb);
            self.block = b;
        } else {
            self.seek_block(b);
            other.advance(kb);
        }
    }

    /// Alice's symbol in slot `slot` (slots must be requested in
    /// non-decreasing block order).
    #[inline]
    pub fn symbol(&mut self, slot: u64) -> Symbol {
        if let Some(s) = self.sel.sync_symbol(slot) {
            self.seek_block(slot / RECORD_SYMBOLS);
            return s;
        }
        self.seek_block(slot / RECORD_SYMBOLS);
        let off = slot % RECORD_SYMBOLS;
        let mut p = self.prng.clone();
        p.advance(off / self.lanes);
        self.sel.random_symbol(p.word((off % self.lanes) as usize))
    }

    fn emit_statuses_through(&mut self, end_slot: u64) {
        while self.next_status <= end_slot {
            let m = self.next_status;
            let syncs =
                self.sel.sync_slots_before(m) - self.sel.sync_slots_before(self.prev_status);
            let slots = m - self.prev_status;
            let counters = vec![
                (CounterId::IntervalSlots, slots),
                (CounterId::SymbolsSent, slots - syncs),
                (CounterId::SymbolsLost, 0),
                (CounterId::AlarmsLive, 0),
                (CounterId::AlarmsSeen, 0),
            ];
            self.symbols_sent += slots - syncs;
            self.push(
                m,
                Record::Status(Status {
                    slot: m & SLOT_MASK,
                    counters,
                }),
            );
            self.prev_status = m;
            self.next_status = self.status_log2.map_or(u64::MAX, |t| m + (1u64 << t));
        }
    }

    fn emit_block(&mut self, b: u64) {
        debug_assert_eq!(b, self.block);
        if b < self.next_emit {
            return;
        }
        let start = b * RECORD_SYMBOLS;
        self.emit_statuses_through(start);
        let mut words = [0u64; RECORD_SYMBOLS as usize];
        self.prng.peek_words(&mut words);
        let mut packed = vec![0u64; RECORD_SYMBOLS as usize / 16];
        if self.sel.block_has_sync(start, RECORD_SYMBOLS) {
            for (k, &w) in words.iter().enumerate() {
                let sym = self.sel.symbol(start + k as u64, w);
                packed[k / 16] |= u64::from(sym.code()) << (4 * (k % 16));
            }
        } else {
            pack_random(&self.sel, &words, &mut packed);
        }
        self.push(
            start,
            Record::AliceSymbols(AliceSymbols {
                start_slot: start & SLOT_MASK,
                count: RECORD_SYMBOLS as u16,
                packed,
            }),
        );
        self.next_emit = b + 1;
    }

    /// Bob reported a DETECTION in `slot`: make sure the record covering it
    /// is in the stream (sparse mode; full mode emits everything anyway).
    pub fn detection_at(&mut self, slot: u64) {
        let b = slot / RECORD_SYMBOLS;
        self.seek_block(b);
        self.emit_block(b);
    }

    /// Emit everything up to `end_slot` (a multiple of 64): in full mode all
    /// records of blocks below it; in both modes the STATUS records due.
    pub fn finish_until(&mut self, end_slot: u64) {
        let end_block = end_slot / RECORD_SYMBOLS;
        if self.mode == AliceStreamMode::Full {
            self.seek_block(end_block);
        }
        self.emit_statuses_through(end_block * RECORD_SYMBOLS);
    }

    /// Records emitted so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Take the records emitted so far.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }
}

/// Pack the random symbols of `words` (16 per output word, LSB first).
#[inline(always)]
fn pack_random_generic(sel: &AliceSelect, words: &[u64], packed: &mut [u64]) {
    for (p, ws) in packed.iter_mut().zip(words.chunks_exact(16)) {
        let mut acc = 0u64;
        for (k, &w) in ws.iter().enumerate() {
            acc |= u64::from(sel.random_symbol(w).0) << (4 * k);
        }
        *p = acc;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn pack_random_avx2(sel: &AliceSelect, words: &[u64], packed: &mut [u64]) {
    pack_random_generic(sel, words, packed)
}

/// [`pack_random_generic`], compiled for AVX2 when the CPU has it.
fn pack_random(sel: &AliceSelect, words: &[u64], packed: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked at run time just above).
        unsafe { pack_random_avx2(sel, words, packed) };
        return;
    }
    pack_random_generic(sel, words, packed)
}
