// SPDX-License-Identifier: MIT OR Apache-2.0
//! Sifting for decoy-state BB84 (issue 6, item 2): Alice's ALICE_SYMBOLS
//! records joined with Bob's DETECTION records by slot index.
//!
//! Protocol (as messages, so that the same code runs in-process and over TCP):
//! 1. Bob announces his valid detections as (slot, basis) in increasing slot
//!    order ([`SiftAnnounce`]).
//! 2. Alice answers one code per announced slot ([`SiftReply`]): basis
//!    mismatch, match with her intensity class (mu1, mu2, mu3), excluded
//!    (non-random symbol, class 3, or a slot whose symbol was lost), or not
//!    yet known (her symbol records have not reached that slot).
//! 3. Both sides append the matches, in slot order, to identical ledgers and
//!    cut blocks holding exactly `block_bits` sifted Z bits plus the X
//!    matches in the same slot range ([`SiftLedger`]).
//!
//! Bob's detections flagged invalid (alarm live) are discarded and counted.
//! Two detections in one slot (double click) get one bit: equal bits are
//! kept, unequal bits are replaced by a uniformly random bit (squashing,
//! Beaufort and Lutkenhaus-style; N. Lutkenhaus, PRA 59, 3301, 1999), and
//! both cases are counted. Bob's bit value is `detector & 1`.
//!
//! Slot indices: records carry the low 40 bits (`qkd_abi::records::SLOT_BITS`),
//! EPOCH records the high bits; [`SlotClock`] rebuilds the 64-bit index.

use qkd_abi::records::{AliceSymbols, CounterId, Detection, Record, SLOT_BITS, SLOT_MASK};
use qkd_abi::symbol::{Basis, Intensity};
use qkd_driver::stream::Batch;
use qkd_driver::SlotDetection;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use zeroize::Zeroize;

/// Sifting errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SiftError {
    /// A record's slot lies before data already received.
    #[error("{what}: slot {slot} is before slot {expected_at_least} already received")]
    SlotWentBack {
        /// Which stream.
        what: &'static str,
        /// Offending slot.
        slot: u64,
        /// Smallest acceptable slot.
        expected_at_least: u64,
    },
    /// A message could not be decoded.
    #[error("{message}: {reason}")]
    Decode {
        /// Message name.
        message: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A reply does not match the announcement it answers.
    #[error("sift reply has {got} codes for {expected} announced slots")]
    ReplyLength {
        /// Codes received.
        got: usize,
        /// Slots announced.
        expected: usize,
    },
    /// A reply arrived with no announcement in flight.
    #[error("sift reply without an announcement in flight")]
    NoAnnouncement,
}

/// Rebuilds 64-bit slot indices from 40-bit record fields and EPOCH records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotClock {
    epoch: u64,
}

impl SlotClock {
    /// Set the high bits from an EPOCH record.
    pub fn set_epoch(&mut self, epoch: u32) {
        self.epoch = u64::from(epoch);
    }
    /// Full index of a record's 40-bit slot field.
    pub fn full(&self, low: u64) -> u64 {
        (self.epoch << SLOT_BITS) | (low & SLOT_MASK)
    }
}

/// Sifting counters (monotone, over the pipeline's life).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiftStats {
    /// Alice: symbols received.
    pub symbols: u64,
    /// Alice: slots filled as lost (gaps in her symbol stream).
    pub symbols_lost: u64,
    /// Bob: DETECTION records received.
    pub detections: u64,
    /// Bob: detections flagged invalid (alarm), discarded.
    pub invalid_discarded: u64,
    /// Bob: valid detections discarded because a STATUS record reported an
    /// alarm in their interval or an earlier one (the alarm latch).
    pub alarm_discarded: u64,
    /// Bob: first slot of the STATUS interval whose alarm latched the sifter
    /// (no detection at or after it is ever sifted).
    pub alarm_latched_at_slot: Option<u64>,
    /// Bob: detections arriving for a slot already announced, discarded.
    pub late_discarded: u64,
    /// Bob: slots with more than one detection.
    pub double_clicks: u64,
    /// Bob: double clicks with unequal bits, given a random bit.
    pub squashed_random: u64,
    /// Announced slots whose bases differed.
    pub basis_mismatch: u64,
    /// Announced slots excluded (non-random symbol or lost symbol).
    pub excluded: u64,
    /// Announced slots kept (basis match).
    pub sifted: u64,
}

// ---- Reply codes ----

/// Basis mismatch: slot discarded.
pub const CODE_MISMATCH: u8 = 0;
/// Basis match, intensity mu1 (codes 1..=3 are `1 + intensity index`).
pub const CODE_MATCH_SIGNAL: u8 = 1;
/// Basis match, intensity mu2.
pub const CODE_MATCH_DECOY: u8 = 2;
/// Basis match, intensity mu3.
pub const CODE_MATCH_VACUUM: u8 = 3;
/// Non-random symbol (class 3) or lost symbol: excluded from key and statistics.
pub const CODE_EXCLUDED: u8 = 4;
/// Alice has no symbol for this slot yet: Bob keeps it for the next round.
pub const CODE_NOT_YET: u8 = 5;

/// How many of `codes` equal `code` (a pass the compiler vectorises).
fn count_code(codes: &[u8], code: u8) -> u64 {
    // Eight codes per 64-bit word: a byte equal to `code` is a zero byte
    // of `word ^ code * LOW_BITS`; the equal bytes' flags (0 or 1 per byte)
    // are summed per byte lane for up to 31 words, then across the lanes.
    let k = u64::from(code) * LOW_BITS;
    let words = codes.chunks_exact(8);
    let tail = words.remainder();
    let mut n = 0u64;
    let (mut lanes, mut in_lanes) = (0u64, 0);
    for group in words {
        let x = u64::from_le_bytes(group.try_into().unwrap_or_default()) ^ k;
        lanes += (!nonzero_bytes(x) & HIGH_BITS) >> 7;
        in_lanes += 1;
        if in_lanes == 31 {
            n += lanes.wrapping_mul(LOW_BITS) >> 56;
            (lanes, in_lanes) = (0, 0);
        }
    }
    n += lanes.wrapping_mul(LOW_BITS) >> 56;
    n + tail.iter().filter(|c| **c == code).count() as u64
}

/// The high bit of each byte of `x` set where that byte is not zero (no
/// carry leaves a byte: the low seven bits plus 0x7F stay below 0x100).
#[inline(always)]
fn nonzero_bytes(x: u64) -> u64 {
    (((x & !HIGH_BITS) + !HIGH_BITS) | x) & HIGH_BITS
}

/// Non-random symbol code used to fill lost slots.
const LOST: u8 = (Intensity::NonRandom as u8) << 2;

// ---- Buffers holding key material ----

/// Make room for `additional` more elements of `v` without a later
/// reallocation by `push`/`resize`; when the buffer must grow, the old one is
/// zeroized before it is freed (a plain `reserve` would free a copy of the
/// bits it held).
fn reserve_zeroizing<T: Copy + Zeroize>(v: &mut Vec<T>, additional: usize) {
    let need = v.len().saturating_add(additional);
    if need > v.capacity() {
        let mut grown = Vec::with_capacity(need.max(v.capacity().saturating_mul(2)));
        grown.extend_from_slice(v);
        v.zeroize();
        *v = grown;
    }
}

/// Remove `v[..n]` in place and clear the vacated tail, so that no stale copy
/// of a moved element stays in the spare capacity.
/// Drop the consumed prefix `..head` of the parallel columns `meta` and
/// `slots` once it is at least as long as the live part (amortised O(1)
/// per entry); the metadata bytes (key bits) are cleared as they go.
fn compact_consumed(meta: &mut Vec<u8>, slots: &mut Vec<u64>, head: &mut usize) {
    if *head == slots.len() {
        meta.fill(0);
        meta.clear();
        slots.clear();
        *head = 0;
    } else if *head > 0 && *head >= slots.len() - *head {
        drop_prefix(meta, *head);
        drop_prefix(slots, *head);
        *head = 0;
    }
}

fn drop_prefix<T: Copy + Default>(v: &mut Vec<T>, n: usize) {
    let len = v.len();
    let n = n.min(len);
    v.copy_within(n.., 0);
    v[len - n..].fill(T::default());
    v.truncate(len - n);
}

// ---- Messages ----

/// Bob -> Alice: detections to sift, in strictly increasing slot order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiftAnnounce {
    /// Absolute slot indices, strictly increasing.
    pub slots: Vec<u64>,
    /// Bob's basis per slot, bit i of word i/64 set for X.
    pub bases_x: Vec<u64>,
    /// Bob has nothing more to announce this round.
    pub last: bool,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: impl Into<String>) -> SiftError {
        SiftError::Decode {
            message: self.message,
            reason: reason.into(),
        }
    }
    /// One LEB128 varint; a one-byte value (delta < 128) takes the fast path.
    #[inline]
    fn varint(&mut self) -> Result<u64, SiftError> {
        match self.b.get(self.pos) {
            Some(&byte) if byte < 0x80 => {
                self.pos += 1;
                Ok(u64::from(byte))
            }
            _ => self.varint_long(),
        }
    }
    fn varint_long(&mut self) -> Result<u64, SiftError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.b.get(self.pos) else {
                return Err(self.err(format!("truncated varint at byte {}", self.pos)));
            };
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return Err(self.err("varint overflows 64 bits"));
            }
            v |= u64::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }
    /// The next 8 bytes as a little-endian word, if there are 8 left.
    #[inline]
    fn peek_word(&self) -> Option<u64> {
        let end = self.pos.checked_add(8)?;
        let raw: [u8; 8] = self.b.get(self.pos..end)?.try_into().ok()?;
        Some(u64::from_le_bytes(raw))
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], SiftError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.b.len());
        let Some(end) = end else {
            return Err(self.err(format!(
                "need {n} bytes at {}, have {}",
                self.pos,
                self.b.len() - self.pos
            )));
        };
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u64s_into(&mut self, n: usize, out: &mut Vec<u64>) -> Result<(), SiftError> {
        let raw = self.bytes(
            n.checked_mul(8)
                .ok_or_else(|| self.err("length overflow"))?,
        )?;
        out.clear();
        out.extend(
            raw.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default())),
        );
        Ok(())
    }
    fn finish(&self) -> Result<(), SiftError> {
        if self.pos != self.b.len() {
            return Err(self.err(format!("{} trailing bytes", self.b.len() - self.pos)));
        }
        Ok(())
    }
}

/// Largest number of entries one sifting message may carry.
pub const MAX_ENTRIES_PER_MESSAGE: usize = 1 << 26;

/// Every byte's high bit, for eight bytes in a word.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
/// Every byte's low bit, for eight bytes in a word.
const LOW_BITS: u64 = 0x0101_0101_0101_0101;

/// The wire form of an announcement (see [`SiftAnnounce::encode`]) of
/// `slots` with Bob's bases as X-bit words (entry j of word w is slot
/// `64 w + j`), into `out` (cleared first). Shared by
/// [`SiftAnnounce::encode_into`] and [`BobSifter::announce_encoded`], which
/// encodes straight from Bob's queue.
fn encode_announce(
    slots: &[u64],
    bases_x: impl Iterator<Item = u64>,
    last: bool,
    out: &mut Vec<u8>,
) {
    let n = slots.len();
    out.clear();
    out.reserve(11 + n + n.div_ceil(64) * 8);
    put_varint(out, n as u64);
    out.push(u8::from(last));
    let mut prev = 0u64;
    for chunk in slots.chunks(64) {
        let Some(&first) = chunk.first() else { break };
        // Fast path: every delta of the chunk fits one byte (the OR of
        // the deltas is below 0x80), written as one pass of bytes.
        let d0 = first.wrapping_sub(prev);
        let any = chunk
            .windows(2)
            .fold(d0, |m, w| m | w[1].wrapping_sub(w[0]));
        if any < 0x80 {
            out.push(d0 as u8);
            out.extend(chunk.windows(2).map(|w| w[1].wrapping_sub(w[0]) as u8));
        } else {
            // Varints into a zeroed window of 10 bytes per slot (the
            // longest varint), then the window is cut to size.
            let at = out.len();
            out.resize(at + chunk.len() * 10, 0);
            let buf = &mut out[at..];
            let mut p = 0;
            let mut before = prev;
            for &s in chunk {
                let mut d = s.wrapping_sub(before);
                before = s;
                while d >= 0x80 {
                    buf[p] = (d as u8) | 0x80;
                    d >>= 7;
                    p += 1;
                }
                buf[p] = d as u8;
                p += 1;
            }
            out.truncate(at + p);
        }
        prev = chunk[chunk.len() - 1];
    }
    for w in bases_x {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

impl SiftAnnounce {
    /// Number of announced slots.
    pub fn len(&self) -> usize {
        self.slots.len()
    }
    /// True when no slot is announced.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
    /// Bob's basis for entry `i`.
    pub fn basis(&self, i: usize) -> Basis {
        Basis::from_bit(self.bases_x[i / 64] >> (i % 64) & 1 != 0)
    }
    /// Wire form: varint count, flags byte, varint slot deltas (first is
    /// absolute, the rest >= 1), then the basis bit words (little-endian u64).
    ///
    /// Slots must be strictly increasing (as [`BobSifter::announce`] makes
    /// them); deltas are taken modulo 2^64, so an unordered list does not
    /// panic but decodes to different slots or is rejected.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
    /// [`SiftAnnounce::encode`] into a reused buffer (cleared first).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_announce(&self.slots, self.bases_x.iter().copied(), self.last, out);
    }
    /// Parse the wire form; rejects unordered slots, bad flags, trailing bytes.
    pub fn decode(b: &[u8]) -> Result<SiftAnnounce, SiftError> {
        let mut a = SiftAnnounce::default();
        Self::decode_into(b, &mut a)?;
        Ok(a)
    }
    /// [`SiftAnnounce::decode`] into a reused announcement (its buffers are
    /// kept; on error its contents are unspecified).
    ///
    /// Eight one-byte deltas are taken at a time when the next eight bytes
    /// all have their high bit clear and none is zero (checked on the word:
    /// `(w - 0x01..01) & !w & 0x80..80` is nonzero exactly when a byte is
    /// zero); anything else goes through the byte-at-a-time varint reader.
    pub fn decode_into(b: &[u8], into: &mut SiftAnnounce) -> Result<(), SiftError> {
        let mut r = Reader {
            b,
            pos: 0,
            message: "sift announce",
        };
        let n = r.varint()?;
        if n > MAX_ENTRIES_PER_MESSAGE as u64 {
            return Err(r.err(format!(
                "{n} entries exceed the limit {MAX_ENTRIES_PER_MESSAGE}"
            )));
        }
        let n = n as usize;
        let flags = r.bytes(1)?[0];
        if flags > 1 {
            return Err(r.err(format!("reserved flag bits {flags:#04x}")));
        }
        // Each slot takes at least one byte: reject impossible counts before allocating.
        if n > b.len() {
            return Err(r.err(format!("{n} entries cannot fit in {} bytes", b.len())));
        }
        let slots = &mut into.slots;
        slots.clear();
        slots.reserve(n);
        if n > 0 {
            let mut prev = r.varint()?;
            slots.push(prev);
            let mut i = 1;
            while i < n {
                if n - i >= 8 && prev <= u64::MAX - 8 * 0x7F {
                    if let Some(w) = r.peek_word() {
                        let zero_byte = w.wrapping_sub(LOW_BITS) & !w & HIGH_BITS;
                        if w & HIGH_BITS == 0 && zero_byte == 0 {
                            let mut eight = [0u64; 8];
                            for (k, s) in eight.iter_mut().enumerate() {
                                prev += (w >> (8 * k)) & 0x7F;
                                *s = prev;
                            }
                            slots.extend_from_slice(&eight);
                            r.pos += 8;
                            i += 8;
                            continue;
                        }
                    }
                }
                let d = r.varint()?;
                if d == 0 {
                    return Err(r.err(format!("slot {i} repeats slot {prev}")));
                }
                prev = prev
                    .checked_add(d)
                    .ok_or_else(|| r.err("slot index overflows 64 bits"))?;
                slots.push(prev);
                i += 1;
            }
        }
        r.u64s_into(n.div_ceil(64), &mut into.bases_x)?;
        r.finish()?;
        if !n.is_multiple_of(64) && into.bases_x.last().is_some_and(|w| w >> (n % 64) != 0) {
            return Err(r.err("basis bits set past the last slot"));
        }
        into.last = flags == 1;
        Ok(())
    }
}

/// Alice -> Bob: one code (`CODE_*`) per announced slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiftReply {
    /// Codes, in announcement order.
    pub codes: Vec<u8>,
}

impl SiftReply {
    /// Wire form: varint count, then codes packed two per byte (low nibble first).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }
    /// [`SiftReply::encode`] into a reused buffer (cleared first).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(10 + self.codes.len().div_ceil(2));
        put_varint(out, self.codes.len() as u64);
        let pairs = self.codes.chunks_exact(2);
        let odd = pairs.remainder().first().copied();
        out.extend(pairs.map(|p| p[0] | p[1] << 4));
        out.extend(odd);
    }
    /// Parse the wire form; rejects unknown codes and trailing bytes.
    pub fn decode(b: &[u8]) -> Result<SiftReply, SiftError> {
        let mut r = SiftReply::default();
        Self::decode_into(b, &mut r)?;
        Ok(r)
    }
    /// [`SiftReply::decode`] into a reused reply (its buffer is kept; on
    /// error its contents are unspecified).
    pub fn decode_into(b: &[u8], into: &mut SiftReply) -> Result<(), SiftError> {
        let mut r = Reader {
            b,
            pos: 0,
            message: "sift reply",
        };
        let n = r.varint()?;
        if n > MAX_ENTRIES_PER_MESSAGE as u64 {
            return Err(r.err(format!(
                "{n} entries exceed the limit {MAX_ENTRIES_PER_MESSAGE}"
            )));
        }
        let n = n as usize;
        let packed = r.bytes(n.div_ceil(2))?;
        r.finish()?;
        let codes = &mut into.codes;
        codes.clear();
        codes.resize(n, 0);
        for (pair, byte) in codes.chunks_exact_mut(2).zip(packed) {
            pair[0] = byte & 0xF;
            pair[1] = byte >> 4;
        }
        if n % 2 == 1 {
            let byte = packed[n / 2];
            if byte >> 4 != 0 {
                return Err(r.err("padding nibble is not zero"));
            }
            codes[n - 1] = byte & 0xF;
        }
        if codes.iter().fold(0, |m, &c| m.max(c)) > CODE_NOT_YET {
            if let Some(c) = codes.iter().find(|c| **c > CODE_NOT_YET) {
                return Err(r.err(format!("unknown code {c}")));
            }
        }
        Ok(())
    }
}

/// One sifted (basis-matched) slot as a party sees it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sifted {
    /// Absolute slot index.
    pub slot: u64,
    /// Shared basis.
    pub basis: Basis,
    /// Alice's intensity class index (0 = mu1, 1 = mu2, 2 = mu3).
    pub intensity: u8,
    /// This party's bit (key material).
    pub bit: bool,
}

impl std::fmt::Debug for Sifted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sifted {{ slot: {}, basis: {:?}, intensity: {}, bit: <redacted> }}",
            self.slot, self.basis, self.intensity
        )
    }
}

/// Per-block detection counts by basis (0 = Z, 1 = X) and intensity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasisIntensityCounts {
    /// n[basis][k].
    pub n: [[u64; 3]; 2],
}

/// One block of sifted data: exactly `block_bits` Z entries (the key) and the
/// X entries of the same slot range (the test data).
pub struct SiftedBlock {
    /// First slot of the block.
    pub first_slot: u64,
    /// Last slot of the block (inclusive).
    pub last_slot: u64,
    /// Z-basis bits, in slot order (key material, zeroized on drop).
    pub z_bits: Vec<u8>,
    /// Intensity index of each Z bit.
    pub z_intensity: Vec<u8>,
    /// X-basis bits, in slot order (disclosed for estimation).
    pub x_bits: Vec<u8>,
    /// Intensity index of each X bit.
    pub x_intensity: Vec<u8>,
    /// n_{Z,k}, n_{X,k}.
    pub counts: BasisIntensityCounts,
}

impl Drop for SiftedBlock {
    fn drop(&mut self) {
        self.z_bits.zeroize();
        self.x_bits.zeroize();
    }
}

impl std::fmt::Debug for SiftedBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiftedBlock")
            .field("first_slot", &self.first_slot)
            .field("last_slot", &self.last_slot)
            .field("z_bits", &self.z_bits.len())
            .field("x_bits", &self.x_bits.len())
            .field("counts", &self.counts)
            .finish()
    }
}

// ---- Ledger ----

/// Entry byte (ledger and Bob's queue): the party's bit (key material).
const META_BIT: u8 = 1;
/// Entry byte: the basis is X.
const META_X: u8 = 2;
/// Entry byte: the intensity index sits in bits 2..8.
const META_K_SHIFT: u32 = 2;
/// Largest intensity index an entry byte holds (larger ones are stored as this).
const META_K_MAX: u8 = 0xFF >> META_K_SHIFT;

fn meta_of(e: &Sifted) -> u8 {
    u8::from(e.bit) | (e.basis as u8) << 1 | e.intensity.min(META_K_MAX) << META_K_SHIFT
}

/// One basis' sifted entries, in slot order, as a structure of arrays:
/// `slots[i]` and the entry byte `meta[i]` (`META_*`). Entries before
/// `head` are consumed (their bytes cleared); the consumed prefix is dropped
/// once it is at least as long as the live part.
#[derive(Default)]
struct LedgerColumn {
    slots: Vec<u64>,
    meta: Vec<u8>,
    head: usize,
}

impl LedgerColumn {
    fn len(&self) -> usize {
        self.meta.len() - self.head
    }
    fn live_slots(&self) -> &[u64] {
        &self.slots[self.head..]
    }
    fn push(&mut self, slot: u64, meta: u8) {
        self.slots.push(slot);
        self.meta.push(meta);
    }
    fn reserve(&mut self, n: usize) {
        compact_consumed(&mut self.meta, &mut self.slots, &mut self.head);
        reserve_zeroizing(&mut self.slots, n);
        reserve_zeroizing(&mut self.meta, n);
    }
    /// The next `n` live entries' bits and intensity indices (fresh
    /// vectors of exactly `n`), consumed: their bytes are cleared.
    fn take(&mut self, n: usize) -> (Vec<u8>, Vec<u8>) {
        let taken = &mut self.meta[self.head..self.head + n];
        let bits = taken.iter().map(|m| m & META_BIT).collect();
        let ks = taken.iter().map(|m| m >> META_K_SHIFT).collect();
        taken.fill(0);
        self.head += n;
        compact_consumed(&mut self.meta, &mut self.slots, &mut self.head);
        (bits, ks)
    }
}

impl Drop for LedgerColumn {
    fn drop(&mut self) {
        self.meta.zeroize();
    }
}

/// Sifted entries waiting to fill a block; identical on both sides.
///
/// Kept split by basis, each basis a [`LedgerColumn`] in slot order, so
/// that a block is a prefix of each column: the first `block_bits` Z
/// entries and the X entries before the last of them. Every growth and
/// compaction clears the copy it leaves behind, and the bytes are zeroized
/// on drop.
#[derive(Default)]
pub struct SiftLedger {
    z: LedgerColumn,
    x: LedgerColumn,
}

impl SiftLedger {
    /// Append entries (in slot order). Intensity indices above 63 are
    /// stored as 63 (sifting itself only makes 0..=2).
    ///
    /// A `Vec` is taken over in place, copied, and its bits are cleared
    /// before it is freed.
    pub fn extend(&mut self, entries: impl IntoIterator<Item = Sifted>) {
        let mut v: Vec<Sifted> = entries.into_iter().collect();
        self.reserve(v.len());
        for e in &v {
            let column = match e.basis {
                Basis::Z => &mut self.z,
                Basis::X => &mut self.x,
            };
            column.push(e.slot, meta_of(e));
        }
        for e in &mut v {
            e.bit = false;
        }
    }
    /// Z entries waiting.
    pub fn z_count(&self) -> u64 {
        self.z.len() as u64
    }
    /// All entries waiting.
    pub fn len(&self) -> usize {
        self.z.len() + self.x.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Room for `n` more entries in each basis (after dropping consumed
    /// prefixes) without a reallocation that would free unzeroized bits.
    fn reserve(&mut self, n: usize) {
        self.z.reserve(n);
        self.x.reserve(n);
    }

    /// All live entries as [`Sifted`] values in slot order (the two bases
    /// merged), leaving the ledger empty.
    fn take_all(&mut self) -> Vec<Sifted> {
        let entry = |slot: u64, m: u8| Sifted {
            slot,
            basis: Basis::from_bit(m & META_X != 0),
            intensity: m >> META_K_SHIFT,
            bit: m & META_BIT != 0,
        };
        let (z_slots, x_slots) = (self.z.live_slots(), self.x.live_slots());
        let (z_meta, x_meta) = (&self.z.meta[self.z.head..], &self.x.meta[self.x.head..]);
        let mut out = Vec::with_capacity(self.len());
        let (mut i, mut j) = (0, 0);
        while i < z_slots.len() || j < x_slots.len() {
            if j == x_slots.len() || (i < z_slots.len() && z_slots[i] < x_slots[j]) {
                out.push(entry(z_slots[i], z_meta[i]));
                i += 1;
            } else {
                out.push(entry(x_slots[j], x_meta[j]));
                j += 1;
            }
        }
        for column in [&mut self.z, &mut self.x] {
            let (mut bits, _) = column.take(column.len());
            bits.zeroize();
        }
        out
    }

    /// Cut a block of exactly `block_bits` Z entries (and the X entries
    /// before the last of them), if there are enough.
    pub fn cut(&mut self, block_bits: u64) -> Option<SiftedBlock> {
        if block_bits == 0 || self.z_count() < block_bits {
            return None;
        }
        let n_z = usize::try_from(block_bits).ok()?;
        let last_slot = self.z.live_slots()[n_z - 1];
        let n_x = self.x.live_slots().partition_point(|s| *s < last_slot);
        let first_slot = match self.x.live_slots().first() {
            Some(&x0) if n_x > 0 => x0.min(self.z.live_slots()[0]),
            _ => self.z.live_slots()[0],
        };
        let (z_bits, z_intensity) = self.z.take(n_z);
        let (x_bits, x_intensity) = self.x.take(n_x);
        let mut counts = BasisIntensityCounts::default();
        for (basis, ks) in [&z_intensity, &x_intensity].into_iter().enumerate() {
            let (mut k0, mut k1) = (0u64, 0u64);
            for &k in ks.iter() {
                k0 += u64::from(k == 0);
                k1 += u64::from(k == 1);
            }
            // Out-of-range indices count as mu3 (index 2), as before.
            counts.n[basis] = [k0, k1, ks.len() as u64 - k0 - k1];
        }
        Some(SiftedBlock {
            first_slot,
            last_slot,
            z_bits,
            z_intensity,
            x_bits,
            x_intensity,
            counts,
        })
    }
}

/// Bit `i` set where `codes[i]` is a basis match (`CODE_MATCH_*`, 1..=3),
/// for a chunk of at most 64 codes; eight codes per 64-bit word (SWAR),
/// exact for every byte value.
#[inline(always)]
fn match_word(codes: &[u8]) -> u64 {
    const _: () = assert!(CODE_MATCH_SIGNAL == 1 && CODE_MATCH_VACUUM == 3);
    let nonzero = nonzero_bytes;
    let eights = codes.chunks_exact(8);
    let tail = eights.remainder();
    let mut w = 0u64;
    for (g, group) in eights.enumerate() {
        let c = u64::from_le_bytes(group.try_into().unwrap_or_default());
        // 1..=3: not zero, and zero once the low two bits are cleared.
        let m = nonzero(c) & !nonzero(c & !(3 * LOW_BITS));
        w |= (((m >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56) << (8 * g);
    }
    let at = codes.len() - tail.len();
    for (j, c) in tail.iter().enumerate() {
        w |= u64::from(c.wrapping_sub(CODE_MATCH_SIGNAL) < 3) << (at + j);
    }
    w
}

/// Append the entries of one chunk (at most 64 `slots`) selected by `keep`
/// to the ledger, into the Z column where `x` is clear and the X column
/// where it is set, with entry bytes `meta(i)`; returns how many. Only the
/// kept entries are touched (one trailing-zero count each), so the cost
/// follows the matches, not the announcement. Room must have been reserved
/// ([`SiftLedger::reserve`]), so no unzeroized copy is freed.
#[inline(always)]
fn append_kept(
    ledger: &mut SiftLedger,
    slots: &[u64],
    keep: u64,
    x: u64,
    meta: impl Fn(usize) -> u8,
) -> u64 {
    append_column(&mut ledger.z, slots, keep & !x, &meta)
        + append_column(&mut ledger.x, slots, keep & x, &meta)
}

#[inline(always)]
fn append_column(
    col: &mut LedgerColumn,
    slots: &[u64],
    mask: u64,
    meta: &impl Fn(usize) -> u8,
) -> u64 {
    for i in SetBits(mask) {
        col.slots.push(slots[i]);
        col.meta.push(meta(i));
    }
    u64::from(mask.count_ones())
}

/// The indices of a word's set bits, lowest first.
struct SetBits(u64);

impl Iterator for SetBits {
    type Item = usize;
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        let i = self.0.trailing_zeros() as usize;
        let w = self.0;
        self.0 &= w.wrapping_sub(1);
        (w != 0).then_some(i)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.0.count_ones() as usize;
        (n, Some(n))
    }
}

// ---- Alice ----

/// Symbols per packed word (as in ALICE_SYMBOLS: symbol i in nibble i % 16).
const SYMBOLS_PER_WORD: usize = 16;

/// Symbols per stored segment: contiguous records are merged up to this
/// size (a multiple of [`SYMBOLS_PER_WORD`]).
const SEGMENT_SYMBOLS: usize = 1 << 16;
const _: () = assert!(SEGMENT_SYMBOLS.is_multiple_of(SYMBOLS_PER_WORD));

/// Reply code for every (symbol nibble, Bob's basis) pair: index
/// `symbol | basis << 4`. Follows the symbol layout of `qkd_abi::symbol`
/// (`[3:2]` intensity class, `[1]` basis, `[0]` bit); the unit test
/// `code_table_agrees_with_symbol_accessors` checks it against the
/// `Symbol` accessors.
const CODE_TABLE: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let sym = i & 0xF;
        let bob_basis = i >> 4;
        let class = sym >> 2;
        t[i] = if class == Intensity::NonRandom as usize {
            CODE_EXCLUDED
        } else if (sym >> 1) & 1 != bob_basis {
            CODE_MISMATCH
        } else {
            CODE_MATCH_SIGNAL + class as u8
        };
        i += 1;
    }
    t
};

/// A run of contiguous symbols starting at absolute slot `start`, kept packed
/// as received (4 bits per symbol) so that ingesting a record is a copy of
/// its words.
struct Segment {
    start: u64,
    /// Symbols held.
    len: usize,
    /// Symbol i in word i / 16, nibble i % 16 (LSB first); bits past `len`
    /// are zero.
    words: Vec<u64>,
}

impl Segment {
    fn end(&self) -> u64 {
        self.start + self.len as u64
    }

    /// Symbol `i` (< `len`) as a nibble.
    #[inline]
    fn get(&self, i: usize) -> u8 {
        ((self.words[i / SYMBOLS_PER_WORD] >> (4 * (i % SYMBOLS_PER_WORD))) & 0xF) as u8
    }

    /// Append `n` symbols packed as in ALICE_SYMBOLS (missing words read as
    /// zero, bits past `n` ignored). Growth copies into a new buffer and
    /// zeroizes the old one, so no stale copy of Alice's symbols is freed.
    fn append(&mut self, packed: &[u64], n: usize) {
        let src_words = n.div_ceil(SYMBOLS_PER_WORD);
        let total_words = (self.len + n).div_ceil(SYMBOLS_PER_WORD);
        if total_words > self.words.capacity() {
            let cap = total_words
                .max(2 * self.words.capacity())
                .min(SEGMENT_SYMBOLS / SYMBOLS_PER_WORD)
                .max(total_words);
            let mut grown = Vec::with_capacity(cap);
            grown.extend_from_slice(&self.words);
            self.words.zeroize();
            self.words = grown;
        }
        let tail_mask = match n % SYMBOLS_PER_WORD {
            0 => u64::MAX,
            r => (1u64 << (4 * r)) - 1,
        };
        let word = |j: usize| {
            let w = packed.get(j).copied().unwrap_or(0);
            if j + 1 == src_words {
                w & tail_mask
            } else {
                w
            }
        };
        let shift = 4 * (self.len % SYMBOLS_PER_WORD);
        if shift == 0 {
            if packed.len() >= src_words {
                self.words.extend_from_slice(&packed[..src_words]);
                if let Some(last) = self.words.last_mut() {
                    *last &= tail_mask;
                }
            } else {
                self.words.extend((0..src_words).map(word));
            }
        } else {
            for j in 0..src_words {
                let w = word(j);
                if let Some(last) = self.words.last_mut() {
                    *last |= w << shift;
                }
                self.words.push(w >> (64 - shift));
            }
            self.words.truncate(total_words);
        }
        self.len += n;
    }
}

/// Walks Alice's segments for slots asked in increasing order: one step
/// forward per segment passed instead of a binary search per slot. It keeps
/// the current window (the gap before a segment and the segment) so that
/// most lookups are one comparison; a slot before the window restarts with
/// a binary search, so any order gives the answer of `symbol_at` (checked
/// by a proptest).
struct SymbolCursor<'a> {
    segments: &'a VecDeque<Segment>,
    /// Index of the segment of the window (`segments.len()` past the last).
    index: usize,
    /// Window: slots in `gap_start..start` have no symbol, slots in
    /// `start..start + len` are in `words`.
    gap_start: u64,
    start: u64,
    len: u64,
    words: &'a [u64],
}

impl<'a> SymbolCursor<'a> {
    fn new(segments: &'a VecDeque<Segment>) -> Self {
        SymbolCursor {
            segments,
            index: 0,
            gap_start: 0,
            start: 0,
            len: 0,
            words: &[],
        }
    }

    /// The symbol in `slot`, if a segment covers it.
    #[inline]
    fn symbol_at(&mut self, slot: u64) -> Option<u8> {
        let i = slot.wrapping_sub(self.start);
        if i < self.len {
            let i = i as usize;
            let w = self.words.get(i / SYMBOLS_PER_WORD).copied().unwrap_or(0);
            return Some(((w >> (4 * (i % SYMBOLS_PER_WORD))) & 0xF) as u8);
        }
        if slot >= self.gap_start && slot < self.start {
            return None;
        }
        self.seek(slot)
    }

    /// Move the window to the one holding `slot`.
    fn seek(&mut self, slot: u64) -> Option<u8> {
        if slot < self.gap_start {
            self.index = self.segments.partition_point(|s| s.end() <= slot);
        } else {
            while self
                .segments
                .get(self.index)
                .is_some_and(|s| s.end() <= slot)
            {
                self.index += 1;
            }
        }
        self.gap_start = match self.index {
            0 => 0,
            i => self.segments.get(i - 1).map_or(0, Segment::end),
        };
        match self.segments.get(self.index) {
            Some(seg) => {
                self.start = seg.start;
                self.len = seg.len as u64;
                self.words = &seg.words;
                (slot >= seg.start).then(|| seg.get((slot - seg.start) as usize))
            }
            None => {
                // Past the last segment: a gap to the end of time.
                self.start = u64::MAX;
                self.len = 0;
                self.words = &[];
                None
            }
        }
    }
}

/// For every (symbol nibble, Bob's basis) pair, index `symbol | basis << 4`:
/// the reply code ([`CODE_TABLE`]) in the low byte and, for a match, Alice's
/// ledger entry byte (`META_*`: her bit, the basis, the intensity index) in
/// the high byte (zero otherwise).
const ANSWER_TABLE: [u16; 32] = {
    let mut t = [0u16; 32];
    let mut i = 0;
    while i < 32 {
        let code = CODE_TABLE[i];
        let meta = if code >= CODE_MATCH_SIGNAL && code <= CODE_MATCH_VACUUM {
            (i as u8 & 1) | ((i >> 4) as u8) << 1 | (code - CODE_MATCH_SIGNAL) << META_K_SHIFT
        } else {
            0
        };
        t[i] = code as u16 | (meta as u16) << 8;
        i += 1;
    }
    t
};

/// Bob's basis bits of an announcement word as bytes: `out[j]` is bit `j`
/// of `w` (0 or 1).
#[inline(always)]
fn spread_bits(w: u64) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (g, eight) in out.chunks_exact_mut(8).enumerate() {
        // Byte j of `m` keeps bit j of the group (at its own place), so it
        // is non-zero exactly when the bit is set; + 0x7F per byte moves
        // that to the byte's top bit without a carry between bytes.
        let m = ((w >> (8 * g)) & 0xFF).wrapping_mul(LOW_BITS) & 0x8040_2010_0804_0201;
        let ones = ((m + 0x7F7F_7F7F_7F7F_7F7F) & HIGH_BITS) >> 7;
        eight.copy_from_slice(&ones.to_le_bytes());
    }
    out
}

/// Alice's answer to a chunk of announced slots whose symbols she holds:
/// for each symbol nibble `syms[j]` and Bob's basis `bob_x[j]` (0: Z,
/// 1: X) the reply code (`CODE_TABLE`) into `codes[j]` and, for a match,
/// her ledger entry byte into `metas[j]` (zero otherwise). Branch-free in
/// byte lanes, so the compiler vectorizes it; a test checks it against
/// [`ANSWER_TABLE`] on every input. The entry byte of a match *is* the
/// symbol: the symbol nibble (`intensity << 2 | basis << 1 | bit`,
/// qkd-abi `Symbol`) has the layout of `META_*` and the bases agree.
#[inline(always)]
fn answer_bytes(syms: &[u8], bob_x: &[u8], codes: &mut [u8], metas: &mut [u8]) {
    const _: () = assert!(META_BIT == 1 && META_X == 2 && META_K_SHIFT == 2);
    const _: () = assert!(Intensity::NonRandom as u8 == 3);
    for (((&s, &b), code), meta) in syms.iter().zip(bob_x).zip(codes).zip(metas) {
        let k = s >> 2;
        let same_basis = (s >> 1) & 1 == b;
        let excluded = k == 3;
        let is_match = same_basis & !excluded;
        *code = if excluded {
            CODE_EXCLUDED
        } else if same_basis {
            CODE_MATCH_SIGNAL + k
        } else {
            CODE_MISMATCH
        };
        *meta = if is_match { s } else { 0 };
    }
}

/// Freed segment buffers kept for reuse (zeroized), so that a steady stream
/// does not allocate (and fault in) a fresh buffer per segment.
const SPARE_SEGMENTS: usize = 4;

/// Alice's side: her symbols by slot, answers Bob's announcements.
///
/// Symbols are stored sparsely, as segments of contiguous slots, so that a
/// stream with gaps (lost records, or the simulator's compressed form that
/// only carries records with a detection) costs memory in proportion to the
/// symbols received, not to the slots elapsed. A slot that no segment covers
/// has no usable symbol and is excluded from the key.
pub struct AliceSifter {
    clock: SlotClock,
    /// Slots before this have been answered and forgotten.
    base: u64,
    /// One past the last slot received (or covered by a gap).
    end: u64,
    segments: VecDeque<Segment>,
    /// Zeroized full-size buffers of pruned segments.
    spare: Vec<Vec<u64>>,
    started: bool,
    /// Counters.
    pub stats: SiftStats,
}

impl Drop for AliceSifter {
    fn drop(&mut self) {
        for s in &mut self.segments {
            s.words.zeroize();
        }
    }
}

impl Default for AliceSifter {
    fn default() -> Self {
        Self::new()
    }
}

impl AliceSifter {
    /// Empty sifter.
    pub fn new() -> AliceSifter {
        AliceSifter {
            clock: SlotClock::default(),
            base: 0,
            end: 0,
            segments: VecDeque::new(),
            spare: Vec::new(),
            started: false,
            stats: SiftStats::default(),
        }
    }

    /// One past the last slot Alice holds a symbol (or a lost marker) for.
    pub fn end_slot(&self) -> u64 {
        self.end
    }

    fn fill_to(&mut self, slot: u64) -> Result<(), SiftError> {
        if !self.started {
            self.base = slot;
            self.end = slot;
            self.started = true;
            return Ok(());
        }
        let end = self.end;
        if slot < end {
            return Err(SiftError::SlotWentBack {
                what: "ALICE_SYMBOLS",
                slot,
                expected_at_least: end,
            });
        }
        self.stats.symbols_lost += slot - end;
        self.end = slot;
        Ok(())
    }

    /// The symbol Alice sent in `slot`, if she holds one: the plain binary
    /// search over segments that [`SymbolCursor`] is checked against.
    #[cfg(test)]
    fn symbol_at(&self, slot: u64) -> Option<u8> {
        let i = self.segments.partition_point(|s| s.end() <= slot);
        let seg = self.segments.get(i)?;
        (slot >= seg.start).then(|| seg.get((slot - seg.start) as usize))
    }

    /// Append one ALICE_SYMBOLS record starting at absolute slot `start`.
    pub fn push_symbols(&mut self, start: u64, rec: &AliceSymbols) -> Result<(), SiftError> {
        self.fill_to(start)?;
        let n = usize::from(rec.count);
        let seg = match self.segments.back_mut() {
            Some(s) if s.end() == start && s.len + n <= SEGMENT_SYMBOLS => s,
            _ => {
                self.segments.push_back(Segment {
                    start,
                    len: 0,
                    words: self.spare.pop().unwrap_or_default(),
                });
                self.segments.back_mut().expect("just pushed")
            }
        };
        seg.append(&rec.packed, n);
        self.end = start + n as u64;
        self.stats.symbols += n as u64;
        Ok(())
    }

    /// Feed records from Alice's stream (ALICE_SYMBOLS, EPOCH, GAP; others ignored).
    pub fn push_records(&mut self, records: &[Record]) -> Result<(), SiftError> {
        for r in records {
            match r {
                Record::Epoch(e) => self.clock.set_epoch(*e),
                Record::AliceSymbols(a) => {
                    let start = self.clock.full(a.start_slot);
                    self.push_symbols(start, a)?;
                }
                Record::Gap(g) => {
                    // Lost symbols are filled as non-random when the next
                    // record arrives; nothing to do until then.
                    let _ = g;
                }
                Record::Detection(_) | Record::Status(_) => {}
            }
        }
        Ok(())
    }

    /// Answer an announcement. Returns the reply and Alice's sifted entries
    /// (in slot order); drops symbols that can no longer be asked for.
    /// [`AliceSifter::answer_into`] does the same into reused buffers.
    pub fn answer(&mut self, ann: &SiftAnnounce) -> (SiftReply, Vec<Sifted>) {
        let mut reply = SiftReply::default();
        let mut ledger = SiftLedger::default();
        self.answer_into(ann, &mut reply, &mut ledger);
        (reply, ledger.take_all())
    }

    /// Answer an announcement into `reply` (overwritten) and append Alice's
    /// sifted entries to `ledger`; drops symbols that can no longer be
    /// asked for.
    ///
    /// One pass over the announcement with a [`SymbolCursor`]; the reply
    /// code and the ledger entry come from one lookup in [`ANSWER_TABLE`],
    /// and matches are written into a window of the ledger without a
    /// branch on the (random) basis comparison.
    pub fn answer_into(
        &mut self,
        ann: &SiftAnnounce,
        reply: &mut SiftReply,
        ledger: &mut SiftLedger,
    ) {
        let n = ann.len();
        let codes = &mut reply.codes;
        codes.clear();
        codes.resize(n, CODE_NOT_YET);
        let mut kept_total = 0u64;
        let mut answered_to = None;
        if self.started {
            ledger.reserve(n);
            let (end, base) = (self.end, self.base);
            let mut cursor = SymbolCursor::new(&self.segments);
            // Entry bytes (Alice's bit, basis, intensity) of one chunk;
            // zeroized below.
            let mut metas = [0u8; 64];
            let mut syms = [0u8; 64];
            let chunks = ann.slots.chunks(64).zip(codes.chunks_mut(64));
            for (w, (slots, codes)) in chunks.enumerate() {
                let bases_x = ann.bases_x.get(w).copied().unwrap_or(0);
                let (Some(&first), Some(&last)) = (slots.first(), slots.last()) else {
                    continue;
                };
                // Fast path: a chunk whose slots all lie in one segment and
                // in base..end needs no per-slot seek. The bounds are checked
                // in the gathering pass itself; a chunk that fails them is
                // answered again slot by slot below.
                let mut inside = false;
                if first >= base && first < end && cursor.symbol_at(first).is_some() {
                    let (start, words) = (cursor.start, cursor.words);
                    let lo = start.max(base);
                    let span = start.saturating_add(cursor.len).min(end) - lo;
                    let mut ok = true;
                    // Two passes: gather the symbols (the dependent loads),
                    // then answer them all in byte lanes.
                    for (&slot, sym) in slots.iter().zip(syms.iter_mut()) {
                        ok &= slot.wrapping_sub(lo) < span;
                        let i = slot.wrapping_sub(start) as usize;
                        let word = words.get(i / SYMBOLS_PER_WORD).copied().unwrap_or(0);
                        *sym = ((word >> (4 * (i % SYMBOLS_PER_WORD))) & 0xF) as u8;
                    }
                    inside = ok;
                }
                if inside {
                    let bob_x = spread_bits(bases_x);
                    answer_bytes(&syms, &bob_x, codes, &mut metas);
                    answered_to = Some(last);
                } else {
                    for (j, (&slot, code_out)) in slots.iter().zip(codes.iter_mut()).enumerate() {
                        if slot >= end {
                            continue;
                        }
                        answered_to = Some(slot);
                        if slot < base {
                            *code_out = CODE_EXCLUDED;
                            continue;
                        }
                        let sym = cursor.symbol_at(slot).unwrap_or(LOST);
                        let bob_x = ((bases_x >> j) & 1) as usize;
                        let e = ANSWER_TABLE[usize::from(sym & 0xF) | bob_x << 4];
                        metas[j] = (e >> 8) as u8;
                        *code_out = e as u8;
                    }
                }
                // Entries not answered keep CODE_NOT_YET / CODE_EXCLUDED,
                // so a stale entry byte is never kept.
                let keep = match_word(codes);
                kept_total += append_kept(ledger, slots, keep, bases_x, |i| metas[i]);
            }
            metas.zeroize();
            syms.zeroize();
        }
        self.stats.basis_mismatch += count_code(codes, CODE_MISMATCH);
        self.stats.excluded += count_code(codes, CODE_EXCLUDED);
        self.stats.sifted += kept_total;
        if let Some(s) = answered_to {
            self.prune_before(s);
        }
    }

    /// Forget symbols before `slot`.
    pub fn prune_before(&mut self, slot: u64) {
        if slot <= self.base {
            return;
        }
        self.base = slot;
        while self.segments.front().is_some_and(|s| s.end() <= slot) {
            if let Some(mut s) = self.segments.pop_front() {
                s.words.zeroize();
                if self.spare.len() < SPARE_SEGMENTS
                    && s.words.capacity() == SEGMENT_SYMBOLS / SYMBOLS_PER_WORD
                {
                    self.spare.push(s.words);
                }
            }
        }
    }
}

// ---- Bob ----

/// Counters touched per detection, kept in registers during a batch and
/// added to [`SiftStats`] once.
#[derive(Default)]
struct DetectionCounts {
    detections: u64,
    invalid_discarded: u64,
    alarm_discarded: u64,
    late_discarded: u64,
    double_clicks: u64,
    squashed_random: u64,
}

impl DetectionCounts {
    fn add_to(&self, s: &mut SiftStats) {
        s.detections += self.detections;
        s.invalid_discarded += self.invalid_discarded;
        s.alarm_discarded += self.alarm_discarded;
        s.late_discarded += self.late_discarded;
        s.double_clicks += self.double_clicks;
        s.squashed_random += self.squashed_random;
    }
}

/// The `META_X` flags of up to 64 entry bytes as one word (entry j in bit
/// j). Eight bytes at a time: the flags are moved to bit 0 of each byte and
/// gathered into the top byte by one multiply (byte i lands in bit 56 + i;
/// the partial products occupy distinct bits, so nothing carries).
fn basis_word(entries: &[u8]) -> u64 {
    let eights = entries.chunks_exact(8);
    let tail = eights.remainder();
    let mut w = 0u64;
    for (g, group) in eights.enumerate() {
        let bytes = u64::from_le_bytes(group.try_into().unwrap_or_default());
        let flags = (bytes >> 1) & LOW_BITS;
        w |= (flags.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * g);
    }
    let at = entries.len() - tail.len();
    for (j, m) in tail.iter().enumerate() {
        w |= u64::from((m >> 1) & 1) << (at + j);
    }
    w
}

/// Bob's entry byte for a detection: `META_BIT` from the detector, `META_X`.
fn bob_meta(bit: bool, basis: Basis) -> u8 {
    u8::from(bit) | (basis as u8) << 1
}

/// One of Bob's detections as his ingest loop reads it: the full slot, the
/// entry byte (`META_BIT`, `META_X`) and the invalid flag.
#[derive(Clone, Copy)]
struct DetView {
    slot: u64,
    meta: u8,
    invalid: bool,
}

/// An input Bob's ingest loop reads detections from: qkd-abi records (the
/// slot's high bits from the EPOCH clock) or the driver decoder's
/// [`SlotDetection`]s (full slots).
trait DetectionIn {
    /// The detection, or None for a record that is not one (ends a run).
    /// `high` is the current epoch's slot bits above `SLOT_BITS`.
    fn view(&self, high: u64) -> Option<DetView>;
}

impl DetView {
    /// A qkd-abi detection at absolute slot `slot`.
    #[inline(always)]
    fn of(slot: u64, d: &Detection) -> DetView {
        DetView {
            slot,
            meta: bob_meta(d.detector & 1 == 1, d.basis),
            invalid: d.invalid,
        }
    }
}

impl DetectionIn for Record {
    #[inline(always)]
    fn view(&self, high: u64) -> Option<DetView> {
        let Record::Detection(d) = self else {
            return None;
        };
        Some(DetView::of(high | (d.slot & SLOT_MASK), d))
    }
}

impl DetectionIn for SlotDetection {
    #[inline(always)]
    fn view(&self, _high: u64) -> Option<DetView> {
        // Bob's bit is `detector & 1` (bit 0 of the packed byte); the
        // basis bit moves from 6 to META_X's place.
        let b = self.packed();
        const _: () = assert!(SlotDetection::PACKED_BASIS_X >> 5 == META_X && META_BIT == 1);
        Some(DetView {
            slot: self.slot,
            meta: (b & META_BIT) | ((b & SlotDetection::PACKED_BASIS_X) >> 5),
            invalid: b & SlotDetection::PACKED_INVALID != 0,
        })
    }
}

/// Bob's side: his valid detections, announces them and applies replies.
///
/// Alarm policy. The gateware flags the detections made while an alarm is
/// live (INVALID), but an attack that keeps the alarm mostly quiet (pulsed
/// blinding caught only by the samples that hit a pulse) leaves valid
/// detections Eve controls in the same interval and after it. So the first
/// STATUS record that reports an alarm (`AlarmsSeen != 0`) latches the
/// sifter: every detection from the start of that STATUS interval on is
/// discarded (`alarm_discarded`) and no further key is made until a new
/// pipeline is started (after the operator has cleared the alarm). Once a
/// STATUS record has been seen, only detections in closed intervals (before
/// the last STATUS record's end slot) are announced, so nothing an alarm
/// could still invalidate has left Bob.
pub struct BobSifter {
    clock: SlotClock,
    /// End slot (absolute, exclusive) of the last STATUS interval.
    closed_to: Option<u64>,
    /// Detections in slot order, as a structure of arrays: `slots[i]` and
    /// the entry byte `meta[i]` (`META_BIT`, `META_X`). Entries
    /// `..head` are consumed (bits cleared, dropped at the next
    /// compaction), `head..head + in_flight` are announced and await
    /// Alice's reply, the rest are pending.
    slots: Vec<u64>,
    meta: Vec<u8>,
    head: usize,
    in_flight: usize,
    /// Highest slot already announced (detections at or before it are late).
    announced_to: Option<u64>,
    last_bit_conflict: bool,
    rng: ChaCha20Rng,
    /// Counters.
    pub stats: SiftStats,
}

impl Drop for BobSifter {
    fn drop(&mut self) {
        self.meta.zeroize();
    }
}

impl BobSifter {
    /// Bob's sifter; the squashing RNG is seeded from the OS.
    pub fn new() -> BobSifter {
        Self::with_rng(ChaCha20Rng::from_os_rng())
    }

    /// Bob's sifter with a seeded squashing RNG (tests, simulation).
    pub fn with_seed(seed: u64) -> BobSifter {
        Self::with_rng(ChaCha20Rng::seed_from_u64(seed))
    }

    fn with_rng(rng: ChaCha20Rng) -> BobSifter {
        BobSifter {
            clock: SlotClock::default(),
            closed_to: None,
            slots: Vec::new(),
            meta: Vec::new(),
            head: 0,
            in_flight: 0,
            announced_to: None,
            last_bit_conflict: false,
            rng,
            stats: SiftStats::default(),
        }
    }

    /// Index of the first pending (not announced) detection.
    fn pending_start(&self) -> usize {
        self.head + self.in_flight
    }

    /// Detections waiting to be announced.
    pub fn pending(&self) -> usize {
        self.slots.len() - self.pending_start()
    }

    /// Room for `n` more detections without a reallocation that would free
    /// an unzeroized copy of the bits.
    fn reserve(&mut self, n: usize) {
        reserve_zeroizing(&mut self.slots, n);
        reserve_zeroizing(&mut self.meta, n);
    }

    /// Add one detection at absolute slot `slot`.
    pub fn push_detection(&mut self, slot: u64, d: &Detection) {
        self.reserve(1);
        let mut c = DetectionCounts::default();
        self.push_detection_counted(DetView::of(slot, d), &mut c);
        c.add_to(&mut self.stats);
    }

    /// The general path for one detection; room for it must be reserved.
    #[inline(always)]
    fn push_detection_counted(&mut self, v: DetView, c: &mut DetectionCounts) {
        let DetView {
            slot,
            meta,
            invalid,
        } = v;
        let d_basis = Basis::from_bit(meta & META_X != 0);
        c.detections += 1;
        if invalid {
            c.invalid_discarded += 1;
            return;
        }
        if self.stats.alarm_latched_at_slot.is_some_and(|a| slot >= a) {
            c.alarm_discarded += 1;
            return;
        }
        if self.announced_to.is_some_and(|a| slot <= a) {
            c.late_discarded += 1;
            return;
        }
        let bit = meta & META_BIT != 0;
        if self.slots.len() > self.pending_start() {
            if let (Some(&last_slot), Some(last)) = (self.slots.last(), self.meta.last_mut()) {
                if slot < last_slot {
                    c.late_discarded += 1;
                    return;
                }
                if slot == last_slot {
                    // Double click: count the slot once; squash unequal bits
                    // (and unequal bases, which active basis choice never gives).
                    if !self.last_bit_conflict {
                        c.double_clicks += 1;
                    }
                    let last_bit = *last & META_BIT != 0;
                    let last_basis = Basis::from_bit(*last & META_X != 0);
                    if (last_bit != bit || last_basis != d_basis) && !self.last_bit_conflict {
                        c.squashed_random += 1;
                        self.last_bit_conflict = true;
                        let mut basis = last_basis;
                        let new_bit: bool = self.rng.random();
                        if last_basis != d_basis && self.rng.random::<bool>() {
                            basis = d_basis;
                        }
                        *last = bob_meta(new_bit, basis);
                    }
                    return;
                }
            }
        }
        self.last_bit_conflict = false;
        self.slots.push(slot);
        self.meta.push(meta);
    }

    /// The general path out of the batch loop, kept out of line so that
    /// the loop's registers are not spent on it.
    #[cold]
    #[inline(never)]
    fn push_detection_cold(&mut self, v: DetView, c: &mut DetectionCounts) {
        self.push_detection_counted(v, c);
    }

    /// Feed a run of detections as the driver's stream decoder hands them
    /// over (`qkd_driver::stream::Batch::detections`: full 64-bit slots, 16
    /// bytes each): the columnar hand-off, without building 40-byte
    /// [`Record`]s. Same rules as [`BobSifter::push_records`]; the caller
    /// keeps stream order with STATUS records ([`BobSifter::push_status`],
    /// or [`BobSifter::push_batch`] which does both).
    pub fn push_detections(&mut self, dets: &[SlotDetection]) {
        self.compact();
        self.reserve(dets.len());
        let mut c = DetectionCounts::default();
        let used = self.push_detection_run(dets, &mut c);
        debug_assert_eq!(used, dets.len());
        c.add_to(&mut self.stats);
    }

    /// Feed one batch of the driver's stream decoder, in stream order:
    /// each run of detections, then the record after it (EPOCH sets the
    /// clock, STATUS closes an interval; others are ignored, as in
    /// [`BobSifter::push_records`]).
    pub fn push_batch(&mut self, batch: &Batch) {
        let mut done = 0;
        for r in &batch.records {
            let upto = r.detections_before.clamp(done, batch.detections.len());
            self.push_detections(&batch.detections[done..upto]);
            done = upto;
            match &r.record {
                Record::Epoch(e) => self.clock.set_epoch(*e),
                Record::Status(st) => {
                    self.push_status(r.slot, st.get(CounterId::AlarmsSeen).unwrap_or(0));
                }
                _ => {}
            }
        }
        self.push_detections(&batch.detections[done..]);
    }

    /// Feed records from Bob's stream (DETECTION, EPOCH, STATUS; others ignored).
    pub fn push_records(&mut self, records: &[Record]) {
        self.compact();
        self.reserve(records.len());
        let mut c = DetectionCounts::default();
        let mut rest = records;
        while let Some(r) = rest.first() {
            match r {
                Record::Detection(_) => {
                    let used = self.push_detection_run(rest, &mut c);
                    rest = &rest[used..];
                    continue;
                }
                Record::Epoch(e) => self.clock.set_epoch(*e),
                Record::Status(st) => {
                    let end = self.clock.full(st.slot);
                    self.push_status(end, st.get(CounterId::AlarmsSeen).unwrap_or(0));
                }
                _ => {}
            }
            rest = &rest[1..];
        }
        c.add_to(&mut self.stats);
    }

    /// The slot a new detection must exceed to be appended directly: the
    /// last pending one, else the last announced one.
    fn append_after(&self) -> Option<u64> {
        match self
            .slots
            .get(self.pending_start()..)
            .and_then(<[u64]>::last)
        {
            Some(&s) => Some(s),
            None => self.announced_to,
        }
    }

    /// The leading DETECTION records of `records` (room reserved by the
    /// caller); returns how many were taken. The common case (valid, before
    /// any alarm latch, after the last slot held) is one comparison chain
    /// with the thresholds in registers; every other case goes through
    /// `push_detection_counted`.
    fn push_detection_run<T: DetectionIn>(
        &mut self,
        records: &[T],
        c: &mut DetectionCounts,
    ) -> usize {
        let high = self.clock.full(0);
        let latch = self.stats.alarm_latched_at_slot.unwrap_or(u64::MAX);
        let mut used = 0;
        loop {
            let rest = &records[used..];
            // Fast path: 64 detections that are all valid, before the latch
            // and increasing after the last slot held are checked and
            // appended.
            let lo = match self.append_after() {
                Some(a) => a.checked_add(1),
                None => Some(0),
            };
            if let (Some(chunk), Some(lo)) = (rest.get(..64), lo) {
                // Check the chunk, then append it in two exact-size copies
                // (the chunk is in L1 by then).
                let (mut ok, mut next_lo) = (true, lo);
                for r in chunk {
                    let Some(DetView { slot, invalid, .. }) = r.view(high) else {
                        ok = false;
                        break;
                    };
                    ok &= !invalid & (slot < latch) & (slot >= next_lo) & (slot != u64::MAX);
                    next_lo = slot.wrapping_add(1);
                }
                if ok {
                    let view = |r: &T| {
                        r.view(high).unwrap_or(DetView {
                            slot: 0,
                            meta: 0,
                            invalid: true,
                        })
                    };
                    self.slots.extend(chunk.iter().map(|r| view(r).slot));
                    self.meta.extend(chunk.iter().map(|r| view(r).meta));
                    self.last_bit_conflict = false;
                    c.detections += 64;
                    used += 64;
                    continue;
                }
            }
            // One at a time, up to 64 records or the first that is not a
            // detection.
            let mut after = self.append_after();
            let mut stopped = rest.len() <= 64;
            for r in rest.iter().take(64) {
                let Some(v) = r.view(high) else {
                    stopped = true;
                    break;
                };
                used += 1;
                let in_order = match after {
                    Some(a) => v.slot > a,
                    None => true,
                };
                if !v.invalid && v.slot < latch && in_order {
                    c.detections += 1;
                    self.last_bit_conflict = false;
                    self.slots.push(v.slot);
                    self.meta.push(v.meta);
                    after = Some(v.slot);
                } else {
                    self.push_detection_cold(v, c);
                    after = self.append_after();
                }
            }
            if stopped {
                break;
            }
        }
        used
    }

    /// A STATUS interval ending at absolute slot `end` (exclusive) closed,
    /// with these alarm bits seen during it.
    pub fn push_status(&mut self, end: u64, alarms_seen: u64) {
        let start = self.closed_to.unwrap_or(0);
        if alarms_seen != 0 && self.stats.alarm_latched_at_slot.is_none() {
            self.stats.alarm_latched_at_slot = Some(start);
            let from = self.pending_start();
            let keep = from + self.slots[from..].partition_point(|s| *s < start);
            let dropped = self.slots.len() - keep;
            self.meta[keep..].fill(0);
            self.meta.truncate(keep);
            self.slots.truncate(keep);
            self.stats.alarm_discarded += dropped as u64;
        }
        self.closed_to = Some(self.closed_to.map_or(end, |c| c.max(end)));
    }

    /// Drop the consumed prefix once it is at least as long as the live
    /// part (amortised O(1) per detection).
    fn compact(&mut self) {
        compact_consumed(&mut self.meta, &mut self.slots, &mut self.head);
    }

    /// Announce up to `max` pending detections (oldest first). The
    /// announcement stays in flight until [`BobSifter::apply_reply`].
    pub fn announce(&mut self, max: usize) -> SiftAnnounce {
        let mut ann = SiftAnnounce::default();
        self.announce_into(max, &mut ann);
        ann
    }

    /// [`BobSifter::announce`] into a reused announcement (overwritten).
    pub fn announce_into(&mut self, max: usize, ann: &mut SiftAnnounce) {
        let (n, last) = self.start_announcement(max);
        let range = self.head..self.head + n;
        ann.slots.clear();
        ann.slots.extend_from_slice(&self.slots[range.clone()]);
        ann.bases_x.clear();
        ann.bases_x
            .extend(self.meta[range].chunks(64).map(basis_word));
        ann.last = last;
    }

    /// [`BobSifter::announce`] straight into its wire form
    /// ([`SiftAnnounce::encode`]; `out` is cleared first), without the
    /// intermediate [`SiftAnnounce`]: what a pipeline sends. Returns the
    /// announcement's `last` flag (nothing more is ready this round).
    pub fn announce_encoded(&mut self, max: usize, out: &mut Vec<u8>) -> bool {
        let (n, last) = self.start_announcement(max);
        let range = self.head..self.head + n;
        let bases_x = self.meta[range.clone()].chunks(64).map(basis_word);
        encode_announce(&self.slots[range], bases_x, last, out);
        last
    }

    /// Put the next announcement in flight: up to `max` pending detections
    /// from `head`. Returns how many, and whether that is all Bob has ready.
    fn start_announcement(&mut self, max: usize) -> (usize, bool) {
        // A second click for an announced slot arriving in a later batch is
        // discarded and counted as late (see `SiftStats::late_discarded`).
        // Once STATUS records flow, only closed intervals are announced.
        // An announcement still in flight is abandoned (its detections dropped).
        let abandoned = self.pending_start();
        self.meta[self.head..abandoned].fill(0);
        self.head = abandoned;
        self.in_flight = 0;
        self.compact();
        let pending = &self.slots[self.head..];
        let ready = match self.closed_to {
            Some(c) => pending.partition_point(|s| *s < c),
            None => pending.len(),
        };
        let n = ready.min(max).min(MAX_ENTRIES_PER_MESSAGE);
        if let Some(&s) = pending[..n].last() {
            self.announced_to = Some(s);
        }
        self.in_flight = n;
        (n, n == ready)
    }

    /// Apply Alice's reply to the announcement in flight: returns Bob's
    /// sifted entries; slots Alice did not have yet go back to the queue.
    /// [`BobSifter::apply_reply_into`] does the same into a ledger.
    pub fn apply_reply(&mut self, reply: &SiftReply) -> Result<Vec<Sifted>, SiftError> {
        let mut ledger = SiftLedger::default();
        self.apply_reply_into(reply, &mut ledger)?;
        Ok(ledger.take_all())
    }

    /// Apply Alice's reply to the announcement in flight, appending Bob's
    /// sifted entries to `ledger`; slots Alice did not have yet go back to
    /// the queue. On error nothing changes.
    pub fn apply_reply_into(
        &mut self,
        reply: &SiftReply,
        ledger: &mut SiftLedger,
    ) -> Result<(), SiftError> {
        let n = self.in_flight;
        if reply.codes.len() != n {
            return Err(SiftError::ReplyLength {
                got: reply.codes.len(),
                expected: n,
            });
        }
        let (head, end) = (self.head, self.head + n);
        ledger.reserve(n);
        let mut kept_total = 0u64;
        // 64 entries at a time: the matches and the X bases as bit masks,
        // then only the matches appended to the ledger. (The events' own
        // bits are cleared below, once the requeued ones have been moved
        // out of the way.)
        let events = self.slots[head..end]
            .chunks(64)
            .zip(self.meta[head..end].chunks(64))
            .zip(reply.codes.chunks(64));
        for ((slots, metas), codes) in events {
            let (keep, x) = (match_word(codes), basis_word(metas));
            kept_total += append_kept(ledger, slots, keep, x, |i| {
                (metas[i] & (META_BIT | META_X))
                    | (codes[i].wrapping_sub(CODE_MATCH_SIGNAL) & 3) << META_K_SHIFT
            });
        }
        let mismatched = count_code(&reply.codes, CODE_MISMATCH);
        let excluded = count_code(&reply.codes, CODE_EXCLUDED);
        self.stats.basis_mismatch += mismatched;
        self.stats.excluded += excluded;
        self.stats.sifted += kept_total;
        // Every other code (CODE_NOT_YET, or any byte above it) requeues.
        let requeued = n as u64 - kept_total - mismatched - excluded;
        // Slots Alice did not have yet go back, in order, to the front of
        // the pending queue: move them to the end of the consumed range.
        // Every byte left before them (each event not requeued, and the old
        // places of the moved ones) is cleared.
        let mut w = end;
        if requeued > 0 {
            for i in (head..end).rev() {
                if reply.codes[i - head] >= CODE_NOT_YET {
                    w -= 1;
                    self.slots[w] = self.slots[i];
                    self.meta[w] = self.meta[i];
                }
            }
        }
        self.meta[head..w].fill(0);
        self.head = w;
        self.in_flight = 0;
        if let Some(&first) = self.slots.get(self.head) {
            // Requeued slots may be announced again.
            if self.announced_to.is_some_and(|a| a >= first) {
                self.announced_to = first.checked_sub(1);
            }
        }
        self.compact();
        Ok(())
    }
}

impl Default for BobSifter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_abi::records::Status;
    use qkd_abi::symbol::Symbol;
    use rand::Rng;

    fn det(slot: u64, detector: u8, basis: Basis, invalid: bool) -> Record {
        Record::Detection(Detection {
            slot,
            detector,
            fine_bin: 0,
            basis,
            invalid,
        })
    }

    /// Golden model: the textbook join written as a map lookup.
    fn golden(
        symbols: &[(u64, Symbol)],
        dets: &[(u64, bool, Basis)],
    ) -> Vec<(u64, Basis, u8, bool, bool)> {
        let map: std::collections::HashMap<u64, Symbol> = symbols.iter().copied().collect();
        let mut out = vec![];
        for &(slot, bob_bit, basis) in dets {
            if let Some(s) = map.get(&slot) {
                if let Some(k) = s.intensity().index() {
                    if s.basis() == basis {
                        out.push((slot, basis, k as u8, s.bit(), bob_bit));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn join_by_slot_with_epochs_exclusions_and_invalid() {
        let syms: Vec<Symbol> = vec![
            Symbol::new(Intensity::Signal, Basis::Z, true),
            Symbol::new(Intensity::Decoy, Basis::X, false),
            Symbol::new(Intensity::NonRandom, Basis::Z, true),
            Symbol::new(Intensity::Vacuum, Basis::Z, false),
            Symbol::new(Intensity::Signal, Basis::X, true),
        ];
        let hi = 3u32;
        let base_low = SLOT_MASK - 1; // wraps into the next epoch after two slots
        let mut alice = AliceSifter::new();
        alice
            .push_records(&[
                Record::Epoch(hi),
                Record::AliceSymbols(AliceSymbols::from_symbols(base_low, &syms[..2])),
                Record::Epoch(hi + 1),
                Record::AliceSymbols(AliceSymbols::from_symbols(0, &syms[2..])),
            ])
            .unwrap();
        let full0 = (u64::from(hi) << 40) | base_low;
        let mut bob = BobSifter::with_seed(1);
        bob.push_records(&[
            Record::Epoch(hi),
            det(base_low, 1, Basis::Z, false), // match Z, signal, bob bit 1
            det(base_low + 1, 0, Basis::Z, false), // mismatch
            Record::Epoch(hi + 1),
            det(0, 0, Basis::Z, false), // non-random: excluded
            det(1, 2, Basis::Z, true),  // invalid: discarded
            det(2, 0, Basis::X, false), // match X signal
            det(9, 0, Basis::X, false), // Alice does not have it yet
        ]);
        assert_eq!(bob.stats.invalid_discarded, 1);
        let ann = bob.announce(usize::MAX);
        assert!(ann.last);
        let ann = SiftAnnounce::decode(&ann.encode()).unwrap();
        let (reply, a_sifted) = alice.answer(&ann);
        let reply = SiftReply::decode(&reply.encode()).unwrap();
        assert_eq!(
            reply.codes,
            vec![
                CODE_MATCH_SIGNAL,
                CODE_MISMATCH,
                CODE_EXCLUDED,
                CODE_MATCH_SIGNAL,
                CODE_NOT_YET
            ]
        );
        let b_sifted = bob.apply_reply(&reply).unwrap();
        assert_eq!(bob.pending(), 1, "slot 9 is requeued");
        assert_eq!(a_sifted.len(), 2);
        assert_eq!(b_sifted.len(), 2);
        assert_eq!(a_sifted[0].slot, full0);
        assert_eq!(b_sifted[1].slot, full0 + 4);
        assert!(a_sifted[0].bit && b_sifted[0].bit);
        assert_eq!(a_sifted[1].basis, Basis::X);
        assert_eq!(alice.stats.excluded, 1);
        assert_eq!(bob.stats.basis_mismatch, 1);
    }

    #[test]
    fn double_clicks_are_squashed_and_counted() {
        let mut bob = BobSifter::with_seed(7);
        let mut recs = vec![];
        for s in 0..2000u64 {
            recs.push(det(s * 3, 0, Basis::Z, false));
            recs.push(det(s * 3, 1, Basis::Z, false)); // unequal bits
        }
        recs.push(det(10_000, 1, Basis::Z, false));
        recs.push(det(10_000, 3, Basis::Z, false)); // equal bits (4 detectors)
        bob.push_records(&recs);
        assert_eq!(bob.stats.double_clicks, 2001);
        assert_eq!(bob.stats.squashed_random, 2000);
        let ann = bob.announce(usize::MAX);
        assert_eq!(ann.len(), 2001);
        let reply = SiftReply {
            codes: vec![CODE_MATCH_SIGNAL; 2001],
        };
        let out = bob.apply_reply(&reply).unwrap();
        let ones = out[..2000].iter().filter(|e| e.bit).count();
        // Random bits: 1000 +- 5 sigma (sigma = 22.4).
        assert!((888..=1112).contains(&ones), "{ones}");
        assert!(out[2000].bit);
    }

    #[test]
    fn ledger_cuts_exact_blocks_and_keeps_the_rest() {
        let mut l = SiftLedger::default();
        l.extend((0..100u64).map(|s| Sifted {
            slot: s,
            basis: if s % 4 == 3 { Basis::X } else { Basis::Z },
            intensity: (s % 3) as u8,
            bit: s % 2 == 0,
        }));
        assert_eq!(l.z_count(), 75);
        let b = l.cut(30).unwrap();
        assert_eq!(b.z_bits.len(), 30);
        // 30 Z entries end at slot 38 (slots 0..=38 hold 30 Z and 9 X).
        assert_eq!(b.last_slot, 38);
        assert_eq!(b.x_bits.len(), 9);
        assert_eq!(b.counts.n[0].iter().sum::<u64>(), 30);
        assert_eq!(b.counts.n[1].iter().sum::<u64>(), 9);
        assert_eq!(l.z_count(), 45);
        assert!(l.cut(46).is_none());
        assert_eq!(l.cut(45).unwrap().first_slot, 39);
    }

    #[test]
    fn decode_errors_are_typed() {
        assert!(SiftAnnounce::decode(&[]).is_err());
        assert!(
            SiftAnnounce::decode(&[2, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err(),
            "repeated slot"
        );
        assert!(
            SiftAnnounce::decode(&[1, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0]).is_err(),
            "bad flags"
        );
        assert!(
            SiftAnnounce::decode(&[1, 0, 5, 2, 0, 0, 0, 0, 0, 0, 0]).is_err(),
            "basis bit past end"
        );
        assert!(SiftAnnounce::decode(&[0xFF; 12]).is_err());
        assert!(SiftReply::decode(&[1, 0x06]).is_err(), "unknown code");
        assert!(SiftReply::decode(&[1, 0x10]).is_err(), "padding nibble");
        assert!(SiftReply::decode(&[3, 0x11]).is_err(), "truncated");
        assert!(SiftReply::decode(&[1, 0x01, 0]).is_err(), "trailing");
    }

    #[test]
    fn code_table_agrees_with_symbol_accessors() {
        for code in 0..16u8 {
            let s = Symbol(code);
            for bob in [Basis::Z, Basis::X] {
                let want = match s.intensity().index() {
                    None => CODE_EXCLUDED,
                    Some(_) if s.basis() != bob => CODE_MISMATCH,
                    Some(k) => 1 + k as u8,
                };
                assert_eq!(
                    CODE_TABLE[usize::from(code) | (bob as usize) << 4],
                    want,
                    "symbol {code:#06b}, Bob {bob:?}"
                );
            }
        }
    }

    fn status(end: u64, alarms_seen: u64) -> Record {
        Record::Status(qkd_abi::records::Status {
            slot: end,
            counters: vec![
                (CounterId::IntervalSlots, 100),
                (CounterId::AlarmsSeen, alarms_seen),
            ],
        })
    }

    /// The alarm latch (see [`BobSifter`]): once STATUS records flow only
    /// closed intervals are announced; the first STATUS with AlarmsSeen != 0
    /// discards the detections of its interval and of everything after it.
    #[test]
    fn alarm_latch_discards_its_interval_and_everything_after() {
        let mut bob = BobSifter::with_seed(3);
        // Before any STATUS record everything is announced.
        bob.push_records(&[det(5, 1, Basis::Z, false), det(7, 0, Basis::X, false)]);
        let ann = bob.announce(usize::MAX);
        assert_eq!(ann.slots, vec![5, 7]);
        bob.apply_reply(&SiftReply {
            codes: vec![CODE_MATCH_SIGNAL, CODE_MISMATCH],
        })
        .unwrap();
        // Interval [0, 100) closes clean; 150 lies in the open interval.
        bob.push_records(&[
            det(10, 1, Basis::Z, false),
            det(20, 0, Basis::Z, false),
            det(150, 1, Basis::Z, false),
            status(100, 0),
        ]);
        let ann = bob.announce(usize::MAX);
        assert_eq!(ann.slots, vec![10, 20], "open interval not announced");
        assert!(ann.last);
        assert_eq!(bob.pending(), 1);
        let sifted = bob
            .apply_reply(&SiftReply {
                codes: vec![CODE_MATCH_SIGNAL, CODE_MATCH_DECOY],
            })
            .unwrap();
        assert_eq!(
            sifted.iter().map(|e| e.slot).collect::<Vec<_>>(),
            vec![10, 20]
        );
        // The interval [100, 200) saw an alarm: 150 and 160 are discarded,
        // and so is everything after, in later intervals too.
        bob.push_records(&[det(160, 0, Basis::X, false), status(200, 0x4)]);
        assert_eq!(bob.stats.alarm_latched_at_slot, Some(100));
        assert_eq!(bob.stats.alarm_discarded, 2);
        assert_eq!(bob.pending(), 0);
        bob.push_records(&[
            det(120, 1, Basis::Z, false),
            det(250, 1, Basis::Z, false),
            status(300, 0),
            det(310, 0, Basis::Z, false),
            status(400, 0),
        ]);
        assert_eq!(bob.stats.alarm_discarded, 5);
        assert_eq!(bob.stats.alarm_latched_at_slot, Some(100), "latched once");
        let ann = bob.announce(usize::MAX);
        assert!(ann.is_empty() && ann.last);
        assert_eq!(bob.stats.detections, 9);
        assert_eq!(bob.stats.late_discarded, 0);
    }

    /// Detections before the latched interval that were not yet announced
    /// (held back because their interval was still open when the earlier
    /// STATUS arrived) survive the latch.
    #[test]
    fn alarm_latch_keeps_detections_of_earlier_closed_intervals() {
        let mut bob = BobSifter::with_seed(4);
        bob.push_records(&[
            det(10, 1, Basis::Z, false),
            status(100, 0),
            det(110, 1, Basis::Z, false),
            det(210, 1, Basis::Z, false),
            status(200, 0),
            status(300, 1),
        ]);
        assert_eq!(bob.stats.alarm_latched_at_slot, Some(200));
        assert_eq!(bob.stats.alarm_discarded, 1);
        assert_eq!(bob.announce(usize::MAX).slots, vec![10, 110]);
    }

    /// Alice's symbols as records with gaps and unaligned counts.
    fn alice_records(rng: &mut ChaCha20Rng, n_records: usize) -> (Vec<Record>, Vec<(u64, u8)>) {
        let mut recs = vec![];
        let mut truth = vec![];
        let mut slot = rng.random_range(0..1000u64);
        for _ in 0..n_records {
            if rng.random_bool(0.2) {
                slot += rng.random_range(1..3000u64);
            }
            let count = if rng.random_bool(0.5) {
                rng.random_range(1..=40usize)
            } else {
                rng.random_range(1..=1023usize)
            };
            let syms: Vec<Symbol> = (0..count)
                .map(|_| Symbol(rng.random::<u8>() & 0xF))
                .collect();
            for (i, s) in syms.iter().enumerate() {
                truth.push((slot + i as u64, s.0));
            }
            recs.push(Record::AliceSymbols(AliceSymbols::from_symbols(
                slot, &syms,
            )));
            slot += count as u64;
        }
        (recs, truth)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Packed segments hold exactly the records' symbols, and the cursor
        /// agrees with `symbol_at` (and with a map of the records) for
        /// increasing, repeated and backward queries.
        #[test]
        fn cursor_and_segments_agree_with_records(seed in any::<u64>(), n_records in 1usize..300) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let (recs, truth) = alice_records(&mut rng, n_records);
            let mut alice = AliceSifter::new();
            alice.push_records(&recs).unwrap();
            let map: std::collections::HashMap<u64, u8> = truth.iter().copied().collect();
            let first = truth[0].0;
            let end = alice.end_slot();
            prop_assert_eq!(end, truth.last().unwrap().0 + 1);
            prop_assert_eq!(alice.stats.symbols, truth.len() as u64);
            let mut queries: Vec<u64> = (0..2000).map(|_| rng.random_range(first.saturating_sub(5)..end + 5)).collect();
            queries.sort_unstable();
            // A few backward jumps and repeats.
            for _ in 0..20 {
                let i = rng.random_range(0..queries.len());
                let j = rng.random_range(0..queries.len());
                queries.swap(i, j);
            }
            let mut cursor = SymbolCursor::new(&alice.segments);
            for &q in &queries {
                let want = map.get(&q).copied();
                prop_assert_eq!(alice.symbol_at(q), want, "symbol_at({})", q);
                prop_assert_eq!(cursor.symbol_at(q), want, "cursor at {}", q);
            }
            // Every symbol, in order, through one cursor.
            let mut cursor = SymbolCursor::new(&alice.segments);
            for &(slot, sym) in &truth {
                prop_assert_eq!(cursor.symbol_at(slot), Some(sym));
            }
        }

        /// `cut` against the definition: entries in slot order up to and
        /// including the `block_bits`-th Z entry; Z and X split; n[basis][k]
        /// with k clamped to 2.
        #[test]
        fn ledger_cut_matches_model(seed in any::<u64>(), p_x in 0.0f64..1.0, cuts in proptest::collection::vec(1u64..400, 1..6)) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let entries: Vec<Sifted> = (0..1500u64).map(|s| Sifted {
                slot: 3 * s,
                basis: Basis::from_bit(rng.random_bool(p_x)),
                intensity: rng.random_range(0..4u8),
                bit: rng.random(),
            }).collect();
            let mut l = SiftLedger::default();
            // Fed in pieces, so that the deque wraps.
            for piece in entries.chunks(97) {
                l.extend(piece.to_vec());
            }
            let mut model: VecDeque<Sifted> = entries.iter().copied().collect();
            for n in cuts {
                let z_left = model.iter().filter(|e| e.basis == Basis::Z).count() as u64;
                prop_assert_eq!(l.z_count(), z_left);
                let got = l.cut(n);
                if z_left < n {
                    prop_assert!(got.is_none());
                    continue;
                }
                let got = got.unwrap();
                let mut want_z = (vec![], vec![]);
                let mut want_x = (vec![], vec![]);
                let mut counts = [[0u64; 3]; 2];
                let first = model[0].slot;
                let mut last = 0;
                while (want_z.0.len() as u64) < n {
                    let e = model.pop_front().unwrap();
                    let side = if e.basis == Basis::Z { &mut want_z } else { &mut want_x };
                    side.0.push(u8::from(e.bit));
                    side.1.push(e.intensity);
                    counts[e.basis as usize][usize::from(e.intensity.min(2))] += 1;
                    last = e.slot;
                }
                prop_assert_eq!((got.first_slot, got.last_slot), (first, last));
                prop_assert_eq!(&got.z_bits, &want_z.0);
                prop_assert_eq!(&got.z_intensity, &want_z.1);
                prop_assert_eq!(&got.x_bits, &want_x.0);
                prop_assert_eq!(&got.x_intensity, &want_x.1);
                prop_assert_eq!(got.counts.n, counts);
                prop_assert_eq!(l.len(), model.len());
            }
        }

        /// Bob's batch fast path (`push_records`) gives the same queue and
        /// counters as feeding the same records one at a time through
        /// `push_detection` / `push_status`, with double clicks, late and
        /// invalid detections, STATUS alarms and epochs in the stream.
        #[test]
        fn bob_batch_path_matches_one_at_a_time(seed in any::<u64>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut fast = BobSifter::with_seed(seed);
            let mut slow = BobSifter::with_seed(seed);
            let mut slow_clock = SlotClock::default();
            let mut low = 0u64;
            let mut epoch = 0u32;
            for _round in 0..8 {
                let mut recs = vec![];
                for _ in 0..rng.random_range(0..300) {
                    match rng.random_range(0..100) {
                        0 => {
                            epoch += 1;
                            low = rng.random_range(0..50);
                            recs.push(Record::Epoch(epoch));
                        }
                        1..=3 => recs.push(status(low + 1, u64::from(rng.random_bool(0.2)))),
                        _ => {
                            low = match rng.random_range(0..10) {
                                0 => low.saturating_sub(3), // out of order: late
                                1 => low,                   // double click
                                _ => low + rng.random_range(1..4),
                            };
                            let basis = Basis::from_bit(rng.random());
                            recs.push(det(low, rng.random_range(0..4), basis, rng.random_bool(0.05)));
                        }
                    }
                }
                fast.push_records(&recs);
                for r in &recs {
                    match r {
                        Record::Epoch(e) => slow_clock.set_epoch(*e),
                        Record::Detection(d) => slow.push_detection(slow_clock.full(d.slot), d),
                        Record::Status(st) => slow.push_status(slow_clock.full(st.slot), st.get(CounterId::AlarmsSeen).unwrap_or(0)),
                        _ => {}
                    }
                }
                prop_assert_eq!(&fast.stats, &slow.stats);
                let max = rng.random_range(0..200usize);
                let (fa, sa) = (fast.announce(max), slow.announce(max));
                prop_assert_eq!(&fa, &sa);
                let codes: Vec<u8> = (0..fa.len()).map(|_| rng.random_range(0..=5u8)).collect();
                let fo = fast.apply_reply(&SiftReply { codes: codes.clone() }).unwrap();
                let so = slow.apply_reply(&SiftReply { codes }).unwrap();
                prop_assert_eq!(fo, so);
                prop_assert_eq!(fast.pending(), slow.pending());
            }
        }

        /// As above on long, mostly clean runs (so that Bob's 64-record
        /// fast path is taken, and left when an anomaly falls in a chunk).
        #[test]
        fn bob_fast_chunks_match_one_at_a_time(seed in any::<u64>(), anomaly_per_mille in 0u32..20) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut fast = BobSifter::with_seed(seed);
            let mut slow = BobSifter::with_seed(seed);
            let mut slow_clock = SlotClock::default();
            for round in 0..4u32 {
                let mut recs = vec![Record::Epoch(round)];
                let mut low = rng.random_range(0..20u64);
                for _ in 0..rng.random_range(0..700) {
                    let anomaly = rng.random_range(0..1000) < anomaly_per_mille;
                    let kind = if anomaly { rng.random_range(0..4) } else { 4 };
                    match kind {
                        0 => recs.push(status(low + 1, 0)),
                        1 => recs.push(det(low, 1, Basis::Z, false)), // double click
                        2 => recs.push(det(low.saturating_sub(2), 0, Basis::X, false)), // late
                        _ => {
                            low += rng.random_range(1..4);
                            let basis = Basis::from_bit(rng.random());
                            recs.push(det(low, rng.random_range(0..4), basis, kind == 3));
                        }
                    }
                }
                fast.push_records(&recs);
                for r in &recs {
                    match r {
                        Record::Epoch(e) => slow_clock.set_epoch(*e),
                        Record::Detection(d) => slow.push_detection(slow_clock.full(d.slot), d),
                        Record::Status(st) => slow.push_status(slow_clock.full(st.slot), st.get(CounterId::AlarmsSeen).unwrap_or(0)),
                        _ => {}
                    }
                }
                prop_assert_eq!(&fast.stats, &slow.stats);
                let (fa, sa) = (fast.announce(usize::MAX), slow.announce(usize::MAX));
                prop_assert_eq!(&fa, &sa);
                let codes: Vec<u8> = (0..fa.len()).map(|_| rng.random_range(0..=5u8)).collect();
                let fo = fast.apply_reply(&SiftReply { codes: codes.clone() }).unwrap();
                let so = slow.apply_reply(&SiftReply { codes }).unwrap();
                prop_assert_eq!(fo, so);
            }
        }

        #[test]
        fn announce_round_trip_small_deltas(deltas in proptest::collection::vec(prop_oneof![1u64..130, 1u64..20_000, 1u64..(1 << 40)], 0..500), first in any::<u32>(), seed in any::<u64>()) {
            let mut slots = vec![];
            let mut s = u64::from(first);
            for d in deltas {
                slots.push(s);
                s += d;
            }
            let n = slots.len();
            let mut bases_x = vec![0u64; n.div_ceil(64)];
            for i in 0..n {
                bases_x[i / 64] |= (seed.rotate_left(i as u32) & 1) << (i % 64);
            }
            let a = SiftAnnounce { slots, bases_x, last: seed % 3 == 0 };
            let wire = a.encode();
            prop_assert_eq!(SiftAnnounce::decode(&wire).unwrap(), a.clone());
            // Any truncation is an error, not a panic.
            for cut in 0..wire.len().min(40) {
                prop_assert!(SiftAnnounce::decode(&wire[..cut]).is_err());
            }
        }

        /// Bob's queue against a model written from the protocol: announce
        /// takes the oldest pending detections; matches come out in order;
        /// codes >= CODE_NOT_YET put their slots back, in order, at the front.
        #[test]
        fn bob_requeue_matches_model(seed in any::<u64>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let mut bob = BobSifter::with_seed(seed);
            let mut model: VecDeque<(u64, Basis, bool)> = VecDeque::new();
            let mut next = 0u64;
            let (mut matched, mut mismatched, mut excluded) = (0u64, 0u64, 0u64);
            for _round in 0..30 {
                let mut recs = vec![];
                for _ in 0..rng.random_range(0..200) {
                    next += rng.random_range(1..5u64);
                    let (bit, basis) = (rng.random::<bool>(), Basis::from_bit(rng.random()));
                    recs.push(det(next, u8::from(bit), basis, false));
                    model.push_back((next, basis, bit));
                }
                bob.push_records(&recs);
                prop_assert_eq!(bob.pending(), model.len());
                let max = rng.random_range(0..300usize);
                let ann = bob.announce(max);
                let n = max.min(model.len());
                prop_assert_eq!(ann.last, n == model.len());
                let batch: Vec<_> = model.drain(..n).collect();
                prop_assert_eq!(&ann.slots, &batch.iter().map(|e| e.0).collect::<Vec<_>>());
                for (i, e) in batch.iter().enumerate() {
                    prop_assert_eq!(ann.basis(i), e.1);
                }
                let codes: Vec<u8> = (0..n).map(|_| rng.random_range(0..=7u8)).collect();
                let out = bob.apply_reply(&SiftReply { codes: codes.clone() }).unwrap();
                let mut want = vec![];
                let mut again = vec![];
                for (e, &c) in batch.iter().zip(&codes) {
                    match c {
                        0 => mismatched += 1,
                        1..=3 => {
                            matched += 1;
                            want.push((e.0, e.1, c - 1, e.2));
                        }
                        4 => excluded += 1,
                        _ => again.push(*e),
                    }
                }
                for e in again.into_iter().rev() {
                    model.push_front(e);
                }
                let got: Vec<_> = out.iter().map(|e| (e.slot, e.basis, e.intensity, e.bit)).collect();
                prop_assert_eq!(got, want);
                prop_assert_eq!(bob.pending(), model.len());
            }
            prop_assert_eq!((bob.stats.sifted, bob.stats.basis_mismatch, bob.stats.excluded), (matched, mismatched, excluded));
            // What is left is announced in order.
            let ann = bob.announce(usize::MAX);
            prop_assert_eq!(ann.slots, model.iter().map(|e| e.0).collect::<Vec<_>>());
        }
    }

    /// The eight-at-a-time decode path: a zero delta or a multi-byte
    /// varint inside a run of one-byte deltas, and slots near 2^64.
    #[test]
    fn announce_word_path_edges() {
        let slots: Vec<u64> = (0..40u64).map(|i| 1000 + 3 * i).collect();
        let a = SiftAnnounce {
            bases_x: vec![0x5555_5555_5555 & ((1 << 40) - 1)],
            slots,
            last: true,
        };
        let wire = a.encode();
        assert_eq!(SiftAnnounce::decode(&wire).unwrap(), a);
        // Byte 0: count, 1: flags, 2..4: first slot (1000), then deltas.
        for at in [5, 9, 12, 20] {
            let mut bad = wire.clone();
            bad[at] = 0;
            assert!(
                matches!(SiftAnnounce::decode(&bad), Err(SiftError::Decode { .. })),
                "zero delta at byte {at}"
            );
        }
        // A long delta in the middle of one-byte runs.
        let mut slots: Vec<u64> = (0..30u64).collect();
        slots.extend((0..30u64).map(|i| 1_000_000 + i));
        let a = SiftAnnounce {
            bases_x: vec![u64::MAX >> 4],
            slots,
            last: false,
        };
        assert_eq!(SiftAnnounce::decode(&a.encode()).unwrap(), a);
        // Slots up to u64::MAX decode; one past overflows, as an error.
        let top: Vec<u64> = (0..20u64).rev().map(|i| u64::MAX - i).collect();
        let a = SiftAnnounce {
            bases_x: vec![0],
            slots: top,
            last: true,
        };
        let wire = a.encode();
        assert_eq!(SiftAnnounce::decode(&wire).unwrap(), a);
        let mut bad = wire.clone();
        let at = wire.len() - 8 - 1; // the last delta
        bad[at] = 2;
        assert!(SiftAnnounce::decode(&bad).is_err(), "overflow past 2^64");
    }

    /// `basis_word` against its definition, on every length and pattern.
    #[test]
    fn answer_bytes_agrees_with_the_answer_table() {
        let syms: Vec<u8> = (0..32).map(|i| i & 0xF).collect();
        let bob_x: Vec<u8> = (0..32).map(|i| i >> 4).collect();
        let (mut codes, mut metas) = (vec![0xEE; 32], vec![0xEE; 32]);
        answer_bytes(&syms, &bob_x, &mut codes, &mut metas);
        for i in 0..32 {
            assert_eq!(
                codes[i],
                ANSWER_TABLE[i] as u8,
                "symbol {:#x}, bob_x {}",
                i & 0xF,
                i >> 4
            );
            assert_eq!(
                metas[i],
                (ANSWER_TABLE[i] >> 8) as u8,
                "symbol {:#x}, bob_x {}",
                i & 0xF,
                i >> 4
            );
        }
    }

    #[test]
    fn spread_bits_gives_each_bit_as_a_byte() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x5B1D);
        for w in [0, u64::MAX, 1, 1 << 63]
            .into_iter()
            .chain((0..100).map(|_| rng.random()))
        {
            let got = spread_bits(w);
            for (j, &b) in got.iter().enumerate() {
                assert_eq!(u64::from(b), (w >> j) & 1, "word {w:#x}, bit {j}");
            }
        }
    }

    #[test]
    fn count_code_counts_every_byte_value() {
        let mut rng = ChaCha20Rng::seed_from_u64(0xC0DE);
        for len in [0usize, 1, 7, 8, 9, 64, 247, 248, 249, 255, 256, 1000, 5000] {
            let codes: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.random_bool(0.1) {
                        rng.random()
                    } else {
                        rng.random_range(0..6)
                    }
                })
                .collect();
            for code in [0u8, 1, 4, 5, 0x80, 0xFF] {
                let want = codes.iter().filter(|c| **c == code).count() as u64;
                assert_eq!(count_code(&codes, code), want, "len {len}, code {code}");
            }
        }
        // Long runs of one value (a lane sums up to 31 words before flushing).
        for code in [0u8, 4, 0xFF] {
            let codes = vec![code; 8 * 100 + 3];
            assert_eq!(count_code(&codes, code), codes.len() as u64);
        }
    }

    #[test]
    fn match_word_flags_codes_1_to_3() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x3A7C);
        for len in 0..=64usize {
            for _ in 0..20 {
                // Every byte value, and runs of the real codes 0..=5.
                let codes: Vec<u8> = (0..len)
                    .map(|_| {
                        if rng.random() {
                            rng.random()
                        } else {
                            rng.random_range(0..6)
                        }
                    })
                    .collect();
                let want = codes
                    .iter()
                    .enumerate()
                    .fold(0u64, |w, (j, &c)| w | u64::from((1..=3).contains(&c)) << j);
                assert_eq!(match_word(&codes), want, "{codes:?}");
            }
        }
    }

    #[test]
    fn basis_word_gathers_the_x_flags() {
        let mut rng = ChaCha20Rng::seed_from_u64(0xBA5E);
        for len in 0..=64usize {
            for _ in 0..20 {
                let entries: Vec<u8> = (0..len).map(|_| rng.random::<u8>()).collect();
                let want = entries
                    .iter()
                    .enumerate()
                    .fold(0u64, |w, (j, m)| w | u64::from(m & META_X != 0) << j);
                assert_eq!(basis_word(&entries), want, "{entries:?}");
            }
        }
    }

    /// What the ledger hands out is cleared behind it: after a cut the
    /// consumed bytes are zero, and a compaction leaves no byte past the
    /// live entries.
    #[test]
    fn ledger_clears_consumed_bits() {
        let mut l = SiftLedger::default();
        l.extend((0..1000u64).map(|s| Sifted {
            slot: s,
            basis: Basis::from_bit(s % 3 == 0),
            intensity: 0,
            bit: true,
        }));
        let b = l.cut(100).unwrap();
        assert_eq!(b.z_bits, vec![1u8; 100]);
        for column in [&l.z, &l.x] {
            assert!(column.meta[..column.head].iter().all(|m| *m == 0));
        }
        // Cut past half: the consumed prefixes are dropped, the live parts
        // moved. Slots 0..150 held 100 Z; 400 more Z end at slot 749; 166
        // Z and 84 X entries remain.
        assert_eq!(l.cut(400).unwrap().last_slot, 749);
        assert_eq!((l.z.head, l.z.meta.len()), (0, 166), "Z compacted");
        assert_eq!((l.x.head, l.x.meta.len()), (0, 84), "X compacted");
        assert_eq!(l.len(), 250);
        for column in [&l.z, &l.x] {
            assert!(column.meta.iter().all(|m| m & META_BIT == 1));
        }
        let mut bob = BobSifter::with_seed(9);
        bob.push_records(&[det(1, 1, Basis::Z, false), det(2, 1, Basis::Z, false)]);
        let _ = bob.announce(1);
        bob.apply_reply(&SiftReply {
            codes: vec![CODE_MATCH_SIGNAL],
        })
        .unwrap();
        assert!(bob.meta[..bob.head].iter().all(|m| *m & META_BIT == 0));
    }

    proptest! {
        #[test]
        fn announce_and_reply_round_trip(slots in proptest::collection::btree_set(0u64..u64::MAX, 0..300), seed in any::<u64>(), last in any::<bool>()) {
            let slots: Vec<u64> = slots.into_iter().collect();
            let n = slots.len();
            let mut bases_x = vec![0u64; n.div_ceil(64)];
            for i in 0..n {
                bases_x[i / 64] |= (seed.rotate_left(i as u32) & 1) << (i % 64);
            }
            let a = SiftAnnounce { slots, bases_x, last };
            prop_assert_eq!(SiftAnnounce::decode(&a.encode()).unwrap(), a.clone());
            let r = SiftReply { codes: (0..n).map(|i| ((seed >> (i % 60)) % 6) as u8).collect() };
            prop_assert_eq!(SiftReply::decode(&r.encode()).unwrap(), r);
        }

        /// `announce_encoded` sends the bytes `announce` + `encode` send and
        /// leaves Bob in the same state (the same reply then gives the same
        /// entries), for any batch limit and with STATUS-closed intervals.
        #[test]
        fn announce_encoded_equals_announce_then_encode(
            gaps in proptest::collection::vec(1u64..300, 0..400),
            closed in proptest::option::of(0u64..60_000),
            max in 1usize..500,
            seed in any::<u64>(),
        ) {
            let mut slot = seed % 1000;
            let recs: Vec<Record> = gaps.iter().enumerate().map(|(i, g)| {
                slot += g;
                det(slot, (seed >> (i % 60)) as u8 & 1, Basis::from_bit((seed >> ((i + 7) % 60)) & 1 == 1), false)
            }).collect();
            let (mut a, mut b) = (BobSifter::with_seed(seed), BobSifter::with_seed(seed));
            for bob in [&mut a, &mut b] {
                bob.push_records(&recs);
                if let Some(c) = closed {
                    bob.push_status(c, 0);
                }
            }
            for round in 0..3 {
                let ann = a.announce(max);
                let mut wire = vec![0xAA; 3];
                let last = b.announce_encoded(max, &mut wire);
                prop_assert_eq!(&wire, &ann.encode(), "round {}", round);
                prop_assert_eq!(last, ann.last);
                let reply = SiftReply { codes: (0..ann.len()).map(|i| ((seed >> (i % 61)) % 6) as u8).collect() };
                prop_assert_eq!(a.apply_reply(&reply).unwrap(), b.apply_reply(&reply).unwrap());
                prop_assert_eq!(a.pending(), b.pending());
            }
        }

        /// The driver's columnar hand-off (`push_batch`: `SlotDetection`s
        /// with full slots, other records beside them) leaves Bob in the
        /// state the same stream as qkd-abi records (`push_records`)
        /// leaves him in: counters, queue, announcements and sifted
        /// entries; over invalid, repeated and out-of-order detections,
        /// EPOCH changes and STATUS records with and without alarms, split
        /// into batches anywhere.
        #[test]
        fn push_batch_equals_push_records(
            events in proptest::collection::vec((0u8..20, 0u64..40, any::<u8>()), 0..500),
            cuts in proptest::collection::vec(0usize..500, 0..6),
            seed in any::<u64>(),
        ) {
            let mut epoch = 0u32;
            let mut low = 1000u64;
            let mut recs = vec![Record::Epoch(0)];
            // (stream index, record) of every record; the batch form is
            // built from the same list.
            for &(kind, step, bits) in &events {
                match kind {
                    0 => {
                        epoch += 1;
                        low = u64::from(bits);
                        recs.push(Record::Epoch(epoch));
                    }
                    1 | 2 => recs.push(Record::Status(Status {
                        slot: low + step,
                        counters: vec![(CounterId::AlarmsSeen, u64::from(kind == 2 && bits < 8))],
                    })),
                    _ => {
                        // Mostly increasing; sometimes the same slot or one behind.
                        low = match bits >> 6 {
                            0 => low.saturating_sub(step % 3),
                            _ => low + step,
                        };
                        recs.push(det(low, bits & 3, Basis::from_bit(bits & 4 != 0), bits & 0x38 == 0x38));
                    }
                }
            }
            // The same stream as the driver decodes it, in batches.
            let mut batches = vec![Batch::default()];
            let mut cut_at: Vec<usize> = cuts.clone();
            cut_at.sort_unstable();
            let mut hi = 0u64;
            for (i, r) in recs.iter().enumerate() {
                if cut_at.binary_search(&i).is_ok() {
                    batches.push(Batch::default());
                }
                let b = batches.last_mut().unwrap();
                match r {
                    Record::Detection(d) => b.detections.push(SlotDetection::new(
                        hi | d.slot, d.detector, d.fine_bin, d.basis, d.invalid,
                    )),
                    other => {
                        let slot = match other {
                            Record::Epoch(e) => {
                                hi = u64::from(*e) << SLOT_BITS;
                                hi
                            }
                            Record::Status(st) => hi | st.slot,
                            _ => unreachable!(),
                        };
                        let detections_before = b.detections.len();
                        b.records.push(qkd_driver::stream::StreamRecord {
                            slot,
                            record: other.clone(),
                            detections_before,
                        });
                    }
                }
            }
            let (mut a, mut b) = (BobSifter::with_seed(seed), BobSifter::with_seed(seed));
            a.push_records(&recs);
            for batch in &batches {
                b.push_batch(batch);
            }
            prop_assert_eq!(&a.stats, &b.stats);
            prop_assert_eq!(a.pending(), b.pending());
            for round in 0..2 {
                let ann = a.announce(200);
                prop_assert_eq!(&ann, &b.announce(200), "round {}", round);
                let reply = SiftReply { codes: (0..ann.len()).map(|i| ((seed >> (i % 61)) % 6) as u8).collect() };
                prop_assert_eq!(a.apply_reply(&reply).unwrap(), b.apply_reply(&reply).unwrap());
            }
        }

        /// Decoding into reused (dirty) messages gives what a fresh decode gives.
        #[test]
        fn decode_into_reused_buffers(deltas in proptest::collection::vec(prop_oneof![1u64..128, 1u64..100_000], 0..400), n_codes in 0usize..300, seed in any::<u64>()) {
            let mut slots = vec![];
            let mut s = seed >> 20;
            for d in deltas {
                slots.push(s);
                s += d;
            }
            let n = slots.len();
            let a = SiftAnnounce { bases_x: (0..n.div_ceil(64)).map(|w| if (w + 1) * 64 <= n { seed } else { seed & ((1u64 << (n % 64)) - 1) }).collect(), slots, last: seed % 2 == 0 };
            let mut dirty = SiftAnnounce { slots: vec![7; 900], bases_x: vec![1; 9], last: true };
            let mut wire = vec![0xAA; 17];
            a.encode_into(&mut wire);
            prop_assert_eq!(&wire, &a.encode());
            SiftAnnounce::decode_into(&wire, &mut dirty).unwrap();
            prop_assert_eq!(&dirty, &a);
            let r = SiftReply { codes: (0..n_codes).map(|i| ((seed >> (i % 61)) % 6) as u8).collect() };
            let mut dirty = SiftReply { codes: vec![3; 777] };
            r.encode_into(&mut wire);
            SiftReply::decode_into(&wire, &mut dirty).unwrap();
            prop_assert_eq!(dirty, r);
        }

        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = SiftAnnounce::decode(&bytes);
            let _ = SiftReply::decode(&bytes);
        }

        /// The sifter agrees with a HashMap join on random streams, over
        /// several rounds with symbols arriving after detections.
        #[test]
        fn matches_golden_join(seed in any::<u64>()) {
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let total = 3000u64;
            let symbols: Vec<(u64, Symbol)> = (0..total).map(|s| (s + 100, Symbol(rng.random::<u8>() & 0xF))).collect();
            let mut dets = vec![];
            for s in 100..total + 150 {
                if rng.random_bool(0.1) {
                    dets.push((s, rng.random::<bool>(), Basis::from_bit(rng.random())));
                }
            }
            let mut alice = AliceSifter::new();
            let mut bob = BobSifter::with_seed(seed);
            let recs: Vec<Record> = dets.iter().map(|&(s, b, basis)| det(s, u8::from(b), basis, false)).collect();
            bob.push_records(&recs);
            let (mut a_all, mut b_all) = (vec![], vec![]);
            for chunk in symbols.chunks(700) {
                let syms: Vec<Symbol> = chunk.iter().map(|x| x.1).collect();
                for (i, part) in syms.chunks(1023).enumerate() {
                    alice.push_records(&[Record::AliceSymbols(AliceSymbols::from_symbols(chunk[0].0 + 1023 * i as u64, part))]).unwrap();
                }
                let ann = bob.announce(usize::MAX);
                let (reply, a) = alice.answer(&ann);
                let b = bob.apply_reply(&reply).unwrap();
                a_all.extend(a);
                b_all.extend(b);
            }
            let want = golden(&symbols, &dets);
            prop_assert_eq!(a_all.len(), want.len());
            prop_assert_eq!(b_all.len(), want.len());
            for ((a, b), w) in a_all.iter().zip(&b_all).zip(&want) {
                prop_assert_eq!((a.slot, a.basis, a.intensity, a.bit), (w.0, w.1, w.2, w.3));
                prop_assert_eq!((b.slot, b.basis, b.intensity, b.bit), (w.0, w.1, w.2, w.4));
            }
            // Slots past Alice's last symbol are still pending at Bob.
            prop_assert_eq!(bob.pending(), dets.iter().filter(|d| d.0 >= total + 100).count());
        }
    }
}
