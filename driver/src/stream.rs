// SPDX-License-Identifier: MIT OR Apache-2.0
//! Lossless event-stream reader (DESIGN.md, Driver; records per qkd-abi
//! `records.rs`).
//!
//! * Bytes from an [`EventSource`] are cut into 64-bit little-endian words;
//!   partial words and partial records are carried to the next read.
//! * DETECTION runs go through the hot-path decoder ([`crate::fastdec`]),
//!   everything else through `qkd_abi::Record::decode`.
//! * Full 64-bit slot indices are rebuilt from EPOCH records: an EPOCH of
//!   `current + 1` is a wrap of the 40-bit low part; any other EPOCH is a
//!   (re)START, which resets the continuity cursors.
//! * Continuity: ALICE_SYMBOLS runs must be contiguous, STATUS intervals
//!   (end exclusive, length from the `IntervalSlots` counter) must be
//!   contiguous, DETECTION slots must not go backwards. GAP records advance
//!   the cursors over the range they declare. Every GAP and every
//!   unexplained break goes into the batch's [`LossReport`] and the
//!   reader's accumulated total.
//! * Garbage: a word that is not a valid record header is a typed error,
//!   counted; the decoder drops that one word and resynchronises on the
//!   next one. Every byte ends up decoded or counted as discarded.

use crate::error::{Error, Result};
use crate::fastdec::{decode_detection_run, SlotDetection, DETECTION_TOP16};
use crate::transport::EventSource;
use qkd_abi::records::{CounterId, Tag, GAP_RECORDS_MAX, SLOT_BITS, SYMBOLS_PER_WORD, TAG_SHIFT};
use qkd_abi::{DecodeError, Record};
use serde::Serialize;
use std::time::Duration;

/// Most words one record can span (STATUS: 1 + 255).
pub const MAX_RECORD_WORDS: usize = 256;
/// Most bytes carried from one read to the next: a record missing at
/// least one word, plus a partial word.
pub const MAX_CARRY_BYTES: usize = (MAX_RECORD_WORDS - 1) * 8 + 7;
/// Reads land at an address aligned to this (one page). The kernel's
/// copy into a destination that is not 64-byte aligned relative to the
/// page-aligned source runs about 4 times slower (measured: pipe reads at
/// 1.3 instead of 5.4 GiB/s on AMD EPYC, `rep movsb`), and the XDMA driver
/// maps user pages for DMA, where page alignment saves a descriptor.
pub const READ_ALIGN_BYTES: usize = 4096;
/// Default bytes asked of the source per read.
pub const DEFAULT_READ_BYTES: usize = 1 << 20;
/// Entries kept in the accumulated total's lists (counters are exact).
pub const MAX_KEPT_ENTRIES: usize = 4096;
/// Decode errors kept per batch (all are counted).
pub const MAX_ERRORS_PER_BATCH: usize = 64;

/// A record other than DETECTION, with its full slot index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamRecord {
    /// Full 64-bit slot index of the record's slot field (ALICE_SYMBOLS:
    /// first symbol; STATUS: interval end, exclusive; GAP: first lost slot;
    /// EPOCH: `epoch << 40`).
    pub slot: u64,
    /// The decoded record.
    pub record: Record,
    /// Number of this batch's detections that came before it in the stream.
    pub detections_before: usize,
}

/// A half-open range of full slot indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SlotRange {
    /// First slot.
    pub first: u64,
    /// Number of slots.
    pub len: u64,
}

impl SlotRange {
    /// One past the last slot (saturating).
    pub fn end(&self) -> u64 {
        self.first.saturating_add(self.len)
    }
}

/// Which continuity check broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DiscontinuityKind {
    /// An ALICE_SYMBOLS run (or a GAP) did not start where the previous run ended.
    AliceSymbols,
    /// A STATUS interval did not start where the previous one ended, and no
    /// GAP in between explains the missing STATUS.
    StatusInterval,
    /// A DETECTION's slot is before the previous detection's.
    DetectionOrder,
}

/// One continuity break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Discontinuity {
    /// Which check.
    pub kind: DiscontinuityKind,
    /// The slot the check expected (or the lowest acceptable one).
    pub expected_slot: u64,
    /// The slot found.
    pub found_slot: u64,
}

/// Losses: what the caller must account for. Returned with every batch
/// and accumulated by the reader ([`StreamReader::total_loss`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[must_use]
pub struct LossReport {
    /// GAP records received.
    pub gap_records: u64,
    /// Slots declared lost by GAP records.
    pub lost_slots: u64,
    /// Records declared lost by GAP records (each GAP saturates at 2^20-1).
    pub lost_records: u64,
    /// GAP records whose lost-record count saturated (a lower bound).
    pub saturated_gaps: u64,
    /// The lost ranges, as full slot indices.
    pub lost_ranges: Vec<SlotRange>,
    /// Continuity breaks not explained by a GAP.
    pub discontinuities: Vec<Discontinuity>,
    /// Slots skipped by ALICE_SYMBOLS breaks (found - expected, when positive).
    pub unexplained_slots: u64,
    /// Words that were not a valid record (each one counted once).
    pub decode_errors: u64,
    /// Bytes dropped while resynchronising or at the end of the stream.
    pub discarded_bytes: u64,
    /// Entries dropped from the lists above because of [`MAX_KEPT_ENTRIES`]
    /// (accumulated totals only; the counters stay exact).
    pub dropped_entries: u64,
}

impl LossReport {
    /// Nothing lost, nothing broken, nothing discarded.
    pub fn is_lossless(&self) -> bool {
        self.gap_records == 0
            && self.discontinuities.is_empty()
            && self.decode_errors == 0
            && self.discarded_bytes == 0
    }

    /// Add `o`'s counters (saturating) to this report's.
    fn add_counters(&mut self, o: &LossReport) {
        self.gap_records = self.gap_records.saturating_add(o.gap_records);
        self.lost_slots = self.lost_slots.saturating_add(o.lost_slots);
        self.lost_records = self.lost_records.saturating_add(o.lost_records);
        self.saturated_gaps = self.saturated_gaps.saturating_add(o.saturated_gaps);
        self.unexplained_slots = self.unexplained_slots.saturating_add(o.unexplained_slots);
        self.decode_errors = self.decode_errors.saturating_add(o.decode_errors);
        self.discarded_bytes = self.discarded_bytes.saturating_add(o.discarded_bytes);
        self.dropped_entries = self.dropped_entries.saturating_add(o.dropped_entries);
    }

    /// Add `o` to this report, keeping every list entry (a batch's report).
    fn append(&mut self, mut o: LossReport) {
        if self.lost_ranges.is_empty() {
            std::mem::swap(&mut self.lost_ranges, &mut o.lost_ranges);
        } else {
            self.lost_ranges.append(&mut o.lost_ranges);
        }
        if self.discontinuities.is_empty() {
            std::mem::swap(&mut self.discontinuities, &mut o.discontinuities);
        } else {
            self.discontinuities.append(&mut o.discontinuities);
        }
        self.add_counters(&o);
    }

    fn merge_capped(&mut self, o: &LossReport) {
        self.add_counters(o);
        for r in &o.lost_ranges {
            if self.lost_ranges.len() < MAX_KEPT_ENTRIES {
                self.lost_ranges.push(*r);
            } else {
                self.dropped_entries += 1;
            }
        }
        for d in &o.discontinuities {
            if self.discontinuities.len() < MAX_KEPT_ENTRIES {
                self.discontinuities.push(*d);
            } else {
                self.dropped_entries += 1;
            }
        }
    }
}

/// A word (or trailing bytes) the decoder could not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamDecodeError {
    /// Not a valid record at this stream byte offset; one word discarded.
    #[error("stream byte {offset}: {source}")]
    Record {
        /// Byte offset of the word in the stream.
        offset: u64,
        /// Why `Record::decode` refused it.
        #[source]
        source: DecodeError,
    },
    /// The stream ended inside a word or record.
    #[error("stream ended with {bytes} bytes of an incomplete record or word at byte {offset}")]
    Trailing {
        /// Byte offset of the first discarded byte.
        offset: u64,
        /// Bytes discarded.
        bytes: u64,
    },
}

/// Counters of a decoder since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StreamStats {
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes that became records.
    pub bytes_decoded: u64,
    /// Bytes discarded (garbage, trailing).
    pub bytes_discarded: u64,
    /// DETECTION records.
    pub detections: u64,
    /// Other records.
    pub records: u64,
    /// EPOCH records that were not a wrap (START or restart).
    pub restarts: u64,
}

/// What one read produced.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Batch {
    /// DETECTION records, in stream order.
    pub detections: Vec<SlotDetection>,
    /// Every other record, in stream order.
    pub records: Vec<StreamRecord>,
    /// Losses found in this batch.
    pub loss: LossReport,
    /// The first [`MAX_ERRORS_PER_BATCH`] decode errors of this batch
    /// (all of them are counted in `loss.decode_errors`).
    pub errors: Vec<StreamDecodeError>,
    /// The stream has ended; this is the last batch.
    pub end_of_stream: bool,
}

/// One item of a batch, in stream order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BatchItem<'a> {
    /// A detection.
    Detection(&'a SlotDetection),
    /// Any other record.
    Record(&'a StreamRecord),
}

impl Batch {
    /// Empty the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.detections.clear();
        self.records.clear();
        self.loss = LossReport::default();
        self.errors.clear();
        self.end_of_stream = false;
    }
    /// Number of records (detections included).
    pub fn len(&self) -> usize {
        self.detections.len() + self.records.len()
    }
    /// No records.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// All records in stream order.
    pub fn iter(&self) -> impl Iterator<Item = BatchItem<'_>> + '_ {
        let mut d = 0;
        let mut r = 0;
        std::iter::from_fn(move || {
            let next_rec = self.records.get(r);
            match next_rec {
                Some(rec) if rec.detections_before <= d => {
                    r += 1;
                    Some(BatchItem::Record(rec))
                }
                _ => {
                    let det = self.detections.get(d)?;
                    d += 1;
                    Some(BatchItem::Detection(det))
                }
            }
        })
    }
    fn error(&mut self, e: StreamDecodeError) {
        if self.errors.len() < MAX_ERRORS_PER_BATCH {
            self.errors.push(e);
        }
    }
}

/// Words a record whose header is `h` spans (1 for unknown tags).
fn record_words(h: u64) -> usize {
    let body = h & ((1 << TAG_SHIFT) - 1);
    match Tag::of_word(h) {
        Some(Tag::AliceSymbols) => 1 + (((body >> 40) & 0x3FF) as usize).div_ceil(SYMBOLS_PER_WORD),
        Some(Tag::Status) => 1 + ((body >> 40) & 0xFF) as usize,
        Some(Tag::Gap) => 2,
        _ => 1,
    }
}

fn word_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The decoding state machine, independent of I/O.
#[derive(Debug, Clone)]
pub struct StreamDecoder {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    stream_pos: u64,
    epoch: u64,
    epoch_known: bool,
    alice_next: Option<u64>,
    status_end: Option<u64>,
    gap_since_status: bool,
    last_detection: Option<u64>,
    stats: StreamStats,
    total: LossReport,
    scratch: Vec<u64>,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        StreamDecoder::new(DEFAULT_READ_BYTES)
    }
}

impl StreamDecoder {
    /// A decoder whose reads take at most `read_bytes` at a time.
    pub fn new(read_bytes: usize) -> StreamDecoder {
        // Room for the carried tail in front of the read position, the
        // alignment padding, and the read itself. The buffer is never
        // resized, so its address (and the aligned offset) stays fixed.
        let len = MAX_CARRY_BYTES + READ_ALIGN_BYTES + read_bytes.max(8);
        StreamDecoder {
            buf: vec![0; len],
            start: 0,
            end: 0,
            stream_pos: 0,
            epoch: 0,
            epoch_known: false,
            alice_next: None,
            status_end: None,
            gap_since_status: false,
            last_detection: None,
            stats: StreamStats::default(),
            total: LossReport::default(),
            scratch: Vec::with_capacity(MAX_RECORD_WORDS),
        }
    }

    /// Counters since creation.
    pub fn stats(&self) -> StreamStats {
        self.stats
    }
    /// Losses accumulated since creation.
    pub fn total_loss(&self) -> &LossReport {
        &self.total
    }
    /// Bytes held back (partial word or record) waiting for more input.
    pub fn pending_bytes(&self) -> usize {
        self.end - self.start
    }
    /// Current epoch (high 24 bits of the slot index).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Offset of the read position: the first offset at or after
    /// [`MAX_CARRY_BYTES`] whose address is [`READ_ALIGN_BYTES`]-aligned.
    /// Computed from the buffer's address each time, so a clone (another
    /// allocation) is aligned too.
    fn read_at(&self) -> usize {
        let addr = self.buf.as_ptr() as usize + MAX_CARRY_BYTES;
        MAX_CARRY_BYTES + (READ_ALIGN_BYTES - addr % READ_ALIGN_BYTES) % READ_ALIGN_BYTES
    }

    /// Free space to read into, starting at a page-aligned address. The
    /// carried bytes (after decoding, at most a partial record: <=
    /// [`MAX_CARRY_BYTES`]) are moved to end just before it, so the stream
    /// stays contiguous and only that tail is ever copied.
    pub fn spare(&mut self) -> &mut [u8] {
        let pending = self.end - self.start;
        // `pending <= MAX_CARRY_BYTES <= read_at` holds after every decode;
        // were it not so, the bytes would go to the front (still correct,
        // only unaligned).
        let dst = self.read_at().saturating_sub(pending);
        if dst != self.start {
            self.buf.copy_within(self.start..self.end, dst);
            self.start = dst;
            self.end = dst + pending;
        }
        &mut self.buf[self.end..]
    }

    /// Account for `n` bytes written into [`StreamDecoder::spare`] and decode.
    pub fn commit(&mut self, n: usize, batch: &mut Batch) {
        let n = n.min(self.buf.len() - self.end);
        self.end += n;
        self.stats.bytes_in += n as u64;
        self.decode(false, batch);
    }

    /// Decode `bytes` (copied in; for tests and replay).
    pub fn feed(&mut self, mut bytes: &[u8], batch: &mut Batch) {
        while !bytes.is_empty() {
            let spare = self.spare();
            let n = spare.len().min(bytes.len());
            spare[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.commit(n, batch);
        }
    }

    /// The stream has ended: decode what can be, discard the rest (counted).
    pub fn finish(&mut self, batch: &mut Batch) {
        self.decode(true, batch);
        let rest = (self.end - self.start) as u64;
        if rest > 0 {
            batch.error(StreamDecodeError::Trailing {
                offset: self.stream_pos,
                bytes: rest,
            });
            batch.loss.discarded_bytes += rest;
            batch.loss.decode_errors += 1;
            self.stats.bytes_discarded += rest;
            self.total.discarded_bytes += rest;
            self.total.decode_errors += 1;
            self.stream_pos += rest;
            self.start = self.end;
        }
    }

    fn discard_word(&mut self, e: DecodeError, batch: &mut Batch, loss: &mut LossReport) {
        batch.error(StreamDecodeError::Record {
            offset: self.stream_pos,
            source: e,
        });
        loss.decode_errors += 1;
        loss.discarded_bytes += 8;
        self.stats.bytes_discarded += 8;
        self.start += 8;
        self.stream_pos += 8;
    }

    fn decode(&mut self, at_end: bool, batch: &mut Batch) {
        // This call's losses only: the batch may already hold some from an
        // earlier call (`feed` over several buffers, `feed` then `finish`),
        // which are in the total already.
        let mut loss = LossReport::default();
        while self.end - self.start >= 8 {
            let h = word_at(&self.buf, self.start);
            // ---- Hot path: a run of DETECTION words ----
            if h >> 48 == DETECTION_TOP16 {
                let epoch_hi = self.epoch << SLOT_BITS;
                let first = batch.detections.len();
                // One pass, 8 words at a time: validity, order (on the input
                // words) and decoding.
                let (n, sorted) = decode_detection_run(
                    &self.buf[self.start..self.end],
                    epoch_hi,
                    &mut batch.detections,
                );
                self.check_detection_order(&batch.detections[first..], sorted, &mut loss);
                self.start += 8 * n;
                self.stream_pos += 8 * n as u64;
                self.stats.bytes_decoded += 8 * n as u64;
                self.stats.detections += n as u64;
                continue;
            }
            // ---- General path ----
            let avail = (self.end - self.start) / 8;
            let need = record_words(h);
            let take = need.min(avail);
            self.scratch.clear();
            self.scratch
                .extend((0..take).map(|i| word_at(&self.buf, self.start + 8 * i)));
            match Record::decode(&self.scratch) {
                Ok((rec, used)) => {
                    self.start += 8 * used;
                    self.stream_pos += 8 * used as u64;
                    self.stats.bytes_decoded += 8 * used as u64;
                    self.stats.records += 1;
                    let detections_before = batch.detections.len();
                    self.accept(rec, detections_before, batch, &mut loss);
                }
                Err(e) if e.is_truncated() && !at_end => break,
                Err(e) => self.discard_word(e, batch, &mut loss),
            }
        }
        self.total.merge_capped(&loss);
        batch.loss.append(loss);
    }

    /// Report every detection of `run` whose slot is below the previous
    /// one. `sorted_within`: the caller already knows that the run never
    /// goes backwards inside itself (only its first slot is then compared).
    fn check_detection_order(
        &mut self,
        run: &[SlotDetection],
        sorted_within: bool,
        loss: &mut LossReport,
    ) {
        let (Some(first), Some(last)) = (run.first(), run.last()) else {
            return;
        };
        let mut step = |prev: u64, found: u64| {
            if found < prev {
                loss.discontinuities.push(Discontinuity {
                    kind: DiscontinuityKind::DetectionOrder,
                    expected_slot: prev,
                    found_slot: found,
                });
            }
        };
        step(self.last_detection.unwrap_or(0), first.slot);
        // A sorted run can only break at its first record (checked above).
        if !sorted_within {
            for w in run.windows(2) {
                step(w[0].slot, w[1].slot);
            }
        }
        self.last_detection = Some(last.slot);
    }

    fn full(&self, low: u64) -> u64 {
        (self.epoch << SLOT_BITS) | low
    }

    fn accept(
        &mut self,
        rec: Record,
        detections_before: usize,
        batch: &mut Batch,
        loss: &mut LossReport,
    ) {
        let slot = match &rec {
            Record::Epoch(e) => {
                let e = u64::from(*e);
                let wrap = self.epoch_known && e == self.epoch + 1;
                if !wrap {
                    if self.epoch_known {
                        self.stats.restarts += 1;
                    }
                    self.alice_next = None;
                    self.status_end = None;
                    self.gap_since_status = false;
                    self.last_detection = None;
                }
                self.epoch = e;
                self.epoch_known = true;
                e << SLOT_BITS
            }
            Record::AliceSymbols(a) => {
                let first = self.full(a.start_slot);
                if let Some(expected) = self.alice_next {
                    if first != expected {
                        loss.discontinuities.push(Discontinuity {
                            kind: DiscontinuityKind::AliceSymbols,
                            expected_slot: expected,
                            found_slot: first,
                        });
                        loss.unexplained_slots = loss
                            .unexplained_slots
                            .saturating_add(first.saturating_sub(expected));
                    }
                }
                // Device data: a run in the last epoch that would end past
                // slot 2^64 - 1 cannot be real; it is a counted loss (a
                // discontinuity, its symbols unexplained), never a wrap.
                self.alice_next = first.checked_add(u64::from(a.count));
                if self.alice_next.is_none() {
                    loss.discontinuities.push(Discontinuity {
                        kind: DiscontinuityKind::AliceSymbols,
                        expected_slot: first,
                        found_slot: u64::MAX,
                    });
                    loss.unexplained_slots =
                        loss.unexplained_slots.saturating_add(u64::from(a.count));
                }
                first
            }
            Record::Status(s) => {
                let end = self.full(s.slot);
                if let (Some(prev), Some(len)) = (self.status_end, s.get(CounterId::IntervalSlots))
                {
                    let start = end.wrapping_sub(len);
                    if start != prev && !(self.gap_since_status && start > prev) {
                        loss.discontinuities.push(Discontinuity {
                            kind: DiscontinuityKind::StatusInterval,
                            expected_slot: prev,
                            found_slot: start,
                        });
                    }
                }
                self.status_end = Some(end);
                self.gap_since_status = false;
                end
            }
            Record::Gap(g) => {
                let first = self.full(g.first_slot);
                loss.gap_records += 1;
                loss.lost_slots = loss.lost_slots.saturating_add(g.lost_slots);
                loss.lost_records = loss.lost_records.saturating_add(u64::from(g.lost_records));
                if g.lost_records >= GAP_RECORDS_MAX {
                    loss.saturated_gaps += 1;
                }
                loss.lost_ranges.push(SlotRange {
                    first,
                    len: g.lost_slots,
                });
                if let Some(expected) = self.alice_next {
                    if first > expected {
                        loss.discontinuities.push(Discontinuity {
                            kind: DiscontinuityKind::AliceSymbols,
                            expected_slot: expected,
                            found_slot: first,
                        });
                        loss.unexplained_slots =
                            loss.unexplained_slots.saturating_add(first - expected);
                    }
                    self.alice_next = Some(expected.max(first.saturating_add(g.lost_slots)));
                }
                self.gap_since_status = true;
                first
            }
            Record::Detection(d) => {
                // Only reached if the hot path is bypassed; same checks.
                let full = self.full(d.slot);
                let det = SlotDetection::new(full, d.detector, d.fine_bin, d.basis, d.invalid);
                batch.detections.push(det);
                self.check_detection_order(&[det], true, loss);
                return;
            }
        };
        batch.records.push(StreamRecord {
            slot,
            record: rec,
            detections_before,
        });
    }
}

/// Reads an [`EventSource`] and yields decoded batches with loss reports.
pub struct StreamReader<S> {
    src: S,
    dec: StreamDecoder,
    read_bytes: usize,
    ended: bool,
}

impl<S: EventSource> StreamReader<S> {
    /// A reader asking the source for up to 1 MiB per read.
    pub fn new(src: S) -> StreamReader<S> {
        StreamReader::with_read_bytes(src, DEFAULT_READ_BYTES)
    }
    /// A reader asking the source for up to `read_bytes` per read.
    pub fn with_read_bytes(src: S, read_bytes: usize) -> StreamReader<S> {
        StreamReader {
            src,
            dec: StreamDecoder::new(read_bytes),
            read_bytes: read_bytes.max(8),
            ended: false,
        }
    }
    /// Read once (waiting at most `timeout`) and decode into a new batch.
    /// An empty batch means the timeout passed. When the source ends, the
    /// last batch has `end_of_stream` set and later calls return
    /// [`Error::StreamEnded`].
    pub fn next_batch(&mut self, timeout: Duration) -> Result<Batch> {
        let mut b = Batch::default();
        self.fill_batch(&mut b, timeout)?;
        Ok(b)
    }
    /// As [`StreamReader::next_batch`], reusing `batch` (cleared first).
    pub fn fill_batch(&mut self, batch: &mut Batch, timeout: Duration) -> Result<()> {
        batch.clear();
        if self.ended {
            return Err(Error::StreamEnded {
                path: "<stream already ended>".into(),
            });
        }
        let limit = self.read_bytes;
        let spare = self.dec.spare();
        let n = spare.len().min(limit);
        match self.src.read_bytes(&mut spare[..n], timeout) {
            Ok(got) => {
                self.dec.commit(got, batch);
                Ok(())
            }
            Err(Error::StreamEnded { .. }) => {
                self.ended = true;
                self.dec.finish(batch);
                batch.end_of_stream = true;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
    /// Losses accumulated since the reader was created.
    pub fn total_loss(&self) -> &LossReport {
        self.dec.total_loss()
    }
    /// Byte and record counters.
    pub fn stats(&self) -> StreamStats {
        self.dec.stats()
    }
    /// The stream has ended.
    pub fn is_ended(&self) -> bool {
        self.ended
    }
    /// The underlying source.
    pub fn into_inner(self) -> S {
        self.src
    }
    /// The underlying source, borrowed (e.g. to stop and restart a DMA
    /// channel between batches; bytes already read stay in the decoder).
    pub fn source_mut(&mut self) -> &mut S {
        &mut self.src
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_abi::records::{AliceSymbols, Detection, Gap, Status};
    use qkd_abi::symbol::{Basis, Symbol};

    fn bytes(recs: &[Record]) -> Vec<u8> {
        let mut w = Vec::new();
        for r in recs {
            r.encode(&mut w).unwrap();
        }
        w.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn det(slot: u64) -> Record {
        Record::Detection(Detection {
            slot,
            detector: (slot % 4) as u8,
            fine_bin: (slot % 16) as u8,
            basis: Basis::from_bit(slot.is_multiple_of(3)),
            invalid: false,
        })
    }

    fn syms(start: u64, n: usize) -> Record {
        let s: Vec<Symbol> = (0..n).map(|i| Symbol((i % 16) as u8)).collect();
        Record::AliceSymbols(AliceSymbols::from_symbols(start, &s))
    }

    fn status(end: u64, len: u64) -> Record {
        Record::Status(Status {
            slot: end,
            counters: vec![(CounterId::IntervalSlots, len), (CounterId::Gates, len)],
        })
    }

    fn run(data: &[u8], chunk: usize) -> (Batch, StreamDecoder) {
        let mut d = StreamDecoder::new(64);
        let mut all = Batch::default();
        for c in data.chunks(chunk.max(1)) {
            let mut b = Batch::default();
            d.feed(c, &mut b);
            merge(&mut all, b);
        }
        let mut b = Batch::default();
        d.finish(&mut b);
        merge(&mut all, b);
        (all, d)
    }

    fn merge(all: &mut Batch, b: Batch) {
        let off = all.detections.len();
        all.detections.extend(b.detections);
        all.records.extend(b.records.into_iter().map(|mut r| {
            r.detections_before += off;
            r
        }));
        all.loss.merge_capped(&b.loss);
        all.errors.extend(b.errors);
    }

    /// Issue 18: an ALICE_SYMBOLS run in the last epoch whose end would
    /// pass slot 2^64 - 1 (device data) is a counted loss, not a wrap (in
    /// release) or an overflow panic (in debug); the next run is checked
    /// afresh.
    #[test]
    fn symbols_past_the_last_slot_are_a_counted_loss_not_a_wrap() {
        let last = qkd_abi::records::EPOCH_MAX;
        let start = (1u64 << 40) - 3;
        let data = bytes(&[Record::Epoch(last), syms(start, 10), syms(start, 4)]);
        let (b, _) = run(&data, 8);
        let first = (u64::from(last) << 40) | start;
        assert_eq!(b.records.len(), 3);
        assert_eq!(b.records[1].slot, first);
        assert_eq!(b.loss.discontinuities.len(), 2, "{:?}", b.loss);
        assert_eq!(b.loss.discontinuities[0].expected_slot, first);
        assert_eq!(b.loss.discontinuities[0].found_slot, u64::MAX);
        assert_eq!(b.loss.unexplained_slots, 10 + 4);
        assert!(!b.loss.is_lossless());
    }

    #[test]
    fn epochs_rebuild_full_slots_and_wrap() {
        let top = (1u64 << 40) - 2;
        let data = bytes(&[
            Record::Epoch(7),
            det(top),
            det(top + 1),
            Record::Epoch(8),
            det(0),
            det(5),
        ]);
        let (b, d) = run(&data, 3);
        let slots: Vec<u64> = b.detections.iter().map(|x| x.slot).collect();
        let e7 = 7u64 << 40;
        assert_eq!(
            slots,
            vec![e7 + top, e7 + top + 1, (8 << 40), (8 << 40) + 5]
        );
        assert!(b.loss.is_lossless(), "{:?}", b.loss);
        assert_eq!(d.stats().restarts, 0);
        // Order: EPOCH before the detections, second EPOCH after two.
        assert_eq!(b.records[1].detections_before, 2);
        let kinds: Vec<bool> = b
            .iter()
            .map(|i| matches!(i, BatchItem::Record(_)))
            .collect();
        assert_eq!(kinds, vec![true, false, false, true, false, false]);
    }

    #[test]
    fn alice_runs_and_gaps_are_accounted_slot_for_slot() {
        let data = bytes(&[
            Record::Epoch(0),
            syms(0, 16),
            syms(16, 16),
            Record::Gap(Gap {
                first_slot: 32,
                lost_slots: 48,
                lost_records: 3,
            }),
            syms(80, 16),
            syms(100, 4), // 4 slots missing without a GAP
        ]);
        let (b, _) = run(&data, 5);
        assert_eq!(b.loss.gap_records, 1);
        assert_eq!(b.loss.lost_slots, 48);
        assert_eq!(b.loss.lost_records, 3);
        assert_eq!(b.loss.lost_ranges, vec![SlotRange { first: 32, len: 48 }]);
        assert_eq!(
            b.loss.discontinuities,
            vec![Discontinuity {
                kind: DiscontinuityKind::AliceSymbols,
                expected_slot: 96,
                found_slot: 100
            }]
        );
        assert_eq!(b.loss.unexplained_slots, 4);
    }

    #[test]
    fn status_intervals_must_be_contiguous_unless_a_gap_explains() {
        let data = bytes(&[
            Record::Epoch(0),
            status(100, 100),
            status(200, 100),
            Record::Gap(Gap {
                first_slot: 210,
                lost_slots: 10,
                lost_records: 2,
            }),
            status(400, 100), // the STATUS ending at 300 was lost in the GAP
            status(450, 40),  // starts at 410: unexplained
        ]);
        let (b, _) = run(&data, 8);
        assert_eq!(
            b.loss.discontinuities,
            vec![Discontinuity {
                kind: DiscontinuityKind::StatusInterval,
                expected_slot: 400,
                found_slot: 410
            }]
        );
    }

    #[test]
    fn status_ending_at_the_wrap_belongs_to_the_new_epoch() {
        let top = 1u64 << 40;
        let data = bytes(&[
            Record::Epoch(4),
            status(top - 256, 256),
            Record::Epoch(5),
            status(0, 256), // interval [5*2^40 - 256, 5*2^40)
            status(256, 256),
        ]);
        let (b, d) = run(&data, 9);
        assert!(b.loss.is_lossless(), "{:?}", b.loss);
        assert_eq!(d.stats().restarts, 0);
        assert_eq!(b.records[3].slot, 5 << 40);
    }

    #[test]
    fn garbage_is_counted_and_skipped() {
        let mut data = bytes(&[Record::Epoch(0), det(1)]);
        data.extend_from_slice(&u64::MAX.to_le_bytes());
        data.extend_from_slice(&0u64.to_le_bytes());
        data.extend_from_slice(&(1u64 << 60 | 1 << 55).to_le_bytes()); // DETECTION with reserved bit
        data.extend(bytes(&[det(2), syms(3, 20)]));
        data.extend_from_slice(&[1, 2, 3]); // trailing partial word
        let (b, d) = run(&data, 7);
        assert_eq!(b.detections.len(), 2);
        assert_eq!(b.records.len(), 2);
        assert_eq!(b.loss.decode_errors, 4);
        assert_eq!(b.loss.discarded_bytes, 27);
        assert_eq!(b.errors.len(), 4);
        assert!(matches!(
            b.errors[0],
            StreamDecodeError::Record {
                offset: 16,
                source: DecodeError::UnknownTag { tag: 0xF, .. }
            }
        ));
        let s = d.stats();
        assert_eq!(s.bytes_in, s.bytes_decoded + s.bytes_discarded);
    }

    #[test]
    fn detections_going_backwards_are_reported() {
        let data = bytes(&[Record::Epoch(0), det(10), det(12), det(11), det(12)]);
        let (b, _) = run(&data, 64);
        assert_eq!(
            b.loss.discontinuities,
            vec![Discontinuity {
                kind: DiscontinuityKind::DetectionOrder,
                expected_slot: 12,
                found_slot: 11
            }]
        );
    }

    #[test]
    fn total_counts_each_loss_once_when_a_batch_spans_several_decodes() {
        // 16-byte reads: `feed` decodes three times, `finish` once more,
        // all into the same batch.
        let mut data = u64::MAX.to_le_bytes().to_vec();
        data.extend(bytes(&[Record::Epoch(0), det(5), det(4)]));
        data.extend_from_slice(&0u64.to_le_bytes());
        data.extend_from_slice(&[1, 2, 3]);
        let mut d = StreamDecoder::new(16);
        let mut b = Batch::default();
        d.feed(&data, &mut b);
        d.finish(&mut b);
        assert_eq!(b.loss.decode_errors, 3);
        assert_eq!(b.loss.discarded_bytes, 19);
        assert_eq!(b.loss.discontinuities.len(), 1);
        assert_eq!(d.total_loss(), &b.loss);
    }

    #[test]
    fn restart_resets_cursors() {
        let data = bytes(&[Record::Epoch(0), syms(0, 16), Record::Epoch(0), syms(0, 16)]);
        let (b, d) = run(&data, 64);
        assert!(b.loss.is_lossless(), "{:?}", b.loss);
        assert_eq!(d.stats().restarts, 1);
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        prop_oneof![
            (0u64..1 << 40).prop_map(det),
            (0u64..1 << 40, 1usize..40).prop_map(|(s, n)| syms(s, n)),
            (0u64..1 << 40, 0u64..1000).prop_map(|(s, l)| status(s, l)),
            (0u64..1 << 40, any::<u64>(), 0u32..=GAP_RECORDS_MAX).prop_map(
                |(f, l, r)| Record::Gap(Gap {
                    first_slot: f,
                    lost_slots: l,
                    lost_records: r
                })
            ),
            (0u32..1 << 24).prop_map(Record::Epoch),
        ]
    }

    /// Serves `data` in reads of the sizes in `sizes` (cycled; 0 is a
    /// timeout), never more than the reader asks for.
    struct SplitSource {
        data: Vec<u8>,
        pos: usize,
        sizes: Vec<usize>,
        i: usize,
    }

    impl EventSource for SplitSource {
        fn read_bytes(&mut self, buf: &mut [u8], _timeout: Duration) -> Result<usize> {
            if self.pos >= self.data.len() {
                return Err(Error::StreamEnded {
                    path: "<split>".into(),
                });
            }
            let want = self.sizes[self.i % self.sizes.len()];
            self.i += 1;
            let n = want.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    /// One piece of a test stream: records, a run of detections, garbage.
    fn arb_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            arb_record().prop_map(|r| bytes(&[r])),
            // A long DETECTION run (hot path, several blocks), slots
            // increasing from a random start, sometimes with a step back.
            (0u64..1 << 39, 1usize..3000, prop::option::of(0usize..3000)).prop_map(
                |(s0, n, back)| {
                    let recs: Vec<Record> = (0..n as u64)
                        .map(|i| {
                            det(if Some(i as usize) == back {
                                s0
                            } else {
                                s0 + 2 * i
                            })
                        })
                        .collect();
                    bytes(&recs)
                }
            ),
            // A STATUS of up to 255 counters (the longest record: 2 KiB).
            (0u64..1 << 40, 0usize..=255).prop_map(|(end, k)| {
                let counters = (0..k)
                    .map(|i| (CounterId::Clicks((i % 4) as u8), i as u64))
                    .collect();
                bytes(&[Record::Status(Status {
                    slot: end,
                    counters,
                })])
            }),
            // Garbage: a bad word, or bytes that shift the word alignment.
            prop_oneof![Just(u64::MAX), Just(0u64), (6u64..15).prop_map(|t| t << 60)]
                .prop_map(|w| w.to_le_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 1..12),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any split of a byte stream into reads (any read size of the
        /// reader, any read lengths of the source, timeouts in between)
        /// gives the same records, in the same order, and the same loss
        /// report, errors and counters as decoding it in one piece.
        #[test]
        fn any_split_into_reads_gives_the_same_records_and_losses(
            pieces in prop::collection::vec(arb_piece(), 0..12),
            sizes in prop::collection::vec(prop_oneof![Just(0usize), 1usize..64, 1usize..9000], 1..16),
            read_bytes in prop_oneof![8usize..100, 100usize..20000],
        ) {
            let data: Vec<u8> = pieces.concat();
            let mut one = StreamDecoder::new(data.len());
            let mut want = Batch::default();
            one.feed(&data, &mut want);
            one.finish(&mut want);
            prop_assume!(want.errors.len() < MAX_ERRORS_PER_BATCH);

            let mut sizes = sizes;
            if sizes.iter().all(|&s| s == 0) {
                sizes.push(8);
            }
            let src = SplitSource { data: data.clone(), pos: 0, sizes, i: 0 };
            let mut r = StreamReader::with_read_bytes(src, read_bytes);
            let mut got = Batch::default();
            let mut last_end = false;
            for _ in 0..(data.len() + 2) * 20 {
                let b = r.next_batch(Duration::ZERO).unwrap();
                last_end = b.end_of_stream;
                merge(&mut got, b);
                if last_end {
                    break;
                }
            }
            prop_assert!(last_end, "the stream must end");
            prop_assert!(r.next_batch(Duration::ZERO).is_err());
            prop_assert_eq!(&got.detections, &want.detections);
            prop_assert_eq!(&got.records, &want.records);
            prop_assert_eq!(&got.loss, &want.loss);
            prop_assert_eq!(r.total_loss(), one.total_loss());
            prop_assert_eq!(&got.errors, &want.errors);
            prop_assert_eq!(r.stats(), one.stats());
            prop_assert_eq!(r.stats().bytes_in, data.len() as u64);
        }

        #[test]
        fn any_bytes_never_panic_and_every_byte_is_accounted(data in prop::collection::vec(any::<u8>(), 0..600), chunk in 1usize..80) {
            let (b, d) = run(&data, chunk);
            let s = d.stats();
            prop_assert_eq!(s.bytes_in, data.len() as u64);
            prop_assert_eq!(s.bytes_in, s.bytes_decoded + s.bytes_discarded);
            prop_assert_eq!(b.loss.discarded_bytes, s.bytes_discarded);
            prop_assert_eq!(d.pending_bytes(), 0);
        }

        #[test]
        fn valid_records_with_garbage_come_back_in_order(
            recs in prop::collection::vec(arb_record(), 0..30),
            garbage in prop::collection::vec((0usize..30, prop_oneof![Just(u64::MAX), Just(0u64), (6u64..15).prop_map(|t| t << 60)]), 0..5),
            chunk in 1usize..100,
        ) {
            let mut words: Vec<Vec<u64>> = recs.iter().map(|r| r.to_words().unwrap()).collect();
            for (at, g) in &garbage {
                let at = (*at).min(words.len());
                words.insert(at, vec![*g]);
            }
            let data: Vec<u8> = words.iter().flatten().flat_map(|w| w.to_le_bytes()).collect();
            let (b, d) = run(&data, chunk);
            prop_assert_eq!(b.loss.decode_errors, garbage.len() as u64);
            prop_assert_eq!(b.loss.discarded_bytes, 8 * garbage.len() as u64);
            // Same records, same order (detections compared on low bits).
            let mut back = Vec::new();
            for it in b.iter() {
                back.push(match it {
                    BatchItem::Detection(x) => Record::Detection(x.to_record()),
                    BatchItem::Record(r) => r.record.clone(),
                });
            }
            prop_assert_eq!(back, recs);
            let s = d.stats();
            prop_assert_eq!(s.bytes_in, s.bytes_decoded + s.bytes_discarded);
        }
    }
}
