// SPDX-License-Identifier: MIT OR Apache-2.0
//! `qkd_bob`: Bob's receiver core (gateware spec sections 1-3, 5-7): CSR
//! bank from `qkd_abi::RegisterMap`, per-detector TDC, slot alignment to
//! `sync_in`, common dead time and gates, after-gate and blinding
//! protections, basis choice (test PRNG or QRNG with SP 800-90B health
//! tests), DETECTION/STATUS/EPOCH records and the record stream.
//!
//! LANES, OVERSAMPLE and DETECTORS are run-time construction parameters of
//! one rust-hdl design (`BobCore`), whose sample ports use a fixed stride
//! of 16 samples per lane and 4 gate bits per lane; [`verilog`] wraps it in
//! a `qkd_bob` module with the exact, clean port widths of the spec.
//!
//! Timeline: inputs are registered once (stage P = input cycle + 1, the
//! TDC output); slot alignment, the dead time, the gates and the basis
//! happen in stage P (so `gate_en` and `basis_out` are stage P); the class
//! bits are registered and stage Q (P + 1) decides invalid clicks from the
//! live alarms, counts the classes (STATUS interval, counters, watchdogs);
//! stage R (Q + 1) queues the cycle's records (a bundle) for the
//! serializer, which presents one record word per cycle to the record
//! stream. Every state of stage Q sees the same cycles, in the same order,
//! as it would in stage P, so records are unchanged by the extra stage.
//!
//! Visible timing of the registers (records, `gate_en`, `basis_out` and
//! `qrng_ready` are exact): the interval counts move with stage Q (one
//! cycle after stage P) and are accumulated carry-save (counts registered,
//! added one cycle later; STATUS values unchanged); the counter CSRs
//! (GATES, ACCEPTED, AFTER_GATE, DEAD_TIME_SUPPRESSED, INVALID, CLICKS_d)
//! are registered sums and include a cycle's clicks from the third cycle
//! after its stage P on (one cycle later than with stage Q alone); a new GATE_DEAD_TIME_SLOTS,
//! STATUS_INTERVAL_LOG2, AFTERGATE_WINDOW_SLOTS or
//! CLICK_FRACTION_WINDOW_GATES value applies one cycle after the CSR write
//! (values derived from them are registered; all are configured before
//! START); the RNG_RCT/RNG_APT sticky bits of BOB_ALARMS are set one
//! cycle after the failing sample (pipelined health tests; the live bits
//! and the invalid flags are unchanged); the record stream runs in registered mode (records leave on
//! the AXI4-Stream one cycle later, the STREAM_* counters and the
//! STREAM_OVERFLOW alarm follow one cycle later, and under back-pressure
//! a record can be dropped one word earlier, see `common::stream`).

use crate::bob::after_gate::WindowAlarm;
use crate::bob::basis_choice::BasisChoice;
use crate::bob::blinding_monitor::BlindingMonitor;
use crate::bob::classify::Classifier;
use crate::bob::tdc::TdcChannel;
use crate::bob::vec_of as v;
use crate::common::add48::Add48x8;
use crate::common::csr::{self, AxiLiteSlave, CsrError, CsrReg, HiLatch, CSR_ADDR_BITS};
use crate::common::fifo_empty::FifoEmpty;
use crate::common::fifo_full::FifoFull;
use crate::common::health::HealthTests;
use crate::common::prng::Xoshiro256Plus;
use crate::common::stream::{LostSlots, RecordStream};
use qkd_abi::{GenParams, RegisterMap};
use rust_hdl::prelude::*;

/// Bundle FIFO depth (cycles with records waiting for the serializer), log2.
pub const BUNDLE_FIFO_LOG2: usize = 4;

// ---- Bundle layout (one cycle's records), bit offsets used as literals in
// update(): record flags of (lane l, detector d) at 4l+d (32 bits); fine
// bins at 32 + 4*(4l+d) (128 bits); basis per lane at 160 (8 bits); invalid
// flag at 168; STATUS follows at 169; EPOCH(0) first at 170; the GAP in
// `gapq_*` goes before this bundle at 171; lane-0 slot index at 176 (64 bits).

/// Defines the list and constructor of the scalar CSR cells (the `Logic`
/// impl below clocks each, feeds it the bus word and ORs its read data).
macro_rules! bob_cells {
    ($($cell:ident),* $(,)?) => {
        /// Names of the scalar CSR cells of the top, in field order.
        const CSR_CELLS: &[&str] = &[$(stringify!($cell)),*];

        /// The scalar CSR cells, built from the map before the top is assembled.
        struct CsrCells {
            $($cell: CsrReg,)*
        }

        impl BobCore {
            fn make_cells(map: &RegisterMap) -> Result<CsrCells, CsrError> {
                Ok(CsrCells {
                    $($cell: csr::cell_from_map(map, &stringify!($cell)["csr_".len()..])?,)*
                })
            }
        }

    };
}

/// Error building the receiver core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopError {
    /// Generation parameters out of range.
    #[error("invalid generation parameters for qkd_bob")]
    Params(#[source] qkd_abi::regmap::ParamError),
    /// The parameters are not Bob's.
    #[error("qkd_bob needs role bob parameters")]
    Role,
    /// The register map does not fit the gateware.
    #[error("CSR bank of qkd_bob from the register map")]
    Csr(#[from] CsrError),
}

/// The receiver core with stride-16 sample ports (see the module doc).
#[derive(LogicBlock)]
pub struct BobCore {
    /// Fabric clock, rising edge (LANES slots per cycle).
    pub clock: Signal<In, Clock>,
    /// AXI4-Lite AWADDR, byte address in the 4 KiB CSR window.
    pub s_axil_awaddr: Signal<In, Bits<CSR_ADDR_BITS>>,
    /// AXI4-Lite AWVALID.
    pub s_axil_awvalid: Signal<In, Bit>,
    /// AXI4-Lite AWREADY.
    pub s_axil_awready: Signal<Out, Bit>,
    /// AXI4-Lite WDATA.
    pub s_axil_wdata: Signal<In, Bits<32>>,
    /// AXI4-Lite WSTRB (treated as all ones).
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
    /// APD comparator samples per detector, lane `l` sample `s` at bit `16l + s`.
    pub apd: Vec<Signal<In, Bits<128>>>,
    /// Gate enables, lane `l` detector `d` at bit `4l + d` (stage P), active high.
    pub gate_en: Signal<Out, Bits<32>>,
    /// Basis per lane (stage P), 1 = X.
    pub basis_out: Signal<Out, Bits<8>>,
    /// Slot 0 marker from the classical sync channel, active high.
    pub sync_in: Signal<In, Bit>,
    /// Photocurrent ADC sample per detector, 12-bit code.
    pub adc: Vec<Signal<In, Bits<12>>>,
    /// Photocurrent ADC sample valid per detector, active high.
    pub adc_valid: Vec<Signal<In, Bit>>,
    /// QRNG words: lane `l`'s 64-bit word in bits `[64l+63:64l]`.
    pub qrng_data: Signal<In, Bits<512>>,
    /// QRNG word valid, active high.
    pub qrng_valid: Signal<In, Bit>,
    /// The core takes the QRNG word this cycle, active high.
    pub qrng_ready: Signal<Out, Bit>,
    // ---- CSR bank ----
    axil: AxiLiteSlave,
    cell_rdata: Signal<Local, Bits<32>>,
    cell_hit: Signal<Local, Bit>,
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
    csr_bob_ctrl_id: CsrReg,
    csr_bob_ctrl: CsrReg,
    csr_bob_cmd: CsrReg,
    csr_bob_state: CsrReg,
    csr_bob_alarms: CsrReg,
    csr_bob_fiber_delay_slots: CsrReg,
    csr_gate_id: CsrReg,
    csr_gate_window: CsrReg,
    csr_gate_dead_time_slots: CsrReg,
    csr_gate_basis_thresh_z: CsrReg,
    csr_protect_id: CsrReg,
    csr_aftergate_limit: CsrReg,
    csr_aftergate_window_slots: CsrReg,
    csr_photocurrent_threshold: CsrReg,
    csr_click_fraction_window_gates: CsrReg,
    csr_click_fraction_limit: CsrReg,
    csr_no_dark_gates: CsrReg,
    csr_counters_id: CsrReg,
    csr_gates_lo: CsrReg,
    csr_gates_hi: CsrReg,
    csr_accepted: CsrReg,
    csr_after_gate: CsrReg,
    csr_dead_time_suppressed: CsrReg,
    csr_invalid: CsrReg,
    csr_photocurrent_last: Vec<CsrReg>,
    csr_clicks: Vec<CsrReg>,
    hi_gates: HiLatch,
    hi_records: HiLatch,
    hi_lost: HiLatch,
    // ---- Parameters ----
    k_lanes64: Constant<Bits<64>>,
    k_lanes33: Constant<Bits<33>>,
    k_lanes_log2: Constant<Bits<8>>,
    k_lane33: Vec<Constant<Bits<33>>>,
    k_lane_pl33: Vec<Constant<Bits<33>>>,
    /// `l + 2L` for l < 8.
    k_lane_p2l33: Vec<Constant<Bits<33>>>,
    k_lane64: Vec<Constant<Bits<64>>>,
    k_sel: Vec<Constant<Bits<4>>>,
    k_seld: Vec<Constant<Bits<2>>>,
    k_det2: Vec<Constant<Bits<2>>>,
    k_status_hdr: Constant<Bits<64>>,
    k_status_len: Constant<Bits<8>>,
    k_code: Vec<Constant<Bits<64>>>,
    k_q6: Vec<Constant<Bits<6>>>,
    k_pick_mask: Vec<Constant<Bits<32>>>,
    k_status_last: Constant<Bits<8>>,
    k_epoch_tag: Constant<Bits<64>>,
    k_det_tag: Constant<Bits<64>>,
    k_slot_mask: Constant<Bits<64>>,
    // ---- Blocks ----
    tdc: Vec<TdcChannel>,
    prng: Vec<Xoshiro256Plus>,
    health: Vec<HealthTests>,
    basis_sel: BasisChoice,
    classify: Classifier,
    after_gate: WindowAlarm,
    blinding: BlindingMonitor,
    stream: RecordStream,
    bundles: SynchronousFIFO<Bits<256>, BUNDLE_FIFO_LOG2, { BUNDLE_FIFO_LOG2 + 1 }, 1>,
    /// The bundle FIFO's full flag, registered (`common::fifo_full`): the
    /// FIFO's address compare is not in front of stage R.
    bundles_full: FifoFull<{ BUNDLE_FIFO_LOG2 + 1 }>,
    bundles_empty: FifoEmpty<{ BUNDLE_FIFO_LOG2 + 1 }>,
    bundles_took: Signal<Local, Bit>,
    // ---- Input stage ----
    start_raw: Signal<Local, Bit>,
    stop_raw: Signal<Local, Bit>,
    clear_counters: Signal<Local, Bit>,
    running_in: DFF<Bit>,
    start_p: DFF<Bit>,
    stop_p: DFF<Bit>,
    sync_p: DFF<Bit>,
    adc_p: Vec<DFF<Bits<12>>>,
    adc_valid_p: Vec<DFF<Bit>>,
    qrng_p: DFF<Bits<512>>,
    qrng_valid_p: DFF<Bit>,
    // ---- Stage P: run control and slot alignment ----
    running: DFF<Bit>,
    synced: DFF<Bit>,
    use_qrng: DFF<Bit>,
    slot0: DFF<Bits<64>>,
    lead_slots: DFF<Bits<33>>,
    slot0_end: DFF<Bits<64>>,
    neg_fd: DFF<Bits<64>>,
    neg_fd_end: DFF<Bits<64>>,
    fd_le: DFF<Bits<8>>,
    wait_le: DFF<Bits<8>>,
    /// `fiber delay <= l + L` per lane (static after START), registered.
    fdw_le: DFF<Bits<8>>,
    fdw_le_n: Signal<Local, Bits<8>>,
    /// `lead_slots > l + L` per lane, registered with `lead_slots` (kept
    /// as "greater" so that the power-up value matches lead_slots = 0).
    lead_gt: DFF<Bits<8>>,
    lead_gt_n: Signal<Local, Bits<8>>,
    fd_wide: Signal<Local, Bits<33>>,
    fd_le_n: Signal<Local, Bits<8>>,
    wait_le_n: Signal<Local, Bits<8>>,
    cur_end: Signal<Local, Bits<64>>,
    c0: Signal<Local, Bit>,
    c0_r: DFF<Bit>,
    proc_r: DFF<Bit>,
    /// `processed`, computed a cycle ahead from the next values of `proc_r`,
    /// `c0_r`, `fd_le` and `wait_le`.
    processed_r: DFF<Bits<8>>,
    processed_n: Signal<Local, Bits<8>>,
    running_next: Signal<Local, Bit>,
    synced_next: Signal<Local, Bit>,
    proc_cycle: Signal<Local, Bit>,
    cur_slot0: Signal<Local, Bits<64>>,
    cur_wait: Signal<Local, Bits<33>>,
    processed: Signal<Local, Bits<8>>,
    underrun: Signal<Local, Bit>,
    rct_now: Signal<Local, Bit>,
    apt_now: Signal<Local, Bit>,
    rng_w1c: Signal<Local, Bit>,
    /// RNG_RCT/RNG_APT bits of a write to BOB_ALARMS in the cycle the
    /// cell stores it (its registered decode, `written`), so no address
    /// decode sits before the health tests' clear.
    w1c_rng_w: Signal<Local, Bits<2>>,
    alarm_events: Signal<Local, Bits<7>>,
    live: Signal<Local, Bits<7>>,
    live_end: Signal<Local, Bits<7>>,
    bad: Signal<Local, Bit>,
    dropped_r: DFF<Bit>,
    qrng_words: DFF<Bits<32>>,
    // ---- Stage P -> Q registers ----
    q_proc_cycle: DFF<Bit>,
    q_c0: DFF<Bit>,
    q_start: DFF<Bit>,
    q_clear_counters: DFF<Bit>,
    q_status_now: DFF<Bit>,
    q_sync_ok: DFF<Bit>,
    q_underrun: DFF<Bit>,
    w1c_rng: Signal<Local, Bits<2>>,
    s_void: DFF<Bit>,
    c_void: DFF<Bit>,
    n_proc_r: DFF<Bits<8>>,
    n_gates_r: DFF<Bits<8>>,
    n_acc_r: DFF<Bits<8>>,
    bad_r: DFF<Bit>,
    n_acc_v: Signal<Local, Bits<8>>,
    n_inv_v: Signal<Local, Bits<8>>,
    n_ag_r: DFF<Bits<8>>,
    n_dead_r: DFF<Bits<8>>,
    n_raw_r: Vec<DFF<Bits<8>>>,
    /// The interval sums' adds (carry-select): slots, gates, accepted,
    /// after-gate, dead-time suppressed, invalid.
    iv_add: Vec<Add48x8>,
    ivn_slots: Signal<Local, Bits<48>>,
    ivn_gates: Signal<Local, Bits<48>>,
    ivn_acc: Signal<Local, Bits<48>>,
    ivn_ag: Signal<Local, Bits<48>>,
    ivn_dead: Signal<Local, Bits<48>>,
    ivn_inv: Signal<Local, Bits<48>>,
    ivn_clicks: Vec<Signal<Local, Bits<48>>>,
    snapc_tot: Vec<Signal<Local, Bits<48>>>,
    cn_gates: Signal<Local, Bits<64>>,
    cn_acc: Signal<Local, Bits<32>>,
    cn_ag: Signal<Local, Bits<32>>,
    cn_dead: Signal<Local, Bits<32>>,
    cn_inv: Signal<Local, Bits<32>>,
    cn_clicks: Vec<Signal<Local, Bits<32>>>,
    cv_gates: DFF<Bits<64>>,
    cv_acc: DFF<Bits<32>>,
    cv_ag: DFF<Bits<32>>,
    cv_dead: DFF<Bits<32>>,
    cv_inv: DFF<Bits<32>>,
    cv_clicks: Vec<DFF<Bits<32>>>,
    q_rng_sticky: DFF<Bits<2>>,
    q_slot0: DFF<Bits<64>>,
    q_basis: DFF<Bits<8>>,
    q_bins: DFF<Bits<128>>,
    q_adc: Vec<DFF<Bits<12>>>,
    q_adc_valid: Vec<DFF<Bit>>,
    // ---- Stage Q: STATUS interval ----
    t_mask: Signal<Local, Bits<64>>,
    t_mask_r: DFF<Bits<64>>,
    st_on: DFF<Bit>,
    bnd_c0: DFF<Bit>,
    bnd_run: Signal<Local, Bit>,
    i_first: Signal<Local, Bits<64>>,
    i_end: Signal<Local, Bits<64>>,
    status_now: Signal<Local, Bit>,
    iv_slots: DFF<Bits<48>>,
    iv_gates: DFF<Bits<48>>,
    iv_clicks: Vec<DFF<Bits<48>>>,
    iv_acc: DFF<Bits<48>>,
    iv_ag: DFF<Bits<48>>,
    iv_dead: DFF<Bits<48>>,
    iv_inv: DFF<Bits<48>>,
    iv_pmax: Vec<DFF<Bits<12>>>,
    iv_seen: DFF<Bits<7>>,
    pmax_now: Vec<Signal<Local, Bits<12>>>,
    snap_new: DFF<Bit>,
    snap_slots: DFF<Bits<48>>,
    snap_gates: DFF<Bits<48>>,
    snap_clicks: Vec<DFF<Bits<48>>>,
    snap_acc: DFF<Bits<48>>,
    snap_ag: DFF<Bits<48>>,
    snap_dead: DFF<Bits<48>>,
    snap_inv: DFF<Bits<48>>,
    snap_pmax: Vec<DFF<Bits<12>>>,
    snap_seen: DFF<Bits<7>>,
    // ---- Counters block ----
    cnt_gates: DFF<Bits<64>>,
    cnt_acc: DFF<Bits<32>>,
    cnt_ag: DFF<Bits<32>>,
    cnt_dead: DFF<Bits<32>>,
    cnt_inv: DFF<Bits<32>>,
    cnt_clicks: Vec<DFF<Bits<32>>>,
    // ---- Stage R: bundle ----
    r_valid: DFF<Bit>,
    r_rec: DFF<Bits<32>>,
    r_bins: DFF<Bits<128>>,
    r_basis: DFF<Bits<8>>,
    r_bad: DFF<Bit>,
    r_epoch0: DFF<Bit>,
    r_slot0: DFF<Bits<64>>,
    bundle: Signal<Local, Bits<256>>,
    bundle_status: Signal<Local, Bit>,
    sval: Signal<Local, Bits<64>>,
    r_any: DFF<Bit>,
    r_flo: DFF<Bits<4>>,
    r_llo: DFF<Bits<4>>,
    r_hi_inc: DFF<Bits<61>>,
    b_hi_first: Signal<Local, Bits<61>>,
    b_hi_last: Signal<Local, Bits<61>>,
    r_slot_l: DFF<Bits<64>>,
    qs_hi_inc: Signal<Local, Bits<61>>,
    qs_lo4: Signal<Local, Bits<4>>,
    qs_hi4: Signal<Local, Bits<4>>,
    qs_l4: Signal<Local, Bits<4>>,
    /// Records of the bundle in stage R (detections, STATUS, EPOCH(0)),
    /// added up in stage Q and registered, so the lost-record count is one
    /// adder from registers.
    r_nall: DFF<Bits<16>>,
    n_all: Signal<Local, Bits<16>>,
    lr_all: Signal<Local, Bits<16>>,
    lr_one: Signal<Local, Bits<16>>,
    new_gap: Signal<Local, Bit>,
    r_busy: Signal<Local, Bit>,
    rbins: Signal<Local, Bits<128>>,
    nraw8: Signal<Local, Bits<8>>,
    nraw48: Signal<Local, Bits<48>>,
    nraw32: Signal<Local, Bits<32>>,
    last12: Signal<Local, Bits<12>>,
    snap48: Signal<Local, Bits<48>>,
    snap12: Signal<Local, Bits<12>>,
    push: Signal<Local, Bit>,
    sbuf: Vec<DFF<Bits<64>>>,
    sbuf_full: DFF<Bit>,
    // ---- Serializer ----
    cur: DFF<Bits<256>>,
    rem: DFF<Bits<32>>,
    phase: DFF<SerPhase>,
    sword: DFF<Bits<8>>,
    epoch: DFF<Bits<24>>,
    lost_pending: DFF<Bit>,
    lost_records: DFF<Bits<16>>,
    lost_slot: DFF<Bits<64>>,
    lost_last: DFF<Bits<64>>,
    gapq_valid: DFF<Bit>,
    gapq_records: DFF<Bits<16>>,
    gapq_first: DFF<Bits<64>>,
    gapq_last: DFF<Bits<64>>,
    blocked: Signal<Local, Bit>,
    full_or_blocked: Signal<Local, Bit>,
    attach: Signal<Local, Bit>,
    push_now: Signal<Local, Bit>,
    drop_now: Signal<Local, Bit>,
    lo_found: Signal<Local, Bit>,
    lo_lane: Signal<Local, Bits<4>>,
    hi_lane: Signal<Local, Bits<4>>,
    b_first: Signal<Local, Bits<64>>,
    b_last: Signal<Local, Bits<64>>,
    onehot: Signal<Local, Bits<32>>,
    pick: Signal<Local, Bits<5>>,
    pick_lane: Signal<Local, Bits<3>>,
    det_slot: Signal<Local, Bits<64>>,
    below: Signal<Local, Bit>,
    oh: DFF<Bits<32>>,
    rest_rem: Signal<Local, Bits<32>>,
    rec_in: Signal<Local, Bits<32>>,
    k_rec_mask: Constant<Bits<32>>,
    next_low: Signal<Local, Bits<32>>,
    load_low: Signal<Local, Bits<32>>,
    load_below: Signal<Local, Bit>,
    slot_hi: Signal<Local, Bits<61>>,
    slot_hi_inc: Signal<Local, Bits<61>>,
    slot_lo: Signal<Local, Bits<4>>,
    st_lo: Signal<Local, Bits<4>>,
    sel_bins: Signal<Local, Bits<4>>,
    sel_basis: Signal<Local, Bit>,
    ep_ne0: Signal<Local, Bit>,
    ep_ne1: Signal<Local, Bit>,
    hi_inc: DFF<Bits<61>>,
    hi_cross: DFF<Bit>,
    /// Bit `4*l + d`: the loaded bundle's lane-0 slot (low 3 bits) + `l`
    /// carries into bit 3, i.e. that record's slot takes `hi_inc` (set when
    /// the bundle is loaded; the carry of the picked record is `oh_carry`,
    /// kept from these, instead of an encoder and an adder).
    lo_carry: DFF<Bits<32>>,
    lo_carry_n: Signal<Local, Bits<32>>,
    load_lo: Signal<Local, Bits<6>>,
    det_carry: Signal<Local, Bit>,
    /// The lowest remaining record (`oh`) is at a carry position. The
    /// carry positions are the record bits from some lane up (`lo_carry`
    /// is a suffix mask), so this holds iff no remaining record sits below
    /// them: registered when the bundle is loaded and after each record
    /// from the records that remain, so the EPOCH decision starts at a
    /// flip-flop instead of an AND-OR over the one-hot pick.
    oh_carry: DFF<Bit>,
    ne0: DFF<Bit>,
    ne1: DFF<Bit>,
    epoch_m1: DFF<Bits<24>>,
    load_hi: Signal<Local, Bits<61>>,
    load_cross: Signal<Local, Bit>,
    det_new_epoch: Signal<Local, Bit>,
    st_new_epoch: Signal<Local, Bit>,
    status_slot: Signal<Local, Bits<64>>,
    word: Signal<Local, Bits<64>>,
    o_valid: DFF<Bit>,
    o_first: DFF<Bit>,
    o_last: DFF<Bit>,
    o_len: DFF<Bits<8>>,
    o_slot: DFF<Bits<64>>,
    o_data: DFF<Bits<64>>,
    o_lost: DFF<Bit>,
    o_lost_records: DFF<Bits<8>>,
    o_lost_slots: DFF<Bits<32>>,
}

/// A constant of any width.
fn kc<const N: usize>(x: u64) -> Constant<Bits<N>> {
    Constant::new(x.into())
}

/// STATUS payload word kinds (`k_sel`).
const SEL_SLOTS: u64 = 0;
const SEL_GATES: u64 = 1;
const SEL_CLICKS: u64 = 2;
const SEL_ACC: u64 = 3;
const SEL_AG: u64 = 4;
const SEL_DEAD: u64 = 5;
const SEL_INV: u64 = 6;
const SEL_PMAX: u64 = 7;
const SEL_LIVE: u64 = 8;
const SEL_SEEN: u64 = 9;

/// STATUS counter wire code of a payload kind (qkd-abi `CounterId::code`).
fn counter_code(sel: u64, d: u8) -> u8 {
    use qkd_abi::records::CounterId as C;
    match sel {
        SEL_SLOTS => C::IntervalSlots.code(),
        SEL_GATES => C::Gates.code(),
        SEL_CLICKS => C::Clicks(d).code(),
        SEL_ACC => C::Accepted.code(),
        SEL_AG => C::AfterGate.code(),
        SEL_DEAD => C::DeadTimeSuppressed.code(),
        SEL_INV => C::Invalid.code(),
        SEL_PMAX => C::PhotocurrentMax(d).code(),
        SEL_LIVE => C::AlarmsLive.code(),
        _ => C::AlarmsSeen.code(),
    }
}

/// The STATUS payload order of the spec (5.6) for `nd` detectors: (kind, detector).
pub fn status_layout(nd: usize) -> Vec<(u64, u8)> {
    let mut v = vec![(SEL_SLOTS, 0), (SEL_GATES, 0)];
    v.extend((0..nd as u8).map(|d| (SEL_CLICKS, d)));
    v.extend([(SEL_ACC, 0), (SEL_AG, 0), (SEL_DEAD, 0), (SEL_INV, 0)]);
    v.extend((0..nd as u8).map(|d| (SEL_PMAX, d)));
    v.extend([(SEL_LIVE, 0), (SEL_SEEN, 0)]);
    v
}

impl BobCore {
    /// Build the core for `params` (role bob; LANES, OVERSAMPLE, DETECTORS).
    pub fn new(params: &GenParams) -> Result<Self, TopError> {
        params.validate().map_err(TopError::Params)?;
        if params.role != qkd_abi::Role::Bob {
            return Err(TopError::Role);
        }
        let lanes = usize::from(params.lanes);
        let os = usize::from(params.oversample);
        let nd = usize::from(params.detectors);
        let map = RegisterMap::new(*params);
        let mut names: Vec<String> = CSR_CELLS
            .iter()
            .map(|c| c["csr_".len()..].to_string())
            .collect();
        names.extend((0..nd).map(|d| format!("photocurrent_last_d{d}")));
        names.extend((0..nd).map(|d| format!("clicks_d{d}")));
        csr::check_coverage(&map, &names.iter().map(String::as_str).collect::<Vec<_>>())?;
        for (reg, field, lsb, width) in [
            ("BOB_CTRL", "DETECTOR_ENABLE", 0, 4),
            ("BOB_CMD", "START", 0, 1),
            ("BOB_CMD", "STOP", 1, 1),
            ("BOB_CMD", "CLEAR_COUNTERS", 2, 1),
            ("BOB_STATE", "RUNNING", 0, 1),
            ("BOB_STATE", "SYNCED", 1, 1),
            ("BOB_STATE", "ALARM_LIVE", 8, 7),
            ("BOB_ALARMS", "AFTER_GATE", 0, 1),
            ("BOB_ALARMS", "PHOTOCURRENT", 1, 1),
            ("BOB_ALARMS", "CLICK_FRACTION", 2, 1),
            ("BOB_ALARMS", "NO_DARK", 3, 1),
            ("BOB_ALARMS", "RNG_RCT", 4, 1),
            ("BOB_ALARMS", "RNG_APT", 5, 1),
            ("BOB_ALARMS", "STREAM_OVERFLOW", 6, 1),
            ("GATE_WINDOW", "START_BIN", 0, 8),
            ("GATE_WINDOW", "END_BIN", 8, 8),
            ("GATE_DEAD_TIME_SLOTS", "SLOTS", 0, 16),
            ("GATE_BASIS_THRESH_Z", "THRESH", 0, 16),
            ("AFTERGATE_LIMIT", "COUNT", 0, 16),
            ("PHOTOCURRENT_THRESHOLD", "ADC", 0, 12),
            ("RNG_CTRL", "SOURCE", 0, 1),
            ("STREAM_CTRL", "STATUS_INTERVAL_LOG2", 0, 6),
        ] {
            csr::expect_field(&map, reg, field, lsb, width)?;
        }
        let c = Self::make_cells(&map)?;
        let cells = |prefix: &str| -> Result<Vec<CsrReg>, CsrError> {
            (0..nd)
                .map(|d| csr::cell_from_map(&map, &format!("{prefix}_d{d}")))
                .collect()
        };
        let csr_photocurrent_last = cells("photocurrent_last")?;
        let csr_clicks = cells("clicks")?;
        let layout = status_layout(nd);
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
            apd: v(nd),
            gate_en: Default::default(),
            basis_out: Default::default(),
            sync_in: Default::default(),
            adc: v(nd),
            adc_valid: v(nd),
            qrng_data: Default::default(),
            qrng_valid: Default::default(),
            qrng_ready: Default::default(),
            axil: Default::default(),
            cell_rdata: Default::default(),
            cell_hit: Default::default(),
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
            csr_bob_ctrl_id: c.csr_bob_ctrl_id,
            csr_bob_ctrl: c.csr_bob_ctrl,
            csr_bob_cmd: c.csr_bob_cmd,
            csr_bob_state: c.csr_bob_state,
            csr_bob_alarms: c.csr_bob_alarms,
            csr_bob_fiber_delay_slots: c.csr_bob_fiber_delay_slots,
            csr_gate_id: c.csr_gate_id,
            csr_gate_window: c.csr_gate_window,
            csr_gate_dead_time_slots: c.csr_gate_dead_time_slots,
            csr_gate_basis_thresh_z: c.csr_gate_basis_thresh_z,
            csr_protect_id: c.csr_protect_id,
            csr_aftergate_limit: c.csr_aftergate_limit,
            csr_aftergate_window_slots: c.csr_aftergate_window_slots,
            csr_photocurrent_threshold: c.csr_photocurrent_threshold,
            csr_click_fraction_window_gates: c.csr_click_fraction_window_gates,
            csr_click_fraction_limit: c.csr_click_fraction_limit,
            csr_no_dark_gates: c.csr_no_dark_gates,
            csr_counters_id: c.csr_counters_id,
            csr_gates_lo: c.csr_gates_lo,
            csr_gates_hi: c.csr_gates_hi,
            csr_accepted: c.csr_accepted,
            csr_after_gate: c.csr_after_gate,
            csr_dead_time_suppressed: c.csr_dead_time_suppressed,
            csr_invalid: c.csr_invalid,
            csr_photocurrent_last,
            csr_clicks,
            hi_gates: Default::default(),
            hi_records: Default::default(),
            hi_lost: Default::default(),
            k_lanes64: kc(lanes as u64),
            k_lanes33: kc(lanes as u64),
            k_lanes_log2: kc(u64::from(lanes.trailing_zeros())),
            k_lane33: (0..8).map(|l| kc(l as u64)).collect(),
            k_lane_pl33: (0..8).map(|l| kc((l + lanes) as u64)).collect(),
            k_lane_p2l33: (0..8).map(|l| kc((l + 2 * lanes) as u64)).collect(),
            k_lane64: (0..8).map(|l| kc(l as u64)).collect(),
            k_sel: layout.iter().map(|(s, _)| kc(*s)).collect(),
            k_seld: layout.iter().map(|(_, d)| kc(u64::from(*d))).collect(),
            k_det2: (0..nd).map(|d| kc(d as u64)).collect(),
            k_status_hdr: kc((3u64 << 60) | ((layout.len() as u64) << 40)),
            k_status_len: kc(1 + layout.len() as u64),
            k_code: layout
                .iter()
                .map(|(s, d)| kc(u64::from(counter_code(*s, *d)) << 56))
                .collect(),
            k_q6: (0..64).map(kc).collect(),
            k_pick_mask: (0..5)
                .map(|b| {
                    kc((0..32u64)
                        .filter(|p| (p >> b) & 1 == 1)
                        .map(|p| 1u64 << p)
                        .sum())
                })
                .collect(),
            k_status_last: kc(layout.len() as u64 - 1),
            k_epoch_tag: kc(5u64 << 60),
            k_det_tag: kc(1u64 << 60),
            k_slot_mask: kc(qkd_abi::records::SLOT_MASK),
            tdc: (0..nd).map(|_| TdcChannel::new(lanes, os)).collect(),
            prng: (0..lanes).map(Xoshiro256Plus::new).collect(),
            health: (0..lanes).map(|_| HealthTests::pipelined()).collect(),
            basis_sel: BasisChoice::new(lanes),
            classify: Classifier::new(lanes, nd),
            after_gate: Default::default(),
            blinding: BlindingMonitor::new(nd),
            stream: RecordStream::registered(LostSlots::Span),
            bundles: Default::default(),
            bundles_full: Default::default(),
            bundles_empty: Default::default(),
            bundles_took: Default::default(),
            start_raw: Default::default(),
            stop_raw: Default::default(),
            clear_counters: Default::default(),
            running_in: Default::default(),
            start_p: Default::default(),
            stop_p: Default::default(),
            sync_p: Default::default(),
            adc_p: v(nd),
            adc_valid_p: v(nd),
            qrng_p: Default::default(),
            qrng_valid_p: Default::default(),
            running: Default::default(),
            synced: Default::default(),
            use_qrng: Default::default(),
            slot0: Default::default(),
            lead_slots: Default::default(),
            slot0_end: Default::default(),
            neg_fd: Default::default(),
            neg_fd_end: Default::default(),
            fd_le: Default::default(),
            wait_le: Default::default(),
            fdw_le: Default::default(),
            fdw_le_n: Default::default(),
            lead_gt: Default::default(),
            lead_gt_n: Default::default(),
            fd_wide: Default::default(),
            fd_le_n: Default::default(),
            wait_le_n: Default::default(),
            cur_end: Default::default(),
            c0: Default::default(),
            c0_r: Default::default(),
            proc_r: Default::default(),
            processed_r: Default::default(),
            processed_n: Default::default(),
            running_next: Default::default(),
            synced_next: Default::default(),
            proc_cycle: Default::default(),
            cur_slot0: Default::default(),
            cur_wait: Default::default(),
            processed: Default::default(),
            underrun: Default::default(),
            rct_now: Default::default(),
            apt_now: Default::default(),
            rng_w1c: Default::default(),
            w1c_rng_w: Default::default(),
            alarm_events: Default::default(),
            live: Default::default(),
            live_end: Default::default(),
            bad: Default::default(),
            dropped_r: Default::default(),
            qrng_words: Default::default(),
            q_proc_cycle: Default::default(),
            q_c0: Default::default(),
            q_start: Default::default(),
            q_clear_counters: Default::default(),
            q_status_now: Default::default(),
            q_sync_ok: Default::default(),
            q_underrun: Default::default(),
            w1c_rng: Default::default(),
            s_void: Default::default(),
            c_void: Default::default(),
            n_proc_r: Default::default(),
            n_gates_r: Default::default(),
            n_acc_r: Default::default(),
            bad_r: Default::default(),
            n_acc_v: Default::default(),
            n_inv_v: Default::default(),
            n_ag_r: Default::default(),
            n_dead_r: Default::default(),
            n_raw_r: v(nd),
            iv_add: (0..6).map(|_| Default::default()).collect(),
            ivn_slots: Default::default(),
            ivn_gates: Default::default(),
            ivn_acc: Default::default(),
            ivn_ag: Default::default(),
            ivn_dead: Default::default(),
            ivn_inv: Default::default(),
            ivn_clicks: v(nd),
            snapc_tot: v(nd),
            cn_gates: Default::default(),
            cn_acc: Default::default(),
            cn_ag: Default::default(),
            cn_dead: Default::default(),
            cn_inv: Default::default(),
            cn_clicks: v(nd),
            cv_gates: Default::default(),
            cv_acc: Default::default(),
            cv_ag: Default::default(),
            cv_dead: Default::default(),
            cv_inv: Default::default(),
            cv_clicks: v(nd),
            q_rng_sticky: Default::default(),
            q_slot0: Default::default(),
            q_basis: Default::default(),
            q_bins: Default::default(),
            q_adc: v(nd),
            q_adc_valid: v(nd),
            t_mask: Default::default(),
            t_mask_r: Default::default(),
            st_on: Default::default(),
            bnd_c0: Default::default(),
            bnd_run: Default::default(),
            i_first: Default::default(),
            i_end: Default::default(),
            status_now: Default::default(),
            iv_slots: Default::default(),
            iv_gates: Default::default(),
            iv_clicks: v(nd),
            iv_acc: Default::default(),
            iv_ag: Default::default(),
            iv_dead: Default::default(),
            iv_inv: Default::default(),
            iv_pmax: v(nd),
            iv_seen: Default::default(),
            pmax_now: v(nd),
            snap_new: Default::default(),
            snap_slots: Default::default(),
            snap_gates: Default::default(),
            snap_clicks: v(nd),
            snap_acc: Default::default(),
            snap_ag: Default::default(),
            snap_dead: Default::default(),
            snap_inv: Default::default(),
            snap_pmax: v(nd),
            snap_seen: Default::default(),
            cnt_gates: Default::default(),
            cnt_acc: Default::default(),
            cnt_ag: Default::default(),
            cnt_dead: Default::default(),
            cnt_inv: Default::default(),
            cnt_clicks: v(nd),
            r_valid: Default::default(),
            r_rec: Default::default(),
            r_bins: Default::default(),
            r_basis: Default::default(),
            r_bad: Default::default(),
            r_epoch0: Default::default(),
            r_slot0: Default::default(),
            bundle: Default::default(),
            bundle_status: Default::default(),
            sval: Default::default(),
            r_any: Default::default(),
            r_flo: Default::default(),
            r_llo: Default::default(),
            r_hi_inc: Default::default(),
            b_hi_first: Default::default(),
            b_hi_last: Default::default(),
            r_slot_l: Default::default(),
            qs_hi_inc: Default::default(),
            qs_lo4: Default::default(),
            qs_hi4: Default::default(),
            qs_l4: Default::default(),
            n_all: Default::default(),
            r_nall: Default::default(),
            lr_all: Default::default(),
            lr_one: Default::default(),
            new_gap: Default::default(),
            r_busy: Default::default(),
            rbins: Default::default(),
            nraw8: Default::default(),
            nraw48: Default::default(),
            nraw32: Default::default(),
            last12: Default::default(),
            snap48: Default::default(),
            snap12: Default::default(),
            push: Default::default(),
            sbuf: v(layout.len()),
            sbuf_full: Default::default(),
            cur: Default::default(),
            rem: Default::default(),
            phase: Default::default(),
            sword: Default::default(),
            epoch: Default::default(),
            lost_pending: Default::default(),
            lost_records: Default::default(),
            lost_slot: Default::default(),
            lost_last: Default::default(),
            gapq_valid: Default::default(),
            gapq_records: Default::default(),
            gapq_first: Default::default(),
            gapq_last: Default::default(),
            blocked: Default::default(),
            full_or_blocked: Default::default(),
            attach: Default::default(),
            push_now: Default::default(),
            drop_now: Default::default(),
            lo_found: Default::default(),
            lo_lane: Default::default(),
            hi_lane: Default::default(),
            b_first: Default::default(),
            b_last: Default::default(),
            onehot: Default::default(),
            pick: Default::default(),
            pick_lane: Default::default(),
            det_slot: Default::default(),
            below: Default::default(),
            oh: Default::default(),
            rest_rem: Default::default(),
            rec_in: Default::default(),
            k_rec_mask: kc((0..lanes)
                .flat_map(|l| (0..nd).map(move |d| 1u64 << (4 * l + d)))
                .sum()),
            next_low: Default::default(),
            load_low: Default::default(),
            load_below: Default::default(),
            slot_hi: Default::default(),
            slot_hi_inc: Default::default(),
            slot_lo: Default::default(),
            st_lo: Default::default(),
            sel_bins: Default::default(),
            sel_basis: Default::default(),
            ep_ne0: Default::default(),
            ep_ne1: Default::default(),
            hi_inc: Default::default(),
            hi_cross: Default::default(),
            lo_carry: Default::default(),
            lo_carry_n: Default::default(),
            oh_carry: Default::default(),
            load_lo: Default::default(),
            det_carry: Default::default(),
            ne0: Default::default(),
            ne1: Default::default(),
            epoch_m1: Default::default(),
            load_hi: Default::default(),
            load_cross: Default::default(),
            det_new_epoch: Default::default(),
            st_new_epoch: Default::default(),
            status_slot: Default::default(),
            word: Default::default(),
            o_valid: Default::default(),
            o_first: Default::default(),
            o_last: Default::default(),
            o_len: Default::default(),
            o_slot: Default::default(),
            o_data: Default::default(),
            o_lost: Default::default(),
            o_lost_records: Default::default(),
            o_lost_slots: Default::default(),
        })
    }

    /// `BOB_CMD` strobe bits active in this cycle (testbench alignment of
    /// the golden model's command cycle).
    pub fn cmd_strobe(&self) -> u32 {
        self.csr_bob_cmd.q.val().to_u64() as u32
    }

    /// STATUS payload words per record (`8 + 2 * DETECTORS`).
    pub fn status_words(&self) -> usize {
        self.sbuf.len()
    }

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
        for a in &mut self.apd {
            a.connect();
        }
        for a in &mut self.adc {
            a.connect();
        }
        for a in &mut self.adc_valid {
            a.connect();
        }
        self.sync_in.connect();
        self.qrng_data.connect();
        self.qrng_valid.connect();
        self.connect_all();
    }
}

/// Serializer phase.
#[derive(Copy, Clone, Debug, PartialEq, LogicState)]
enum SerPhase {
    /// Waiting for a bundle (or reporting lost records).
    Idle,
    /// EPOCH(0) of the sync cycle.
    Epoch0,
    /// DETECTION records.
    Det,
    /// STATUS header.
    Status,
    /// STATUS payload words.
    Payload,
}

bob_cells!(
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
    csr_bob_ctrl_id,
    csr_bob_ctrl,
    csr_bob_cmd,
    csr_bob_state,
    csr_bob_alarms,
    csr_bob_fiber_delay_slots,
    csr_gate_id,
    csr_gate_window,
    csr_gate_dead_time_slots,
    csr_gate_basis_thresh_z,
    csr_protect_id,
    csr_aftergate_limit,
    csr_aftergate_window_slots,
    csr_photocurrent_threshold,
    csr_click_fraction_window_gates,
    csr_click_fraction_limit,
    csr_no_dark_gates,
    csr_counters_id,
    csr_gates_lo,
    csr_gates_hi,
    csr_accepted,
    csr_after_gate,
    csr_dead_time_suppressed,
    csr_invalid,
);

impl Logic for BobCore {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, axil);
        self.csr_magic.clock.next = self.clock.val();
        self.csr_magic.bus.next = self.axil.bus.val();
        self.csr_magic.hw_value.next = 0.into();
        self.csr_magic.hw_set.next = 0.into();
        self.csr_abi_version.clock.next = self.clock.val();
        self.csr_abi_version.bus.next = self.axil.bus.val();
        self.csr_abi_version.hw_value.next = 0.into();
        self.csr_abi_version.hw_set.next = 0.into();
        self.csr_ident.clock.next = self.clock.val();
        self.csr_ident.bus.next = self.axil.bus.val();
        self.csr_ident.hw_value.next = 0.into();
        self.csr_ident.hw_set.next = 0.into();
        self.csr_build_id.clock.next = self.clock.val();
        self.csr_build_id.bus.next = self.axil.bus.val();
        self.csr_build_id.hw_value.next = 0.into();
        self.csr_build_id.hw_set.next = 0.into();
        self.csr_fabric_clock_khz.clock.next = self.clock.val();
        self.csr_fabric_clock_khz.bus.next = self.axil.bus.val();
        self.csr_fabric_clock_khz.hw_value.next = 0.into();
        self.csr_fabric_clock_khz.hw_set.next = 0.into();
        self.csr_scratch.clock.next = self.clock.val();
        self.csr_scratch.bus.next = self.axil.bus.val();
        self.csr_scratch.hw_value.next = 0.into();
        self.csr_scratch.hw_set.next = 0.into();
        self.csr_rng_id.clock.next = self.clock.val();
        self.csr_rng_id.bus.next = self.axil.bus.val();
        self.csr_rng_id.hw_value.next = 0.into();
        self.csr_rng_id.hw_set.next = 0.into();
        self.csr_rng_ctrl.clock.next = self.clock.val();
        self.csr_rng_ctrl.bus.next = self.axil.bus.val();
        self.csr_rng_ctrl.hw_value.next = 0.into();
        self.csr_rng_ctrl.hw_set.next = 0.into();
        self.csr_rng_seed_lo.clock.next = self.clock.val();
        self.csr_rng_seed_lo.bus.next = self.axil.bus.val();
        self.csr_rng_seed_lo.hw_value.next = 0.into();
        self.csr_rng_seed_lo.hw_set.next = 0.into();
        self.csr_rng_seed_hi.clock.next = self.clock.val();
        self.csr_rng_seed_hi.bus.next = self.axil.bus.val();
        self.csr_rng_seed_hi.hw_value.next = 0.into();
        self.csr_rng_seed_hi.hw_set.next = 0.into();
        self.csr_rng_rct_cutoff.clock.next = self.clock.val();
        self.csr_rng_rct_cutoff.bus.next = self.axil.bus.val();
        self.csr_rng_rct_cutoff.hw_value.next = 0.into();
        self.csr_rng_rct_cutoff.hw_set.next = 0.into();
        self.csr_rng_apt_window.clock.next = self.clock.val();
        self.csr_rng_apt_window.bus.next = self.axil.bus.val();
        self.csr_rng_apt_window.hw_value.next = 0.into();
        self.csr_rng_apt_window.hw_set.next = 0.into();
        self.csr_rng_apt_cutoff.clock.next = self.clock.val();
        self.csr_rng_apt_cutoff.bus.next = self.axil.bus.val();
        self.csr_rng_apt_cutoff.hw_value.next = 0.into();
        self.csr_rng_apt_cutoff.hw_set.next = 0.into();
        self.csr_rng_qrng_words.clock.next = self.clock.val();
        self.csr_rng_qrng_words.bus.next = self.axil.bus.val();
        self.csr_rng_qrng_words.hw_value.next = 0.into();
        self.csr_rng_qrng_words.hw_set.next = 0.into();
        self.csr_stream_id.clock.next = self.clock.val();
        self.csr_stream_id.bus.next = self.axil.bus.val();
        self.csr_stream_id.hw_value.next = 0.into();
        self.csr_stream_id.hw_set.next = 0.into();
        self.csr_stream_ctrl.clock.next = self.clock.val();
        self.csr_stream_ctrl.bus.next = self.axil.bus.val();
        self.csr_stream_ctrl.hw_value.next = 0.into();
        self.csr_stream_ctrl.hw_set.next = 0.into();
        self.csr_stream_records_lo.clock.next = self.clock.val();
        self.csr_stream_records_lo.bus.next = self.axil.bus.val();
        self.csr_stream_records_lo.hw_value.next = 0.into();
        self.csr_stream_records_lo.hw_set.next = 0.into();
        self.csr_stream_records_hi.clock.next = self.clock.val();
        self.csr_stream_records_hi.bus.next = self.axil.bus.val();
        self.csr_stream_records_hi.hw_value.next = 0.into();
        self.csr_stream_records_hi.hw_set.next = 0.into();
        self.csr_stream_lost_slots_lo.clock.next = self.clock.val();
        self.csr_stream_lost_slots_lo.bus.next = self.axil.bus.val();
        self.csr_stream_lost_slots_lo.hw_value.next = 0.into();
        self.csr_stream_lost_slots_lo.hw_set.next = 0.into();
        self.csr_stream_lost_slots_hi.clock.next = self.clock.val();
        self.csr_stream_lost_slots_hi.bus.next = self.axil.bus.val();
        self.csr_stream_lost_slots_hi.hw_value.next = 0.into();
        self.csr_stream_lost_slots_hi.hw_set.next = 0.into();
        self.csr_stream_gaps.clock.next = self.clock.val();
        self.csr_stream_gaps.bus.next = self.axil.bus.val();
        self.csr_stream_gaps.hw_value.next = 0.into();
        self.csr_stream_gaps.hw_set.next = 0.into();
        self.csr_stream_fifo_high_water.clock.next = self.clock.val();
        self.csr_stream_fifo_high_water.bus.next = self.axil.bus.val();
        self.csr_stream_fifo_high_water.hw_value.next = 0.into();
        self.csr_stream_fifo_high_water.hw_set.next = 0.into();
        self.csr_bob_ctrl_id.clock.next = self.clock.val();
        self.csr_bob_ctrl_id.bus.next = self.axil.bus.val();
        self.csr_bob_ctrl_id.hw_value.next = 0.into();
        self.csr_bob_ctrl_id.hw_set.next = 0.into();
        self.csr_bob_ctrl.clock.next = self.clock.val();
        self.csr_bob_ctrl.bus.next = self.axil.bus.val();
        self.csr_bob_ctrl.hw_value.next = 0.into();
        self.csr_bob_ctrl.hw_set.next = 0.into();
        self.csr_bob_cmd.clock.next = self.clock.val();
        self.csr_bob_cmd.bus.next = self.axil.bus.val();
        self.csr_bob_cmd.hw_value.next = 0.into();
        self.csr_bob_cmd.hw_set.next = 0.into();
        self.csr_bob_state.clock.next = self.clock.val();
        self.csr_bob_state.bus.next = self.axil.bus.val();
        self.csr_bob_state.hw_value.next = 0.into();
        self.csr_bob_state.hw_set.next = 0.into();
        self.csr_bob_alarms.clock.next = self.clock.val();
        self.csr_bob_alarms.bus.next = self.axil.bus.val();
        self.csr_bob_alarms.hw_value.next = 0.into();
        self.csr_bob_alarms.hw_set.next = 0.into();
        self.csr_bob_fiber_delay_slots.clock.next = self.clock.val();
        self.csr_bob_fiber_delay_slots.bus.next = self.axil.bus.val();
        self.csr_bob_fiber_delay_slots.hw_value.next = 0.into();
        self.csr_bob_fiber_delay_slots.hw_set.next = 0.into();
        self.csr_gate_id.clock.next = self.clock.val();
        self.csr_gate_id.bus.next = self.axil.bus.val();
        self.csr_gate_id.hw_value.next = 0.into();
        self.csr_gate_id.hw_set.next = 0.into();
        self.csr_gate_window.clock.next = self.clock.val();
        self.csr_gate_window.bus.next = self.axil.bus.val();
        self.csr_gate_window.hw_value.next = 0.into();
        self.csr_gate_window.hw_set.next = 0.into();
        self.csr_gate_dead_time_slots.clock.next = self.clock.val();
        self.csr_gate_dead_time_slots.bus.next = self.axil.bus.val();
        self.csr_gate_dead_time_slots.hw_value.next = 0.into();
        self.csr_gate_dead_time_slots.hw_set.next = 0.into();
        self.csr_gate_basis_thresh_z.clock.next = self.clock.val();
        self.csr_gate_basis_thresh_z.bus.next = self.axil.bus.val();
        self.csr_gate_basis_thresh_z.hw_value.next = 0.into();
        self.csr_gate_basis_thresh_z.hw_set.next = 0.into();
        self.csr_protect_id.clock.next = self.clock.val();
        self.csr_protect_id.bus.next = self.axil.bus.val();
        self.csr_protect_id.hw_value.next = 0.into();
        self.csr_protect_id.hw_set.next = 0.into();
        self.csr_aftergate_limit.clock.next = self.clock.val();
        self.csr_aftergate_limit.bus.next = self.axil.bus.val();
        self.csr_aftergate_limit.hw_value.next = 0.into();
        self.csr_aftergate_limit.hw_set.next = 0.into();
        self.csr_aftergate_window_slots.clock.next = self.clock.val();
        self.csr_aftergate_window_slots.bus.next = self.axil.bus.val();
        self.csr_aftergate_window_slots.hw_value.next = 0.into();
        self.csr_aftergate_window_slots.hw_set.next = 0.into();
        self.csr_photocurrent_threshold.clock.next = self.clock.val();
        self.csr_photocurrent_threshold.bus.next = self.axil.bus.val();
        self.csr_photocurrent_threshold.hw_value.next = 0.into();
        self.csr_photocurrent_threshold.hw_set.next = 0.into();
        self.csr_click_fraction_window_gates.clock.next = self.clock.val();
        self.csr_click_fraction_window_gates.bus.next = self.axil.bus.val();
        self.csr_click_fraction_window_gates.hw_value.next = 0.into();
        self.csr_click_fraction_window_gates.hw_set.next = 0.into();
        self.csr_click_fraction_limit.clock.next = self.clock.val();
        self.csr_click_fraction_limit.bus.next = self.axil.bus.val();
        self.csr_click_fraction_limit.hw_value.next = 0.into();
        self.csr_click_fraction_limit.hw_set.next = 0.into();
        self.csr_no_dark_gates.clock.next = self.clock.val();
        self.csr_no_dark_gates.bus.next = self.axil.bus.val();
        self.csr_no_dark_gates.hw_value.next = 0.into();
        self.csr_no_dark_gates.hw_set.next = 0.into();
        self.csr_counters_id.clock.next = self.clock.val();
        self.csr_counters_id.bus.next = self.axil.bus.val();
        self.csr_counters_id.hw_value.next = 0.into();
        self.csr_counters_id.hw_set.next = 0.into();
        self.csr_gates_lo.clock.next = self.clock.val();
        self.csr_gates_lo.bus.next = self.axil.bus.val();
        self.csr_gates_lo.hw_value.next = 0.into();
        self.csr_gates_lo.hw_set.next = 0.into();
        self.csr_gates_hi.clock.next = self.clock.val();
        self.csr_gates_hi.bus.next = self.axil.bus.val();
        self.csr_gates_hi.hw_value.next = 0.into();
        self.csr_gates_hi.hw_set.next = 0.into();
        self.csr_accepted.clock.next = self.clock.val();
        self.csr_accepted.bus.next = self.axil.bus.val();
        self.csr_accepted.hw_value.next = 0.into();
        self.csr_accepted.hw_set.next = 0.into();
        self.csr_after_gate.clock.next = self.clock.val();
        self.csr_after_gate.bus.next = self.axil.bus.val();
        self.csr_after_gate.hw_value.next = 0.into();
        self.csr_after_gate.hw_set.next = 0.into();
        self.csr_dead_time_suppressed.clock.next = self.clock.val();
        self.csr_dead_time_suppressed.bus.next = self.axil.bus.val();
        self.csr_dead_time_suppressed.hw_value.next = 0.into();
        self.csr_dead_time_suppressed.hw_set.next = 0.into();
        self.csr_invalid.clock.next = self.clock.val();
        self.csr_invalid.bus.next = self.axil.bus.val();
        self.csr_invalid.hw_value.next = 0.into();
        self.csr_invalid.hw_set.next = 0.into();
        self.cell_rdata.next = self.csr_magic.rdata.val()
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
            | self.csr_bob_ctrl_id.rdata.val()
            | self.csr_bob_ctrl.rdata.val()
            | self.csr_bob_cmd.rdata.val()
            | self.csr_bob_state.rdata.val()
            | self.csr_bob_alarms.rdata.val()
            | self.csr_bob_fiber_delay_slots.rdata.val()
            | self.csr_gate_id.rdata.val()
            | self.csr_gate_window.rdata.val()
            | self.csr_gate_dead_time_slots.rdata.val()
            | self.csr_gate_basis_thresh_z.rdata.val()
            | self.csr_protect_id.rdata.val()
            | self.csr_aftergate_limit.rdata.val()
            | self.csr_aftergate_window_slots.rdata.val()
            | self.csr_photocurrent_threshold.rdata.val()
            | self.csr_click_fraction_window_gates.rdata.val()
            | self.csr_click_fraction_limit.rdata.val()
            | self.csr_no_dark_gates.rdata.val()
            | self.csr_counters_id.rdata.val()
            | self.csr_gates_lo.rdata.val()
            | self.csr_gates_hi.rdata.val()
            | self.csr_accepted.rdata.val()
            | self.csr_after_gate.rdata.val()
            | self.csr_dead_time_suppressed.rdata.val()
            | self.csr_invalid.rdata.val();
        self.cell_hit.next = self.csr_magic.hit.val()
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
            | self.csr_bob_ctrl_id.hit.val()
            | self.csr_bob_ctrl.hit.val()
            | self.csr_bob_cmd.hit.val()
            | self.csr_bob_state.hit.val()
            | self.csr_bob_alarms.hit.val()
            | self.csr_bob_fiber_delay_slots.hit.val()
            | self.csr_gate_id.hit.val()
            | self.csr_gate_window.hit.val()
            | self.csr_gate_dead_time_slots.hit.val()
            | self.csr_gate_basis_thresh_z.hit.val()
            | self.csr_protect_id.hit.val()
            | self.csr_aftergate_limit.hit.val()
            | self.csr_aftergate_window_slots.hit.val()
            | self.csr_photocurrent_threshold.hit.val()
            | self.csr_click_fraction_window_gates.hit.val()
            | self.csr_click_fraction_limit.hit.val()
            | self.csr_no_dark_gates.hit.val()
            | self.csr_counters_id.hit.val()
            | self.csr_gates_lo.hit.val()
            | self.csr_gates_hi.hit.val()
            | self.csr_accepted.hit.val()
            | self.csr_after_gate.hit.val()
            | self.csr_dead_time_suppressed.hit.val()
            | self.csr_invalid.hit.val();
        clock!(
            self, clock, hi_gates, hi_records, hi_lost, classify, after_gate, blinding, stream,
            bundles
        );
        dff_setup!(
            self,
            clock,
            running_in,
            start_p,
            stop_p,
            sync_p,
            qrng_p,
            qrng_valid_p,
            running,
            synced,
            use_qrng,
            slot0,
            lead_slots,
            slot0_end,
            c0_r,
            proc_r,
            processed_r,
            neg_fd,
            neg_fd_end,
            fd_le,
            wait_le,
            fdw_le,
            lead_gt,
            q_proc_cycle,
            q_c0,
            q_start,
            q_clear_counters,
            q_status_now,
            t_mask_r,
            st_on,
            bnd_c0,
            q_sync_ok,
            q_underrun,
            q_rng_sticky,
            q_slot0,
            q_basis,
            q_bins,
            dropped_r,
            qrng_words,
            iv_slots,
            iv_gates,
            iv_acc,
            iv_ag,
            iv_dead,
            iv_inv,
            iv_seen,
            snap_new,
            snap_slots,
            snap_gates,
            snap_acc,
            snap_ag,
            snap_dead,
            snap_inv,
            snap_seen,
            s_void,
            c_void,
            n_proc_r,
            n_gates_r,
            n_acc_r,
            bad_r,
            n_ag_r,
            n_dead_r,
            cv_gates,
            cv_acc,
            cv_ag,
            cv_dead,
            cv_inv,
            cnt_gates,
            cnt_acc,
            cnt_ag,
            cnt_dead,
            cnt_inv,
            r_valid,
            r_rec,
            r_bins,
            r_basis,
            r_bad,
            r_epoch0,
            r_slot0,
            r_nall,
            r_any,
            r_flo,
            r_llo,
            r_hi_inc,
            r_slot_l,
            sbuf_full,
            cur,
            rem,
            oh,
            phase,
            sword,
            epoch,
            hi_inc,
            hi_cross,
            lo_carry,
            oh_carry,
            ne0,
            ne1,
            epoch_m1,
            lost_pending,
            lost_records,
            lost_slot,
            lost_last,
            gapq_valid,
            gapq_records,
            gapq_first,
            gapq_last,
            o_valid,
            o_first,
            o_last,
            o_len,
            o_slot,
            o_data,
            o_lost,
            o_lost_records,
            o_lost_slots
        );
        // ---- CSR bank: per-detector cells ----
        for d in 0..self.tdc.len() {
            self.csr_photocurrent_last[d].clock.next = self.clock.val();
            self.csr_photocurrent_last[d].bus.next = self.axil.bus.val();
            self.csr_clicks[d].clock.next = self.clock.val();
            self.csr_clicks[d].bus.next = self.axil.bus.val();
            self.csr_clicks[d].hw_set.next = 0.into();
            self.csr_photocurrent_last[d].hw_set.next = 0.into();
            self.cell_rdata.next = self.cell_rdata.val()
                | self.csr_photocurrent_last[d].rdata.val()
                | self.csr_clicks[d].rdata.val();
            self.cell_hit.next = self.cell_hit.val()
                | self.csr_photocurrent_last[d].hit.val()
                | self.csr_clicks[d].hit.val();
        }
        self.axil.cell_rdata.next = self.cell_rdata.val();
        self.axil.cell_hit.next = self.cell_hit.val();
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
        // ---- Input stage: commands, TDC, registered side inputs ----
        self.start_raw.next = self.csr_bob_cmd.q.val().get_bit(0);
        self.stop_raw.next = self.csr_bob_cmd.q.val().get_bit(1);
        self.clear_counters.next = self.csr_bob_cmd.q.val().get_bit(2) | self.start_p.q.val();
        if self.start_raw.val() {
            self.running_in.d.next = true;
        } else if self.stop_raw.val() {
            self.running_in.d.next = false;
        }
        self.qrng_ready.next = self.running_in.q.val();
        self.start_p.d.next = self.start_raw.val();
        self.stop_p.d.next = self.stop_raw.val();
        self.sync_p.d.next = self.sync_in.val();
        self.qrng_p.d.next = self.qrng_data.val();
        self.qrng_valid_p.d.next = self.qrng_valid.val();
        for d in 0..self.tdc.len() {
            self.tdc[d].clock.next = self.clock.val();
            self.tdc[d].samples.next = self.apd[d].val();
            // free running: the history is not reset by START (model/AMBIGUITIES.md 15)
            self.tdc[d].clear.next = false;
            self.adc_p[d].clock.next = self.clock.val();
            self.adc_valid_p[d].clock.next = self.clock.val();
            self.adc_p[d].d.next = self.adc[d].val();
            self.adc_valid_p[d].d.next = self.adc_valid[d].val();
        }
        // ---- Stage P: run control and slot alignment (spec 5.2) ----
        // START and STOP take effect at the end of their cycle (AMBIGUITIES 18)
        // c0 and proc_cycle precomputed one cycle ahead from the next
        // running/synced values and sync_in (registered; same as
        // running & !synced & sync_p and running & (synced | c0))
        self.c0.next = self.c0_r.q.val();
        self.proc_cycle.next = self.proc_r.q.val();
        self.running_next.next =
            self.start_p.q.val() | (self.running.q.val() & !self.stop_p.q.val());
        self.synced_next.next = !self.start_p.q.val() & (self.synced.q.val() | self.c0.val());
        self.c0_r.d.next = self.running_next.val() & !self.synced_next.val() & self.sync_in.val();
        self.proc_r.d.next = self.running_next.val()
            & (self.synced_next.val() | (!self.synced_next.val() & self.sync_in.val()));
        if self.stop_p.q.val() {
            self.running.d.next = false;
        }
        if self.start_p.q.val() {
            self.use_qrng.d.next = !self.csr_rng_ctrl.q.val().get_bit(0);
        }
        // Values at sync precomputed from BOB_FIBER_DELAY_SLOTS (registered:
        // the register is written before START) and the lane compares
        // `cur_wait <= l` kept in registers (`wait_le` from the next
        // `lead_slots`, `fd_le` from the fiber delay), so `processed` starts
        // at flip-flops.
        self.fd_wide.next = bit_cast::<33, 32>(self.csr_bob_fiber_delay_slots.q.val());
        self.neg_fd.d.next = (!bit_cast::<64, 32>(self.csr_bob_fiber_delay_slots.q.val())) + 1;
        self.neg_fd_end.d.next =
            self.k_lanes64.val() - bit_cast::<64, 32>(self.csr_bob_fiber_delay_slots.q.val());
        self.fd_le_n.next = 0.into();
        for l in 0..8 {
            self.fd_le_n.next = self
                .fd_le_n
                .val()
                .replace_bit(l, self.fd_wide.val() <= self.k_lane33[l].val());
        }
        self.fd_le.d.next = self.fd_le_n.val();
        if self.c0.val() {
            self.cur_slot0.next = self.neg_fd.q.val();
            self.cur_end.next = self.neg_fd_end.q.val();
            self.cur_wait.next = self.fd_wide.val();
        } else {
            self.cur_slot0.next = self.slot0.q.val();
            self.cur_end.next = self.slot0_end.q.val();
            self.cur_wait.next = self.lead_slots.q.val();
        }
        // processed[l] = proc_cycle & (c0 ? fd_le : wait_le)[l], from a register (below)
        self.processed.next = self.processed_r.q.val();
        if self.c0.val() {
            self.synced.d.next = true;
        }
        if self.start_p.q.val() {
            self.running.d.next = true;
            self.synced.d.next = false;
        }
        self.slot0.d.next = self.cur_end.val();
        self.slot0_end.d.next = self.cur_end.val() + self.k_lanes64.val();
        // next lead_slots <= l  <=>  cur_wait <= l + L, without cur_wait's
        // multiplexer and a compare in front of `processed_n`: the fiber
        // delay's compare is registered (static after START), and
        // `lead_slots <= l + L` is registered with lead_slots itself
        // (lead_slots' = max(0, cur_wait - L) <= l + L <=> cur_wait <= l + 2L)
        self.fdw_le_n.next = 0.into();
        self.lead_gt_n.next = 0.into();
        for l in 0..8 {
            self.fdw_le_n.next = self
                .fdw_le_n
                .val()
                .replace_bit(l, self.fd_wide.val() <= self.k_lane_pl33[l].val());
            self.lead_gt_n.next = self
                .lead_gt_n
                .val()
                .replace_bit(l, self.cur_wait.val() > self.k_lane_p2l33[l].val());
        }
        self.fdw_le.d.next = self.fdw_le_n.val();
        self.lead_gt.d.next = self.lead_gt_n.val();
        self.wait_le_n.next = !self.lead_gt.q.val();
        if self.c0.val() {
            self.wait_le_n.next = self.fdw_le.q.val();
        }
        self.wait_le.d.next = self.wait_le_n.val();
        // next cycle's processed = proc_r.d & (c0_r.d ? fd_le : wait_le.d)
        // (fd_le, of the fiber delay written before START, is static by
        // then: its register, not its compare, is used)
        self.processed_n.next = 0.into();
        for l in 0..self.prng.len() {
            self.processed_n.next = self.processed_n.val().replace_bit(
                l,
                self.proc_r.d.val()
                    & ((self.c0_r.d.val() & self.fd_le.q.val().get_bit(l))
                        | (!self.c0_r.d.val() & self.wait_le_n.val().get_bit(l))),
            );
        }
        self.processed_r.d.next = self.processed_n.val();
        if self.cur_wait.val() >= self.k_lanes33.val() {
            self.lead_slots.d.next = self.cur_wait.val() - self.k_lanes33.val();
        } else {
            self.lead_slots.d.next = 0.into();
        }
        // ---- Stage P: random words, basis, health tests (spec 1-3, 5.4) ----
        // a W1C write with RNG_RCT or RNG_APT set resets the tests (AMBIGUITIES 1)
        self.w1c_rng_w.next = 0.into();
        if self.csr_bob_alarms.written.val() {
            self.w1c_rng_w.next = self.csr_bob_alarms.wdata.val().get_bits::<2>(4);
        }
        self.rng_w1c.next = self.w1c_rng_w.val().any();
        for l in 0..self.prng.len() {
            self.prng[l].clock.next = self.clock.val();
            self.prng[l].seed.next = bit_cast::<64, 32>(self.csr_rng_seed_lo.q.val())
                | (bit_cast::<64, 32>(self.csr_rng_seed_hi.q.val()) << 32);
            self.prng[l].load.next = self.start_raw.val();
            self.prng[l].step.next = true;
            self.health[l].clock.next = self.clock.val();
            self.health[l].sample.next = self.qrng_p.q.val().get_bits::<64>(64 * l);
            self.health[l].valid.next =
                self.running.q.val() & self.use_qrng.q.val() & self.qrng_valid_p.q.val();
            self.health[l].clear.next = self.start_p.q.val() | self.rng_w1c.val();
            self.health[l].rct_cutoff.next = self.csr_rng_rct_cutoff.q.val().get_bits::<16>(0);
            self.health[l].apt_window.next = self.csr_rng_apt_window.q.val().get_bits::<16>(0);
            self.health[l].apt_cutoff.next = self.csr_rng_apt_cutoff.q.val().get_bits::<16>(0);
            if self.use_qrng.q.val() {
                self.basis_sel.words[l].next = self.qrng_p.q.val().get_bits::<64>(64 * l);
            } else {
                self.basis_sel.words[l].next = self.prng[l].out.val();
            }
        }
        self.rct_now.next = false;
        self.apt_now.next = false;
        for l in 0..self.prng.len() {
            self.rct_now.next = self.rct_now.val() | self.health[l].rct_fail.val();
            self.apt_now.next = self.apt_now.val() | self.health[l].apt_fail.val();
        }
        self.basis_sel.thresh_z.next = self.csr_gate_basis_thresh_z.q.val().get_bits::<16>(0);
        self.basis_out.next = 0.into();
        if self.running.q.val() {
            self.basis_out.next = self.basis_sel.basis.val();
        }
        self.underrun.next = self.use_qrng.q.val() & !self.qrng_valid_p.q.val();
        if self.running.q.val() & self.use_qrng.q.val() & self.qrng_valid_p.q.val() {
            self.qrng_words.d.next = self.qrng_words.q.val() + 1;
        }
        // ---- Stage P: the classifier's stage P, gates ----
        self.classify.restart.next = self.start_p.q.val();
        for d in 0..self.tdc.len() {
            self.classify.click[d].next = self.tdc[d].click.val();
            self.classify.click_next[d].next = self.tdc[d].click_next.val();
            self.classify.fine_bins[d].next = self.tdc[d].fine_bins.val();
        }
        self.classify.processed.next = self.processed.val();
        self.classify.processed_next.next = self.processed_n.val();
        self.classify.enable.next = self.csr_bob_ctrl.q.val().get_bits::<4>(0);
        self.classify.enable_next.next = self.csr_bob_ctrl.q_next.val().get_bits::<4>(0);
        self.classify.start_bin.next = self.csr_gate_window.q.val().get_bits::<8>(0);
        self.classify.end_bin.next = self.csr_gate_window.q.val().get_bits::<8>(8);
        self.classify.dead_slots.next = self.csr_gate_dead_time_slots.q.val().get_bits::<16>(0);
        self.gate_en.next = self.classify.gate_en.val();
        // ---- Stage P: STATUS boundary (spec 5.6) ----
        self.t_mask.next = 0.into();
        for q in 0..63 {
            self.t_mask.next = self.t_mask.val().replace_bit(
                q,
                self.csr_stream_ctrl.q.val().get_bits::<6>(0) > self.k_q6[q].val(),
            );
        }
        // The interval mask and the on/off decision are registered from
        // STREAM_CTRL (a new interval applies one cycle after the write);
        // the boundary test of the sync cycle (static values from the
        // fiber delay) is registered too, so only the running cycles'
        // compare of two slot registers is left in stage P.
        // (`fd_le`/`wait_le` bit 0: the wait is 0)
        self.t_mask_r.d.next = self.t_mask.val();
        self.st_on.d.next = self.csr_stream_ctrl.q.val().get_bits::<6>(0) >= 6;
        if !self.fd_le.q.val().get_bit(0) {
            self.i_first.next = 0.into();
        } else {
            self.i_first.next = self.neg_fd.q.val();
        }
        self.bnd_c0.d.next =
            ((self.neg_fd_end.q.val() ^ self.i_first.val()) & !self.t_mask_r.q.val()).any();
        if !self.wait_le.q.val().get_bit(0) {
            self.i_end.next = self.slot0_end.q.val();
        } else {
            self.i_end.next = self.slot0_end.q.val() ^ self.slot0.q.val();
        }
        self.bnd_run.next = (self.i_end.val() & !self.t_mask_r.q.val()).any();
        if self.c0.val() {
            self.bnd_run.next = self.bnd_c0.q.val();
        }
        self.status_now.next = self.proc_cycle.val()
            & self.processed.val().any()
            & self.st_on.q.val()
            & self.bnd_run.val();
        // ---- Stage P -> Q registers ----
        // (stage Q = P + 1: counting, alarms, invalid decision, STATUS
        // interval; every state it keeps sees the same cycles as in stage P)
        self.q_proc_cycle.d.next = self.proc_cycle.val();
        self.q_c0.d.next = self.c0.val();
        self.q_start.d.next = self.start_p.q.val();
        self.q_clear_counters.d.next = self.clear_counters.val();
        self.q_status_now.d.next = self.status_now.val();
        // click-statistics alarms are 0 while not synced (AMBIGUITIES 20)
        self.q_sync_ok.d.next = self.synced.q.val() | self.c0.val();
        self.q_underrun.d.next = self.underrun.val();
        // RNG alarms (spec 5.5): the health tests are pipelined, so their
        // fail outputs (`rct_now`/`apt_now`) refer to the previous cycle's
        // sample and arrive in stage Q of the cycle they invalidate. The
        // RNG live bits in stage Q are the sticky bits as they would be
        // after the previous cycle's stage P with undelayed tests: the
        // sticky CSR bits (whose events arrive one cycle late) ORed with the
        // fail output of that cycle (`q_rng_sticky`), then ORed with this
        // stage Q's fail outputs.
        self.q_rng_sticky.d.next = self.csr_bob_alarms.q.val().get_bits::<2>(4)
            | bit_cast::<2, 1>(self.rct_now.val().into())
            | (bit_cast::<2, 1>(self.apt_now.val().into()) << 1);
        self.q_slot0.d.next = self.cur_slot0.val();
        self.q_basis.d.next = self.basis_sel.basis.val();
        self.rbins.next = 0.into();
        for l in 0..self.prng.len() {
            for d in 0..self.tdc.len() {
                for b in 0..4 {
                    self.rbins.next = self.rbins.val().replace_bit(
                        16 * l + 4 * d + b,
                        self.tdc[d].fine_bins.val().get_bit(4 * l + b),
                    );
                }
            }
        }
        self.q_bins.d.next = self.rbins.val();
        for d in 0..self.tdc.len() {
            self.q_adc[d].clock.next = self.clock.val();
            self.q_adc_valid[d].clock.next = self.clock.val();
            self.q_adc[d].d.next = self.adc_p[d].q.val();
            self.q_adc_valid[d].d.next = self.adc_valid_p[d].q.val();
        }
        // ---- Stage Q: live alarms (spec 5.5) ----
        self.live.next = 0.into();
        self.live.next = self
            .live
            .val()
            .replace_bit(0, self.after_gate.live.val() & self.q_sync_ok.q.val());
        self.live.next = self
            .live
            .val()
            .replace_bit(1, self.blinding.photocurrent_live.val());
        self.live.next = self.live.val().replace_bit(
            2,
            self.blinding.click_fraction_live.val() & self.q_sync_ok.q.val(),
        );
        self.live.next = self
            .live
            .val()
            .replace_bit(3, self.blinding.no_dark_live.val() & self.q_sync_ok.q.val());
        self.live.next = self
            .live
            .val()
            .replace_bit(4, self.q_rng_sticky.q.val().get_bit(0) | self.rct_now.val());
        self.live.next = self
            .live
            .val()
            .replace_bit(5, self.q_rng_sticky.q.val().get_bit(1) | self.apt_now.val());
        self.live.next = self.live.val().replace_bit(6, self.dropped_r.q.val());
        self.dropped_r.d.next = self.stream.dropped.val();
        self.bad.next = (self.live.val() & 0x3F).any() | self.q_underrun.q.val();
        // live state at the end of the previous cycle, for the STATUS built now
        self.live_end.next = self.live.val();
        self.live_end.next = self
            .live_end
            .val()
            .replace_bit(4, self.q_rng_sticky.q.val().get_bit(0));
        self.live_end.next = self
            .live_end
            .val()
            .replace_bit(5, self.q_rng_sticky.q.val().get_bit(1));
        // ---- Stage Q: classification counts, protections (spec 5.3-5.5) ----
        for d in 0..self.tdc.len() {
            self.blinding.adc[d].next = self.q_adc[d].q.val();
            self.blinding.adc_valid[d].next = self.q_adc_valid[d].q.val();
        }
        self.classify.bad.next = self.bad.val();
        self.after_gate.clear.next = self.q_start.q.val();
        self.after_gate.enable.next = self.q_proc_cycle.q.val();
        self.after_gate.events.next = self.classify.n_after_gate.val();
        self.after_gate.window_cycles.next =
            self.csr_aftergate_window_slots.q.val() >> self.k_lanes_log2.val();
        if (self.csr_aftergate_window_slots.q.val() >> self.k_lanes_log2.val()) == 0 {
            self.after_gate.window_cycles.next = 1.into();
        }
        self.after_gate.limit.next =
            bit_cast::<32, 16>(self.csr_aftergate_limit.q.val().get_bits::<16>(0));
        self.blinding.clear.next = self.q_start.q.val();
        self.blinding.enable.next = self.q_proc_cycle.q.val();
        self.blinding.threshold.next = self.csr_photocurrent_threshold.q.val().get_bits::<12>(0);
        self.blinding.raw_clicks.next = self.classify.n_raw_all.val();
        self.blinding.processed.next = self.classify.n_processed.val();
        self.blinding.cf_window_cycles.next =
            self.csr_click_fraction_window_gates.q.val() >> self.k_lanes_log2.val();
        if (self.csr_click_fraction_window_gates.q.val() >> self.k_lanes_log2.val()) == 0 {
            self.blinding.cf_window_cycles.next = 1.into();
        }
        self.blinding.cf_limit.next = self.csr_click_fraction_limit.q.val();
        self.blinding.no_dark_gates.next = self.csr_no_dark_gates.q.val();
        // ---- Stage Q: STATUS interval (spec 5.6) and counters ----
        // Carry-save accumulation: this cycle's class counts (popcounts of
        // the class registers) are registered first (`n_*_r`) and added
        // into the sums in the next cycle, so no popcount sits in front of
        // a wide adder. The true interval sum is `iv + n_r` (`n_r` void in
        // the cycle after a STATUS or START: it was counted in the STATUS
        // snapshot or dropped); a STATUS snapshot keeps `iv + n_r` (without
        // this cycle's counts), and the stage R capture adds this cycle's
        // counts, which are then in `n_r`. Counters likewise (`c_void` after
        // CLEAR_COUNTERS); their CSR values are registered (`cv_*`).
        self.s_void.d.next = self.q_status_now.q.val() | self.q_start.q.val();
        self.c_void.d.next = self.q_clear_counters.q.val();
        self.n_proc_r.d.next = self.classify.n_processed.val();
        self.n_gates_r.d.next = self.classify.n_gates.val();
        self.n_ag_r.d.next = self.classify.n_after_gate.val();
        self.n_dead_r.d.next = self.classify.n_dead.val();
        // (records and the invalid decision registered apart: `bad` only
        // reaches one flip-flop, and the split into accepted/invalid is
        // made from the registers)
        self.n_acc_r.d.next = self.classify.n_records.val();
        self.bad_r.d.next = self.bad.val();
        self.n_acc_v.next = self.n_acc_r.q.val();
        self.n_inv_v.next = 0.into();
        if self.bad_r.q.val() {
            self.n_acc_v.next = 0.into();
            self.n_inv_v.next = self.n_acc_r.q.val();
        }
        for d in 0..self.tdc.len() {
            self.iv_clicks[d].clock.next = self.clock.val();
            self.iv_pmax[d].clock.next = self.clock.val();
            self.snap_clicks[d].clock.next = self.clock.val();
            self.snap_pmax[d].clock.next = self.clock.val();
            self.cnt_clicks[d].clock.next = self.clock.val();
            self.n_raw_r[d].clock.next = self.clock.val();
            self.cv_clicks[d].clock.next = self.clock.val();
            self.n_raw_r[d].d.next = self.classify.n_raw[d].val();
            self.nraw8.next = self.n_raw_r[d].q.val();
            self.nraw48.next = bit_cast::<48, 8>(self.nraw8.val());
            self.nraw32.next = bit_cast::<32, 8>(self.nraw8.val());
            self.snapc_tot[d].next = self.snap_clicks[d].q.val() + self.nraw48.val();
            self.ivn_clicks[d].next = self.iv_clicks[d].q.val();
            if !self.s_void.q.val() {
                self.ivn_clicks[d].next = self.iv_clicks[d].q.val() + self.nraw48.val();
            }
            self.cn_clicks[d].next = self.cnt_clicks[d].q.val();
            if !self.c_void.q.val() {
                self.cn_clicks[d].next = self.cnt_clicks[d].q.val() + self.nraw32.val();
            }
            self.last12.next = self.blinding.last[d].val();
            self.pmax_now[d].next = self.iv_pmax[d].q.val();
            if self.q_proc_cycle.q.val()
                & self.q_adc_valid[d].q.val()
                & (self.q_adc[d].q.val() > self.iv_pmax[d].q.val())
            {
                self.pmax_now[d].next = self.q_adc[d].q.val();
            }
            self.snap_clicks[d].d.next = self.snap_clicks[d].q.val();
            self.snap_pmax[d].d.next = self.snap_pmax[d].q.val();
            if self.q_status_now.q.val() {
                self.snap_clicks[d].d.next = self.ivn_clicks[d].val();
                self.snap_pmax[d].d.next = self.pmax_now[d].val();
                self.iv_clicks[d].d.next = 0.into();
                self.iv_pmax[d].d.next = 0.into();
            } else {
                self.iv_clicks[d].d.next = self.ivn_clicks[d].val();
                self.iv_pmax[d].d.next = self.pmax_now[d].val();
            }
            if self.q_start.q.val() {
                self.iv_clicks[d].d.next = 0.into();
                self.iv_pmax[d].d.next = 0.into();
            }
            // counters block
            self.cnt_clicks[d].d.next = self.cn_clicks[d].val();
            if self.q_clear_counters.q.val() {
                self.cnt_clicks[d].d.next = 0.into();
            }
            self.cv_clicks[d].d.next = self.cn_clicks[d].val();
            self.csr_clicks[d].hw_value.next = self.cv_clicks[d].q.val();
            self.csr_photocurrent_last[d].hw_value.next = bit_cast::<32, 12>(self.last12.val());
        }
        self.snap_new.d.next = self.q_status_now.q.val();
        self.ivn_slots.next = self.iv_slots.q.val();
        self.ivn_gates.next = self.iv_gates.q.val();
        self.ivn_acc.next = self.iv_acc.q.val();
        self.ivn_ag.next = self.iv_ag.q.val();
        self.ivn_dead.next = self.iv_dead.q.val();
        self.ivn_inv.next = self.iv_inv.q.val();
        self.iv_add[0].a.next = self.iv_slots.q.val();
        self.iv_add[0].b.next = self.n_proc_r.q.val();
        self.iv_add[1].a.next = self.iv_gates.q.val();
        self.iv_add[1].b.next = self.n_gates_r.q.val();
        self.iv_add[2].a.next = self.iv_acc.q.val();
        self.iv_add[2].b.next = self.n_acc_v.val();
        self.iv_add[3].a.next = self.iv_ag.q.val();
        self.iv_add[3].b.next = self.n_ag_r.q.val();
        self.iv_add[4].a.next = self.iv_dead.q.val();
        self.iv_add[4].b.next = self.n_dead_r.q.val();
        self.iv_add[5].a.next = self.iv_inv.q.val();
        self.iv_add[5].b.next = self.n_inv_v.val();
        if !self.s_void.q.val() {
            self.ivn_slots.next = self.iv_add[0].sum.val();
            self.ivn_gates.next = self.iv_add[1].sum.val();
            self.ivn_acc.next = self.iv_add[2].sum.val();
            self.ivn_ag.next = self.iv_add[3].sum.val();
            self.ivn_dead.next = self.iv_add[4].sum.val();
            self.ivn_inv.next = self.iv_add[5].sum.val();
        }
        if self.q_status_now.q.val() {
            self.snap_slots.d.next = self.ivn_slots.val();
            self.snap_gates.d.next = self.ivn_gates.val();
            self.snap_acc.d.next = self.ivn_acc.val();
            self.snap_ag.d.next = self.ivn_ag.val();
            self.snap_dead.d.next = self.ivn_dead.val();
            self.snap_inv.d.next = self.ivn_inv.val();
            self.snap_seen.d.next = self.iv_seen.q.val() | self.live.val();
            self.iv_slots.d.next = 0.into();
            self.iv_gates.d.next = 0.into();
            self.iv_acc.d.next = 0.into();
            self.iv_ag.d.next = 0.into();
            self.iv_dead.d.next = 0.into();
            self.iv_inv.d.next = 0.into();
            self.iv_seen.d.next = 0.into();
        } else {
            self.iv_slots.d.next = self.ivn_slots.val();
            self.iv_gates.d.next = self.ivn_gates.val();
            self.iv_acc.d.next = self.ivn_acc.val();
            self.iv_ag.d.next = self.ivn_ag.val();
            self.iv_dead.d.next = self.ivn_dead.val();
            self.iv_inv.d.next = self.ivn_inv.val();
            if self.q_proc_cycle.q.val() {
                self.iv_seen.d.next = self.iv_seen.q.val() | self.live.val();
            }
        }
        if self.q_start.q.val() {
            self.iv_slots.d.next = 0.into();
            self.iv_gates.d.next = 0.into();
            self.iv_acc.d.next = 0.into();
            self.iv_ag.d.next = 0.into();
            self.iv_dead.d.next = 0.into();
            self.iv_inv.d.next = 0.into();
            self.iv_seen.d.next = 0.into();
        }
        // ---- Counters block and state registers (stage Q) ----
        self.cn_gates.next = self.cnt_gates.q.val();
        self.cn_acc.next = self.cnt_acc.q.val();
        self.cn_ag.next = self.cnt_ag.q.val();
        self.cn_dead.next = self.cnt_dead.q.val();
        self.cn_inv.next = self.cnt_inv.q.val();
        if !self.c_void.q.val() {
            self.cn_gates.next = self.cnt_gates.q.val() + bit_cast::<64, 8>(self.n_gates_r.q.val());
            self.cn_acc.next = self.cnt_acc.q.val() + bit_cast::<32, 8>(self.n_acc_v.val());
            self.cn_ag.next = self.cnt_ag.q.val() + bit_cast::<32, 8>(self.n_ag_r.q.val());
            self.cn_dead.next = self.cnt_dead.q.val() + bit_cast::<32, 8>(self.n_dead_r.q.val());
            self.cn_inv.next = self.cnt_inv.q.val() + bit_cast::<32, 8>(self.n_inv_v.val());
        }
        self.cnt_gates.d.next = self.cn_gates.val();
        self.cnt_acc.d.next = self.cn_acc.val();
        self.cnt_ag.d.next = self.cn_ag.val();
        self.cnt_dead.d.next = self.cn_dead.val();
        self.cnt_inv.d.next = self.cn_inv.val();
        if self.q_clear_counters.q.val() {
            self.cnt_gates.d.next = 0.into();
            self.cnt_acc.d.next = 0.into();
            self.cnt_ag.d.next = 0.into();
            self.cnt_dead.d.next = 0.into();
            self.cnt_inv.d.next = 0.into();
        }
        self.cv_gates.d.next = self.cn_gates.val();
        self.cv_acc.d.next = self.cn_acc.val();
        self.cv_ag.d.next = self.cn_ag.val();
        self.cv_dead.d.next = self.cn_dead.val();
        self.cv_inv.d.next = self.cn_inv.val();
        self.hi_gates.value.next = self.cv_gates.q.val();
        self.hi_gates.lo_read.next = self.csr_gates_lo.read_pulse.val();
        self.csr_gates_lo.hw_value.next = self.hi_gates.lo.val();
        self.csr_gates_hi.hw_value.next = self.hi_gates.hi.val();
        self.csr_accepted.hw_value.next = self.cv_acc.q.val();
        self.csr_after_gate.hw_value.next = self.cv_ag.q.val();
        self.csr_dead_time_suppressed.hw_value.next = self.cv_dead.q.val();
        self.csr_invalid.hw_value.next = self.cv_inv.q.val();
        self.csr_bob_state.hw_value.next = bit_cast::<32, 1>(self.running.q.val().into())
            | (bit_cast::<32, 1>(self.synced.q.val().into()) << 1)
            | (bit_cast::<32, 7>(self.live_end.val()) << 8);
        // sticky events: the stage Q live bits, but for RNG_RCT/RNG_APT the
        // test failures themselves (the live RNG bits include the sticky
        // bits, which would make them impossible to clear by W1C;
        // model/AMBIGUITIES.md 22). The failures arrive one cycle late
        // (pipelined tests): a failure of the cycle before a W1C that
        // clears its bit is dropped, as the undelayed sticky bit would have
        // been cleared by that W1C (a W1C also clears the tests, so the
        // failure of the W1C cycle itself is 0).
        self.w1c_rng.next = self.w1c_rng_w.val();
        self.alarm_events.next = self
            .live
            .val()
            .replace_bit(4, self.rct_now.val() & !self.w1c_rng.val().get_bit(0));
        self.alarm_events.next = self
            .alarm_events
            .val()
            .replace_bit(5, self.apt_now.val() & !self.w1c_rng.val().get_bit(1));
        self.csr_bob_alarms.hw_set.next = bit_cast::<32, 7>(self.alarm_events.val());
        self.csr_rng_qrng_words.hw_value.next = self.qrng_words.q.val();
        // ---- Stage R (Q + 1): bundle of the cycle's records ----
        self.r_valid.d.next = self.q_proc_cycle.q.val();
        self.r_rec.d.next = self.classify.record.val();
        self.r_bins.d.next = self.q_bins.q.val();
        self.r_basis.d.next = self.q_basis.q.val();
        self.r_bad.d.next = self.bad.val();
        self.r_epoch0.d.next = self.q_c0.q.val();
        self.r_slot0.d.next = self.q_slot0.q.val();
        // Slots of the records lost this cycle, in record order (spec 6 and
        // model/AMBIGUITIES.md 27: EPOCH(0) counts as slot 0, DETECTION at
        // its lane's slot, STATUS at the cycle's last slot + 1): the
        // candidates (lane-0 slot + lowest/highest record lane, + L) are
        // prepared here for stage R: low 3 bits and carry of a 4-bit add
        // (`r_flo`, `r_llo`), which select the high 61 bits or their
        // increment (`r_hi_inc`, from the slot register alone) in stage R.
        self.r_any.d.next = self.classify.record.val().any();
        self.lo_found.next = false;
        self.lo_lane.next = 0.into();
        self.hi_lane.next = 0.into();
        for l in 0..self.prng.len() {
            if self.classify.record.val().get_bits::<4>(4 * l).any() {
                if !self.lo_found.val() {
                    self.lo_lane.next = self.k_lane64[l].val().get_bits::<4>(0);
                }
                self.lo_found.next = true;
                self.hi_lane.next = self.k_lane64[l].val().get_bits::<4>(0);
            }
        }
        self.qs_hi_inc.next = self.q_slot0.q.val().get_bits::<61>(3) + 1;
        self.qs_lo4.next =
            bit_cast::<4, 3>(self.q_slot0.q.val().get_bits::<3>(0)) + self.lo_lane.val();
        self.qs_hi4.next =
            bit_cast::<4, 3>(self.q_slot0.q.val().get_bits::<3>(0)) + self.hi_lane.val();
        self.qs_l4.next = bit_cast::<4, 3>(self.q_slot0.q.val().get_bits::<3>(0))
            + self.k_lanes64.val().get_bits::<4>(0);
        self.r_flo.d.next = self.qs_lo4.val();
        self.r_llo.d.next = self.qs_hi4.val();
        self.r_hi_inc.d.next = self.qs_hi_inc.val();
        if self.qs_l4.val().get_bit(3) {
            self.r_slot_l.d.next = (bit_cast::<64, 61>(self.qs_hi_inc.val()) << 3)
                | bit_cast::<64, 3>(self.qs_l4.val().get_bits::<3>(0));
        } else {
            self.r_slot_l.d.next = (bit_cast::<64, 61>(self.q_slot0.q.val().get_bits::<61>(3))
                << 3)
                | bit_cast::<64, 3>(self.qs_l4.val().get_bits::<3>(0));
        }
        // (the next values of snap_new and r_epoch0 are these registers)
        self.r_nall.d.next = bit_cast::<16, 8>(self.classify.n_records.val())
            + bit_cast::<16, 2>(
                bit_cast::<2, 1>(self.q_status_now.q.val().into())
                    + bit_cast::<2, 1>(self.q_c0.q.val().into()),
            );
        // A dropped-records GAP waits in `lost_*` until a bundle can carry
        // it (bundle bit 171, the GAP itself then waits in `gapq_*`): while
        // one GAP waits in `gapq_*` and another is pending, bundles are
        // dropped and join the pending GAP (spec 6: "otherwise that record
        // is dropped too and joins the GAP").
        self.blocked.next = self.lost_pending.q.val() & self.gapq_valid.q.val();
        self.full_or_blocked.next = self.bundles_full.full.val() | self.blocked.val();
        // STATUS payload capture (AlarmsLive: live at the end of the status cycle)
        // Defaults outside the branch: no latches for the per-word temporaries
        // (synth_ecp5 rejects inferred latches).
        self.sval.next = 0.into();
        self.snap48.next = 0.into();
        self.snap12.next = 0.into();
        self.bundle_status.next = false;
        if self.snap_new.q.val() & !self.sbuf_full.q.val() & !self.full_or_blocked.val() {
            self.bundle_status.next = true;
            self.sbuf_full.d.next = true;
            for j in 0..self.sbuf.len() {
                self.sbuf[j].clock.next = self.clock.val();
                self.sval.next = 0.into();
                if self.k_sel[j].val() == 0 {
                    self.sval.next = bit_cast::<64, 48>(
                        self.snap_slots.q.val() + bit_cast::<48, 8>(self.n_proc_r.q.val()),
                    );
                }
                if self.k_sel[j].val() == 1 {
                    self.sval.next = bit_cast::<64, 48>(
                        self.snap_gates.q.val() + bit_cast::<48, 8>(self.n_gates_r.q.val()),
                    );
                }
                if self.k_sel[j].val() == 3 {
                    self.sval.next = bit_cast::<64, 48>(
                        self.snap_acc.q.val() + bit_cast::<48, 8>(self.n_acc_v.val()),
                    );
                }
                if self.k_sel[j].val() == 4 {
                    self.sval.next = bit_cast::<64, 48>(
                        self.snap_ag.q.val() + bit_cast::<48, 8>(self.n_ag_r.q.val()),
                    );
                }
                if self.k_sel[j].val() == 5 {
                    self.sval.next = bit_cast::<64, 48>(
                        self.snap_dead.q.val() + bit_cast::<48, 8>(self.n_dead_r.q.val()),
                    );
                }
                if self.k_sel[j].val() == 6 {
                    self.sval.next = bit_cast::<64, 48>(
                        self.snap_inv.q.val() + bit_cast::<48, 8>(self.n_inv_v.val()),
                    );
                }
                if self.k_sel[j].val() == 8 {
                    self.sval.next = bit_cast::<64, 7>(self.live_end.val());
                }
                if self.k_sel[j].val() == 9 {
                    self.sval.next =
                        bit_cast::<64, 7>(self.snap_seen.q.val() | self.live_end.val());
                }
                for d in 0..self.tdc.len() {
                    if (self.k_sel[j].val() == 2) & (self.k_seld[j].val() == self.k_det2[d].val()) {
                        self.snap48.next = self.snapc_tot[d].val();
                        self.sval.next = bit_cast::<64, 48>(self.snap48.val());
                    }
                    if (self.k_sel[j].val() == 7) & (self.k_seld[j].val() == self.k_det2[d].val()) {
                        self.snap12.next = self.snap_pmax[d].q.val();
                        self.sval.next = bit_cast::<64, 12>(self.snap12.val());
                    }
                }
                self.sbuf[j].d.next = self.sval.val() | self.k_code[j].val();
            }
        } else {
            for j in 0..self.sbuf.len() {
                self.sbuf[j].clock.next = self.clock.val();
                self.sbuf[j].d.next = self.sbuf[j].q.val();
            }
        }

        // ---- Stage R: queue the bundle, or count its records as lost ----
        self.bundle.next = bit_cast::<256, 32>(self.r_rec.q.val())
            | (bit_cast::<256, 128>(self.r_bins.q.val()) << 32)
            | (bit_cast::<256, 8>(self.r_basis.q.val()) << 160)
            | (bit_cast::<256, 1>(self.r_bad.q.val().into()) << 168)
            | (bit_cast::<256, 1>(self.bundle_status.val().into()) << 169)
            | (bit_cast::<256, 1>(self.r_epoch0.q.val().into()) << 170)
            | (bit_cast::<256, 64>(self.r_slot0.q.val()) << 176);
        self.push.next = self.r_valid.q.val()
            & (self.r_any.q.val() | self.bundle_status.val() | self.r_epoch0.q.val());
        self.push_now.next = self.push.val() & !self.full_or_blocked.val();
        // the pending GAP rides on this bundle (emitted just before it)
        self.attach.next = self.lost_pending.q.val() & !self.gapq_valid.q.val();
        self.bundles.data_in.next =
            self.bundle.val() | (bit_cast::<256, 1>(self.attach.val().into()) << 171);
        self.bundles.write.next = self.push_now.val();
        if self.push_now.val() & self.attach.val() {
            self.gapq_valid.d.next = true;
            self.gapq_records.d.next = self.lost_records.q.val();
            self.gapq_first.d.next = self.lost_slot.q.val();
            self.gapq_last.d.next = self.lost_last.q.val();
            self.lost_pending.d.next = false;
        }
        // (slot candidates from stage Q: see `r_flo`)
        self.b_hi_first.next = self.r_slot0.q.val().get_bits::<61>(3);
        if self.r_flo.q.val().get_bit(3) {
            self.b_hi_first.next = self.r_hi_inc.q.val();
        }
        self.b_hi_last.next = self.r_slot0.q.val().get_bits::<61>(3);
        if self.r_llo.q.val().get_bit(3) {
            self.b_hi_last.next = self.r_hi_inc.q.val();
        }
        self.b_first.next = self.r_slot_l.q.val();
        if self.r_any.q.val() {
            self.b_first.next = (bit_cast::<64, 61>(self.b_hi_first.val()) << 3)
                | bit_cast::<64, 3>(self.r_flo.q.val().get_bits::<3>(0));
        }
        if self.r_epoch0.q.val() {
            self.b_first.next = 0.into();
        }
        self.b_last.next = 0.into();
        if self.r_any.q.val() {
            self.b_last.next = (bit_cast::<64, 61>(self.b_hi_last.val()) << 3)
                | bit_cast::<64, 3>(self.r_llo.q.val().get_bits::<3>(0));
        }
        if self.snap_new.q.val() {
            self.b_last.next = self.r_slot_l.q.val();
        }
        if !self.full_or_blocked.val() {
            // only the STATUS is lost (its payload buffer is still busy)
            self.b_first.next = self.r_slot_l.q.val();
            self.b_last.next = self.r_slot_l.q.val();
        }
        // stage R pushes or drops exactly when it holds records (`r_busy`
        // = push_now | drop_now, from registers only)
        self.r_busy.next = self.r_valid.q.val()
            & (self.r_any.q.val() | self.snap_new.q.val() | self.r_epoch0.q.val());
        self.drop_now.next = self.r_valid.q.val()
            & (self.r_any.q.val() | self.snap_new.q.val() | self.r_epoch0.q.val())
            & (self.full_or_blocked.val() | (self.snap_new.q.val() & self.sbuf_full.q.val()));
        // lost-record counts for both outcomes, from the registers (the
        // full/blocked decision only selects)
        self.n_all.next = self.r_nall.q.val();
        self.lr_all.next = self.lost_records.q.val() + self.n_all.val();
        self.lr_one.next = self.lost_records.q.val() + 1;
        // records of this cycle that cannot be queued join the GAP (a
        // new one if the pending GAP was just attached to this bundle)
        self.new_gap.next = !self.lost_pending.q.val() | (self.push_now.val() & self.attach.val());
        if self.drop_now.val() {
            if self.new_gap.val() {
                self.lost_slot.d.next = self.b_first.val();
            }
            self.lost_pending.d.next = true;
            self.lost_last.d.next = self.b_last.val();
            if self.full_or_blocked.val() {
                if self.new_gap.val() {
                    self.lost_records.d.next = self.n_all.val();
                } else {
                    self.lost_records.d.next = self.lr_all.val();
                }
            } else if self.new_gap.val() {
                self.lost_records.d.next = 1.into();
            } else {
                self.lost_records.d.next = self.lr_one.val();
            }
        }
        // ---- Serializer: one record word per cycle into the stream ----
        self.bundles.read.next = false;
        self.o_valid.d.next = false;
        self.o_first.d.next = false;
        self.o_last.d.next = false;
        self.o_lost.d.next = false;
        self.o_len.d.next = 1.into();
        // lowest remaining record: kept in a register (`oh` = lowest set
        // bit of `rem`, updated with it), the next one found by a boolean
        // priority chain from the registers (no adder)
        self.onehot.next = self.oh.q.val();
        // record flags of the head bundle, masked to the existing
        // (lane, detector) positions: the FIFO's read data is not known to
        // be zero elsewhere, so without the mask the priority chains below
        // would run over all 32 positions
        self.rec_in.next = self.bundles.data_out.val().get_bits::<32>(0) & self.k_rec_mask.val();
        self.rest_rem.next = self.rem.q.val() & !self.oh.q.val() & self.k_rec_mask.val();
        self.next_low.next = 0.into();
        self.below.next = false;
        self.load_low.next = 0.into();
        self.load_below.next = false;
        for b in 0..32 {
            self.next_low.next = self
                .next_low
                .val()
                .replace_bit(b, self.rest_rem.val().get_bit(b) & !self.below.val());
            self.below.next = self.below.val() | self.rest_rem.val().get_bit(b);
            self.load_low.next = self
                .load_low
                .val()
                .replace_bit(b, self.rec_in.val().get_bit(b) & !self.load_below.val());
            self.load_below.next = self.load_below.val() | self.rec_in.val().get_bit(b);
        }
        self.pick.next = 0.into();
        for b in 0..5 {
            self.pick.next = self
                .pick
                .val()
                .replace_bit(b, (self.onehot.val() & self.k_pick_mask[b].val()).any());
        }
        self.pick_lane.next = self.pick.val().get_bits::<3>(2);
        // det_slot = lane-0 slot + lane (< 8): the low 3 bits by a 3-bit
        // add, the high 61 bits select the bundle slot's or its increment
        // (`hi_inc`, registered when the bundle is loaded into `cur`)
        self.slot_hi.next = self.cur.q.val().get_bits::<61>(179);
        self.slot_hi_inc.next = self.hi_inc.q.val();
        self.slot_lo.next = bit_cast::<4, 3>(self.cur.q.val().get_bits::<3>(176))
            + bit_cast::<4, 3>(self.pick_lane.val());
        // (slot_lo's carry, from the one-hot pick and the carries of the
        // bundle's positions)
        self.det_carry.next = self.oh_carry.q.val();
        if self.det_carry.val() {
            self.det_slot.next = (bit_cast::<64, 61>(self.slot_hi_inc.val()) << 3)
                | bit_cast::<64, 3>(self.slot_lo.val().get_bits::<3>(0));
        } else {
            self.det_slot.next = (bit_cast::<64, 61>(self.slot_hi.val()) << 3)
                | bit_cast::<64, 3>(self.slot_lo.val().get_bits::<3>(0));
        }
        // fine bins and basis of the picked record: AND-OR over the one-hot
        // pick (no encoded-index multiplexer)
        self.sel_bins.next = 0.into();
        self.sel_basis.next = false;
        for l in 0..8 {
            for d in 0..4 {
                if self.onehot.val().get_bit(4 * l + d) {
                    self.sel_bins.next =
                        self.sel_bins.val() | self.cur.q.val().get_bits::<4>(32 + 16 * l + 4 * d);
                    self.sel_basis.next = self.sel_basis.val() | self.cur.q.val().get_bit(160 + l);
                }
            }
        }
        // new high slot bits (EPOCH first): kept for both candidates in
        // registers (`ne0`: slot_hi, `ne1`: slot_hi + 1 differ from the
        // epoch in bits 40..64), selected by the low add's carry. They are
        // set when the bundle is loaded and when the epoch changes (to 0,
        // or to one of the two candidates: then the other one differs iff
        // the increment carries into bit 40, `hi_cross`). `epoch_m1` =
        // epoch - 1 (one cycle behind `epoch`; an epoch change is always
        // followed by a non-Idle cycle) gives `hi + 1 != epoch` as
        // `hi != epoch - 1` when the increment carries into bit 40.
        self.ep_ne0.next = self.ne0.q.val();
        self.ep_ne1.next = self.ne1.q.val();
        self.epoch_m1.d.next = self.epoch.q.val() - 1;
        self.load_hi.next = self.bundles.data_out.val().get_bits::<61>(179);
        self.load_cross.next = self.bundles.data_out.val().get_bits::<37>(179).all();
        self.load_lo.next = bit_cast::<6, 3>(self.bundles.data_out.val().get_bits::<3>(176));
        self.lo_carry_n.next = 0.into();
        for l in 1..8 {
            for d in 0..4 {
                self.lo_carry_n.next = self
                    .lo_carry_n
                    .val()
                    .replace_bit(4 * l + d, self.load_lo.val() >= self.k_q6[8 - l].val());
            }
        }
        self.det_new_epoch.next = self.ep_ne0.val();
        if self.det_carry.val() {
            self.det_new_epoch.next = self.ep_ne1.val();
        }
        // status_slot = lane-0 slot + L (L <= 8), split the same way
        self.st_lo.next = bit_cast::<4, 3>(self.cur.q.val().get_bits::<3>(176))
            + self.k_lanes64.val().get_bits::<4>(0);
        if self.st_lo.val().get_bit(3) {
            self.status_slot.next = (bit_cast::<64, 61>(self.slot_hi_inc.val()) << 3)
                | bit_cast::<64, 3>(self.st_lo.val().get_bits::<3>(0));
        } else {
            self.status_slot.next = (bit_cast::<64, 61>(self.slot_hi.val()) << 3)
                | bit_cast::<64, 3>(self.st_lo.val().get_bits::<3>(0));
        }
        self.st_new_epoch.next = self.ep_ne0.val();
        if self.st_lo.val().get_bit(3) {
            self.st_new_epoch.next = self.ep_ne1.val();
        }
        self.word.next = 0.into();
        match self.phase.q.val() {
            SerPhase::Idle => {
                if !self.bundles_empty.empty.val()
                    & self.bundles.data_out.val().get_bit(171)
                    & self.gapq_valid.q.val()
                {
                    // the GAP that rides on the head bundle, before its
                    // records; the record stream takes at most 255 lost
                    // records at a time and merges consecutive reports
                    self.o_lost.d.next = true;
                    self.o_slot.d.next = self.gapq_first.q.val();
                    self.o_lost_slots.d.next =
                        bit_cast::<32, 64>(self.gapq_last.q.val() - self.gapq_first.q.val() + 1);
                    if self.gapq_records.q.val() > 255 {
                        self.o_lost_records.d.next = 255.into();
                        self.gapq_records.d.next = self.gapq_records.q.val() - 255;
                    } else {
                        self.o_lost_records.d.next = bit_cast::<8, 16>(self.gapq_records.q.val());
                        self.gapq_valid.d.next = false;
                    }
                } else if self.bundles_empty.empty.val()
                    & self.lost_pending.q.val()
                    & !self.gapq_valid.q.val()
                    & !self.r_busy.val()
                {
                    // every older record is out and no bundle is arriving:
                    // send the pending GAP now (stage R leaves it alone)
                    self.o_lost.d.next = true;
                    self.o_slot.d.next = self.lost_slot.q.val();
                    self.o_lost_slots.d.next =
                        bit_cast::<32, 64>(self.lost_last.q.val() - self.lost_slot.q.val() + 1);
                    if self.lost_records.q.val() > 255 {
                        self.o_lost_records.d.next = 255.into();
                        self.lost_records.d.next = self.lost_records.q.val() - 255;
                    } else {
                        self.o_lost_records.d.next = bit_cast::<8, 16>(self.lost_records.q.val());
                        self.lost_pending.d.next = false;
                    }
                } else if !self.bundles_empty.empty.val() {
                    self.bundles.read.next = true;
                    self.cur.d.next = self.bundles.data_out.val();
                    self.hi_inc.d.next = self.load_hi.val() + 1;
                    self.hi_cross.d.next = self.load_cross.val();
                    self.lo_carry.d.next = self.lo_carry_n.val();
                    self.oh_carry.d.next = !(self.rec_in.val() & !self.lo_carry_n.val()).any();
                    self.ne0.d.next = self.load_hi.val().get_bits::<24>(37) != self.epoch.q.val();
                    self.ne1.d.next = self.load_hi.val().get_bits::<24>(37) != self.epoch.q.val();
                    if self.load_cross.val() {
                        self.ne1.d.next =
                            self.load_hi.val().get_bits::<24>(37) != self.epoch_m1.q.val();
                    }
                    self.rem.d.next = self.rec_in.val();
                    self.oh.d.next = self.load_low.val();
                    if self.bundles.data_out.val().get_bit(170) {
                        self.phase.d.next = SerPhase::Epoch0;
                    } else if self.rec_in.val().any() {
                        self.phase.d.next = SerPhase::Det;
                    } else if self.bundles.data_out.val().get_bit(169) {
                        self.phase.d.next = SerPhase::Status;
                    }
                }
            }
            SerPhase::Epoch0 => {
                self.o_valid.d.next = true;
                self.o_first.d.next = true;
                self.o_last.d.next = true;
                self.o_data.d.next = self.k_epoch_tag.val();
                self.o_slot.d.next = 0.into();
                self.epoch.d.next = 0.into();
                self.epoch_m1.d.next = 0xFF_FFFF.into();
                self.ne0.d.next = self.slot_hi.val().get_bits::<24>(37).any();
                self.ne1.d.next = self.slot_hi_inc.val().get_bits::<24>(37).any();
                if self.rem.q.val().any() {
                    self.phase.d.next = SerPhase::Det;
                } else if self.cur.q.val().get_bit(169) {
                    self.phase.d.next = SerPhase::Status;
                } else {
                    self.phase.d.next = SerPhase::Idle;
                }
            }
            SerPhase::Det => {
                self.o_valid.d.next = true;
                self.o_first.d.next = true;
                self.o_last.d.next = true;
                self.o_slot.d.next = self.det_slot.val();
                if self.det_new_epoch.val() {
                    // EPOCH before the first record with new high slot bits
                    self.o_data.d.next = self.k_epoch_tag.val()
                        | bit_cast::<64, 24>(self.det_slot.val().get_bits::<24>(40));
                    self.epoch.d.next = self.det_slot.val().get_bits::<24>(40);
                    if self.det_carry.val() {
                        self.ne0.d.next = self.hi_cross.q.val();
                        self.ne1.d.next = false;
                    } else {
                        self.ne0.d.next = false;
                        self.ne1.d.next = self.hi_cross.q.val();
                    }
                } else {
                    self.o_data.d.next = self.k_det_tag.val()
                        | (self.det_slot.val() & self.k_slot_mask.val())
                        | (bit_cast::<64, 2>(self.pick.val().get_bits::<2>(0)) << 40)
                        | (bit_cast::<64, 4>(self.sel_bins.val()) << 42)
                        | (bit_cast::<64, 1>(self.sel_basis.val().into()) << 46)
                        | (bit_cast::<64, 1>(self.cur.q.val().get_bit(168).into()) << 47);
                    self.rem.d.next = self.rest_rem.val();
                    self.oh.d.next = self.next_low.val();
                    self.oh_carry.d.next = self.oh_carry.q.val()
                        | !(self.rest_rem.val() & !self.lo_carry.q.val()).any();
                    if !self.rest_rem.val().any() {
                        if self.cur.q.val().get_bit(169) {
                            self.phase.d.next = SerPhase::Status;
                        } else {
                            self.phase.d.next = SerPhase::Idle;
                        }
                    }
                }
            }
            SerPhase::Status => {
                self.o_valid.d.next = true;
                self.o_first.d.next = true;
                self.o_slot.d.next = self.status_slot.val();
                if self.st_new_epoch.val() {
                    self.o_last.d.next = true;
                    self.o_data.d.next = self.k_epoch_tag.val()
                        | bit_cast::<64, 24>(self.status_slot.val().get_bits::<24>(40));
                    self.epoch.d.next = self.status_slot.val().get_bits::<24>(40);
                    if self.st_lo.val().get_bit(3) {
                        self.ne0.d.next = self.hi_cross.q.val();
                        self.ne1.d.next = false;
                    } else {
                        self.ne0.d.next = false;
                        self.ne1.d.next = self.hi_cross.q.val();
                    }
                } else {
                    self.o_len.d.next = self.k_status_len.val();
                    self.o_data.d.next =
                        self.k_status_hdr.val() | (self.status_slot.val() & self.k_slot_mask.val());
                    self.sword.d.next = 0.into();
                    self.phase.d.next = SerPhase::Payload;
                }
            }
            SerPhase::Payload => {
                self.o_valid.d.next = true;
                self.o_data.d.next = self.sbuf[0].q.val();
                self.sword.d.next = self.sword.q.val() + 1;
                for j in 1..self.sbuf.len() {
                    self.sbuf[j - 1].d.next = self.sbuf[j].q.val();
                }
                if self.sword.q.val() == self.k_status_last.val() {
                    self.o_last.d.next = true;
                    self.sbuf_full.d.next = false;
                    self.phase.d.next = SerPhase::Idle;
                }
            }
            _ => {
                self.phase.d.next = SerPhase::Idle;
            }
        }
        // bundle FIFO occupancy (see `bundles_full`)
        self.bundles_took.next = self.bundles.read.val() & !self.bundles_empty.empty.val();
        self.bundles_full.clock.next = self.clock.val();
        self.bundles_full.wrote.next = self.push_now.val();
        self.bundles_full.took.next = self.bundles_took.val();
        // the serializer decides on a registered copy of the FIFO's `empty`
        self.bundles_empty.clock.next = self.clock.val();
        self.bundles_empty.wrote.next = self.push_now.val();
        self.bundles_empty.took.next = self.bundles_took.val();
        // ---- Record stream ----
        self.stream.clear.next = self.start_p.q.val();
        self.stream.clear_counters.next = self.clear_counters.val();
        self.stream.in_data.next = self.o_data.q.val();
        self.stream.in_valid.next = self.o_valid.q.val();
        self.stream.in_first.next = self.o_first.q.val();
        self.stream.in_last.next = self.o_last.q.val();
        self.stream.in_len.next = self.o_len.q.val();
        self.stream.in_slot.next = self.o_slot.q.val();
        self.stream.in_slots.next = 1.into();
        if self.o_lost.q.val() {
            self.stream.in_slots.next = self.o_lost_slots.q.val();
        }
        self.stream.in_lost.next = self.o_lost.q.val();
        self.stream.in_lost_records.next = self.o_lost_records.q.val();
        self.m_axis_tdata.next = self.stream.tdata.val();
        self.m_axis_tvalid.next = self.stream.tvalid.val();
        self.m_axis_tlast.next = self.stream.tlast.val();
        self.stream.tready.next = self.m_axis_tready.val();
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
    }
}

/// Instantiate, connect and check the core for `params`, and return the
/// Verilog of `qkd_bob_core` followed by the `qkd_bob` wrapper with the
/// spec's port widths (`apd_d{d}`: `L*OS`, `gate_en`: `L*ND`, `basis_out`:
/// `L`, `qrng_data`: `64*L`, `adc_d{d}`/`adc_valid_d{d}` per detector).
pub fn verilog(params: &GenParams) -> anyhow::Result<String> {
    let mut core = BobCore::new(params)?;
    core.connect_top();
    check_all(&core)
        .map_err(|e| anyhow::anyhow!("rust-hdl design check of qkd_bob failed: {e:?}"))?;
    let v = generate_verilog_unchecked(&core);
    let v = crate::generate::rename_top(&v, "qkd_bob_core")?;
    Ok(format!("{v}\n{}", wrapper(params)))
}

/// The `qkd_bob` wrapper module around `qkd_bob_core`.
pub fn wrapper(params: &GenParams) -> String {
    use std::fmt::Write;
    let l = usize::from(params.lanes);
    let os = usize::from(params.oversample);
    let nd = usize::from(params.detectors);
    let a = CSR_ADDR_BITS;
    let mut ports = vec![
        "    input wire clock".to_string(),
        format!("    input wire [{}:0] s_axil_awaddr", a - 1),
        "    input wire s_axil_awvalid".into(),
        "    output wire s_axil_awready".into(),
        "    input wire [31:0] s_axil_wdata".into(),
        "    input wire [3:0] s_axil_wstrb".into(),
        "    input wire s_axil_wvalid".into(),
        "    output wire s_axil_wready".into(),
        "    output wire [1:0] s_axil_bresp".into(),
        "    output wire s_axil_bvalid".into(),
        "    input wire s_axil_bready".into(),
        format!("    input wire [{}:0] s_axil_araddr", a - 1),
        "    input wire s_axil_arvalid".into(),
        "    output wire s_axil_arready".into(),
        "    output wire [31:0] s_axil_rdata".into(),
        "    output wire [1:0] s_axil_rresp".into(),
        "    output wire s_axil_rvalid".into(),
        "    input wire s_axil_rready".into(),
        "    output wire [63:0] m_axis_tdata".into(),
        "    output wire m_axis_tvalid".into(),
        "    input wire m_axis_tready".into(),
        "    output wire m_axis_tlast".into(),
    ];
    for d in 0..nd {
        ports.push(format!("    input wire [{}:0] apd_d{d}", l * os - 1));
    }
    ports.push(format!("    output wire [{}:0] gate_en", l * nd - 1));
    ports.push(format!("    output wire [{}:0] basis_out", l - 1));
    ports.push("    input wire sync_in".into());
    for d in 0..nd {
        ports.push(format!("    input wire [11:0] adc_d{d}"));
        ports.push(format!("    input wire adc_valid_d{d}"));
    }
    ports.push(format!("    input wire [{}:0] qrng_data", 64 * l - 1));
    ports.push("    input wire qrng_valid".into());
    ports.push("    output wire qrng_ready".into());
    let mut w = String::new();
    let _ = writeln!(
        w,
        "// qkd_bob: LANES={l} OVERSAMPLE={os} DETECTORS={nd}; ports as in docs/gateware-spec.md 5"
    );
    let _ = writeln!(w, "module qkd_bob(\n{}\n);", ports.join(",\n"));
    for d in 0..nd {
        let lanes: Vec<String> = (0..l)
            .rev()
            .map(|ln| {
                if os == 16 {
                    format!("apd_d{d}[{}:{}]", ln * os + os - 1, ln * os)
                } else {
                    format!("{}'b0, apd_d{d}[{}:{}]", 16 - os, ln * os + os - 1, ln * os)
                }
            })
            .collect();
        let pad = if l < 8 {
            format!("{}'b0, ", 16 * (8 - l))
        } else {
            String::new()
        };
        let _ = writeln!(
            w,
            "    wire [127:0] apd_s{d} = {{{pad}{}}};",
            lanes.join(", ")
        );
    }
    let _ = writeln!(w, "    wire [31:0] gate_s;");
    let _ = writeln!(w, "    wire [7:0] basis_s;");
    let qpad = if l < 8 {
        format!("{}'b0, ", 64 * (8 - l))
    } else {
        String::new()
    };
    let _ = writeln!(w, "    wire [511:0] qrng_s = {{{qpad}qrng_data}};");
    let mut conns = vec![".clock(clock)".to_string()];
    for p in [
        "s_axil_awaddr",
        "s_axil_awvalid",
        "s_axil_awready",
        "s_axil_wdata",
        "s_axil_wstrb",
        "s_axil_wvalid",
        "s_axil_wready",
        "s_axil_bresp",
        "s_axil_bvalid",
        "s_axil_bready",
        "s_axil_araddr",
        "s_axil_arvalid",
        "s_axil_arready",
        "s_axil_rdata",
        "s_axil_rresp",
        "s_axil_rvalid",
        "s_axil_rready",
        "m_axis_tdata",
        "m_axis_tvalid",
        "m_axis_tready",
        "m_axis_tlast",
        "sync_in",
        "qrng_valid",
        "qrng_ready",
    ] {
        conns.push(format!(".{p}({p})"));
    }
    for d in 0..nd {
        conns.push(format!(".apd${d}(apd_s{d})"));
        conns.push(format!(".adc${d}(adc_d{d})"));
        conns.push(format!(".adc_valid${d}(adc_valid_d{d})"));
    }
    conns.push(".gate_en(gate_s)".into());
    conns.push(".basis_out(basis_s)".into());
    conns.push(".qrng_data(qrng_s)".into());
    let _ = writeln!(
        w,
        "    qkd_bob_core core(\n        {}\n    );",
        conns.join(",\n        ")
    );
    let gates: Vec<String> = (0..l)
        .rev()
        .flat_map(|ln| {
            (0..nd)
                .rev()
                .map(move |d| format!("gate_s[{}]", 4 * ln + d))
        })
        .collect();
    let _ = writeln!(w, "    assign gate_en = {{{}}};", gates.join(", "));
    let _ = writeln!(w, "    assign basis_out = basis_s[{}:0];", l - 1);
    let _ = writeln!(w, "endmodule");
    w
}
