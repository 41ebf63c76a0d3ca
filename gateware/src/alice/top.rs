// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd_alice`: Alice's transmitter core (spec sections 1-4, 6, 7): the
//! CSR bank built from `qkd_abi::RegisterMap`, LANES pattern-generator
//! lanes, the symbol packer (ALICE_SYMBOLS, EPOCH and STATUS records) and
//! the record stream with GAP accounting.
//!
//! Pipeline: stage 0 is the slot cycle (run control, QRNG handshake, PRNG
//! step: the PRNGs step in every cycle, which changes no used word since
//! running cycles follow START's load without a gap); lanes register the
//! random symbol at stage 1 and the final symbol at stage 2; stage 3
//! drives `symbols` and feeds the packer. The QRNG words, the take and the
//! health clear are registered first (stage 1) and the lanes' health tests
//! (SP 800-90B 4.4.1/4.4.2, `HealthTests::pipelined`, instantiated here
//! beside the lanes) run on the registered values, so no logic sits
//! between `valid0` and the tests' 64-bit state enables. The fails of a
//! stage-0 sample come out at stage 2; their OR over the lanes is
//! registered (`kill3`, RUN mode outside the sync frame) and turns that
//! cycle's slots into BLANK at stage 3 (`symbols`, the packer, and the
//! STATUS protocol-symbol count, where it selects after the adder), and they set the sticky
//! `RNG_RCT`/`RNG_APT` bits two cycles after the sample's cycle (one cycle
//! later than up to commit 4c6ea85; `ENTROPY_OK` falls one cycle later
//! too; the `RNG_RCT_CUTOFF`/`RNG_APT_*` values are registered with the
//! words, so a write reaches the same sample as before). Symbols and records are unchanged; the STATUS
//! `AlarmsLive`/`AlarmsSeen` RNG bits, read at the record's stage 3, now
//! cover exactly the fails on samples up to the record's last slot cycle
//! (before: also the next cycle's sample). QRNG_UNDERRUN and
//! STREAM_OVERFLOW are live only in the cycle of their event, not while
//! their sticky ALICE_ALARMS bit stays set (model/AMBIGUITIES.md 9): the
//! underrun of a stage-0 cycle is carried to stage 3 with its slots.
//!
//! The record sequencer sends one group ([EPOCH] ALICE_SYMBOLS [STATUS],
//! up to 12 words) one word per cycle. With 8 lanes a record completes
//! every 8 cycles, so a group that completes while a group with STATUS is
//! still being sent waits in a one-group buffer (8 lanes only); a group
//! that finds the buffer full is dropped here and reported in a GAP (only
//! with STATUS every 2^6 or 2^7 slots, which exceeds one word per cycle).
//! With 1, 2 or 4 lanes a group always finishes before the next one. A
//! RecordStream FIFO word is 64 bits: at 8 lanes ALICE_SYMBOLS alone uses
//! 5/8 of the AXI4-Stream bandwidth.

use crate::alice::lane::AliceLane;
use crate::common::csr::{self, AxiLiteSlave, CsrError, CsrReg, HiLatch, CSR_ADDR_BITS};
use crate::common::health::HealthTests;
use crate::common::stream::{LostSlots, RecordStream};
use qkd_abi::{GenParams, RegisterMap};
use rust_hdl::prelude::*;

/// Lists the CSR cells of the top (field names `csr_<register>`): builds
/// them from the register map and names them for the coverage check.
macro_rules! alice_cells {
    ($($cell:ident),* $(,)?) => {
        /// Names of the CSR cells of the top, in field order.
        const CSR_CELLS: &[&str] = &[$(stringify!($cell)),*];

        impl<const L: usize, const SW: usize, const QW: usize> AliceTop<L, SW, QW> {
            fn make_cells(map: &RegisterMap) -> Result<CsrCells, CsrError> {
                Ok(CsrCells {
                    $($cell: csr::cell_from_map(map, &stringify!($cell)["csr_".len()..])?,)*
                })
            }
        }

        /// The CSR cells, built from the map before the top is assembled.
        struct CsrCells {
            $($cell: CsrReg,)*
        }
    };
}

/// The transmitter top. `L` = LANES (1, 2, 4, 8), `SW` = `4*L`, `QW` = `64*L`.
#[derive(LogicBlock)]
pub struct AliceTop<const L: usize, const SW: usize, const QW: usize> {
    /// Fabric clock, rising edge (78.125 MHz for 4 lanes).
    pub clock: Signal<In, Clock>,
    /// AXI4-Lite AWADDR, byte address in the 4 KiB CSR window.
    pub s_axil_awaddr: Signal<In, Bits<CSR_ADDR_BITS>>,
    /// AXI4-Lite AWVALID.
    pub s_axil_awvalid: Signal<In, Bit>,
    /// AXI4-Lite AWREADY.
    pub s_axil_awready: Signal<Out, Bit>,
    /// AXI4-Lite WDATA.
    pub s_axil_wdata: Signal<In, Bits<32>>,
    /// AXI4-Lite WSTRB (ignored: treated as all ones).
    pub s_axil_wstrb: Signal<In, Bits<4>>,
    /// AXI4-Lite WVALID.
    pub s_axil_wvalid: Signal<In, Bit>,
    /// AXI4-Lite WREADY.
    pub s_axil_wready: Signal<Out, Bit>,
    /// AXI4-Lite BRESP (0 OKAY, 2 SLVERR).
    pub s_axil_bresp: Signal<Out, Bits<2>>,
    /// AXI4-Lite BVALID.
    pub s_axil_bvalid: Signal<Out, Bit>,
    /// AXI4-Lite BREADY.
    pub s_axil_bready: Signal<In, Bit>,
    /// AXI4-Lite ARADDR.
    pub s_axil_araddr: Signal<In, Bits<CSR_ADDR_BITS>>,
    /// AXI4-Lite ARVALID.
    pub s_axil_arvalid: Signal<In, Bit>,
    /// AXI4-Lite ARREADY.
    pub s_axil_arready: Signal<Out, Bit>,
    /// AXI4-Lite RDATA.
    pub s_axil_rdata: Signal<Out, Bits<32>>,
    /// AXI4-Lite RRESP (0 OKAY, 2 SLVERR).
    pub s_axil_rresp: Signal<Out, Bits<2>>,
    /// AXI4-Lite RVALID.
    pub s_axil_rvalid: Signal<Out, Bit>,
    /// AXI4-Lite RREADY.
    pub s_axil_rready: Signal<In, Bit>,
    /// AXI4-Stream TDATA: record words (qkd-abi encoding).
    pub m_axis_tdata: Signal<Out, Bits<64>>,
    /// AXI4-Stream TVALID.
    pub m_axis_tvalid: Signal<Out, Bit>,
    /// AXI4-Stream TREADY.
    pub m_axis_tready: Signal<In, Bit>,
    /// AXI4-Stream TLAST: last word of a record.
    pub m_axis_tlast: Signal<Out, Bit>,
    /// Lane `l`'s 4-bit symbol in bits `[4l+3:4l]`, towards the serializer.
    pub symbols: Signal<Out, Bits<SW>>,
    /// `symbols` carries slots of the running sequence, active high.
    pub symbols_valid: Signal<Out, Bit>,
    /// High in the cycle whose lanes carry slot 0, active high.
    pub sync_out: Signal<Out, Bit>,
    /// QRNG words: lane `l`'s 64-bit word in bits `[64l+63:64l]`.
    pub qrng_data: Signal<In, Bits<QW>>,
    /// QRNG word valid, active high.
    pub qrng_valid: Signal<In, Bit>,
    /// The core takes the QRNG word this cycle, active high.
    pub qrng_ready: Signal<Out, Bit>,
    // ---- CSR bank ----
    axil: AxiLiteSlave,
    csr_magic: CsrReg,
    csr_abi_version: CsrReg,
    csr_ident: CsrReg,
    csr_build_id: CsrReg,
    csr_fabric_clock_khz: CsrReg,
    csr_scratch: CsrReg,
    csr_rng_id: CsrReg,
    csr_rng_ctrl: CsrReg,
    csr_rng_seed_lo: CsrReg,
    csr_rng_seed_hi: CsrReg,
    csr_rng_rct_cutoff: CsrReg,
    csr_rng_apt_window: CsrReg,
    csr_rng_apt_cutoff: CsrReg,
    csr_rng_qrng_words: CsrReg,
    csr_stream_id: CsrReg,
    csr_stream_ctrl: CsrReg,
    csr_stream_records_lo: CsrReg,
    csr_stream_records_hi: CsrReg,
    csr_stream_lost_slots_lo: CsrReg,
    csr_stream_lost_slots_hi: CsrReg,
    csr_stream_gaps: CsrReg,
    csr_stream_fifo_high_water: CsrReg,
    csr_alice_ctrl_id: CsrReg,
    csr_alice_ctrl: CsrReg,
    csr_alice_cmd: CsrReg,
    csr_alice_state: CsrReg,
    csr_alice_alarms: CsrReg,
    csr_alice_symbols_lo: CsrReg,
    csr_alice_symbols_hi: CsrReg,
    csr_decoy_id: CsrReg,
    csr_decoy_thresh_signal: CsrReg,
    csr_decoy_thresh_decoy: CsrReg,
    csr_decoy_thresh_basis_z: CsrReg,
    hi_symbols: HiLatch,
    hi_records: HiLatch,
    hi_lost: HiLatch,
    // ---- Lanes and stream ----
    lanes: Vec<AliceLane>,
    /// Lane `l`'s QRNG health tests, fed from `qword1`/`take1`/`clear1`.
    health: Vec<HealthTests>,
    /// Stage 1: the QRNG words of the stage-0 cycle.
    qword1: DFF<Bits<QW>>,
    /// Stage 1: the stage-0 word was taken (health-tested), active high.
    take1: DFF<Bit>,
    /// Stage 1: clear the health tests before that word, active high.
    clear1: DFF<Bit>,
    /// Stage 1: `RNG_RCT_CUTOFF`, `RNG_APT_WINDOW`, `RNG_APT_CUTOFF`
    /// registered with the words (a write reaches the tests at the same
    /// sample as with unregistered words and CSRs; the comparators start
    /// at flip-flops placed with the tests, not at the CSR bank).
    rct_cut1: DFF<Bits<16>>,
    apt_win1: DFF<Bits<16>>,
    apt_cut1: DFF<Bits<16>>,
    stream: RecordStream,
    // ---- Stage 0: run control ----
    start: Signal<Local, Bit>,
    stop: Signal<Local, Bit>,
    clear_counters: Signal<Local, Bit>,
    running: DFF<Bit>,
    stop_pending: DFF<Bit>,
    use_qrng: DFF<Bit>,
    slot0: DFF<Bits<64>>,
    /// `slot0`'s low 6 bits are zero (a record starts at stage 0), kept in
    /// a register updated with `slot0`, so `valid0` is one LUT from
    /// flip-flops (no 6-bit compare on the STOP path).
    bnd0: DFFWithInit<Bit>,
    valid0: Signal<Local, Bit>,
    seed: Signal<Local, Bits<64>>,
    any_rct: Signal<Local, Bit>,
    any_apt: Signal<Local, Bit>,
    /// Stage 2: a lane's health test fails on this cycle's slots' sample.
    fail_any: Signal<Local, Bit>,
    /// Stage 3: this cycle's slots are blanked by a health fail on their
    /// own sample (RUN mode, not a sync-frame cycle): all lanes BLANK.
    kill3: DFF<Bit>,
    /// Stage 3: the lanes' symbols after `kill3`.
    sym3: Signal<Local, Bits<32>>,
    /// Stage 3: `iv_sent` + the protocol-symbol count before `kill3` (the
    /// kill selects after the adder: no mux before its carry chain).
    iv_sent_inc: Signal<Local, Bits<64>>,
    /// `BLANK` in each of the L lanes' nibbles.
    blank_word: Constant<Bits<32>>,
    /// Stage 2: blank this cycle's slots (alarm/underrun known from registers).
    blank2: Signal<Local, Bit>,
    underrun: Signal<Local, Bit>,
    rng_alarm: Signal<Local, Bit>,
    rng_alarm_prev: DFF<Bit>,
    health_clear: Signal<Local, Bit>,
    qrng_words: DFF<Bits<32>>,
    alarm_set: Signal<Local, Bits<32>>,
    /// This cycle's STREAM_OVERFLOW event, registered: live only in the
    /// cycle of its event, in step with the sticky bit it sets
    /// (AMBIGUITIES 9).
    overflow_r: DFF<Bit>,
    /// QRNG_UNDERRUN of the stage-0 cycle, carried to stage 3 with its
    /// slots (live only in an underrun cycle, AMBIGUITIES 9).
    under1: DFF<Bit>,
    under2: DFF<Bit>,
    under3: DFF<Bit>,
    /// Live alarm bits for STATUS (ALICE_ALARMS order): RNG_RCT/RNG_APT
    /// while their sticky bit is set, the other two from `overflow_r` and
    /// `under3`.
    live4: Signal<Local, Bits<4>>,
    // ---- Stages 1-3 ----
    valid1: DFF<Bit>,
    valid2: DFF<Bit>,
    valid3: DFF<Bit>,
    slot1: DFF<Bits<64>>,
    slot2: DFF<Bits<64>>,
    slot3: DFF<Bits<64>>,
    bad1: DFF<Bit>,
    bad2: DFF<Bit>,
    sync_low: Signal<Local, Bits<64>>,
    sync_mask: DFF<Bits<64>>,
    sync_en: DFF<Bit>,
    sync2: DFF<Bit>,
    sync_pos2: DFF<Bits<5>>,
    status_nmask: DFF<Bits<64>>,
    status_en: DFF<Bit>,
    prbs2: DFF<Bits<8>>,
    prbs_sum: Signal<Local, Bits<8>>,
    sym_all: Signal<Local, Bits<32>>,
    /// Stage 2: protocol-symbol flags of the lanes' next symbols.
    proto_vec: Signal<Local, Bits<8>>,
    /// Stage 3: number of protocol symbols among `symbols` (popcount of
    /// `proto_vec`, registered with the symbols).
    proto_count: DFF<Bits<4>>,
    sent_total: DFF<Bits<64>>,
    // ---- Packer ----
    pack: DFF<Bits<64>>,
    pack_next: Signal<Local, Bits<64>>,
    pay0: DFF<Bits<64>>,
    pay1: DFF<Bits<64>>,
    pay2: DFF<Bits<64>>,
    word_done: Signal<Local, Bit>,
    rec_done: Signal<Local, Bit>,
    rec_start: Signal<Local, Bits<64>>,
    rec_end: Signal<Local, Bits<64>>,
    /// Stage 3: the record ending in this cycle ends a STATUS interval
    /// (computed from `slot2` and registered, `slot3 = slot2` delayed).
    status_due: DFF<Bit>,
    /// Stage 3: the record of this cycle's slots starts an epoch (low 40
    /// bits of its start slot zero; registered like `status_due`).
    epoch_due: DFF<Bit>,
    iv_slots: DFF<Bits<64>>,
    iv_sent: DFF<Bits<64>>,
    iv_seen: DFF<Bits<4>>,
    iv_slots_next: Signal<Local, Bits<64>>,
    iv_sent_next: Signal<Local, Bits<64>>,
    iv_seen_next: Signal<Local, Bits<4>>,
    // ---- Record sequencer ----
    phase: DFF<Bits<4>>,
    g_start: DFF<Bits<64>>,
    g_epoch: DFF<Bit>,
    g_status: DFF<Bit>,
    g_p0: DFF<Bits<64>>,
    g_p1: DFF<Bits<64>>,
    g_p2: DFF<Bits<64>>,
    g_p3: DFF<Bits<64>>,
    g_interval: DFF<Bits<64>>,
    g_sent: DFF<Bits<64>>,
    g_live: DFF<Bits<4>>,
    g_seen: DFF<Bits<4>>,
    g_lost: DFF<Bits<64>>,
    g_end: Signal<Local, Bits<64>>,
    /// A group that completed while the sequencer was busy (8 lanes: a
    /// group every 8 cycles, up to 12 words with STATUS), sent next.
    use_buf: Constant<Bit>,
    buf_valid: DFF<Bit>,
    buf_start_now: Signal<Local, Bit>,
    b_start: DFF<Bits<64>>,
    b_epoch: DFF<Bit>,
    b_status: DFF<Bit>,
    b_p0: DFF<Bits<64>>,
    b_p1: DFF<Bits<64>>,
    b_p2: DFF<Bits<64>>,
    b_p3: DFF<Bits<64>>,
    b_interval: DFF<Bits<64>>,
    b_sent: DFF<Bits<64>>,
    b_live: DFF<Bits<4>>,
    b_seen: DFF<Bits<4>>,
    lost_mark: DFF<Bits<64>>,
    lp_pending: DFF<Bit>,
    lp_slot: DFF<Bits<64>>,
    lp_records: DFF<Bits<8>>,
    lp_slots: DFF<Bits<32>>,
    group_records: Signal<Local, Bits<8>>,
    // ---- Constants (from L) ----
    lanes_c: Constant<Bits<64>>,
    lanes_c32: Constant<Bits<32>>,
    pack_in_shift: Constant<Bits<8>>,
    pack_out_shift: Constant<Bits<8>>,
    word_last: Constant<Bits<4>>,
    prbs_step: Constant<Bits<8>>,
    /// `64 - L`: `slot0`'s low 6 bits in the last cycle of a record.
    bnd_last: Constant<Bits<6>>,
    one64: Constant<Bits<64>>,
    not63: Constant<Bits<64>>,
    ones64: Constant<Bits<64>>,
    low6: Constant<Bits<64>>,
    slot_mask: Constant<Bits<64>>,
    value56: Constant<Bits<64>>,
}

impl<const L: usize, const SW: usize, const QW: usize> AliceTop<L, SW, QW> {
    /// Build the core for `params` (its `lanes` must equal `L`).
    pub fn new(params: &GenParams) -> Result<Self, TopError> {
        params.validate().map_err(TopError::Params)?;
        if usize::from(params.lanes) != L || SW != 4 * L || QW != 64 * L {
            return Err(TopError::Lanes {
                lanes: params.lanes,
                built: L,
            });
        }
        let map = RegisterMap::new(*params);
        csr::check_coverage(
            &map,
            &CSR_CELLS
                .iter()
                .map(|c| &c["csr_".len()..])
                .collect::<Vec<_>>(),
        )?;
        for (reg, field, lsb, width) in [
            ("ALICE_CTRL", "MODE", 0, 2),
            ("ALICE_CTRL", "FIXED_SYMBOL", 4, 4),
            ("ALICE_CTRL", "SYNC_LOG2", 8, 6),
            ("ALICE_CMD", "START", 0, 1),
            ("ALICE_CMD", "STOP", 1, 1),
            ("ALICE_CMD", "CLEAR_COUNTERS", 2, 1),
            ("ALICE_STATE", "RUNNING", 0, 1),
            ("ALICE_STATE", "ENTROPY_OK", 1, 1),
            ("ALICE_ALARMS", "RNG_RCT", 0, 1),
            ("ALICE_ALARMS", "RNG_APT", 1, 1),
            ("ALICE_ALARMS", "STREAM_OVERFLOW", 2, 1),
            ("ALICE_ALARMS", "QRNG_UNDERRUN", 3, 1),
            ("RNG_CTRL", "SOURCE", 0, 1),
            ("STREAM_CTRL", "STATUS_INTERVAL_LOG2", 0, 6),
        ] {
            csr::expect_field(&map, reg, field, lsb, width)?;
        }
        let c = Self::make_cells(&map)?;
        let k = |v: u64| Constant::new(v.into());
        Ok(Self {
            clock: Default::default(),
            s_axil_awaddr: Default::default(),
            s_axil_awvalid: Default::default(),
            s_axil_awready: Default::default(),
            s_axil_wdata: Default::default(),
            s_axil_wstrb: Default::default(),
            s_axil_wvalid: Default::default(),
            s_axil_wready: Default::default(),
            s_axil_bresp: Default::default(),
            s_axil_bvalid: Default::default(),
            s_axil_bready: Default::default(),
            s_axil_araddr: Default::default(),
            s_axil_arvalid: Default::default(),
            s_axil_arready: Default::default(),
            s_axil_rdata: Default::default(),
            s_axil_rresp: Default::default(),
            s_axil_rvalid: Default::default(),
            s_axil_rready: Default::default(),
            m_axis_tdata: Default::default(),
            m_axis_tvalid: Default::default(),
            m_axis_tready: Default::default(),
            m_axis_tlast: Default::default(),
            symbols: Default::default(),
            symbols_valid: Default::default(),
            sync_out: Default::default(),
            qrng_data: Default::default(),
            qrng_valid: Default::default(),
            qrng_ready: Default::default(),
            axil: Default::default(),
            csr_magic: c.csr_magic,
            csr_abi_version: c.csr_abi_version,
            csr_ident: c.csr_ident,
            csr_build_id: c.csr_build_id,
            csr_fabric_clock_khz: c.csr_fabric_clock_khz,
            csr_scratch: c.csr_scratch,
            csr_rng_id: c.csr_rng_id,
            csr_rng_ctrl: c.csr_rng_ctrl,
            csr_rng_seed_lo: c.csr_rng_seed_lo,
            csr_rng_seed_hi: c.csr_rng_seed_hi,
            csr_rng_rct_cutoff: c.csr_rng_rct_cutoff,
            csr_rng_apt_window: c.csr_rng_apt_window,
            csr_rng_apt_cutoff: c.csr_rng_apt_cutoff,
            csr_rng_qrng_words: c.csr_rng_qrng_words,
            csr_stream_id: c.csr_stream_id,
            csr_stream_ctrl: c.csr_stream_ctrl,
            csr_stream_records_lo: c.csr_stream_records_lo,
            csr_stream_records_hi: c.csr_stream_records_hi,
            csr_stream_lost_slots_lo: c.csr_stream_lost_slots_lo,
            csr_stream_lost_slots_hi: c.csr_stream_lost_slots_hi,
            csr_stream_gaps: c.csr_stream_gaps,
            csr_stream_fifo_high_water: c.csr_stream_fifo_high_water,
            csr_alice_ctrl_id: c.csr_alice_ctrl_id,
            csr_alice_ctrl: c.csr_alice_ctrl,
            csr_alice_cmd: c.csr_alice_cmd,
            csr_alice_state: c.csr_alice_state,
            csr_alice_alarms: c.csr_alice_alarms,
            csr_alice_symbols_lo: c.csr_alice_symbols_lo,
            csr_alice_symbols_hi: c.csr_alice_symbols_hi,
            csr_decoy_id: c.csr_decoy_id,
            csr_decoy_thresh_signal: c.csr_decoy_thresh_signal,
            csr_decoy_thresh_decoy: c.csr_decoy_thresh_decoy,
            csr_decoy_thresh_basis_z: c.csr_decoy_thresh_basis_z,
            hi_symbols: Default::default(),
            hi_records: Default::default(),
            hi_lost: Default::default(),
            lanes: (0..L).map(AliceLane::new).collect(),
            health: (0..L).map(|_| HealthTests::pipelined()).collect(),
            qword1: Default::default(),
            take1: Default::default(),
            clear1: Default::default(),
            rct_cut1: Default::default(),
            apt_win1: Default::default(),
            apt_cut1: Default::default(),
            stream: RecordStream::registered(LostSlots::Sum),
            start: Default::default(),
            stop: Default::default(),
            clear_counters: Default::default(),
            running: Default::default(),
            stop_pending: Default::default(),
            use_qrng: Default::default(),
            slot0: Default::default(),
            bnd0: DFFWithInit::new(true),
            valid0: Default::default(),
            seed: Default::default(),
            any_rct: Default::default(),
            any_apt: Default::default(),
            fail_any: Default::default(),
            kill3: Default::default(),
            sym3: Default::default(),
            iv_sent_inc: Default::default(),
            blank_word: Constant::new(
                (0..L)
                    .fold(0u64, |w, l| w | crate::alice::lane::BLANK << (4 * l))
                    .into(),
            ),
            blank2: Default::default(),
            underrun: Default::default(),
            rng_alarm: Default::default(),
            rng_alarm_prev: Default::default(),
            health_clear: Default::default(),
            qrng_words: Default::default(),
            alarm_set: Default::default(),
            overflow_r: Default::default(),
            under1: Default::default(),
            under2: Default::default(),
            under3: Default::default(),
            live4: Default::default(),
            valid1: Default::default(),
            valid2: Default::default(),
            valid3: Default::default(),
            slot1: Default::default(),
            slot2: Default::default(),
            slot3: Default::default(),
            bad1: Default::default(),
            bad2: Default::default(),
            sync_low: Default::default(),
            sync_mask: Default::default(),
            sync_en: Default::default(),
            sync2: Default::default(),
            sync_pos2: Default::default(),
            status_nmask: Default::default(),
            status_en: Default::default(),
            prbs2: Default::default(),
            prbs_sum: Default::default(),
            sym_all: Default::default(),
            proto_vec: Default::default(),
            proto_count: Default::default(),
            sent_total: Default::default(),
            pack: Default::default(),
            pack_next: Default::default(),
            pay0: Default::default(),
            pay1: Default::default(),
            pay2: Default::default(),
            word_done: Default::default(),
            rec_done: Default::default(),
            rec_start: Default::default(),
            rec_end: Default::default(),
            status_due: Default::default(),
            epoch_due: Default::default(),
            iv_slots: Default::default(),
            iv_sent: Default::default(),
            iv_seen: Default::default(),
            iv_slots_next: Default::default(),
            iv_sent_next: Default::default(),
            iv_seen_next: Default::default(),
            phase: Default::default(),
            g_start: Default::default(),
            g_epoch: Default::default(),
            g_status: Default::default(),
            g_p0: Default::default(),
            g_p1: Default::default(),
            g_p2: Default::default(),
            g_p3: Default::default(),
            g_interval: Default::default(),
            g_sent: Default::default(),
            g_live: Default::default(),
            g_seen: Default::default(),
            g_lost: Default::default(),
            g_end: Default::default(),
            use_buf: Constant::new(L >= 8),
            buf_valid: Default::default(),
            buf_start_now: Default::default(),
            b_start: Default::default(),
            b_epoch: Default::default(),
            b_status: Default::default(),
            b_p0: Default::default(),
            b_p1: Default::default(),
            b_p2: Default::default(),
            b_p3: Default::default(),
            b_interval: Default::default(),
            b_sent: Default::default(),
            b_live: Default::default(),
            b_seen: Default::default(),
            lost_mark: Default::default(),
            lp_pending: Default::default(),
            lp_slot: Default::default(),
            lp_records: Default::default(),
            lp_slots: Default::default(),
            group_records: Default::default(),
            lanes_c: k(L as u64),
            lanes_c32: Constant::new((L as u64).into()),
            pack_in_shift: Constant::new((64 - 4 * L as u64).into()),
            pack_out_shift: Constant::new((4 * L as u64).into()),
            word_last: Constant::new((16 - L as u64).into()),
            prbs_step: Constant::new((2 * L as u64).into()),
            bnd_last: Constant::new((64 - L as u64).into()),
            one64: k(1),
            not63: k(!63),
            ones64: k(u64::MAX),
            low6: k(63),
            slot_mask: k(qkd_abi::records::SLOT_MASK),
            value56: k(qkd_abi::records::STATUS_VALUE_MAX),
        })
    }
}

/// Why the Alice top could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopError {
    /// Generation parameters out of range.
    #[error("invalid generation parameters")]
    Params(#[source] qkd_abi::regmap::ParamError),
    /// The const-generic lane count does not match the parameters.
    #[error("parameters ask for {lanes} lanes but the top was instantiated for {built}")]
    Lanes {
        /// LANES of the parameters.
        lanes: u8,
        /// LANES of the instantiation.
        built: usize,
    },
    /// The register map does not fit the gateware.
    #[error("CSR bank from the register map")]
    Csr(#[from] CsrError),
}

alice_cells!(
    csr_magic,
    csr_abi_version,
    csr_ident,
    csr_build_id,
    csr_fabric_clock_khz,
    csr_scratch,
    csr_rng_id,
    csr_rng_ctrl,
    csr_rng_seed_lo,
    csr_rng_seed_hi,
    csr_rng_rct_cutoff,
    csr_rng_apt_window,
    csr_rng_apt_cutoff,
    csr_rng_qrng_words,
    csr_stream_id,
    csr_stream_ctrl,
    csr_stream_records_lo,
    csr_stream_records_hi,
    csr_stream_lost_slots_lo,
    csr_stream_lost_slots_hi,
    csr_stream_gaps,
    csr_stream_fifo_high_water,
    csr_alice_ctrl_id,
    csr_alice_ctrl,
    csr_alice_cmd,
    csr_alice_state,
    csr_alice_alarms,
    csr_alice_symbols_lo,
    csr_alice_symbols_hi,
    csr_decoy_id,
    csr_decoy_thresh_signal,
    csr_decoy_thresh_decoy,
    csr_decoy_thresh_basis_z,
);

impl<const L: usize, const SW: usize, const QW: usize> Logic for AliceTop<L, SW, QW> {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(
            self,
            clock,
            axil,
            csr_magic,
            csr_abi_version,
            csr_ident,
            csr_build_id,
            csr_fabric_clock_khz,
            csr_scratch,
            csr_rng_id,
            csr_rng_ctrl,
            csr_rng_seed_lo,
            csr_rng_seed_hi,
            csr_rng_rct_cutoff,
            csr_rng_apt_window,
            csr_rng_apt_cutoff,
            csr_rng_qrng_words,
            csr_stream_id,
            csr_stream_ctrl,
            csr_stream_records_lo,
            csr_stream_records_hi,
            csr_stream_lost_slots_lo,
            csr_stream_lost_slots_hi,
            csr_stream_gaps,
            csr_stream_fifo_high_water,
            csr_alice_ctrl_id,
            csr_alice_ctrl,
            csr_alice_cmd,
            csr_alice_state,
            csr_alice_alarms,
            csr_alice_symbols_lo,
            csr_alice_symbols_hi,
            csr_decoy_id,
            csr_decoy_thresh_signal,
            csr_decoy_thresh_decoy,
            csr_decoy_thresh_basis_z
        );
        self.csr_magic.bus.next = self.axil.bus.val();
        self.csr_magic.hw_value.next = 0.into();
        self.csr_magic.hw_set.next = 0.into();
        self.csr_abi_version.bus.next = self.axil.bus.val();
        self.csr_abi_version.hw_value.next = 0.into();
        self.csr_abi_version.hw_set.next = 0.into();
        self.csr_ident.bus.next = self.axil.bus.val();
        self.csr_ident.hw_value.next = 0.into();
        self.csr_ident.hw_set.next = 0.into();
        self.csr_build_id.bus.next = self.axil.bus.val();
        self.csr_build_id.hw_value.next = 0.into();
        self.csr_build_id.hw_set.next = 0.into();
        self.csr_fabric_clock_khz.bus.next = self.axil.bus.val();
        self.csr_fabric_clock_khz.hw_value.next = 0.into();
        self.csr_fabric_clock_khz.hw_set.next = 0.into();
        self.csr_scratch.bus.next = self.axil.bus.val();
        self.csr_scratch.hw_value.next = 0.into();
        self.csr_scratch.hw_set.next = 0.into();
        self.csr_rng_id.bus.next = self.axil.bus.val();
        self.csr_rng_id.hw_value.next = 0.into();
        self.csr_rng_id.hw_set.next = 0.into();
        self.csr_rng_ctrl.bus.next = self.axil.bus.val();
        self.csr_rng_ctrl.hw_value.next = 0.into();
        self.csr_rng_ctrl.hw_set.next = 0.into();
        self.csr_rng_seed_lo.bus.next = self.axil.bus.val();
        self.csr_rng_seed_lo.hw_value.next = 0.into();
        self.csr_rng_seed_lo.hw_set.next = 0.into();
        self.csr_rng_seed_hi.bus.next = self.axil.bus.val();
        self.csr_rng_seed_hi.hw_value.next = 0.into();
        self.csr_rng_seed_hi.hw_set.next = 0.into();
        self.csr_rng_rct_cutoff.bus.next = self.axil.bus.val();
        self.csr_rng_rct_cutoff.hw_value.next = 0.into();
        self.csr_rng_rct_cutoff.hw_set.next = 0.into();
        self.csr_rng_apt_window.bus.next = self.axil.bus.val();
        self.csr_rng_apt_window.hw_value.next = 0.into();
        self.csr_rng_apt_window.hw_set.next = 0.into();
        self.csr_rng_apt_cutoff.bus.next = self.axil.bus.val();
        self.csr_rng_apt_cutoff.hw_value.next = 0.into();
        self.csr_rng_apt_cutoff.hw_set.next = 0.into();
        self.csr_rng_qrng_words.bus.next = self.axil.bus.val();
        self.csr_rng_qrng_words.hw_value.next = 0.into();
        self.csr_rng_qrng_words.hw_set.next = 0.into();
        self.csr_stream_id.bus.next = self.axil.bus.val();
        self.csr_stream_id.hw_value.next = 0.into();
        self.csr_stream_id.hw_set.next = 0.into();
        self.csr_stream_ctrl.bus.next = self.axil.bus.val();
        self.csr_stream_ctrl.hw_value.next = 0.into();
        self.csr_stream_ctrl.hw_set.next = 0.into();
        self.csr_stream_records_lo.bus.next = self.axil.bus.val();
        self.csr_stream_records_lo.hw_value.next = 0.into();
        self.csr_stream_records_lo.hw_set.next = 0.into();
        self.csr_stream_records_hi.bus.next = self.axil.bus.val();
        self.csr_stream_records_hi.hw_value.next = 0.into();
        self.csr_stream_records_hi.hw_set.next = 0.into();
        self.csr_stream_lost_slots_lo.bus.next = self.axil.bus.val();
        self.csr_stream_lost_slots_lo.hw_value.next = 0.into();
        self.csr_stream_lost_slots_lo.hw_set.next = 0.into();
        self.csr_stream_lost_slots_hi.bus.next = self.axil.bus.val();
        self.csr_stream_lost_slots_hi.hw_value.next = 0.into();
        self.csr_stream_lost_slots_hi.hw_set.next = 0.into();
        self.csr_stream_gaps.bus.next = self.axil.bus.val();
        self.csr_stream_gaps.hw_value.next = 0.into();
        self.csr_stream_gaps.hw_set.next = 0.into();
        self.csr_stream_fifo_high_water.bus.next = self.axil.bus.val();
        self.csr_stream_fifo_high_water.hw_value.next = 0.into();
        self.csr_stream_fifo_high_water.hw_set.next = 0.into();
        self.csr_alice_ctrl_id.bus.next = self.axil.bus.val();
        self.csr_alice_ctrl_id.hw_value.next = 0.into();
        self.csr_alice_ctrl_id.hw_set.next = 0.into();
        self.csr_alice_ctrl.bus.next = self.axil.bus.val();
        self.csr_alice_ctrl.hw_value.next = 0.into();
        self.csr_alice_ctrl.hw_set.next = 0.into();
        self.csr_alice_cmd.bus.next = self.axil.bus.val();
        self.csr_alice_cmd.hw_value.next = 0.into();
        self.csr_alice_cmd.hw_set.next = 0.into();
        self.csr_alice_state.bus.next = self.axil.bus.val();
        self.csr_alice_state.hw_value.next = 0.into();
        self.csr_alice_state.hw_set.next = 0.into();
        self.csr_alice_alarms.bus.next = self.axil.bus.val();
        self.csr_alice_alarms.hw_value.next = 0.into();
        self.csr_alice_alarms.hw_set.next = 0.into();
        self.csr_alice_symbols_lo.bus.next = self.axil.bus.val();
        self.csr_alice_symbols_lo.hw_value.next = 0.into();
        self.csr_alice_symbols_lo.hw_set.next = 0.into();
        self.csr_alice_symbols_hi.bus.next = self.axil.bus.val();
        self.csr_alice_symbols_hi.hw_value.next = 0.into();
        self.csr_alice_symbols_hi.hw_set.next = 0.into();
        self.csr_decoy_id.bus.next = self.axil.bus.val();
        self.csr_decoy_id.hw_value.next = 0.into();
        self.csr_decoy_id.hw_set.next = 0.into();
        self.csr_decoy_thresh_signal.bus.next = self.axil.bus.val();
        self.csr_decoy_thresh_signal.hw_value.next = 0.into();
        self.csr_decoy_thresh_signal.hw_set.next = 0.into();
        self.csr_decoy_thresh_decoy.bus.next = self.axil.bus.val();
        self.csr_decoy_thresh_decoy.hw_value.next = 0.into();
        self.csr_decoy_thresh_decoy.hw_set.next = 0.into();
        self.csr_decoy_thresh_basis_z.bus.next = self.axil.bus.val();
        self.csr_decoy_thresh_basis_z.hw_value.next = 0.into();
        self.csr_decoy_thresh_basis_z.hw_set.next = 0.into();
        self.axil.cell_rdata.next = self.csr_magic.rdata.val()
            | self.csr_abi_version.rdata.val()
            | self.csr_ident.rdata.val()
            | self.csr_build_id.rdata.val()
            | self.csr_fabric_clock_khz.rdata.val()
            | self.csr_scratch.rdata.val()
            | self.csr_rng_id.rdata.val()
            | self.csr_rng_ctrl.rdata.val()
            | self.csr_rng_seed_lo.rdata.val()
            | self.csr_rng_seed_hi.rdata.val()
            | self.csr_rng_rct_cutoff.rdata.val()
            | self.csr_rng_apt_window.rdata.val()
            | self.csr_rng_apt_cutoff.rdata.val()
            | self.csr_rng_qrng_words.rdata.val()
            | self.csr_stream_id.rdata.val()
            | self.csr_stream_ctrl.rdata.val()
            | self.csr_stream_records_lo.rdata.val()
            | self.csr_stream_records_hi.rdata.val()
            | self.csr_stream_lost_slots_lo.rdata.val()
            | self.csr_stream_lost_slots_hi.rdata.val()
            | self.csr_stream_gaps.rdata.val()
            | self.csr_stream_fifo_high_water.rdata.val()
            | self.csr_alice_ctrl_id.rdata.val()
            | self.csr_alice_ctrl.rdata.val()
            | self.csr_alice_cmd.rdata.val()
            | self.csr_alice_state.rdata.val()
            | self.csr_alice_alarms.rdata.val()
            | self.csr_alice_symbols_lo.rdata.val()
            | self.csr_alice_symbols_hi.rdata.val()
            | self.csr_decoy_id.rdata.val()
            | self.csr_decoy_thresh_signal.rdata.val()
            | self.csr_decoy_thresh_decoy.rdata.val()
            | self.csr_decoy_thresh_basis_z.rdata.val();
        self.axil.cell_hit.next = self.csr_magic.hit.val()
            | self.csr_abi_version.hit.val()
            | self.csr_ident.hit.val()
            | self.csr_build_id.hit.val()
            | self.csr_fabric_clock_khz.hit.val()
            | self.csr_scratch.hit.val()
            | self.csr_rng_id.hit.val()
            | self.csr_rng_ctrl.hit.val()
            | self.csr_rng_seed_lo.hit.val()
            | self.csr_rng_seed_hi.hit.val()
            | self.csr_rng_rct_cutoff.hit.val()
            | self.csr_rng_apt_window.hit.val()
            | self.csr_rng_apt_cutoff.hit.val()
            | self.csr_rng_qrng_words.hit.val()
            | self.csr_stream_id.hit.val()
            | self.csr_stream_ctrl.hit.val()
            | self.csr_stream_records_lo.hit.val()
            | self.csr_stream_records_hi.hit.val()
            | self.csr_stream_lost_slots_lo.hit.val()
            | self.csr_stream_lost_slots_hi.hit.val()
            | self.csr_stream_gaps.hit.val()
            | self.csr_stream_fifo_high_water.hit.val()
            | self.csr_alice_ctrl_id.hit.val()
            | self.csr_alice_ctrl.hit.val()
            | self.csr_alice_cmd.hit.val()
            | self.csr_alice_state.hit.val()
            | self.csr_alice_alarms.hit.val()
            | self.csr_alice_symbols_lo.hit.val()
            | self.csr_alice_symbols_hi.hit.val()
            | self.csr_decoy_id.hit.val()
            | self.csr_decoy_thresh_signal.hit.val()
            | self.csr_decoy_thresh_decoy.hit.val()
            | self.csr_decoy_thresh_basis_z.hit.val();
        clock!(self, clock, hi_symbols, hi_records, hi_lost, stream);
        dff_setup!(
            self,
            clock,
            running,
            overflow_r,
            under1,
            under2,
            under3,
            stop_pending,
            use_qrng,
            slot0,
            bnd0,
            qword1,
            take1,
            clear1,
            rct_cut1,
            apt_win1,
            apt_cut1,
            kill3,
            rng_alarm_prev,
            qrng_words,
            valid1,
            valid2,
            valid3,
            slot1,
            slot2,
            slot3,
            bad1,
            bad2,
            prbs2,
            sent_total,
            pack,
            pay0,
            pay1,
            pay2,
            iv_slots,
            iv_sent,
            iv_seen,
            phase,
            g_start,
            g_epoch,
            g_status,
            g_p0,
            g_p1,
            g_p2,
            g_p3,
            g_interval,
            g_sent,
            g_live,
            g_seen,
            g_lost,
            lost_mark,
            lp_pending,
            lp_slot,
            lp_records,
            lp_slots,
            sync_mask,
            sync_en,
            sync2,
            sync_pos2,
            status_nmask,
            status_en,
            status_due,
            epoch_due,
            proto_count,
            buf_valid,
            b_start,
            b_epoch,
            b_status,
            b_p0,
            b_p1,
            b_p2,
            b_p3,
            b_interval,
            b_sent,
            b_live,
            b_seen
        );
        // ---- AXI4-Lite ports ----
        self.axil.awaddr.next = self.s_axil_awaddr.val();
        self.axil.awvalid.next = self.s_axil_awvalid.val();
        self.s_axil_awready.next = self.axil.awready.val();
        self.axil.wdata.next = self.s_axil_wdata.val();
        self.axil.wstrb.next = self.s_axil_wstrb.val();
        self.axil.wvalid.next = self.s_axil_wvalid.val();
        self.s_axil_wready.next = self.axil.wready.val();
        self.s_axil_bresp.next = self.axil.bresp.val();
        self.s_axil_bvalid.next = self.axil.bvalid.val();
        self.axil.bready.next = self.s_axil_bready.val();
        self.axil.araddr.next = self.s_axil_araddr.val();
        self.axil.arvalid.next = self.s_axil_arvalid.val();
        self.s_axil_arready.next = self.axil.arready.val();
        self.s_axil_rdata.next = self.axil.rdata.val();
        self.s_axil_rresp.next = self.axil.rresp.val();
        self.s_axil_rvalid.next = self.axil.rvalid.val();
        self.axil.rready.next = self.s_axil_rready.val();
        // ---- Stage 0: run control (spec 4.3) ----
        self.start.next = self.csr_alice_cmd.q.val().get_bit(0);
        self.stop.next = self.csr_alice_cmd.q.val().get_bit(1);
        self.clear_counters.next = self.csr_alice_cmd.q.val().get_bit(2);
        // bnd0 = (slot0[5:0] == 0), from a register (see the field).
        self.valid0.next = self.running.q.val()
            & !((self.stop_pending.q.val() | self.stop.val()) & self.bnd0.q.val());
        if self.start.val() {
            self.running.d.next = true;
            self.stop_pending.d.next = false;
            self.slot0.d.next = 0.into();
            self.bnd0.d.next = true;
            self.use_qrng.d.next = !self.csr_rng_ctrl.q.val().get_bit(0);
        } else {
            if self.valid0.val() {
                self.slot0.d.next = self.slot0.q.val() + self.lanes_c.val();
                self.bnd0.d.next = self.slot0.q.val().get_bits::<6>(0) == self.bnd_last.val();
            }
            if self.running.q.val() & !self.valid0.val() {
                self.running.d.next = false;
                self.stop_pending.d.next = false;
            } else if self.running.q.val() & self.stop.val() {
                self.stop_pending.d.next = true;
            }
        }
        self.seed.next = (bit_cast::<64, 32>(self.csr_rng_seed_hi.q.val()) << 32)
            | bit_cast::<64, 32>(self.csr_rng_seed_lo.q.val());
        self.qrng_ready.next = self.valid0.val() & self.use_qrng.q.val();
        self.underrun.next = self.valid0.val() & self.use_qrng.q.val() & !self.qrng_valid.val();
        self.rng_alarm.next =
            self.csr_alice_alarms.q.val().get_bit(0) | self.csr_alice_alarms.q.val().get_bit(1);
        self.rng_alarm_prev.d.next = self.rng_alarm.val();
        self.health_clear.next =
            self.start.val() | (self.rng_alarm_prev.q.val() & !self.rng_alarm.val());
        // Stage 1 of the QRNG words: registered for the lanes and the health
        // tests (take and clear with them, so their order is kept).
        self.qword1.d.next = self.qrng_data.val();
        self.take1.d.next = self.valid0.val() & self.use_qrng.q.val() & self.qrng_valid.val();
        self.clear1.d.next = self.health_clear.val();
        self.rct_cut1.d.next = self.csr_rng_rct_cutoff.q.val().get_bits::<16>(0);
        self.apt_win1.d.next = self.csr_rng_apt_window.q.val().get_bits::<16>(0);
        self.apt_cut1.d.next = self.csr_rng_apt_cutoff.q.val().get_bits::<16>(0);
        if self.valid0.val() & self.use_qrng.q.val() & self.qrng_valid.val() {
            self.qrng_words.d.next = self.qrng_words.q.val() + self.lanes_c32.val();
        }
        if self.clear_counters.val() {
            self.qrng_words.d.next = 0.into();
        }
        // ---- Sync-frame position (spec 4.2): masks registered from the CSRs,
        // position computed at stage 1 and registered into stage 2 ----
        self.sync_mask.d.next =
            (self.one64.val() << self.csr_alice_ctrl.q.val().get_bits::<6>(8)) - 1;
        self.sync_en.d.next = self.csr_alice_ctrl.q.val().get_bits::<6>(8) >= 5;
        self.sync_low.next = self.slot1.q.val() & self.sync_mask.q.val();
        self.sync2.d.next = self.sync_en.q.val() & ((self.sync_low.val() >> 4) == 0);
        self.sync_pos2.d.next = self.sync_low.val().get_bits::<5>(0);
        self.status_nmask.d.next =
            !((self.one64.val() << self.csr_stream_ctrl.q.val().get_bits::<6>(0)) - 1)
                | self.low6.val();
        self.status_en.d.next = self.csr_stream_ctrl.q.val().get_bits::<6>(0) >= 6;
        // ---- Health tests (stage 1 samples, fails at stage 2) ----
        self.any_rct.next = false;
        self.any_apt.next = false;
        for i in 0..L {
            self.health[i].clock.next = self.clock.val();
            self.health[i].sample.next = self.qword1.q.val().get_bits::<64>(i * 64);
            self.health[i].valid.next = self.take1.q.val();
            self.health[i].clear.next = self.clear1.q.val();
            self.health[i].rct_cutoff.next = self.rct_cut1.q.val();
            self.health[i].apt_window.next = self.apt_win1.q.val();
            self.health[i].apt_cutoff.next = self.apt_cut1.q.val();
            if self.health[i].rct_fail.val() {
                self.any_rct.next = true;
            }
            if self.health[i].apt_fail.val() {
                self.any_apt.next = true;
            }
        }
        // Blanking (spec 4.2 rule 2) of the slots of stage-0 cycle k, applied
        // at stage 2 (k+2): underrun or sticky entropy alarm at k (bad1), the
        // sticky bits at k+1 and k+2 (set by the fails on the samples of k-2
        // and k-1, which come out of the health tests at k and k+1), and the
        // fails on the sample of k itself (fail_any, at k+2, registered into
        // kill3 and applied to the stage-3 symbols; BLANK in RUN mode outside
        // the sync frame, as the lanes' multiplexer does with `blank`).
        self.bad1.d.next = self.underrun.val() | self.rng_alarm.val();
        self.bad2.d.next = self.bad1.q.val() | self.rng_alarm.val();
        self.blank2.next = self.bad2.q.val() | self.rng_alarm.val();
        self.fail_any.next = self.any_rct.val() | self.any_apt.val();
        self.kill3.d.next = self.fail_any.val()
            & self.valid2.q.val()
            & (self.csr_alice_ctrl.q.val().get_bits::<2>(0) == 1)
            & !self.sync2.q.val();
        // ---- Lanes ----
        for i in 0..L {
            self.lanes[i].clock.next = self.clock.val();
            self.lanes[i].seed.next = self.seed.val();
            self.lanes[i].load.next = self.start.val();
            // The PRNG steps every cycle (no enable on its 256 state bits):
            // running cycles follow START's load without a gap and are
            // exactly the valid0 cycles but the last one (the STOP cycle),
            // so the words used are the same as with step = valid0.
            self.lanes[i].step.next = true;
            self.lanes[i].qword.next = self.qword1.q.val().get_bits::<64>(i * 64);
            self.lanes[i].use_qrng.next = self.use_qrng.q.val();
            self.lanes[i].thresh_signal.next =
                self.csr_decoy_thresh_signal.q.val().get_bits::<16>(0);
            self.lanes[i].thresh_decoy.next = self.csr_decoy_thresh_decoy.q.val().get_bits::<16>(0);
            self.lanes[i].thresh_basis_z.next =
                self.csr_decoy_thresh_basis_z.q.val().get_bits::<16>(0);
            self.lanes[i].active.next = self.valid2.q.val();
            self.lanes[i].mode.next = self.csr_alice_ctrl.q.val().get_bits::<2>(0);
            self.lanes[i].fixed_symbol.next = self.csr_alice_ctrl.q.val().get_bits::<4>(4);
            self.lanes[i].sync.next = self.sync2.q.val();
            self.lanes[i].sync_pos.next = self.sync_pos2.q.val();
            self.lanes[i].blank.next = self.blank2.val();
            self.lanes[i].prbs_pos.next = self.prbs2.q.val();
        }
        self.lanes[0].chain_in.next = 0.into();
        self.lanes[0].proto_in.next = 0.into();
        for i in 1..L {
            self.lanes[i].chain_in.next = self.lanes[i - 1].chain_out.val();
            self.lanes[i].proto_in.next = self.lanes[i - 1].proto_out.val();
        }
        for i in (L - 1)..L {
            self.sym_all.next = self.lanes[i].chain_out.val();
            self.proto_vec.next = self.lanes[i].proto_out.val();
        }
        // popcount as a balanced adder tree (lanes past L read 0)
        self.proto_count.d.next = ((bit_cast::<4, 1>(self.proto_vec.val().get_bit(0).into())
            + bit_cast::<4, 1>(self.proto_vec.val().get_bit(1).into()))
            + (bit_cast::<4, 1>(self.proto_vec.val().get_bit(2).into())
                + bit_cast::<4, 1>(self.proto_vec.val().get_bit(3).into())))
            + ((bit_cast::<4, 1>(self.proto_vec.val().get_bit(4).into())
                + bit_cast::<4, 1>(self.proto_vec.val().get_bit(5).into()))
                + (bit_cast::<4, 1>(self.proto_vec.val().get_bit(6).into())
                    + bit_cast::<4, 1>(self.proto_vec.val().get_bit(7).into())));
        // ---- Alarms (ALICE_ALARMS bit order; RNG_RCT/RNG_APT from stage 2) ----
        self.alarm_set.next = bit_cast::<32, 1>(self.any_rct.val().into())
            | (bit_cast::<32, 1>(self.any_apt.val().into()) << 1)
            | (bit_cast::<32, 1>(self.stream.dropped.val().into()) << 2)
            | (bit_cast::<32, 1>(self.underrun.val().into()) << 3);
        self.csr_alice_alarms.hw_set.next = self.alarm_set.val();
        self.overflow_r.d.next = self.stream.dropped.val();
        self.live4.next = self.csr_alice_alarms.q.val().get_bits::<4>(0);
        self.live4.next = self.live4.val().replace_bit(2, self.overflow_r.q.val());
        self.under1.d.next = self.underrun.val();
        self.under2.d.next = self.under1.q.val();
        self.under3.d.next = self.under2.q.val();
        self.live4.next = self.live4.val().replace_bit(3, self.under3.q.val());
        // ---- Stages 1-3 ----
        self.valid1.d.next = self.valid0.val() & !self.start.val();
        self.valid2.d.next = self.valid1.q.val() & !self.start.val();
        self.valid3.d.next = self.valid2.q.val() & !self.start.val();
        self.slot1.d.next = self.slot0.q.val();
        self.slot2.d.next = self.slot1.q.val();
        self.slot3.d.next = self.slot2.q.val();
        self.prbs_sum.next = self.prbs2.q.val() + self.prbs_step.val();
        if self.start.val() {
            self.prbs2.d.next = 0.into();
        } else if self.valid2.q.val() {
            if self.prbs_sum.val() >= 127 {
                self.prbs2.d.next = self.prbs_sum.val() - 127;
            } else {
                self.prbs2.d.next = self.prbs_sum.val();
            }
        }
        if self.kill3.q.val() {
            self.sym3.next = self.blank_word.val();
        } else {
            self.sym3.next = self.sym_all.val();
        }
        self.symbols.next = bit_cast::<SW, 32>(self.sym3.val());
        self.symbols_valid.next = self.valid3.q.val();
        self.sync_out.next = self.valid3.q.val() & (self.slot3.q.val() == 0);
        if self.start.val() {
            self.sent_total.d.next = 0.into();
        } else if self.valid3.q.val() {
            self.sent_total.d.next = self.sent_total.q.val() + self.lanes_c.val();
        }
        // ---- Packer (ALICE_SYMBOLS payload, 16 symbols per word) ----
        self.pack_next.next = (self.pack.q.val() >> self.pack_out_shift.val())
            | (bit_cast::<64, 32>(self.sym3.val()) << self.pack_in_shift.val());
        if self.valid3.q.val() {
            self.pack.d.next = self.pack_next.val();
        }
        self.word_done.next =
            self.valid3.q.val() & (self.slot3.q.val().get_bits::<4>(0) == self.word_last.val());
        self.rec_done.next = self.word_done.val() & (self.slot3.q.val().get_bits::<2>(4) == 3);
        if self.word_done.val() {
            match self.slot3.q.val().get_bits::<2>(4).index() {
                0 => {
                    self.pay0.d.next = self.pack_next.val();
                }
                1 => {
                    self.pay1.d.next = self.pack_next.val();
                }
                2 => {
                    self.pay2.d.next = self.pack_next.val();
                }
                _ => {}
            }
        }
        self.rec_start.next = self.slot3.q.val() & self.not63.val();
        self.rec_end.next = self.rec_start.val() + 64;
        // rec_end = rec_start + 64 is a multiple of 2^t (t >= 6) iff bits
        // [t-1:6] of the slot index are all ones (no adder on this path).
        self.status_due.d.next = self.status_en.q.val()
            & ((self.slot2.q.val() | self.status_nmask.q.val()) == self.ones64.val());
        self.epoch_due.d.next = (self.slot2.q.val() & self.not63.val() & self.slot_mask.val()) == 0;
        // ---- STATUS interval counters (spec 4.4) ----
        // A killed cycle's symbols are all BLANK: no protocol symbol.
        self.iv_sent_inc.next = self.iv_sent.q.val() + bit_cast::<64, 4>(self.proto_count.q.val());
        if self.valid3.q.val() {
            self.iv_slots_next.next = self.iv_slots.q.val() + self.lanes_c.val();
        } else {
            self.iv_slots_next.next = self.iv_slots.q.val();
        }
        if self.valid3.q.val() & !self.kill3.q.val() {
            self.iv_sent_next.next = self.iv_sent_inc.val();
        } else {
            self.iv_sent_next.next = self.iv_sent.q.val();
        }
        self.iv_seen_next.next = self.iv_seen.q.val() | self.live4.val();
        self.iv_slots.d.next = self.iv_slots_next.val();
        self.iv_sent.d.next = self.iv_sent_next.val();
        self.iv_seen.d.next = self.iv_seen_next.val();
        if self.start.val() {
            self.iv_slots.d.next = 0.into();
            self.iv_sent.d.next = 0.into();
            self.iv_seen.d.next = 0.into();
            self.lost_mark.d.next = self.stream.lost_slots.val();
        } else if self.rec_done.val() & self.status_due.q.val() {
            self.iv_slots.d.next = 0.into();
            self.iv_sent.d.next = 0.into();
            self.iv_seen.d.next = 0.into();
        }
        // ---- Record sequencer: [EPOCH] ALICE_SYMBOLS [STATUS] per 64 slots ----
        self.group_records.next = 1.into();
        if self.epoch_due.q.val() {
            if self.status_due.q.val() {
                self.group_records.next = 3.into();
            } else {
                self.group_records.next = 2.into();
            }
        } else if self.status_due.q.val() {
            self.group_records.next = 2.into();
        }
        // Order of the stream: the group being sent, the buffered group, then
        // the groups dropped here (in_lost, reported when idle with no
        // buffered group; no group is buffered while a drop is pending).
        self.buf_start_now.next = (self.phase.q.val() == 0) & self.buf_valid.q.val();
        self.stream.in_lost.next =
            (self.phase.q.val() == 0) & self.lp_pending.q.val() & !self.buf_valid.q.val();
        self.stream.in_lost_records.next = self.lp_records.q.val();
        if (self.phase.q.val() == 0) & self.lp_pending.q.val() & !self.buf_valid.q.val() {
            self.lp_pending.d.next = false;
        }
        if self.buf_start_now.val() {
            self.buf_valid.d.next = false;
            self.g_start.d.next = self.b_start.q.val();
            self.g_epoch.d.next = self.b_epoch.q.val();
            self.g_status.d.next = self.b_status.q.val();
            self.g_p0.d.next = self.b_p0.q.val();
            self.g_p1.d.next = self.b_p1.q.val();
            self.g_p2.d.next = self.b_p2.q.val();
            self.g_p3.d.next = self.b_p3.q.val();
            self.g_interval.d.next = self.b_interval.q.val();
            self.g_sent.d.next = self.b_sent.q.val();
            self.g_live.d.next = self.b_live.q.val();
            self.g_seen.d.next = self.b_seen.q.val();
            if self.b_epoch.q.val() {
                self.phase.d.next = 1.into();
            } else {
                self.phase.d.next = 2.into();
            }
        }
        if self.rec_done.val() {
            if (self.phase.q.val() == 0) & !self.buf_valid.q.val() {
                self.g_start.d.next = self.rec_start.val();
                self.g_epoch.d.next = self.epoch_due.q.val();
                self.g_status.d.next = self.status_due.q.val();
                self.g_p0.d.next = self.pay0.q.val();
                self.g_p1.d.next = self.pay1.q.val();
                self.g_p2.d.next = self.pay2.q.val();
                self.g_p3.d.next = self.pack_next.val();
                self.g_interval.d.next = self.iv_slots_next.val();
                self.g_sent.d.next = self.iv_sent_next.val();
                self.g_live.d.next = self.live4.val();
                self.g_seen.d.next = self.iv_seen_next.val();
                if self.epoch_due.q.val() {
                    self.phase.d.next = 1.into();
                } else {
                    self.phase.d.next = 2.into();
                }
            } else if self.use_buf.val()
                & !self.lp_pending.q.val()
                & (!self.buf_valid.q.val() | self.buf_start_now.val())
            {
                self.buf_valid.d.next = true;
                self.b_start.d.next = self.rec_start.val();
                self.b_epoch.d.next = self.epoch_due.q.val();
                self.b_status.d.next = self.status_due.q.val();
                self.b_p0.d.next = self.pay0.q.val();
                self.b_p1.d.next = self.pay1.q.val();
                self.b_p2.d.next = self.pay2.q.val();
                self.b_p3.d.next = self.pack_next.val();
                self.b_interval.d.next = self.iv_slots_next.val();
                self.b_sent.d.next = self.iv_sent_next.val();
                self.b_live.d.next = self.live4.val();
                self.b_seen.d.next = self.iv_seen_next.val();
            } else if self.lp_pending.q.val() {
                self.lp_records.d.next = self.lp_records.q.val() + self.group_records.val();
                self.lp_slots.d.next = self.lp_slots.q.val() + 64;
            } else {
                self.lp_pending.d.next = true;
                self.lp_slot.d.next = self.rec_start.val();
                self.lp_records.d.next = self.group_records.val();
                self.lp_slots.d.next = 64.into();
            }
        }
        self.g_end.next = self.g_start.q.val() + 64;
        self.stream.in_valid.next = self.phase.q.val() != 0;
        self.stream.in_first.next = false;
        self.stream.in_last.next = false;
        self.stream.in_len.next = 1.into();
        self.stream.in_data.next = 0.into();
        self.stream.in_slot.next = self.g_start.q.val();
        self.stream.in_slots.next = 0.into();
        match self.phase.q.val().index() {
            1 => {
                self.stream.in_data.next =
                    (bit_cast::<64, 4>(5.into()) << 60) | (self.g_start.q.val() >> 40);
                self.stream.in_first.next = true;
                self.stream.in_last.next = true;
                self.phase.d.next = 2.into();
            }
            2 => {
                self.stream.in_data.next = (bit_cast::<64, 4>(2.into()) << 60)
                    | (bit_cast::<64, 8>(64.into()) << 40)
                    | (self.g_start.q.val() & self.slot_mask.val());
                self.stream.in_first.next = true;
                self.stream.in_len.next = 5.into();
                self.stream.in_slots.next = 64.into();
                self.phase.d.next = 3.into();
            }
            3 => {
                self.stream.in_data.next = self.g_p0.q.val();
                self.phase.d.next = 4.into();
            }
            4 => {
                self.stream.in_data.next = self.g_p1.q.val();
                self.phase.d.next = 5.into();
            }
            5 => {
                self.stream.in_data.next = self.g_p2.q.val();
                self.phase.d.next = 6.into();
            }
            6 => {
                self.stream.in_data.next = self.g_p3.q.val();
                self.stream.in_last.next = true;
                if self.g_status.q.val() {
                    self.phase.d.next = 7.into();
                } else {
                    self.phase.d.next = 0.into();
                }
            }
            7 => {
                self.stream.in_data.next = (bit_cast::<64, 4>(3.into()) << 60)
                    | (bit_cast::<64, 8>(5.into()) << 40)
                    | (self.g_end.val() & self.slot_mask.val());
                self.stream.in_first.next = true;
                self.stream.in_len.next = 6.into();
                self.stream.in_slot.next = self.g_end.val();
                self.g_lost.d.next = self.stream.lost_slots.val() - self.lost_mark.q.val();
                self.lost_mark.d.next = self.stream.lost_slots.val();
                self.phase.d.next = 8.into();
            }
            8 => {
                self.stream.in_data.next = (bit_cast::<64, 8>(0x01.into()) << 56)
                    | (self.g_interval.q.val() & self.value56.val());
                self.phase.d.next = 9.into();
            }
            9 => {
                self.stream.in_data.next = (bit_cast::<64, 8>(0x09.into()) << 56)
                    | (self.g_sent.q.val() & self.value56.val());
                self.phase.d.next = 10.into();
            }
            10 => {
                self.stream.in_data.next = (bit_cast::<64, 8>(0x0A.into()) << 56)
                    | (self.g_lost.q.val() & self.value56.val());
                self.phase.d.next = 11.into();
            }
            11 => {
                self.stream.in_data.next =
                    (bit_cast::<64, 8>(0x07.into()) << 56) | bit_cast::<64, 4>(self.g_live.q.val());
                self.phase.d.next = 12.into();
            }
            12 => {
                self.stream.in_data.next =
                    (bit_cast::<64, 8>(0x08.into()) << 56) | bit_cast::<64, 4>(self.g_seen.q.val());
                self.stream.in_last.next = true;
                self.phase.d.next = 0.into();
            }
            _ => {}
        }
        if (self.phase.q.val() == 0) & self.lp_pending.q.val() {
            self.stream.in_slot.next = self.lp_slot.q.val();
            self.stream.in_slots.next = self.lp_slots.q.val();
        }
        // ---- Record stream ----
        self.stream.clear.next = self.start.val();
        self.stream.clear_counters.next = self.clear_counters.val();
        self.m_axis_tdata.next = self.stream.tdata.val();
        self.m_axis_tvalid.next = self.stream.tvalid.val();
        self.m_axis_tlast.next = self.stream.tlast.val();
        self.stream.tready.next = self.m_axis_tready.val();
        // ---- CSR live values ----
        self.csr_alice_state.hw_value.next = bit_cast::<32, 1>(self.running.q.val().into())
            | (bit_cast::<32, 1>((!self.rng_alarm.val()).into()) << 1);
        self.hi_symbols.value.next = self.sent_total.q.val();
        self.hi_symbols.lo_read.next = self.csr_alice_symbols_lo.read_pulse.val();
        self.csr_alice_symbols_lo.hw_value.next = self.hi_symbols.lo.val();
        self.csr_alice_symbols_hi.hw_value.next = self.hi_symbols.hi.val();
        self.hi_records.value.next = self.stream.records.val();
        self.hi_records.lo_read.next = self.csr_stream_records_lo.read_pulse.val();
        self.csr_stream_records_lo.hw_value.next = self.hi_records.lo.val();
        self.csr_stream_records_hi.hw_value.next = self.hi_records.hi.val();
        self.hi_lost.value.next = self.stream.lost_slots.val();
        self.hi_lost.lo_read.next = self.csr_stream_lost_slots_lo.read_pulse.val();
        self.csr_stream_lost_slots_lo.hw_value.next = self.hi_lost.lo.val();
        self.csr_stream_lost_slots_hi.hw_value.next = self.hi_lost.hi.val();
        self.csr_stream_gaps.hw_value.next = self.stream.gaps.val();
        self.csr_stream_fifo_high_water.hw_value.next = self.stream.high_water.val();
        self.csr_rng_qrng_words.hw_value.next = self.qrng_words.q.val();
    }
}

/// Instantiate, connect and check the top for `params`, and return its
/// Verilog with the top module named `qkd_alice`.
pub fn verilog(params: &GenParams) -> anyhow::Result<String> {
    match params.lanes {
        1 => verilog_of(AliceTop::<1, 4, 64>::new(params)?),
        2 => verilog_of(AliceTop::<2, 8, 128>::new(params)?),
        4 => verilog_of(AliceTop::<4, 16, 256>::new(params)?),
        8 => verilog_of(AliceTop::<8, 32, 512>::new(params)?),
        n => Err(TopError::Params(qkd_abi::regmap::ParamError::Lanes(n)).into()),
    }
}

impl<const L: usize, const SW: usize, const QW: usize> AliceTop<L, SW, QW> {
    /// Mark the top-level inputs as driven and connect the design (needed
    /// before simulation or Verilog generation).
    pub fn connect_top(&mut self) {
        self.clock.connect();
        self.s_axil_awaddr.connect();
        self.s_axil_awvalid.connect();
        self.s_axil_wdata.connect();
        self.s_axil_wstrb.connect();
        self.s_axil_wvalid.connect();
        self.s_axil_bready.connect();
        self.s_axil_araddr.connect();
        self.s_axil_arvalid.connect();
        self.s_axil_rready.connect();
        self.m_axis_tready.connect();
        self.qrng_data.connect();
        self.qrng_valid.connect();
        self.connect_all();
    }
}

fn verilog_of<const L: usize, const SW: usize, const QW: usize>(
    mut top: AliceTop<L, SW, QW>,
) -> anyhow::Result<String> {
    top.connect_top();
    check_all(&top)
        .map_err(|e| anyhow::anyhow!("rust-hdl design check of qkd_alice failed: {e:?}"))?;
    let v = generate_verilog_unchecked(&top);
    crate::generate::rename_top(&v, "qkd_alice")
}
