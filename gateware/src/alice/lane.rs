// SPDX-License-Identifier: MIT OR Apache-2.0
//! One lane of Alice's pulse-pattern generator: the lane's random source
//! (xoshiro256+ test PRNG or the QRNG word registered by the top, whose
//! SP 800-90B health tests the top runs), the decoy/basis selector (spec
//! 4.1) and the per-slot mode multiplexer (spec 4.2: sync frame, entropy
//! blanking, fixed symbol, PRBS7).
//!
//! Pipeline (cycle `k` = the slot cycle as seen at stage 0):
//! stage 0 (`k`): PRNG step `k` (the top registers the QRNG word).
//! stage 1 (`k+1`): random word `r`, decoy/basis selection, registered.
//! stage 2 (`k+2`): mode multiplexer (blanked by the top's registered
//! `blank`), registered onto `symbol` (`k+3`). The blanking by a health
//! fail on the cycle's own sample is applied by the top at stage 3.

use crate::common::prng::Xoshiro256Plus;
use rust_hdl::prelude::*;

/// `BLANK`: intensity class 3, no pulse.
pub const BLANK: u64 = 0b1100;
/// `SYNC_MARK`: intensity class 3, a pulse at signal level.
pub const SYNC_MARK: u64 = 0b1101;
/// Sync frame: bit `j` set = `SYNC_MARK` in frame slot `j` (spec 4.2).
pub const SYNC_PATTERN: u64 = 0x1F35;

/// PRBS7 (x^7 + x^6 + 1) bits `b_0 .. b_{n-1}`: `b_0..b_6 = 1`,
/// `b_n = b_{n-6} XOR b_{n-7}` (spec 4.2).
pub fn prbs7_bits(n: usize) -> Vec<bool> {
    let mut b = vec![true; 7.min(n)];
    while b.len() < n {
        let m = b.len();
        b.push(b[m - 6] ^ b[m - 7]);
    }
    b
}

/// One lane (see the module comment for the pipeline).
#[derive(LogicBlock)]
pub struct AliceLane {
    /// Fabric clock, rising edge.
    pub clock: Signal<In, Clock>,
    /// 64-bit PRNG seed, sampled with `load`.
    pub seed: Signal<In, Bits<64>>,
    /// START: load the PRNG, active high.
    pub load: Signal<In, Bit>,
    /// PRNG step enable, active high (the top holds it high: the PRNG
    /// steps every cycle and its words are used only in running cycles).
    pub step: Signal<In, Bit>,
    /// Stage 1: this lane's QRNG word of the stage-0 cycle, registered.
    pub qword: Signal<In, Bits<64>>,
    /// The random words come from the QRNG (else the PRNG), active high.
    pub use_qrng: Signal<In, Bit>,
    /// `DECOY_THRESH_SIGNAL`, 2^-16 units.
    pub thresh_signal: Signal<In, Bits<16>>,
    /// `DECOY_THRESH_DECOY`, 2^-16 units.
    pub thresh_decoy: Signal<In, Bits<16>>,
    /// `DECOY_THRESH_BASIS_Z`, 2^-16 units.
    pub thresh_basis_z: Signal<In, Bits<16>>,
    /// Stage 2: the cycle carries slots of the running sequence, active high.
    pub active: Signal<In, Bit>,
    /// Stage 2: `ALICE_CTRL.MODE`.
    pub mode: Signal<In, Bits<2>>,
    /// Stage 2: `ALICE_CTRL.FIXED_SYMBOL`.
    pub fixed_symbol: Signal<In, Bits<4>>,
    /// Stage 2: the cycle's slots are sync-frame slots, active high.
    pub sync: Signal<In, Bit>,
    /// Stage 2: frame position of lane 0's slot (`i mod 2^s`, 0..15).
    pub sync_pos: Signal<In, Bits<5>>,
    /// Stage 2: entropy alarm or underrun for this cycle's slots, known
    /// from registers: blank, active high.
    pub blank: Signal<In, Bit>,
    /// Stage 2: PRBS position of lane 0's basis bit, `(2 i) mod 127`.
    pub prbs_pos: Signal<In, Bits<8>>,
    /// Stage 3: the lane's registered 4-bit symbol.
    pub symbol: Signal<Out, Bits<4>>,
    /// Symbols of the lanes below this one, packed (lane `l` in bits `4l+3..4l`).
    pub chain_in: Signal<In, Bits<32>>,
    /// `chain_in` with this lane's `symbol` added at its nibble.
    pub chain_out: Signal<Out, Bits<32>>,
    /// Protocol-symbol flags (class 0..2) of the next symbols (stage 2,
    /// `sym`'s input) of the lanes below this one, lane `l` in bit `l`.
    pub proto_in: Signal<In, Bits<8>>,
    /// `proto_in` with this lane's flag added at its bit (the top counts
    /// them and registers the count with the symbols).
    pub proto_out: Signal<Out, Bits<8>>,
    prng: Xoshiro256Plus,
    rsym: DFF<Bits<4>>,
    sym: DFFWithInit<Bits<4>>,
    /// Stage 2: the next `sym` is a protocol symbol (class 0..2).
    proto: Signal<Local, Bit>,
    r: Signal<Local, Bits<64>>,
    class_bits: Signal<Local, Bits<4>>,
    basis_bits: Signal<Local, Bits<4>>,
    bit_bits: Signal<Local, Bits<4>>,
    /// This lane's sync-frame bits by lane 0's frame position `p`: bit `p`
    /// = `SYNC_PATTERN` bit `p + lane` (0 past the 16-slot frame), so the
    /// multiplexer looks up a constant at `sync_pos` without an adder.
    sync_tab: Constant<Bits<32>>,
    /// This lane's PRBS7 basis bits by lane 0's position `p` (0..126):
    /// bit `p` = `b_{(p + 2 lane) mod 127}` (no adder before the lookup).
    prbs_basis_tab: Constant<Bits<128>>,
    /// This lane's PRBS7 value bits: bit `p` = `b_{(p + 2 lane + 1) mod 127}`.
    prbs_bit_tab: Constant<Bits<128>>,
    lane_shift: Constant<Bits<8>>,
    lane_bit: Constant<Bits<8>>,
}

impl AliceLane {
    /// Lane `lane` (0-based).
    pub fn new(lane: usize) -> Self {
        let prbs = prbs7_bits(127);
        let mut prbs_basis_tab = Bits::<128>::default();
        let mut prbs_bit_tab = Bits::<128>::default();
        for p in 0..127 {
            prbs_basis_tab = prbs_basis_tab.replace_bit(p, prbs[(p + 2 * lane) % 127]);
            prbs_bit_tab = prbs_bit_tab.replace_bit(p, prbs[(p + 2 * lane + 1) % 127]);
        }
        let mut sync_tab = Bits::<32>::default();
        for p in 0..32 {
            let j = p + lane;
            sync_tab = sync_tab.replace_bit(p, j < 16 && SYNC_PATTERN >> j & 1 == 1);
        }
        Self {
            clock: Default::default(),
            seed: Default::default(),
            load: Default::default(),
            step: Default::default(),
            use_qrng: Default::default(),
            thresh_signal: Default::default(),
            thresh_decoy: Default::default(),
            thresh_basis_z: Default::default(),
            active: Default::default(),
            mode: Default::default(),
            fixed_symbol: Default::default(),
            sync: Default::default(),
            sync_pos: Default::default(),
            blank: Default::default(),
            prbs_pos: Default::default(),
            symbol: Default::default(),
            prng: Xoshiro256Plus::new(lane),
            qword: Default::default(),
            rsym: Default::default(),
            sym: DFFWithInit::new(BLANK.into()),
            proto: Default::default(),
            r: Default::default(),
            class_bits: Default::default(),
            basis_bits: Default::default(),
            bit_bits: Default::default(),
            sync_tab: Constant::new(sync_tab),
            prbs_basis_tab: Constant::new(prbs_basis_tab),
            prbs_bit_tab: Constant::new(prbs_bit_tab),
            lane_shift: Constant::new((4 * lane as u64).into()),
            chain_in: Default::default(),
            chain_out: Default::default(),
            proto_in: Default::default(),
            proto_out: Default::default(),
            lane_bit: Constant::new((lane as u64).into()),
        }
    }
}

impl Logic for AliceLane {
    #[hdl_gen]
    fn update(&mut self) {
        clock!(self, clock, prng);
        dff_setup!(self, clock, rsym, sym);
        // ---- Stage 0: PRNG ----
        self.prng.seed.next = self.seed.val();
        self.prng.load.next = self.load.val();
        self.prng.step.next = self.step.val();
        // ---- Stage 1: decoy and basis selection (spec 4.1) ----
        if self.use_qrng.val() {
            self.r.next = self.qword.val();
        } else {
            self.r.next = self.prng.out.val();
        }
        if self.r.val().get_bits::<16>(48) < self.thresh_signal.val() {
            self.class_bits.next = 0.into();
        } else if self.r.val().get_bits::<16>(48) < self.thresh_decoy.val() {
            self.class_bits.next = 4.into();
        } else {
            self.class_bits.next = 8.into();
        }
        if self.r.val().get_bits::<16>(32) < self.thresh_basis_z.val() {
            self.basis_bits.next = 0.into();
        } else {
            self.basis_bits.next = 2.into();
        }
        if self.r.val().get_bit(31) {
            self.bit_bits.next = 1.into();
        } else {
            self.bit_bits.next = 0.into();
        }
        self.rsym.d.next = self.class_bits.val() | self.basis_bits.val() | self.bit_bits.val();
        // ---- Stage 2: mode multiplexer (spec 4.2; literals 12 = BLANK, 13 = SYNC_MARK) ----
        self.sym.d.next = 12.into();
        if self.active.val() {
            match self.mode.val().index() {
                1 => {
                    if self.sync.val() {
                        if self.sync_tab.val().get_bit(self.sync_pos.val().index()) {
                            self.sym.d.next = 13.into();
                        }
                    } else if !self.blank.val() {
                        self.sym.d.next = self.rsym.q.val();
                    }
                }
                2 => {
                    self.sym.d.next = self.fixed_symbol.val();
                }
                3 => {
                    self.sym.d.next = 0.into();
                    if self
                        .prbs_basis_tab
                        .val()
                        .get_bit(self.prbs_pos.val().index())
                    {
                        if self.prbs_bit_tab.val().get_bit(self.prbs_pos.val().index()) {
                            self.sym.d.next = 3.into();
                        } else {
                            self.sym.d.next = 2.into();
                        }
                    } else if self.prbs_bit_tab.val().get_bit(self.prbs_pos.val().index()) {
                        self.sym.d.next = 1.into();
                    }
                }
                _ => {}
            }
        }
        self.proto.next = self.sym.d.val().get_bits::<2>(2) != 3;
        self.symbol.next = self.sym.q.val();
        // ---- Packing chain towards the top ----
        self.chain_out.next =
            self.chain_in.val() | (bit_cast::<32, 4>(self.sym.q.val()) << self.lane_shift.val());
        self.proto_out.next = self.proto_in.val()
            | (bit_cast::<8, 1>(self.proto.val().into()) << self.lane_bit.val());
    }
}

const _: () = assert!(BLANK == 12 && SYNC_MARK == 13);
