// SPDX-License-Identifier: MIT OR Apache-2.0
//! Record stream: a record FIFO with whole-record admission, GAP accounting
//! for dropped records, and an AMBA AXI4-Stream master (ARM IHI 0051,
//! 64-bit TDATA, TLAST on the last word of each record), as specified in
//! `docs/gateware-spec.md` section 6.
//!
//! Admission is decided on a record's header word from its length: the
//! record is admitted whole (its words are reserved in the FIFO) or dropped
//! whole. Dropped records accumulate into one pending GAP; the GAP is queued
//! together with the next record that fits (and a free GAP queue entry),
//! and the output stage sends the GAP's two words just before that record.
//! The producer is never stalled.
//!
//! Timing: the FIFO's block-RAM read data goes straight into an output
//! holding register (`hold`), so no logic sits after the RAM's slow
//! clock-to-output; admission compares `in_len` with a registered count of
//! free words (`free`) instead of adding `fill + in_len`. Words therefore
//! leave one cycle later than they would from the RAM directly; `fill` (and
//! with it admission) still counts a word until its AXI4-Stream handshake.
//! The FIFO and GAP-queue writes and the GAP accounting (first slot,
//! records, slots, lost-slot count) happen in stage W, one cycle after the
//! admission decision, from registers: `accept` and `drop` load only a few
//! flip-flops, not the 66-bit word and the 128-bit GAP. The GAP queue's
//! full flag ([`FifoFull`]) counts an entry from the admission that
//! reserves it.
//!
//! Registered input ([`RecordStream::registered`]): the input words (and
//! `clear`) first go through one register stage, and the admission test
//! `in_len <= free` of a header is computed one cycle ahead from the
//! unregistered input, for both outcomes of the admission of the word
//! ahead of it (comparisons of the raw `in_len` with the candidates of the
//! next `free`, with or without the length of the word in the register
//! stage). The
//! registered `accept` then only selects one of two precomputed bits, so
//! the header decode of the producer and the comparator's carry chain are
//! off the path to the GAP registers. A word sent on the AXI4-Stream
//! returns its FIFO space to `fill`/`free` one cycle after its handshake
//! (so the output handshake is not in front of the adders either): a
//! header can be dropped that the unregistered stream would have admitted
//! one cycle earlier, only when the FIFO is within one word of full. The
//! GAP queue's head is prefetched into a holding register (`gap_hold`)
//! like the record words, so `tready` reaches neither FIFO's read side
//! through the GAP logic.

use crate::common::fifo_full::FifoFull;
use rust_hdl::prelude::*;

/// Record FIFO depth in 64-bit words (`2^STREAM_FIFO_LOG2`).
pub const STREAM_FIFO_LOG2: usize = 9;
/// Record FIFO depth in words.
pub const STREAM_FIFO_WORDS: u64 = 1 << STREAM_FIFO_LOG2;
/// Pending GAP records the GAP queue holds (`2^2`).
pub const GAP_QUEUE_LOG2: usize = 2;
/// Width of the fill/free word counts: they reach `STREAM_FIFO_WORDS`, and
/// a header's admission test adds two record lengths (< 2^9) to one.
const FILL_BITS: usize = STREAM_FIFO_LOG2 + 2;

/// How a GAP's `lost_slots` is computed from the dropped records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostSlots {
    /// Alice: sum of the `in_slots` of the dropped records.
    Sum,
    /// Bob: `in_slot + in_slots - first_slot` of the last dropped record
    /// (give `in_slots = 1` for a record about one slot).
    Span,
}

/// The record stream block. Input protocol (one word per cycle, never
/// stalled): a record is `in_len` words, the first with `in_first` (and
/// `in_len`, `in_slot`, `in_slots` valid), the last with `in_last`, all with
/// `in_valid`; words of one record come in consecutive `in_valid` cycles
/// or with gaps, but records do not interleave. `in_lost` (never in the same
/// cycle as an `in_first`) reports a record the producer itself dropped.
#[derive(LogicBlock)]
pub struct RecordStream {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// Forget the pending (not yet queued) GAP, active high (use at START).
    pub clear: Signal<In, Bit>,
    /// Clear the statistics outputs, active high.
    pub clear_counters: Signal<In, Bit>,
    /// Record word.
    pub in_data: Signal<In, Bits<64>>,
    /// `in_data` is a word of a record, active high.
    pub in_valid: Signal<In, Bit>,
    /// This word is a record's header (first word), active high.
    pub in_first: Signal<In, Bit>,
    /// This word is a record's last word, active high.
    pub in_last: Signal<In, Bit>,
    /// Record length in words (1..=255), with `in_first`.
    pub in_len: Signal<In, Bits<8>>,
    /// 64-bit slot index of the record (its `slot`/`start_slot`), with
    /// `in_first` or `in_lost`.
    pub in_slot: Signal<In, Bits<64>>,
    /// Slots the record covers (Alice: 64 for ALICE_SYMBOLS, 0 otherwise),
    /// with `in_first` or `in_lost`.
    pub in_slots: Signal<In, Bits<32>>,
    /// Records the producer dropped itself, active high: they join the GAP
    /// (`in_slot` = slot of the first of them, `in_slots` = slots covered).
    pub in_lost: Signal<In, Bit>,
    /// Number of records reported by `in_lost` (1..=255).
    pub in_lost_records: Signal<In, Bits<8>>,
    /// AXI4-Stream TDATA.
    pub tdata: Signal<Out, Bits<64>>,
    /// AXI4-Stream TVALID, active high.
    pub tvalid: Signal<Out, Bit>,
    /// AXI4-Stream TREADY, active high.
    pub tready: Signal<In, Bit>,
    /// AXI4-Stream TLAST: last word of a record, active high.
    pub tlast: Signal<Out, Bit>,
    /// Records emitted (including GAP records), 64-bit wrapping.
    pub records: Signal<Out, Bits<64>>,
    /// Slots whose records were dropped, 64-bit wrapping.
    pub lost_slots: Signal<Out, Bits<64>>,
    /// GAP records emitted, 32-bit wrapping.
    pub gaps: Signal<Out, Bits<32>>,
    /// Highest FIFO fill (words, including reserved ones) since clear_counters.
    pub high_water: Signal<Out, Bits<32>>,
    /// A record was dropped this cycle (one-cycle pulse), active high.
    pub dropped: Signal<Out, Bit>,
    /// Input register stage and admission lookahead (see the module).
    reg_in: Constant<Bit>,
    r_clear: DFF<Bit>,
    r_data: DFF<Bits<64>>,
    r_valid: DFF<Bit>,
    r_first: DFF<Bit>,
    r_last: DFF<Bit>,
    r_len: DFF<Bits<8>>,
    r_slot: DFF<Bits<64>>,
    r_slots: DFF<Bits<32>>,
    r_lost: DFF<Bit>,
    r_lost_records: DFF<Bits<8>>,
    /// Registered `accept` of the word in the register stage.
    acc_prev: DFF<Bit>,
    /// Raw header fits if the registered word is not admitted (`fits_keep`)
    /// or is (`fits_take`), for the output read of the same cycle.
    fits_keep: DFF<Bit>,
    fits_take: DFF<Bit>,
    in_len_w: Signal<Local, Bits<FILL_BITS>>,
    fits_k0: Signal<Local, Bit>,
    fits_k1: Signal<Local, Bit>,
    fits_t0: Signal<Local, Bit>,
    fits_t1: Signal<Local, Bit>,
    fits: Signal<Local, Bit>,
    /// What the stream works on: the inputs, or the register stage.
    v_clear: Signal<Local, Bit>,
    v_data: Signal<Local, Bits<64>>,
    v_valid: Signal<Local, Bit>,
    v_first: Signal<Local, Bit>,
    v_last: Signal<Local, Bit>,
    v_len: Signal<Local, Bits<8>>,
    v_slot: Signal<Local, Bits<64>>,
    v_slots: Signal<Local, Bits<32>>,
    v_lost: Signal<Local, Bit>,
    v_lost_records: Signal<Local, Bits<8>>,
    fifo: SynchronousFIFO<Bits<66>, STREAM_FIFO_LOG2, { STREAM_FIFO_LOG2 + 1 }, 1>,
    gapq: SynchronousFIFO<Bits<128>, GAP_QUEUE_LOG2, { GAP_QUEUE_LOG2 + 1 }, 1>,
    span_mode: Constant<Bit>,
    free: DFFWithInit<Bits<FILL_BITS>>,
    hold: DFF<Bits<66>>,
    hold_valid: DFF<Bit>,
    pop: Signal<Local, Bit>,
    taking: DFF<Bit>,
    gap_pending: DFF<Bit>,
    /// Stage W (one cycle after admission): the FIFO write and word, the
    /// GAP queue write, and the drop with what the GAP accounting needs
    /// (`w_pending`: `gap_pending` before the drop).
    w_write: DFF<Bit>,
    w_data: DFF<Bits<66>>,
    w_gapq_write: DFF<Bit>,
    w_drop: DFF<Bit>,
    w_pending: DFF<Bit>,
    w_slot: DFF<Bits<64>>,
    w_slots: DFF<Bits<32>>,
    w_drop_records: DFF<Bits<20>>,
    gap_first: DFF<Bits<64>>,
    gap_records: DFF<Bits<20>>,
    gap_slots: DFF<Bits<64>>,
    gap_phase: DFF<Bits<2>>,
    records_count: DFF<Bits<64>>,
    lost_count: DFF<Bits<64>>,
    gaps_count: DFF<Bits<32>>,
    high_count: DFF<Bits<32>>,
    /// FIFO fill (admitted words not yet released): `STREAM_FIFO_WORDS -
    /// free`, derived rather than kept in a second counter.
    fill: Signal<Local, Bits<FILL_BITS>>,
    k_words: Constant<Bits<FILL_BITS>>,
    accept: Signal<Local, Bit>,
    drop: Signal<Local, Bit>,
    drop_records: Signal<Local, Bits<20>>,
    gap_records_sum: Signal<Local, Bits<21>>,
    head_marker: Signal<Local, Bit>,
    main_read: Signal<Local, Bit>,
    /// The record length, and the length minus one, at the fill width
    /// (registered input: registered with the word).
    v_len_w: Signal<Local, Bits<FILL_BITS>>,
    v_len_m1: Signal<Local, Bits<FILL_BITS>>,
    r_len_m1: DFF<Bits<FILL_BITS>>,
    /// The GAP queue's full flag, registered (an entry counts from the
    /// admission that reserves it: its write follows in stage W).
    gapq_full: FifoFull<{ GAP_QUEUE_LOG2 + 1 }>,
    gapq_wrote: Signal<Local, Bit>,
    gapq_took: Signal<Local, Bit>,
    /// The output read whose word `fill`/`free` release (registered input:
    /// the previous cycle's `main_read`, so no output-handshake logic sits
    /// before the fill/free adders and the lookahead comparisons).
    credit: Signal<Local, Bit>,
    read_r: DFF<Bit>,
    /// Registered input: the oldest queued GAP, prefetched from the GAP
    /// queue (whose read then does not depend on `tready`).
    gap_hold: DFF<Bits<128>>,
    gap_hold_valid: DFF<Bit>,
    /// The GAP record being sent: `gap_hold` or the queue's head.
    gap_src: Signal<Local, Bits<128>>,
    /// `gap_src` holds a GAP (always, without the prefetch).
    gap_ready: Signal<Local, Bit>,
    /// The GAP's last word is sent this cycle.
    gap_done: Signal<Local, Bit>,
    /// `free` after this cycle for each (credit, accept) outcome; every
    /// one is one adder from registers (`d`: credit, `t`: accept).
    free_inc: Signal<Local, Bits<FILL_BITS>>,
    free_t: Signal<Local, Bits<FILL_BITS>>,
    free_dt: Signal<Local, Bits<FILL_BITS>>,
    gap_header: Signal<Local, Bits<64>>,
    gap_tag: Constant<Bits<64>>,
    low60: Constant<Bits<64>>,
}

impl RecordStream {
    /// A stream whose GAPs count lost slots as `mode` says.
    pub fn new(mode: LostSlots) -> Self {
        Self::with_input(mode, false)
    }

    /// As [`RecordStream::new`], with the input register stage and the
    /// admission lookahead (see the module): the same records, one cycle
    /// later, and a shorter path from the producer to the GAP registers.
    pub fn registered(mode: LostSlots) -> Self {
        Self::with_input(mode, true)
    }

    fn with_input(mode: LostSlots, reg_in: bool) -> Self {
        Self {
            clock: Default::default(),
            clear: Default::default(),
            clear_counters: Default::default(),
            in_data: Default::default(),
            in_valid: Default::default(),
            in_first: Default::default(),
            in_last: Default::default(),
            in_len: Default::default(),
            in_slot: Default::default(),
            in_slots: Default::default(),
            in_lost: Default::default(),
            in_lost_records: Default::default(),
            tdata: Default::default(),
            tvalid: Default::default(),
            tready: Default::default(),
            tlast: Default::default(),
            records: Default::default(),
            lost_slots: Default::default(),
            gaps: Default::default(),
            high_water: Default::default(),
            dropped: Default::default(),
            reg_in: Constant::new(reg_in),
            r_clear: Default::default(),
            r_data: Default::default(),
            r_valid: Default::default(),
            r_first: Default::default(),
            r_last: Default::default(),
            r_len: Default::default(),
            r_slot: Default::default(),
            r_slots: Default::default(),
            r_lost: Default::default(),
            r_lost_records: Default::default(),
            acc_prev: Default::default(),
            fits_keep: Default::default(),
            fits_take: Default::default(),
            in_len_w: Default::default(),
            fits_k0: Default::default(),
            fits_k1: Default::default(),
            fits_t0: Default::default(),
            fits_t1: Default::default(),
            fits: Default::default(),
            v_clear: Default::default(),
            v_data: Default::default(),
            v_valid: Default::default(),
            v_first: Default::default(),
            v_last: Default::default(),
            v_len: Default::default(),
            v_slot: Default::default(),
            v_slots: Default::default(),
            v_lost: Default::default(),
            v_lost_records: Default::default(),
            fifo: Default::default(),
            gapq: Default::default(),
            span_mode: Constant::new(mode == LostSlots::Span),
            free: DFFWithInit::new(STREAM_FIFO_WORDS.into()),
            hold: Default::default(),
            hold_valid: Default::default(),
            pop: Default::default(),
            taking: Default::default(),
            gap_pending: Default::default(),
            w_write: Default::default(),
            w_data: Default::default(),
            w_gapq_write: Default::default(),
            w_drop: Default::default(),
            w_pending: Default::default(),
            w_slot: Default::default(),
            w_slots: Default::default(),
            w_drop_records: Default::default(),
            gap_first: Default::default(),
            gap_records: Default::default(),
            gap_slots: Default::default(),
            gap_phase: Default::default(),
            records_count: Default::default(),
            lost_count: Default::default(),
            gaps_count: Default::default(),
            high_count: Default::default(),
            fill: Default::default(),
            k_words: Constant::new(STREAM_FIFO_WORDS.into()),
            accept: Default::default(),
            drop: Default::default(),
            drop_records: Default::default(),
            gap_records_sum: Default::default(),
            head_marker: Default::default(),
            main_read: Default::default(),
            v_len_w: Default::default(),
            v_len_m1: Default::default(),
            r_len_m1: Default::default(),
            gapq_full: Default::default(),
            gapq_wrote: Default::default(),
            gapq_took: Default::default(),
            credit: Default::default(),
            read_r: Default::default(),
            gap_hold: Default::default(),
            gap_hold_valid: Default::default(),
            gap_src: Default::default(),
            gap_ready: Default::default(),
            gap_done: Default::default(),
            free_inc: Default::default(),
            free_t: Default::default(),
            free_dt: Default::default(),
            gap_header: Default::default(),
            gap_tag: Constant::new((4u64 << 60).into()),
            low60: Constant::new(((1u64 << 60) - 1).into()),
        }
    }
}

impl Logic for RecordStream {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, fifo, gapq, gapq_full);
        dff_setup!(
            self,
            clock,
            free,
            hold,
            hold_valid,
            taking,
            gap_pending,
            gap_first,
            gap_records,
            gap_slots,
            gap_phase,
            records_count,
            lost_count,
            gaps_count,
            high_count,
            r_clear,
            r_data,
            r_valid,
            r_first,
            r_last,
            r_len,
            r_slot,
            r_slots,
            r_lost,
            r_lost_records,
            acc_prev,
            fits_keep,
            fits_take,
            read_r,
            gap_hold,
            gap_hold_valid,
            r_len_m1,
            w_write,
            w_data,
            w_gapq_write,
            w_drop,
            w_pending,
            w_slot,
            w_slots,
            w_drop_records
        );
        // ---- Input (register stage or straight through) ----
        self.r_clear.d.next = self.clear.val();
        self.r_data.d.next = self.in_data.val();
        self.r_valid.d.next = self.in_valid.val();
        self.r_first.d.next = self.in_first.val();
        self.r_last.d.next = self.in_last.val();
        self.r_len.d.next = self.in_len.val();
        self.r_slot.d.next = self.in_slot.val();
        self.r_slots.d.next = self.in_slots.val();
        self.r_lost.d.next = self.in_lost.val();
        self.r_lost_records.d.next = self.in_lost_records.val();
        self.r_len_m1.d.next = bit_cast::<FILL_BITS, 8>(self.in_len.val()) - 1;
        if self.reg_in.val() {
            self.v_clear.next = self.r_clear.q.val();
            self.v_data.next = self.r_data.q.val();
            self.v_valid.next = self.r_valid.q.val();
            self.v_first.next = self.r_first.q.val();
            self.v_last.next = self.r_last.q.val();
            self.v_len.next = self.r_len.q.val();
            self.v_slot.next = self.r_slot.q.val();
            self.v_slots.next = self.r_slots.q.val();
            self.v_lost.next = self.r_lost.q.val();
            self.v_lost_records.next = self.r_lost_records.q.val();
            self.v_len_m1.next = self.r_len_m1.q.val();
        } else {
            self.v_clear.next = self.clear.val();
            self.v_data.next = self.in_data.val();
            self.v_valid.next = self.in_valid.val();
            self.v_first.next = self.in_first.val();
            self.v_last.next = self.in_last.val();
            self.v_len.next = self.in_len.val();
            self.v_slot.next = self.in_slot.val();
            self.v_slots.next = self.in_slots.val();
            self.v_lost.next = self.in_lost.val();
            self.v_lost_records.next = self.in_lost_records.val();
            self.v_len_m1.next = bit_cast::<FILL_BITS, 8>(self.in_len.val()) - 1;
        }
        self.v_len_w.next = bit_cast::<FILL_BITS, 8>(self.v_len.val());
        // ---- Admission lookahead (registered input) ----
        // Next cycle, free' = free + credit - (accept ? v_len : 0), with
        // credit = the previous cycle's output read (0 or 1): the raw header
        // fits next cycle iff in_len <= free' for the outcome that happens.
        // The four candidates of free' (one adder each from registers) are
        // the ones `free` is updated from (below), so in_len meets a single
        // comparator. A candidate with accept is used only when the word
        // was admitted, so it does not wrap; a header's in_len is >= 1.
        self.free_inc.next = self.free.q.val() + 1;
        self.free_t.next = self.free.q.val() - self.v_len_w.val();
        self.free_dt.next = self.free.q.val() - self.v_len_m1.val();
        self.in_len_w.next = bit_cast::<FILL_BITS, 8>(self.in_len.val());
        self.fits_k0.next = self.in_len_w.val() <= self.free.q.val();
        self.fits_k1.next = self.in_len_w.val() <= self.free_inc.val();
        self.fits_t0.next = self.in_len_w.val() <= self.free_t.val();
        self.fits_t1.next = self.in_len_w.val() <= self.free_dt.val();
        // ---- Admission ----
        if self.reg_in.val() {
            if self.acc_prev.q.val() {
                self.fits.next = self.fits_take.q.val();
            } else {
                self.fits.next = self.fits_keep.q.val();
            }
        } else {
            self.fits.next = self.v_len_w.val() <= self.free.q.val();
        }
        self.accept.next = self.v_valid.val()
            & self.v_first.val()
            & self.fits.val()
            & (!self.gap_pending.q.val() | !self.gapq_full.full.val());
        self.acc_prev.d.next = self.accept.val();
        self.drop.next =
            (self.v_valid.val() & self.v_first.val() & !self.accept.val()) | self.v_lost.val();
        self.dropped.next = self.drop.val();
        if self.v_lost.val() {
            self.drop_records.next = bit_cast::<20, 8>(self.v_lost_records.val());
        } else {
            self.drop_records.next = 1.into();
        }
        // the word's FIFO write and its data, for stage W
        self.w_write.d.next = self.v_valid.val()
            & ((self.v_first.val() & self.accept.val())
                | (!self.v_first.val() & self.taking.q.val()));
        self.w_data.d.next = bit_cast::<66, 64>(self.v_data.val())
            | (bit_cast::<66, 1>(self.v_last.val().into()) << 64)
            | (bit_cast::<66, 1>((self.v_first.val() & self.gap_pending.q.val()).into()) << 65);
        if self.v_valid.val() & self.v_first.val() {
            self.taking.d.next = self.accept.val() & !self.v_last.val();
        } else if self.v_valid.val() & self.v_last.val() {
            self.taking.d.next = false;
        }
        // ---- GAP pending flag (admission) ----
        // A GAP is pending from a drop until the next admitted record takes
        // it (reserving its GAP queue entry: `gapq_full`).
        if self.accept.val() & self.gap_pending.q.val() {
            self.gap_pending.d.next = false;
        }
        if self.drop.val() {
            self.gap_pending.d.next = true;
        }
        if self.v_clear.val() {
            self.gap_pending.d.next = false;
        }
        self.w_gapq_write.d.next = self.accept.val() & self.gap_pending.q.val();
        self.w_drop.d.next = self.drop.val();
        self.w_pending.d.next = self.gap_pending.q.val();
        self.w_slot.d.next = self.v_slot.val();
        self.w_slots.d.next = self.v_slots.val();
        self.w_drop_records.d.next = self.drop_records.val();
        // ---- Stage W: FIFO and GAP queue writes, GAP accounting ----
        // One cycle after admission, from registers: the wide FIFO data,
        // the GAP counters and the lost-slot count are not loads of the
        // admission decision (only the W registers are).
        self.fifo.write.next = self.w_write.q.val();
        self.fifo.data_in.next = self.w_data.q.val();
        self.gapq.write.next = self.w_gapq_write.q.val();
        self.gapq.data_in.next = (bit_cast::<128, 64>(self.gap_slots.q.val()) << 64)
            | (bit_cast::<128, 20>(self.gap_records.q.val()) << 40)
            | bit_cast::<128, 40>(self.gap_first.q.val().get_bits::<40>(0));
        self.gap_records_sum.next = bit_cast::<21, 20>(self.gap_records.q.val())
            + bit_cast::<21, 20>(self.w_drop_records.q.val());
        if self.w_drop.q.val() {
            self.lost_count.d.next =
                self.lost_count.q.val() + bit_cast::<64, 32>(self.w_slots.q.val());
            if self.w_pending.q.val() {
                if self.gap_records_sum.val() > 0xFFFFF {
                    self.gap_records.d.next = 0xFFFFF.into();
                } else {
                    self.gap_records.d.next = bit_cast::<20, 21>(self.gap_records_sum.val());
                }
                if self.span_mode.val() {
                    self.gap_slots.d.next = self.w_slot.q.val()
                        + bit_cast::<64, 32>(self.w_slots.q.val())
                        - self.gap_first.q.val();
                } else {
                    self.gap_slots.d.next =
                        self.gap_slots.q.val() + bit_cast::<64, 32>(self.w_slots.q.val());
                }
            } else {
                self.gap_first.d.next = self.w_slot.q.val();
                self.gap_records.d.next = self.w_drop_records.q.val();
                self.gap_slots.d.next = bit_cast::<64, 32>(self.w_slots.q.val());
            }
        }
        // ---- Output stage (from the holding register) ----
        self.head_marker.next = self.hold_valid.q.val() & self.hold.q.val().get_bit(65);
        if self.reg_in.val() {
            self.gap_src.next = self.gap_hold.q.val();
            self.gap_ready.next = self.gap_hold_valid.q.val();
        } else {
            self.gap_src.next = self.gapq.data_out.val();
            self.gap_ready.next = true;
        }
        self.gap_header.next =
            self.gap_tag.val() | (bit_cast::<64, 128>(self.gap_src.val()) & self.low60.val());
        self.main_read.next = false;
        self.gap_done.next = false;
        if self.head_marker.val() & (self.gap_phase.q.val() == 0) {
            self.tdata.next = self.gap_header.val();
            self.tvalid.next = self.gap_ready.val();
            self.tlast.next = false;
            if self.tready.val() & self.gap_ready.val() {
                self.gap_phase.d.next = 1.into();
            }
        } else if self.head_marker.val() & (self.gap_phase.q.val() == 1) {
            self.tdata.next = self.gap_src.val().get_bits::<64>(64);
            self.tvalid.next = true;
            self.tlast.next = true;
            if self.tready.val() {
                self.gap_phase.d.next = 2.into();
                self.gap_done.next = true;
                self.gaps_count.d.next = self.gaps_count.q.val() + 1;
            }
        } else {
            self.tdata.next = self.hold.q.val().get_bits::<64>(0);
            self.tvalid.next = self.hold_valid.q.val();
            self.tlast.next = self.hold.q.val().get_bit(64);
            if self.tready.val() & self.hold_valid.q.val() {
                self.main_read.next = true;
                self.gap_phase.d.next = 0.into();
            }
        }
        // GAP queue read: straight from the handshake, or (registered input)
        // a prefetch into gap_hold whenever it is empty
        if self.reg_in.val() {
            self.gapq.read.next = !self.gapq.empty.val() & !self.gap_hold_valid.q.val();
        } else {
            self.gapq.read.next = self.gap_done.val();
        }
        if self.reg_in.val() & !self.gapq.empty.val() & !self.gap_hold_valid.q.val() {
            self.gap_hold.d.next = self.gapq.data_out.val();
            self.gap_hold_valid.d.next = true;
        } else if self.gap_done.val() {
            self.gap_hold_valid.d.next = false;
        }
        // GAP queue occupancy (`gapq_full`): an entry is reserved only when
        // one is free (`accept` needs it), read only when the queue is not
        // empty
        self.gapq_wrote.next = self.accept.val() & self.gap_pending.q.val();
        self.gapq_took.next = self.gapq.read.val() & !self.gapq.empty.val();
        self.gapq_full.wrote.next = self.gapq_wrote.val();
        self.gapq_full.took.next = self.gapq_took.val();
        // refill the holding register when it is empty or its word leaves
        self.pop.next = !self.fifo.empty.val() & (!self.hold_valid.q.val() | self.main_read.val());
        self.fifo.read.next = self.pop.val();
        if self.pop.val() {
            self.hold.d.next = self.fifo.data_out.val();
            self.hold_valid.d.next = true;
        } else if self.main_read.val() {
            self.hold_valid.d.next = false;
        }
        if self.tready.val() & self.tvalid.val() & self.tlast.val() {
            self.records_count.d.next = self.records_count.q.val() + 1;
        }
        // ---- Free words (FIFO depth minus the words admitted, reserved ones included) ----
        // Both outcomes of admission are computed in parallel with `accept`,
        // which only selects one (it comes late in the cycle).
        self.read_r.d.next = self.main_read.val();
        if self.reg_in.val() {
            self.credit.next = self.read_r.q.val();
        } else {
            self.credit.next = self.main_read.val();
        }
        if self.credit.val() {
            self.fits_keep.d.next = self.fits_k1.val();
            self.fits_take.d.next = self.fits_t1.val();
            if self.accept.val() {
                self.free.d.next = self.free_dt.val();
            } else {
                self.free.d.next = self.free_inc.val();
            }
        } else {
            self.fits_keep.d.next = self.fits_k0.val();
            self.fits_take.d.next = self.fits_t0.val();
            if self.accept.val() {
                self.free.d.next = self.free_t.val();
            }
        }
        // words admitted and not yet released: the depth minus `free`
        self.fill.next = self.k_words.val() - self.free.q.val();
        if bit_cast::<32, FILL_BITS>(self.fill.val()) > self.high_count.q.val() {
            self.high_count.d.next = bit_cast::<32, FILL_BITS>(self.fill.val());
        }
        if self.clear_counters.val() {
            self.records_count.d.next = 0.into();
            self.lost_count.d.next = 0.into();
            self.gaps_count.d.next = 0.into();
            self.high_count.d.next = 0.into();
        }
        self.records.next = self.records_count.q.val();
        self.lost_slots.next = self.lost_count.q.val();
        self.gaps.next = self.gaps_count.q.val();
        self.high_water.next = self.high_count.q.val();
    }
}
