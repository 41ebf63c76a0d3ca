// SPDX-License-Identifier: MIT OR Apache-2.0
//! Shared helpers of Bob's block tests: clock stepping for hand-driven
//! rust-hdl simulation (inputs settle first, then the clock toggles).

#![allow(dead_code)]

use rust_hdl::prelude::*;

/// Settle, rising edge, settle, falling edge. `clock` selects the block's clock.
pub fn tick<B: Block>(uut: &mut B, clock: fn(&mut B) -> &mut Signal<In, Clock>) {
    assert!(simulate(uut, 200), "design did not settle");
    clock(uut).next = true.into();
    assert!(simulate(uut, 200), "design did not settle");
    clock(uut).next = false.into();
    assert!(simulate(uut, 200), "design did not settle");
}

/// Settle combinational logic without a clock edge.
pub fn settle<B: Block>(uut: &mut B) {
    assert!(simulate(uut, 200), "design did not settle");
}

/// SplitMix64 (Steele, Lea, Flood, OOPSLA 2014): the tests' seeded word
/// source.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        qkd_model::prng::splitmix64_next(&mut self.0)
    }
}

/// A 128-bit value as `Bits<128>`.
pub fn b128(x: u128) -> Bits<128> {
    bit_cast::<128, 64>((x as u64).into()) | (bit_cast::<128, 64>(((x >> 64) as u64).into()) << 64)
}

/// Deterministic seed from a test name (FNV-1a).
#[allow(unused_imports)] // not every test crate that includes the harness uses it
pub use qkd_model::clicks::seed_from_name as seed_of;

use qkd_abi::{GenParams, Record, RegisterMap};
use qkd_gateware::bob::top::BobCore;

/// One cycle of Bob's inputs, in the spec's port layout.
#[derive(Debug, Clone, Default)]
pub struct BobIn {
    /// `apd_d{d}`: bit `l*OS + s`.
    pub apd: [u128; 4],
    /// `sync_in`.
    pub sync_in: bool,
    /// `adc_d{d}` when valid.
    pub adc: [Option<u16>; 4],
    /// QRNG words per lane, or `None` for `qrng_valid` low.
    pub qrng: Option<Vec<u64>>,
}

/// Cycle-stepped testbench of `BobCore` (the `qkd_bob` wrapper's core):
/// AXI4-Lite master, AXI4-Stream sink, and a log of every cycle's inputs
/// and command strobes so that a golden model can replay them.
pub struct BobSim {
    /// The design under test.
    pub top: Box<BobCore>,
    /// Register map.
    pub map: RegisterMap,
    /// Parameters.
    pub params: GenParams,
    /// Stream words received.
    pub words: Vec<u64>,
    /// Inputs applied, per cycle.
    pub log: Vec<BobIn>,
    /// `BOB_CMD` strobe bits active, per cycle.
    pub cmds: Vec<u32>,
    /// `gate_en` (packed `l*ND + d` as on the `qkd_bob` port) and
    /// `basis_out` seen in each cycle (stage P: they belong to the previous
    /// cycle's inputs).
    pub gates: Vec<(u32, u8)>,
    /// Inputs applied while the bench runs AXI transactions.
    pub idle: BobIn,
    /// TREADY per cycle.
    pub tready: Box<dyn FnMut(u64) -> bool>,
}

impl BobSim {
    /// Build, connect and settle the core for (lanes, oversample, detectors).
    pub fn new(lanes: u8, oversample: u8, detectors: u8) -> Self {
        let params = GenParams::bob(lanes, oversample, detectors);
        let mut top = Box::new(BobCore::new(&params).expect("qkd_bob core builds"));
        top.connect_top();
        let mut s = BobSim {
            top,
            map: RegisterMap::new(params),
            params,
            words: vec![],
            log: vec![],
            cmds: vec![],
            gates: vec![],
            idle: BobIn::default(),
            tready: Box::new(|_| true),
        };
        s.top.clock.next = false.into();
        s.top.s_axil_bready.next = true;
        s.top.s_axil_rready.next = true;
        s.top.s_axil_wstrb.next = 0xF.into();
        settle(&mut *s.top);
        s
    }

    /// One fabric cycle with inputs `inp`.
    pub fn cycle(&mut self, inp: &BobIn) {
        let l = usize::from(self.params.lanes);
        let os = usize::from(self.params.oversample);
        let nd = usize::from(self.params.detectors);
        let c = self.log.len() as u64;
        for d in 0..nd {
            // spec layout (stride OS) -> core layout (stride 16)
            let mut w = 0u128;
            for ln in 0..l {
                let lane = (inp.apd[d] >> (ln * os)) & ((1u128 << os) - 1);
                w |= lane << (16 * ln);
            }
            self.top.apd[d].next = b128(w);
            self.top.adc[d].next = u64::from(inp.adc[d].unwrap_or(0)).into();
            self.top.adc_valid[d].next = inp.adc[d].is_some();
        }
        self.top.sync_in.next = inp.sync_in;
        let mut q = Bits::<512>::default();
        if let Some(words) = &inp.qrng {
            for (ln, w) in words.iter().enumerate().take(l) {
                q = q | (bit_cast::<512, 64>((*w).into()) << (64 * ln as u64));
            }
        }
        self.top.qrng_data.next = q;
        self.top.qrng_valid.next = inp.qrng.is_some();
        self.top.m_axis_tready.next = (self.tready)(c);
        settle(&mut *self.top);
        self.cmds.push(self.top.cmd_strobe());
        let g = self.top.gate_en.val().to_u64();
        let mut packed = 0u32;
        for ln in 0..l {
            for d in 0..nd {
                packed |= (((g >> (4 * ln + d)) & 1) as u32) << (ln * nd + d);
            }
        }
        self.gates
            .push((packed, self.top.basis_out.val().to_u64() as u8));
        self.log.push(inp.clone());
        if self.top.m_axis_tvalid.val() && self.top.m_axis_tready.val() {
            self.words.push(self.top.m_axis_tdata.val().to_u64());
        }
        self.top.clock.next = true.into();
        settle(&mut *self.top);
        self.top.clock.next = false.into();
        settle(&mut *self.top);
    }

    /// `n` idle cycles.
    pub fn run_idle(&mut self, n: usize) {
        let i = self.idle.clone();
        for _ in 0..n {
            self.cycle(&i);
        }
    }

    /// Drives AW and W for a write of `value` to register `name` until the
    /// slave takes them (the accepting cycle included).
    fn write_address_and_data(&mut self, name: &str, value: u32) {
        let addr = self
            .map
            .register(name)
            .unwrap_or_else(|| panic!("no register {name}"))
            .offset;
        self.top.s_axil_awaddr.next = u64::from(addr).into();
        self.top.s_axil_wdata.next = u64::from(value).into();
        self.top.s_axil_awvalid.next = true;
        self.top.s_axil_wvalid.next = true;
        let i = self.idle.clone();
        for _ in 0..20 {
            settle(&mut *self.top);
            let ready = self.top.s_axil_awready.val() && self.top.s_axil_wready.val();
            self.cycle(&i);
            if ready {
                self.top.s_axil_awvalid.next = false;
                self.top.s_axil_wvalid.next = false;
                return;
            }
        }
        panic!("write to {name} not accepted");
    }

    /// AXI4-Lite write of `value` to register `name` (asserts OKAY).
    pub fn write(&mut self, name: &str, value: u32) {
        self.write_address_and_data(name, value);
        let i = self.idle.clone();
        for _ in 0..20 {
            settle(&mut *self.top);
            if self.top.s_axil_bvalid.val() {
                assert_eq!(
                    self.top.s_axil_bresp.val().to_u64(),
                    0,
                    "BRESP of write to {name}"
                );
                self.cycle(&i);
                return;
            }
            self.cycle(&i);
        }
        panic!("no write response for {name}");
    }

    /// AXI4-Lite write of `value` to `BOB_CMD` that returns right after the
    /// cycle in which its strobe is active (`cmds`), so that the caller's
    /// next cycle is the first after the command; the write response
    /// completes during the caller's cycles (BREADY is held high).
    pub fn command_returning_at_strobe(&mut self, value: u32) {
        self.write_address_and_data("BOB_CMD", value);
        let i = self.idle.clone();
        for _ in 0..20 {
            if self.cmds.last().is_some_and(|&c| c & value != 0) {
                return;
            }
            self.cycle(&i);
        }
        panic!("no BOB_CMD strobe for {value:#x}");
    }

    /// AXI4-Lite read of register `name` (asserts OKAY).
    pub fn read(&mut self, name: &str) -> u32 {
        let addr = self
            .map
            .register(name)
            .unwrap_or_else(|| panic!("no register {name}"))
            .offset;
        self.top.s_axil_araddr.next = u64::from(addr).into();
        self.top.s_axil_arvalid.next = true;
        let i = self.idle.clone();
        for _ in 0..20 {
            settle(&mut *self.top);
            let ready = self.top.s_axil_arready.val();
            self.cycle(&i);
            if ready {
                break;
            }
        }
        self.top.s_axil_arvalid.next = false;
        for _ in 0..20 {
            settle(&mut *self.top);
            if self.top.s_axil_rvalid.val() {
                let d = self.top.s_axil_rdata.val().to_u64() as u32;
                assert_eq!(
                    self.top.s_axil_rresp.val().to_u64(),
                    0,
                    "RRESP of read of {name}"
                );
                self.cycle(&i);
                return d;
            }
            self.cycle(&i);
        }
        panic!("no read response for {name}");
    }

    /// Decode the received words into records.
    pub fn records(&self) -> Vec<Record> {
        let mut out = vec![];
        let mut i = 0;
        while i < self.words.len() {
            let (r, n) =
                Record::decode(&self.words[i..]).unwrap_or_else(|e| panic!("word {i}: {e}"));
            out.push(r);
            i += n;
        }
        out
    }

    /// Replay the logged cycles into the golden model configured with
    /// `regs` (name, value) and return its records.
    pub fn model_records(&self, regs: &[(&str, u32)]) -> Vec<Record> {
        self.model_run(regs).0
    }

    /// As [`Self::model_records`], plus the model's (`gate_en`, `basis_out`)
    /// per cycle.
    pub fn model_run(&self, regs: &[(&str, u32)]) -> (Vec<Record>, Vec<(u32, u8)>) {
        use qkd_model::bob::{BobInputs, BobModel, BobParams};
        let mut m = BobModel::new(BobParams {
            lanes: usize::from(self.params.lanes),
            oversample: usize::from(self.params.oversample),
            detectors: usize::from(self.params.detectors),
        })
        .expect("model params");
        for (n, v) in regs {
            m.regs.write(n, *v).expect("model register");
        }
        let mut outs = vec![];
        for (inp, cmd) in self.log.iter().zip(&self.cmds) {
            let adc = inp.adc;
            let q = inp
                .qrng
                .clone()
                .unwrap_or_else(|| vec![0; usize::from(self.params.lanes)]);
            let o = m.step(&BobInputs {
                apd: &inp.apd,
                sync_in: inp.sync_in,
                qrng_data: &q,
                qrng_valid: inp.qrng.is_some(),
                adc: &adc,
                cmd: *cmd,
                alarms_clear: 0,
            });
            outs.push((o.gate_en, o.basis_out));
        }
        (m.take_records(), outs)
    }
}
