// SPDX-License-Identifier: MIT OR Apache-2.0
//! Cycle-stepped rust-hdl testbench of the `qkd_alice` top: AXI4-Lite
//! master, AXI4-Stream sink with a back-pressure pattern, QRNG source, and
//! capture of the symbol lanes.
//!
//! ```text
//!  axil_write/read ──► s_axil_*  ┌───────────┐ m_axis_* ──► words (tready pattern)
//!  qrng closure   ──► qrng_*     │ qkd_alice │ symbols  ──► symbols (when symbols_valid)
//!                                └───────────┘
//! ```
//! Each `cycle()` settles the inputs with the clock low, samples outputs and
//! handshakes, then makes one rising edge (inputs never change together with
//! the clock edge).

#![allow(dead_code)]

use qkd_abi::{GenParams, RegisterMap};
use qkd_gateware::alice::top::AliceTop;
use rust_hdl::prelude::*;

/// Settling iterations allowed per half cycle.
const SETTLE: usize = 200;

/// The testbench for `L` lanes.
pub struct AliceSim<const L: usize, const SW: usize, const QW: usize> {
    /// The design under test.
    pub top: Box<AliceTop<L, SW, QW>>,
    /// Register map the top was built from.
    pub map: RegisterMap,
    /// Stream words received, with their TLAST flag.
    pub words: Vec<(u64, bool)>,
    /// Symbols received (lane order), while `symbols_valid`.
    pub symbols: Vec<u8>,
    /// Cycles at which `sync_out` was high (index into `cycles`).
    pub sync_cycles: Vec<u64>,
    /// Cycles simulated.
    pub cycles: u64,
    /// TREADY per cycle.
    pub tready: Box<dyn FnMut(u64) -> bool>,
    /// QRNG word of lane `l` at cycle `c`, or `None` for `qrng_valid` low.
    pub qrng: Box<dyn FnMut(u64, usize) -> Option<u64>>,
    /// QRNG words consumed (`qrng_valid & qrng_ready`), per cycle, lanes.
    pub qrng_taken: Vec<Vec<u64>>,
}

/// Default testbench of the shipped configuration (4 lanes).
pub type Alice4 = AliceSim<4, 16, 256>;

impl<const L: usize, const SW: usize, const QW: usize> AliceSim<L, SW, QW> {
    /// Build, connect and settle the top.
    pub fn new() -> Self {
        let params = GenParams::alice(L as u8);
        let mut top = Box::new(AliceTop::<L, SW, QW>::new(&params).expect("top builds"));
        top.connect_top();
        let mut s = AliceSim {
            top,
            map: RegisterMap::new(params),
            words: vec![],
            symbols: vec![],
            sync_cycles: vec![],
            cycles: 0,
            tready: Box::new(|_| true),
            qrng: Box::new(|_, _| None),
            qrng_taken: vec![],
        };
        s.top.clock.next = false.into();
        s.top.s_axil_bready.next = true;
        s.top.s_axil_rready.next = true;
        s.top.s_axil_wstrb.next = 0xF.into();
        assert!(simulate(&mut *s.top, SETTLE), "initial settle");
        s
    }

    /// One fabric clock cycle.
    pub fn cycle(&mut self) {
        let c = self.cycles;
        self.top.m_axis_tready.next = (self.tready)(c);
        let mut data = Bits::<QW>::default();
        let mut valid = true;
        let mut lanes = vec![];
        for l in 0..L {
            match (self.qrng)(c, l) {
                Some(w) => {
                    data = data | (bit_cast::<QW, 64>(w.into()) << (64 * l as u64));
                    lanes.push(w);
                }
                None => valid = false,
            }
        }
        self.top.qrng_data.next = data;
        self.top.qrng_valid.next = valid;
        assert!(
            simulate(&mut *self.top, SETTLE),
            "settle before edge, cycle {c}"
        );
        if self.top.symbols_valid.val() {
            let s = self.top.symbols.val().to_u64();
            for l in 0..L {
                self.symbols.push(((s >> (4 * l)) & 0xF) as u8);
            }
        }
        if self.top.sync_out.val() {
            self.sync_cycles.push(c);
        }
        if self.top.m_axis_tvalid.val() && self.top.m_axis_tready.val() {
            self.words.push((
                self.top.m_axis_tdata.val().to_u64(),
                self.top.m_axis_tlast.val(),
            ));
        }
        if self.top.qrng_ready.val() && valid {
            self.qrng_taken.push(lanes);
        }
        self.top.clock.next = true.into();
        assert!(
            simulate(&mut *self.top, SETTLE),
            "settle after rising edge, cycle {c}"
        );
        self.top.clock.next = false.into();
        assert!(
            simulate(&mut *self.top, SETTLE),
            "settle after falling edge, cycle {c}"
        );
        self.cycles += 1;
    }

    /// `n` cycles.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            self.cycle();
        }
    }

    /// Byte offset of register `name`.
    pub fn offset(&self, name: &str) -> u32 {
        self.map
            .register(name)
            .unwrap_or_else(|| panic!("no register {name}"))
            .offset
    }

    /// AXI4-Lite write of `value` to byte address `addr`; returns BRESP.
    pub fn write_addr(&mut self, addr: u32, value: u32) -> u8 {
        self.top.s_axil_awaddr.next = u64::from(addr).into();
        self.top.s_axil_wdata.next = u64::from(value).into();
        self.top.s_axil_awvalid.next = true;
        self.top.s_axil_wvalid.next = true;
        for _ in 0..20 {
            let ready = {
                simulate(&mut *self.top, SETTLE);
                self.top.s_axil_awready.val() && self.top.s_axil_wready.val()
            };
            self.cycle();
            if ready {
                break;
            }
        }
        self.top.s_axil_awvalid.next = false;
        self.top.s_axil_wvalid.next = false;
        for _ in 0..20 {
            simulate(&mut *self.top, SETTLE);
            if self.top.s_axil_bvalid.val() {
                let r = self.top.s_axil_bresp.val().to_u64() as u8;
                self.cycle();
                return r;
            }
            self.cycle();
        }
        panic!("no write response for {addr:#x}");
    }

    /// AXI4-Lite read of byte address `addr`; returns (RDATA, RRESP).
    pub fn read_addr(&mut self, addr: u32) -> (u32, u8) {
        self.top.s_axil_araddr.next = u64::from(addr).into();
        self.top.s_axil_arvalid.next = true;
        for _ in 0..20 {
            simulate(&mut *self.top, SETTLE);
            let ready = self.top.s_axil_arready.val();
            self.cycle();
            if ready {
                break;
            }
        }
        self.top.s_axil_arvalid.next = false;
        for _ in 0..20 {
            simulate(&mut *self.top, SETTLE);
            if self.top.s_axil_rvalid.val() {
                let d = self.top.s_axil_rdata.val().to_u64() as u32;
                let r = self.top.s_axil_rresp.val().to_u64() as u8;
                self.cycle();
                return (d, r);
            }
            self.cycle();
        }
        panic!("no read response for {addr:#x}");
    }

    /// Write register `name`; asserts OKAY.
    pub fn write(&mut self, name: &str, value: u32) {
        let a = self.offset(name);
        assert_eq!(self.write_addr(a, value), 0, "BRESP of write to {name}");
    }

    /// Read register `name`; asserts OKAY.
    pub fn read(&mut self, name: &str) -> u32 {
        let a = self.offset(name);
        let (d, r) = self.read_addr(a);
        assert_eq!(r, 0, "RRESP of read of {name}");
        d
    }

    /// Decode the captured words up to the last TLAST into records (panics
    /// on undecodable data; a record still in transfer is left out).
    pub fn records(&self) -> Vec<qkd_abi::Record> {
        let end = self.words.iter().rposition(|w| w.1).map_or(0, |i| i + 1);
        let words: Vec<u64> = self.words[..end].iter().map(|w| w.0).collect();
        let mut out = vec![];
        let mut i = 0;
        while i < words.len() {
            let (r, n) = qkd_abi::Record::decode(&words[i..]).expect("stream decodes");
            assert!(
                self.words[i + n - 1].1,
                "TLAST on the last word of record {r:?}"
            );
            assert!(
                self.words[i..i + n - 1].iter().all(|w| !w.1),
                "TLAST only at record end"
            );
            out.push(r);
            i += n;
        }
        out
    }
}
