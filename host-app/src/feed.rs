// SPDX-License-Identifier: MIT OR Apache-2.0
//! A device's record stream cut into windows of slots, the unit in which
//! both ends of a link feed their pipelines (the same window numbers at
//! both ends, so a resumed session can start at a window neither has fed).
//! A window is handed over as one driver batch: Bob's detections stay in
//! the decoder's compact form (`BobSifter::push_batch`), not 40-byte
//! records. EPOCH records always go with the next window.

use qkd_abi::records::Record;
use qkd_driver::stream::{BatchItem, StreamReader, StreamRecord};
use qkd_driver::EventSource;
use qkd_driver::{Batch, SlotDetection};
use std::time::Duration;

/// One item of a device stream held back for a later window.
enum Held {
    /// A detection, in the decoder's compact form (full slot).
    Detection(SlotDetection),
    /// Any other record, with its full slot.
    Record(u64, Record),
}

impl Held {
    fn slot(&self) -> u64 {
        match self {
            Held::Detection(d) => d.slot,
            Held::Record(slot, _) => *slot,
        }
    }
}

/// Append a record to a window's batch, after the detections it holds.
fn push_record(out: &mut Batch, slot: u64, record: Record) {
    let detections_before = out.detections.len();
    out.records.push(StreamRecord {
        slot,
        record,
        detections_before,
    });
}

/// A device stream cut into windows of slots. A window is handed to the
/// pipeline as one driver batch: Bob's detections stay in the decoder's
/// compact form (`BobSifter::push_batch`), not 40-byte records.
pub struct Feed {
    reader: StreamReader<Box<dyn EventSource>>,
    peer_drain: Option<Box<dyn EventSource>>,
    carry: Vec<Held>,
    epochs: Vec<(u64, Record)>,
    ended: bool,
    /// The next window [`Feed::read_window`] reads.
    pub next_window: u64,
    window_slots: u64,
    /// Records the device stream reported lost (GAPs, decoder losses).
    pub lost_records: u64,
}

impl Feed {
    /// A feed of `window_slots`-slot windows from `events`; `peer_drain`
    /// (simulated links) is the other side's stream, read and dropped so
    /// that the simulation does not stall on it.
    pub fn new(
        events: Box<dyn EventSource>,
        peer_drain: Option<Box<dyn EventSource>>,
        window_slots: u64,
    ) -> Feed {
        Feed {
            reader: StreamReader::new(events),
            peer_drain,
            carry: Vec::new(),
            epochs: Vec::new(),
            ended: false,
            next_window: 0,
            window_slots: window_slots.max(1),
            lost_records: 0,
        }
    }

    /// Read window `self.next_window` (records with slot in [w W, (w+1) W),
    /// EPOCH records always) and advance.
    pub fn read_window(&mut self) -> Result<Batch, qkd_driver::Error> {
        let w = self.next_window;
        let (start, end) = (
            w.saturating_mul(self.window_slots),
            w.saturating_add(1).saturating_mul(self.window_slots),
        );
        let mut out = Batch::default();
        for (slot, r) in std::mem::take(&mut self.epochs) {
            push_record(&mut out, slot, r);
        }
        let mut next_carry = Vec::new();
        let place = |h: Held, out: &mut Batch, nc: &mut Vec<Held>| {
            let slot = h.slot();
            match h {
                Held::Record(slot, r @ Record::Epoch(_)) => push_record(out, slot, r),
                h if slot >= end => nc.push(h),
                _ if slot < start => {}
                Held::Detection(d) => out.detections.push(d),
                Held::Record(slot, r) => push_record(out, slot, r),
            }
        };
        for h in std::mem::take(&mut self.carry) {
            place(h, &mut out, &mut next_carry);
        }
        while next_carry.is_empty() && !self.ended {
            let b = self.reader.next_batch(Duration::from_secs(5))?;
            self.lost_records += b.loss.lost_records;
            for item in b.iter() {
                let h = match item {
                    BatchItem::Detection(d) => Held::Detection(*d),
                    BatchItem::Record(r) => Held::Record(r.slot, r.record.clone()),
                };
                place(h, &mut out, &mut next_carry);
            }
            self.ended = b.end_of_stream;
        }
        self.carry = next_carry;
        self.next_window = w.saturating_add(1);
        self.drain_peer();
        Ok(out)
    }

    /// Skip to window `w` (keeping the EPOCH records for the next window).
    pub fn skip_to(&mut self, w: u64) -> Result<(), qkd_driver::Error> {
        while self.next_window < w && !(self.ended && self.carry.is_empty()) {
            let window = self.read_window()?;
            self.epochs.extend(
                window
                    .records
                    .into_iter()
                    .filter(|r| matches!(r.record, Record::Epoch(_)))
                    .map(|r| (r.slot, r.record)),
            );
        }
        self.next_window = self.next_window.max(w);
        Ok(())
    }

    /// Drop what the simulated link queued for the other side.
    fn drain_peer(&mut self) {
        let Some(src) = self.peer_drain.as_mut() else {
            return;
        };
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match src.read_bytes(&mut buf, Duration::ZERO) {
                Ok(n) if n == buf.len() => {}
                Ok(_) => break,
                Err(_) => {
                    self.peer_drain = None;
                    break;
                }
            }
        }
    }

    /// The device stream ended and every held item was handed out.
    pub fn exhausted(&self) -> bool {
        self.ended && self.carry.is_empty()
    }
}
